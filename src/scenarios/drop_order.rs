//! Rust drops values in a fixed order: the locals of a scope in reverse order
//! of declaration, the fields of a struct in declaration order, and a value
//! that owns other values after what it owns. Every block here has a size of
//! its own, so each `dealloc` says whose block it is.

use std::hint::black_box;

use memlab::Scene;

/// Three fields, each owning a block: 40, 50 and 60 bytes.
#[allow(dead_code)] // memlab only looks at the blocks the fields own
struct Parts {
    head: Box<[u8; 40]>,
    body: Box<[u8; 50]>,
    tail: Box<[u8; 60]>,
}

pub fn run(s: &mut Scene) {
    // 1. Locals: declared 10, 20, 30 bytes.
    {
        let first = Box::new(black_box([1u8; 10]));
        let second = Box::new(black_box([2u8; 20]));
        let third = Box::new(black_box([3u8; 30]));
        s.pointer("first", &first);
        s.pointer("second", &second);
        s.pointer("third", &third);
    } // dropped in reverse order: `third`, `second`, then `first`

    // 2. Fields. The literal lists `tail` first, so its block is allocated
    //    first; dropping follows the struct's declaration, not the literal.
    let parts = Parts {
        tail: Box::new(black_box([6u8; 60])),
        head: Box::new(black_box([4u8; 40])),
        body: Box::new(black_box([5u8; 50])),
    };
    s.pointer("head", &parts.head);
    drop(parts); // `head`, `body`, then `tail`

    // 3. A Vec of Vecs: one block for the three inner Vecs (3 × 24 bytes),
    //    and one block of bytes for each of them: 7, 8 and 9 bytes.
    let rows: Vec<Vec<u8>> = vec![
        black_box(vec![7u8; 7]),
        black_box(vec![8u8; 8]),
        black_box(vec![9u8; 9]),
    ];
    s.pointer("rows", &rows);
    s.pointer("rows[0]", &rows[0]);
    // The inner Vecs live inside the outer block, so they are dropped (and
    // their blocks freed) before the outer block is freed.
    drop(rows);
}
