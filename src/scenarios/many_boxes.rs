//! Many small boxes, one after another: each `Box::new` allocates a block and
//! each box is dropped at the end of its loop iteration, which frees it. `n`
//! boxes make 2 × n heap events; `memlab trace many-boxes --n 500000` records
//! a million. memlab's own stress test: how its recorder and views scale.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    let n = s.n(); // `--n`, 1000 unless told otherwise
    for i in 0..n {
        let boxed = Box::new(black_box(i as u64)); // 8 bytes on the heap
        black_box(&boxed);
    } // each `boxed` is dropped at the end of its iteration: its block is freed
    s.observe("boxes", &[("n", n)]);
}
