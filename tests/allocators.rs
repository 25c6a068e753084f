//! `--allocator NAME`: the same scenario under each global allocator memlab
//! has, run as a user would (the binary re-runs itself with
//! `MEMLAB_ALLOCATOR` set). What Rust asks for (kinds, sizes, alignments,
//! their order) is the same under every allocator; what each allocator
//! answers (addresses, reserved sizes, regions) is its own.

use std::process::{Command, Output};

use serde_json::Value;

fn memlab(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_memlab"));
    command
        .args(args)
        .env_remove("MEMLAB_ALLOCATOR")
        .env("LC_ALL", "C.UTF-8");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("memlab runs")
}

#[track_caller]
fn check(args: &[&str], env: &[(&str, &str)], code: i32) -> (String, String) {
    let out = memlab(args, env);
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
    assert_eq!(
        out.status.code(),
        Some(code),
        "memlab {args:?} {env:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (stdout, stderr)
}

/// `trace vec-growth --allocator NAME` as JSON.
fn vec_growth(allocator: &str) -> Value {
    let (stdout, _) = check(
        &[
            "trace",
            "vec-growth",
            "--allocator",
            allocator,
            "--format",
            "json",
        ],
        &[],
        0,
    );
    serde_json::from_str(&stdout).expect("valid JSON")
}

fn events(trace: &Value) -> &Vec<Value> {
    trace["events"].as_array().expect("events")
}

/// What Rust asked for: (kind, size, align, old size) of each event.
fn requests(trace: &Value) -> Vec<(String, u64, u64, Option<u64>)> {
    events(trace)
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["size"].as_u64().unwrap(),
                e["align"].as_u64().unwrap(),
                e["old_size"].as_u64(),
            )
        })
        .collect()
}

fn addresses(trace: &Value) -> Vec<String> {
    events(trace)
        .iter()
        .map(|e| e["address"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_allocator_gets_the_same_requests_and_answers_with_its_own_blocks() {
    let system = vec_growth("system");
    assert_eq!(system["allocator"], "system");
    let asked = requests(&system);
    assert_eq!(asked.len(), 8, "{asked:?}");
    let mut others = vec!["bump"];
    if cfg!(feature = "jemalloc") {
        others.push("jemalloc");
    }
    if cfg!(feature = "mimalloc") {
        others.push("mimalloc");
    }
    for name in others {
        let trace = vec_growth(name);
        assert_eq!(
            trace["allocator"], name,
            "the trace says which allocator ran"
        );
        assert_eq!(
            requests(&trace),
            asked,
            "{name}: the same Layouts, in the same order"
        );
        assert_ne!(
            addresses(&trace),
            addresses(&system),
            "{name}: its own addresses"
        );
        for event in events(&trace) {
            let size = event["size"].as_u64().unwrap();
            let reserved = event["usable_size"].as_u64();
            // Each allocator's own usable-size call answers for every block.
            let reserved = reserved.unwrap_or_else(|| panic!("{name}: no reserved size: {event}"));
            assert!(
                reserved >= size,
                "{name}: reserved {reserved} < requested {size}"
            );
            let region = event["region"].as_str().unwrap();
            match name {
                // glibc's chunk headers are never read for their blocks.
                "jemalloc" | "mimalloc" => assert_eq!(region, "unknown", "{name}: {event}"),
                // The arena is a static of memlab's binary, and the bump
                // allocator reserves exactly what was asked.
                _ => {
                    assert_eq!(region, "static", "{event}");
                    assert_eq!(reserved, size, "{event}");
                }
            }
        }
    }
}

#[test]
fn the_bump_allocator_hands_out_rising_addresses_grows_the_last_block_and_frees_nothing() {
    let trace = vec_growth("bump");
    let events = events(&trace);
    let address =
        |e: &Value| u64::from_str_radix(&e["address"].as_str().unwrap()[2..], 16).unwrap();
    let allocs: Vec<u64> = events
        .iter()
        .filter(|e| e["kind"] == "alloc")
        .map(address)
        .collect();
    assert!(
        allocs.windows(2).all(|w| w[0] < w[1]),
        "rising: {allocs:x?}"
    );
    // `numbers` is the last block while it grows: every realloc is in place.
    let reallocs: Vec<&Value> = events.iter().filter(|e| e["kind"] == "realloc").collect();
    assert_eq!(reallocs.len(), 4);
    assert!(reallocs.iter().all(|e| e["moved"] == false), "{reallocs:?}");
    // `reserved` (alloc #6) starts after the grown block's end, 512 bytes on.
    assert!(allocs[1] >= allocs[0] + 512, "{allocs:x?}");
}

#[test]
fn an_unknown_allocator_is_a_usage_error_of_one_line_naming_the_ones_there_are() {
    let (_, stderr) = check(&["trace", "box", "--allocator", "tcmalloc"], &[], 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for name in ["system", "bump"] {
        assert!(stderr.contains(name), "{stderr}");
    }
    assert_eq!(
        stderr.contains("jemalloc"),
        cfg!(feature = "jemalloc"),
        "{stderr}"
    );
    assert_eq!(
        stderr.contains("mimalloc"),
        cfg!(feature = "mimalloc"),
        "{stderr}"
    );
    let (_, stderr) = check(&["list"], &[("MEMLAB_ALLOCATOR", "tcmalloc")], 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("MEMLAB_ALLOCATOR=tcmalloc"), "{stderr}");
    assert!(stderr.contains("bump"), "{stderr}");
}

#[test]
fn the_variable_alone_chooses_and_the_flag_overrides_it() {
    let (stdout, _) = check(
        &["trace", "box", "--format", "json"],
        &[("MEMLAB_ALLOCATOR", "bump")],
        0,
    );
    assert!(stdout.contains("\"allocator\": \"bump\""), "{stdout}");
    let args = ["trace", "box", "--format", "json", "--allocator", "system"];
    let (stdout, _) = check(&args, &[("MEMLAB_ALLOCATOR", "bump")], 0);
    assert!(stdout.contains("\"allocator\": \"system\""), "{stdout}");
}

/// The summary row naming the allocator of a lesson page's run.
fn allocator_row(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.contains("allocator ") && l.contains('┆'))
        .unwrap_or_else(|| panic!("no allocator row:\n{stdout}"))
        .to_string()
}

#[test]
fn a_lesson_runs_under_the_allocator_asked_for_and_its_summary_says_so() {
    let args = [
        "lesson",
        "vec-growth",
        "--allocator",
        "bump",
        "--width",
        "100",
    ];
    let (stdout, _) = check(&args, &[], 0);
    assert!(allocator_row(&stdout).contains("bump"), "{stdout}");
    let (stdout, _) = check(&["lesson", "vec-growth", "--width", "100"], &[], 0);
    assert!(allocator_row(&stdout).contains("system"), "the default");
}
