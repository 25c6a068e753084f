//! memlab's bump allocator: the allocator behind `--allocator bump`, and
//! teaching code (the lines between the `lesson` markers are quoted as they
//! are). It hands out an arena's bytes one block after another, rounding each
//! start up to the block's alignment, and never takes anything back: `dealloc`
//! does nothing, and `realloc` grows a block in place only when it is the last
//! one handed out. When the arena is full, `alloc` returns null, as
//! `GlobalAlloc` allows, and the caller decides (Rust's collections call
//! `handle_alloc_error`).
//!
//! In memlab it serves only what a recording thread allocates (the
//! recorder's `backend` routes every other request, and every block outside
//! the arena, to `System`), so the arena holds the scenario's blocks and
//! nothing of memlab's own.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes in the arena of `--allocator bump`: a `static` of memlab's binary
/// (zeroed data, so it takes no room in the file and no memory until used,
/// but address space in every memlab process: 16 MiB broke the runs under
/// `RLIMIT_AS` in tests/limits.rs).
/// (`recorder::out_of_memory` names its size: change both together.)
pub const ARENA_BYTES: usize = 1 << 20;

// lesson: bump
/// A bump allocator over an arena of `N` bytes.
pub struct Bump<const N: usize> {
    arena: UnsafeCell<[u8; N]>,
    /// Bytes of the arena handed out so far: the next block starts here
    /// (or after, to meet its alignment).
    used: AtomicUsize,
}

// SAFETY: each block is a range of the arena, aligned as asked, that no other
// block overlaps: a claim moves `used` past it atomically, and bytes are
// never handed out twice (`dealloc` frees nothing), so a block stays valid
// as long as the arena.
unsafe impl<const N: usize> GlobalAlloc for Bump<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let start = self.arena.get() as usize;
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            // The first address at or after the free bytes that has the
            // alignment asked for (a power of two).
            let Some(begin) = (start + used).checked_next_multiple_of(layout.align()) else {
                return ptr::null_mut();
            };
            let (begin, end) = (begin - start, (begin - start).saturating_add(layout.size()));
            if end > N {
                return ptr::null_mut(); // full
            }
            // Claim [begin, end) unless another thread claimed bytes first.
            match self
                .used
                .compare_exchange_weak(used, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return self.arena.get().cast::<u8>().wrapping_add(begin),
                Err(now) => used = now,
            }
        }
    }

    unsafe fn dealloc(&self, _block: *mut u8, _layout: Layout) {
        // Nothing: a bump allocator never reuses a byte.
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let begin = block as usize - self.arena.get() as usize;
        let (end, new_end) = (begin + layout.size(), begin.saturating_add(new_size));
        // The last block ends where the used bytes end: move that end.
        if new_end <= N
            && self
                .used
                .compare_exchange(end, new_end, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return block;
        }
        // Any other block moves: a new block, and a copy of the old bytes.
        // SAFETY: `new_size` with the block's alignment is a valid layout
        // (the caller's contract for `realloc`).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: the caller's contract for `new_size`; the copy stays inside
        // both blocks, which do not overlap (the new one was never handed out).
        unsafe {
            let new_block = self.alloc(new_layout);
            if !new_block.is_null() {
                ptr::copy_nonoverlapping(block, new_block, layout.size().min(new_size));
            }
            new_block
        }
    }
}
// lesson: end

// SAFETY: as for `GlobalAlloc` above: only `used` is shared, and it is atomic.
unsafe impl<const N: usize> Sync for Bump<N> {}

impl<const N: usize> Bump<N> {
    /// An empty arena. A `static` one is zeroed data of the program.
    pub const fn new() -> Bump<N> {
        Bump {
            arena: UnsafeCell::new([0; N]),
            used: AtomicUsize::new(0),
        }
    }

    /// Whether `block` is an address inside the arena.
    pub fn contains(&self, block: *const u8) -> bool {
        let start = self.arena.get() as usize;
        (start..start + N).contains(&(block as usize))
    }

    /// Bytes handed out so far (alignment padding included).
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The arena's first address and its size in bytes.
    pub fn range(&self) -> (usize, usize) {
        (self.arena.get() as usize, N)
    }
}

impl<const N: usize> Default for Bump<N> {
    fn default() -> Bump<N> {
        Bump::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_rise_in_order_aligned_and_dealloc_frees_nothing() {
        let bump: Box<Bump<4096>> = Box::default();
        // SAFETY: non-zero layouts; blocks are only compared and freed here.
        unsafe {
            let a = bump.alloc(layout(3, 1));
            let b = bump.alloc(layout(8, 8));
            assert!(bump.contains(a) && bump.contains(b));
            assert!(b as usize > a as usize);
            assert_eq!(b as usize % 8, 0);
            let used = bump.used();
            bump.dealloc(a, layout(3, 1));
            assert_eq!(bump.used(), used, "dealloc frees nothing");
            let c = bump.alloc(layout(1, 1));
            assert_eq!(
                c as usize,
                b as usize + 8,
                "the next block follows the last"
            );
        }
    }

    #[test]
    fn only_the_last_block_grows_in_place_and_a_moved_block_keeps_its_bytes() {
        let bump: Box<Bump<4096>> = Box::default();
        // SAFETY: each block is written within its size and reallocated with
        // the layout it has.
        unsafe {
            let a = bump.alloc(layout(4, 1));
            a.copy_from_nonoverlapping([1u8, 2, 3, 4].as_ptr(), 4);
            let b = bump.alloc(layout(4, 1));
            let b2 = bump.realloc(b, layout(4, 1), 64);
            assert_eq!(b2, b, "the last block grows in place");
            let a2 = bump.realloc(a, layout(4, 1), 8);
            assert_ne!(a2, a, "a block that is not the last moves");
            assert!(a2 as usize >= b as usize + 64);
            assert_eq!(std::slice::from_raw_parts(a2, 4), [1, 2, 3, 4]);
        }
    }

    #[test]
    fn a_full_arena_returns_null() {
        let bump: Box<Bump<64>> = Box::default();
        // SAFETY: non-zero layouts.
        unsafe {
            assert!(!bump.alloc(layout(60, 1)).is_null());
            assert!(bump.alloc(layout(8, 1)).is_null());
            assert!(
                !bump.alloc(layout(4, 1)).is_null(),
                "what still fits is served"
            );
            assert!(bump.alloc(layout(usize::MAX / 2, 1)).is_null());
        }
    }
}
