//! Capture: running code under the recorder and turning what it did into a
//! [`Trace`]. This is memlab's only room with `unsafe` code (and one
//! documented exception outside it, the `raw-alloc` scenario):
//!
//! - `recorder`: the global allocator, per-thread recording, call chains;
//! - `region`: where an address lives (glibc's chunk headers, thread stacks,
//!   `/proc/self/maps`);
//! - `child`: a step that kills its process, run in a forked child;
//! - `limits`: memlab's own stack against `ulimit -s`;
//! - `scene` and `pointer`: the probe API code uses to hand back locals and
//!   observations.
//!
//! It imports only the vocabulary (`crate::trace`). [`trace`] is the front
//! door: it runs a closure under the recorder, resolves every event's source
//! line, merges the threads the closure started, and places every probe
//! among the events.

use std::path::Path;

use crate::trace::{
    Event, Kept, Local, Loss, Observation, Region, ScopeEnd, Shortage, Source, Target, Text,
    Thread, Trace, block_containing,
};

pub mod backend;
pub mod bump;
pub mod child;
pub mod limits;
mod lines;
pub mod pointer;
pub mod program;
pub mod recorder;
pub mod region;
pub mod scene;

use recorder::{RawEvent, Recording, Snapshot};
use region::Maps;
use scene::Scene;

/// How many events a recording keeps per thread unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 1 << 20;
/// How many probes of each kind (locals, observations, kept blocks, scope
/// ends) a scene keeps per thread unless told otherwise.
pub const DEFAULT_PROBES: usize = 256;

/// Whether this build walks frame pointers to find source lines
/// ([`Lines::Auto`]); without them it uses the unwinder (build.rs decides).
pub fn walks_frame_pointers() -> bool {
    cfg!(memlab_frame_pointers)
}

/// How events are tied to source lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// No call chains: the cheapest recording.
    Off,
    /// The fastest capture this build supports: a frame-pointer walk when built
    /// with frame pointers (see build.rs), otherwise `Unwind`.
    Auto,
    /// The `backtrace` crate's unwinder (DWARF CFI): slower, needs no frame pointers.
    Unwind,
}

/// Settings of one run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Events kept per thread; further events are counted as lost.
    pub capacity: usize,
    pub lines: Lines,
    /// Probes of each kind kept per thread; further probes are counted as
    /// dropped. Their room is reserved before the run starts.
    pub probes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            capacity: DEFAULT_CAPACITY,
            lines: Lines::Auto,
            probes: DEFAULT_PROBES,
        }
    }
}

// lesson: front-door
/// Runs `f` under memlab's recorder and returns what it did: every heap event
/// of this thread while `f` runs, tied to the innermost line of
/// `source.file` on its call chain, and everything `f` probed through the
/// [`Scene`]. Threads `f` starts with [`Scene::spawn`] are recorded too and
/// merged in. A panic in `f` ends the run; the trace keeps the events up to
/// it and the message.
///
/// Other threads of the process are never recorded, so traces taken on
/// several threads at once (parallel tests) never see each other's events.
///
/// # Panics
/// If this thread is already recording: runs do not nest.
pub fn trace(source: Source, options: Options, f: impl FnOnce(&mut Scene)) -> Trace {
    let thread = if region::is_main_thread() {
        "main"
    } else {
        "scenario"
    };
    let mut scene = Scene::new(thread, options);
    let recording = recorder::record(options, || f(&mut scene));
    // The starting thread's part first, then each thread it joined, depth first.
    let mut parts = vec![Part::of(&recording, &scene)];
    let mut i = 0;
    while i < parts.len() {
        let children = parts[i].scene.map_or(&[][..], |s| s.children());
        parts.extend(children.iter().map(|c| Part::of(&c.recording, &c.scene)));
        i += 1;
    }
    assemble(source, options, &parts)
}
// lesson: end

