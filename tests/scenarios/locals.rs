use crate::helpers::*;

#[test]
fn locals_has_no_heap_events_and_nested_frames_sit_lower() {
    let trace = run("locals");
    assert!(trace.events.is_empty(), "{:?}", trace.events);

    for (name, size, align) in [
        ("small", 1, 1),
        ("count", 4, 4),
        ("big", 8, 8),
        ("ratio", 8, 8),
        ("bytes", 4, 1),
    ] {
        let l = local(&trace, name);
        assert_eq!((l.size, l.align), (size, align), "{name}");
        assert!(l.points_to.is_none());
    }

    let addresses = |frame: &str| -> Vec<usize> {
        let a: Vec<usize> = trace
            .locals
            .iter()
            .filter(|l| l.frame == frame)
            .map(|l| l.address)
            .collect();
        assert!(!a.is_empty(), "no locals in frame {frame}");
        a
    };
    let (run, outer, inner) = (addresses("run"), addresses("outer"), addresses("inner"));
    // The stack grows down: each callee's locals lie below all of its caller's.
    assert!(outer.iter().max() < run.iter().min());
    assert!(inner.iter().max() < outer.iter().min());
}
