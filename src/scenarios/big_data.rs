//! Big blocks, and how small a stack is. glibc serves a large request that
//! its free memory cannot satisfy from a mapping of its own rather than from
//! the heap. A stack has a limit, and running past it kills the process: this
//! scenario does that only in a child process, so memlab survives to report it.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // 1 MiB of zeros, in one request.
    let big = black_box(vec![0u8; 1 << 20]);
    s.pointer("big", &big);

    // 64 KiB twice: an array built first, then moved into a Box...
    let boxed = Box::new(black_box([0u8; 1 << 16]));
    s.pointer("boxed", &boxed);
    // ...and zeros asked for directly on the heap, then kept as a boxed slice.
    let sliced: Box<[u8]> = black_box(vec![0u8; 1 << 16]).into_boxed_slice();
    s.pointer("sliced", &sliced);

    // A spawned thread's whole stack.
    let worker = s.spawn("worker", |s| {
        let kib = s.stack_size() / 1024;
        s.observe("worker's stack", &[("KiB", kib)]);
    });
    s.join(worker);

    // Recursing with no end runs off the end of the stack.
    s.in_child_process("overflow in a child", recurse_forever);
}

fn recurse_forever() {
    black_box(deeper(0));
}

/// Each call keeps 512 bytes on the stack and calls itself again.
#[inline(never)]
fn deeper(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    if black_box(true) {
        deeper(depth + 1).wrapping_add(frame[1])
    } else {
        depth
    }
}