/// A trace of recordings copied while they ran ([`recorder::snapshot_live`]),
/// each thread named by `names`: events only, no probes. `panic` is the
/// code's panic message, if it panicked.
pub fn trace_of_snapshots(
    source: Source,
    options: Options,
    snapshots: &[(Snapshot, Text)],
    panic: Option<String>,
) -> Trace {
    let parts: Vec<Part> = snapshots
        .iter()
        .map(|(snapshot, name)| Part {
            recorded: snapshot,
            scene: None,
            name: name.clone(),
            panic: None,
        })
        .collect();
    Trace {
        panic,
        ..assemble(source, options, &parts)
    }
}

/// What one thread recorded: its events and their call chains.
pub(crate) trait Recorded {
    fn events(&self) -> &[RawEvent];
    fn lost(&self) -> u64;
    fn chain(&self, event: &RawEvent) -> Option<&[usize]>;
    /// The room it was asked to have and could not, for lack of memory.
    fn shortage(&self) -> Option<Shortage> {
        None
    }
}

impl<R> Recorded for Recording<R> {
    fn events(&self) -> &[RawEvent] {
        Recording::events(self)
    }
    fn lost(&self) -> u64 {
        Recording::lost(self)
    }
    fn chain(&self, event: &RawEvent) -> Option<&[usize]> {
        Recording::chain(self, event)
    }
    fn shortage(&self) -> Option<Shortage> {
        self.shortage
    }
}

impl Recorded for Snapshot {
    fn events(&self) -> &[RawEvent] {
        Snapshot::events(self)
    }
    fn lost(&self) -> u64 {
        Snapshot::lost(self)
    }
    fn chain(&self, event: &RawEvent) -> Option<&[usize]> {
        Snapshot::chain(self, event)
    }
}

/// One thread's part of a run: what it recorded, and its probes if it took any.
struct Part<'a> {
    recorded: &'a dyn Recorded,
    scene: Option<&'a Scene>,
    name: Text,
    /// The thread's panic message, if it panicked.
    panic: Option<&'a str>,
}

impl<'a> Part<'a> {
    fn of(recording: &'a Recording<()>, scene: &'a Scene) -> Part<'a> {
        Part {
            recorded: recording,
            scene: Some(scene),
            name: scene.thread().into(),
            panic: recording.outcome.as_ref().err().map(String::as_str),
        }
    }
}

