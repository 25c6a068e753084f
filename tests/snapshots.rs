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

/// Replaces a table cell that says "in place" or "moved" with `[mv?]`, keeping
/// the cell's width, so the snapshot holds no fact that depends on the
/// allocator's history. Prose is left alone.
fn redact_moved(text: &str) -> String {
    let mut out = String::new();
    for original in text.lines() {
        let line = original;
        if line.starts_with('│') {
            let cells: Vec<String> = line
                .split('┆')
                .map(|cell| match cell.trim() {
                    "in place" => cell.replacen("in place", "[mv?]   ", 1),
                    "moved" => cell.replacen("moved", "[mv?]", 1),
                    _ => cell.to_string(),
                })
                .collect();
            out.push_str(&cells.join("┆"));
        } else {
            // Source listings end a realloc's note with ", in place" or ", moved".
            let line = line
                .strip_suffix(", in place")
                .or_else(|| line.strip_suffix(", moved"));
            match line {
                Some(start) => out.push_str(&format!("{start}, [mv?]")),
                None => out.push_str(original),
            }
        }
        out.push('\n');
    }
    out
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
