//! A Vec's capacity is under your control: reserve room up front, ask for a
//! little or a lot more, give the spare room back, or keep it while emptying.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // Room for exactly 4 u64s: one allocation of 32 bytes, no elements yet.
    let mut generous: Vec<u64> = Vec::with_capacity(4);
    generous.extend(black_box([1, 2, 3, 4])); // fits: no heap event
    s.pointer("generous", &generous);
    s.observe(
        "full",
        &[("len", generous.len()), ("capacity", generous.capacity())],
    );

    // Full, and we ask for room for one more element; `reserve` may give
    // more, so that the pushes after it need no reallocation.
    generous.reserve(1);
    s.observe(
        "reserve(1)",
        &[("len", generous.len()), ("capacity", generous.capacity())],
    );

    // The same again, but asking for no more than needed.
    let mut exact: Vec<u64> = Vec::with_capacity(4);
    exact.extend(black_box([1, 2, 3, 4]));
    exact.reserve_exact(1);
    s.observe(
        "reserve_exact(1)",
        &[("len", exact.len()), ("capacity", exact.capacity())],
    );

    // Give the spare room back: a realloc to a smaller size.
    generous.shrink_to_fit();
    s.observe(
        "shrink_to_fit",
        &[("len", generous.len()), ("capacity", generous.capacity())],
    );

    // Emptying keeps the block: no heap event, the capacity stays.
    generous.clear();
    s.observe(
        "clear",
        &[("len", generous.len()), ("capacity", generous.capacity())],
    );
    s.pointer("generous", &generous);

    // A Vec of zeros asks the allocator for memory that is already zeroed.
    let zeros: Vec<u64> = black_box(vec![0; 100]);
    s.pointer("zeros", &zeros);
} // `zeros`, `exact`, then `generous` are dropped: each frees its block.
