//! A user's file run by `memlab run`: the code of the child process.
//!
//! memlab (the parent) builds a small program around the user's file and
//! runs it with the `MEMLAB_*` variables below. The program records, and at
//! its end writes a [`Report`] (postcard) to the file `MEMLAB_REPORT` names;
//! the parent reads it back as the same `Trace` a built-in scenario gives.
//! The program's own stdout and stderr are its own: the report never goes
//! through them.
//!
//! Two kinds of file:
//! - a scenario file (`pub fn run(s: &mut Scene)`): [`scenario`] runs it
//!   through the front door, like a built-in scenario;
//! - an ordinary program (`fn main`): [`start_program`] runs before `main`
//!   (from `.init_array`) and records every thread from then on; the report
//!   is written when the process exits (`atexit`, also after a panic in
//!   `main` or `process::exit`).
//!
//! In both, a watchdog thread ends the run at `MEMLAB_TIMEOUT_MS`, writing
//! what was recorded until then (a partial trace). A program that aborts or
//! is killed by a signal writes no report; the parent says how it ended.

use std::io::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::recorder::{self, Snapshot};
use super::scene::Scene;
use super::{Options, region};
use crate::trace::{Source, Text, Trace};

/// The file the report goes to.
pub const ENV_REPORT: &str = "MEMLAB_REPORT";
/// The user's file as the compiler names it: events are tied to its lines.
pub const ENV_FILE: &str = "MEMLAB_FILE";
/// The name of the trace (the file's stem).
pub const ENV_ID: &str = "MEMLAB_ID";
pub const ENV_CAPACITY: &str = "MEMLAB_CAPACITY";
pub const ENV_PROBES: &str = "MEMLAB_PROBES";
pub const ENV_TIMEOUT_MS: &str = "MEMLAB_TIMEOUT_MS";
/// memlab's process id: the child dies with it.
pub const ENV_PARENT: &str = "MEMLAB_PARENT";

/// What the child hands back.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    pub trace: Trace,
    pub end: End,
    /// Threads the program started that could not be recorded (no room).
    pub unrecorded_threads: usize,
    /// Threads that could be recorded: 15, or fewer where memory held
    /// fewer recordings.
    pub recordable_threads: usize,
    /// Events of the Rust runtime before `main` and after it returned,
    /// left out of the trace (ordinary programs only).
    pub runtime_events: usize,
}

/// How the run ended, as far as the child saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum End {
    /// The scenario's `run` returned, or the program ended (by returning from
    /// `main` or by `process::exit`: the exit code tells which).
    Finished,
    /// It panicked; the trace holds the events up to the panic.
    Panicked,
    /// It ran past the time-out: the trace holds what it recorded until then.
    TimedOut,
}

/// Reads a report the child wrote.
pub fn read_report(bytes: &[u8]) -> Result<Report, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("the child's report is unreadable: {e}"))
}

/// The run's settings, from the environment memlab gave it.
#[derive(Clone, Debug)]
struct Settings {
    report: String,
    source: Source,
    options: Options,
    timeout: Option<Duration>,
    parent: Option<u32>,
}

impl Settings {
    fn from_env() -> Option<Settings> {
        let var = |name: &str| std::env::var(name).ok();
        let number = |name: &str| var(name).and_then(|v| v.parse::<usize>().ok());
        let report = var(ENV_REPORT)?;
        let file = var(ENV_FILE).unwrap_or_default();
        let id = var(ENV_ID).unwrap_or_else(|| "program".to_string());
        let defaults = Options::default();
        Some(Settings {
            report,
            source: Source::new(id, file),
            options: Options {
                capacity: number(ENV_CAPACITY).unwrap_or(defaults.capacity),
                probes: number(ENV_PROBES).unwrap_or(defaults.probes),
                ..defaults
            },
            timeout: number(ENV_TIMEOUT_MS).map(|ms| Duration::from_millis(ms as u64)),
            parent: var(ENV_PARENT).and_then(|v| v.parse().ok()),
        })
    }
}

/// The settings of this run, once known.
static SETTINGS: Mutex<Option<Settings>> = Mutex::new(None);
/// Set once a report is written: only the first end writes one.
static REPORTED: AtomicBool = AtomicBool::new(false);
/// An ordinary program's panic message, from the panic hook.
static PANIC: Mutex<Option<String>> = Mutex::new(None);
/// Whether this is an ordinary program (every thread recorded, from before
/// `main`), not a scenario file.
static PROGRAM: AtomicBool = AtomicBool::new(false);

fn settings() -> Option<Settings> {
    SETTINGS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Writes the report once; later ends (an `atexit` after the watchdog, say)
/// write nothing.
fn report(settings: &Settings, report: &Report) {
    if REPORTED.swap(true, Ordering::SeqCst) {
        return;
    }
    let written = postcard::to_allocvec(report)
        .map_err(|e| e.to_string())
        .and_then(|bytes| std::fs::write(&settings.report, bytes).map_err(|e| e.to_string()));
    if let Err(e) = written {
        let _ = writeln!(
            std::io::stderr(),
            "memlab: cannot write the trace to {}: {e}",
            settings.report
        );
    }
}

/// Runs a scenario file's `run` under the recorder and writes its report:
/// the `main` of the program memlab builds around a scenario file.
pub fn scenario(run: fn(&mut Scene)) {
    let Some(settings) = Settings::from_env() else {
        not_run_by_memlab();
        return;
    };
    *SETTINGS.lock().unwrap_or_else(|e| e.into_inner()) = Some(settings.clone());
    if let Some(parent) = settings.parent {
        super::child::die_with_parent(parent);
    }
    register_exit();
    watchdog(settings.timeout);
    let trace = super::trace(settings.source.clone(), settings.options, run);
    let end = match trace.panic {
        Some(_) => End::Panicked,
        None => End::Finished,
    };
    let full = Report {
        trace,
        end,
        unrecorded_threads: 0,
        recordable_threads: recorder::recordable_threads(),
        runtime_events: 0,
    };
    report(&settings, &full);
}

/// Starts recording an ordinary program before its `main`. The program memlab
/// builds around an ordinary file puts this in `.init_array`.
pub extern "C" fn start_program() {
    let Some(settings) = Settings::from_env() else {
        return; // run by hand: an ordinary program, recording nothing
    };
    *SETTINGS.lock().unwrap_or_else(|e| e.into_inner()) = Some(settings.clone());
    PROGRAM.store(true, Ordering::SeqCst);
    if let Some(parent) = settings.parent {
        super::child::die_with_parent(parent);
    }
    register_exit();
    watchdog(settings.timeout);
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        recorder::paused(|| {
            let message = match info.location() {
                Some(at) => format!(
                    "{}:{}:{}: {}",
                    at.file(),
                    at.line(),
                    at.column(),
                    payload(info)
                ),
                None => payload(info),
            };
            PANIC
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(message);
            default(info);
        })
    }));
    recorder::record_every_thread(settings.options);
}

