//! Moving a Vec copies its three words (pointer, capacity, length) and leaves
//! the heap block alone. Cloning it allocates a second block and copies the
//! elements into it: two owners, two blocks.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    let original: Vec<u64> = black_box(vec![1, 2, 3, 4]); // 32 bytes on the heap
    s.pointer("original", &original);

    // A move: `original` can no longer be used; `owner` owns the same block.
    let owner = original;
    s.pointer("owner", &owner);

    // A clone: a new block of the same size, holding a copy of the elements.
    let copy = black_box(owner.clone());
    s.pointer("copy", &copy);

    // Moving into a function hands the block over: the callee frees it.
    consume(s, owner);
    s.observe("after consume", &[("copy len", copy.len())]);
} // `copy` is dropped here: its block is freed.

#[inline(never)]
fn consume(s: &mut Scene, numbers: Vec<u64>) {
    s.frame("consume");
    s.pointer("numbers", &numbers);
} // `numbers` is dropped here, at the end of the callee: the block is freed.
