use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn box_new_42_asks_for_an_i32_layout_and_nothing_more() {
    let trace = run("small-box");
    assert_eq!(kinds(&trace.events), [Kind::Alloc, Kind::Dealloc]);
    let alloc = &trace.events[0];
    // The Layout of an i32, as the observation notes it: no room added for
    // the alignment.
    let layout = observation(&trace, "Layout::new::<i32>()");
    assert_eq!((alloc.size, alloc.align), (4, 4));
    assert_eq!(
        (layout.get("size"), layout.get("align")),
        (Some(4), Some(4))
    );
    assert_eq!(
        alloc.line,
        Some(line_of("small-box", "Box::new(black_box(42i32))"))
    );
    // Whatever the allocator reserved, it is at least what was asked for.
    if let Some(usable) = alloc.usable {
        assert!(usable >= 4, "{usable}");
    }
    assert_eq!(target(&trace, "answer"), alloc.address);
}
