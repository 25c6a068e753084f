//! Snapshots of every output memlab prints: traces, diagrams and charts of
//! every scenario, every lesson, step mode, the lists, help and JSON.
//! Symbolic addresses (H1, S1) make the output deterministic by design; the
//! facts that depend on the allocator's history (whether a realloc moved, a
//! block's reserved size) are redacted, and JSON's real addresses masked.

mod common;

use std::io::Write;
use std::process::Stdio;

use memlab::scenarios::SCENARIOS;

/// memlab's output for `args`, deterministic: symbolic addresses, no colour.
fn memlab(args: &[&str]) -> String {
    memlab_with_input(args, "")
}

/// The same, with `input` on standard input (step mode reads it).
fn memlab_with_input(args: &[&str], input: &str) -> String {
    // --addresses is an option of the commands that show a run.
    let runs = matches!(args.first(), Some(&("trace" | "lesson" | "run")));
    let addresses: &[&str] = if runs {
        &["--addresses", "symbolic"]
    } else {
        &[]
    };
    let mut child = common::memlab_binary()
        .args(args)
        .args(addresses)
        .args(["--color", "never"])
        .env("LC_ALL", "C.UTF-8")
        .env_remove("COLUMNS")
        .env_remove("LINES")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("memlab runs");
    let mut stdin = child.stdin.take().expect("piped");
    stdin
        .write_all(input.as_bytes())
        .expect("memlab reads its input");
    drop(stdin);
    let out = child.wait_with_output().expect("memlab ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn trace(id: &str, width: &str) -> String {
    memlab(&["trace", id, "--width", width])
}

/// A lesson page as a reader sees it, but with the live values and passages
/// that depend on the allocator's history redacted (see [`settle`]).
fn lesson(id: &str) -> String {
    settle(&memlab(&["lesson", id, "--width", "80", "--claims"]))
}

/// Whether a query asks for something that differs between runs of the same
/// binary: a reserved size, whether a block moved, or the process's memory.
/// A condition is volatile when one of its clauses asks such a thing.
fn volatile(ask: &str) -> bool {
    if ask.contains(" and ") {
        return ask.split(" and ").any(volatile);
    }
    let ops = ["=", "!=", "<", "<=", ">", ">="];
    let words: Vec<&str> = ask.split(' ').take_while(|w| !ops.contains(w)).collect();
    matches!(
        words.as_slice(),
        [_, "event", _, "reserved" | "moved"]
            | [_, "count", "moved" | "in-place", ..]
            | ["thousand-boxes", "observation", ..]
    )
}

/// A page printed with `--claims`, back to the page a reader sees (the marks
/// take no width, so the layout is the same), with each value that depends
/// on the allocator's history written `[~]` and each passage chosen by such
/// a value written `[a passage chosen by the run]`.
fn settle(text: &str) -> String {
    const OPEN: &str = "\x1b]memlab;";
    let (body, trailer) = text.split_once("\n⟦claims ").expect("a claims trailer");
    let mut volatile_values = vec![];
    let mut volatile_groups = vec![];
    let mut group = String::new();
    for line in trailer.lines() {
        let words: Vec<&str> = line.splitn(3, ' ').collect();
        match words.as_slice() {
            ["value", n, rest] if volatile(rest.split_once(": ").map_or("", |r| r.1)) => {
                volatile_values.push(n.to_string());
            }
            ["group", g, _] => group = g.to_string(),
            ["passage", _, rest] if volatile(rest.trim_start_matches("when ")) => {
                volatile_groups.push(group.clone());
            }
            _ => {}
        }
    }
    let mut out = String::new();
    let mut rest = body;
    let mut skipping = false;
    while let Some(start) = rest.find(OPEN) {
        if !skipping {
            out.push_str(&rest[..start]);
        }
        let after = &rest[start + OPEN.len()..];
        let end = after.find('\x07').expect("a closed mark");
        let what: Vec<&str> = after[..end].split(';').collect();
        rest = &after[end + 1..];
        match what.as_slice() {
            ["value", n] if volatile_values.iter().any(|v| v == n) => {
                let close = rest.find(OPEN).unwrap_or(rest.len());
                if !skipping {
                    out.push_str("[~]");
                }
                rest = &rest[close..];
            }
            ["passage", g, _] if volatile_groups.iter().any(|v| v == g) => {
                out.push_str("[a passage chosen by the run]");
                skipping = true;
            }
            ["/passage"] => skipping = false,
            _ => {}
        }
    }
    out.push_str(rest);
    out
}

/// Redacts the facts that depend on the allocator's history, keeping every
/// cell's width so tables keep their shape: a realloc's "in place" or "moved"
/// (in table cells and in source listings), and a block's reserved size
/// (glibc may hand out a slightly larger free chunk; even the length of the
/// binary's path changes what is free), and the process's memory that
/// `thousand-boxes` observes. Lesson prose is settled apart ([`settle`]).
fn redact_moved(text: &str) -> String {
    let mut out = String::new();
    let mut reserved: Option<usize> = None; // column of "reserved" in this table
    let mut memory: Option<usize> = None; // column of "mappings" in this table
    let mut header = false; // between a table's top and its header rule
    for line in text.lines() {
        if line.starts_with('┌') {
            reserved = None;
            memory = None;
            header = true;
        }
        if line.starts_with('╞') {
            header = false;
        }
        if line.starts_with('│') {
            let mut cells: Vec<String> = line.split('┆').map(str::to_string).collect();
            if let Some(i) = cells.iter().position(|c| c.trim() == "reserved") {
                reserved = Some(i);
            }
            // The process's memory (thousand-boxes) differs between runs.
            if let Some(i) = cells.iter().position(|c| c.trim().starts_with("mappi")) {
                memory = Some(i);
            }
            if let Some(first) = memory.filter(|_| !header) {
                for cell in cells.iter_mut().skip(first).take(3) {
                    let value = cell.trim();
                    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
                        let width = cell.chars().count();
                        *cell = format!("{:>w$} ", "[n]", w = width - 1);
                    }
                }
            }
            for cell in &mut cells {
                *cell = match cell.trim() {
                    "in place" => cell.replacen("in place", "[mv?]   ", 1),
                    "moved" => cell.replacen("moved", "[mv?]", 1),
                    _ => cell.clone(),
                };
            }
            // A reserved size sits alone on the second line of a row.
            let continuation = cells
                .first()
                .is_some_and(|c| c.trim_matches('│').trim().is_empty());
            if let Some(cell) = reserved
                .filter(|_| continuation)
                .and_then(|i| cells.get_mut(i))
            {
                let value = cell.trim();
                if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit() || c == '?') {
                    let width = cell.chars().count();
                    *cell = format!("{:>w$} ", "[r]", w = width - 1);
                }
            }
            out.push_str(&redact_reserved(&cells.join("┆")));
        } else {
            // Source listings end a realloc's note with ", in place" or ", moved".
            let start = line
                .strip_suffix(", in place")
                .or_else(|| line.strip_suffix(", moved"));
            match start {
                Some(start) => out.push_str(&format!("{start}, [mv?]")),
                None => out.push_str(&redact_step(&redact_reserved(line))),
            }
        }
        out.push('\n');
    }
    out
}

