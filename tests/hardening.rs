//! Hardening (issue 6, item 4): memlab under stress and under bad input.
//!
//! - Concurrency: traces taken while other threads allocate without pause
//!   hold exactly their own events, and nothing crashes or hangs.
//! - The bad-input matrix, through the binary: every error is one line on
//!   stderr starting `error:`, exit 2 for bad usage, 1 for a failure, 0 for
//!   success or a closed pipe, and never a panic.
//! - A panicking scenario, and Ctrl-C during step mode.
//!
//! (valgrind memcheck over every scenario is in tests/witness.rs, with the
//! other tests that need valgrind and a release build.)
//!
//! Matrix rows tested elsewhere, not repeated here:
//!
//! | row | where |
//! |---|---|
//! | unknown scenario id: exit 2, one line, suggestion | cli.rs `unknown_scenario_exits_2_with_one_line_naming_the_closest` |
//! | unknown lesson id: exit 2, one line, suggestion | lessons.rs `unknown_lesson_exits_2_naming_the_closest` |
//! | bad flags, `--width 5`, `--width 100000`, missing argument: exit 2 | cli.rs `bad_flags_and_widths_are_usage_errors` (exit code only; their stderr is checked here) |
//! | stdout closed before memlab writes: exit 0, stderr empty | cli.rs `a_closed_pipe_ends_quietly` (here: closed in the middle of the output) |
//! | `--lessons-dir` missing, or empty: exit 2 | lessons.rs `a_missing_lessons_dir_is_a_usage_error` |
//! | malformed lessons (six ways) and a directive naming a missing scenario: exit 1, one line with file and line | lessons.rs `a_malformed_lesson_is_one_error_naming_file_and_line` |
//! | `--step` with stdin a pipe closed at once: the whole lesson, no waiting | lessons.rs `step_mode_goes_on_without_waiting_at_the_end_of_input` |

mod common;

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use memlab::Options;
use memlab::scenarios::{SCENARIOS, Scenario};
use memlab::trace::Trace;

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

/// What must not change between two runs of a scenario: for each event its
/// kind, size, alignment, line and thread; for each probe what it is and
/// where it falls among the events. Left out, because they legitimately vary
/// from run to run: addresses, regions and usable sizes (heap history, and
/// whose malloc arena a thread gets), the in-place/moved flag of a realloc,
/// and the value of one observation (see below).
fn facts(trace: &Trace) -> Vec<String> {
    let events = trace.events.iter().map(|e| {
        format!(
            "event {} {:?} size {} align {} line {:?} thread {}",
            e.seq,
            e.kind,
            e.size,
            e.align,
            e.line,
            trace.thread_name(e.thread)
        )
    });
    let locals = trace.locals.iter().map(|l| {
        format!(
            "local {}:{}:{} {} size {} align {} after {}",
            trace.thread_name(l.thread),
            l.frame,
            l.name,
            l.type_name,
            l.size,
            l.align,
            l.after_event
        )
    });
    let observations = trace.observations.iter().map(|o| {
        // How big-data's child died: SIGABRT from Rust's stack-overflow handler,
        // or SIGSEGV where that handler cannot run (valgrind); it is the
        // kernel's business, not the trace's, so only its presence counts. So
        // is the whole process's memory that thousand-boxes reads, which other
        // threads change.
        let fields: Vec<String> = o
            .fields
            .iter()
            .map(|(name, value)| match (&*o.label, &**name) {
                ("overflow in a child", "signal") => format!("{name}=?"),
                ("before" | "after", "mappings" | "heap KiB" | "mapped KiB") => {
                    format!("{name}=?")
                }
                _ => format!("{name}={value}"),
            })
            .collect();
        format!(
            "observation {}:{} {} after {}",
            trace.thread_name(o.thread),
            o.label,
            fields.join(","),
            o.after_event
        )
    });
    let mut facts: Vec<String> = events.chain(locals).chain(observations).collect();
    facts.push(format!(
        "panic {:?} lost {} kept {}",
        trace.panic,
        trace.loss.events,
        trace.kept.len()
    ));
    facts
}

