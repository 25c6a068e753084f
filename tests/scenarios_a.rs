//! The facts the batch A scenarios (rc-arc, rc-cycle, zero-sized) exist to
//! show, asserted on a live run.

mod common;
use common::*;

use memlab::Kind;

use memlab::trace::Trace;

/// Where local `name` points.
#[track_caller]
fn target(trace: &Trace, name: &str) -> usize {
    local(trace, name).points_to.unwrap().address
}

#[track_caller]
fn observed(trace: &Trace, index: usize, field: &str) -> usize {
    let o = &trace.observations[index];
    o.get(field)
        .unwrap_or_else(|| panic!("observation {} has no {field}", o.label))
}

#[test]
fn rc_arc_puts_counts_and_value_in_one_block_and_clones_allocate_nothing() {
    let id = "rc-arc";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    assert_eq!(
        kinds(&trace.events),
        [Kind::Alloc, Kind::Dealloc, Kind::Alloc, Kind::Dealloc]
    );
    let (rc, rc_free, arc, arc_free) = (
        &trace.events[0],
        &trace.events[1],
        &trace.events[2],
        &trace.events[3],
    );

    // One block: the value's 32 bytes and two 8-byte counts (in today's std).
    assert_eq!(observed(&trace, 0, "value"), 32);
    assert_eq!((rc.size, rc.align), (32 + 16, 8));
    assert_eq!(rc.line, Some(line_of(id, "let first = Rc::new(")));
    // Every Rc is one pointer, into the block: past the counts, at the value.
    for name in ["first", "second"] {
        assert_eq!(local(&trace, name).size, 8, "{name}");
        assert_eq!(target(&trace, name), rc.address + 16, "{name}");
    }
    // New: strong 1, weak 0. Clone: no event, strong 2. Downgrade: weak 1.
    let o = &trace.observations;
    assert_eq!(o[0].label, "new");
    assert_eq!((o[0].get("strong"), o[0].get("weak")), (Some(1), Some(0)));
    assert_eq!((&*o[1].label, o[1].get("strong")), ("clone", Some(2)));
    assert_eq!((o[2].get("strong"), o[2].get("weak")), (Some(2), Some(1)));
    assert!(
        o[..4].iter().all(|o| o.after_event == 1),
        "only Rc::new allocated"
    );
    // Both Rcs gone: strong 0, upgrade gives None, and the Weak still holds
    // the block; dropping the Weak frees it.
    assert_eq!(
        (o[3].get("strong"), o[3].get("upgrade")),
        (Some(0), Some(0))
    );
    assert_eq!(rc_free.address, rc.address);
    assert_eq!(rc_free.line, Some(line_of(id, "drop(watcher);")));

    // Arc: a block of the same size, its pointer just as far in; cloning it
    // and dropping the clone on another thread allocate and free nothing.
    assert_eq!((arc.size, arc.align), (rc.size, rc.align));
    assert_eq!(arc.line, Some(line_of(id, "let shared = Arc::new(")));
    assert_eq!(target(&trace, "shared"), arc.address + 16);
    assert_eq!(target(&trace, "mine"), arc.address + 16);
    assert_eq!(trace.thread_name(local(&trace, "mine").thread), "worker");
    assert!(trace.events.iter().all(|e| e.thread == rc.thread));
    assert_ne!(trace.thread_name(rc.thread), "worker");
    let worker = o
        .iter()
        .find(|o| trace.thread_name(o.thread) == "worker")
        .unwrap();
    assert_eq!(worker.get("strong"), Some(2));
    assert_eq!(arc_free.address, arc.address);
    assert_eq!(
        arc_free.line,
        Some(line_of(id, "} // the last `Arc` is dropped here"))
    );
    assert_eq!(trace.summary().live_bytes_at_end, 0);
}

#[test]
fn rc_cycle_leaks_the_strong_pair_and_frees_the_weak_linked_pair() {
    let id = "rc-cycle";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    assert_eq!(
        kinds(&trace.events),
        [&[Kind::Alloc; 4][..], &[Kind::Dealloc; 2]].concat()
    );
    let allocs = &trace.events[..4];
    // Each node: two counts and two RefCell links of 16 bytes each.
    assert!(allocs.iter().all(|e| (e.size, e.align) == (48, 8)));
    let lines: Vec<Option<u32>> = allocs.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [
            Some(line_of(id, "let a = Rc::new(")),
            Some(line_of(id, "let b = Rc::new(")),
            Some(line_of(id, "let parent = Rc::new(")),
            Some(line_of(id, "let child = Rc::new(")),
        ]
    );
    for (name, event) in ["a", "b", "parent", "child"].iter().zip(allocs) {
        assert_eq!(target(&trace, name), event.address + 16, "{name}");
    }

    // The cycle: each node owned twice. The tree: the child twice, the
    // parent once, and watched once by the child's Weak.
    assert_eq!(observed(&trace, 0, "a"), 2);
    assert_eq!(observed(&trace, 0, "b"), 2);
    assert_eq!(observed(&trace, 1, "parent"), 1);
    assert_eq!(observed(&trace, 1, "child"), 2);
    assert_eq!(observed(&trace, 2, "parent"), 1);
    assert_eq!(observed(&trace, 2, "child"), 0);

    // The end of the first block frees nothing; the end of the second frees
    // both nodes of the tree.
    let end = line_of(id, "} // both blocks are freed here");
    let freed: Vec<usize> = trace.events[4..].iter().map(|e| e.address).collect();
    assert!(trace.events[4..].iter().all(|e| e.line == Some(end)));
    assert!(freed.contains(&allocs[2].address) && freed.contains(&allocs[3].address));

    // The leak report lists exactly the cycle's two blocks.
    let live = trace.live_blocks();
    let leaked: Vec<(usize, Option<&str>)> =
        live.iter().map(|b| (b.event, b.kept.as_deref())).collect();
    assert_eq!(leaked, [(0, None), (1, None)]);
    assert!(trace.kept.is_empty());
    assert_eq!(trace.summary().live_bytes_at_end, 96);
}

#[test]
fn zero_sized_values_and_empty_vecs_allocate_nothing() {
    let trace = run("zero-sized");
    assert_eq!(trace.panic, None);
    assert!(trace.events.is_empty(), "{:?}", trace.events);

    // A Box is one pointer even to nothing; a Vec is three words.
    for (name, size) in [("unit", 8), ("tag", 8), ("units", 24), ("empty", 24)] {
        assert_eq!(local(&trace, name).size, size, "{name}");
    }
    // Box pointers to zero-sized values are non-null and aligned.
    for name in ["unit", "tag"] {
        assert_ne!(target(&trace, name), 0, "{name}");
    }
    assert_eq!(observed(&trace, 0, "size"), 0);
    assert_eq!(observed(&trace, 0, "align"), 1);
    // 1000 pushes of (): capacity usize::MAX from the start, never a block.
    assert_eq!(observed(&trace, 1, "len"), 1000);
    assert_eq!(observed(&trace, 1, "cap is MAX"), 1);
    // Vec::<u64>::new(): capacity 0, no block.
    let empty = local(&trace, "empty").points_to.unwrap();
    assert_eq!((empty.len, empty.capacity), (Some(0), Some(0)));
    assert_ne!(empty.address, 0);
}
