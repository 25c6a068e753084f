//! `memlab run FILE.rs` and `memlab new`: the fixtures in tests/fixtures/run
//! built and traced through the binary. They share one cache folder, so
//! memlab's runtime compiles once for the whole file (the first test to
//! build waits for it; cargo's lock keeps the others out meanwhile).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// The cache every test here shares.
fn cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("memlab-run-cache")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/run")
        .join(name)
}

/// The 1-based line of fixture `name` that ends with `snippet` (exactly one).
#[track_caller]
fn line_of(name: &str, snippet: &str) -> u64 {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().ends_with(snippet))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{snippet:?} in {name}: {lines:?}");
    lines[0] as u64
}

fn memlab(args: &[&str]) -> Output {
    common::memlab_binary()
        .args(args)
        .arg("--cache-dir")
        .arg(cache())
        .args(["--color", "never", "--width", "100"])
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .expect("memlab runs")
}

/// Runs `memlab run` on fixture `name` with `args`; checks the exit code;
/// returns stdout and stderr.
#[track_caller]
fn run(name: &str, args: &[&str], code: i32) -> (String, String) {
    let file = fixture(name);
    let mut all = vec!["run", file.to_str().unwrap()];
    all.extend(args);
    let out = memlab(&all);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(out.status.code(), Some(code), "{name}:\n{stdout}\n{stderr}");
    // The program's own output may mention backtraces; memlab never prints one.
    assert!(!stderr.contains("stack backtrace:"), "{stderr}");
    (stdout, stderr)
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The (kind, size, line) of every event.
fn events(json: &serde_json::Value) -> Vec<(String, u64, Option<u64>)> {
    json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["size"].as_u64().unwrap(),
                e["line"].as_u64(),
            )
        })
        .collect()
}

