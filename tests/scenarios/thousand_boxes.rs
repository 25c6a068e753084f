use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn a_thousand_boxes_are_a_thousand_allocator_calls_between_two_readings() {
    let trace = run("thousand-boxes");
    let before = observation(&trace, "before");
    let after = observation(&trace, "after");
    // The Vec's block comes first; every event between the readings is a
    // Box::new of the loop.
    assert_eq!(before.after_event, 1);
    assert_eq!(after.after_event, 1001);
    let boxes = &trace.events[1..1001];
    assert!(boxes.iter().all(|e| e.kind == Kind::Alloc && e.size == 8));
    let line = line_of("thousand-boxes", "boxes.push(Box::new(");
    assert!(boxes.iter().all(|e| e.line == Some(line)));
    assert_eq!(observation(&trace, "boxes").get("kept"), Some(1000));
    // Both readings saw the process's memory (on Linux).
    #[cfg(target_os = "linux")]
    for reading in [before, after] {
        assert!(reading.get("mappings").unwrap() > 3, "{reading:?}");
        assert!(reading.get("mapped KiB").unwrap() > 0, "{reading:?}");
    }
    // Everything is freed at the end: the boxes, then the Vec.
    assert_eq!(trace.summary().live_bytes_at_end, 0);
    assert_eq!(trace.events.len(), 2002);
}
