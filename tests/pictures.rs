//! Diagrams, charts and step-through: arrows end at the block each pointer
//! holds, pictures fit the width, and `trace --step` follows its input.

mod common;

// The scenario tests' helpers (tests/scenarios/helpers.rs), shared.
#[path = "scenarios/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Output, Stdio};

use helpers::{local, run};
use memlab::render::{AddressMode, Settings, diagram};
use memlab::scenarios::SCENARIOS;
use memlab::trace::names::Names;
use memlab::trace::snapshot::{self, Moment, SlotState, Snapshot};
use textwrap::core::display_width;

fn settings(width: u16) -> Settings {
    Settings {
        width,
        addresses: AddressMode::Symbolic,
        ascii: false,
    }
}

/// The ends of every arrow in a drawn diagram: from the name of the local on
/// each `●` row (for a link between blocks, the field's line in its block:
/// `+24 a.next`) to the block named on the top border above each `▶` or `◀`
/// it reaches, found by walking the line characters.
fn arrows(lines: &[String]) -> BTreeSet<(String, String)> {
    let grid: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let at = |r: usize, c: usize| {
        grid.get(r)
            .and_then(|row| row.get(c))
            .copied()
            .unwrap_or(' ')
    };
    let mut found = BTreeSet::new();
    for (r, row) in grid.iter().enumerate() {
        for (c, &ch) in row.iter().enumerate() {
            if ch != '●' {
                continue;
            }
            let text: String = row[..c].iter().collect();
            // A field's line in a heap block: after the block's left border.
            let in_block = text.rsplit(['│', '▶']).next().unwrap_or("").trim();
            let name = if in_block.starts_with('+') {
                in_block.to_string()
            } else {
                let name = text.trim_start_matches(['│', ' ']).split(':').next();
                name.unwrap_or("").to_string()
            };
            for (hr, hc) in follow(&at, r, c + 1) {
                let border: String = if at(hr, hc) == '▶' {
                    grid[hr - 1][hc..].iter().collect()
                } else {
                    // `◀` is on the right border: the name is left of it.
                    let left: String = grid[hr - 1][..hc].iter().collect();
                    let start = left.rfind(['┌', '┏']).unwrap_or(0);
                    left[start..].to_string()
                };
                let block = border
                    .split_whitespace()
                    .find(|w| w.starts_with('H'))
                    .unwrap_or("?");
                found.insert((name.clone(), block.to_string()));
            }
        }
    }
    found
}

/// The arrow heads reached from (`row`, `column`), entered from the left.
/// Junctions branch; a crossing (`┼`) goes straight on.
fn follow(at: &dyn Fn(usize, usize) -> char, row: usize, column: usize) -> Vec<(usize, usize)> {
    // Directions: 0 up, 1 down, 2 left, 3 right; a cell's exits by its character.
    let exits = |c: char| -> &'static [usize] {
        match c {
            '─' => &[2, 3],
            '│' => &[0, 1],
            '┌' => &[1, 3],
            '┐' => &[1, 2],
            '└' => &[0, 3],
            '┘' => &[0, 2],
            '├' => &[0, 1, 3],
            '┤' => &[0, 1, 2],
            '┬' => &[1, 2, 3],
            '┴' => &[0, 2, 3],
            '┼' => &[0, 1, 2, 3],
            _ => &[],
        }
    };
    let mut heads = vec![];
    let mut todo = vec![(row, column, 3usize)]; // moving right
    let mut seen = BTreeSet::new();
    while let Some((r, c, moving)) = todo.pop() {
        if !seen.insert((r, c, moving)) {
            continue;
        }
        let ch = at(r, c);
        if (ch, moving) == ('▶', 3) || (ch, moving) == ('◀', 2) {
            heads.push((r, c));
            continue;
        }
        let came_from = [1, 0, 3, 2][moving];
        if !exits(ch).contains(&came_from) {
            continue; // the line does not continue this way
        }
        let next: Vec<usize> = if ch == '┼' {
            vec![moving]
        } else {
            exits(ch)
                .iter()
                .copied()
                .filter(|&d| d != came_from)
                .collect()
        };
        for d in next {
            let (nr, nc) = match d {
                0 if r > 0 => (r - 1, c),
                1 => (r + 1, c),
                2 if c > 0 => (r, c - 1),
                3 => (r, c + 1),
                _ => continue,
            };
            todo.push((nr, nc, d));
        }
    }
    heads
}

