//! `memlab run FILE.rs`: a user's own file, traced. memlab prepares the file
//! (`source`), builds it against the runtime crate in its cache (`project`),
//! runs the program in a child process (`child`), and reads back the `Trace`
//! the child recorded, which every view shows as it shows a scenario's.
//!
//! ```text
//!  memlab (this process)                      the program (a child process)
//!  read, prepare, build ──▶ spawn ──────────▶ records through memlab::capture
//!  time-out, output kept apart ◀──────────── report: the Trace (postcard), a file
//! ```

pub mod child;
pub mod project;
pub mod source;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::trace::{Source, Trace};
pub use child::Output;
use memlab_runtime::capture::program::End;
pub use source::{FileKind, UserFile};

/// Why a file could not be traced.
#[derive(Debug)]
pub enum RunError {
    /// Not a file memlab can run (missing, a folder, not `.rs`, no `run` or
    /// `main`): exit 2.
    Usage(String),
    /// rustc rejected it: its messages, as it rendered them.
    Compile(String),
    /// Anything else: exit 1.
    Failed(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Usage(message) | RunError::Failed(message) => f.write_str(message),
            RunError::Compile(_) => f.write_str("the file does not compile"),
        }
    }
}

/// A traced run of a user's file.
pub struct Run {
    pub file: UserFile,
    /// What it did: the same value a built-in scenario's run gives.
    pub trace: Trace,
    pub stdout: Output,
    pub stderr: Output,
    /// How it ended, when not normally (a panic, a time-out, a signal, …).
    pub ending: Option<String>,
    /// Whether the trace holds only part of the run.
    pub partial: bool,
    /// Sentences about what the trace leaves out.
    pub notes: Vec<String>,
    /// Whether the file was compiled for this run (not a cached build).
    pub compiled: bool,
}

/// What `memlab run` was asked.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub file: &'a Path,
    pub cache_dir: Option<&'a Path>,
    pub settings: child::Settings,
    /// Colour for the compiler's messages.
    pub colour: bool,
}

/// Prepares, builds and runs the file; returns its trace, or why not.
pub fn run(request: &Request) -> Result<Run, RunError> {
    let file = source::read(request.file)?;
    let cache = project::Cache::new(request.cache_dir)?;
    let built = project::build(&cache, &file, request.colour)?;
    let report_path = cache.report_path()?;
    let ran = child::run(&built.exe, &file, &report_path, &request.settings)?;
    let ending = child::ending(&ran, request.settings.timeout);
    let source = Source {
        id: file.id().into(),
        title: file.shown.clone().into(),
        summary: match file.kind {
            FileKind::Scenario => "Your scenario file, run under memlab's recorder".into(),
            FileKind::Program => {
                "Your program, every heap event of main and the threads it starts".into()
            }
        },
        file: file.shown.clone().into(),
        text: file.text.clone().into(),
        program: file.kind == FileKind::Program,
        command: format!("memlab run {}", source::escaped(&file.shown)).into(),
    };
    let mut notes = vec![];
    let (trace, partial) = match ran.report {
        Some(report) => {
            if report.runtime_events > 0 {
                let when = match report.end {
                    End::TimedOut => "before main started",
                    _ => "before main started and after it ended",
                };
                notes.push(format!(
                    "{} heap events of Rust's runtime, {when}, are not shown",
                    report.runtime_events
                ));
            }
            if report.unrecorded_threads > 0 {
                let why = match report.recordable_threads {
                    15.. => "memlab records up to 15".to_string(),
                    n => format!("memory held recordings for only {n} (memlab records up to 15)"),
                };
                notes.push(format!(
                    "{} threads the program started were not recorded: {why}",
                    report.unrecorded_threads
                ));
            }
            let stopped = report.end == End::TimedOut;
            let partial = report.end != End::Finished || ran.status.code() != Some(0);
            (
                Trace {
                    source,
                    stopped,
                    ..report.trace
                },
                partial && ending.is_some(),
            )
        }
        None => (
            Trace {
                source,
                events: vec![],
                locals: vec![],
                observations: vec![],
                kept: vec![],
                scope_ends: vec![],
                thread_names: vec!["main".into()],
                loss: Default::default(),
                panic: None,
                stopped: false,
                allocator: Default::default(),
            },
            true,
        ),
    };
    Ok(Run {
        file,
        trace,
        stdout: ran.stdout,
        stderr: ran.stderr,
        ending,
        partial,
        notes,
        compiled: built.compiled,
    })
}

/// A starting file for `memlab new`: a scenario with a few probes, which
/// `memlab run` accepts as it is.
pub const STARTER: &str = r#"//! Your own scenario: what does this code do to the heap?
//! Run it with `memlab run FILE.rs`; `--view diagram` draws it, `--step`
//! walks through it, `--watch` runs it again on every save.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    // A Vec starts with no heap block at all.
    let mut numbers: Vec<u32> = Vec::new();
    s.pointer("numbers", &numbers);

    // Each push that finds the block full asks the allocator for more.
    for i in 0..5 {
        numbers.push(black_box(i));
        s.observe("push", &[("len", numbers.len()), ("capacity", numbers.capacity())]);
    }
    s.pointer("numbers", &numbers);

    // A String keeps its bytes on the heap too.
    let greeting = String::from("hello");
    s.pointer("greeting", &greeting);
} // `greeting`, then `numbers`, are dropped here: their blocks are freed.
"#;

/// Whether the time-out given is one memlab accepts.
pub fn timeout(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0)
        .then(|| Duration::from_secs_f64(seconds))
}
