//! memlab: see how Rust uses the stack and the heap.
//!
//! Scenarios (`scenarios/`) run under a recording global allocator
//! (`recorder`); their heap events and stack probes become a [`trace::Trace`],
//! which the views in `render/` turn into tables and JSON. ARCHITECTURE.md has
//! the map.

pub mod child;
pub mod lessons;
pub mod recorder;
pub mod region;
pub mod render;
pub mod scenarios;
pub mod scene;
pub mod snapshot;
pub mod trace;

// lesson: install
/// Every allocation of any program linking this library goes through memlab's
/// recorder, which only forwards to `System` unless a thread is recording.
#[cfg(feature = "global-allocator")]
#[global_allocator]
static ALLOCATOR: recorder::Recorder = recorder::Recorder;
// lesson: end

/// Up to three of `candidates` closest to `wanted` in spelling, closest first;
/// only those close enough to be a plausible typo.
pub fn closest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .map(|c| (strsim::jaro_winkler(wanted, c), c))
        .filter(|&(score, _)| score >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}
