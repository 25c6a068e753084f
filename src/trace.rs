//! A scenario's run as plain data: heap events tied to source lines, stack
//! locals, observations, and the facts derived from them (live bytes, peaks).
//! Views in `render/` are functions of a [`Trace`]; nothing here prints.

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::{Path, PathBuf};

use crate::recorder::{self, Kind, Options, RawEvent, Recording};
use crate::region::{Maps, Region};
use crate::scenarios::Scenario;
use crate::scene::{Kept, Local, Observation, Scene, Target};

/// One heap event, tied to the scenario line that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Line in the scenario's file, when the call chain reached it.
    pub line: Option<u32>,
    /// Where the block is, decided while it was alive.
    pub region: Region,
    /// Bytes the allocator really reserved for the block, when known.
    pub usable: Option<usize>,
}

impl Event {
    /// For realloc: whether the block moved to a new address.
    pub fn moved(&self) -> Option<bool> {
        self.old.map(|(old_address, _)| old_address != self.address)
    }
}

/// A finished scenario run.
#[derive(Clone, Debug)]
pub struct Trace {
    pub scenario: &'static Scenario,
    pub events: Vec<Event>,
    pub locals: Vec<Local>,
    pub observations: Vec<Observation>,
    /// Blocks the scenario declared it leaves alive on purpose.
    pub kept: Vec<Kept>,
    /// Events that did not fit in the recorder's buffer.
    pub lost_events: u64,
    /// The scenario's panic message, if it panicked.
    pub panic: Option<String>,
}

/// Where a probed pointer pointed when it was probed: the region of the live
/// block of this trace at that address, or else what the mappings say.
fn target_region(events: &[Event], maps: &Maps, target: &Target, after_event: usize) -> Region {
    if target.capacity == Some(0) {
        return Region::Unknown; // dangling: no memory at all
    }
    for event in events[..after_event.min(events.len())].iter().rev() {
        if event.address == target.address {
            return match event.kind {
                Kind::Dealloc => Region::Unknown, // freed: points at nothing live
                _ => event.region,
            };
        }
        if event.old.is_some_and(|(old, _)| old == target.address) {
            return Region::Unknown; // the block moved away from here
        }
    }
    match maps.region(target.address) {
        // A heap address that is no block of this trace: say nothing certain.
        Region::Heap => Region::Unknown,
        region => region,
    }
}

/// A block still allocated when the scenario ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveBlock {
    /// Index into `Trace::events` of the event that gave the block its
    /// current address and size (an alloc, or the last realloc).
    pub event: usize,
    /// The name the scenario kept it under, if it is alive on purpose.
    pub kept: Option<&'static str>,
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
}

impl Summary {
    /// The names of the summary figures: the JSON keys and the names lesson
    /// queries use (`answer … summary peak_live_bytes`).
    pub const FIELDS: [&'static str; 7] = [
        "allocs",
        "reallocs",
        "deallocs",
        "bytes_allocated",
        "peak_live_bytes",
        "live_bytes_at_end",
        "lost_events",
    ];