/// Runs `work` on a thread of its own and waits at most `limit` for it: a
/// deadlock fails the test instead of hanging it. A panic in `work` fails
/// the test with the panic's message.
fn within<T: Send + 'static>(limit: Duration, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, wait) = mpsc::channel();
    thread::Builder::new()
        .name("bounded".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = done.send(result);
        })
        .expect("a thread starts");
    match wait.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("not finished after {limit:?}: a deadlock, or far too slow"),
    }
}

/// 64-byte aligned, to churn over-aligned requests too.
#[repr(align(64))]
struct Aligned([u64; 8]);

/// Allocates, grows and frees without pause until `stop`: boxes, growing
/// Vecs, zeroed and over-aligned blocks, and blocks freed by a thread other
/// than the one that allocated them (through `pool`). Returns its rounds.
fn churn(seed: u64, stop: &AtomicBool, pool: &Mutex<Vec<Box<[u8]>>>) -> u64 {
    let mut rounds = 0u64;
    let mut x = seed | 1;
    let mut held: Vec<Box<[u8]>> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let size = (x % 3000) as usize + 1;
        let mut grown: Vec<u64> = Vec::new();
        for i in 0..(x % 40) {
            grown.push(i); // realloc after realloc
        }
        held.push(vec![0u8; size].into_boxed_slice()); // alloc_zeroed
        held.push(Box::from(&b"churn"[..]));
        let aligned = Box::new(Aligned([x; 8]));
        std::hint::black_box((&grown, &aligned.0));
        if held.len() >= 64 {
            // Hand half to other threads, free some of theirs.
            let mut shared = pool.lock().unwrap();
            shared.extend(held.drain(..32));
            let excess = shared.len().saturating_sub(256);
            shared.drain(..excess);
            held.clear();
        }
        rounds += 1;
    }
    rounds
}

#[test]
fn traces_taken_while_threads_allocate_hold_exactly_their_own_events() {
    const CHURNERS: usize = 8;
    const TRACERS: usize = 4;
    const ROUNDS: usize = 5;
    let all: Vec<&'static Scenario> = SCENARIOS.iter().collect();

    let report = within(Duration::from_secs(60), move || {
        // Each scenario alone first, on a thread of its own as the tracers'
        // runs will be (a thread's name shows in the trace).
        let reference: Vec<Vec<String>> = thread::scope(|scope| {
            scope
                .spawn(|| {
                    all.iter()
                        .map(|s| facts(&s.trace(Options::default(), None)))
                        .collect()
                })
                .join()
                .unwrap()
        });
        for (scenario, facts) in all.iter().zip(&reference) {
            assert!(
                facts.last().unwrap().starts_with("panic None lost 0"),
                "{}: {}",
                scenario.id,
                facts.last().unwrap()
            );
        }

        let stop = AtomicBool::new(false);
        let pool = Mutex::new(Vec::new());
        let churned = AtomicU64::new(0);
        let start = Barrier::new(CHURNERS + TRACERS);
        let mut mismatches: Vec<String> = vec![];
        let mut traced = 0;
        thread::scope(|scope| {
            let churners: Vec<_> = (0..CHURNERS as u64)
                .map(|i| {
                    let (stop, pool, churned, start) = (&stop, &pool, &churned, &start);
                    scope.spawn(move || {
                        start.wait();
                        let rounds =
                            churn(0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i + 1), stop, pool);
                        churned.fetch_add(rounds, Ordering::Relaxed);
                        rounds
                    })
                })
                .collect();
            let tracers: Vec<_> = (0..TRACERS)
                .map(|t| {
                    let (all, reference, start) = (&all, &reference, &start);
                    scope.spawn(move || {
                        start.wait();
                        let mut mismatches = vec![];
                        let mut traced = 0;
                        for round in 0..ROUNDS {
                            // Each tracer starts at a different scenario, so
                            // different scenarios overlap each round.
                            for i in 0..all.len() {
                                let k = (i + t * all.len() / TRACERS + round) % all.len();
                                let trace = all[k].trace(Options::default(), None);
                                traced += 1;
                                let got = facts(&trace);
                                if got != reference[k] {
                                    mismatches.push(format!(
                                        "{} (tracer {t}, round {round}):\n  alone: {:#?}\n  now:   {:#?}",
                                        all[k].id, reference[k], got
                                    ));
                                }
                            }
                        }
                        (traced, mismatches)
                    })
                })
                .collect();
            // Join every tracer before judging any, so that the churners
            // always stop: a tracer's panic must fail the test, not hang it.
            let finished: Vec<_> = tracers.into_iter().map(|t| t.join()).collect();
            stop.store(true, Ordering::Relaxed);
            for churner in churners {
                assert!(churner.join().expect("a churn thread panicked") > 0);
            }
            for tracer in finished {
                let (n, found) = tracer.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                traced += n;
                mismatches.extend(found);
            }
        });
        (traced, churned.into_inner(), mismatches)
    });

    let (traced, churned, mismatches) = report;
    assert_eq!(traced, TRACERS * ROUNDS * SCENARIOS.len());
    assert!(churned > 0);
    assert!(
        mismatches.is_empty(),
        "{} of {traced} traces differ from the same scenario traced alone:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The bad-input matrix, through the binary
// ---------------------------------------------------------------------------

fn memlab() -> Command {
    let mut command = common::memlab_binary();
    command
        .env_remove("NO_COLOR")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null());
    command
}

