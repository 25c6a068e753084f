//! A type can ask for more alignment than any primitive needs, and the
//! allocator gets that alignment with every request. memlab passes each one to
//! std's `System` allocator, which on x86-64 Unix serves alignments above 16
//! with `posix_memalign` instead of `malloc`, and grows such a block by
//! allocating a new one, copying and freeing the old: never in place.

use std::hint::black_box;

use memlab::Scene;

/// Aligned to 64 bytes, a cache line on most CPUs: 64 bytes for one u64.
#[allow(dead_code)] // memlab only looks at where the values are
#[derive(Debug)]
#[repr(align(64))]
struct CacheLine {
    hits: u64,
}

pub fn run(s: &mut Scene) {
    // One value in a Box: a 64-byte block, aligned to 64.
    let boxed = Box::new(black_box(CacheLine { hits: 0 }));
    s.pointer("boxed", &boxed);

    // A Vec of them: every block it uses is aligned to 64.
    let mut lines: Vec<CacheLine> = Vec::new();
    let mut moves = 0;
    for i in 0..17 {
        let (block, capacity) = (lines.as_ptr() as usize, lines.capacity());
        lines.push(black_box(CacheLine { hits: i }));
        if lines.capacity() != capacity {
            let address = lines.as_ptr() as usize;
            // Did the block get a new address? (Not counted for the first
            // block: before it, the Vec pointed to no block at all.)
            if capacity > 0 && address != block {
                moves += 1;
            }
            s.observe(
                "grew",
                &[
                    ("len", lines.len()),
                    ("capacity", lines.capacity()),
                    ("addr % 64", address % 64),
                    ("moves", moves),
                ],
            );
        }
    }
    s.pointer("lines", &lines);
} // `lines`, then `boxed`, are dropped here: their blocks are freed
