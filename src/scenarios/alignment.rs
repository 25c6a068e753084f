//! Every type has a size and an alignment: a value's address is a multiple of
//! its alignment, and its size is a multiple of it too, so the elements of an
//! array all stay aligned. To keep each field aligned, the compiler may insert
//! padding: unused bytes between fields or at the end.

use std::hint::black_box;
use std::mem::offset_of;

use memlab::Scene;

/// Rust's default representation: the compiler may reorder the fields to save
/// padding. The Rust Reference promises nothing about this layout.
#[allow(dead_code)] // memlab only looks at where the fields are
struct Mixed {
    a: u8,
    b: u32,
    c: u16,
}

/// The same fields with `#[repr(C)]`: kept in declaration order, as C lays them
/// out. `a` at 0, 3 bytes of padding, `b` at 4, `c` at 8, 2 bytes of padding:
/// 12 bytes, aligned to 4 (the largest field's alignment).
#[allow(dead_code)]
#[repr(C)]
struct MixedC {
    a: u8,
    b: u32,
    c: u16,
}

/// Aligned to 64 bytes, the size of a cache line on most CPUs. The size rounds
/// up to a multiple of the alignment: 64 bytes for one u64.
#[allow(dead_code)]
#[derive(Debug)]
#[repr(align(64))]
struct CacheLine {
    hits: u64,
}

pub fn run(s: &mut Scene) {
    let mixed = black_box(Mixed { a: 1, b: 2, c: 3 });
    let mixed_c = black_box(MixedC { a: 1, b: 2, c: 3 });
    // A tuple uses the default representation too.
    let pair: (u8, u64) = black_box((1, 2));
    let line = black_box(CacheLine { hits: 0 });

    s.local("mixed", &mixed);
    s.local("mixed_c", &mixed_c);
    s.local("pair", &pair);
    s.local("line", &line);

    // Where each field starts, in bytes from the start of the value.
    s.observe(
        "Mixed",
        &[
            ("a", offset_of!(Mixed, a)),
            ("b", offset_of!(Mixed, b)),
            ("c", offset_of!(Mixed, c)),
        ],
    );
    s.observe(
        "MixedC",
        &[
            ("a", offset_of!(MixedC, a)),
            ("b", offset_of!(MixedC, b)),
            ("c", offset_of!(MixedC, c)),
        ],
    );
    s.observe(
        "(u8, u64)",
        &[
            ("0", offset_of!((u8, u64), 0)),
            ("1", offset_of!((u8, u64), 1)),
        ],
    );

    // On the stack, the compiler places `line` at a multiple of 64.
    let address = &line as *const CacheLine as usize;
    s.observe("line", &[("addr % 64", address % 64)]);

    // On the heap, the allocator gets the alignment as well as the size: the
    // Box's block is 64 bytes aligned to 64, so its address is a multiple of 64.
    let boxed = Box::new(black_box(CacheLine { hits: 1 }));
    s.pointer("boxed", &boxed);
    let address = &*boxed as *const CacheLine as usize;
    s.observe("boxed", &[("addr % 64", address % 64)]);
} // `boxed` is dropped here: its block is freed.
