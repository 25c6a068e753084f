//! A scenario's run as plain data: heap events tied to source lines, stack
//! locals, observations, and the facts derived from them (live bytes, peaks).
//! Views in `render/` are functions of a [`Trace`]; nothing here prints.

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::{Path, PathBuf};

use crate::recorder::{self, Kind, Options, RawEvent, Recording};
use crate::region::{Maps, Region};
use crate::scenarios::Scenario;
use crate::scene::{Kept, Local, Observation, Scene, ScopeEnd, Target};

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
    /// The thread that made the call.
    pub thread: &'static str,
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
    /// Where the scenario said locals went out of scope.
    pub scope_ends: Vec<ScopeEnd>,
    /// Events that did not fit in the recorder's buffer.
    pub lost_events: u64,
    /// Events the recorder's buffer held, per thread.
    pub capacity: usize,
    /// The scenario's panic message, if it panicked.
    pub panic: Option<String>,
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

/// Where a probed pointer pointed when it was probed: the region of the live
/// block of this trace holding that address, or else what the mappings say.
fn target_region(events: &[Event], maps: &Maps, target: &Target, after_event: usize) -> Region {
    if target.capacity == Some(0) {
        return Region::Unknown; // dangling: no memory at all
    }
    if let Some((i, _)) = block_containing(events, after_event, target.address) {
        return events[i].region;
    }
    match maps.region(target.address) {
        // A heap address that is no live block of this trace: say nothing certain.
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
    /// Runs `scenario` under the recorder and resolves each event's source
    /// line. Threads the scenario starts with `Scene::spawn` are merged in.
    pub fn run(scenario: &'static Scenario, options: Options) -> Trace {
        Trace::run_sized(scenario, options, None)
    }

    /// Like [`Trace::run`], with a sized scenario's size (its default when
    /// `None`; ignored by scenarios that take none).
    pub fn run_sized(scenario: &'static Scenario, options: Options, n: Option<usize>) -> Trace {
        let thread = if crate::region::is_main_thread() {
            "main"
        } else {
            "scenario"
        };
        let mut scene = Scene::new(thread, options);
        scene.set_n(n.or(scenario.default_n).unwrap_or(0));
        let recording = recorder::record(options, || (scenario.run)(&mut scene));

        // Every thread's recording and probes, the scenario's own first.
        let mut parts: Vec<(&Recording<()>, &Scene)> = vec![(&recording, &scene)];
        let mut i = 0;
        while i < parts.len() {
            let children = parts[i].1.children();
            parts.extend(children.iter().map(|c| (&c.recording, &c.scene)));
            i += 1;
        }

        let mut lines = LineResolver::new(Path::new(scenario.file));
        // (key, part, index in its recording, event), sorted: keys order the
        // threads' events; equal keys belong to one thread, in its own order.
        let mut merged: Vec<(u64, usize, usize, Event)> = vec![];
        for (part, (recording, scene)) in parts.iter().enumerate() {
            for (index, raw) in recording.events().iter().enumerate() {
                let line = lines.line(recording, raw);
                let event = Event::from_raw(raw, line, scene.thread());
                merged.push((raw.seq, part, index, event));
            }
        }
        merged.sort_by_key(|&(key, part, index, _)| (key, part, index));
        let order: Vec<(u64, usize, usize)> =
            merged.iter().map(|&(k, p, i, _)| (k, p, i)).collect();
        let events: Vec<Event> = merged
            .into_iter()
            .enumerate()
            .map(|(i, (_, _, _, event))| Event {
                seq: i + 1,
                ..event
            })
            .collect();
        // A probe with mark (key, n) taken on part p comes after every event
        // with a smaller key and after p's own first n events.
        let place = |part: usize, (key, n): (u64, usize)| {
            order
                .iter()
                .filter(|&&(k, p, i)| k < key || (k == key && p == part && i < n))
                .count()
        };

        let maps = Maps::read();
        let mut locals: Vec<Local> = vec![];
        let mut observations: Vec<Observation> = vec![];
        let mut scope_ends: Vec<ScopeEnd> = vec![];
        for (part, (_, scene)) in parts.iter().enumerate() {
            for end in scene.scope_ends() {
                scope_ends.push(ScopeEnd {
                    after_event: place(part, end.mark),
                    ..*end
                });
            }
            for local in scene.locals() {
                let after_event = place(part, local.mark);
                locals.push(Local {
                    after_event,
                    ..local.clone()
                });
            }
            for observation in scene.observations() {
                let mut observation = *observation;
                observation.after_event = place(part, observation.mark);
                observations.push(observation);
            }
        }
        // Probes in the order they were taken, across threads (stable: a
        // thread's own probes keep their order).
        locals.sort_by_key(|l| (l.after_event, l.mark.0));
        scope_ends.sort_by_key(|e| (e.after_event, e.mark.0));
        observations.sort_by_key(|o| (o.after_event, o.mark.0));
        for local in &mut locals {
            if let Some(target) = local.points_to.as_mut() {
                target.region = target_region(&events, &maps, target, local.after_event);
            }
        }
        let panics: Vec<String> = parts
            .iter()
            .filter_map(|(recording, scene)| {
                let message = recording.outcome.as_ref().err()?;
                Some(if scene.thread() == thread {
                    message.clone()
                } else {
                    format!("in thread {}: {message}", scene.thread())
                })
            })
            .collect();
        Trace {
            scenario,
            events,
            locals,
            observations,
            kept: parts.iter().flat_map(|(_, s)| s.kept().to_vec()).collect(),
            scope_ends,
            lost_events: parts.iter().map(|(r, _)| r.lost()).sum(),
            capacity: options.capacity,
            panic: (!panics.is_empty()).then(|| panics.join("; ")),
        }
    }

    /// The threads with events or probes in this trace, in order of appearance.
    pub fn threads(&self) -> Vec<&'static str> {
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
            lost_events: self.lost_events,
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
                    .map(|k| k.name),
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
    /// An event before merging; `seq` is set once all threads are in order.
    fn from_raw(raw: &RawEvent, line: Option<u32>, thread: &'static str) -> Event {
        Event {
            seq: 0,
            kind: raw.kind(),
            address: raw.address,
            size: raw.size,
            align: raw.align(),
            old: (raw.kind() == Kind::Realloc).then_some((raw.old_address, raw.old_size)),
            line,
            region: raw.region,
            usable: (raw.usable() != 0).then_some(raw.usable()),
            thread,
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
