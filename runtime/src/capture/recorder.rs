//! The recording global allocator.
//!
//! [`Recorder`] forwards every `GlobalAlloc` method to [`System`], or to the
//! allocator `MEMLAB_ALLOCATOR` chose for the process (`backend`), `realloc`
//! included so in-place growth stays visible, and, when the calling thread is
//! inside [`record`], appends one [`RawEvent`] per call to that thread's buffer.
//!
//! ```text
//!   thread state        record() starts             record() ends (or f panics)
//!   ------------        ---------------             ---------------------------
//!   idle  ──────────▶  buffers = &pool buffer  ──▶  buffers = null, buffer back
//!   (buffers = null)    RECORDING_THREADS += 1       in the pool, RECORDING_THREADS -= 1
//!
//!   inside the allocator, while recording:
//!     busy == false  → busy = true, capture frames, append event, busy = false
//!     busy == true   → re-entered (or paused by a probe): forward only
//! ```
//!
//! Rules that keep the allocator path safe (each one a crash a prototype hit):
//! - it never allocates, locks or prints: buffers are allocated before recording
//!   starts and only written below their capacity;
//! - thread-local state is `const`-initialised plain `Cell`s with no destructor,
//!   read with `try_with`, so it works during thread start-up and exit;
//! - recording is per thread, so parallel tests never see each other's events;
//!   one relaxed atomic load is the whole cost when no thread is recording;
//! - event buffers are pooled and never freed: freeing a large block would raise
//!   glibc's dynamic mmap threshold and change where later big blocks land.
//!
//! Only the calling thread is recorded. A thread the closure spawns is not,
//! but `spawn`'s own bookkeeping on the calling thread is, and some of those
//! blocks are freed by the other thread, so they look live at the end.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use super::backend;
use super::{Lines, Options};
use crate::trace::{Allocator, Kind, Region, Shortage};

/// memlab's global allocator: `System` (or the process's chosen allocator)
/// plus per-thread recording.
pub struct Recorder;

/// Most frames kept per event: enough to reach the scenario from the allocator
/// in a debug build, where nothing is inlined.
const MAX_FRAMES: usize = 48;
/// Distinct call chains a recording can keep (events with a new chain beyond
/// this get no source line, and are counted).
const MAX_CHAINS: usize = 1 << 14;
/// Frame addresses stored across all distinct chains of one recording: room
/// for every chain at a typical depth of 32 frames.
const MAX_CHAIN_FRAMES: usize = MAX_CHAINS * 32;
/// Marks an event whose call chain was not captured.
const NO_CHAIN: u16 = u16::MAX;
const _: () = assert!(MAX_CHAINS < NO_CHAIN as usize, "chain ids fit in 16 bits");

/// Numbers shared by all threads, so that events recorded on several threads
/// merge into one order. Only threads that run alongside others in one trace
/// take a number per event (a locked add: a full fence, 15-45 ns in the
/// allocator); a thread recording alone takes one only when that changes.
static SEQ: AtomicU64 = AtomicU64::new(1);

/// Threads currently inside [`record`], plus [`ENDS_ON_FAILURE`] once set and
/// [`NOT_SYSTEM`] unless the process's allocator is `System`; zero means the
/// allocator only forwards to `System` (and passes a null on unchecked).
static RECORDING_THREADS: AtomicUsize = AtomicUsize::new(NOT_SYSTEM);
/// The top bit of [`RECORDING_THREADS`]: a failed request ends the process
/// (see [`end_on_allocation_failure`]). Kept in the same word so the idle
/// path stays one load, a test and a jump: only a program that sets it has
/// every call take the checked path.
const ENDS_ON_FAILURE: usize = 1 << (usize::BITS - 1);
/// The next bit of [`RECORDING_THREADS`]: the process's allocator is not
/// (or not yet known to be) `System`, so every call takes the out-of-line
/// path, which dispatches on [`backend::current`]. Set from the start and
/// cleared at the first call if `System` is chosen: "`System` and nobody
/// recording" stays the one fast path, one load and a test.
const NOT_SYSTEM: usize = 1 << (usize::BITS - 2);

/// Told by [`backend`] once it has chosen this process's allocator.
pub(super) fn backend_chosen(chosen: Allocator) {
    if chosen == Allocator::System {
        RECORDING_THREADS.fetch_and(!NOT_SYSTEM, Ordering::Relaxed);
    }
}

/// Whether the bump arena serves a request made now: this thread records
/// and is not inside memlab's own bookkeeping (a probe, the recorder).
#[inline(always)]
fn recording_here() -> bool {
    STATE
        .try_with(|state| !state.buffers.get().is_null() && !state.busy.get())
        .unwrap_or(false)
}

/// Recording buffers not in use. Only touched outside the allocator path.
/// Boxed so a buffer keeps its address while the allocator writes through it.
#[allow(clippy::vec_box)]
static POOL: Mutex<Vec<Box<Buffers>>> = Mutex::new(Vec::new());

/// One allocator call as seen inside the allocator: plain data, no source line
/// yet (see [`Recording::chain`]).
///
/// 48 bytes, not 64, because a long recording's cost is partly the memory it
/// writes (BENCHMARKS.md): the kind and the alignment share a byte, the usable
/// size is kept as its excess over the requested size, the chain id is 16 bits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RawEvent {
    /// Where the event falls among all threads' events: events with smaller
    /// keys happened before. A thread recording alone gives all its events the
    /// same key (its epoch); their order is their order in the recording.
    pub seq: u64,
    /// The block's address (for realloc: the new address).
    pub address: usize,
    /// Requested size in bytes (for realloc: the new size).
    pub size: usize,
    /// For realloc: the block's address before the call; otherwise 0.
    pub old_address: usize,
    /// For realloc: the block's size before the call; otherwise 0.
    pub old_size: usize,
    /// `usable - size`, or `UNKNOWN_USABLE` (see [`RawEvent::usable`]).
    usable_extra: u32,
    chain: u16,
    /// The kind in bits 0-1, log2 of the alignment in bits 2-7.
    kind_align: u8,
    /// Where the block is, read while it is alive (see `region`).
    pub region: Region,
}

/// `usable_extra` of an event whose usable size is unknown.
const UNKNOWN_USABLE: u32 = u32::MAX;

impl RawEvent {
    /// Which allocator method produced the event.
    pub fn kind(&self) -> Kind {
        match self.kind_align & 0b11 {
            0 => Kind::Alloc,
            1 => Kind::AllocZeroed,
            2 => Kind::Realloc,
            _ => Kind::Dealloc,
        }
    }

    /// The requested alignment in bytes.
    pub fn align(&self) -> usize {
        1 << (self.kind_align >> 2)
    }

    /// What the allocator really reserved for the block; 0 when unknown.
    pub fn usable(&self) -> usize {
        match self.usable_extra {
            UNKNOWN_USABLE => 0,
            extra => self.size + extra as usize,
        }
    }
}

/// Packs a kind and an alignment (a power of two, so its log2 is below 64).
fn kind_align(kind: Kind, align: usize) -> u8 {
    kind as u8 | (align.trailing_zeros() as u8) << 2
}

/// `usable - size` as stored in an event; `UNKNOWN_USABLE` when the usable
/// size is unknown (0), smaller than the size, or more than 4 GiB above it.
fn usable_extra(usable: usize, size: usize) -> u32 {
    // An unknown usable size (0) wraps around to a huge excess.
    let extra = usable.wrapping_sub(size);
    if extra < UNKNOWN_USABLE as usize {
        extra as u32
    } else {
        UNKNOWN_USABLE
    }
}

impl std::fmt::Debug for RawEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEvent")
            .field("seq", &self.seq)
            .field("kind", &self.kind())
            .field("address", &self.address)
            .field("size", &self.size)
            .field("align", &self.align())
            .field("old_address", &self.old_address)
            .field("old_size", &self.old_size)
            .field("region", &self.region)
            .field("usable", &self.usable())
            .finish()
    }
}