    /// Each figure with its name, in the order of [`Summary::FIELDS`].
    pub fn fields(&self) -> [(&'static str, u64); 7] {
        let values = [
            self.allocs as u64,
            self.reallocs as u64,
            self.deallocs as u64,
            self.bytes_allocated as u64,
            self.peak_live_bytes as u64,
            self.live_bytes_at_end as u64,
            self.lost_events,
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
    /// Runs `scenario` under the recorder and resolves each event's source line.
    pub fn run(scenario: &'static Scenario, options: Options) -> Trace {
        let mut scene = Scene::new();
        let recording = recorder::record(options, || (scenario.run)(&mut scene));
        let mut lines = LineResolver::new(Path::new(scenario.file));
        let events: Vec<Event> = recording
            .events()
            .iter()
            .enumerate()
            .map(|(i, raw)| Event::from_raw(i + 1, raw, lines.line(&recording, raw)))
            .collect();
        let maps = Maps::read();
        let mut locals = scene.locals().to_vec();
        for local in &mut locals {
            if let Some(target) = local.points_to.as_mut() {
                target.region = target_region(&events, &maps, target, local.after_event);
            }
        }
        Trace {
            scenario,
            events,
            locals,
            observations: scene.observations().to_vec(),
            kept: scene.kept().to_vec(),
            lost_events: recording.lost(),
            panic: recording.outcome.as_ref().err().cloned(),
        }
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            lost_events: self.lost_events,
            ..Summary::default()
        };
        // Sizes of blocks allocated in this trace and not yet freed.
        let mut live: HashMap<usize, usize> = HashMap::new();
        let mut live_bytes = 0usize;
        for event in &self.events {
            match event.kind {
                Kind::Alloc | Kind::AllocZeroed => {
                    summary.allocs += 1;
                    summary.bytes_allocated += event.size;
                    live.insert(event.address, event.size);
                    live_bytes += event.size;
                }
                Kind::Realloc => {
                    summary.reallocs += 1;
                    summary.bytes_allocated += event.size;
                    let (old_address, _) = event.old.unwrap_or_default();
                    if let Some(old_size) = live.remove(&old_address) {
                        live_bytes -= old_size;
                    }
                    live.insert(event.address, event.size);
                    live_bytes += event.size;
                }
                Kind::Dealloc => {
                    summary.deallocs += 1;
                    if let Some(size) = live.remove(&event.address) {
                        live_bytes -= size;
                    }
                }
            }
            summary.peak_live_bytes = summary.peak_live_bytes.max(live_bytes);
        }
        summary.live_bytes_at_end = live_bytes;
        summary
    }

    /// Blocks allocated during the trace and not freed by its end, in order of
    /// the event that gave each its current address and size.
    pub fn live_blocks(&self) -> Vec<LiveBlock> {
        let mut live: HashMap<usize, usize> = HashMap::new(); // address → event index
        for (i, event) in self.events.iter().enumerate() {
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
        let mut blocks: Vec<LiveBlock> = live
            .into_values()
            .map(|i| {
                let event = &self.events[i];
                LiveBlock {
                    event: i,
                    kept: self
                        .kept
                        .iter()
                        .find(|k| k.address == event.address)
                        .map(|k| k.name),
                }
            })
            .collect();
        blocks.sort_by_key(|b| b.event);
        blocks
    }

    /// Events with no source line in the scenario's file.
    pub fn unattributed(&self) -> usize {
        self.events.iter().filter(|e| e.line.is_none()).count()
    }
}

impl Event {
    fn from_raw(seq: usize, raw: &RawEvent, line: Option<u32>) -> Event {
        Event {
            seq,
            kind: raw.kind,
            address: raw.address,
            size: raw.size,
            align: raw.align,
            old: (raw.kind == Kind::Realloc).then_some((raw.old_address, raw.old_size)),
            line,
            region: raw.region,
            usable: (raw.usable != 0).then_some(raw.usable),
        }
    }
}

/// The (file, line) of each frame inlined at one return address, innermost first.
type InlinedFrames = Vec<(Option<PathBuf>, Option<u32>)>;

/// Finds, for a captured call chain, the innermost frame in one source file.
/// Symbolises each return address once (about 6 ms for the first, cold).
struct LineResolver<'a> {
    file: &'a Path,
    /// Return address → the (file, line) of each frame inlined there, innermost first.
    symbols: HashMap<usize, InlinedFrames>,
}

impl<'a> LineResolver<'a> {
    fn new(file: &'a Path) -> Self {
        LineResolver {
            file,
            symbols: HashMap::new(),
        }
    }

    fn line<R>(&mut self, recording: &Recording<R>, event: &RawEvent) -> Option<u32> {
        let chain = recording.chain(event)?;
        for &ip in chain {
            let frames = self.symbols.entry(ip).or_insert_with(|| {
                let mut frames = Vec::new();
                // `resolve` looks up the call instruction just before `ip`.
                backtrace::resolve(ip as *mut c_void, |symbol| {
                    frames.push((symbol.filename().map(Path::to_path_buf), symbol.lineno()));
                });
                frames
            });
            let in_file = frames
                .iter()
                .find(|(file, _)| file.as_deref().is_some_and(|f| f.ends_with(self.file)));
            if let Some((_, line)) = in_file {
                return *line;
            }
        }
        None
    }
}