#[test]
fn every_arrow_ends_at_the_block_the_local_points_into() {
    let mut checked = 0;
    let mut links = 0;
    for scenario in SCENARIOS {
        let trace = run(scenario.id);
        let names = Names::new(&trace);
        let ids = snapshot::block_ids(&trace.events);
        for moment in snapshot::moments(&trace) {
            let snap = Snapshot::at(&trace, &ids, moment);
            // Expected: each slot with an arrow, and the block its pointer's
            // address falls in when probed, named independently of the diagram.
            let mut expected = BTreeSet::new();
            for frame in &snap.frames {
                for slot in &frame.slots {
                    if let SlotState::PointsTo { block, .. } = slot.state
                        && snap.block(block).is_some()
                    {
                        // A block shown before the probe that proves it:
                        // that later probe's block.
                        let probe = slot.owned_by_later.unwrap_or(slot.index);
                        let named = names.target(probe).expect("a block of this trace");
                        let named = named.split('+').next().unwrap_or_default().to_string();
                        assert_eq!(named, format!("H{block}"), "{}", scenario.id);
                        expected.insert((slot.local.name.to_string(), named));
                    }
                }
            }
            // Each link between drawn blocks: from its field's line, at the
            // offset the field's own address has in its block.
            for link in &snap.links {
                let local = &trace.locals[link.index];
                let field = names.field(link.index).expect("a field of a block");
                assert_eq!(
                    field,
                    format!("H{}+{}", link.from_block, link.offset),
                    "{}",
                    scenario.id
                );
                let named = names.target(link.index).expect("a block of this trace");
                let named = named.split('+').next().unwrap_or_default().to_string();
                assert_eq!(named, format!("H{}", link.to_block), "{}", scenario.id);
                expected.insert((format!("+{} {}", link.offset, local.name), named));
                links += 1;
            }
            for width in [60, 80, 140] {
                let lines = diagram::draw(&trace, &names, &snap, settings(width));
                assert_eq!(
                    arrows(&lines),
                    expected,
                    "{} at {moment:?}, width {width}:\n{}",
                    scenario.id,
                    lines.join("\n")
                );
                checked += expected.len();
            }
        }
    }
    assert!(checked > 50, "only {checked} arrows checked");
    // rc-cycle's two `next` fields and string-drop's three headers, at the
    // moments they were probed and at the end (rc-cycle's leaked pair).
    assert!(links >= 10, "only {links} links checked");
}

#[test]
fn a_moved_box_keeps_its_block_and_a_dropped_string_is_gone() {
    let trace = run("box");
    let ids = snapshot::block_ids(&trace.events);
    let after_move = snapshot::moment_naming(&trace, "second").unwrap();
    let snap = Snapshot::at(&trace, &ids, after_move);
    let state = |name: &str| {
        snap.frames
            .iter()
            .flat_map(|f| &f.slots)
            .find(|s| s.local.name == name)
            .map(|s| s.state)
    };
    assert_eq!(state("first"), Some(SlotState::MovedTo { name: "second" }));
    assert_eq!(
        state("second"),
        Some(SlotState::PointsTo {
            block: 1,
            offset: 0
        })
    );
    let end = Snapshot::at(&trace, &ids, Moment::End);
    assert!(end.frames.is_empty());
    assert_eq!(end.blocks[0].freed_at, Some(2));

    let trace = run("string-drop");
    let ids = snapshot::block_ids(&trace.events);
    let snap = Snapshot::at(
        &trace,
        &ids,
        snapshot::moment_naming(&trace, "names").unwrap(),
    );
    let greeting = snap
        .frames
        .iter()
        .flat_map(|f| &f.slots)
        .find(|s| s.local.name == "greeting")
        .unwrap();
    let freed = trace
        .events
        .iter()
        .position(|e| e.kind == memlab::Kind::Dealloc);
    assert_eq!(
        greeting.state,
        SlotState::Gone {
            block: 1,
            freed_at: freed.unwrap() + 1
        }
    );
    // What the probe read is shown with the block: the bytes of "hello".
    let snap = Snapshot::at(
        &trace,
        &ids,
        snapshot::moment_naming(&trace, "greeting").unwrap(),
    );
    let contents = snap.block(1).unwrap().contents.unwrap();
    assert_eq!(contents.preview.text(), "\"hello\"");
    assert_eq!(contents.len, Some(5));
    assert_eq!(local(&trace, "greeting").preview.text(), "\"hello\"");
}

