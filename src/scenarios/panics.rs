//! A scenario that panics halfway, for memlab's own tests: the events up to
//! the panic are kept, and memlab reports the panic. `memlab list` hides it.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    let numbers: Vec<u64> = vec![black_box(1), 2, 3];
    s.pointer("numbers", &numbers);
    let index = black_box(7);
    black_box(numbers[index]); // out of bounds: this panics
}
