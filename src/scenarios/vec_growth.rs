//! A `Vec` keeps its elements in one heap block. When the block is full, `push`
//! asks the allocator for a bigger one: `realloc` keeps the block in place
//! when it can, or gives it a new address with the elements intact.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    let mut numbers: Vec<u64> = Vec::new(); // capacity 0: nothing allocated yet
    s.pointer("numbers", &numbers);

    for i in 0..33 {
        numbers.push(black_box(i));
        s.observe(
            "push",
            &[("len", numbers.len()), ("capacity", numbers.capacity())],
        );
    }
    s.pointer("numbers", &numbers);

    // Knowing the final length, reserve it up front: one allocation, no growth.
    let mut reserved: Vec<u64> = Vec::with_capacity(33);
    for i in 0..33 {
        reserved.push(black_box(i));
    }
    s.pointer("reserved", &reserved);
} // `reserved`, then `numbers`, are dropped here: their blocks are freed.
