//! `malloc` is a function of the C library, running inside the process, not
//! a system call. The kernel hands out memory in large pieces (with `brk`
//! for the heap, `mmap` for a mapping), and the allocator serves most
//! requests from the memory it already has. Here: a thousand boxes, and the
//! process's memory as the kernel sees it before and after them.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // Room for the thousand pointers first, so that the loop below makes
    // only the boxes' allocations.
    let mut boxes: Vec<Box<u64>> = Vec::with_capacity(1000);

    // The mappings, the brk heap and all mapped memory, from /proc/self/maps.
    let before = s.process_memory();
    s.observe(
        "before",
        &[
            ("mappings", before.mappings),
            ("heap KiB", before.heap_bytes / 1024),
            ("mapped KiB", before.mapped_bytes / 1024),
        ],
    );

    for i in 0..1000 {
        boxes.push(Box::new(black_box(i))); // one allocator call each
    }

    let after = s.process_memory();
    s.observe(
        "after",
        &[
            ("mappings", after.mappings),
            ("heap KiB", after.heap_bytes / 1024),
            ("mapped KiB", after.mapped_bytes / 1024),
        ],
    );
    s.observe("boxes", &[("kept", boxes.len())]);
} // `boxes` is dropped here: each Box frees its block, then the Vec its own
