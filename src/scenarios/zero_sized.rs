//! A zero-sized type has nothing to store, so it needs no heap memory: a `Box`
//! of one allocates nothing, and a `Vec` of them never allocates, however many
//! it holds. An empty `Vec` of any type allocates nothing either.

use std::hint::black_box;
use std::mem::{align_of, size_of};

use memlab::Scene;

/// A struct with no fields (a "tag" type): zero bytes.
#[derive(Debug)]
struct Tag;

pub fn run(s: &mut Scene) {
    let unit: Box<()> = black_box(Box::new(())); // no allocation
    s.pointer("unit", &unit);

    let tag: Box<Tag> = black_box(Box::new(Tag)); // no allocation
    s.pointer("tag", &tag);
    s.observe(
        "Tag",
        &[("size", size_of::<Tag>()), ("align", align_of::<Tag>())],
    );

    // A thousand pushes, and still no block: there are no bytes to store.
    let mut units: Vec<()> = Vec::new();
    for _ in 0..1000 {
        units.push(());
    }
    s.local("units", &units);
    // `cap is MAX` is 1 if the capacity is `usize::MAX`, the largest usize.
    s.observe(
        "units",
        &[
            ("len", units.len()),
            ("cap is MAX", usize::from(units.capacity() == usize::MAX)),
        ],
    );

    // Not zero-sized, but empty: `Vec::new` allocates nothing until a push.
    let empty: Vec<u64> = black_box(Vec::new());
    s.pointer("empty", &empty);
}
