use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn raw_alloc_gets_each_layout_and_frees_with_the_same_one() {
    let trace = run("raw-alloc");
    let id = "raw-alloc";
    assert_eq!(
        kinds(&trace.events),
        [[Kind::Alloc; 4], [Kind::Dealloc; 4]].concat()
    );
    let (allocs, frees) = trace.events.split_at(4);
    let expected = [
        ((8, 8), "unsafe { alloc(word) }", "dealloc(word_ptr, word)"),
        (
            (64, 8),
            "unsafe { alloc(bytes) }",
            "dealloc(bytes_ptr, bytes)",
        ),
        ((40, 4), "unsafe { alloc(array) }", "dealloc(array_ptr"),
        (
            (64, 64),
            "unsafe { alloc(line) }",
            "dealloc(line_ptr, line)",
        ),
    ];
    for (i, (layout, alloc_code, free_code)) in expected.into_iter().enumerate() {
        let (alloc, free) = (&allocs[i], &frees[i]);
        assert_eq!((alloc.size, alloc.align), layout, "alloc #{}", alloc.seq);
        assert_eq!((free.size, free.align), layout, "dealloc #{}", free.seq);
        assert_eq!(free.address, alloc.address, "freed with the same address");
        assert_eq!(alloc.address % alloc.align, 0, "alloc #{}", alloc.seq);
        assert_eq!(alloc.line, Some(line_of(id, alloc_code)));
        assert_eq!(free.line, Some(line_of(id, free_code)));

        // What the scenario observed of each layout matches its event.
        let o = observation_at(&trace, i);
        assert_eq!(
            (o.get("size"), o.get("align")),
            (Some(layout.0), Some(layout.1))
        );
        assert_eq!(o.get("address % align"), Some(0), "{}", o.label);
    }
    assert_eq!(allocs[3].address % 64, 0, "the over-aligned block");
    assert_eq!(trace.summary().live_bytes_at_end, 0);
}
