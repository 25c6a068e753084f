//! memlab: see how Rust uses the stack and the heap.
//!
//! Code runs under a recording global allocator (`capture`); its heap events
//! and stack probes become a [`Trace`], plain data (`trace`), which the views
//! in `render` turn into tables, diagrams and charts. ARCHITECTURE.md has the
//! map.
//!
//! The front door is [`trace()`]: run a closure under the recorder and get
//! its trace back, for a scenario of your own or an assertion in a test.
//!
//! ```
//! use memlab::{Kind, Options, Source};
//!
//! let trace = memlab::trace(Source::new("doc", file!()), Options::default(), |s| {
//!     let numbers = std::hint::black_box(vec![1u32, 2, 3]);
//!     s.pointer("numbers", &numbers);
//! });
//! let kinds: Vec<Kind> = trace.events.iter().map(|e| e.kind).collect();
//! assert_eq!(kinds, [Kind::Alloc, Kind::Dealloc]);
//! assert_eq!((trace.events[0].size, trace.events[0].align), (12, 4));
//! ```
#![deny(unsafe_code)]

// The vocabulary and the capture room live in the `memlab-runtime` crate
// (runtime/), which is what `memlab run` builds a user's file against. Its
// names are memlab's: code written against one runs against the other.
pub use memlab_runtime::{
    Event, Kind, Lines, Options, Pointee, Pointer, Region, Scene, Source, Spawned, Summary, Trace,
    capture, scene, trace,
};

// Scenarios name the library as users do: `use memlab::Scene;`.
extern crate self as memlab;

pub mod app;
pub mod export;
pub mod lessons;
pub mod render;
pub mod runner;
pub mod scenarios;
pub mod text;

/// README.md's examples run as doc-tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "global-allocator")]
use capture::recorder;

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