fn run(args: &[&OsStr]) -> Output {
    memlab().args(args).output().expect("memlab runs")
}

fn os(text: &str) -> &OsStr {
    OsStr::new(text)
}

/// An argument that is not UTF-8: `prefix` followed by the bytes 0xFF 0xFE.
fn not_utf8(prefix: &str) -> OsString {
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.extend([0xff, 0xfe]);
    OsStr::from_bytes(&bytes).to_os_string()
}

fn describe(args: &[&OsStr], out: &Output) -> String {
    format!(
        "memlab {args:?}: {}\nstdout: {:?}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(400)]),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No panic message and no backtrace hint, whatever else happened.
#[track_caller]
fn no_panic(args: &[&OsStr], out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{}",
        describe(args, out)
    );
    assert!(
        out.status.code().is_some(),
        "killed by a signal: {}",
        describe(args, out)
    );
}

/// Runs memlab, expecting an error with exit `code`: nothing on stdout, no
/// panic, and stderr starting `error: ` and holding every one of `words`.
/// Whether the error is one line is checked apart ([`one_line`]), because
/// today some are not.
#[track_caller]
fn error(args: &[&OsStr], code: i32, words: &[&str]) -> Output {
    let out = run(args);
    no_panic(args, &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{}", describe(args, &out));
    assert!(out.stdout.is_empty(), "{}", describe(args, &out));
    assert!(stderr.starts_with("error: "), "{}", describe(args, &out));
    for word in words {
        assert!(stderr.contains(word), "{word:?}: {}", describe(args, &out));
    }
    out
}

/// The whole of stderr is one line.
#[track_caller]
fn one_line(args: &[&OsStr], out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.ends_with('\n') && stderr.lines().count() == 1,
        "not one line: {}",
        describe(args, out)
    );
}

/// Runs memlab, expecting success: exit 0, no panic, nothing on stderr.
#[track_caller]
fn success(args: &[&OsStr]) -> Output {
    let out = run(args);
    no_panic(args, &out);
    assert_eq!(out.status.code(), Some(0), "{}", describe(args, &out));
    assert!(out.stderr.is_empty(), "{}", describe(args, &out));
    out
}

/// Bad flags and values clap rejects: (arguments, words the error names).
fn clap_rejects() -> Vec<(Vec<OsString>, &'static str)> {
    let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
    vec![
        (args(&["trace", "box", "--frobnicate"]), "--frobnicate"),
        (args(&["--frobnicate"]), "--frobnicate"),
        (args(&["frobnicate"]), "frobnicate"),
        (args(&["trace", "box", "--format", "xml"]), "xml"),
        (args(&["trace", "box", "--width", "0"]), "40..=400"),
        (args(&["trace", "box", "--width", "5"]), "40..=400"),
        (args(&["trace", "box", "--width", "100000"]), "40..=400"),
        // Options go after their command.
        (
            args(&["--width", "80", "trace", "box"]),
            "options go after the command: memlab trace box --width 80",
        ),
        (args(&["list", "--width", "wide"]), "wide"),
        (args(&["--width"]), "--width"),
        (args(&["list", "--color", "sometimes"]), "sometimes"),
        (args(&["lesson", "box", "--layout", "diagonal"]), "diagonal"),
        (args(&["trace"]), "name a scenario"),
        (args(&["lesson"]), "name a lesson"),
        (args(&["lesson", "box", "extra"]), "extra"),
        // Not UTF-8: as a scenario id, a lesson id, a flag's value, a flag.
        (vec!["trace".into(), not_utf8("box")], "UTF-8"),
        (vec!["lesson".into(), not_utf8("vec")], "UTF-8"),
        (
            vec!["list".into(), "--width".into(), not_utf8("80")],
            "UTF-8",
        ),
        (
            vec![
                "trace".into(),
                "box".into(),
                "--format".into(),
                not_utf8("json"),
            ],
            "--format",
        ),
        (vec![not_utf8("--width")], "found"),
    ]
}

#[test]
fn rejected_flags_and_values_are_usage_errors_starting_with_error() {
    for (args, words) in clap_rejects() {
        let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
        error(&args, 2, &[words]);
    }
}

#[test]
fn rejected_flags_and_values_are_one_line_errors() {
    // Observed (`memlab trace box --width 5`, exit 2):
    //   error: invalid value '5' for '--width <N>': 5 is not in 40..=400
    //
    //   For more information, try '--help'.
    // and (`memlab trace box --frobnicate`, exit 2):
    //   error: unexpected argument '--frobnicate' found
    //
    //     tip: a similar argument exists: '--format'
    //
    //   Usage: memlab trace --format <FORMAT> <SCENARIO>
    //
    //   For more information, try '--help'.
    let mut failures = vec![];
    for (args, words) in clap_rejects() {
        let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
        let out = error(&args, 2, &[words]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.lines().count() != 1 {
            failures.push(describe(&args, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unknown_ids_that_look_like_other_things_are_usage_errors() {
    // The empty id, an id that looks like a flag after `--`, a long one.
    let long = "x".repeat(10_000);
    for args in [
        vec!["trace", ""],
        vec!["lesson", ""],
        vec!["trace", "--", "--box"],
        vec!["trace", "BOX"],
        vec!["trace", &long],
    ] {
        let args: Vec<&OsStr> = args.into_iter().map(os).collect();
        let out = error(&args, 2, &["memlab list"]);
        one_line(&args, &out);
    }
}

#[test]
fn unknown_ids_with_control_characters_stay_one_line() {
    // Observed (`memlab trace $'a\nb'`, exit 2):
    //   error: no scenario named 'a
    //   b'. Run 'memlab list' to see them all.
    // and `memlab trace $'box\r'` prints "no scenario named 'box\r'. Did you
    // mean one of: box, box-dyn?", which a terminal shows overwritten from
    // the carriage return on. Escaping the id (e.g. `{id:?}`) would do.
    let mut failures = vec![];
    for args in [
        ["trace", "a\nb"],
        ["lesson", "vec-growth\n"],
        ["trace", "box\r"],
    ] {
        let args: Vec<&OsStr> = args.into_iter().map(os).collect();
        let out = error(&args, 2, &["memlab list"]);
        if out
            .stderr
            .iter()
            .filter(|&&b| b == b'\n' || b == b'\r')
            .count()
            != 1
        {
            failures.push(describe(&args, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Starts `memlab args` writing into a pipe that holds only one page, so
/// that memlab is still writing when the reader goes away; returns the
/// child, the reading end and how much the pipe holds.
fn spawn_into_small_pipe(args: &[&str]) -> (Child, std::io::PipeReader, usize) {
    use std::os::fd::AsRawFd;
    let (reader, writer) = std::io::pipe().unwrap();
    // SAFETY: fcntl on a pipe descriptor we own; F_SETPIPE_SZ takes an int.
    let holds = unsafe { libc::fcntl(reader.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
    let holds = usize::try_from(holds)
        .unwrap_or_else(|_| panic!("F_SETPIPE_SZ: {}", std::io::Error::last_os_error()));
    let child = memlab()
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, reader, holds)
}

#[test]
fn stdout_closed_in_the_middle_of_the_output_ends_quietly() {
    // cli.rs closes the pipe before memlab writes; here the reader takes a few
    // bytes and goes away while memlab is blocked writing the rest, as
    // `| head -c 10` does: each output is more than twice what the pipe holds.
    for args in [
        &["trace", "vec-growth", "--width", "400"][..],
        &["trace", "many-boxes", "--n", "100", "--format", "json"],
        &["lesson", "vec-growth"],
        &["lesson", "vec-growth", "--step"],
    ] {
        let whole = memlab().args(args).output().unwrap().stdout.len();
        let (child, mut reader, holds) = spawn_into_small_pipe(args);
        assert!(whole > 2 * holds, "{args:?}: {whole} bytes, pipe {holds}");
        let mut first = [0u8; 10];
        reader.read_exact(&mut first).unwrap();
        drop(reader);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {}: {stderr}", out.status);
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn a_full_disk_is_a_one_line_failure() {
    // /dev/full fails every write with ENOSPC: a real write error, not a
    // reader that went away.
    for args in [
        &["trace", "box"][..],
        &["trace", "box", "--format", "json"],
        &["lesson", "vec-growth"],
        &["list"],
    ] {
        let full = std::fs::File::create("/dev/full").unwrap();
        let out = memlab().args(args).stdout(full).output().unwrap();
        let args: Vec<&OsStr> = args.iter().copied().map(os).collect();
        no_panic(&args, &out);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr,
            "error: could not write the output: No space left on device (os error 28)\n",
            "{}",
            describe(&args, &out)
        );
    }
}

#[test]
fn help_to_a_full_disk_is_a_failure() {
    // Observed: `memlab --help > /dev/full; echo $?` prints 0; the help is lost.
    for args in [&["--help"][..], &["--version"], &["trace", "--help"]] {
        let full = std::fs::File::create("/dev/full").unwrap();
        let out = memlab().args(args).stdout(full).output().unwrap();
        let args: Vec<&OsStr> = args.iter().copied().map(os).collect();
        assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{}",
            describe(&args, &out)
        );
    }
}

/// A fresh folder under the temporary directory, removed when dropped.
struct Folder(PathBuf);

impl std::ops::Deref for Folder {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        make_readable(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh folder holding `files`.
fn folder(name: &str, files: &[(&str, &[u8])]) -> Folder {
    let dir = std::env::temp_dir().join(format!("memlab-hardening-{name}-{}", std::process::id()));
    if dir.exists() {
        make_readable(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    Folder(dir)
}

fn make_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let _ = std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o644));
    }
}

/// A lesson that loads (the one tests/lessons.rs uses).
const GOOD: &str = "+++\ntitle = \"T\"\nsummary = \"S\"\nscenarios = [\"box\"]\norder = 1\n+++\n\
# T\n\n> **Predict:** how many heap events?\n\n```memlab\nanswer box events\n```\n\n\
```memlab\nevents box\n```\n";

fn path_arg(path: &Path) -> &OsStr {
    path.as_os_str()
}

#[test]
fn lessons_dir_that_is_a_file_is_a_usage_error() {
    let dir = folder("file", &[("mine.md", GOOD.as_bytes())]);
    let file = dir.join("mine.md");
    for command in ["list", "lesson"] {
        let mut args = vec![os(command)];
        if command == "lesson" {
            args.push(os("mine"));
        }
        args.extend([os("--lessons-dir"), path_arg(&file)]);
        let out = error(&args, 2, &["cannot read the lessons folder", "mine.md"]);
        one_line(&args, &out);
    }
}

#[test]
fn lessons_dir_with_a_path_that_is_not_utf8_is_a_usage_error() {
    // A path need not be UTF-8: memlab takes it, finds nothing there, and
    // names it (lossily) in its one-line error.
    let missing = std::env::temp_dir().join(not_utf8("memlab-hardening-"));
    let args = [os("list"), os("--lessons-dir"), missing.as_os_str()];
    let out = error(&args, 2, &["cannot read the lessons folder", "\u{fffd}"]);
    one_line(&args, &out);
}

/// Whether this process can read a folder whatever its permissions (root).
fn reads_anything() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs memlab as user and group `nobody` (65534) when this process is root,
/// because root reads a mode-000 folder anyway; `None` if that cannot be done
/// (no permission to switch, or the binary is not reachable as nobody).
fn run_unprivileged(args: &[&OsStr]) -> Option<Output> {
    let mut command = memlab();
    command.args(args);
    if reads_anything() {
        command.uid(65534).gid(65534);
    }
    match command.output() {
        Ok(out) => Some(out),
        Err(e) => {
            eprintln!("skipped: cannot run memlab as nobody: {e}");
            None
        }
    }
}

#[test]
fn unreadable_lessons_dir_or_lesson_file_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let none = std::fs::Permissions::from_mode(0o000);
    // A folder memlab may not list. Root may list any folder, so as root the
    // check runs memlab as `nobody`; where it cannot, it is skipped.
    let locked = folder("locked", &[("mine.md", GOOD.as_bytes())]);
    // nobody must reach the folder: the temporary directory is world-searchable.
    std::fs::set_permissions(&*locked, none.clone()).unwrap();
    let args = [os("list"), os("--lessons-dir"), path_arg(&locked)];
    if let Some(out) = run_unprivileged(&args) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if reads_anything() && stderr.contains("No such file") {
            eprintln!("skipped: nobody cannot reach {}", locked.display());
        } else {
            no_panic(&args, &out);
            assert_eq!(out.status.code(), Some(2), "{}", describe(&args, &out));
            assert!(
                stderr.starts_with("error: cannot read the lessons folder")
                    && stderr.contains("Permission denied"),
                "{}",
                describe(&args, &out)
            );
            one_line(&args, &out);
        }
    }

    // A folder memlab may list, holding a lesson it may not read: a failure
    // naming the file.
    let dir = folder("locked-file", &[("mine.md", GOOD.as_bytes())]);
    std::fs::set_permissions(dir.join("mine.md"), none).unwrap();
    for command in [&["list"][..], &["lesson", "mine"]] {
        let mut args: Vec<&OsStr> = command.iter().copied().map(os).collect();
        args.extend([os("--lessons-dir"), path_arg(&dir)]);
        let Some(out) = run_unprivileged(&args) else {
            continue;
        };
        no_panic(&args, &out);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let at = format!(
            "error: {}:1: cannot read it:",
            dir.join("mine.md").display()
        );
        assert!(
            stderr.starts_with(&at) && stderr.contains("Permission denied"),
            "{}",
            describe(&args, &out)
        );
        one_line(&args, &out);
    }
}

#[test]
fn lessons_that_cannot_load_are_one_line_failures_naming_the_file() {
    // lessons.rs covers six malformed lessons and a directive naming a
    // missing scenario; these are the others.
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "front-matter-scenario",
            GOOD.replace("[\"box\"]", "[\"box\", \"nope\"]")
                .into_bytes(),
            "no scenario named 'nope'",
        ),
        (
            "answer-scenario",
            GOOD.replace("answer box events", "answer nope events")
                .into_bytes(),
            "'nope'",
        ),
        (
            "not-utf8",
            [GOOD.as_bytes(), b"\xff\xfe\n"].concat(),
            "UTF-8",
        ),
        ("empty", vec![], "front matter"),
        (
            "unclosed",
            b"+++\ntitle = \"T\"\n".to_vec(),
            "closing '+++'",
        ),
    ];
    for (name, text, words) in cases {
        let file = format!("{name}.md");
        let dir = folder(name, &[(&file, &text)]);
        let origin = dir.join(&file).display().to_string();
        // `list` reads every file and checks its front matter, what it
        // shows; a body is parsed when its lesson is shown.
        let body = name == "answer-scenario";
        for command in [&["list"][..], &["lesson", name]] {
            let mut args: Vec<&OsStr> = command.iter().copied().map(os).collect();
            args.extend([os("--lessons-dir"), path_arg(&dir)]);
            if body && command == ["list"] {
                success(&args);
                continue;
            }
            let out = error(&args, 1, &[&origin, words]);
            one_line(&args, &out);
        }
    }

    // A file name that is no lesson id.
    let dir = folder("bad-name", &[("My Lesson.md", GOOD.as_bytes())]);
    let args = [os("list"), os("--lessons-dir"), path_arg(&dir)];
    let out = error(&args, 1, &["My Lesson", "is not a lesson id"]);
    one_line(&args, &out);
}

#[test]
fn a_missing_front_matter_scenario_is_reported_at_its_line() {
    // Observed: `error: …/front-matter-line.md:2: no scenario named 'nope'`,
    // where `scenarios = ["box", "nope"]` is line 4. (TOML errors in the same
    // front matter are reported at their own line.)
    let text = GOOD.replace("[\"box\"]", "[\"box\", \"nope\"]");
    let dir = folder(
        "front-matter-line",
        &[("front-matter-line.md", text.as_bytes())],
    );
    let args = [os("list"), os("--lessons-dir"), path_arg(&dir)];
    let at = format!("{}:4:", dir.join("front-matter-line.md").display());
    error(&args, 1, &[&at, "'nope'"]);
}

#[test]
fn step_mode_with_stdin_at_its_end_or_unreadable_goes_on_without_waiting() {
    // lessons.rs pipes no input and closes the pipe; here stdin is
    // /dev/null, a folder (every read fails with EISDIR), or not open at all.
    let whole = success(&[os("lesson"), os("vec-growth")]).stdout;
    let step = || {
        let mut command = memlab();
        command.args(["lesson", "vec-growth", "--step"]);
        command
    };
    let mut closed = step();
    // SAFETY: runs in the child between fork and exec, and only calls close,
    // which is async-signal-safe.
    unsafe {
        closed.pre_exec(|| {
            libc::close(libc::STDIN_FILENO);
            Ok(())
        });
    }
    let mut null = step();
    null.stdin(Stdio::null());
    let mut folder = step();
    folder.stdin(std::fs::File::open("/").unwrap());
    for (what, mut command) in [
        ("/dev/null", null),
        ("a folder", folder),
        ("closed", closed),
    ] {
        let out = within(Duration::from_secs(30), move || command.output().unwrap());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "stdin {what}: {}", out.status);
        assert!(out.stderr.is_empty(), "stdin {what}: {:?}", out.stderr);
        assert!(
            stdout.contains("The live run says 8."),
            "stdin {what}: {stdout}"
        );
        assert!(!stdout.contains("· q: quit"), "stdin {what}: waited");
        // The same lesson as without --step, plus the prediction's verdict.
        assert!(out.stdout.len() > whole.len(), "stdin {what}: cut short");
    }
}

// ---------------------------------------------------------------------------
// A panicking scenario, and Ctrl-C during step mode
// ---------------------------------------------------------------------------

#[test]
fn a_panicking_scenario_is_one_error_line_and_exit_1() {
    let args = [os("trace"), os("panics")];
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
    // One line such as "error: the scenario panicked: …", and not the
    // default hook's "thread 'main' panicked at …" plus
    // "note: run with `RUST_BACKTRACE=1` …".
    one_line(&args, &out);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("panicked"),
        "{}",
        describe(&args, &out)
    );
    assert!(
        !stderr.contains("RUST_BACKTRACE") && !stderr.contains("thread '"),
        "{}",
        describe(&args, &out)
    );
    // The same with a backtrace asked for: still no dump.
    let out = memlab()
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&args, &out));
    one_line(&args, &out);
    // Hidden: `memlab list` does not offer it.
    let list = success(&[os("list")]);
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains("panics"),
        "memlab list shows the hidden scenario"
    );
}

/// A pseudo-terminal: (controller, the terminal's own side).
fn pty() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let (mut controller, mut terminal) = (-1, -1);
    // SAFETY: openpty writes two descriptors into our ints; the null
    // pointers ask for no name, default settings and default size.
    let ok = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(ok, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nothing else.
    unsafe {
        (
            std::fs::File::from_raw_fd(controller),
            std::fs::File::from_raw_fd(terminal),
        )
    }
}

/// The terminal's settings.
fn termios(terminal: &std::fs::File) -> libc::termios {
    use std::os::fd::AsRawFd;
    // SAFETY: termios is plain data; tcgetattr fills it or fails.
    let mut settings: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a valid pointer.
    let ok = unsafe { libc::tcgetattr(terminal.as_raw_fd(), &mut settings) };
    assert_eq!(ok, 0, "tcgetattr: {}", std::io::Error::last_os_error());
    settings
}

/// What memlab reads in step mode.
#[derive(Clone, Copy, Debug)]
enum Input {
    /// A pipe kept open and never written to.
    Pipe,
    /// A pseudo-terminal, as when a person runs it.
    Terminal,
}

/// Runs `memlab args` with stdin `input`, waits until it has printed
/// something (it is then at its first pause, or close to it), sends it
/// SIGINT as Ctrl-C would, and checks it ends within 5 s without a panic,
/// leaving the terminal's settings as they were.
///
/// On a terminal memlab reads keys in raw mode, and a SIGINT from outside
/// (in raw mode the Ctrl-C key is a key, not a signal) must restore the
/// terminal before memlab ends: "the terminal is usable after Ctrl-C"
/// means the process ends, and the terminal's settings are as before
/// (canonical mode and echo on). A pseudo-terminal lets the test read them.
fn interrupt_at_a_pause(args: &[&str], input: Input) {
    let (controller, terminal) = pty();
    let before = termios(&terminal);
    let mut command = memlab();
    // SAFETY: runs in the child between fork and exec, and only calls
    // signal, which is async-signal-safe. A terminal's foreground process
    // gets SIGINT's default action, even where this test's runner ignores
    // SIGINT (dispositions set to "ignore" survive exec).
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    match input {
        Input::Pipe => command.stdin(Stdio::piped()),
        Input::Terminal => command.stdin(terminal.try_clone().unwrap()),
    };
    let mut child = command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let keep_open = child.stdin.take();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, first_output) = mpsc::channel();
    let reader = thread::spawn(move || {
        let mut text = vec![];
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buffer) {
            text.extend_from_slice(&buffer[..n]);
            let _ = tx.send(());
        }
        text
    });
    if first_output.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = child.kill();
        let status = child.wait().unwrap();
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        panic!("memlab {args:?} printed nothing and ended ({status}); stderr:\n{text}");
    }
    thread::sleep(Duration::from_millis(300)); // to its read of stdin
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: signals our own child, which has not been waited for yet.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("memlab {args:?} ({input:?}) still runs 5 s after SIGINT");
        }
        thread::sleep(Duration::from_millis(20));
    };
    drop(keep_open);
    let stdout = reader.join().unwrap();
    let mut text = String::new();
    stderr.read_to_string(&mut text).unwrap();
    // Ended by the signal (memlab keeps SIGINT's default action), or by
    // exiting on it if memlab ever handles it (130 is the shells' convention).
    assert!(
        status.signal() == Some(libc::SIGINT) || status.code().is_some(),
        "{args:?} ({input:?}): {status}"
    );
    assert!(!text.contains("panicked"), "{args:?} ({input:?}): {text}");
    assert!(!stdout.is_empty());
    let after = termios(&terminal);
    assert_eq!(
        (after.c_lflag, after.c_iflag, after.c_oflag, after.c_cflag),
        (
            before.c_lflag,
            before.c_iflag,
            before.c_oflag,
            before.c_cflag
        ),
        "{args:?} ({input:?}) changed the terminal's settings"
    );
    assert_ne!(after.c_lflag & libc::ICANON, 0, "left canonical mode");
    assert_ne!(after.c_lflag & libc::ECHO, 0, "turned echo off");
    drop(controller);
}

#[test]
fn ctrl_c_during_lesson_step_ends_memlab_and_leaves_the_terminal_as_it_was() {
    for input in [Input::Pipe, Input::Terminal] {
        interrupt_at_a_pause(&["lesson", "vec-growth", "--step"], input);
    }
}

#[test]
fn ctrl_c_during_trace_step_ends_memlab_and_leaves_the_terminal_as_it_was() {
    for input in [Input::Pipe, Input::Terminal] {
        interrupt_at_a_pause(&["trace", "vec-growth", "--step"], input);
    }
}
