//! Which allocator the recorder sits in front of. A program has one global
//! allocator, so the choice is made once per process, before the first
//! block: at the first allocator call, from the environment variable
//! `MEMLAB_ALLOCATOR` (read with `getenv`, which allocates nothing), and
//! never changed after. Every block is therefore freed by the allocator that
//! made it, by construction; `memlab trace --allocator NAME` re-runs memlab
//! with the variable set when the process's allocator is another.
//!
//! `bump` is the one backend that shares the process with `System`: its
//! arena serves only what a recording thread allocates, and a block is
//! freed or reallocated by the allocator whose memory it is in (an address
//! inside the arena's static range is the bump allocator's, any other
//! `System`'s).
//!
//! Everything here runs inside the allocator: no allocation, no lock, no print.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

use super::bump::{ARENA_BYTES, Bump};
use crate::trace::{Allocator, Region};

/// The environment variable that chooses the allocator of a process.
pub const VARIABLE: &str = "MEMLAB_ALLOCATOR";

/// The arena of `--allocator bump`: a `static` of the program.
pub static BUMP: Bump<ARENA_BYTES> = Bump::new();

/// `BACKEND` before the first allocator call has chosen.
const UNDECIDED: u8 = u8::MAX;
static BACKEND: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Whether this build can run `allocator` (jemalloc and mimalloc are
/// features of the runtime crate: memlab has them, `memlab run`'s child not).
pub fn compiled(allocator: Allocator) -> bool {
    match allocator {
        Allocator::Jemalloc => cfg!(feature = "jemalloc"),
        Allocator::Mimalloc => cfg!(feature = "mimalloc"),
        Allocator::System | Allocator::Bump => true,
    }
}

/// The allocators this build can run, in [`Allocator::ALL`]'s order.
pub fn available() -> impl Iterator<Item = Allocator> {
    Allocator::ALL.into_iter().filter(|a| compiled(*a))
}

/// This process's allocator, chosen at its first allocator call.
#[inline(always)]
pub fn current() -> Allocator {
    match BACKEND.load(Ordering::Relaxed) {
        0 => Allocator::System,
        1 => Allocator::Jemalloc,
        2 => Allocator::Mimalloc,
        3 => Allocator::Bump,
        _ => decide(),
    }
}

/// Reads `MEMLAB_ALLOCATOR` once. A name this build does not have (or none)
/// is `System`: the CLI refuses such a name before anything runs. Tells the
/// recorder, so that `System` with nobody recording is its one fast path.
#[cold]
#[inline(never)]
fn decide() -> Allocator {
    let chosen = from_environment();
    // Idempotent: two threads deciding at once read the same environment.
    BACKEND.store(chosen as u8, Ordering::Relaxed);
    super::recorder::backend_chosen(chosen);
    chosen
}

fn from_environment() -> Allocator {
    // SAFETY: the name is a nul-terminated C string; `getenv` returns null or
    // a pointer into the environment, allocating nothing and taking no lock.
    let value = unsafe { libc::getenv(c"MEMLAB_ALLOCATOR".as_ptr()) };
    if value.is_null() {
        return Allocator::System;
    }
    // SAFETY: a non-null `getenv` result is a nul-terminated string that
    // stays valid while nobody changes the environment (read at once here).
    let name = unsafe { std::ffi::CStr::from_ptr(value) }.to_bytes();
    available()
        .find(|a| a.name().as_bytes() == name)
        .unwrap_or(Allocator::System)
}

/// `alloc` (or `alloc_zeroed`) of `backend`; `recording` says whether the
/// calling thread records (only then does the bump arena serve it).
///
/// # Safety
/// As for `GlobalAlloc::alloc`.
#[inline(always)]
pub unsafe fn alloc(backend: Allocator, recording: bool, zeroed: bool, layout: Layout) -> *mut u8 {
    // SAFETY: the caller's `layout` contract is passed on unchanged.
    unsafe {
        match (backend, zeroed) {
            #[cfg(feature = "jemalloc")]
            (Allocator::Jemalloc, false) => tikv_jemallocator::Jemalloc.alloc(layout),
            #[cfg(feature = "jemalloc")]
            (Allocator::Jemalloc, true) => tikv_jemallocator::Jemalloc.alloc_zeroed(layout),
            #[cfg(feature = "mimalloc")]
            (Allocator::Mimalloc, false) => mimalloc::MiMalloc.alloc(layout),
            #[cfg(feature = "mimalloc")]
            (Allocator::Mimalloc, true) => mimalloc::MiMalloc.alloc_zeroed(layout),
            (Allocator::Bump, false) if recording => BUMP.alloc(layout),
            (Allocator::Bump, true) if recording => BUMP.alloc_zeroed(layout),
            // `System`, and `bump` for a thread that is not recording (a
            // backend not compiled in is never chosen).
            (_, false) => System.alloc(layout),
            (_, true) => System.alloc_zeroed(layout),
        }
    }
}

/// `dealloc` by the allocator that made `block`.
///
/// # Safety
/// As for `GlobalAlloc::dealloc`.
#[inline(always)]
pub unsafe fn dealloc(backend: Allocator, block: *mut u8, layout: Layout) {
    // SAFETY: the caller guarantees `block` was allocated with `layout` by
    // this process's allocator, which is `backend` (or, for `bump`, the
    // arena when the address is inside it and `System` otherwise).
    unsafe {
        match backend {
            #[cfg(feature = "jemalloc")]
            Allocator::Jemalloc => tikv_jemallocator::Jemalloc.dealloc(block, layout),
            #[cfg(feature = "mimalloc")]
            Allocator::Mimalloc => mimalloc::MiMalloc.dealloc(block, layout),
            Allocator::Bump if BUMP.contains(block) => BUMP.dealloc(block, layout),
            _ => System.dealloc(block, layout),
        }
    }
}

/// `realloc` by the allocator that made `block`. A bump block reallocated
/// by a thread that is not recording moves to `System` (copied; the arena
/// frees nothing anyway), so memlab's own growth never fills the arena.
///
/// # Safety
/// As for `GlobalAlloc::realloc`.
#[inline(always)]
pub unsafe fn realloc(
    backend: Allocator,
    recording: bool,
    block: *mut u8,
    layout: Layout,
    new_size: usize,
) -> *mut u8 {
    // SAFETY: as for `dealloc`; `new_size` is the caller's, valid with
    // `layout.align()`, and the copy stays inside both blocks.
    unsafe {
        match backend {
            #[cfg(feature = "jemalloc")]
            Allocator::Jemalloc => tikv_jemallocator::Jemalloc.realloc(block, layout, new_size),
            #[cfg(feature = "mimalloc")]
            Allocator::Mimalloc => mimalloc::MiMalloc.realloc(block, layout, new_size),
            Allocator::Bump if BUMP.contains(block) => {
                if recording {
                    BUMP.realloc(block, layout, new_size)
                } else {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let new_block = System.alloc(new_layout);
                    if !new_block.is_null() {
                        std::ptr::copy_nonoverlapping(
                            block,
                            new_block,
                            layout.size().min(new_size),
                        );
                    }
                    new_block
                }
            }
            _ => System.realloc(block, layout, new_size),
        }
    }
}

/// The region and usable size (0 if unknown) of a live block of `size`
/// bytes, by the rules of the allocator that made it: glibc's chunk headers
/// only for `System` (`region::of_block`); jemalloc's and mimalloc's own
/// usable-size calls, with the region `unknown` (memlab cannot prove where
/// they map their memory); a bump block is in a `static`, exactly its size.
///
/// # Safety
/// `block` is null or a live block of this process's allocator.
#[inline(always)]
pub(super) unsafe fn region_of(block: *mut u8, size: usize) -> (Region, usize) {
    if block.is_null() {
        return (Region::Unknown, 0);
    }
    match current() {
        // SAFETY: `block` is a live block jemalloc returned.
        #[cfg(feature = "jemalloc")]
        Allocator::Jemalloc => (Region::Unknown, unsafe {
            tikv_jemallocator::usable_size(block)
        }),
        // SAFETY: `block` is a live block mimalloc returned.
        #[cfg(feature = "mimalloc")]
        Allocator::Mimalloc => (Region::Unknown, unsafe {
            mimalloc::MiMalloc.usable_size(block)
        }),
        Allocator::Bump if BUMP.contains(block) => (Region::Static, size),
        _ => super::region::of_block(block),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boundary cases of `bump`, through the same routing functions the
    /// recorder calls (named `Allocator::Bump` here, whatever this test
    /// process's own allocator is). A block given to the wrong allocator
    /// would end the test: glibc aborts on a pointer it never handed out.
    #[test]
    fn bump_blocks_and_system_blocks_each_go_back_where_they_came_from() {
        let layout = Layout::from_size_align(40, 8).unwrap();
        // SAFETY: each block is used within its layout and freed once, by
        // the same routing that made it.
        unsafe {
            // Made before recording (System), freed during recording.
            let before = alloc(Allocator::Bump, false, false, layout);
            assert!(!before.is_null() && !BUMP.contains(before));
            assert!(!BUMP.contains(std::ptr::null()));
            dealloc(Allocator::Bump, before, layout);

            // Made while recording (the arena), freed after recording ended:
            // nothing is freed, and the arena's use is unchanged.
            let during = alloc(Allocator::Bump, true, false, layout);
            assert!(BUMP.contains(during));
            let used = BUMP.used();
            dealloc(Allocator::Bump, during, layout);
            assert!(BUMP.used() >= used, "dealloc gave nothing back");

            // A System block reallocated during recording stays System's.
            let old = alloc(Allocator::Bump, false, false, layout);
            old.write_bytes(7, 40);
            let grown = realloc(Allocator::Bump, true, old, layout, 4000);
            assert!(!grown.is_null() && !BUMP.contains(grown));
            assert_eq!(*grown.add(39), 7);
            let grown_layout = Layout::from_size_align(4000, 8).unwrap();
            dealloc(Allocator::Bump, grown, grown_layout);

            // A bump block reallocated after recording leaves the arena for
            // System, its bytes copied; the arena is not used for it.
            let block = alloc(Allocator::Bump, true, true, layout);
            assert!(BUMP.contains(block));
            block.write_bytes(9, 40);
            let moved = realloc(Allocator::Bump, false, block, layout, 80);
            assert!(!moved.is_null() && !BUMP.contains(moved));
            assert_eq!(*moved.add(39), 9);
            dealloc(
                Allocator::Bump,
                moved,
                Layout::from_size_align(80, 8).unwrap(),
            );
        }
    }

    #[test]
    fn names_are_the_ones_this_build_has() {
        let names: Vec<&str> = available().map(|a| a.name()).collect();
        assert!(names.starts_with(&["system"]) && names.contains(&"bump"));
        assert_eq!(
            names.contains(&"jemalloc"),
            cfg!(feature = "jemalloc"),
            "{names:?}"
        );
    }
}
