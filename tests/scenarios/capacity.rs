use crate::helpers::*;

use memlab::trace::{Kind, Local};

#[test]
fn capacity_reserve_shrink_clear_and_zeroed() {
    let id = "capacity";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    for e in &trace.events {
        assert!(small_block_region(e.region), "#{}: {:?}", e.seq, e.region);
    }
    let events = &trace.events;
    assert_eq!(
        kinds(events),
        [
            Kind::Alloc,       // generous: with_capacity(4)
            Kind::Realloc,     // generous.reserve(1)
            Kind::Alloc,       // exact: with_capacity(4)
            Kind::Realloc,     // exact.reserve_exact(1)
            Kind::Realloc,     // generous.shrink_to_fit()
            Kind::AllocZeroed, // vec![0; 100]
            Kind::Dealloc,
            Kind::Dealloc,
            Kind::Dealloc,
        ]
    );
    let facts: Vec<(usize, usize, Option<u32>)> =
        events.iter().map(|e| (e.size, e.align, e.line)).collect();
    let end = Some(line_of(id, "} // `zeros`, `exact`, then `generous`"));
    assert_eq!(
        facts,
        [
            (32, 8, Some(line_of(id, "let mut generous"))),
            (64, 8, Some(line_of(id, "generous.reserve(1)"))),
            (32, 8, Some(line_of(id, "let mut exact"))),
            (40, 8, Some(line_of(id, "exact.reserve_exact(1)"))),
            (32, 8, Some(line_of(id, "generous.shrink_to_fit()"))),
            (800, 8, Some(line_of(id, "vec![0; 100]"))),
            (800, 8, end),
            (40, 8, end),
            (32, 8, end),
        ]
    );
    // Each realloc starts from the block the Vec had before.
    assert_eq!(events[1].old, Some((events[0].address, 32)));
    assert_eq!(events[3].old, Some((events[2].address, 32)));
    assert_eq!(events[4].old, Some((events[1].address, 64)));
    // Freed: zeros, exact, generous: each the block it last had.
    assert_eq!(events[6].address, events[5].address);
    assert_eq!(events[7].address, events[3].address);
    assert_eq!(events[8].address, events[4].address);
    assert_eq!(trace.summary().live_bytes_at_end, 0);

    let capacity = |label: &str| {
        let o = observation(&trace, label);
        (o.get("len").unwrap(), o.get("capacity").unwrap())
    };
    assert_eq!(capacity("full"), (4, 4));
    assert_eq!(capacity("reserve(1)"), (4, 8), "reserve doubled");
    assert_eq!(capacity("reserve_exact(1)"), (4, 5), "exactly one more");
    assert_eq!(capacity("shrink_to_fit"), (4, 4));
    assert_eq!(capacity("clear"), (0, 4), "clear keeps the capacity");
    // `extend` into room already there, and `clear`, touch no block.
    assert_eq!(observation(&trace, "full").after_event, 1);
    assert_eq!(
        observation(&trace, "clear").after_event,
        observation(&trace, "shrink_to_fit").after_event
    );
    // After clear, `generous` still points to the block shrink_to_fit left.
    let generous: Vec<&Local> = trace
        .locals
        .iter()
        .filter(|l| l.name == "generous")
        .collect();
    assert_eq!(generous.len(), 2);
    let full = generous[0].points_to.unwrap();
    assert_eq!((full.len, full.capacity), (Some(4), Some(4)));
    assert_eq!(target_of(generous[1]), events[4].address);
    let after_clear = generous[1].points_to.unwrap();
    assert_eq!((after_clear.len, after_clear.capacity), (Some(0), Some(4)));
    let zeros = local(&trace, "zeros").points_to.unwrap();
    assert_eq!(zeros.address, events[5].address);
    assert_eq!((zeros.len, zeros.capacity), (Some(100), Some(100)));
}
