//! Snapshots of `memlab trace` for every scenario. Symbolic addresses (H1, S1)
//! make the output deterministic by design; the one fact that depends on the
//! allocator's history, whether a realloc moved, is redacted.

use std::process::Command;

use memlab::scenarios::SCENARIOS;

/// memlab's output for `args`, deterministic: symbolic addresses, no colour.
fn memlab(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_memlab"))
        .args(args)
        .args(["--addresses", "symbolic", "--color", "never"])
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("memlab runs");
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

fn lesson(id: &str) -> String {
    memlab(&["lesson", id, "--width", "80"])
}

/// Redacts the facts that depend on the allocator's history, keeping every
/// cell's width so tables keep their shape: a realloc's "in place" or "moved"
/// (in table cells and in source listings), and a block's reserved size
/// (glibc may hand out a slightly larger free chunk; even the length of the
/// binary's path changes what is free). Prose is left alone.
fn redact_moved(text: &str) -> String {
    let mut out = String::new();
    let mut reserved: Option<usize> = None; // column of "reserved" in this table
    for line in text.lines() {
        if line.starts_with('┌') {
            reserved = None;
        }
        if line.starts_with('│') {
            let mut cells: Vec<String> = line.split('┆').map(str::to_string).collect();
            if let Some(i) = cells.iter().position(|c| c.trim() == "reserved") {
                reserved = Some(i);
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
                None => out.push_str(&redact_reserved(line)),
            }
        }
        out.push('\n');
    }
    out
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

#[test]
fn symbolic_output_holds_no_raw_address() {
    for scenario in SCENARIOS {
        let text = trace(scenario.id, "100");
        assert!(!text.contains("0x"), "{}:\n{text}", scenario.id);
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
    for id in ["vec-growth", "myths"] {
        let text = redact_moved(&lesson(id));
        assert!(!text.contains("0x"), "{id}: a raw address:\n{text}");
        insta::assert_snapshot!(format!("lesson-{id}-80"), text);
    }
}

/// Memory diagrams and charts at width 80: symbolic names make them the
/// same on every run and machine; only reserved sizes are redacted.
#[test]
fn picture_snapshots() {
    for id in [
        "box",
        "vec-growth",
        "string-drop",
        "rc-cycle",
        "rc-arc",
        "clone-vs-move",
    ] {
        let text = memlab(&["trace", id, "--view", "diagram", "--width", "80"]);
        insta::assert_snapshot!(format!("diagram-{id}-80"), redact_moved(&text));
    }
    for id in ["vec-growth", "string-growth", "capacity", "leaks"] {
        let text = memlab(&["trace", id, "--view", "chart", "--width", "80"]);
        insta::assert_snapshot!(format!("chart-{id}-80"), redact_moved(&text));
    }
    let text = memlab(&[
        "trace", "box", "--view", "diagram", "--width", "80", "--ascii",
    ]);
    assert!(text.is_ascii(), "{text}");
    insta::assert_snapshot!("diagram-box-80-ascii", redact_moved(&text));
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