/// Per-thread recording state: plain `Cell`s, `const`-initialised, no destructor.
struct ThreadState {
    /// The active recording's buffers; null when this thread is not recording.
    buffers: Cell<*mut Buffers>,
    /// Set while the allocator records (re-entry guard) and while paused.
    busy: Cell<bool>,
    /// Whether each event takes a number from `SEQ` (see [`order_globally`]).
    ordered: Cell<bool>,
    /// The key of this thread's events while not `ordered`.
    epoch: Cell<u64>,
    /// This thread's stack `[low, high)`; (0, 0) until looked up.
    stack_low: Cell<usize>,
    stack_high: Cell<usize>,
    /// Never adopts a recording (see [`record_every_thread`]): memlab's own
    /// threads in a traced program.
    excluded: Cell<bool>,
    /// Inside [`fallibly`]: a failed request returns null to its caller
    /// even when [`end_on_allocation_failure`] is on.
    fallible: Cell<bool>,
}

thread_local! {
    static STATE: ThreadState = const {
        ThreadState {
            buffers: Cell::new(ptr::null_mut()),
            busy: Cell::new(false),
            ordered: Cell::new(false),
            epoch: Cell::new(0),
            stack_low: Cell::new(0),
            stack_high: Cell::new(0),
            excluded: Cell::new(false),
            fallible: Cell::new(false),
        }
    };
}

// Allocation failure ----------------------------------------------------------
//
// A request `System` cannot serve returns null. A caller that asked fallibly
// (`try_reserve`) handles it; every other caller goes to
// `handle_alloc_error`, whose default on stable Rust prints its own lines
// (and a backtrace under `RUST_BACKTRACE`) and aborts, and stable Rust has no
// hook for it. A program that turns `end_on_allocation_failure` on (the
// memlab CLI) ends instead at the first null, with one line and exit 1
// (every call then takes the checked path, as while a thread records):
// written with write(2), ended with _exit(2), no allocation, no lock. Its own
// fallible requests (the recorder's buffers) run in `fallibly` and still see
// the null. Another fallible caller in that program (`std::io::Read::read_to_end`
// growing its buffer) ends the process too, where it would have returned an
// error that the CLI would have turned into one line and exit 1 anyway.

/// From now on, an allocation that fails outside [`fallibly`] ends the
/// process with one line on stderr and exit status 1, instead of Rust's
/// abort with a backtrace. For a program that recovers from no allocation
/// failure (the memlab CLI); `try_reserve` elsewhere in it ends it too.
/// Off by default, so a program that links memlab's library keeps Rust's own
/// behaviour.
pub fn end_on_allocation_failure() {
    RECORDING_THREADS.fetch_or(ENDS_ON_FAILURE, Ordering::Relaxed);
}

/// Runs `f`, whose failed allocations return null to it as usual even when
/// [`end_on_allocation_failure`] is on: for requests it handles itself.
pub fn fallibly<R>(f: impl FnOnce() -> R) -> R {
    let previous = STATE.try_with(|state| state.fallible.replace(true)).ok();
    struct Restore(Option<bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0 {
                let _ = STATE.try_with(|state| state.fallible.set(previous));
            }
        }
    }
    let _restore = Restore(previous);
    f()
}

/// A request `System` could not serve: null for its caller, or the end of
/// the process (see above). Runs inside the allocator: no allocation, no lock.
#[cold]
#[inline(never)]
fn failed(size: usize) -> *mut u8 {
    let fallible = STATE
        .try_with(|state| state.fallible.get())
        .unwrap_or(false);
    if RECORDING_THREADS.load(Ordering::Relaxed) & ENDS_ON_FAILURE != 0 && !fallible {
        // Only a recording thread's request reaches the bump arena.
        let arena = backend::current() == Allocator::Bump && recording_here();
        out_of_memory(size, arena);
    }
    ptr::null_mut()
}

