//! Where an address lives: the main thread's stack, a spawned thread's stack,
//! the brk heap, a block's own mapping, a thread's malloc arena, or the program
//! binary itself. memlab says `unknown` rather than guess.
//!
//! Heap blocks are classified at event time, while the block is alive, from
//! glibc's chunk header: the word before a block holds the chunk's size, with
//! bit 0x2 set for a chunk in its own mmap and 0x4 for a chunk of a non-main
//! arena. That header is only glibc's if glibc's malloc really serves this
//! process, so [`check_allocator`] verifies it once (under valgrind or with
//! another allocator preloaded it does not, and every block is `unknown`).
//! Every read is cross-checked against `malloc_usable_size`.
//!
//! Other addresses (what a `&str` points to, say) are classified after the run
//! from `/proc/self/maps`.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::trace::Region;

const UNCHECKED: u8 = 0;
const GLIBC: u8 = 1;
const OTHER: u8 = 2;

/// Whether glibc's chunk headers can be read in this process.
static ALLOCATOR: AtomicU8 = AtomicU8::new(UNCHECKED);

/// Decides, once per process and outside the allocator, whether blocks come
/// from glibc's malloc. Call before recording starts.
pub fn check_allocator() {
    if ALLOCATOR.load(Ordering::Relaxed) == UNCHECKED {
        let verdict = if glibc_serves_this_process() {
            GLIBC
        } else {
            OTHER
        };
        ALLOCATOR.store(verdict, Ordering::Relaxed);
    }
}

/// The region and usable size (0 if unknown) of a live heap block. Called
/// inside the allocator: it never allocates, locks or prints.
#[inline]
pub fn of_block(block: *mut u8) -> (Region, usize) {
    if ALLOCATOR.load(Ordering::Relaxed) != GLIBC || block.is_null() {
        return (Region::Unknown, 0);
    }
    glibc_block(block)
}

#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
fn glibc_serves_this_process() -> bool {
    use std::alloc::{GlobalAlloc, Layout, System};
    let layout = Layout::new::<u64>();
    // SAFETY: a non-zero-sized layout; the block is freed below with it.
    let block = unsafe { System.alloc(layout) };
    if block.is_null() {
        return false;
    }
    // SAFETY: `block` came from `malloc` and is not freed yet.
    let usable = unsafe { libc::malloc_usable_size(block.cast()) };
    // glibc's smallest chunk is 32 bytes, 24 of them usable; it may also hand
    // out a larger free chunk. Other allocators (and valgrind, which would
    // flag the read) report the 8 bytes asked for, so the header is only read
    // when at least 24 are usable, and must then agree with glibc's own rule.
    let glibc = usable >= 24 && {
        // SAFETY: the block has at least 24 usable bytes, which no allocator
        // but glibc's reports for an 8-byte request; glibc keeps the chunk's
        // size field in the 8 bytes before the block, inside the chunk.
        let header = unsafe { std::ptr::read_volatile(block.cast::<usize>().sub(1)) };
        let chunk = header & !0x7;
        header & 0x2 == 0 && chunk % 16 == 0 && chunk.checked_sub(8) == Some(usable)
    };
    // SAFETY: allocated above with this layout.
    unsafe { System.dealloc(block, layout) };
    glibc
}

#[cfg(not(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64")))]
fn glibc_serves_this_process() -> bool {
    false
}

