//! memlab's vocabulary: a run as plain data. A [`Trace`] holds the heap events
//! of one run, tied to source lines, the stack locals and observations its
//! probes took, and the facts derived from them (live bytes, peaks, leaks).
//!
//! This module imports nothing else of the crate. Capture (`crate::capture`)
//! builds traces; views (`crate::render`, `crate::export`) and lessons read
//! them. Every record here is complete when the capture layer hands it over:
//! nothing is filled in later.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub mod names;
pub mod probe;
pub mod snapshot;

pub use probe::{Kept, Local, Observation, Preview, ScopeEnd, Target};

/// Text in a trace: borrowed when it is a literal of memlab's own code (a
/// scenario, a probe's name), owned when it comes from elsewhere (a user's
/// file, a trace read back from another process).
pub type Text = Cow<'static, str>;

/// The code a trace ran: what views name it by and the text they quote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The name users type: `memlab trace <id>`.
    pub id: Text,
    pub title: Text,
    /// One line saying what the code shows.
    pub summary: Text,
    /// Path of the source file as the compiler names it: heap events are tied
    /// to the innermost frame in this file.
    pub file: Text,
    /// The file's text, for listings.
    pub text: Text,
    /// The trace covers a whole program, from before `main` to its exit
    /// (`memlab run` on an ordinary program), not code that returned.
    #[serde(default)]
    pub program: bool,
    /// The command that shows this trace's tables (`memlab trace box`), for
    /// views that refer to them; empty when there is none.
    #[serde(default)]
    pub command: Text,
}

impl Source {
    /// A source named `id` in `file` (as `file!()` names it), with no title,
    /// summary or text yet.
    pub fn new(id: impl Into<Text>, file: impl Into<Text>) -> Source {
        let id = id.into();
        Source {
            title: id.clone(),
            id,
            file: file.into(),
            ..Source::default()
        }
    }

    pub fn with_title(self, title: impl Into<Text>) -> Source {
        Source {
            title: title.into(),
            ..self
        }
    }

    pub fn with_summary(self, summary: impl Into<Text>) -> Source {
        Source {
            summary: summary.into(),
            ..self
        }
    }

    /// The file's text, shown by listings and beside each event's line.
    pub fn with_text(self, text: impl Into<Text>) -> Source {
        Source {
            text: text.into(),
            ..self
        }
    }

    /// What views call the code: "program" or "scenario".
    pub fn noun(&self) -> &'static str {
        if self.program { "program" } else { "scenario" }
    }

    /// The file name alone, e.g. `vec_growth.rs`.
    pub fn file_name(&self) -> &str {
        self.file.rsplit('/').next().unwrap_or(&self.file)
    }

    /// The text of a 1-based source line, trimmed.
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text.lines().nth(index).map(str::trim)
    }
}

/// Which allocator method produced an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Kind {
    Alloc = 0,
    AllocZeroed = 1,
    Realloc = 2,
    Dealloc = 3,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Alloc, Kind::AllocZeroed, Kind::Realloc, Kind::Dealloc];

    /// The name used in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Alloc => "alloc",
            Kind::AllocZeroed => "alloc_zeroed",
            Kind::Realloc => "realloc",
            Kind::Dealloc => "dealloc",
        }
    }

    /// The kind named `name`, as [`Kind::name`] spells it.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The global allocator behind memlab's recorder in the run: one per
/// process, chosen before its first allocation (`capture::backend`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Allocator {
    /// `std::alloc::System`: the C library's `malloc` (glibc's here).
    #[default]
    System = 0,
    /// jemalloc, through the `tikv-jemallocator` crate.
    Jemalloc = 1,
    /// mimalloc, through the `mimalloc` crate.
    Mimalloc = 2,
    /// memlab's bump allocator (`capture/bump.rs`) for what recording
    /// threads allocate, `System` for everything else.
    Bump = 3,
}

impl Allocator {
    pub const ALL: [Allocator; 4] = [
        Allocator::System,
        Allocator::Jemalloc,
        Allocator::Mimalloc,
        Allocator::Bump,
    ];

    /// The name used on the command line, in tables and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Allocator::System => "system",
            Allocator::Jemalloc => "jemalloc",
            Allocator::Mimalloc => "mimalloc",
            Allocator::Bump => "bump",
        }
    }

    /// The allocator named `name`, as [`Allocator::name`] spells it.
    pub fn from_name(name: &str) -> Option<Allocator> {
        Allocator::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A region of the address space: where an address lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Region {
    /// The main thread's stack.
    Stack,
    /// A spawned thread's stack.
    ThreadStack,
    /// The brk heap segment (glibc's main arena).
    Heap,
    /// A block in a mapping of its own (glibc: requests above the mmap threshold).
    Mmap,
    /// A spawned thread's malloc arena (glibc).
    Arena,
    /// Inside the program binary: code, read-only data, data.
    Static,
    #[default]
    Unknown,
}

impl Region {
    /// The name used in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Region::Stack => "stack",
            Region::ThreadStack => "thread-stack",
            Region::Heap => "heap",
            Region::Mmap => "mmap",
            Region::Arena => "arena",
            Region::Static => "static",
            Region::Unknown => "unknown",
        }
    }
}

