//! memlab under tight resource limits (issue 11, item 3): the binary run as a
//! child with `setrlimit` applied before it starts, for `RLIMIT_AS` (what
//! `ulimit -v` sets) and `RLIMIT_STACK` (`ulimit -s`). Whatever the limit,
//! memlab either runs or fails with one line on stderr and exit 1, never an
//! abort or a backtrace; and big-data's page does not depend on the stack
//! limit.
//!
//! The test without `/proc` needs root (a mount namespace) and is ignored;
//! `.ci/run` runs it.

mod common;

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Output;

use memlab::scenarios::{HIDDEN, SCENARIOS};

type Resource = libc::__rlimit_resource_t;

/// `(resource, soft, hard)`; `libc::RLIM_INFINITY` for no limit.
type Limit = (Resource, u64, u64);

const KIB: u64 = 1024;

/// memlab with `args`, under `limits`, with colour off and a fixed width.
fn memlab(args: &[&str], limits: &[Limit]) -> Output {
    let limits = limits.to_vec();
    let mut command = common::memlab_binary();
    command
        .args(args)
        .args(["--color", "never", "--width", "100"])
        .env_remove("RUST_BACKTRACE");
    // SAFETY: the closure runs in the forked child before exec and only
    // calls setrlimit, which is async-signal-safe, on values copied in.
    unsafe {
        command.pre_exec(move || {
            for &(resource, soft, hard) in &limits {
                let limit = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                if libc::setrlimit(resource, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    command.output().expect("memlab starts")
}

fn address_space(bytes: u64) -> Limit {
    (libc::RLIMIT_AS, bytes, bytes)
}

fn stack(soft: u64, hard: u64) -> Limit {
    (libc::RLIMIT_STACK, soft, hard)
}

fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "memlab {}: {:?} (signal {:?})\nstderr: {}",
        args.join(" "),
        out.status.code(),
        out.status.signal(),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// It ran (exit 0), or failed with exactly one line starting `error:` and
/// exit 1: never a signal, a backtrace or Rust's own allocation message.
#[track_caller]
fn runs_or_fails_in_one_line(args: &[&str], out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(1) => assert!(
            stderr.starts_with("error: ") && stderr.lines().count() == 1,
            "{}",
            describe(args, out)
        ),
        _ => panic!("{}", describe(args, out)),
    }
    assert!(
        !stderr.contains("memory allocation of") && !stderr.contains("backtrace"),
        "{}",
        describe(args, out)
    );
}

#[test]
fn under_100_mb_every_scenario_and_lesson_runs_or_fails_in_one_line() {
    let limit = [address_space(100_000 * KIB)];
    for scenario in SCENARIOS.iter().chain(HIDDEN) {
        let args = ["trace", scenario.id];
        runs_or_fails_in_one_line(&args, &memlab(&args, &limit));
    }
    let lessons = memlab::lessons::embedded(&memlab::scenarios::BUILT_IN).expect("lessons");
    for lesson in &lessons {
        let args = ["lesson", &lesson.id];
        runs_or_fails_in_one_line(&args, &memlab(&args, &limit));
    }
}

#[test]
fn with_little_memory_beside_the_binary_the_default_capacity_still_runs_the_threaded_scenarios() {
    // Each thread's recording asks for room for the default 1,048,576
    // events (52 MiB, and as much again for the trace made of them): memory
    // for that is not there, but the events of these scenarios fit in the
    // room each got. The limit is counted from the size of memlab's own
    // binary, which the symboliser maps whole: 140 MB beside it is far less
    // than two full rooms (over 200 MB) and leaves the rest of the process
    // (its threads' stacks, the symboliser's tables, which grow with the
    // debug build's line tables: 120 MB was enough until December 2026)
    // what it needs.
    let binary = std::fs::metadata(env!("CARGO_BIN_EXE_memlab")).map_or(0, |m| m.len());
    let limit = [address_space(binary + 140_000 * KIB)];
    for id in ["threads", "big-data", "rc-arc"] {
        let args = ["trace", id, "--addresses", "symbolic"];
        let limited = memlab(&args, &limit);
        assert_eq!(
            limited.status.code(),
            Some(0),
            "{}",
            describe(&args, &limited)
        );
        let free = memlab(&args, &[]);
        let lost = |out: &Output| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.lines()
                .find(|l| l.contains("lost events"))
                .map(str::to_string)
        };
        assert_eq!(lost(&limited), lost(&free), "{id}");
        assert!(lost(&free).is_some_and(|l| l.contains(" 0 ")), "{id}");
    }
}

#[test]
fn a_capacity_memory_cannot_give_is_one_line_naming_one_that_fits() {
    let limit = [address_space(200_000 * KIB)];
    let args = [
        "trace",
        "many-boxes",
        "--n",
        "300000",
        "--capacity",
        "8000000",
    ];
    let out = memlab(&args, &limit);
    runs_or_fails_in_one_line(&args, &out);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
    assert!(
        stderr.starts_with("error: not enough memory for 8000000 events per thread ("),
        "{stderr}"
    );
    let fits = stderr
        .trim_end()
        .rsplit_once("try --capacity ")
        .map(|(_, n)| n.to_string())
        .expect("names a capacity");
    // And that capacity does fit: the run goes on, keeping what fits in it
    // and saying how many events it lost.
    let args = ["trace", "many-boxes", "--n", "300000", "--capacity", &fits];
    let out = memlab(&args, &limit);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("did not fit in the recorder's buffer"),
        "{stdout}"
    );
}

#[test]
fn under_50_mb_even_the_smallest_room_is_one_line_or_a_run() {
    // A debug build's symboliser maps its 60 MB file: no room fits with
    // that to spare. Never "0 MiB", never a `--capacity` that cannot help.
    let limit = [address_space(50_000 * KIB)];
    let args = ["trace", "box", "--capacity", "1"];
    let out = memlab(&args, &limit);
    runs_or_fails_in_one_line(&args, &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("not enough memory") {
        assert!(
            stderr.starts_with(
                "error: not enough memory for 1 events per thread (1 KiB each); nor for fewer: "
            ),
            "{stderr}"
        );
    }
}

#[test]
fn a_program_under_100_mb_runs_and_says_memory_kept_its_threads_out() {
    // `memlab run` records every thread of a program into spare rooms made
    // before `main`; under 100 MB fewer fit than the 15 it makes otherwise.
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("memlab-run-cache");
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/run/threads.rs");
    let cache = cache.to_str().expect("a UTF-8 path");
    let args = ["run", file, "--cache-dir", cache];
    // Built first, without a limit: rustc needs more than 100 MB.
    let built = memlab(&args, &[]);
    assert_eq!(built.status.code(), Some(0), "{}", describe(&args, &built));
    let out = memlab(&args, &[address_space(100_000 * KIB)]);
    // It runs: the spares leave memory for the program and its report.
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stdout.contains("were not recorded") {
        assert!(
            stdout.contains("memory held recordings for only"),
            "{stdout}"
        );
    }
}

#[test]
fn an_allocation_that_fails_outside_the_recorder_is_one_line() {
    // The trace fits; its table of all 200,000 rows does not.
    let limit = [address_space(200_000 * KIB)];
    let args = ["trace", "many-boxes", "--n", "100000", "--all"];
    let out = memlab(&args, &limit);
    runs_or_fails_in_one_line(&args, &out);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: out of memory: a request for "),
        "{stderr}"
    );
    assert!(stderr.contains("ulimit -v"), "{stderr}");
}

/// big-data's lesson page and trace with the default stack limit, and under
/// `limits`: the same (with symbolic addresses nothing in them is a figure
/// that changes from run to run).
#[track_caller]
fn big_data_is_the_same_under(limits: &[Limit]) {
    for command in ["lesson", "trace"] {
        let args = [command, "big-data", "--addresses", "symbolic"];
        let usual = memlab(&args, &[stack(8192 * KIB, libc::RLIM_INFINITY)]);
        let limited = memlab(&args, limits);
        assert_eq!(usual.status.code(), Some(0), "{}", describe(&args, &usual));
        assert_eq!(
            limited.status.code(),
            Some(0),
            "{}",
            describe(&args, &limited)
        );
        assert_eq!(
            String::from_utf8_lossy(&limited.stdout),
            String::from_utf8_lossy(&usual.stdout),
            "memlab {command} big-data under {limits:?}"
        );
    }
}

#[test]
fn under_a_small_soft_stack_limit_big_data_is_the_same() {
    // `ulimit -S -s 64`: memlab raises its own soft limit, which the hard
    // limit allows.
    big_data_is_the_same_under(&[stack(64 * KIB, libc::RLIM_INFINITY)]);
}

#[test]
fn under_an_unlimited_stack_the_child_still_overflows_as_usual() {
    // `ulimit -s unlimited`: the child's overflow runs on a thread with a
    // stack of its own, so it comes as usual; without that it grew until
    // memory ran out. The address-space limit keeps that bounded.
    big_data_is_the_same_under(&[
        stack(libc::RLIM_INFINITY, libc::RLIM_INFINITY),
        address_space(2_000_000 * KIB),
    ]);
}

#[test]
fn a_hard_stack_limit_below_what_memlab_needs_is_one_line() {
    // `ulimit -s 64`, soft and hard: an unprivileged memlab cannot raise it.
    // A process that may raise a hard limit does, and runs as usual.
    let args = ["trace", "big-data", "--addresses", "symbolic"];
    let out = memlab(&args, &[stack(64 * KIB, 64 * KIB)]);
    runs_or_fails_in_one_line(&args, &out);
    if out.status.code() == Some(1) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("needs 1024 KiB of stack") && stderr.contains("allows 64 KiB"),
            "{stderr}"
        );
        assert!(stderr.contains("ulimit -s 8192"), "{stderr}");
    }
}

