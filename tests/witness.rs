//! Independent witnesses that memlab's numbers are true. They need a release
//! build (and valgrind), so `cargo test` skips them and `.ci/run` runs them:
//!
//!     cargo build --release && cargo test --test witness -- --ignored
//!
//! - valgrind's `--trace-malloc=yes` prints every malloc/realloc/free of the
//!   same process: memlab's events must appear there, in order, back to back
//!   (for scenarios with threads: in order).
//! - a release build must report the same kinds, sizes, aligns and lines as
//!   the debug build the other tests use.
//! - valgrind's memcheck must find no error in any scenario (`.ci/run` runs
//!   this one as a step of its own).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use memlab::scenarios::SCENARIOS;
use serde_json::Value;

/// `MEMLAB_RELEASE_BIN`, or the release build next to the debug build the
/// tests use (which follows `CARGO_TARGET_DIR`).
fn release_binary() -> PathBuf {
    let path = std::env::var_os("MEMLAB_RELEASE_BIN").map_or_else(
        || {
            let debug = PathBuf::from(env!("CARGO_BIN_EXE_memlab"));
            let profiles = debug.parent().and_then(|p| p.parent());
            profiles.map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/memlab"),
                |dir| dir.join("release/memlab"),
            )
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release` first",
        path.display()
    );
    path
}

fn run_json(mut command: Command) -> (Value, String) {
    let out = command.output().expect("command runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{command:?} failed:\n{stderr}");
    let json = serde_json::from_slice(&out.stdout).expect("valid JSON");
    (json, stderr)
}

fn trace_command(binary: impl Into<PathBuf>, id: &str) -> Command {
    let mut command = common::command(binary.into());
    command.args(["trace", id, "--format", "json"]);
    command
}

/// The lines valgrind prints for one memlab event (addresses in lowercase).
fn valgrind_lines(event: &Value) -> Vec<String> {
    let text = |key: &str| event[key].as_str().unwrap().to_string();
    let size = event["size"].as_u64().unwrap();
    let align = event["align"].as_u64().unwrap();
    // std's System allocator on Unix uses malloc/calloc/realloc only when the
    // alignment is at most 16 and at most the size; otherwise posix_memalign,
    // which valgrind prints as memalign, and a realloc becomes a new aligned
    // block, a copy and a free (library/std/src/sys/alloc/unix.rs).
    let plain = align <= 16 && align <= size;
    let memalign = || format!("memalign(al {align}, size {size}) = {}", text("address"));
    match event["kind"].as_str().unwrap() {
        "alloc" | "alloc_zeroed" if !plain => vec![memalign()],
        "realloc" if !plain => vec![memalign(), format!("free({})", text("old_address"))],
        "alloc" => vec![format!("malloc({size}) = {}", text("address"))],
        "alloc_zeroed" => vec![format!("calloc({size},1) = {}", text("address"))],
        "realloc" => vec![format!(
            "realloc({},{size}) = {}",
            text("old_address"),
            text("address")
        )],
        "dealloc" => vec![format!("free({})", text("address"))],
        other => panic!("unknown kind {other}"),
    }
}

#[test]
#[ignore = "needs valgrind and a release build: run by .ci/run"]
fn valgrind_sees_exactly_memlabs_events() {
    let binary = release_binary();
    for scenario in SCENARIOS {
        let mut command = common::command("valgrind");
        command.args(["--trace-malloc=yes", "--error-exitcode=1"]);
        command
            .arg(&binary)
            .args(["trace", scenario.id, "--format", "json"]);
        let (trace, stderr) = run_json(command);
        // valgrind's lines look like "--4764-- malloc(32) = 0x4BBAA20"; only
        // memlab's own process counts (big-data forks a child).
        let lines: Vec<(&str, &str)> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("--")?.split_once("-- "))
            .collect();
        let parent = lines.first().map(|&(pid, _)| pid);
        let witnessed: Vec<String> = lines
            .iter()
            .filter(|&&(pid, _)| Some(pid) == parent)
            .map(|&(_, rest)| rest.to_lowercase())
            .collect();
        let expected: Vec<String> = trace["events"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(valgrind_lines)
            .collect();
        if expected.is_empty() {
            continue; // locals: nothing to find
        }
        // Every thread the scenario ran, whether or not it allocated.
        let threads: std::collections::HashSet<&str> = ["events", "stack", "observations"]
            .iter()
            .flat_map(|key| trace[key].as_array().into_iter().flatten())
            .filter_map(|entry| entry["thread"].as_str())
            .collect();
        let found = if threads.len() == 1 {
            // One thread: nothing else allocated in between, not even memlab.
            witnessed
                .windows(expected.len())
                .any(|w| w == expected.as_slice())
        } else {
            // Several threads: starting and joining them is memlab's own,
            // unrecorded bookkeeping, so its calls sit between the recorded
            // ones; those must still all be there, in the same order.
            let mut rest = witnessed.iter();
            expected.iter().all(|line| rest.any(|w| w == line))
        };
        assert!(
            found,
            "{}: valgrind did not see memlab's events {}:\n{}",
            scenario.id,
            if threads.len() == 1 {
                "back to back"
            } else {
                "in this order"
            },
            expected.join("\n")
        );
    }
}

#[test]
#[ignore = "needs a release build: run by .ci/run"]
fn release_and_debug_builds_report_the_same_facts() {
    let release = release_binary();
    let facts = |trace: &Value| -> Vec<String> {
        trace["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {} {} {}", e["kind"], e["size"], e["align"], e["line"]))
            .collect()
    };
    for scenario in SCENARIOS {
        let (debug, _) = run_json(trace_command(env!("CARGO_BIN_EXE_memlab"), scenario.id));
        let (optimised, _) = run_json(trace_command(&release, scenario.id));
        assert_eq!(facts(&debug), facts(&optimised), "{}", scenario.id);
        let locals = |t: &Value| -> Vec<String> {
            t["stack"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| format!("{} {} {} {}", l["name"], l["type"], l["size"], l["align"]))
                .collect()
        };
        assert_eq!(locals(&debug), locals(&optimised), "{}", scenario.id);
    }
}

/// valgrind's memcheck (its default tool) runs every scenario of the release
/// build and finds no error: no invalid read or write, no use of an
/// uninitialised value, no bad or mismatched free. memlab's recorder walks
/// frame pointers and reads glibc's chunk headers, so this is the check that
/// it reads only memory it may.
///
/// - `--quiet`: a clean run prints nothing, so any output is a finding.
/// - `--error-exitcode=1`: an error fails the run even if memlab succeeds.
/// - Leaks are not errors here (memcheck's default `--leak-check=summary`,
///   silent under `--quiet`): the `leaks` and `rc-cycle` scenarios leak on
///   purpose, and memlab's pooled buffers live for the whole process.
/// - `--child-silent-after-fork=yes`: `big-data` forks a child that overflows
///   its stack on purpose. valgrind follows a `fork` (the child is the same
///   program; `--trace-children`, default no, is about `exec`), and without
///   this flag prints the child's "Stack overflow in thread #1 … Process
///   terminating with default action of signal 11" into memlab's stderr. The
///   child only recurses on its stack and is killed; its death is the
///   scenario's subject, not an error of memlab's.
/// - No suppressions.
///
/// Scenarios run two at a time (valgrind is single-threaded per process);
/// the wall time is printed.
#[test]
#[ignore = "needs valgrind and a release build: run by .ci/run"]
fn valgrind_memcheck_finds_no_errors_in_any_scenario() {
    let binary = release_binary();
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(scenario) = SCENARIOS.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let out = common::command("valgrind")
                        .args([
                            "--error-exitcode=1",
                            "--quiet",
                            "--child-silent-after-fork=yes",
                        ])
                        .arg(&binary)
                        .args(["trace", scenario.id, "--format", "json"])
                        .output()
                        .expect("valgrind runs (is it installed?)");
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    let json: Option<Value> = serde_json::from_slice(&out.stdout).ok();
                    let panic = json.as_ref().map(|j| j["panic"].clone());
                    if !out.status.success() || !stderr.is_empty() || panic != Some(Value::Null) {
                        failures.lock().unwrap().push(format!(
                            "{}: {}, panic {panic:?}\n{stderr}",
                            scenario.id, out.status
                        ));
                    }
                }
            });
        }
    });
    eprintln!(
        "memcheck: {} scenarios in {:.1?} ({workers} at a time)",
        SCENARIOS.len(),
        started.elapsed()
    );
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "memcheck is not clean:\n{}",
        failures.join("\n")
    );
}

#[test]
#[ignore = "needs valgrind and a release build: run by .ci/run"]
fn valgrind_sees_exactly_the_events_of_a_users_file() {
    let binary = release_binary();
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("witness-run-cache");
    for fixture in ["plain.rs", "scenario.rs"] {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/run")
            .join(fixture);
        // One log per process: the child's stderr is the program's, which
        // memlab keeps apart.
        let logs = cache.join("valgrind-logs");
        let _ = std::fs::remove_dir_all(&logs);
        std::fs::create_dir_all(&logs).unwrap();
        let run = |valgrind: bool| {
            let mut command = if valgrind {
                let mut command = common::command("valgrind");
                // Into the child memlab starts: that is where the events are.
                command
                    .args(["--trace-malloc=yes", "--trace-children=yes"])
                    .arg(format!("--log-file={}/%p.log", logs.display()))
                    .arg(&binary);
                command
            } else {
                common::command(&binary)
            };
            command
                .arg("run")
                .arg(&file)
                .args(["--format", "json", "--timeout", "60", "--cache-dir"])
                .arg(&cache);
            run_json(command)
        };
        // Built once without valgrind, so that cargo does not run under it.
        run(false);
        let (trace, _) = run(true);
        let expected: Vec<String> = trace["events"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(valgrind_lines)
            .collect();
        assert!(!expected.is_empty(), "{fixture}: no events");
        // Each process's lines ("--PID-- malloc(…) = 0x…"), from its own log.
        let by_process: Vec<Vec<String>> = std::fs::read_dir(&logs)
            .unwrap()
            .flatten()
            .map(|log| {
                std::fs::read_to_string(log.path())
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|l| Some(l.strip_prefix("--")?.split_once("-- ")?.1.to_lowercase()))
                    .collect()
            })
            .collect();
        assert!(
            by_process.len() >= 2,
            "{fixture}: valgrind followed no child"
        );
        let found = by_process.iter().any(|lines| {
            lines
                .windows(expected.len())
                .any(|w| w == expected.as_slice())
        });
        assert!(
            found,
            "{fixture}: valgrind did not see memlab's events back to back in any process:\n{}",
            expected.join("\n")
        );
    }
}
