//! A `Vec` keeps its elements in one heap block. When the block is full, `push`
//! asks the allocator for a bigger one: `realloc` grows the block in place when
//! the memory after it is free, or moves it and copies the elements.

use std::hint::black_box;

use crate::scene::Scene;

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