#[test]
fn a_trace_made_without_proc_says_proc_is_missing_not_line_tables() {
    // What the run below lacks, as capture records it without `/proc`.
    use memlab::render::{self, AddressMode, Settings};
    let options = memlab::Options {
        lines: memlab::Lines::Off,
        ..memlab::Options::default()
    };
    let mut trace = memlab::trace(memlab::Source::new("t", file!()), options, |_| {
        drop(std::hint::black_box(Box::new(1u64)));
    });
    let settings = Settings {
        width: 200,
        addresses: AddressMode::Symbolic,
        ascii: false,
    };
    let with_proc = render::table::trace(&trace, settings, false);
    assert!(with_proc.contains("no line tables"), "{with_proc}");
    assert!(!with_proc.contains("/proc"), "{with_proc}");
    trace.loss.proc_missing = true;
    let without = render::table::trace(&trace, settings, false);
    assert!(
        without.contains("2 events have no source line in limits.rs: source lines need"),
        "{without}"
    );
    assert!(without.contains("is /proc mounted?"), "{without}");
    assert!(!without.contains("line tables"), "{without}");
    assert!(without.contains("regions are unknown"), "{without}");
}

#[test]
#[ignore = "needs root for a mount namespace: run by .ci/run"]
fn without_proc_the_notes_say_proc_is_missing_not_line_tables() {
    let script = "mount -t tmpfs none /proc && exec \"$0\" \"$@\"";
    let out = common::command("unshare")
        .args(["--mount", "sh", "-c", script])
        .arg(env!("CARGO_BIN_EXE_memlab"))
        .args(["trace", "box", "--addresses", "symbolic", "--width", "200"])
        .args(["--color", "never"])
        .output()
        .expect("unshare starts");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe(&["trace", "box"], &out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "2 events have no source line in boxed.rs: source lines need /proc/self/maps and \
             /proc/self/exe, which could not be read (is /proc mounted?)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("regions are unknown where only the mappings could tell"),
        "{stdout}"
    );
    assert!(!stdout.contains("line tables"), "{stdout}");
}
