//! `Box::new` puts one value on the heap; the Box itself is just a pointer,
//! and it lives on the stack.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // Four u64s: 32 bytes on the heap, an 8-byte pointer on the stack.
    let first: Box<[u64; 4]> = Box::new(black_box([1, 2, 3, 4]));
    s.pointer("first", &first);

    // Moving the Box copies the pointer into a new binding.
    // The heap block stays where it is: no allocation, no copy of the data.
    let second = first;
    s.pointer("second", &second);
} // `second` goes out of scope here, and dropping it frees the block.
