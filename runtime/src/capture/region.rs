//! Where an address lives: the main thread's stack, a spawned thread's stack,
//! the brk heap, a block's own mapping, a non-main malloc arena, or the
//! program binary itself. memlab says `unknown` rather than guess.
//!
//! Heap blocks are classified at event time, while the block is alive, from
//! glibc's chunk header: the word before a block holds the chunk's size, with
//! bit 0x2 set for a chunk in its own mmap and 0x4 for a chunk of a non-main
//! arena. That header is only glibc's if glibc's malloc really serves this
//! process, so [`check_allocator`] verifies it once (with another allocator
//! preloaded, or under valgrind's memcheck, it does not, and every block is
//! `unknown`). Every read is cross-checked against `malloc_usable_size`.
//!
//! What the header proves, and so what each label means (glibc 2.36
//! malloc.c, "size field is or'ed with IS_MMAPPED if the chunk was obtained
//! with mmap()" and "with NON_MAIN_ARENA if the chunk was obtained from a
//! non-main arena"):
//! - 0x2: `mmap`, a chunk in a mapping of its own;
//! - 0x4: `arena`, a chunk of a non-main arena (memory glibc mapped for it);
//! - neither: a chunk of the main arena. That is the brk heap only while
//!   glibc extends the main arena with `brk`: it falls back to `mmap` when it
//!   cannot or is told not to (`glibc.malloc.hugetlb=2`), and under valgrind
//!   the heap is emulated. So the block is `heap` only if it also lies
//!   between the start of the brk heap (`start_brk`, read once from
//!   `/proc/self/stat`) and its current end (`sbrk(0)`, glibc's cached value:
//!   no allocation, no lock); otherwise `unknown`. That range is what the
//!   kernel labels `[heap]` in `/proc/self/maps`.
//!
//! Other addresses (what a `&str` points to, say) are classified after the run
//! from `/proc/self/maps`.

use std::ptr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crate::trace::Region;

const UNCHECKED: u8 = 0;
const GLIBC: u8 = 1;
const OTHER: u8 = 2;

/// Whether glibc's chunk headers can be read in this process.
static ALLOCATOR: AtomicU8 = AtomicU8::new(UNCHECKED);

/// Where the brk heap starts (`start_brk`); 0 when unknown, and then no
/// block is called `heap`.
static START_BRK: AtomicUsize = AtomicUsize::new(0);

/// Decides, once per process and outside the allocator, whether blocks come
/// from glibc's malloc, and where the brk heap starts. Call before recording
/// starts.
pub fn check_allocator() {
    if ALLOCATOR.load(Ordering::Relaxed) == UNCHECKED {
        let verdict = if glibc_serves_this_process() {
            START_BRK.store(start_brk().unwrap_or(0), Ordering::Relaxed);
            GLIBC
        } else {
            OTHER
        };
        ALLOCATOR.store(verdict, Ordering::Relaxed);
    }
}

/// Whether `check_allocator` found glibc's malloc serving this process: its
/// own functions (`malloc_usable_size`, `mallinfo2`) then describe the blocks.
pub fn glibc_allocator() -> bool {
    check_allocator();
    ALLOCATOR.load(Ordering::Relaxed) == GLIBC
}

/// Field 47 of `/proc/self/stat`, `start_brk`: "Address above which program
/// heap can be expanded with brk(2)" (proc(5)). The fields are counted after
/// the last `)`, since the program's name (field 2) may hold spaces.
fn start_brk() -> Option<usize> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_start_brk(&stat)
}

fn parse_start_brk(stat: &str) -> Option<usize> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // Fields 3, 4, … follow the name: field 47 is the 45th of them.
    after_name.split_whitespace().nth(44)?.parse().ok()
}

