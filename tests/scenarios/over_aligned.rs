use crate::helpers::*;

use memlab::trace::{Event, Kind};

#[test]
fn over_aligned_blocks_are_asked_for_align_64_and_always_move_to_grow() {
    let id = "over-aligned";
    // Moving is std's own code on Unix (alloc, copy, free: the old block is
    // still alive when the new one is allocated), not the heap's history;
    // check several runs anyway.
    for _ in 0..3 {
        let trace = run(id);
        assert_eq!(trace.panic, None);
        assert!(
            trace.events.iter().all(|e| e.align == 64),
            "{:?}",
            trace.events
        );
        assert!(trace.events.iter().all(|e| e.address % 64 == 0));
        let box_line = line_of(id, "let boxed = Box::new(");
        let push_line = line_of(id, "lines.push(");
        let end_line = line_of(id, "} // `lines`, then `boxed`");

        let boxed = &trace.events[0];
        assert_eq!(
            (boxed.kind, boxed.size, boxed.line),
            (Kind::Alloc, 64, Some(box_line))
        );
        assert_eq!(target(&trace, "boxed"), boxed.address);

        let growing: Vec<&Event> = trace.events[1..]
            .iter()
            .take_while(|e| e.line == Some(push_line))
            .collect();
        assert_eq!(growing[0].kind, Kind::Alloc);
        assert_eq!(growing[0].size, 4 * 64, "room for 4 on the first push");
        assert!(growing.len() >= 4);
        for pair in growing.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            assert_eq!(after.kind, Kind::Realloc);
            assert_eq!(after.old, Some((before.address, before.size)));
            assert_eq!(after.size, 2 * before.size);
            #[cfg(unix)]
            assert_eq!(after.moved(), Some(true), "realloc #{}", after.seq);
        }

        let grew = &trace.observations;
        assert_eq!(grew.len(), growing.len());
        for (o, event) in grew.iter().zip(&growing) {
            assert_eq!(o.get("addr % 64"), Some(0));
            assert_eq!(o.get("capacity").unwrap() * 64, event.size);
            assert_eq!(trace.events[o.after_event - 1].seq, event.seq);
        }
        #[cfg(unix)]
        assert_eq!(grew.last().unwrap().get("moves"), Some(growing.len() - 1));

        let rest = &trace.events[1 + growing.len()..];
        assert_eq!(kinds(rest), [Kind::Dealloc, Kind::Dealloc]);
        let last = growing.last().unwrap();
        assert_eq!((rest[0].address, rest[0].size), (last.address, last.size));
        assert_eq!(rest[1].address, boxed.address);
        assert!(rest.iter().all(|e| e.line == Some(end_line)));
    }
}
