use crate::helpers::*;

use memlab::trace::Kind;

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
    assert_eq!(observation_at(&trace, 0).get("value"), Some(32));
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
