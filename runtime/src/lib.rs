//! The part of memlab that a traced program links: the vocabulary (`trace`,
//! a run as plain data) and capture (`capture`, the recording allocator, its
//! probes and the front door `capture::trace`). The `memlab` crate re-exports
//! both and adds everything that reads a trace: views, lessons, the CLI.
//!
//! It is a crate of its own so that `memlab run FILE.rs` can build a user's
//! file against it alone, without memlab's views and their dependencies.
#![deny(unsafe_code)]

pub mod trace;

#[allow(unsafe_code)] // the one room for it: see its header
pub mod capture;

pub use capture::pointer::{Pointee, Pointer};
/// The probe API's path: `memlab::scene::Scene`.
pub use capture::scene;
pub use capture::scene::{Scene, Spawned};
pub use capture::{Lines, Options, trace};
pub use trace::{Event, Kind, Region, Source, Summary, Trace};

/// The recorder's own tests need it installed in their test binary.
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: capture::recorder::Recorder = capture::recorder::Recorder;
