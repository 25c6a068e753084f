use crate::helpers::*;

#[test]
fn recursion_puts_each_call_one_frame_lower() {
    let trace = run("recursion");
    assert!(trace.events.is_empty(), "{:?}", trace.events);

    let addresses: Vec<usize> = trace.locals.iter().map(|l| l.address).collect();
    assert_eq!(addresses.len(), 4);
    assert!(
        trace
            .locals
            .iter()
            .all(|l| (&*l.frame, &*l.name) == ("depth", "here"))
    );
    // Each call's local lies below its caller's, by the same frame size.
    let strides: Vec<usize> = addresses
        .windows(2)
        .map(|w| {
            assert!(w[1] < w[0], "{addresses:x?}");
            w[0] - w[1]
        })
        .collect();
    assert!(strides.iter().all(|&d| d == strides[0]), "{strides:?}");

    assert_eq!(trace.observations.len(), 4);
    for (i, o) in trace.observations.iter().enumerate() {
        assert_eq!(o.get("depth"), Some(i + 1));
        let below = o.get("bytes below caller");
        assert_eq!(below, (i > 0).then_some(strides[0]), "depth {}", i + 1);
    }
}
