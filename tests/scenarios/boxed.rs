use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn box_allocates_once_moves_only_the_pointer_and_frees_the_same_block() {
    let trace = run("box");
    assert_eq!(kinds(&trace.events), [Kind::Alloc, Kind::Dealloc]);
    let (alloc, free) = (&trace.events[0], &trace.events[1]);
    assert_eq!((alloc.size, alloc.align), (32, 8));
    assert_eq!(free.address, alloc.address);
    assert_eq!(alloc.line, Some(line_of("box", "Box::new(")));
    assert_eq!(
        free.line,
        Some(line_of("box", "} // `second` goes out of scope"))
    );

    let [first, second] = trace.locals.as_slice() else {
        panic!("expected two locals: {:?}", trace.locals)
    };
    assert_eq!((&*first.name, &*second.name), ("first", "second"));
    assert_eq!(first.size, 8, "a Box is one pointer");
    assert_ne!(
        first.address, second.address,
        "the move gives a new stack slot"
    );
    assert_eq!(target_of(first), alloc.address);
    assert_eq!(
        target_of(second),
        alloc.address,
        "same heap block after the move"
    );
}
