//! The helpers every scenario file shares, each with one signature. Those
//! that can fail are `#[track_caller]` and panic in their own body (a panic
//! inside a closure would name the closure, not the test's line).
//! (tests/common/mod.rs keeps `run` and `local` for tests/pictures.rs.)

use memlab::capture::Options;
use memlab::scenarios::{self, Scenario};
use memlab::trace::{Event, Kind, Local, Observation, Region, Trace};

/// The built-in scenario `id`.
#[track_caller]
pub fn scenario(id: &str) -> &'static Scenario {
    let Some(scenario) = scenarios::find(id) else {
        panic!("no scenario {id}")
    };
    scenario
}

/// A live run of scenario `id`, with the default options.
#[track_caller]
pub fn run(id: &str) -> Trace {
    scenario(id).trace(Options::default(), None)
}

/// The 1-based line of scenario `id` whose code contains `snippet` (exactly one).
#[track_caller]
pub fn line_of(id: &str, snippet: &str) -> u32 {
    let lines: Vec<usize> = scenario(id)
        .source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(snippet))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{snippet:?} in {id}: lines {lines:?}");
    lines[0] as u32
}

/// The kind of each event, in order.
pub fn kinds(events: &[Event]) -> Vec<Kind> {
    events.iter().map(|e| e.kind).collect()
}

/// The first local so named (on any thread).
#[track_caller]
pub fn local<'t>(trace: &'t Trace, name: &str) -> &'t Local {
    let Some(local) = trace.locals.iter().find(|l| l.name == name) else {
        panic!("no local {name}")
    };
    local
}

/// The address a pointer-holding local points to.
#[track_caller]
pub fn target_of(local: &Local) -> usize {
    let Some(target) = local.points_to else {
        panic!("{} points nowhere", local.name)
    };
    target.address
}

/// The address the first local named `name` points to.
#[track_caller]
pub fn target(trace: &Trace, name: &str) -> usize {
    target_of(local(trace, name))
}

/// The links (heap-to-heap pointers) at the moment of the last probe naming
/// `name`, as (label, from block, offset, to block, offset into it).
#[track_caller]
pub fn links_after(trace: &Trace, name: &str) -> Vec<(String, usize, usize, usize, usize)> {
    use memlab::trace::snapshot::{self, Snapshot};
    let Some(moment) = snapshot::moment_naming(trace, name) else {
        panic!("no moment names {name}")
    };
    let ids = snapshot::block_ids(&trace.events);
    let snap = Snapshot::at(trace, &ids, moment);
    snap.links
        .iter()
        .map(|l| {
            let label = l.label.to_string();
            (label, l.from_block, l.offset, l.to_block, l.to_offset)
        })
        .collect()
}

/// The first observation so labelled.
#[track_caller]
pub fn observation<'t>(trace: &'t Trace, label: &str) -> &'t Observation {
    let Some(observation) = trace.observations.iter().find(|o| o.label == label) else {
        panic!("no observation {label}")
    };
    observation
}

/// The observation made `index`-th (0-based, in the trace's order).
#[track_caller]
pub fn observation_at(trace: &Trace, index: usize) -> &Observation {
    let Some(observation) = trace.observations.get(index) else {
        panic!(
            "no observation #{index}: {} in all",
            trace.observations.len()
        )
    };
    observation
}

/// Where a small block may be: glibc's main heap or, since tests run on
/// spawned threads, a thread's arena; never unknown, a stack, a mapping of
/// its own or the program.
pub fn small_block_region(region: Region) -> bool {
    matches!(region, Region::Heap | Region::Arena)
}