/// Writes one line naming the failed request's size (and, for `arena`, that
/// the bump allocator's arena is full) and ends the process with status 1,
/// allocating nothing.
fn out_of_memory(size: usize, arena: bool) -> ! {
    let mut line = [0u8; 192];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        let k = bytes.len().min(line.len() - n);
        line[n..n + k].copy_from_slice(&bytes[..k]);
        n += k;
    };
    put(b"error: out of memory: a request for ");
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut rest = size;
    loop {
        i -= 1;
        digits[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    put(&digits[i..]);
    if arena {
        put(b" bytes failed: the bump allocator's 1 MiB arena is full (it frees nothing)\n");
    } else {
        put(b" bytes failed; free some memory or raise the limit (ulimit -v)\n");
    }
    #[cfg(unix)]
    // SAFETY: write(2) reads `n` initialised bytes of `line`; _exit(2) ends
    // the process at once. Both are async-signal-safe and allocate nothing.
    unsafe {
        libc::write(libc::STDERR_FILENO, line.as_ptr().cast(), n);
        libc::_exit(1)
    }
    #[cfg(not(unix))]
    std::process::abort()
}

/// Storage for one recording, allocated before it starts and reused after.
struct Buffers {
    events: Vec<RawEvent>,
    /// Events kept at most in this recording (≤ `events.capacity()`).
    limit: usize,
    lost: u64,
    lines: Lines,
    /// This thread's stack, as far as frame walks may read it: from its lowest
    /// address (0 if unknown: no walks) up to just below `record`'s locals.
    stack_low: usize,
    stack_top: usize,
    /// Distinct call chains, as (start, len) into `frames`.
    chains: Vec<(u32, u32)>,
    frames: Vec<usize>,
    /// Open-addressing index over `chains`: chain id + 1, 0 for an empty slot.
    slots: Vec<u16>,
    /// Events whose chain did not fit in `chains`/`frames`.
    unattributed: u64,
    /// Its entry in [`LIVE`] while it records, or `NOT_LIVE`.
    live: usize,
    /// A recording a thread adopted (see [`adopt`]).
    adopted: bool,
}

impl Buffers {
    /// Room for `capacity` events and their call chains, or `None` when the
    /// memory is not there. Allocates fallibly (`try_reserve_exact`), outside
    /// the allocator path, before any recording uses it; a chain table no
    /// larger than the events could fill.
    fn try_new(capacity: usize) -> Option<Box<Buffers>> {
        let (chains, frames, slots) = Buffers::chain_room(capacity);
        let mut buffers = Box::new(Buffers {
            events: Vec::new(),
            limit: capacity,
            lost: 0,
            lines: Lines::Off,
            stack_low: 0,
            stack_top: 0,
            chains: Vec::new(),
            frames: Vec::new(),
            slots: Vec::new(),
            unattributed: 0,
            live: NOT_LIVE,
            adopted: false,
        });
        let reserved = fallibly(|| {
            buffers.events.try_reserve_exact(capacity).is_ok()
                && buffers.chains.try_reserve_exact(chains).is_ok()
                && buffers.frames.try_reserve_exact(frames).is_ok()
                && buffers.slots.try_reserve_exact(slots).is_ok()
        });
        if !reserved {
            return None;
        }
        buffers.slots.resize(slots, 0);
        Some(buffers)
    }

    /// No room at all, allocating nothing but the `Box`: every event is lost
    /// (`limit` is 0, so no chain is ever interned either).
    fn empty() -> Buffers {
        Buffers {
            events: Vec::new(),
            limit: 0,
            lost: 0,
            lines: Lines::Off,
            stack_low: 0,
            stack_top: 0,
            chains: Vec::new(),
            frames: Vec::new(),
            slots: Vec::new(),
            unattributed: 0,
            live: NOT_LIVE,
            adopted: false,
        }
    }

    /// Chains, chain frames and index slots for a recording of `capacity`
    /// events: each event has at most one new chain.
    fn chain_room(capacity: usize) -> (usize, usize, usize) {
        let chains = capacity.min(MAX_CHAINS);
        let frames = capacity.saturating_mul(MAX_FRAMES).min(MAX_CHAIN_FRAMES);
        // Kept at most half full, a power of two for the mask.
        let slots = (2 * chains).next_power_of_two();
        (chains, frames, slots)
    }

    /// The bytes [`Buffers::try_new`] reserves for `capacity` events.
    pub(crate) fn bytes_for(capacity: usize) -> u64 {
        let (chains, frames, slots) = Buffers::chain_room(capacity);
        let size = |n: usize, each: usize| n as u64 * each as u64;
        size(capacity, std::mem::size_of::<RawEvent>())
            + size(chains, std::mem::size_of::<(u32, u32)>())
            + size(frames, std::mem::size_of::<usize>())
            + size(slots, std::mem::size_of::<u16>())
    }

    fn reset(&mut self, options: Options, stack_top: usize, stack_low: usize) {
        self.events.clear();
        self.limit = options.capacity.min(self.events.capacity());
        self.lost = 0;
        self.lines = options.lines;
        self.stack_top = stack_top;
        self.stack_low = stack_low;
        self.chains.clear();
        self.frames.clear();
        self.slots.fill(0);
        self.unattributed = 0;
        self.live = NOT_LIVE;
        self.adopted = false;
    }

    /// Returns the id of `frames` in the chain table, adding it if new.
    /// Never allocates: when the table is full the event goes unattributed.
    fn intern(&mut self, chain: &[usize]) -> u16 {
        let mask = self.slots.len() - 1;
        let mut slot = hash(chain) as usize & mask;
        loop {
            match self.slots[slot] {
                0 => {
                    // Keep the index at most half full so probing stays short.
                    // Within the room reserved: the pushes never allocate.
                    let full = self.chains.len() >= self.chains.capacity().min(MAX_CHAINS)
                        || self.frames.len() + chain.len() > self.frames.capacity();
                    if full {
                        self.unattributed += 1;
                        return NO_CHAIN;
                    }
                    let id = self.chains.len() as u16;
                    self.chains
                        .push((self.frames.len() as u32, chain.len() as u32));
                    self.frames.extend_from_slice(chain);
                    self.slots[slot] = id + 1;
                    return id;
                }
                taken => {
                    let id = taken - 1;
                    if self.chain(id) == Some(chain) {
                        return id;
                    }
                    slot = (slot + 1) & mask;
                }
            }
        }
    }

    fn chain(&self, id: u16) -> Option<&[usize]> {
        let &(start, len) = self.chains.get(id as usize)?;
        self.frames.get(start as usize..(start + len) as usize)
    }
}

/// FxHash-style mixing of a chain of return addresses.
fn hash(chain: &[usize]) -> u64 {
    chain.iter().fold(chain.len() as u64, |h, &ip| {
        (h.rotate_left(5) ^ ip as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
    })
}

/// The events one thread made while [`record`] ran its closure.
pub struct Recording<R> {
    /// The closure's result, or its panic message.
    pub outcome: Result<R, String>,
    buffers: Option<Box<Buffers>>,
    /// The room asked for that memory could not give; the recording kept
    /// the events that fit in what it could have.
    pub shortage: Option<Shortage>,
}

impl<R> Recording<R> {
    pub fn events(&self) -> &[RawEvent] {
        self.buffers.as_ref().map_or(&[], |b| &b.events)
    }

    /// Events that did not fit in the recording's capacity.
    pub fn lost(&self) -> u64 {
        self.buffers.as_ref().map_or(0, |b| b.lost)
    }

    /// Events whose call chain did not fit in the chain table (no source line).
    pub fn unattributed(&self) -> u64 {
        self.buffers.as_ref().map_or(0, |b| b.unattributed)
    }

    /// The return addresses (innermost first) captured for `event`, if any.
    pub fn chain(&self, event: &RawEvent) -> Option<&[usize]> {
        self.buffers.as_ref()?.chain(event.chain)
    }
}

impl<R> Drop for Recording<R> {
    fn drop(&mut self) {
        if let Some(buffers) = self.buffers.take() {
            POOL.lock().unwrap_or_else(|e| e.into_inner()).push(buffers);
        }
    }
}

/// Runs `f` and records every heap event this thread makes while it runs.
///
/// Events of other threads are never recorded. A panic in `f` ends the
/// recording cleanly and is returned as `Err(message)` in
/// [`Recording::outcome`].
///
/// # Panics
/// If called while this thread is already recording: recordings do not nest.
pub fn record<R>(options: Options, f: impl FnOnce() -> R) -> Recording<R> {
    let already = STATE
        .try_with(|state| !state.buffers.get().is_null())
        .unwrap_or(false);
    assert!(!already, "memlab recordings do not nest");

    pause_panic_hooks();
    super::region::check_allocator();
    let (mut buffers, shortage) = match take_buffers(options.capacity) {
        Ok(buffers) => (buffers, None),
        Err((buffers, shortage)) => (buffers, Some(shortage)),
    };
    // Frame walks stay between the allocator's frame and this address:
    // `record`'s own locals sit above every frame `f` and the allocator run in.
    let marker = 0u8;
    let stack_top = std::hint::black_box(&marker) as *const u8 as usize;
    let stack_low = thread_stack().map_or(0, |(low, _)| low);
    buffers.reset(options, stack_top, stack_low);
    let raw = Box::into_raw(buffers);
    // SAFETY: `raw` is the buffers just made, not yet shared with anything.
    unsafe { register(raw) };
    // A recording alone starts in epoch 0: before anything a child records.
    let _ = STATE.try_with(|state| {
        if !state.ordered.get() {
            state.epoch.set(0);
        }
    });

    let result = {
        let _active = Active::start(raw);
        panic::catch_unwind(AssertUnwindSafe(f))
    };
    // SAFETY: `raw` came from `Box::into_raw` above and nothing between the
    // two calls can unwind (`catch_unwind` catches `f`'s panics); `Active` has
    // been dropped, so this thread's allocator no longer writes through it,
    // and `unregister` waits until no snapshot reads it.
    let buffers = unsafe {
        unregister(raw);
        Box::from_raw(raw)
    };
    // Only now, with recording stopped, read and drop a panic's payload.
    let outcome = result.map_err(|payload| {
        let message = panic_message(&*payload);
        // A payload whose own `Drop` panics must not take the caller down.
        if let Err(again) = panic::catch_unwind(AssertUnwindSafe(|| drop(payload))) {
            std::mem::forget(again);
        }
        message
    });
    Recording {
        outcome,
        buffers: Some(buffers),
        shortage,
    }
}

/// Wraps the process's panic hook, once, so that it runs with recording
/// paused: the hook's message formatting and printing are memlab's business,
/// not the scenario's. The wrapped hook still runs unchanged.
fn pause_panic_hooks() {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| paused(|| hook(info))));
    });
}

/// This thread's stack as `[low, high)`, looked up once per thread and then
/// cached. The lookup may allocate (for the main thread glibc reads
/// `/proc/self/maps`), so `record` does it before recording starts; during a
/// recording this only reads the cache.
pub fn thread_stack() -> Option<(usize, usize)> {
    let cached = STATE
        .try_with(|state| (state.stack_low.get(), state.stack_high.get()))
        .unwrap_or((0, 0));
    if cached.1 != 0 {
        return Some(cached);
    }
    let found = super::region::thread_stack()?;
    let _ = STATE.try_with(|state| {
        state.stack_low.set(found.0);
        state.stack_high.set(found.1);
    });
    Some(found)
}

