//! A pointer to a value whose size the compiler does not know, a trait object
//! or a slice, is two words: the address and one more. For `dyn Trait` the
//! second word points to a vtable; for `[T]` and `str` it is the length.

use std::hint::black_box;
use std::mem::size_of_val;

use memlab::Scene;

trait Shape {
    fn area(&self) -> f64;
}

#[derive(Debug)]
struct Square {
    side: f64, // 8 bytes
}

struct Rect {
    width: f64,
    height: f64, // 16 bytes in all
}

impl Shape for Square {
    fn area(&self) -> f64 {
        self.side * self.side
    }
}

impl Shape for Rect {
    fn area(&self) -> f64 {
        self.width * self.height
    }
}

pub fn run(s: &mut Scene) {
    // A Box of a concrete type is one pointer: 8 bytes on the stack.
    let square: Box<Square> = Box::new(black_box(Square { side: 2.0 }));
    s.pointer("square", &square);

    // A Box<dyn Shape> is two words: the data pointer and a vtable pointer.
    // Its heap block holds the Rect alone, 16 bytes.
    let shape: Box<dyn Shape> = Box::new(black_box(Rect {
        width: 3.0,
        height: 4.0,
    }));
    s.trait_object("shape", &shape);

    // A &dyn Shape is two words as well, here borrowing a value on the stack.
    let small = black_box(Square { side: 1.0 });
    let dyn_ref: &dyn Shape = &small;
    s.trait_object("dyn_ref", &dyn_ref);

    // A call through a trait object finds the method in the vtable;
    // size_of_val finds the size of the value behind the pointer at run time.
    let area = shape.area() as usize;
    s.observe(
        "shape",
        &[("area", area), ("size_of_val", size_of_val(&*shape))],
    );
    let area = dyn_ref.area() as usize;
    s.observe(
        "dyn_ref",
        &[("area", area), ("size_of_val", size_of_val(dyn_ref))],
    );

    // A boxed slice and a &str are two words too: the address and the length.
    let numbers: Box<[u32]> = Box::new(black_box([1, 2, 3]));
    s.pointer("numbers", &numbers);
    let text: &str = "hello";
    s.pointer("text", &text);
    s.observe(
        "numbers",
        &[
            ("len", numbers.len()),
            ("size_of_val", size_of_val(&*numbers)),
        ],
    );
} // `numbers`, `shape`, then `square` are dropped: each frees its block.
