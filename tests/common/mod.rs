//! Helpers shared by the scenario test files (each file uses some of them).
#![allow(dead_code)]

use memlab::scenarios::{self, Scenario};
use memlab::trace::Local;
use memlab::trace::{Event, Trace};
use memlab::{Kind, Options};

/// A live run of scenario `id`.
pub fn run(id: &str) -> Trace {
    scenario(id).trace(Options::default(), None)
}

#[track_caller]
pub fn scenario(id: &str) -> &'static Scenario {
    scenarios::find(id).unwrap_or_else(|| panic!("no scenario {id}"))
}

/// The 1-based line of `scenario` whose code contains `snippet` (exactly one).
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

pub fn kinds(events: &[Event]) -> Vec<Kind> {
    events.iter().map(|e| e.kind).collect()
}

/// The first local so named.
#[track_caller]
pub fn local<'t>(trace: &'t Trace, name: &str) -> &'t Local {
    trace
        .locals
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no local {name}"))
}
