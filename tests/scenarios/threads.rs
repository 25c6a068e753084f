use crate::helpers::*;

use memlab::trace::{Kind, Local, Region, Trace};

/// The local named `name` on the thread named `thread`.
#[track_caller]
fn local_on<'t>(trace: &'t Trace, thread: &str, name: &str) -> &'t Local {
    let named = |l: &&Local| trace.thread_name(l.thread) == thread && l.name == name;
    let Some(local) = trace.locals.iter().find(named) else {
        panic!("{thread}: {name}")
    };
    local
}

#[test]
fn threads_are_recorded_into_one_trace_each_event_tagged() {
    let trace = run("threads");
    let by = |thread: &str| -> Vec<(Kind, usize)> {
        trace
            .events
            .iter()
            .filter(|e| trace.thread_name(e.thread) == thread)
            .map(|e| (e.kind, e.size))
            .collect()
    };
    assert_eq!(
        by("worker"),
        [(Kind::Alloc, 24), (Kind::Dealloc, 24)],
        "vec![10, 20, 30]"
    );
    // The scenario's own thread: the Arc's one block, freed after the join.
    let own = trace.thread_name(trace.events[0].thread);
    assert_ne!(own, "worker");
    assert_eq!(by(own), [(Kind::Alloc, 48), (Kind::Dealloc, 48)]);
    assert_eq!(
        trace.thread_name(trace.events.last().unwrap().thread),
        own,
        "freed after the worker ended"
    );

    // Each thread's locals are on its own stack, far apart.
    let (a, b) = (
        local_on(&trace, own, "here").address,
        local_on(&trace, "worker", "here").address,
    );
    assert!(
        a.abs_diff(b) > 1 << 16,
        "stacks {a:#x} and {b:#x} are close"
    );
    assert_eq!(
        local_on(&trace, "worker", "here").region,
        Region::ThreadStack
    );
    // Both Arcs point to the same value, inside the one shared block.
    let shared = target_of(local_on(&trace, own, "shared"));
    assert_eq!(target_of(local_on(&trace, "worker", "mine")), shared);
    let block = &trace.events[0];
    assert!((block.address..block.address + block.size).contains(&shared));
    assert_eq!(observation_at(&trace, 0).get("strong count"), Some(1));
    // The observation made after the join comes after the worker's events.
    assert_eq!(observation_at(&trace, 0).after_event, 3);
}
