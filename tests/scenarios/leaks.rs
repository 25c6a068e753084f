use crate::helpers::*;

use memlab::trace::Kind;

// The leak report's own test, which also checks that other scenarios leak
// nothing, is in all.rs.

#[test]
fn leaks_leave_every_block_live_at_the_end() {
    let trace = run("leaks");
    let summary = trace.summary();
    assert_eq!(summary.deallocs, 0, "nothing is ever freed");
    assert!(summary.live_bytes_at_end > 0);

    // The leaked blocks: the Box's [u32; 4], the String's 9 bytes, and the two
    // Rc nodes (two counts and a RefCell<Option<Rc<Node>>>: 32 bytes each).
    let live: Vec<(usize, usize)> = trace.events.iter().map(|e| (e.size, e.align)).collect();
    assert_eq!(kinds(&trace.events), [Kind::Alloc; 4]);
    assert_eq!(live, [(16, 4), (9, 1), (32, 8), (32, 8)]);
    assert_eq!(summary.live_bytes_at_end, 16 + 9 + 32 + 32);
    let lines: Vec<Option<u32>> = trace.events.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [
            Some(line_of("leaks", "Box::leak(")),
            Some(line_of("leaks", "String::from(")),
            Some(line_of("leaks", "let a = Rc::new(")),
            Some(line_of("leaks", "let b = Rc::new(")),
        ]
    );

    assert_eq!(target(&trace, "primes"), trace.events[0].address);
    assert_eq!(target(&trace, "name"), trace.events[1].address);

    let counts = |label: &str| {
        let o = observation(&trace, label);
        (o.get("a strong"), o.get("b strong"))
    };
    assert_eq!(counts("cycle"), (Some(2), Some(2)));
    assert_eq!(counts("dropped"), (Some(1), Some(1)), "never reaches 0");
}