#[test]
fn a_scenario_file_is_traced_like_a_built_in_one_with_its_own_lines() {
    let (stdout, _) = run("scenario.rs", &["--format", "json"], 0);
    let trace = json(&stdout);
    let grows = line_of("scenario.rs", "// the third push grows the block");
    let boxed = line_of("scenario.rs", "let boxed = Box::new(black_box([7u64; 4]));");
    let events = events(&trace);
    assert!(
        events.contains(&("alloc".into(), 32, Some(boxed))),
        "{events:?}"
    );
    assert!(
        events.contains(&("realloc".into(), 8, Some(grows))),
        "{events:?}"
    );
    assert!(
        events.iter().all(|(_, _, line)| line.is_some()),
        "{events:?}"
    );
    assert!(
        trace["events"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("scenario.rs")
    );
    assert_eq!(trace["stack"][0]["name"], "boxed");
    assert_eq!(trace["stack"][0]["preview"], "[7, 7, 7, 7]");
    assert_eq!(trace["observations"][0]["values"]["capacity"], 4);
    assert_eq!(trace["scenario"], "scenario");

    // The diagram draws it with symbolic names, as for a built-in scenario.
    let (diagram, _) = run(
        "scenario.rs",
        &["--view", "diagram", "--addresses", "symbolic"],
        0,
    );
    assert!(diagram.contains("boxed: Box<[u64; 4]>"), "{diagram}");
    assert!(diagram.contains("┌─ H1"), "{diagram}");
    assert!(diagram.contains("are those of `memlab run"), "{diagram}");
}

#[test]
fn an_ordinary_program_is_traced_and_its_output_kept_apart() {
    let (stdout, stderr) = run("plain.rs", &["--format", "json"], 0);
    let trace = json(&stdout);
    let collect = line_of("plain.rs", "let numbers: Vec<u32> = (0..100).collect();");
    let events = events(&trace);
    assert_eq!(
        events[0],
        ("alloc".into(), 400, Some(collect)),
        "{events:?}"
    );
    let from = line_of("plain.rs", "let mut name = String::from(\"memlab\");");
    assert!(
        events.contains(&("alloc".into(), 6, Some(from))),
        "{events:?}"
    );
    // The program printed; none of it is in the JSON, all of it is on stderr.
    assert!(!stdout.contains("numbers, memlab traces this"));
    assert!(
        stderr.contains("│ 100 numbers, memlab traces this"),
        "{stderr}"
    );

    let (tables, _) = run("plain.rs", &["--addresses", "symbolic"], 0);
    let output = tables.find("│ 100 numbers").expect("the program's output");
    assert!(
        output < tables.find("Heap events").unwrap(),
        "output first:\n{tables}"
    );
    assert!(
        tables.contains("Still allocated when the program exited"),
        "{tables}"
    );
    assert!(!tables.contains("Leaked"), "{tables}");
}

#[test]
fn a_compile_error_is_shown_as_rustc_prints_it_pointing_at_the_file() {
    let (stdout, stderr) = run("broken.rs", &[], 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("error[E0308]: mismatched types"),
        "{stderr}"
    );
    let at = format!("{}:2:22", fixture("broken.rs").display());
    assert!(stderr.contains(&at), "{at} in:\n{stderr}");
    let last = stderr.lines().last().unwrap();
    assert!(
        last.ends_with("does not compile: fix the errors above and run it again"),
        "{last}"
    );
}

#[test]
fn a_panic_is_one_line_and_the_events_before_it_are_shown() {
    let (stdout, stderr) = run("panics.rs", &["--format", "json"], 1);
    let last = stderr.lines().last().unwrap();
    assert!(last.starts_with("error: the program panicked: "), "{last}");
    assert!(last.contains("panics.rs:4:"), "{last}");
    assert!(last.contains("index out of bounds"), "{last}");
    let boxes = line_of(
        "panics.rs",
        "let kept: Vec<Box<u64>> = (0..3).map(Box::new).collect();",
    );
    let events = events(&json(&stdout));
    let allocs = events
        .iter()
        .filter(|(kind, size, line)| kind == "alloc" && *size == 8 && *line == Some(boxes))
        .count();
    assert_eq!(allocs, 3, "the three boxes: {events:?}");
}

#[test]
fn a_program_past_its_timeout_is_stopped_and_its_trace_kept() {
    let started = std::time::Instant::now();
    let (stdout, stderr) = run(
        "forever.rs",
        &["--timeout", "1", "--addresses", "symbolic"],
        1,
    );
    // A bound to catch a hang, not a measurement: 1 s, plus memlab's grace.
    assert!(started.elapsed().as_secs() < 30);
    let last = stderr.lines().last().unwrap();
    assert_eq!(
        last,
        "error: the program ran past --timeout 1 s and was stopped; the trace shows what it did until then"
    );
    assert!(stdout.contains("note: a partial trace"), "{stdout}");
    let first = line_of(
        "forever.rs",
        "let first = Box::new(std::hint::black_box(1u64));",
    );
    assert!(stdout.contains(&format!("{first} ┆ let first")), "{stdout}");
    assert!(
        stdout.contains("Still allocated when the program was stopped"),
        "{stdout}"
    );
}

#[test]
fn a_stack_overflow_is_one_line() {
    let (_, stderr) = run("overflow.rs", &[], 1);
    let last = stderr.lines().last().unwrap();
    assert_eq!(
        last,
        "error: the program overflowed its stack; it ended before memlab could read what it did"
    );
}

#[test]
fn the_threads_a_program_starts_are_recorded_under_their_names() {
    let (stdout, _) = run("threads.rs", &["--format", "json"], 0);
    let trace = json(&stdout);
    let squares = line_of(
        "threads.rs",
        "let squares: Vec<u64> = (1..=4).map(|x| x * x).collect();",
    );
    let on_worker: Vec<(u64, Option<u64>)> = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["thread"] == "worker" && e["kind"] == "alloc")
        .map(|e| (e["size"].as_u64().unwrap(), e["line"].as_u64()))
        .collect();
    assert!(on_worker.contains(&(32, Some(squares))), "{on_worker:?}");
}

#[test]
fn files_memlab_cannot_run_are_usage_errors() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("run-usage");
    std::fs::create_dir_all(&dir).unwrap();
    let neither = dir.join("neither.rs");
    std::fs::write(&neither, "pub fn helper() {}\n").unwrap();
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "fn main() {}\n").unwrap();
    for (path, says) in [
        (dir.join("missing.rs"), "no such file"),
        (dir.clone(), "memlab runs Rust source files"),
        (notes, "memlab runs Rust source files"),
        (
            neither,
            "has neither `pub fn run(s: &mut memlab::Scene)` nor `fn main()`",
        ),
    ] {
        let out = memlab(&["run", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(says), "{path:?}: {stderr}");
    }
}