/// Runs `f` with recording paused on this thread: its heap events are not
/// recorded. Probes use it so their bookkeeping never shows up in a trace.
pub fn paused<R>(f: impl FnOnce() -> R) -> R {
    let previous = STATE.try_with(|state| state.busy.replace(true)).ok();
    struct Restore(Option<bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0 {
                let _ = STATE.try_with(|state| state.busy.set(previous));
            }
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Turns per-event global numbering on or off for this thread: on while it
/// records alongside other threads of the same trace, off when alone. Each
/// switch starts a new epoch, so events after it sort after everything any
/// thread recorded before it. Call outside the allocator (Scene does).
pub fn order_globally(on: bool) {
    // Reserves two numbers and keeps the second: greater than every number
    // handed out or seen by `probe_mark` before, smaller than any after.
    let mark = SEQ.fetch_add(2, Ordering::Relaxed) + 1;
    let _ = STATE.try_with(|state| {
        state.ordered.set(on);
        state.epoch.set(mark);
    });
}

/// Whether this thread is inside [`record`] (also while paused).
pub fn is_recording() -> bool {
    STATE
        .try_with(|state| !state.buffers.get().is_null())
        .unwrap_or(false)
}

/// Where a probe taken now falls among the events: `(key, n)` means after
/// every event with a smaller key and after this thread's first `n` events.
pub fn probe_mark() -> (u64, usize) {
    let ordered = STATE.try_with(|state| state.ordered.get()).unwrap_or(false);
    let key = if ordered {
        // A number of its own: events of other threads with smaller numbers
        // came before the probe, those with larger ones after.
        SEQ.fetch_add(1, Ordering::Relaxed)
    } else {
        STATE.try_with(|state| state.epoch.get()).unwrap_or(0)
    };
    (key, events_so_far())
}

/// How many events this thread's recording holds so far (0 when not recording).
pub fn events_so_far() -> usize {
    paused(|| {
        STATE
            .try_with(|state| {
                let buffers = state.buffers.get();
                if buffers.is_null() {
                    0
                } else {
                    // SAFETY: non-null only while this thread is recording; the
                    // allocator writes through it only when `busy` is false, and
                    // `paused` holds it true, so nothing aliases this read.
                    unsafe { (*buffers).events.len() }
                }
            })
            .unwrap_or(0)
    })
}

// Live recordings ------------------------------------------------------------
//
// Another thread may read a recording while it runs: a traced program's
// watchdog at its time-out, and a program's end, which reads the threads it
// never joined. Each running recording has an entry in `LIVE`, and after
// every event it publishes how many it has written (a release store: on
// x86-64 an ordinary `mov`). A reader copies only what was published, and
// only through the raw pointers the entry holds, never through the `Vec`s the
// recording thread writes. A recording that ends waits until no reader is
// inside its entry before its buffers go back to the pool.

/// Recordings that can be read at once; more still record, unregistered.
const MAX_LIVE: usize = 64;
/// `Buffers::live` of a recording with no entry.
const NOT_LIVE: usize = usize::MAX;
/// An entry being filled in: readers skip it.
const RESERVED: *mut Buffers = ptr::dangling_mut::<Buffers>();

static LIVE: [Live; MAX_LIVE] = [const { Live::free() }; MAX_LIVE];

struct Live {
    /// The recording's buffers, null when free, `RESERVED` while registering.
    buffers: AtomicPtr<Buffers>,
    /// The buffers' storage, set before `buffers` is.
    events: AtomicPtr<RawEvent>,
    chains: AtomicPtr<(u32, u32)>,
    frames: AtomicPtr<usize>,
    /// Events written so far, and events lost.
    published: AtomicUsize,
    lost: AtomicU64,
    /// Snapshots reading this entry right now.
    readers: AtomicUsize,
    /// The recording thread's id (Linux `gettid`), to name it.
    tid: AtomicU64,
    /// An adopted thread's name as the kernel has it (16 bytes, nul-padded),
    /// refreshed at each of its events: it may be set after the first.
    name: [AtomicU64; 2],
}

impl Live {
    const fn free() -> Live {
        Live {
            buffers: AtomicPtr::new(ptr::null_mut()),
            events: AtomicPtr::new(ptr::null_mut()),
            chains: AtomicPtr::new(ptr::null_mut()),
            frames: AtomicPtr::new(ptr::null_mut()),
            published: AtomicUsize::new(0),
            lost: AtomicU64::new(0),
            readers: AtomicUsize::new(0),
            tid: AtomicU64::new(0),
            name: [const { AtomicU64::new(0) }; 2],
        }
    }
}

/// Gives a recording about to start an entry in `LIVE`, if one is free.
/// Never allocates, so it may run inside the allocator (see [`adopt`]).
///
/// # Safety
/// `buffers` points to live buffers that no other thread uses, and stays
/// valid until [`unregister`] returns.
unsafe fn register(buffers: *mut Buffers) {
    for (i, entry) in LIVE.iter().enumerate() {
        let free = entry.buffers.compare_exchange(
            ptr::null_mut(),
            RESERVED,
            Ordering::SeqCst,
            Ordering::Relaxed,
        );
        if free.is_err() {
            continue;
        }
        // SAFETY: the caller guarantees `buffers` is valid and unshared.
        let b = unsafe { &mut *buffers };
        b.live = i;
        entry.events.store(b.events.as_mut_ptr(), Ordering::Relaxed);
        entry.chains.store(b.chains.as_mut_ptr(), Ordering::Relaxed);
        entry.frames.store(b.frames.as_mut_ptr(), Ordering::Relaxed);
        entry.published.store(0, Ordering::Relaxed);
        entry.lost.store(0, Ordering::Relaxed);
        entry
            .tid
            .store(super::region::thread_id(), Ordering::Relaxed);
        entry
            .name
            .iter()
            .for_each(|word| word.store(0, Ordering::Relaxed));
        entry.buffers.store(buffers, Ordering::SeqCst);
        return;
    }
}

/// Takes a recording's entry back, once no snapshot reads it.
///
/// # Safety
/// `buffers` is the pointer given to [`register`], still valid.
unsafe fn unregister(buffers: *mut Buffers) {
    // SAFETY: valid per the caller; only this thread writes `live`.
    let live = unsafe { (*buffers).live };
    let Some(entry) = LIVE.get(live) else { return };
    entry.buffers.store(ptr::null_mut(), Ordering::SeqCst);
    while entry.readers.load(Ordering::SeqCst) != 0 {
        std::thread::yield_now();
    }
}

/// After an event: how many this recording holds now, for snapshots.
#[inline(always)]
fn publish(buffers: &Buffers) {
    if let Some(entry) = LIVE.get(buffers.live) {
        entry
            .published
            .store(buffers.events.len(), Ordering::Release);
        if buffers.lost != 0 {
            entry.lost.store(buffers.lost, Ordering::Relaxed);
        }
        if buffers.adopted {
            let name = super::region::thread_name();
            entry.name[0].store(
                u64::from_ne_bytes(name[..8].try_into().unwrap_or_default()),
                Ordering::Relaxed,
            );
            entry.name[1].store(
                u64::from_ne_bytes(name[8..].try_into().unwrap_or_default()),
                Ordering::Relaxed,
            );
        }
    }
}

/// A copy of what one running recording had written when it was taken.
pub struct Snapshot {
    events: Vec<RawEvent>,
    chains: Vec<(u32, u32)>,
    frames: Vec<usize>,
    lost: u64,
    /// The recording thread's id (0 where the platform has none).
    pub thread_id: u64,
    name: [u8; 16],
}

impl Snapshot {
    pub fn events(&self) -> &[RawEvent] {
        &self.events
    }

    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// An adopted thread's name at its last event, if the kernel had one.
    pub fn thread_name(&self) -> Option<&str> {
        let end = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.name.len());
        std::str::from_utf8(&self.name[..end])
            .ok()
            .filter(|n| !n.is_empty())
    }

    /// The return addresses (innermost first) captured for `event`, if any.
    pub fn chain(&self, event: &RawEvent) -> Option<&[usize]> {
        let &(start, len) = self.chains.get(usize::from(event.chain))?;
        self.frames.get(start as usize..(start + len) as usize)
    }
}

/// Copies what every running recording has published so far, this thread's
/// own included, with recording paused on this thread. Other recordings go
/// on while they are copied; each copy holds only events written before it.
pub fn snapshot_live() -> Vec<Snapshot> {
    paused(|| {
        let mut snapshots = vec![];
        for entry in &LIVE {
            entry.readers.fetch_add(1, Ordering::SeqCst);
            let buffers = entry.buffers.load(Ordering::SeqCst);
            if !buffers.is_null() && buffers != RESERVED {
                // SAFETY: the entry is registered and stays so while
                // `readers` is non-zero (`unregister` waits). `published`
                // (acquire) covers only events, chains and frames the
                // recording wrote before storing it (release), all inside the
                // storage these pointers name, which never moves while it records.
                snapshots.push(unsafe { copy_published(entry) });
            }
            entry.readers.fetch_sub(1, Ordering::SeqCst);
        }
        snapshots
    })
}

/// # Safety
/// See [`snapshot_live`]: `entry` is registered, and held by a reader.
unsafe fn copy_published(entry: &Live) -> Snapshot {
    let count = entry.published.load(Ordering::Acquire);
    let (events, chains, frames) = (
        entry.events.load(Ordering::Relaxed),
        entry.chains.load(Ordering::Relaxed),
        entry.frames.load(Ordering::Relaxed),
    );
    // SAFETY: the first `count` events were written and published.
    let events = unsafe { std::slice::from_raw_parts(events, count) }.to_vec();
    // Chains are interned before the first event that uses them.
    let used = events
        .iter()
        .filter(|e| e.chain != NO_CHAIN)
        .map(|e| usize::from(e.chain) + 1)
        .max()
        .unwrap_or(0);
    // SAFETY: chains below `used` were written before an event published.
    let chains = unsafe { std::slice::from_raw_parts(chains, used) }.to_vec();
    let end = chains
        .iter()
        .map(|&(s, l)| (s + l) as usize)
        .max()
        .unwrap_or(0);
    // SAFETY: and so were the frames they name.
    let frames = unsafe { std::slice::from_raw_parts(frames, end) }.to_vec();
    Snapshot {
        events,
        chains,
        frames,
        lost: entry.lost.load(Ordering::Relaxed),
        thread_id: entry.tid.load(Ordering::Relaxed),
        name: {
            let mut name = [0u8; 16];
            name[..8].copy_from_slice(&entry.name[0].load(Ordering::Relaxed).to_ne_bytes());
            name[8..].copy_from_slice(&entry.name[1].load(Ordering::Relaxed).to_ne_bytes());
            name
        },
    }
}

// Every thread -----------------------------------------------------------------
//
// `memlab run` on an ordinary program records the whole program, every
// thread it starts included, from before `main` to its exit. Threads the
// program starts itself (`std::thread::spawn`) run no memlab code, so each
// adopts a recording at its first allocator call: buffers made beforehand,
// taken without allocating or locking. Their frames are found with the
// unwinder, which needs no knowledge of the thread's stack.

/// Threads that can adopt a recording; later ones are not recorded (counted).
const MAX_ADOPTED: usize = 15;
static SPARE: [AtomicPtr<Buffers>; MAX_ADOPTED] =
    [const { AtomicPtr::new(ptr::null_mut()) }; MAX_ADOPTED];
/// Whether threads with no recording adopt one.
static ADOPTING: AtomicBool = AtomicBool::new(false);
/// Threads that found no spare buffers.
static UNRECORDED_THREADS: AtomicUsize = AtomicUsize::new(0);
/// What adopted recordings keep: capacity and lines.
static ADOPT_CAPACITY: AtomicUsize = AtomicUsize::new(0);
static ADOPT_LINES: AtomicBool = AtomicBool::new(true);

/// Starts recording this thread until the process ends, and every thread
/// started from now on from its first allocator call. For a program run by
/// `memlab run`, called before `main` (see `capture::program`). Call
/// [`snapshot_live`] to read what was recorded.
pub fn record_every_thread(options: Options) {
    pause_panic_hooks();
    super::region::check_allocator();
    // This thread first: frame walks may read up to the top of its stack.
    let mut buffers = match take_buffers(options.capacity) {
        Ok(buffers) => buffers,
        Err((buffers, shortage)) => {
            PROGRAM_SHORTAGE[0].store(shortage.events, Ordering::Relaxed);
            PROGRAM_SHORTAGE[1].store(shortage.fits, Ordering::Relaxed);
            buffers
        }
    };
    // Then a spare for each thread the program may start, while they fit
    // with memory to spare: threads that find none are counted as not
    // recorded.
    let program = program_bytes();
    for spare in &SPARE {
        let Some(buffers) =
            pooled(options.capacity).or_else(|| room_to_spare(options.capacity, program))
        else {
            break;
        };
        spare.store(Box::into_raw(buffers), Ordering::SeqCst);
        SPARES_MADE.fetch_add(1, Ordering::Relaxed);
    }
    ADOPT_CAPACITY.store(options.capacity, Ordering::Relaxed);
    ADOPT_LINES.store(options.lines != Lines::Off, Ordering::Relaxed);
    let stack = thread_stack().unwrap_or((0, 0));
    buffers.reset(options, stack.1, stack.0);
    let raw = Box::into_raw(buffers);
    // SAFETY: `raw` is the buffers just made, not yet shared with anything.
    unsafe { register(raw) };
    order_globally(true);
    std::mem::forget(Active::start(raw));
    ADOPTING.store(true, Ordering::SeqCst);
}

/// The events per thread [`record_every_thread`] was asked to keep, and
/// the most it could have, when its own recording could not have that room
/// (0: it could).
static PROGRAM_SHORTAGE: [AtomicUsize; 2] = [const { AtomicUsize::new(0) }; 2];

/// What [`record_every_thread`]'s own recording could not have, if anything.
pub fn program_shortage() -> Option<Shortage> {
    let events = PROGRAM_SHORTAGE[0].load(Ordering::Relaxed);
    (events != 0).then(|| Shortage {
        events,
        bytes: Buffers::bytes_for(events),
        fits: PROGRAM_SHORTAGE[1].load(Ordering::Relaxed),
    })
}

/// Stops threads from adopting recordings, and this thread from recording.
pub fn stop_every_thread() {
    ADOPTING.store(false, Ordering::SeqCst);
    exclude_this_thread();
}

/// Keeps this thread out of every recording from now on: it never records
/// and never adopts one (memlab's own threads in a traced program).
pub fn exclude_this_thread() {
    let _ = STATE.try_with(|state| {
        state.excluded.set(true);
        state.busy.set(true);
    });
}

/// Threads that started while every thread was recorded but found no room.
pub fn unrecorded_threads() -> usize {
    UNRECORDED_THREADS.load(Ordering::Relaxed)
}

/// Spare recordings [`record_every_thread`] made: one per thread it can
/// record, `MAX_ADOPTED` unless memory held fewer.
static SPARES_MADE: AtomicUsize = AtomicUsize::new(0);

/// How many threads a program recorded by [`record_every_thread`] can have
/// recorded besides its first.
pub fn recordable_threads() -> usize {
    SPARES_MADE.load(Ordering::Relaxed)
}

/// A thread's first allocator call while every thread is recorded: it takes
/// a spare recording. Runs inside the allocator: no allocation, no lock.
#[cold]
#[inline(never)]
fn adopt(state: &ThreadState) -> *mut Buffers {
    if state.busy.get() || state.excluded.get() {
        return ptr::null_mut();
    }
    let Some(buffers) = SPARE
        .iter()
        .map(|spare| spare.swap(ptr::null_mut(), Ordering::SeqCst))
        .find(|b| !b.is_null())
    else {
        state.excluded.set(true);
        UNRECORDED_THREADS.fetch_add(1, Ordering::Relaxed);
        return ptr::null_mut();
    };
    let lines = match ADOPT_LINES.load(Ordering::Relaxed) {
        true => Lines::Unwind,
        false => Lines::Off,
    };
    let options = Options {
        capacity: ADOPT_CAPACITY.load(Ordering::Relaxed),
        lines,
        ..Options::default()
    };
    // SAFETY: the spare was made by `record_every_thread` and taken out of
    // `SPARE` by the swap above, so only this thread has it; it is never
    // freed. No frame-pointer walk runs (the unwinder stops by itself).
    unsafe {
        (*buffers).reset(options, usize::MAX, 0);
        (*buffers).adopted = true;
        register(buffers);
    }
    state.ordered.set(true);
    state.buffers.set(buffers);
    RECORDING_THREADS.fetch_add(1, Ordering::Relaxed);
    buffers
}

/// A pooled buffer that can hold `capacity` events, or a new one of exactly
/// that size. When the memory for it is not there, the largest one (halving
/// the capacity) that fits, and what was asked: the recording keeps the
/// events that fit in it, and its caller says what would fit.
fn take_buffers(capacity: usize) -> Result<Box<Buffers>, (Box<Buffers>, Shortage)> {
    if let Some(buffers) = pooled(capacity) {
        return Ok(buffers);
    }
    let program = program_bytes();
    let new = |events: usize| room_to_spare(events, program);
    if let Some(buffers) = new(capacity) {
        return Ok(buffers);
    }
    let mut fits = capacity / 2;
    let buffers = loop {
        if let Some(buffers) = pooled(fits).or_else(|| new(fits)) {
            break buffers;
        }
        if fits == 0 {
            // Even an empty one did not fit: record nothing (the `Box` is a
            // few words; if that fails too, the process is out of memory).
            break Box::new(Buffers::empty());
        }
        fits /= 2;
    };
    let shortage = Shortage {
        events: capacity,
        bytes: Buffers::bytes_for(capacity),
        fits: buffers.events.capacity(),
    };
    Err((buffers, shortage))
}

/// The size of the program's file, which finding source lines maps.
fn program_bytes() -> u64 {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .map_or(0, |m| m.len())
}

/// A new room for `events`, only where it leaves memory for what is done
/// with them afterwards: a trace takes an `Event` and a place in the merge
/// order for each (104 bytes), and finding source lines maps the program's
/// file (`program` bytes). Without that, a room that fits could leave a run
/// without source lines, silently, or with no memory to report it.
fn room_to_spare(events: usize, program: u64) -> Option<Box<Buffers>> {
    let needed = Buffers::bytes_for(events)
        .saturating_add((events as u64).saturating_mul(104))
        .saturating_add(program);
    match super::region::address_space_for(needed) {
        true => Buffers::try_new(events),
        false => None,
    }
}

/// A pooled buffer with room for `capacity` events: the smallest such.
fn pooled(capacity: usize) -> Option<Box<Buffers>> {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let (i, _) = pool
        .iter()
        .enumerate()
        .filter(|(_, b)| b.events.capacity() >= capacity)
        .min_by_key(|(_, b)| b.events.capacity())?;
    Some(pool.swap_remove(i))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the scenario panicked".to_string()
    }
}

