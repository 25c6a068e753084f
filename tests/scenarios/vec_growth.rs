use crate::helpers::*;

use memlab::trace::{Event, Kind};

#[test]
fn vec_growth_reallocates_to_each_capacity_it_reports() {
    let trace = run("vec-growth");
    let push_line = line_of("vec-growth", "numbers.push(");
    let reserve_line = line_of("vec-growth", "Vec::with_capacity(33)");
    let end_line = line_of("vec-growth", "} // `reserved`, then `numbers`");
    let events = &trace.events;
    // Growing push by push: one alloc, then reallocs, all on the push line.
    let growing: Vec<&Event> = events
        .iter()
        .take_while(|e| e.line == Some(push_line))
        .collect();
    assert_eq!(growing[0].kind, Kind::Alloc);
    assert!(growing.len() >= 5, "{} events while pushing", growing.len());
    for pair in growing.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        assert_eq!(after.kind, Kind::Realloc);
        // Each growth starts from the block and size the previous event left.
        assert_eq!(after.old, Some((before.address, before.size)));
        assert!(after.size > before.size, "sizes grow");
    }
    let grown = growing.last().unwrap();

    // with_capacity: exactly one allocation of 33 × 8 bytes, then no growth.
    let rest = &events[growing.len()..];
    assert_eq!(kinds(rest), [Kind::Alloc, Kind::Dealloc, Kind::Dealloc]);
    assert_eq!((rest[0].size, rest[0].line), (33 * 8, Some(reserve_line)));
    // Locals drop in reverse order of declaration: `reserved`, then `numbers`.
    assert_eq!(rest[1].address, rest[0].address);
    assert_eq!(rest[2].address, grown.address);
    assert!(rest[1..].iter().all(|e| e.line == Some(end_line)));

    // One observation per push; whenever capacity changed, exactly one heap event
    // happened during that push, and its size is the new capacity in bytes.
    assert_eq!(trace.observations.len(), 33);
    let mut previous = (0, 0); // (capacity, events so far)
    for (i, o) in trace.observations.iter().enumerate() {
        let (len, capacity) = (o.get("len").unwrap(), o.get("capacity").unwrap());
        assert_eq!(len, i + 1);
        assert!(capacity >= len);
        if capacity == previous.0 {
            assert_eq!(o.after_event, previous.1, "push {len} touched the heap");
        } else {
            assert_eq!(o.after_event, previous.1 + 1, "push {len}");
            assert_eq!(events[o.after_event - 1].size, capacity * 8, "push {len}");
        }
        previous = (capacity, o.after_event);
    }
}
