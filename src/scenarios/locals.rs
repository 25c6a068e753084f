//! Locals live in the stack frame of the function that declares them. Each
//! call that is really made (not inlined) gets a fresh frame; on x86-64 the
//! stack grows down, so a frame sits below its caller's.

use std::hint::black_box;

use memlab::Scene;

/// Two `f32` fields: 8 bytes, aligned to 4.
#[allow(dead_code)] // memlab only looks at where a Point lives
struct Point {
    x: f32,
    y: f32,
}

pub fn run(s: &mut Scene) {
    // `black_box` stops the optimiser from folding these values away.
    let small: u8 = black_box(7);
    let count: i32 = black_box(-42);
    let big: u64 = black_box(1 << 40);
    let ratio: f64 = black_box(0.25);
    let bytes: [u8; 4] = black_box([1, 2, 3, 4]);
    let pair: (u8, u32) = black_box((1, 2));
    let point = black_box(Point { x: 1.0, y: 2.0 });

    s.frame("run");
    s.local("small", &small);
    s.local("count", &count);
    s.local("big", &big);
    s.local("ratio", &ratio);
    s.local("bytes", &bytes);
    s.local("pair", &pair);
    s.local("point", &point);

    outer(s, count);
}

// `#[inline(never)]` keeps each call a real call with its own frame, even in a
// release build, where the optimiser could otherwise merge it into its caller.
#[inline(never)]
fn outer(s: &mut Scene, n: i32) {
    let doubled: i32 = black_box(n * 2);
    s.frame("outer");
    s.local("doubled", &doubled);
    inner(s, doubled);
}

#[inline(never)]
fn inner(s: &mut Scene, n: i32) {
    let tripled: i64 = black_box(i64::from(n) * 3);
    s.frame("inner");
    s.local("tripled", &tripled);
}