/// The label the chunk header and the brk range prove, if the header agrees
/// with `malloc_usable_size` (`usable`). `brk` is the brk heap `[start, end)`.
/// Pure, so that the rule can be tested without glibc.
#[cfg_attr(
    not(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64")),
    allow(dead_code)
)]
fn classify(header: usize, usable: usize, address: usize, brk: (usize, usize)) -> (Region, usize) {
    let chunk = header & !0x7;
    let (region, overhead) = if header & 0x2 != 0 {
        (Region::Mmap, 16)
    } else if header & 0x4 != 0 {
        (Region::Arena, 8)
    } else if brk.0 != 0 && (brk.0..brk.1).contains(&address) {
        (Region::Heap, 8)
    } else {
        // The main arena, outside the brk heap: memory glibc mapped instead.
        (Region::Unknown, 8)
    };
    // glibc's own rule for usable sizes: if the header does not agree with
    // it, this is not the header we think it is.
    if chunk.checked_sub(overhead) == Some(usable) {
        (region, usable)
    } else {
        (Region::Unknown, 0)
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
    // SAFETY: `sbrk(0)` only returns glibc's cached end of the brk heap (the
    // first call may ask the kernel with `brk(0)`); it allocates nothing and
    // takes no lock, so it may run inside the allocator.
    let brk_end = match unsafe { libc::sbrk(0) } as usize {
        usize::MAX => 0, // (void *) -1: no brk heap to speak of
        end => end,
    };
    let start = START_BRK.load(Ordering::Relaxed);
    classify(header, usable, block as usize, (start, brk_end))
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

/// The calling thread's id as the kernel numbers it (Linux); 0 elsewhere.
#[cfg(target_os = "linux")]
pub fn thread_id() -> u64 {
    // SAFETY: `gettid` only returns the id; it is async-signal-safe and
    // never allocates, so the allocator may call it.
    unsafe { libc::gettid() as u64 }
}

#[cfg(not(target_os = "linux"))]
pub fn thread_id() -> u64 {
    0
}

/// The calling thread's name as the kernel has it (at most 15 bytes and a
/// nul); all zeros where the platform has none. Never allocates.
#[cfg(target_os = "linux")]
pub fn thread_name() -> [u8; 16] {
    let mut name = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes (nul included) to the
    // buffer, which has 16; it is a syscall that allocates nothing.
    unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) };
    name
}

#[cfg(not(target_os = "linux"))]
pub fn thread_name() -> [u8; 16] {
    [0; 16]
}

/// The process's id: the kernel's id of its main thread (Linux).
pub fn process_id() -> u64 {
    u64::from(std::process::id())
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

/// Whether `bytes` of address space could be mapped now: a mapping with no
/// access and no memory behind it, unmapped at once, so it changes nothing
/// the allocator sees. `ulimit -v` (`RLIMIT_AS`) counts such a mapping as it
/// counts any other.
#[cfg(unix)]
pub fn address_space_for(bytes: u64) -> bool {
    let Ok(len) = usize::try_from(bytes) else {
        return false;
    };
    if len == 0 {
        return true;
    }
    // SAFETY: asks the kernel for a new private mapping anywhere, with no
    // access; nothing reads or writes it, and it is unmapped before return.
    unsafe {
        let at = libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        );
        if at == libc::MAP_FAILED {
            return false;
        }
        libc::munmap(at, len);
    }
    true
}

#[cfg(not(unix))]
pub fn address_space_for(_bytes: u64) -> bool {
    true
}

/// Whether this is Linux without a readable `/proc/self/maps` (`/proc` not
/// mounted): then the main thread's stack bounds, the mappings and the brk
/// heap are unknown, and so are source lines and regions (the symboliser
/// finds the program through `/proc/self/exe` too).
pub fn proc_missing() -> bool {
    cfg!(target_os = "linux") && std::fs::metadata("/proc/self/maps").is_err()
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
        let Ok(text) = std::fs::read_to_string("/proc/self/maps") else {
            return Maps::default();
        };
        // The program binary is the file mapped where memlab's own code is.
        // Not `/proc/self/exe`: launched as `ld.so memlab`, that names the
        // loader, and a binary rebuilt since it started reads `… (deleted)`.
        Maps::parse(&text, Maps::read as fn() -> Maps as usize)
    }

    /// Parses maps text; `code` is an address inside the program's own code.
    pub fn parse(text: &str, code: usize) -> Maps {
        let lines: Vec<(usize, usize, &str)> = text.lines().filter_map(maps_line).collect();
        let exe = lines
            .iter()
            .find(|(start, end, _)| (*start..*end).contains(&code))
            .map(|&(_, _, path)| path)
            .filter(|path| path.starts_with('/'));
        let ranges = lines
            .iter()
            .filter_map(|&(start, end, path)| {
                let region = match path {
                    "[heap]" => Region::Heap,
                    "[stack]" => Region::Stack,
                    p if Some(p) == exe => Region::Static,
                    _ => return None,
                };
                Some((start, end, region))
            })
            .collect();
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

/// The process's memory as the kernel sees it: what `brk` and `mmap` calls
/// change, so that reading it before and after some code shows whether that
/// code (or the allocator under it) asked the kernel for memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessMemory {
    /// Lines of `/proc/self/maps`: one per mapping.
    pub mappings: usize,
    /// Bytes of the `[heap]` mapping, the brk heap (0 without one).
    pub heap_bytes: usize,
    /// Bytes of all mappings together.
    pub mapped_bytes: usize,
}

