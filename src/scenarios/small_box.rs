//! `Box::new(42)`: what Rust asks the allocator for, and what it gets. The
//! request is a `Layout`, the size and the alignment of an `i32`, nothing
//! added; how much memory the allocator sets aside for it is the
//! allocator's own business.

use std::alloc::Layout;
use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // The layout of the value: what `Box::new` passes to the allocator.
    let layout = Layout::new::<i32>();
    s.observe(
        "Layout::new::<i32>()",
        &[("size", layout.size()), ("align", layout.align())],
    );

    // `black_box` keeps the optimiser from removing the allocation: the
    // value is never used, and an unused Box may never reach the allocator.
    let answer = Box::new(black_box(42i32));
    s.pointer("answer", &answer);
}