/// This thread is recording while an `Active` lives; dropping it (also during
/// unwinding) stops the recording.
struct Active;

impl Active {
    fn start(buffers: *mut Buffers) -> Active {
        let _ = STATE.try_with(|state| {
            state.busy.set(false);
            state.buffers.set(buffers);
        });
        RECORDING_THREADS.fetch_add(1, Ordering::Relaxed);
        Active
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        let _ = STATE.try_with(|state| state.buffers.set(ptr::null_mut()));
        RECORDING_THREADS.fetch_sub(1, Ordering::Relaxed);
    }
}

// lesson: global-alloc
// SAFETY: each method forwards the caller's arguments to the process's one
// allocator (`System` unless `backend` chose another), which upholds the
// `GlobalAlloc` contract; recording writes only to this thread's buffer,
// made beforehand. A null stays null, or ends the process (`failed`).
unsafe impl GlobalAlloc for Recorder {
    // `System` and idle (one relaxed load): a jump to `System`. Anything
    // else: the out-of-line path, which picks the allocator.
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's `layout` contract is passed on unchanged.
        unsafe {
            if RECORDING_THREADS.load(Ordering::Relaxed) == 0 {
                System.alloc(layout)
            } else {
                not_a_tail_call(|| alloc_recorded(Kind::Alloc, layout))
            }
        }
    }
    // lesson: skip alloc_zeroed, dealloc and realloc: the same test and call

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if RECORDING_THREADS.load(Ordering::Relaxed) == 0 {
                System.alloc_zeroed(layout)
            } else {
                not_a_tail_call(|| alloc_recorded(Kind::AllocZeroed, layout))
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe {
            if RECORDING_THREADS.load(Ordering::Relaxed) == 0 {
                System.dealloc(block, layout)
            } else {
                not_a_tail_call(|| dealloc_recorded(block, layout))
            }
        }
    }

    #[inline]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if RECORDING_THREADS.load(Ordering::Relaxed) == 0 {
                System.realloc(block, layout, new_size)
            } else {
                not_a_tail_call(|| realloc_recorded(block, layout, new_size))
            }
        }
    }
    // lesson: resume
}

