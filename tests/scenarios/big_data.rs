use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn big_data_boxes_two_ways_and_survives_a_stack_overflow() {
    let trace = run("big-data");
    let allocs: Vec<(Kind, usize)> = trace
        .events
        .iter()
        .filter(|e| e.kind != Kind::Dealloc)
        .map(|e| (e.kind, e.size))
        .collect();
    // vec![0; n] asks for zeroed memory; Box::new copies an array already built.
    assert_eq!(
        allocs,
        [
            (Kind::AllocZeroed, 1 << 20),
            (Kind::Alloc, 1 << 16),
            (Kind::AllocZeroed, 1 << 16)
        ]
    );
    assert_eq!(trace.live_blocks(), [], "everything is freed");
    // Rust's documented default for spawned threads: 2 MiB.
    assert_eq!(observation(&trace, "worker's stack").get("KiB"), Some(2048));
    // The child that recursed without end was killed by SIGABRT (6).
    assert_eq!(
        observation(&trace, "overflow in a child").get("signal"),
        Some(6)
    );
    // The observation made after the join comes after the worker's.
    let labels: Vec<&str> = trace.observations.iter().map(|o| &*o.label).collect();
    assert_eq!(labels, ["worker's stack", "overflow in a child"]);
}
