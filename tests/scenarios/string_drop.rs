use crate::helpers::*;

use memlab::trace::{Event, Kind};

#[test]
fn string_drop_frees_every_block_strings_before_their_vec() {
    let trace = run("string-drop");
    let summary = trace.summary();
    assert_eq!(summary.allocs, summary.deallocs);
    assert_eq!(summary.live_bytes_at_end, 0);
    assert_eq!(summary.reallocs, 0);

    let blocks: Vec<usize> = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Alloc)
        .map(|e| e.size)
        .collect();
    assert_eq!(
        blocks,
        [5, 72, 3, 5, 5],
        "hello; 3 × 24-byte headers; ada, grace, linus"
    );

    assert_eq!(
        local(&trace, "greeting").size,
        24,
        "pointer, length, capacity"
    );
    assert_eq!(local(&trace, "literal").size, 16, "pointer, length");
    let greeting = local(&trace, "greeting").points_to.unwrap();
    assert_eq!((greeting.len, greeting.capacity), (Some(5), Some(5)));
    let heap: Vec<usize> = trace.events.iter().map(|e| e.address).collect();
    let literal = target(&trace, "literal");
    assert!(!heap.contains(&literal), "a literal is not a heap block");

    // Each String's header is a field of the Vec's block (H2), one String
    // apart, pointing at the start of that string's bytes (H3, H4, H5).
    let string = std::mem::size_of::<String>();
    let links = links_after(&trace, "names[2]");
    let expected: Vec<(String, usize, usize, usize, usize)> = (0..3)
        .map(|i| (format!("names[{i}]"), 2, i * string, 3 + i, 0))
        .collect();
    assert_eq!(links, expected);
    for i in 0..3 {
        let header = local(&trace, &format!("names[{i}]"));
        assert_eq!(header.address, target(&trace, "names") + i * string);
        assert!(small_block_region(header.region), "not on the stack");
    }

    // Dropping the Vec frees each String's bytes, then the Vec's own block.
    let names = target(&trace, "names");
    let frees: Vec<&Event> = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Dealloc)
        .collect();
    assert_eq!(frees.last().unwrap().address, names);
    let drop_line = line_of("string-drop", "drop(names)");
    assert!(frees[1..].iter().all(|e| e.line == Some(drop_line)));
}