/// Builds the trace from the threads' parts, the starting thread's first.
fn assemble(source: Source, options: Options, parts: &[Part]) -> Trace {
    let thread_names: Vec<Text> = parts.iter().map(|p| p.name.clone()).collect();

    let mut lines = lines::Resolver::new(Path::new(&*source.file));
    // (key, part, index in its recording), sorted: keys order the threads'
    // events; equal keys belong to one thread, in its own order. Events are
    // then made once, in that order.
    let mut order: Vec<(u64, u32, u32)> = parts
        .iter()
        .enumerate()
        .flat_map(|(part, p)| {
            let events = p.recorded.events().iter().enumerate();
            events.map(move |(index, raw)| (raw.seq, part as u32, index as u32))
        })
        .collect();
    order.sort_unstable();
    let events: Vec<Event> = order
        .iter()
        .enumerate()
        .map(|(n, &(_, part, index))| {
            let recorded = parts[part as usize].recorded;
            let raw = &recorded.events()[index as usize];
            let line = lines.line(recorded, raw);
            Event {
                seq: n + 1,
                ..event(raw, line, Thread(part))
            }
        })
        .collect();
    // A probe with mark (key, n) taken on part p comes after every event
    // with a smaller key and after p's own first n events: two searches of
    // the sorted order.
    let place = |part: usize, (key, n): (u64, usize)| {
        let (part, n) = (part as u32, u32::try_from(n).unwrap_or(u32::MAX));
        let before = order.partition_point(|&(k, _, _)| k < key);
        let own = order.partition_point(|&e| e < (key, part, n))
            - order.partition_point(|&e| e < (key, part, 0));
        before + own
    };

    let maps = Maps::read();
    let mut locals: Vec<Local> = vec![];
    let mut observations: Vec<(u64, Observation)> = vec![];
    let mut scope_ends: Vec<ScopeEnd> = vec![];
    let mut kept: Vec<Kept> = vec![];
    let mut loss = Loss {
        event_capacity: options.capacity,
        probe_capacity: options.probes,
        proc_missing: region::proc_missing(),
        ..Loss::default()
    };
    for (part, p) in parts.iter().enumerate() {
        let thread = Thread(part as u32);
        loss.events += p.recorded.lost();
        if let Some(short) = p.recorded.shortage() {
            // The thread that got the least room says what would fit.
            loss.memory = Some(match loss.memory {
                Some(other) if other.fits <= short.fits => other,
                _ => short,
            });
        }
        let Some(scene) = p.scene else { continue };
        for end in scene.scope_ends() {
            scope_ends.push(ScopeEnd {
                thread,
                frame: end.frame.into(),
                names: end.names.iter().map(|&n| Text::from(n)).collect(),
                line: end.line,
                after_event: place(part, end.mark),
                key: end.mark.0,
                order: end.order,
            });
        }
        for local in scene.locals() {
            let after_event = place(part, local.mark);
            let points_to = local.points_to.map(|p| {
                let target = Target {
                    address: p.address,
                    len: p.len,
                    capacity: p.capacity,
                    region: Region::Unknown,
                };
                Target {
                    region: target_region(&events, &maps, &target, after_event),
                    ..target
                }
            });
            locals.push(Local {
                thread,
                frame: local.frame.into(),
                name: local.name.into(),
                type_name: local.type_name.into(),
                address: local.address,
                size: local.size,
                align: local.align,
                points_to,
                preview: local.preview,
                // A value inside a live heap block (a field probed through a
                // reference) is in that block's region, not on a stack.
                region: match local.region {
                    Region::Unknown => block_containing(&events, after_event, local.address)
                        .map_or(Region::Unknown, |(i, _)| events[i].region),
                    region => region,
                },
                line: local.line,
                after_event,
                key: local.mark.0,
                order: local.order,
            });
        }
        for observation in scene.observations() {
            let fields = observation
                .fields()
                .iter()
                .map(|&(name, value)| (Text::from(name), value))
                .collect();
            let placed = Observation {
                thread,
                label: observation.label.into(),
                fields,
                line: observation.line,
                after_event: place(part, observation.mark),
            };
            observations.push((observation.mark.0, placed));
        }
        kept.extend(scene.kept().iter().map(|k| Kept {
            name: k.name.into(),
            address: k.address,
            line: k.line,
        }));
        loss.events += scene.lost_events();
        loss.probes += scene.dropped();
        loss.probes_wanted = loss.probes_wanted.max(scene.probes_wanted());
    }
    // Probes in the order they were taken, across threads (stable: a
    // thread's own probes keep their order).
    locals.sort_by_key(|l| (l.after_event, l.key));
    scope_ends.sort_by_key(|e| (e.after_event, e.key));
    observations.sort_by_key(|(key, o)| (o.after_event, *key));
    let panics: Vec<String> = parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let message = p.panic?;
            Some(match i {
                0 => message.to_string(),
                _ => format!("in thread {}: {message}", p.name),
            })
        })
        .collect();
    Trace {
        source,
        events,
        locals,
        observations: observations.into_iter().map(|(_, o)| o).collect(),
        kept,
        scope_ends,
        thread_names,
        loss,
        panic: (!panics.is_empty()).then(|| panics.join("; ")),
        stopped: false,
        allocator: backend::current(),
    }
}

/// An event of the trace, before merging: `seq` is set once all threads are
/// in order.
fn event(raw: &RawEvent, line: Option<u32>, thread: Thread) -> Event {
    let kind = raw.kind();
    Event {
        seq: 0,
        kind,
        address: raw.address,
        size: raw.size,
        align: raw.align(),
        old: (kind == crate::trace::Kind::Realloc).then_some((raw.old_address, raw.old_size)),
        line,
        region: raw.region,
        usable: (raw.usable() != 0).then_some(raw.usable()),
        thread,
    }
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
