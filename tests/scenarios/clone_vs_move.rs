use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn clone_vs_move_keeps_the_block_on_a_move_and_copies_on_a_clone() {
    let id = "clone-vs-move";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    for e in &trace.events {
        assert!(small_block_region(e.region), "#{}: {:?}", e.seq, e.region);
    }
    let events = &trace.events;
    assert_eq!(
        kinds(events),
        [Kind::Alloc, Kind::Alloc, Kind::Dealloc, Kind::Dealloc]
    );
    let facts: Vec<(usize, usize, Option<u32>)> =
        events.iter().map(|e| (e.size, e.align, e.line)).collect();
    assert_eq!(
        facts,
        [
            (32, 8, Some(line_of(id, "vec![1, 2, 3, 4]"))),
            (32, 8, Some(line_of(id, "owner.clone()"))),
            (32, 8, Some(line_of(id, "} // `numbers` is dropped here"))),
            (32, 8, Some(line_of(id, "} // `copy` is dropped here"))),
        ]
    );
    let (first, cloned) = (events[0].address, events[1].address);
    assert_ne!(first, cloned, "a clone is a second block");
    assert_eq!(events[2].address, first, "the callee frees the moved block");
    assert_eq!(events[3].address, cloned);

    // The move keeps the block; the clone points elsewhere.
    assert_eq!(target(&trace, "original"), first);
    assert_eq!(target(&trace, "owner"), first);
    assert_eq!(target(&trace, "copy"), cloned);
    let numbers = local(&trace, "numbers");
    assert_eq!(numbers.frame, "consume");
    assert_eq!(target_of(numbers), first);
    for name in ["original", "owner", "copy", "numbers"] {
        let l = local(&trace, name);
        assert_eq!((l.size, l.align), (24, 8), "{name}");
        let t = l.points_to.unwrap();
        assert_eq!((t.len, t.capacity), (Some(4), Some(4)), "{name}");
    }
    // The observation after `consume` returned comes after its free.
    let after = observation(&trace, "after consume");
    assert_eq!(after.after_event, 3);
    assert_eq!(after.get("copy len"), Some(4));
}