/// Step mode's event lines, each on one line: where a realloc's line wraps
/// depends on whether it moved (`moved from #1's address` is longer than
/// `in place`), so the snapshot joins it before redacting.
fn join_events(text: &str) -> String {
    let mut out: Vec<String> = vec![];
    let mut event = false; // the line before was (part of) an event line
    for line in text.lines() {
        let starts_event = line.starts_with('#') && line.contains(" B");
        let goes_on = event
            && !line.is_empty()
            && !line.starts_with("Observed")
            && !line.starts_with("Memory");
        match out.last_mut() {
            Some(last) if goes_on => {
                last.push(' ');
                last.push_str(line);
            }
            _ => {
                out.push(line.to_string());
                event = starts_event;
            }
        }
    }
    out.join("\n") + "\n"
}

/// Step mode's event line: `#2 realloc H1 32 → 64 B, moved from #1's
/// address · align 8 · heap · 72 B reserved` keeps its shape with `[mv?]`
/// and `[r]`.
fn redact_step(line: &str) -> String {
    let mut line = line
        .replace("B, in place · ", "B, [mv?] · ")
        .replace("B, moved · ", "B, [mv?] · ");
    // A move says where from: `moved from #1's address`.
    while let Some(start) = line.find("B, moved from ") {
        let rest = &line[start..];
        let end = rest.find(" · ").map_or(line.len(), |i| start + i);
        line.replace_range(start..end, "B, [mv?]");
    }
    let reserved = |part: &str| {
        part.strip_suffix(" B reserved")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    line.split(" · ")
        .map(|part| {
            if reserved(part) {
                "[r] B reserved"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Diagrams say "32 B of 40 reserved": the reserved size becomes `[r]`, and
/// the spaces after it take up the difference, so boxes keep their shape.
fn redact_reserved(line: &str) -> String {
    let mut line = line.to_string();
    let mut from = 0;
    while let Some(start) = line[from..].find(" of ").map(|i| from + i + 4) {
        from = start;
        let digits = line[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if digits == 0 || !line[start + digits..].starts_with(" reserved") {
            continue;
        }
        let rest = &line[start + digits..];
        // Keep the width: take spaces from (or give them to) the first run
        // of two or more spaces after the number.
        let rest = match rest.find("  ") {
            Some(gap) if digits < 3 => format!("{}{}", &rest[..gap], &rest[gap + 3 - digits..]),
            Some(gap) => format!("{}{}{}", &rest[..gap], " ".repeat(digits - 3), &rest[gap..]),
            None => rest.to_string(),
        };
        line = format!("{}[r]{rest}", &line[..start]);
    }
    line
}

/// Whether `text` holds something that looks like an address: `0x` and six
/// or more hex digits (code such as `0xAB` is not one).
fn has_raw_address(text: &str) -> bool {
    text.match_indices("0x").any(|(i, _)| {
        text[i + 2..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count()
            >= 6
    })
}

#[test]
fn symbolic_output_holds_no_raw_address() {
    for scenario in SCENARIOS {
        let text = trace(scenario.id, "100");
        assert!(!has_raw_address(&text), "{}:\n{text}", scenario.id);
    }
}

#[test]
fn trace_snapshots() {
    for scenario in SCENARIOS {
        for width in ["100", "60"] {
            let text = redact_moved(&trace(scenario.id, width));
            insta::assert_snapshot!(format!("trace-{}-{width}", scenario.id), text);
        }
    }
}

#[test]
fn lesson_snapshots() {
    let ids: Vec<String> = memlab::lessons::embedded(&memlab::scenarios::BUILT_IN)
        .expect("the built-in lessons load")
        .into_iter()
        .map(|l| l.id)
        .collect();
    for id in &ids {
        let text = redact_moved(&lesson(id));
        assert!(!has_raw_address(&text), "{id}: a raw address:\n{text}");
        insta::assert_snapshot!(format!("lesson-{id}-80"), text);
    }
}

/// Memory diagrams and charts of every scenario at width 80: symbolic names
/// make them the same on every run and machine; only reserved sizes are
/// redacted.
#[test]
fn picture_snapshots() {
    for scenario in SCENARIOS {
        let id = scenario.id;
        let text = memlab(&["trace", id, "--view", "diagram", "--width", "80"]);
        insta::assert_snapshot!(format!("diagram-{id}-80"), redact_moved(&text));
        let text = memlab(&["trace", id, "--view", "chart", "--width", "80"]);
        insta::assert_snapshot!(format!("chart-{id}-80"), redact_moved(&text));
    }
    let text = memlab(&[
        "trace", "box", "--view", "diagram", "--width", "80", "--ascii",
    ]);
    assert!(text.is_ascii(), "{text}");
    insta::assert_snapshot!("diagram-box-80-ascii", redact_moved(&text));
}

/// Step mode, driven as a script would: forward, back, an unknown key, to
/// the end.
#[test]
fn step_snapshots() {
    for id in ["vec-growth", "threads", "rc-cycle", "zero-sized"] {
        let input = "n\nb\nx\n".to_string() + &"n\n".repeat(80);
        let text = memlab_with_input(&["trace", id, "--step", "--width", "80"], &input);
        insta::assert_snapshot!(format!("step-{id}-80"), redact_moved(&join_events(&text)));
    }
    // A lesson in step mode: the prediction answered, forward, back, an
    // unknown key, to the end.
    let input = "yes\n\nb\nx\n".to_string() + &"\n".repeat(40);
    let text = memlab_with_input(&["lesson", "box", "--step", "--width", "80"], &input);
    insta::assert_snapshot!("lesson-step-box-80", redact_moved(&text));
}

/// What memlab says before any run: the welcome, the list, help.
#[test]
fn list_and_help_snapshots() {
    insta::assert_snapshot!("welcome-80", memlab(&["--width", "80"]));
    insta::assert_snapshot!("list-80", memlab(&["list", "--width", "80"]));
    for (name, args) in [
        ("help", vec!["--help"]),
        ("help-trace", vec!["trace", "--help"]),
        ("help-lesson", vec!["lesson", "--help"]),
    ] {
        insta::assert_snapshot!(name, memlab(&args));
    }
}

/// JSON keeps real addresses (and reserved sizes, in place or moved): those
/// are masked; every other value is the run's.
#[test]
fn json_snapshots() {
    for id in ["box", "threads", "leaks"] {
        let out = common::memlab_binary()
            .args(["trace", id, "--format", "json"])
            .output()
            .expect("memlab runs");
        assert!(out.status.success());
        let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        mask(&mut json);
        insta::assert_json_snapshot!(format!("json-{id}"), json);
    }
}

/// Masks what depends on where the allocator put things.
fn mask(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                let masked = match (key.as_str(), &*value) {
                    (_, Value::String(s)) if s.starts_with("0x") => Some("[addr]"),
                    ("usable_size", Value::Number(_)) => Some("[r]"),
                    ("moved", Value::Bool(_)) => Some("[mv?]"),
                    _ => None,
                };
                match masked {
                    Some(text) => *value = Value::String(text.to_string()),
                    None => mask(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

#[test]
fn redacting_reserved_sizes_keeps_the_width() {
    let line = "│ 32 B of 40 reserved     │";
    assert_eq!(redact_reserved(line), "│ 32 B of [r] reserved    │");
    let line = "│ 32 B of 1040 reserved   │";
    assert_eq!(redact_reserved(line), "│ 32 B of [r] reserved    │");
    assert_eq!(redact_reserved("one of us"), "one of us");
    let two = "│ 8 B of 24 reserved   │ 5 B of 24 reserved   │";
    assert_eq!(
        redact_reserved(two),
        "│ 8 B of [r] reserved  │ 5 B of [r] reserved  │"
    );
}
