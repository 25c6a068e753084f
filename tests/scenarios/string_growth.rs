use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn string_growth_grows_like_a_vec_of_bytes() {
    let id = "string-growth";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    for e in &trace.events {
        assert!(small_block_region(e.region), "#{}: {:?}", e.seq, e.region);
    }
    let events = &trace.events;
    let push_str = Some(line_of(id, "text.push_str("));
    let push = Some(line_of(id, "word.push(c)"));
    let reserved = Some(line_of(id, "String::with_capacity(25)"));
    let format = Some(line_of(id, "format!(\"hello, {}!\""));
    let end = Some(line_of(id, "} // all four Strings"));
    let facts: Vec<(Kind, usize, usize, Option<u32>)> = events
        .iter()
        .map(|e| (e.kind, e.size, e.align, e.line))
        .collect();
    assert_eq!(
        facts,
        [
            (Kind::Alloc, 8, 1, push_str),
            (Kind::Realloc, 16, 1, push_str),
            (Kind::Realloc, 32, 1, push_str),
            (Kind::Alloc, 8, 1, push),
            (Kind::Realloc, 16, 1, push),
            (Kind::Alloc, 25, 1, reserved),
            (Kind::Alloc, 16, 1, format),
            (Kind::Dealloc, 16, 1, end),
            (Kind::Dealloc, 25, 1, end),
            (Kind::Dealloc, 16, 1, end),
            (Kind::Dealloc, 32, 1, end),
        ]
    );
    for pair in [(0, 1), (1, 2), (3, 4)] {
        let (before, after) = (&events[pair.0], &events[pair.1]);
        assert_eq!(after.old, Some((before.address, before.size)));
    }
    // Dropped in reverse order of declaration: greeting, reserved, word, text.
    let frees: Vec<usize> = events[7..].iter().map(|e| e.address).collect();
    let last_blocks = [
        events[6].address,
        events[5].address,
        events[4].address,
        events[2].address,
    ];
    assert_eq!(frees, last_blocks);

    let sequence = |label: &str| -> Vec<(usize, usize)> {
        trace
            .observations
            .iter()
            .filter(|o| o.label == label)
            .map(|o| (o.get("len").unwrap(), o.get("capacity").unwrap()))
            .collect()
    };
    // The sequence the String documentation prints (section "Representation").
    assert_eq!(
        sequence("push_str"),
        [(5, 8), (10, 16), (15, 16), (20, 32), (25, 32)]
    );
    let pushes = sequence("push");
    assert_eq!(pushes.len(), 9, "rustacean");
    assert!(pushes[..8].iter().all(|&(_, c)| c == 8), "{pushes:?}");
    assert_eq!(pushes[8], (9, 16));
    assert_eq!(sequence("with_capacity(25)"), [(25, 25)]);
    assert_eq!(sequence("format!"), [(13, 16)], "\"hello, world!\"");

    assert_eq!(local(&trace, "text").size, 24);
    let text = local(&trace, "text").points_to.unwrap();
    assert_eq!(text.capacity, Some(0), "String::new allocates nothing");
    let greeting = local(&trace, "greeting").points_to.unwrap();
    assert_eq!(greeting.address, events[6].address);
    assert_eq!((greeting.len, greeting.capacity), (Some(13), Some(16)));
}