/// One of the threads of a run: an index into [`Trace::thread_names`].
/// `Thread(0)` is the thread the run started on.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Thread(pub u32);

/// One heap event, tied to the line of the source that caused it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based position in the trace.
    pub seq: usize,
    pub kind: Kind,
    /// The block's address (for realloc, the new address).
    pub address: usize,
    /// Requested size in bytes (for realloc, the new size).
    pub size: usize,
    pub align: usize,
    /// For realloc: the block's address and size before the call.
    pub old: Option<(usize, usize)>,
    /// Line in the source's file, when the call chain reached it.
    pub line: Option<u32>,
    /// Where the block is, decided while it was alive.
    pub region: Region,
    /// Bytes the allocator really reserved for the block, when known.
    pub usable: Option<usize>,
    /// The thread that made the call.
    pub thread: Thread,
}

impl Event {
    /// For realloc: whether the block moved to a new address.
    pub fn moved(&self) -> Option<bool> {
        self.old.map(|(old_address, _)| old_address != self.address)
    }
}

/// A finished run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Trace {
    /// The code that ran.
    pub source: Source,
    pub events: Vec<Event>,
    pub locals: Vec<Local>,
    pub observations: Vec<Observation>,
    /// Blocks the code declared it leaves alive on purpose.
    pub kept: Vec<Kept>,
    /// Where the code said locals went out of scope.
    pub scope_ends: Vec<ScopeEnd>,
    /// The name of each [`Thread`]: the first is "main" (or "scenario" when
    /// the run did not start on the process's main thread).
    pub thread_names: Vec<Text>,
    /// What did not fit: events past the recorder's capacity, probes past
    /// the scene's.
    pub loss: Loss,
    /// The panic message, if the code panicked.
    pub panic: Option<String>,
    /// The run was stopped before it ended (it ran past a time-out): blocks
    /// still allocated then are not known to be leaks.
    #[serde(default)]
    pub stopped: bool,
    /// The global allocator the run's blocks came from.
    #[serde(default)]
    pub allocator: Allocator,
}

/// What a run could not keep, and the room it had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loss {
    /// Events that did not fit in the recorder's buffer.
    pub events: u64,
    /// Events the recorder's buffer held, per thread.
    pub event_capacity: usize,
    /// Probes (locals, observations, kept blocks, scope ends) that did not
    /// fit in the scene's storage.
    pub probes: u64,
    /// Probes of each kind the scene had room for, per thread.
    pub probe_capacity: usize,
    /// The room that would have kept every probe: the most of one kind that
    /// one thread tried to take.
    pub probes_wanted: usize,
    /// A recording that could not have the room asked for, for lack of
    /// memory (the smallest room any thread of the run got).
    pub memory: Option<Shortage>,
    /// `/proc/self/maps` could not be read (Linux without `/proc` mounted):
    /// source lines (the frame walk needs the stack's bounds from it, the
    /// symboliser the program's file from `/proc/self/exe`) and regions (the
    /// mappings, the brk heap) could not be found.
    pub proc_missing: bool,
}

/// Room for events that memory could not give a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    /// The events per thread asked for.
    pub events: usize,
    /// The bytes that room takes (events and their call chains).
    pub bytes: u64,
    /// The most events a recording could have instead (0: none).
    pub fits: usize,
}

/// The blocks live after the first `count` events: address → index of the
/// event that gave the block its current address and size.
pub fn live_after(events: &[Event], count: usize) -> HashMap<usize, usize> {
    let mut live = HashMap::new();
    for (i, event) in events[..count.min(events.len())].iter().enumerate() {
        match event.kind {
            Kind::Alloc | Kind::AllocZeroed => {
                live.insert(event.address, i);
            }
            Kind::Realloc => {
                if let Some((old, _)) = event.old {
                    live.remove(&old);
                }
                live.insert(event.address, i);
            }
            Kind::Dealloc => {
                live.remove(&event.address);
            }
        }
    }
    live
}

/// The block live after the first `count` events that contains `address`:
/// the index of its event and the offset of `address` inside it. A pointer
/// into a block (an `Rc`'s value after its counters) finds the block too.
pub fn block_containing(events: &[Event], count: usize, address: usize) -> Option<(usize, usize)> {
    live_after(events, count).into_values().find_map(|i| {
        let block = &events[i];
        let offset = address.checked_sub(block.address)?;
        (offset < block.size.max(1)).then_some((i, offset))
    })
}

/// The heap block a probed value itself lies in, when it is a field of one
/// (a `String` header inside a `Vec`'s block, an `Rc` node's `next`) and not
/// a stack slot: the index of the event that gave the block its address and
/// the value's offset inside it, read off the addresses when it was probed.
/// A value on a stack is never inside a heap block.
pub fn field_block(events: &[Event], local: &Local) -> Option<(usize, usize)> {
    if matches!(local.region, Region::Stack | Region::ThreadStack) {
        return None;
    }
    block_containing(events, local.after_event, local.address)
}