#[test]
fn out_of_scope_locals_leave_their_leaked_blocks_behind() {
    let trace = run("rc-cycle");
    let ids = snapshot::block_ids(&trace.events);
    let snap = Snapshot::at(&trace, &ids, snapshot::moment_naming(&trace, "a").unwrap());
    let slots: Vec<_> = snap.frames.iter().flat_map(|f| &f.slots).collect();
    assert_eq!(slots.len(), 2);
    assert!(
        slots
            .iter()
            .all(|s| matches!(s.state, SlotState::OutOfScope { .. }))
    );
    assert_eq!(snap.blocks.len(), 2);
    assert!(snap.blocks.iter().all(|b| b.freed_at.is_none()));
    let end = Snapshot::at(&trace, &ids, Moment::End);
    let leaked: Vec<usize> = end
        .blocks
        .iter()
        .filter(|b| b.leaked)
        .map(|b| b.id)
        .collect();
    assert_eq!(leaked, [1, 2]);
}

fn memlab(args: &[&str], stdin: &str) -> Output {
    let mut child = common::memlab_binary()
        .args(args)
        .args(["--color", "never", "--addresses", "symbolic"])
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("memlab starts");
    // memlab may stop reading early (q): a closed pipe here is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().expect("memlab ends")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The "Event n of m" headings, in order.
fn steps(text: &str) -> Vec<usize> {
    text.lines()
        .filter_map(|l| l.strip_prefix("Event ")?.split(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn step_through_goes_forward_back_and_quits() {
    let out = memlab(&["trace", "vec-growth", "--step"], "n\nn\nb\nq\n");
    let text = stdout(&out);
    assert_eq!(steps(&text), [1, 2, 3, 2]);
    assert!(text.contains("Stopped."), "{text}");
    // Each step marks its source line and shows the memory after the event.
    assert!(
        text.contains("▶ 14 │         numbers.push(black_box(i));"),
        "{text}"
    );
    assert!(text.contains("#2 realloc H1 32 → 64 B"), "{text}");
    // A moved block says where from: the event that gave it its address.
    if text.contains("32 → 64 B, moved") {
        assert!(
            text.contains("32 → 64 B, moved from #1's address"),
            "{text}"
        );
    }
    // `numbers` was probed with no block and later found owning H1, and the
    // heap saw only H1 in between: it shows H1 from `#1 alloc` on.
    assert!(!text.contains("no block"), "{text}");
    let first = text.split("Event 2 of").next().unwrap();
    assert!(first.contains("│ numbers: Vec<u64>"), "{first}");
    assert_eq!(
        arrows(&first.lines().map(String::from).collect::<Vec<_>>()).len(),
        1
    );
    // What the code observed after each event, before the next.
    assert!(
        first.contains("Observed after it (`push`, line 15, 4 times): from len 1 ·"),
        "{first}"
    );
    assert!(text.contains("Memory after event #3 of 8"), "{text}");
    assert!(text.contains("◀ #3 realloc"), "{text}");
}

#[test]
fn step_through_stops_at_either_end_and_at_the_end_of_input() {
    let text = stdout(&memlab(&["trace", "box", "--step"], "b\n\nx\n\n"));
    assert_eq!(steps(&text), [1, 2]);
    assert!(text.contains("Already at the first event."), "{text}");
    assert!(
        text.contains("→ Space n PgDn: next · ← b PgUp: back"),
        "{text}"
    );
    assert!(text.contains("End of the trace."), "{text}");
    // No input at all: the first event, then a clean end.
    let text = stdout(&memlab(&["trace", "vec-growth", "--step"], ""));
    assert_eq!(steps(&text), [1]);
    // A scenario with no heap events says so.
    let text = stdout(&memlab(&["trace", "locals", "--step"], "n\n"));
    assert!(
        text.contains("No heap events: nothing to step through."),
        "{text}"
    );
}

/// Whether `text` holds a symbolic name: `H3`, `S1`, `H2+16`.
fn has_symbolic_name(text: &str) -> Option<&str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|word| {
            word.len() > 1
                && (word.starts_with('H') || word.starts_with('S'))
                && word[1..].bytes().all(|b| b.is_ascii_digit())
        })
}

#[test]
fn real_address_mode_never_shows_a_symbolic_name() {
    for scenario in SCENARIOS {
        let steps = "n\n".repeat(200);
        for args in [
            vec!["trace", scenario.id, "--view", "all"],
            vec!["trace", scenario.id, "--step"],
        ] {
            let mut child = common::memlab_binary()
                .args(&args)
                .args(["--color", "never"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("memlab starts");
            let _ = child.stdin.take().unwrap().write_all(steps.as_bytes());
            let text = stdout(&child.wait_with_output().expect("memlab ends"));
            assert_eq!(
                has_symbolic_name(&text),
                None,
                "memlab {args:?} names a block symbolically in real-address mode:\n{text}"
            );
        }
    }
    // The check itself finds them where they belong.
    let symbolic = stdout(&memlab(&["trace", "box", "--step"], "n\nn\nn\n"));
    assert!(has_symbolic_name(&symbolic).is_some(), "{symbolic}");
}

#[test]
fn pictures_fit_every_width() {
    for scenario in SCENARIOS {
        for width in ["60", "80", "120", "200"] {
            let text = stdout(&memlab(
                &["trace", scenario.id, "--view", "all", "--width", width],
                "",
            ));
            let step = stdout(&memlab(
                &["trace", scenario.id, "--step", "--width", width],
                "n\nn\nn\n",
            ));
            for line in text.lines().chain(step.lines()) {
                assert!(
                    display_width(line) <= width.parse().unwrap(),
                    "{} at {width}: {line}",
                    scenario.id
                );
            }
        }
    }
}

#[test]
fn a_non_utf8_locale_gets_plain_ascii() {
    let out = common::memlab_binary()
        .args(["trace", "rc-cycle", "--view", "all", "--color", "never"])
        .args(["--addresses", "symbolic"])
        .env_remove("LANG")
        .env_remove("LC_CTYPE")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(text.is_ascii(), "{text}");
    assert!(text.contains("+- H1 "), "{text}");
}

#[test]
fn diagrams_never_panic_however_narrow() {
    // The CLI draws pictures at least 60 wide, but the renderer is a library
    // function: a lesson laid out side by side, or a caller of its own, may
    // give it any width. Found by the lesson fuzzer at width 40 once links
    // took lanes right of the heap: a subtraction overflowed.
    for scenario in SCENARIOS {
        let trace = run(scenario.id);
        let names = Names::new(&trace);
        for width in 0..=60 {
            for ascii in [false, true] {
                let settings = Settings {
                    width,
                    addresses: AddressMode::Symbolic,
                    ascii,
                };
                let _ = diagram::diagrams(&trace, &names, settings);
            }
        }
    }
}
