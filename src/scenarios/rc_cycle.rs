//! Two `Rc` nodes that own each other keep each other alive: when the locals
//! go, each strong count drops only to 1, so neither block is ever freed. Make
//! the link back a `Weak`, which does not own, and both blocks are freed.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use memlab::Scene;

/// A node with two kinds of link: one that owns, one that only watches.
struct Node {
    next: RefCell<Option<Rc<Node>>>,
    back: RefCell<Weak<Node>>,
}

impl Node {
    fn new() -> Node {
        Node {
            next: RefCell::new(None),
            back: RefCell::new(Weak::new()), // `Weak::new` allocates nothing
        }
    }
}

pub fn run(s: &mut Scene) {
    {
        // A cycle of strong links: `a` owns `b`, and `b` owns `a`.
        let a = Rc::new(Node::new());
        let b = Rc::new(Node::new());
        *a.next.borrow_mut() = Some(Rc::clone(&b));
        *b.next.borrow_mut() = Some(Rc::clone(&a));
        // Probe the locals, and each node's `next` inside its block.
        s.pointer("a", &a);
        s.pointer("b", &b);
        s.pointer("a.next", a.next.borrow().as_ref().unwrap());
        s.pointer("b.next", b.next.borrow().as_ref().unwrap());
        s.observe(
            "strong counts",
            &[("a", Rc::strong_count(&a)), ("b", Rc::strong_count(&b))],
        );
    } // `a` and `b` go: each count drops to 1, held by the other node. No free.
    s.out_of_scope(&["a", "b"]); // for memlab's diagrams: touches no memory

    {
        // The fix: `parent` owns `child`; the link back is a `Weak`.
        let parent = Rc::new(Node::new());
        let child = Rc::new(Node::new());
        *parent.next.borrow_mut() = Some(Rc::clone(&child));
        *child.back.borrow_mut() = Rc::downgrade(&parent);
        s.pointer("parent", &parent);
        s.pointer("child", &child);
        s.observe(
            "strong counts",
            &[
                ("parent", Rc::strong_count(&parent)),
                ("child", Rc::strong_count(&child)),
            ],
        );
        s.observe(
            "weak counts",
            &[
                ("parent", Rc::weak_count(&parent)),
                ("child", Rc::weak_count(&child)),
            ],
        );
        // At the closing brace `child` goes first (strong count 2 -> 1), then
        // `parent` (1 -> 0): dropping the parent node drops its `next`, the last
        // `Rc` of `child`.
    } // both blocks are freed here
    s.out_of_scope(&["parent", "child"]);
}