/// A block still allocated when the run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveBlock {
    /// Index into `Trace::events` of the event that gave the block its
    /// current address and size (an alloc, or the last realloc).
    pub event: usize,
    /// The name the code kept it under, if it is alive on purpose.
    pub kept: Option<Text>,
}

/// Totals over a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// `alloc` and `alloc_zeroed` calls.
    pub allocs: usize,
    pub reallocs: usize,
    pub deallocs: usize,
    /// Bytes requested: each allocation's size plus each realloc's new size.
    pub bytes_allocated: usize,
    /// Most bytes live in blocks allocated during the trace at any one time.
    pub peak_live_bytes: usize,
    /// Bytes of blocks allocated during the trace and not freed by its end.
    pub live_bytes_at_end: usize,
    pub lost_events: u64,
    pub dropped_probes: u64,
}

impl Summary {
    /// The names of the summary figures: the JSON keys and the names lesson
    /// queries use (`answer … summary peak_live_bytes`).
    pub const FIELDS: [&'static str; 8] = [
        "allocs",
        "reallocs",
        "deallocs",
        "bytes_allocated",
        "peak_live_bytes",
        "live_bytes_at_end",
        "lost_events",
        "dropped_probes",
    ];

    /// Each figure with its name, in the order of [`Summary::FIELDS`].
    pub fn fields(&self) -> [(&'static str, u64); 8] {
        let values = [
            self.allocs as u64,
            self.reallocs as u64,
            self.deallocs as u64,
            self.bytes_allocated as u64,
            self.peak_live_bytes as u64,
            self.live_bytes_at_end as u64,
            self.lost_events,
            self.dropped_probes,
        ];
        std::array::from_fn(|i| (Self::FIELDS[i], values[i]))
    }

    /// One figure by name.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.fields()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }
}

impl Trace {
    /// The name of `thread`.
    pub fn thread_name(&self, thread: Thread) -> &str {
        self.thread_names
            .get(thread.0 as usize)
            .map_or("?", |name| name)
    }

    /// The threads with events or probes in this trace, in order of appearance.
    pub fn threads(&self) -> Vec<Thread> {
        let mut threads = vec![];
        let named = self.events.iter().map(|e| e.thread);
        for thread in named.chain(self.locals.iter().map(|l| l.thread)) {
            if !threads.contains(&thread) {
                threads.push(thread);
            }
        }
        threads
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            lost_events: self.loss.events,
            dropped_probes: self.loss.probes,
            ..Summary::default()
        };
        for event in &self.events {
            match event.kind {
                Kind::Alloc | Kind::AllocZeroed => summary.allocs += 1,
                Kind::Realloc => summary.reallocs += 1,
                Kind::Dealloc => summary.deallocs += 1,
            }
            if event.kind != Kind::Dealloc {
                summary.bytes_allocated += event.size;
            }
        }
        let live = self.live_bytes();
        summary.peak_live_bytes = live.iter().copied().max().unwrap_or(0);
        summary.live_bytes_at_end = live.last().copied().unwrap_or(0);
        summary
    }

    /// Bytes live after each event: the requested sizes of the blocks
    /// allocated during the trace and not yet freed.
    pub fn live_bytes(&self) -> Vec<usize> {
        // Sizes of blocks allocated in this trace and not yet freed.
        let mut live: HashMap<usize, usize> = HashMap::new();
        let mut bytes = 0usize;
        self.events
            .iter()
            .map(|event| {
                match event.kind {
                    Kind::Alloc | Kind::AllocZeroed => {
                        live.insert(event.address, event.size);
                        bytes += event.size;
                    }
                    Kind::Realloc => {
                        let (old_address, _) = event.old.unwrap_or_default();
                        bytes -= live.remove(&old_address).unwrap_or(0);
                        live.insert(event.address, event.size);
                        bytes += event.size;
                    }
                    Kind::Dealloc => bytes -= live.remove(&event.address).unwrap_or(0),
                }
                bytes
            })
            .collect()
    }

    /// Blocks allocated during the trace and not freed by its end, in order of
    /// the event that gave each its current address and size.
    pub fn live_blocks(&self) -> Vec<LiveBlock> {
        let mut blocks: Vec<LiveBlock> = live_after(&self.events, self.events.len())
            .into_values()
            .map(|i| LiveBlock {
                event: i,
                kept: self
                    .kept
                    .iter()
                    .find(|k| k.address == self.events[i].address)
                    .map(|k| k.name.clone()),
            })
            .collect();
        blocks.sort_by_key(|b| b.event);
        blocks
    }

    /// Events with no source line in the source's file.
    pub fn unattributed(&self) -> usize {
        self.events.iter().filter(|e| e.line.is_none()).count()
    }
}