#[test]
fn new_writes_a_file_run_accepts_and_never_overwrites() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("run-new");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("demo.rs");
    let made = common::memlab_binary()
        .args(["new", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(made.status.success());
    let again = common::memlab_binary()
        .args(["new", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let out = memlab(&["run", file.to_str().unwrap(), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = json(&String::from_utf8_lossy(&out.stdout));
    let text = std::fs::read_to_string(&file).unwrap();
    for event in trace["events"].as_array().unwrap() {
        let line = event["line"].as_u64().expect("every event has a line") as usize;
        assert!(text.lines().nth(line - 1).is_some());
    }
    assert_eq!(trace["stack"][0]["name"], "numbers");
}

#[test]
fn watch_runs_again_when_the_file_is_saved_and_not_when_it_is_only_touched() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("run-watch");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("watched.rs");
    let program = |n: u32| {
        format!(
            "fn main() {{\n    let v: Vec<u8> = Vec::with_capacity({n});\n    println!(\"cap {{}}\", v.capacity());\n}}\n"
        )
    };
    std::fs::write(&file, program(10)).unwrap();
    let mut child = common::memlab_binary()
        .args(["run", file.to_str().unwrap(), "--watch", "--cache-dir"])
        .arg(cache())
        .args(["--color", "never", "--width", "100"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines, read) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    // One screen: the lines up to the "watching" line under it.
    let screen = || -> Vec<String> {
        let mut screen = vec![];
        while let Ok(line) = read.recv_timeout(Duration::from_secs(120)) {
            let done = line.starts_with("── watching");
            screen.push(line);
            if done {
                return screen;
            }
        }
        panic!("no screen within the time limit: {screen:?}");
    };
    let first = screen();
    assert!(first.iter().any(|l| l.contains("│ cap 10")), "{first:?}");
    // Touching the file changes no byte: no new run.
    let _ = std::fs::File::options().append(true).open(&file).unwrap();
    assert!(
        read.recv_timeout(Duration::from_secs(2)).is_err(),
        "a touch ran it again"
    );
    // Saved as an editor does: a new file renamed over the old one.
    let temporary = dir.join(".watched.rs.swp");
    std::fs::write(&temporary, program(20)).unwrap();
    std::fs::rename(&temporary, &file).unwrap();
    let second = screen();
    let _ = child.kill();
    let _ = child.wait();
    assert!(second.iter().any(|l| l.contains("│ cap 20")), "{second:?}");
    let alloc = second
        .iter()
        // An events row: the heading's path may hold "alloc" too.
        .find(|l| l.contains("┆ alloc "))
        .expect("an alloc row");
    assert!(alloc.contains("20 / 1"), "{alloc}");
}

#[test]
fn front_matter_names_crates_and_lines_stay_the_files_own() {
    let (stdout, stderr) = run("frontmatter.rs", &["--format", "json"], 0);
    assert!(stderr.contains("│ 4"), "strsim ran: {stderr}");
    let heap = line_of(
        "frontmatter.rs",
        "let words = vec![String::from(\"heap\"), String::from(\"stack\")];",
    );
    let events = events(&json(&stdout));
    assert!(
        events.contains(&("alloc".into(), 4, Some(heap))),
        "{events:?}"
    );
    assert!(
        events.contains(&("alloc".into(), 5, Some(heap))),
        "{events:?}"
    );
}

#[test]
fn a_users_file_cannot_drive_the_terminal() {
    // Its source (in the listing), its probes' names (in the tables and
    // diagrams) and what it prints all hold escape sequences and bidi
    // controls; with --color never none reaches stdout or stderr.
    for view in ["table", "diagram", "all"] {
        let file = fixture("hostile.rs");
        let args = [
            "run",
            file.to_str().unwrap(),
            "--view",
            view,
            "--addresses",
            "symbolic",
        ];
        let out = memlab(&args);
        assert_eq!(out.status.code(), Some(0), "{view}: {out:?}");
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!stream.contains(&0x1b), "{view}: {text}");
            assert!(
                !text.chars().any(|c| ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)
                    || (c.is_control() && c != '\n' && c != '\t')),
                "{view}: {text}"
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("out \\x1b]52;c;cm0=\\x07 \\u{202e}"),
            "{stdout}"
        );
        assert!(stdout.contains("err \\x1b[?25l \\u{9b}"), "{stdout}");
    }
    let (stdout, _) = run("hostile.rs", &["--view", "table"], 0);
    assert!(stdout.contains("label\\x1b[2J\\u{2066}"), "{stdout}");
}