#[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
#[inline]
fn glibc_block(block: *mut u8) -> (Region, usize) {
    // SAFETY: `check_allocator` found glibc's malloc serving this process, and
    // `block` is a live block it returned: `malloc_usable_size` accepts it.
    let usable = unsafe { libc::malloc_usable_size(block.cast()) };
    // SAFETY: glibc stores every live chunk's size field in the 8 bytes before
    // the block it hands out (also for posix_memalign blocks), inside the chunk.
    let header = unsafe { std::ptr::read_volatile(block.cast::<usize>().sub(1)) };
    let chunk = header & !0x7;
    let (region, overhead) = if header & 0x2 != 0 {
        (Region::Mmap, 16)
    } else if header & 0x4 != 0 {
        (Region::Arena, 8)
    } else {
        (Region::Heap, 8)
    };
    // glibc's own rule for usable sizes: if the header does not agree with
    // it, this is not the header we think it is.
    if chunk.checked_sub(overhead) == Some(usable) {
        (region, usable)
    } else {
        (Region::Unknown, 0)
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64")))]
#[inline]
fn glibc_block(_block: *mut u8) -> (Region, usize) {
    (Region::Unknown, 0)
}

/// This thread's stack as `[low, high)`, if the platform says.
#[cfg(target_os = "linux")]
pub fn thread_stack() -> Option<(usize, usize)> {
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before use and
    // destroyed once; `pthread_attr_getstack` only writes the two out-values.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let mut base: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let found = libc::pthread_attr_getstack(&attr, &mut base, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        found.then(|| (base as usize, base as usize + size))
    }
}

#[cfg(not(target_os = "linux"))]
pub fn thread_stack() -> Option<(usize, usize)> {
    None
}

/// Whether the calling thread is the process's main thread.
#[cfg(target_os = "linux")]
pub fn is_main_thread() -> bool {
    // SAFETY: both calls only return ids.
    unsafe { libc::getpid() == libc::gettid() }
}

#[cfg(not(target_os = "linux"))]
pub fn is_main_thread() -> bool {
    false
}

/// The region of a stack address, given the stack it should be on.
pub fn of_stack_address(address: usize, stack: Option<(usize, usize)>, main: bool) -> Region {
    match stack {
        Some((low, high)) if (low..high).contains(&address) => {
            if main {
                Region::Stack
            } else {
                Region::ThreadStack
            }
        }
        _ => Region::Unknown,
    }
}

/// The process's mappings, read once after a run to classify addresses that
/// are not heap blocks of the trace.
#[derive(Clone, Debug, Default)]
pub struct Maps {
    /// (start, end, region) for the mappings memlab can name.
    ranges: Vec<(usize, usize, Region)>,
}

impl Maps {
    /// Reads `/proc/self/maps`; empty (everything unknown) elsewhere.
    pub fn read() -> Maps {
        let (Ok(text), Ok(exe)) = (
            std::fs::read_to_string("/proc/self/maps"),
            std::fs::read_link("/proc/self/exe"),
        ) else {
            return Maps::default();
        };
        Maps::parse(&text, &exe.to_string_lossy())
    }

    /// Parses maps text; `exe` is the program's path.
    pub fn parse(text: &str, exe: &str) -> Maps {
        let mut ranges = vec![];
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let Some((start, end)) = fields.next().and_then(|r| r.split_once('-')) else {
                continue;
            };
            let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) else {
                continue;
            };
            let path = fields.nth(4).unwrap_or("");
            let region = match path {
                "[heap]" => Region::Heap,
                "[stack]" => Region::Stack,
                p if !p.is_empty() && p == exe => Region::Static,
                _ => continue,
            };
            ranges.push((start, end, region));
        }
        Maps { ranges }
    }

    /// The region holding `address`, as far as the mappings tell.
    pub fn region(&self, address: usize) -> Region {
        self.ranges
            .iter()
            .find(|(start, end, _)| (*start..*end).contains(&address))
            .map_or(Region::Unknown, |&(_, _, region)| region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_name_the_binary_heap_and_stack_and_nothing_else() {
        let text = "\
55d0c0000000-55d0c0010000 r--p 00000000 08:01 123 /usr/bin/memlab
55d0c0010000-55d0c0050000 r-xp 00010000 08:01 123 /usr/bin/memlab
55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
7f0000100000-7f0000200000 r--p 00000000 08:01 456 /usr/lib/libc.so.6
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]";
        let maps = Maps::parse(text, "/usr/bin/memlab");
        assert_eq!(maps.region(0x55d0c0010100), Region::Static);
        assert_eq!(maps.region(0x55d0c1000010), Region::Heap);
        assert_eq!(maps.region(0x7ffd00000100), Region::Stack);
        assert_eq!(maps.region(0x7f0000000100), Region::Unknown, "anonymous");
        assert_eq!(maps.region(0x7f0000100100), Region::Unknown, "a library");
        assert_eq!(maps.region(0x1000), Region::Unknown);
    }

    #[test]
    fn stack_addresses_are_named_by_the_thread_they_belong_to() {
        let stack = Some((0x1000, 0x2000));
        assert_eq!(of_stack_address(0x1800, stack, true), Region::Stack);
        assert_eq!(of_stack_address(0x1800, stack, false), Region::ThreadStack);
        assert_eq!(of_stack_address(0x2000, stack, true), Region::Unknown);
        assert_eq!(of_stack_address(0x1800, None, true), Region::Unknown);
    }

    #[test]
    fn this_test_thread_is_not_main_and_its_locals_are_on_its_stack() {
        let local = 7u64;
        let address = &local as *const u64 as usize;
        let region = of_stack_address(address, thread_stack(), is_main_thread());
        assert_eq!(
            region,
            Region::ThreadStack,
            "cargo test runs tests on spawned threads"
        );
    }
}
