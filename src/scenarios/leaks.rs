//! Rust's ownership rules stop use-after-free and double frees, but not leaks:
//! never freeing memory is safe. Three ways to leak without `unsafe`; at the
//! end of this trace, every block is still live.

use std::cell::RefCell;
use std::hint::black_box;
use std::mem;
use std::rc::{Rc, Weak};

use memlab::Scene;

/// A node that may hold a counted reference to another node.
struct Node {
    next: RefCell<Option<Rc<Node>>>,
}

pub fn run(s: &mut Scene) {
    // 1. `Box::leak` consumes the Box and returns a `&'static mut` to its value
    //    (kept here as a shared `&'static`): the block is never freed, so the
    //    reference stays valid for the rest of the program.
    let primes: &'static [u32] = Box::leak(Box::new(black_box([2, 3, 5, 7])));
    s.pointer("primes", &primes);
    // This one is on purpose: data meant to live as long as the program.
    s.keep("primes", &primes);

    // 2. `mem::forget` takes ownership and never runs the destructor: the
    //    String's bytes stay allocated, and nothing points to them any more.
    let name = String::from(black_box("forgotten"));
    s.pointer("name", &name);
    mem::forget(name);

    // 3. A reference cycle: `a` holds `b`, and `b` holds `a`.
    let a = Rc::new(Node {
        next: RefCell::new(None),
    });
    let b = Rc::new(Node {
        next: RefCell::new(Some(Rc::clone(&a))),
    });
    *a.next.borrow_mut() = Some(Rc::clone(&b));
    s.observe(
        "cycle",
        &[
            ("a strong", Rc::strong_count(&a)),
            ("b strong", Rc::strong_count(&b)),
        ],
    );

    // A `Weak` watches a node without keeping it alive.
    let watch_a: Weak<Node> = Rc::downgrade(&a);
    let watch_b: Weak<Node> = Rc::downgrade(&b);
    drop(a);
    drop(b);
    // Each node still holds the other, so neither count reaches 0: no free.
    s.observe(
        "dropped",
        &[
            ("a strong", watch_a.strong_count()),
            ("b strong", watch_b.strong_count()),
        ],
    );
}
