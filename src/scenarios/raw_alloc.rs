//! `Box`, `Vec` and `String` get their memory from the global allocator, and
//! `std::alloc` lets you call it yourself. A `Layout` says how many bytes you
//! want and what their address must be a multiple of (the alignment); `alloc`
//! returns a raw pointer, and `dealloc` must get the same pointer and layout back.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // The layout the compiler uses for a type: a u64 is 8 bytes, aligned to 8.
    let word = Layout::new::<u64>();
    // SAFETY: `word` is not zero-sized (`alloc` with size 0 is undefined behaviour).
    let word_ptr = unsafe { alloc(word) };
    if word_ptr.is_null() {
        handle_alloc_error(word); // out of memory: abort, as Box and Vec do
    }
    // SAFETY: `word_ptr` is non-null and points to 8 bytes aligned to 8: room for one u64.
    unsafe { word_ptr.cast::<u64>().write(black_box(42)) };

    // Any size and alignment, checked: the alignment must be a power of two.
    let bytes = Layout::from_size_align(64, 8).expect("8 is a power of two");
    // SAFETY: `bytes` is not zero-sized.
    let bytes_ptr = unsafe { alloc(bytes) };
    if bytes_ptr.is_null() {
        handle_alloc_error(bytes);
    }
    // SAFETY: `bytes_ptr` is non-null and points to 64 bytes we own.
    unsafe { bytes_ptr.write_bytes(black_box(0xAB), 64) };

    // There is no `alloc_array` in std: `Layout::array::<T>(n)` plus `alloc` is
    // how you allocate an array by hand. Ten u32s: 40 bytes, aligned to 4.
    let array = Layout::array::<u32>(10).expect("40 bytes fit in memory");
    // SAFETY: `array` is not zero-sized.
    let array_ptr = unsafe { alloc(array) }.cast::<u32>();
    if array_ptr.is_null() {
        handle_alloc_error(array);
    }
    for i in 0..10 {
        // SAFETY: `array_ptr` is non-null, aligned for u32 and has room for 10
        // of them; `i < 10`, so `add(i)` stays inside the block.
        unsafe { array_ptr.add(i).write(black_box(i as u32)) };
    }

    // Over-aligned: 64 bytes starting at a multiple of 64 (a cache line).
    let line = Layout::from_size_align(64, 64).expect("64 is a power of two");
    // SAFETY: `line` is not zero-sized.
    let line_ptr = unsafe { alloc(line) };
    if line_ptr.is_null() {
        handle_alloc_error(line);
    }
    // SAFETY: `line_ptr` is non-null and points to 64 bytes we own.
    unsafe { line_ptr.write_bytes(black_box(0), 64) };

    // The allocator honours every alignment: each address % align is 0.
    for (label, layout, ptr) in [
        ("u64", word, word_ptr),
        ("64 bytes", bytes, bytes_ptr),
        ("[u32; 10]", array, array_ptr.cast::<u8>()),
        ("cache line", line, line_ptr),
    ] {
        let (size, align) = (layout.size(), layout.align());
        // The optimiser knows `alloc` returns aligned memory: without `black_box`
        // it would compute 0 itself, see that nothing reads the blocks, and
        // remove them.
        let address = black_box(ptr) as usize;
        s.observe(
            label,
            &[
                ("size", size),
                ("align", align),
                ("address % align", address % align),
            ],
        );
    }

    // `dealloc` must get the very layout each block was allocated with: that is
    // its contract, and nothing checks it for you.
    // SAFETY: each pointer came from `alloc` with exactly this layout, and none
    // is used again after its `dealloc`.
    unsafe {
        dealloc(word_ptr, word);
        dealloc(bytes_ptr, bytes);
        dealloc(array_ptr.cast::<u8>(), array);
        dealloc(line_ptr, line);
    }
}