/// Off the fast path: the event first, so the block cannot be handed out
/// again before its free is recorded, then the allocator that made it.
#[inline(never)]
unsafe fn dealloc_recorded(block: *mut u8, layout: Layout) {
    record_event(Kind::Dealloc, block, layout, 0, 0);
    // SAFETY: the caller guarantees `block` was allocated here with `layout`.
    unsafe { backend::dealloc(backend::current(), block, layout) }
}
// lesson: skip alloc_recorded and realloc_recorded: the allocator first, then the event

/// `alloc` or `alloc_zeroed` off the fast path: the process's allocator
/// first, then the event. Out of line, like the other two, so that the
/// methods above stay a test and a jump.
///
/// # Safety
/// As for `GlobalAlloc::alloc`.
#[inline(never)]
unsafe fn alloc_recorded(kind: Kind, layout: Layout) -> *mut u8 {
    let backend = backend::current();
    // Only the bump arena asks whether this thread records.
    let recording = backend == Allocator::Bump && recording_here();
    // SAFETY: the caller's `layout` contract is passed on unchanged.
    let block = unsafe { backend::alloc(backend, recording, kind == Kind::AllocZeroed, layout) };
    if block.is_null() {
        return failed(layout.size());
    }
    record_event(kind, block, layout, 0, 0);
    block
}

/// `realloc` off the fast path: the `realloc` of the allocator that made the
/// block (which grows it in place when it can), then the event with the old
/// and the new block.
///
/// # Safety
/// As for `GlobalAlloc::realloc`.
#[inline(never)]
unsafe fn realloc_recorded(block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
    let backend = backend::current();
    let recording = backend == Allocator::Bump && recording_here();
    // SAFETY: the caller's contract for `block`, `layout` and `new_size` is
    // passed on unchanged.
    let new_block = unsafe { backend::realloc(backend, recording, block, layout, new_size) };
    if new_block.is_null() {
        return failed(new_size);
    }
    // `new_size` with `layout.align()` is valid: the caller guarantees it.
    let new_layout = Layout::from_size_align(new_size, layout.align()).unwrap_or(layout);
    record_event(
        Kind::Realloc,
        new_block,
        new_layout,
        block as usize,
        layout.size(),
    );
    new_block
}

/// Runs a recording path so that its call stays a call. The fence after it
/// emits no instruction, but without it a method inlined at the end of a
/// function could compile to a jump to the recording path, leaving that
/// function's frame before the frame walk looks for it.
#[inline(always)]
fn not_a_tail_call<T>(path: impl FnOnce() -> T) -> T {
    let result = path();
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    result
}
// lesson: resume
// lesson: end

// lesson: record-event
/// Appends one event to this thread's recording, if it is recording and not
/// re-entered. Called only while some thread records; inlined into the three
/// recording paths above, which are out of line.
#[inline(always)]
fn record_event(kind: Kind, block: *mut u8, layout: Layout, old_address: usize, old_size: usize) {
    let Ok(state) = STATE.try_with(|state| state as *const ThreadState) else {
        return;
    };
    // SAFETY: `STATE` has no destructor, so this thread's value lives as long
    // as the thread, and only this thread reads it (through `Cell`s).
    let state = unsafe { &*state };
    let mut buffers = state.buffers.get();
    if buffers.is_null() && ADOPTING.load(Ordering::Relaxed) {
        buffers = adopt(state);
    }
    if buffers.is_null() || state.busy.get() {
        return;
    }
    state.busy.set(true);
    // SAFETY: `buffers` is non-null only between `Active::start` and
    // `Active::drop` on this thread, while `record` owns the allocation and
    // does not touch it; `busy` is now true, so a re-entered allocator call
    // (or a probe) cannot create a second reference. Nothing below can
    // panic: every index is bounds-checked by comparison first.
    let buffers = unsafe { &mut *buffers };
    if buffers.events.len() >= buffers.limit {
        buffers.lost += 1; // full: counted, not kept
    } else {
        let chain = match buffers.lines {
            Lines::Off => NO_CHAIN,
            _ => capture_chain(buffers),
        };
        // SAFETY: every caller passes a block the allocator has just
        // returned, or one it is about to free: live either way.
        let (region, usable) = unsafe { backend::region_of(block, layout.size()) };
        prefetch_ahead(&buffers.events);
        // Below capacity (`limit` ≤ capacity): the push never allocates.
        buffers.events.push(RawEvent {
            seq: if state.ordered.get() {
                SEQ.fetch_add(1, Ordering::Relaxed)
            } else {
                state.epoch.get()
            },
            address: block as usize,
            size: layout.size(),
            old_address,
            old_size,
            usable_extra: usable_extra(usable, layout.size()),
            chain,
            kind_align: kind_align(kind, layout.align()),
            region,
        });
    }
    publish(buffers);
    state.busy.set(false);
}
// lesson: end