/// Reads `/proc/self/maps` through a buffer on the stack: no allocation, so
/// reading it changes nothing it measures. `None` where it cannot be read.
pub fn process_memory() -> Option<ProcessMemory> {
    use std::io::Read;
    // A path this short is passed to `open` from a buffer on the stack.
    let mut file = std::fs::File::open("/proc/self/maps").ok()?;
    let mut counter = MapsCounter::default();
    let mut buffer = [0u8; 4096];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => buffer[..n].iter().for_each(|&b| counter.byte(b)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    counter.byte(b'\n');
    Some(counter.memory)
}

/// Sums `/proc/self/maps` a byte at a time: each line's range, and whether
/// it ends in `[heap]`.
#[derive(Default)]
struct MapsCounter {
    memory: ProcessMemory,
    /// 0: the start address, 1: the end address, 2: the rest of the line.
    field: u8,
    start: usize,
    end: usize,
    /// The last bytes of the line, to see `[heap]`.
    tail: [u8; 6],
    /// Whether the line has any byte yet.
    any: bool,
}

impl MapsCounter {
    fn byte(&mut self, b: u8) {
        if b == b'\n' {
            if self.any {
                let size = self.end.saturating_sub(self.start);
                self.memory.mappings += 1;
                self.memory.mapped_bytes += size;
                if &self.tail == b"[heap]" {
                    self.memory.heap_bytes += size;
                }
            }
            *self = MapsCounter {
                memory: self.memory,
                ..MapsCounter::default()
            };
            return;
        }
        self.any = true;
        self.tail.rotate_left(1);
        self.tail[5] = b;
        let digit = (b as char).to_digit(16).map(|d| d as usize);
        match (self.field, digit) {
            (0, Some(d)) => self.start = self.start.wrapping_mul(16) + d,
            (0, None) => self.field = 1,
            (1, Some(d)) => self.end = self.end.wrapping_mul(16) + d,
            (1, None) => self.field = 2,
            _ => {}
        }
    }
}

/// One line of `/proc/self/maps`: its range and its path, which is the rest
/// of the line after five fields (range, permissions, offset, device, inode)
/// and may hold spaces; empty for an anonymous mapping.
fn maps_line(line: &str) -> Option<(usize, usize, &str)> {
    let mut rest = line;
    let mut range = "";
    for i in 0..5 {
        rest = rest.trim_start_matches(' ');
        let end = rest.find(' ').unwrap_or(rest.len());
        if i == 0 {
            range = &rest[..end];
        }
        rest = &rest[end..];
    }
    let (start, end) = range.split_once('-')?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    Some((start, end, rest.trim_start_matches(' ')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_name_the_binary_heap_and_stack_and_nothing_else() {
        let text = "\
55d0c0000000-55d0c0010000 r--p 00000000 08:01 123                        /usr/bin/memlab
55d0c0010000-55d0c0050000 r-xp 00010000 08:01 123                        /usr/bin/memlab
55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
7f0000100000-7f0000200000 r--p 00000000 08:01 456                        /usr/lib/libc.so.6
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]";
        let maps = Maps::parse(text, 0x55d0c0010040);
        assert_eq!(maps.region(0x55d0c0000100), Region::Static);
        assert_eq!(maps.region(0x55d0c0010100), Region::Static);
        assert_eq!(maps.region(0x55d0c1000010), Region::Heap);
        assert_eq!(maps.region(0x7ffd00000100), Region::Stack);
        assert_eq!(maps.region(0x7f0000000100), Region::Unknown, "anonymous");
        assert_eq!(maps.region(0x7f0000100100), Region::Unknown, "a library");
        assert_eq!(maps.region(0x1000), Region::Unknown);
    }

    #[test]
    fn the_binary_is_found_by_its_code_whatever_its_path_says() {
        // A path with spaces, a binary deleted (rebuilt) since it started, and
        // a binary started by the loader (`/proc/self/exe` is then ld.so).
        for path in [
            "/work/dir with space/memlab",
            "/tmp/memlab (deleted)",
            "/usr/bin/memlab",
        ] {
            let text = format!(
                "5000-6000 r--p 00000000 08:01 7 {path}\n\
                 6000-9000 r-xp 00001000 08:01 7 {path}\n\
                 7f0000-7f1000 r-xp 00000000 08:01 9 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
            );
            let maps = Maps::parse(&text, 0x6100);
            assert_eq!(maps.region(0x5100), Region::Static, "{path}");
            assert_eq!(maps.region(0x7f0500), Region::Unknown, "{path}");
        }
        let maps = Maps::parse("5000-6000 r-xp 00000000 00:00 0\n", 0x5100);
        assert_eq!(maps.region(0x5100), Region::Unknown, "anonymous code");
    }

    #[test]
    fn the_main_arena_is_the_heap_only_inside_the_brk_range() {
        let brk = (0x1000_0000, 0x1002_1000);
        // A 32-byte chunk (24 usable) with PREV_INUSE set: main arena.
        assert_eq!(classify(0x21, 24, 0x1000_0010, brk), (Region::Heap, 24));
        // The same header outside the brk heap (glibc.malloc.hugetlb=2, or
        // valgrind's emulated heap): not provably the heap.
        assert_eq!(
            classify(0x21, 24, 0x7f00_0000_0010, brk),
            (Region::Unknown, 24)
        );
        assert_eq!(classify(0x21, 24, 0x1002_1000, brk), (Region::Unknown, 24));
        // No known brk heap at all.
        assert_eq!(
            classify(0x21, 24, 0x1000_0010, (0, 0)),
            (Region::Unknown, 24)
        );
        // Non-main arena and mmap bits, wherever the block is.
        assert_eq!(classify(0x25, 24, 0x1000_0010, brk), (Region::Arena, 24));
        assert_eq!(
            classify(0x1002, 4080, 0x1000_0010, brk),
            (Region::Mmap, 4080)
        );
        // A header that disagrees with malloc_usable_size proves nothing.
        assert_eq!(classify(0x31, 24, 0x1000_0010, brk), (Region::Unknown, 0));
    }

    #[test]
    fn start_brk_is_field_47_counted_after_the_name() {
        let mut fields: Vec<String> = (3..=52).map(|n| n.to_string()).collect();
        fields[47 - 3] = "94431522816000".into();
        let stat = format!("1234 (a (strange) name) {}", fields.join(" "));
        assert_eq!(parse_start_brk(&stat), Some(94431522816000));
        assert_eq!(parse_start_brk("1234 (short) R 1"), None);
        #[cfg(target_os = "linux")]
        assert!(start_brk().is_some_and(|b| b > 0));
    }

    #[test]
    fn process_memory_counts_mappings_and_the_heap() {
        let text = "\
55d0c0000000-55d0c0010000 r--p 00000000 08:01 123 /usr/bin/memlab
55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
";
        let mut counter = MapsCounter::default();
        text.bytes().for_each(|b| counter.byte(b));
        assert_eq!(
            counter.memory,
            ProcessMemory {
                mappings: 3,
                heap_bytes: 0x21000,
                mapped_bytes: 0x10000 + 0x21000 + 0x100000,
            }
        );
        #[cfg(target_os = "linux")]
        {
            // Reading it allocates nothing, so it cannot change what it reads.
            let options = crate::capture::Options::default();
            let recording = crate::capture::recorder::record(options, process_memory);
            assert_eq!(recording.events().len(), 0, "process_memory allocated");
            let now = recording.outcome.clone().unwrap().unwrap();
            assert!(now.mappings > 3 && now.mapped_bytes > now.heap_bytes);
        }
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
