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
} // `numbers` is dropped here: its block is freed.