fn payload(info: &std::panic::PanicHookInfo) -> String {
    let payload = info.payload();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the program panicked".to_string()
    }
}

fn not_run_by_memlab() {
    let _ = writeln!(
        std::io::stderr(),
        "this program records its heap for memlab: run its source with 'memlab run FILE.rs'"
    );
}

/// At exit: an ordinary program's end (its `main` returned, it panicked, or it
/// called `process::exit`), or a scenario that called `process::exit`.
extern "C" fn at_exit() {
    if REPORTED.load(Ordering::SeqCst) {
        return;
    }
    let Some(settings) = settings() else { return };
    recorder::stop_every_thread();
    let panic = PANIC.lock().unwrap_or_else(|e| e.into_inner()).take();
    let end = match panic {
        Some(_) => End::Panicked,
        None => End::Finished,
    };
    report(&settings, &from_snapshots(&settings, panic, end));
}

fn register_exit() {
    // SAFETY: `at_exit` is an `extern "C" fn()` that lives for the whole
    // program; registering it has no other precondition.
    unsafe { libc::atexit(at_exit) };
}

/// After `timeout`, writes what was recorded so far and ends the process.
fn watchdog(timeout: Option<Duration>) {
    let Some(timeout) = timeout else { return };
    let (ready, wait) = std::sync::mpsc::channel();
    let started = std::thread::Builder::new()
        .name("memlab-watchdog".into())
        .spawn(move || {
            recorder::exclude_this_thread();
            let _ = ready.send(());
            std::thread::sleep(timeout);
            let Some(settings) = settings() else { return };
            recorder::stop_every_thread();
            report(&settings, &from_snapshots(&settings, None, End::TimedOut));
            // SAFETY: ends the process at once, as the time-out asks, without
            // running exit handlers (which would write a second report) or
            // waiting for the program's threads.
            unsafe { libc::_exit(124) };
        });
    // Only go on once the watchdog can no longer adopt a recording.
    if started.is_ok() {
        let _ = wait.recv();
    }
}

/// A trace of what every running recording holds now (no probes).
fn from_snapshots(settings: &Settings, panic: Option<String>, end: End) -> Report {
    let mut snapshots: Vec<(Snapshot, Text)> = recorder::snapshot_live()
        .into_iter()
        .map(|s| {
            let name = thread_name(&s);
            (s, name)
        })
        .collect();
    // The main thread first: it is the one the run started on.
    let main = region::process_id();
    snapshots.sort_by_key(|(s, _)| s.thread_id != main);
    let mut trace =
        super::trace_of_snapshots(settings.source.clone(), settings.options, &snapshots, panic);
    trace.loss.memory = trace.loss.memory.or(recorder::program_shortage());
    let (trace, runtime_events) = if PROGRAM.load(Ordering::SeqCst) {
        // Cut off at a time-out, `main` has not returned: only the events
        // before it belong to the runtime.
        without_runtime(trace, end != End::TimedOut)
    } else {
        (trace, 0)
    };
    Report {
        trace,
        end,
        unrecorded_threads: recorder::unrecorded_threads(),
        recordable_threads: recorder::recordable_threads(),
        runtime_events,
    }
}

/// A thread's name: `main` for the process's first thread, else the name it
/// had at its last event (what `std::thread::Builder::name` set), or its id.
fn thread_name(snapshot: &Snapshot) -> Text {
    if snapshot.thread_id == region::process_id() {
        return "main".into();
    }
    match snapshot.thread_name() {
        Some(name) => name.to_string().into(),
        None => format!("thread {}", snapshot.thread_id).into(),
    }
}

/// An ordinary program's trace without the Rust runtime's own events: those
/// of the main thread before its first event on a line of the user's file
/// (made before `main`) and, when `main` has returned, after its last.
fn without_runtime(mut trace: Trace, returned: bool) -> (Trace, usize) {
    let main = crate::trace::Thread(0);
    let attributed = |e: &crate::trace::Event| e.thread == main && e.line.is_some();
    let (Some(first), Some(last)) = (
        trace.events.iter().position(attributed),
        match returned {
            true => trace.events.iter().rposition(attributed),
            false => Some(trace.events.len()),
        },
    ) else {
        return (trace, 0);
    };
    let before = trace.events.len();
    let mut index = 0;
    trace.events.retain(|e| {
        let keep = e.thread != main || (first..=last).contains(&index);
        index += 1;
        keep
    });
    let left_out = before - trace.events.len();
    for (i, event) in trace.events.iter_mut().enumerate() {
        event.seq = i + 1;
    }
    (trace, left_out)
}
