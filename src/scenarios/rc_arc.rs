//! `Rc::new` makes one heap block that holds two counts and the value: the
//! strong count (how many `Rc`s own the value) and the weak count (how many
//! `Weak`s watch it). Cloning an `Rc` copies the pointer and bumps a count; it
//! allocates nothing. `Arc` is the same with atomic counts, so threads can share it.

use std::hint::black_box;
use std::mem::size_of;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // One allocation: the counts and the four u64s share a block.
    let first = Rc::new(black_box([1u64, 2, 3, 4]));
    s.pointer("first", &first);
    s.observe(
        "new",
        &[
            ("value", size_of::<[u64; 4]>()),
            ("strong", Rc::strong_count(&first)),
            ("weak", Rc::weak_count(&first)),
        ],
    );

    // No allocation: a second pointer to the same block, strong count 2.
    let second = Rc::clone(&first);
    s.pointer("second", &second);
    s.observe("clone", &[("strong", Rc::strong_count(&first))]);

    // A `Weak` points to the block too, but does not own the value.
    let watcher: Weak<[u64; 4]> = Rc::downgrade(&first);
    s.observe(
        "downgrade",
        &[
            ("strong", Rc::strong_count(&first)),
            ("weak", Rc::weak_count(&first)),
        ],
    );

    drop(first);
    drop(second); // strong count 0: the value is dropped, the block stays
    s.observe(
        "dropped",
        &[
            ("strong", watcher.strong_count()),
            // 1 if `upgrade` gives an `Rc`, 0 if it gives `None`
            ("upgrade", usize::from(watcher.upgrade().is_some())),
        ],
    );
    drop(watcher); // weak count 0 too: now the block is freed

    // An `Arc` of the same value: a block of the same size.
    let shared = Arc::new(black_box([1u64, 2, 3, 4]));
    s.pointer("shared", &shared);

    let mine = Arc::clone(&shared); // no allocation
    let worker = s.spawn("worker", move |s| {
        s.pointer("mine", &mine);
        s.observe("worker", &[("strong", Arc::strong_count(&mine))]);
    }); // `mine` is dropped on the worker: the count goes down, nothing is freed
    s.join(worker);
} // the last `Arc` is dropped here, and it frees its block
