//! A `String` is a pointer, a length and a capacity on the stack; its bytes are
//! in a heap block it owns. When the String goes out of scope, the block is freed.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // A string literal is part of the program itself: no heap allocation.
    let literal: &str = "hello";
    s.pointer("literal", &literal);

    {
        // `String::from` copies the 5 bytes into a new heap block.
        let greeting = String::from(black_box(literal));
        s.pointer("greeting", &greeting);
    } // `greeting` goes out of scope: its block is freed here.

    // `vec!` first allocates one block for three String headers (pointer,
    // length, capacity: 24 bytes each); then each String allocates its bytes.
    let names: Vec<String> = vec![
        String::from(black_box("ada")),
        String::from(black_box("grace")),
        String::from(black_box("linus")),
    ];
    // Probe `names`, then each String header inside the Vec's block.
    s.pointer("names", &names);
    s.pointer("names[0]", &names[0]);
    s.pointer("names[1]", &names[1]);
    s.pointer("names[2]", &names[2]);

    drop(names); // each String's bytes are freed first, then the Vec's block
}