/// Asks the CPU to load the event buffer a little ahead of the writes. A long
/// recording writes to memory that no cache holds, and without this each new
/// cache line stalls the event that first touches it (BENCHMARKS.md: 18 → 15
/// ns per event at a million pairs). A hint: it changes no memory.
#[inline(always)]
fn prefetch_ahead(events: &[RawEvent]) {
    #[cfg(target_arch = "x86_64")]
    {
        // 1 KiB: about 20 events ahead.
        let ahead = events
            .as_ptr()
            .wrapping_add(events.len())
            .cast::<i8>()
            .wrapping_add(1024);
        // SAFETY: every x86-64 CPU has SSE, which `_mm_prefetch` requires; a
        // prefetch never faults and changes no memory, whatever the address.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(ahead) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = events;
}

/// Out of line: its frame array stays off the path of recordings without lines.
#[inline(never)]
fn capture_chain(buffers: &mut Buffers) -> u16 {
    let mut frames = [0usize; MAX_FRAMES];
    let n = match buffers.lines {
        Lines::Off => return NO_CHAIN,
        #[cfg(memlab_frame_pointers)]
        Lines::Auto => walk_frame_pointers(&mut frames, buffers.stack_low, buffers.stack_top),
        #[cfg(not(memlab_frame_pointers))]
        Lines::Auto => unwind(&mut frames, buffers.stack_top),
        Lines::Unwind => unwind(&mut frames, buffers.stack_top),
    };
    if n == 0 {
        return NO_CHAIN;
    }
    buffers.intern(&frames[..n])
}

/// Collects return addresses by following the frame-pointer chain from this
/// function's frame up to (not past) `stack_top`. Returns how many it stored.
///
/// Every read lies in `[rsp, stack_top)`, and the walk only starts when `rsp`
/// is inside this thread's stack `[stack_low, stack_top)`: that range is live,
/// mapped stack, so the reads are in bounds even when some frame lacks a frame
/// pointer and its saved `rbp` is garbage, and even when the allocation runs
/// on another stack (a coroutine, a signal stack): then nothing is walked.
#[cfg(memlab_frame_pointers)]
#[inline(never)]
fn walk_frame_pointers(out: &mut [usize; MAX_FRAMES], stack_low: usize, stack_top: usize) -> usize {
    let (mut fp, sp): (usize, usize);
    // SAFETY: reads the frame-pointer and stack-pointer registers; no memory
    // access, no side effects.
    unsafe {
        std::arch::asm!(
            "mov {fp}, rbp",
            "mov {sp}, rsp",
            fp = out(reg) fp,
            sp = out(reg) sp,
            options(nomem, nostack, preserves_flags),
        );
    }
    if stack_low == 0 || sp < stack_low || sp >= stack_top {
        return 0;
    }
    let word = std::mem::size_of::<usize>();
    let mut n = 0;
    // Each frame record is [saved caller fp, return address]; the chain must
    // strictly climb, so the loop ends.
    while n < MAX_FRAMES
        && fp >= sp
        && fp.is_multiple_of(std::mem::align_of::<usize>())
        && fp.saturating_add(2 * word) <= stack_top
    {
        // SAFETY: `fp` and `fp + 8` are aligned and inside [sp, stack_top),
        // which is this thread's live stack (checked above).
        let (next, ret) = unsafe {
            (
                ptr::read_volatile(fp as *const usize),
                ptr::read_volatile((fp as *const usize).add(1)),
            )
        };
        if ret == 0 {
            break;
        }
        out[n] = ret;
        n += 1;
        if next <= fp {
            break;
        }
        fp = next;
    }
    n
}

/// Collects return addresses with the `backtrace` crate's unwinder, stopping
/// above `stack_top`. Returns how many it stored.
#[inline(never)]
fn unwind(out: &mut [usize; MAX_FRAMES], stack_top: usize) -> usize {
    let mut n = 0;
    // SAFETY: `trace_unsynchronized` requires that no other thread unwinds
    // through a non-thread-safe unwinder at the same time; libgcc's
    // `_Unwind_Backtrace` is thread-safe. It is not lock-free everywhere: with
    // glibc < 2.35 or libgcc < 12 it finds unwind tables through
    // `dl_iterate_phdr`, which takes the loader's lock, so this fallback path
    // can wait on (never hold) a lock there. The closure does not allocate, and
    // `busy` would skip recording if anything below did.
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            let sp = frame.sp() as usize;
            if sp != 0 && sp > stack_top {
                return false;
            }
            out[n] = frame.ip() as usize;
            n += 1;
            n < MAX_FRAMES
        });
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    fn opts() -> Options {
        Options::default()
    }

    #[test]
    fn records_alloc_and_dealloc_of_the_same_block() {
        let rec = record(opts(), || {
            let b = black_box(Box::new(42u64));
            black_box(&*b as *const u64 as usize)
        });
        let address = *rec.outcome.as_ref().unwrap();
        let events = rec.events();
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].kind(), Kind::Alloc);
        assert_eq!(
            (events[0].address, events[0].size, events[0].align()),
            (address, 8, 8)
        );
        assert_eq!(events[1].kind(), Kind::Dealloc);
        assert_eq!(events[1].address, address);
        assert_eq!(rec.lost(), 0);
    }

    #[test]
    fn events_take_48_bytes_and_keep_kind_alignment_and_usable_size() {
        assert_eq!(std::mem::size_of::<RawEvent>(), 48);
        let kinds = [Kind::Alloc, Kind::AllocZeroed, Kind::Realloc, Kind::Dealloc];
        for (kind, align) in kinds.into_iter().zip([1, 16, 4096, 1 << 63]) {
            let event = RawEvent {
                seq: 1,
                address: 0x1000,
                size: 100,
                old_address: 0,
                old_size: 0,
                usable_extra: usable_extra(104, 100),
                chain: NO_CHAIN,
                kind_align: kind_align(kind, align),
                region: Region::Heap,
            };
            assert_eq!(
                (event.kind(), event.align(), event.usable()),
                (kind, align, 104)
            );
        }
        // Unknown, impossible and too large excesses all read back as unknown.
        for usable in [0, 99, 100 + (5 << 30)] {
            assert_eq!(usable_extra(usable, 100), UNKNOWN_USABLE);
        }
        assert_eq!(usable_extra(100, 100), 0);
    }

    #[test]
    fn buffers_are_sized_from_the_capacity_asked() {
        // Room for one event is a few hundred bytes, not the 52 MiB of the
        // default capacity (the size every buffer had before).
        let one = Buffers::try_new(1).unwrap();
        assert_eq!(one.events.capacity(), 1);
        assert!(Buffers::bytes_for(1) < 1024, "{}", Buffers::bytes_for(1));
        let default = Buffers::bytes_for(crate::capture::DEFAULT_CAPACITY);
        assert_eq!(default.div_ceil(1 << 20), 53);
        // Room nothing can give: none, and no abort.
        assert!(Buffers::try_new(usize::MAX / 64).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_recording_memory_cannot_give_keeps_what_fits_and_says_so() {
        // In a child process: the room that fits may be gigabytes (never
        // touched), which should not stay in this process's pool.
        fn step() {
            // More than any address space: the recording gets a room that
            // fits (halving) and reports what it was asked.
            let asked = 1 << 50;
            let rec = record(
                Options {
                    capacity: asked,
                    ..Options::default()
                },
                || drop(black_box(Box::new(1u8))),
            );
            let shortage = rec.shortage.expect("short of memory");
            assert_eq!(shortage.events, asked);
            assert!(shortage.fits < asked, "{shortage:?}");
            assert_eq!(rec.events().len(), 2);
            // Without a shortage there is none to report.
            assert!(record(Options::default(), || ()).shortage.is_none());
        }
        use crate::capture::child::{Exit, run};
        assert_eq!(
            run(step),
            Some(Exit::Code(0)),
            "the step's assertions failed"
        );
    }

    #[test]
    fn realloc_is_forwarded_with_old_and_new_block() {
        let rec = record(opts(), || {
            let mut v: Vec<u32> = Vec::with_capacity(4);
            v.extend_from_slice(&[1, 2, 3, 4]);
            v.push(black_box(5));
            black_box(v);
        });
        let kinds: Vec<Kind> = rec.events().iter().map(|e| e.kind()).collect();
        assert_eq!(kinds, [Kind::Alloc, Kind::Realloc, Kind::Dealloc]);
        let [alloc, grow, free] = rec.events() else {
            unreachable!()
        };
        assert_eq!((grow.old_address, grow.old_size), (alloc.address, 16));
        assert_eq!((grow.size, grow.align()), (32, 4));
        assert_eq!(free.address, grow.address);
    }

    #[test]
    fn alloc_zeroed_is_its_own_kind() {
        let rec = record(opts(), || black_box(vec![0u8; 100]).len());
        assert_eq!(rec.events()[0].kind(), Kind::AllocZeroed);
        assert_eq!(rec.events()[0].size, 100);
    }

    #[test]
    fn full_buffer_counts_lost_events_without_growing() {
        let options = Options {
            capacity: 3,
            ..opts()
        };
        let rec = record(options, || {
            for i in 0..5u64 {
                black_box(Box::new(i));
            }
        });
        assert_eq!(rec.events().len(), 3);
        assert_eq!(rec.lost(), 7, "10 events, 3 kept");
    }

    #[test]
    fn a_panic_ends_the_recording_and_the_next_one_works() {
        let rec = record(opts(), || {
            let _b = black_box(Box::new(1u8));
            panic!("boom");
        });
        assert_eq!(rec.outcome.as_ref().unwrap_err(), "boom");
        assert!(STATE.with(|s| s.buffers.get().is_null()));
        drop(rec);
        let again = record(opts(), || {
            black_box(Box::new(7u16));
        });
        assert_eq!(again.events().len(), 2);
        assert_eq!(again.events()[0].size, 2);
    }

    #[test]
    fn paused_hides_events_and_reentry_is_not_recorded() {
        let rec = record(opts(), || {
            paused(|| drop(black_box(Box::new(1u32))));
            black_box(Box::new(2u64));
        });
        let sizes: Vec<usize> = rec.events().iter().map(|e| e.size).collect();
        assert_eq!(sizes, [8, 8], "only the u64 box: alloc and dealloc");
        // The busy flag is cleared again after every event.
        assert!(STATE.with(|s| !s.busy.get()));
    }

    #[test]
    fn threads_never_see_each_others_events() {
        let handles: Vec<_> = (1..=4usize)
            .map(|t| {
                std::thread::spawn(move || {
                    (0..50).all(|_| {
                        let rec = record(opts(), || {
                            for _ in 0..20 {
                                black_box(vec![0u8; t * 1000 + 3]);
                            }
                        });
                        rec.events().iter().all(|e| e.size == t * 1000 + 3)
                            && rec.events().len() == 40
                    })
                })
            })
            .collect();
        // Meanwhile this thread allocates without recording.
        for i in 0..10_000 {
            black_box(Box::new(i));
        }
        for h in handles {
            assert!(h.join().unwrap(), "a recording saw another thread's event");
        }
    }

    #[test]
    fn a_thread_that_exits_after_recording_is_fine() {
        let n = std::thread::spawn(|| {
            let rec = record(opts(), || {
                black_box(String::from("hi"));
            });
            rec.events().len()
        })
        .join()
        .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn chains_are_deduplicated() {
        let rec = record(opts(), || {
            for i in 0..100u64 {
                black_box(Box::new(i));
            }
        });
        let chains: std::collections::HashSet<_> =
            rec.events().iter().filter_map(|e| rec.chain(e)).collect();
        assert!(!chains.is_empty());
        assert!(
            chains.len() <= 4,
            "{} distinct chains for 2 call sites",
            chains.len()
        );
        assert_eq!(rec.unattributed(), 0);
    }

    #[test]
    fn a_panic_records_the_scenario_not_the_panic_hook() {
        let rec = record(opts(), || {
            let _b = black_box(Box::new(1u8));
            panic!("boom {}", 3);
        });
        assert_eq!(rec.outcome.as_ref().unwrap_err(), "boom 3");
        let events = rec.events();
        assert_eq!((events[0].kind(), events[0].size), (Kind::Alloc, 1));
        // Unwinding drops the Box inside the recording.
        assert!(
            events
                .iter()
                .any(|e| e.kind() == Kind::Dealloc && e.address == events[0].address)
        );
        // The hook's message formatting and printing are not recorded; what is
        // left is the Box, the panic's payload and its exception object
        // (freed when caught).
        assert!(events.len() <= 5, "{events:?}");
    }

    /// A 1 MiB stack outside the thread's own, for the test below.
    #[cfg(memlab_frame_pointers)]
    static mut OTHER_STACK: [u128; 1 << 16] = [0; 1 << 16];

    #[cfg(memlab_frame_pointers)]
    extern "C" fn allocate_a_box() {
        black_box(Box::new(1u64));
    }

    #[cfg(memlab_frame_pointers)]
    #[test]
    fn allocations_on_another_stack_with_a_garbage_frame_pointer_are_safe() {
        let top = (&raw mut OTHER_STACK as usize) + std::mem::size_of::<[u128; 1 << 16]>();
        let garbage: usize = 0x6000_0000_0000; // unmapped
        let rec = record(opts(), || {
            // SAFETY: switches to a static 1 MiB stack (16-byte aligned after
            // the two 8-byte adjustments), calls an extern "C" function with a
            // garbage frame pointer, and restores rsp and rbp before returning.
            unsafe {
                std::arch::asm!(
                    "mov r12, rsp",
                    "mov rsp, {stack}",
                    "push rbp",
                    "sub rsp, 8",
                    "mov rbp, {garbage}",
                    "call {f}",
                    "add rsp, 8",
                    "pop rbp",
                    "mov rsp, r12",
                    stack = in(reg) top,
                    garbage = in(reg) garbage,
                    f = sym allocate_a_box,
                    out("r12") _,
                    clobber_abi("C"),
                );
            }
        });
        // Recorded, but not walked: the allocation ran off this thread's stack.
        assert_eq!(rec.events().len(), 2);
        assert!(rec.events().iter().all(|e| rec.chain(e).is_none()));
    }

    #[cfg(memlab_frame_pointers)]
    #[test]
    fn a_garbage_frame_pointer_on_the_same_stack_ends_the_walk() {
        let rec = record(opts(), || {
            // SAFETY: calls an extern "C" function with a garbage frame pointer
            // on the current stack (kept 16-byte aligned) and restores rbp.
            unsafe {
                std::arch::asm!(
                    "push rbp",
                    "sub rsp, 8",
                    "mov rbp, {garbage}",
                    "call {f}",
                    "add rsp, 8",
                    "pop rbp",
                    garbage = in(reg) 0x6000_0000_0000usize,
                    f = sym allocate_a_box,
                    clobber_abi("C"),
                );
            }
        });
        assert_eq!(rec.events().len(), 2);
    }

    #[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
    #[test]
    fn blocks_carry_glibc_region_and_usable_size() {
        let rec = record(opts(), || {
            black_box(Box::new(1u64));
            // Above glibc's largest mmap threshold (32 MiB): always its own mapping.
            black_box(vec![0u8; 64 << 20]);
        });
        let events = rec.events();
        let small = events[0];
        // glibc's smallest chunk holds 24 usable bytes. Tests run on spawned
        // threads, whose blocks come from an arena (or the main one, reused).
        assert_eq!(small.usable(), 24);
        assert!(
            matches!(small.region, Region::Arena | Region::Heap),
            "{small:?}"
        );
        let big = events.iter().find(|e| e.size == 64 << 20).unwrap();
        assert_eq!(big.region, Region::Mmap);
        assert!(big.usable() >= big.size);
        // A block keeps its region when freed.
        let freed = events
            .iter()
            .find(|e| e.kind() == Kind::Dealloc && e.address == big.address);
        assert_eq!(freed.map(|e| e.region), Some(Region::Mmap));
    }

    #[test]
    fn a_snapshot_holds_what_a_running_recording_published_and_no_more() {
        use std::sync::Barrier;
        use std::sync::atomic::AtomicU64;
        static TID: AtomicU64 = AtomicU64::new(0);
        let (made, checked) = (
            std::sync::Arc::new(Barrier::new(2)),
            std::sync::Arc::new(Barrier::new(2)),
        );
        let (m, c) = (made.clone(), checked.clone());
        let worker = std::thread::spawn(move || {
            TID.store(crate::capture::region::thread_id(), Ordering::SeqCst);
            let rec = record(opts(), || {
                for i in 0..500u64 {
                    black_box(Box::new(i));
                }
                m.wait(); // 1000 events written; still recording
                c.wait();
            });
            rec.events().len()
        });
        made.wait();
        let snapshots = snapshot_live();
        let tid = TID.load(Ordering::SeqCst);
        let mine: Vec<&Snapshot> = snapshots.iter().filter(|s| s.thread_id == tid).collect();
        assert_eq!(mine.len(), 1, "one live recording on that thread");
        let events = mine[0].events();
        assert_eq!(events.len(), 1000);
        assert!(events.iter().all(|e| e.size == 8 && e.align() == 8));
        assert!(
            events
                .iter()
                .all(|e| mine[0].chain(e).is_some_and(|c| !c.is_empty()))
        );
        checked.wait();
        // Once the recording ended, its entry is gone.
        assert_eq!(worker.join().unwrap(), 1000);
        let again = snapshot_live();
        assert!(
            !again
                .iter()
                .any(|s| s.thread_id == tid && s.events().len() == 1000)
        );
    }

    #[test]
    fn recordings_do_not_nest() {
        let outer = record(opts(), || record(opts(), || ()).outcome.is_ok());
        let message = outer.outcome.as_ref().unwrap_err();
        assert!(message.contains("do not nest"), "{message}");
    }
}
