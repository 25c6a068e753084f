//! A `HashMap` keeps all its entries in one heap block, its table. When the
//! table is full, an insert allocates a bigger table, moves every entry into
//! it (each one to the slot its hash picks there) and frees the old table.

use std::collections::HashMap;
use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    let mut squares: HashMap<u64, u64> = HashMap::new(); // capacity 0: no table yet
    s.observe(
        "new",
        &[("len", squares.len()), ("capacity", squares.capacity())],
    );

    for n in 1..=29 {
        let capacity = squares.capacity();
        squares.insert(black_box(n), n * n);
        // Note the inserts that needed a bigger table.
        if squares.capacity() != capacity {
            s.observe(
                "grew",
                &[("len", squares.len()), ("capacity", squares.capacity())],
            );
        }
    }

    // Knowing the number of entries, ask for room up front: one table.
    let mut reserved: HashMap<u64, u64> = HashMap::with_capacity(29);
    for n in 1..=29 {
        reserved.insert(black_box(n), n * n);
    }
    s.observe(
        "reserved",
        &[("len", reserved.len()), ("capacity", reserved.capacity())],
    );
} // `reserved`, then `squares`, are dropped here: each frees its table
