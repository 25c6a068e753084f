//! A `String` keeps its bytes in a `Vec<u8>`, so it grows the same way: when
//! the bytes no longer fit, it asks for a bigger block. `with_capacity`
//! reserves the room up front, and `format!` builds a new String in one go.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // `String::new()` allocates nothing. Append "hello" five times.
    let mut text = String::new();
    s.pointer("text", &text);
    for _ in 0..5 {
        text.push_str(black_box("hello"));
        s.observe(
            "push_str",
            &[("len", text.len()), ("capacity", text.capacity())],
        );
    }

    // One char at a time: each of these is one byte in UTF-8.
    let mut word = String::new();
    for c in black_box("rustacean").chars() {
        word.push(c);
        s.observe(
            "push",
            &[("len", word.len()), ("capacity", word.capacity())],
        );
    }

    // Knowing the final length, reserve it: one allocation, no growth.
    let mut reserved = String::with_capacity(25);
    for _ in 0..5 {
        reserved.push_str(black_box("hello"));
    }
    s.observe(
        "with_capacity(25)",
        &[("len", reserved.len()), ("capacity", reserved.capacity())],
    );

    // `format!` returns a new String holding the formatted text.
    let greeting = format!("hello, {}!", black_box("world"));
    s.pointer("greeting", &greeting);
    s.observe(
        "format!",
        &[("len", greeting.len()), ("capacity", greeting.capacity())],
    );
} // all four Strings are dropped here, the last declared first.
