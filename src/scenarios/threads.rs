//! Every thread has a stack of its own, far from the others. With glibc, a
//! spawned thread's heap blocks usually come from a malloc arena of its own, so
//! threads rarely wait for each other to allocate. An `Arc` lets threads share
//! one block: cloning it copies a pointer and bumps a count, nothing more.

use std::hint::black_box;
use std::sync::Arc;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    let here = black_box(0u64);
    s.local("here", &here);

    // One block holds the two reference counts and the four u64s.
    let shared = Arc::new(black_box([1u64, 2, 3, 4]));
    s.pointer("shared", &shared);

    // `s.spawn` is `std::thread::spawn` that also records the new thread.
    let mine = Arc::clone(&shared); // no allocation: the strong count goes to 2
    let worker = s.spawn("worker", move |s| {
        let here = black_box(1u64);
        s.local("here", &here);
        s.pointer("mine", &mine);

        let numbers = black_box(vec![10u64, 20, 30]);
        s.pointer("numbers", &numbers);
    }); // `numbers` is freed here, on the worker; dropping `mine` frees nothing
    s.join(worker);

    s.observe(
        "after join",
        &[("strong count", Arc::strong_count(&shared))],
    );
} // the last `Arc` is dropped here, and it frees the shared block
