//! Checks that span scenarios: every one runs cleanly with a line for each
//! event, the two ways of finding lines agree, and the leak report.

use crate::helpers::*;

use memlab::capture::{Lines, Options};
use memlab::scenarios::SCENARIOS;
use memlab::trace::{LiveBlock, Trace};

#[test]
fn every_scenario_runs_cleanly_and_ties_every_event_to_a_line() {
    for scenario in SCENARIOS {
        let trace = scenario.trace(Options::default(), None);
        assert_eq!(trace.panic, None, "{}", scenario.id);
        assert_eq!(trace.loss.events, 0, "{}", scenario.id);
        for event in &trace.events {
            let line = event.line.unwrap_or_else(|| {
                panic!("{}: event #{} has no source line", scenario.id, event.seq)
            });
            assert!(
                scenario.source().line(line).is_some(),
                "{}: line {line} is not in the file",
                scenario.id
            );
        }
    }
}

#[test]
fn frame_pointer_lines_agree_with_the_unwinder() {
    // The fast frame-pointer walk and the backtrace crate's DWARF unwinder are
    // independent ways to find the caller; they must name the same lines.
    // Without frame pointers `Lines::Auto` is the unwinder too, and this
    // would compare it with itself: on x86-64 Linux the build keeps them
    // (.cargo/config.toml), so insist.
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        assert!(
            memlab::capture::walks_frame_pointers(),
            "this build has no frame pointers: is .cargo/config.toml applied?"
        );
    }
    for scenario in SCENARIOS {
        let fast = scenario.trace(Options::default(), None);
        let unwind = scenario.trace(
            Options {
                lines: Lines::Unwind,
                ..Options::default()
            },
            None,
        );
        let facts = |t: &Trace| -> Vec<_> {
            t.events
                .iter()
                .map(|e| (e.kind, e.size, e.align, e.line))
                .collect()
        };
        assert_eq!(facts(&fast), facts(&unwind), "{}", scenario.id);
    }
}

#[test]
fn the_leak_report_separates_leaks_from_blocks_kept_on_purpose() {
    let trace = run("leaks");
    let live = trace.live_blocks();
    let size = |b: &LiveBlock| trace.events[b.event].size;
    let leaked: Vec<usize> = live.iter().filter(|b| b.kept.is_none()).map(size).collect();
    assert_eq!(
        leaked,
        [9, 32, 32],
        "the forgotten String and the two Rc nodes"
    );
    let kept: Vec<_> = live
        .iter()
        .filter_map(|b| Some((b.kept.clone()?, size(b))))
        .collect();
    assert_eq!(kept, [("primes".into(), 16)], "Box::leak, kept on purpose");
    let total: usize = live.iter().map(size).sum();
    assert_eq!(total, trace.summary().live_bytes_at_end);

    for id in ["box", "vec-growth", "string-drop", "raw-alloc", "alignment"] {
        assert_eq!(run(id).live_blocks(), [], "{id} frees everything");
    }
}
