//! Lessons: every built-in lesson loads and renders at every width and layout;
//! step mode is driven by scripted input; broken lessons name file and line.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use memlab::Options;
use memlab::lessons::{self, Block, Plan, Query, View};
use memlab::render::lesson::{Layout, Piece};
use memlab::render::{AddressMode, Settings};
use memlab::scenarios::BUILT_IN;

fn memlab(args: &[&str], stdin: &str) -> Output {
    let mut child = common::memlab_binary()
        .args(args)
        .args(["--color", "never"])
        .env("LC_ALL", "C.UTF-8") // Unicode output, whatever the machine's locale
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("memlab runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// Runs memlab with `stdin`, checks the exit code, returns (stdout, stderr).
#[track_caller]
fn check(args: &[&str], stdin: &str, code: i32) -> (String, String) {
    let out = memlab(args, stdin);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}\n{stdout}\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    (stdout, stderr)
}

#[test]
fn every_lesson_renders_at_every_width_and_layout() {
    let lessons = lessons::embedded(&BUILT_IN).expect("the built-in lessons load");
    assert!(!lessons.is_empty());
    for lesson in &lessons {
        let plan = Plan::build(lesson, |id| {
            Some(BUILT_IN.find(id)?.trace(Options::default(), None))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        for width in [60u16, 80, 160] {
            for layout in [Layout::Stacked, Layout::Side] {
                let settings = Settings {
                    width,
                    addresses: AddressMode::Real,
                    ascii: false,
                };
                let pieces = memlab::render::lesson::lesson(&plan, settings, layout);
                let text: String = pieces
                    .iter()
                    .filter_map(|p| match p {
                        Piece::Text(t) => Some(t.as_str()),
                        _ => None,
                    })
                    .collect();
                for line in text.lines() {
                    assert!(
                        line.chars().count() <= usize::from(width),
                        "{} at {width} {layout:?}: {} columns:\n{line}",
                        lesson.id,
                        line.chars().count()
                    );
                }
                assert!(pieces.iter().any(|p| matches!(p, Piece::Predict(_))));
            }
        }
    }
}

/// Whether `view` shows what `query` asks about `scenario`'s run.
fn shows(view: &View, scenario: &str, query: &Query) -> bool {
    let of = |s: &String| s == scenario;
    match query {
        Query::Holds { query, .. } => shows(view, scenario, query),
        Query::Observation { .. } => matches!(view, View::Observations(s) if of(s)),
        Query::Count { .. } | Query::Moves { .. } | Query::Events { .. } | Query::Event { .. } => {
            matches!(view, View::Events(s) | View::Source(s) | View::Summary(s) if of(s))
        }
        Query::Summary(_) => matches!(view, View::Summary(s) if of(s)),
        Query::Local { .. } | Query::SameBlock(..) => match view {
            View::Stack(s) => of(s),
            View::Diagram { scenario: s, .. } => of(s),
            _ => false,
        },
        Query::Live { .. } => matches!(view, View::Leaks(s) | View::Summary(s) if of(s)),
    }
}

#[test]
fn no_prediction_is_answered_by_what_the_page_shows_before_it() {
    for lesson in lessons::embedded(&BUILT_IN).unwrap() {
        for (p, block) in lesson.blocks.iter().enumerate() {
            let Block::Answer(answer) = block else {
                continue;
            };
            for before in &lesson.blocks[..p] {
                if let Block::Evidence { views, line } = before {
                    for view in views {
                        assert!(
                            !shows(view, &answer.scenario, &answer.query),
                            "{}: the prediction on line {} is answered by the evidence on \
                             line {line}, shown before it",
                            lesson.id,
                            answer.line
                        );
                    }
                }
                if let Block::Paragraph(spans) = before {
                    for live in spans.iter().filter_map(|s| s.live.as_ref()) {
                        let inner = match &answer.query {
                            Query::Holds { query, .. } => query,
                            query => query,
                        };
                        assert!(
                            !(live.scenario == answer.scenario && &live.query == inner),
                            "{}: the prediction on line {} is answered by the live value on \
                             line {} before it",
                            lesson.id,
                            answer.line,
                            live.line
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn every_lesson_asks_a_prediction_before_its_evidence() {
    for lesson in lessons::embedded(&BUILT_IN).unwrap() {
        let first_predict = lesson
            .blocks
            .iter()
            .position(|b| matches!(b, Block::Answer(_)));
        // Live evidence: a view of a scenario's run (not a quote of memlab's code).
        let first_evidence = lesson.blocks.iter().position(|b| match b {
            Block::Evidence { views, .. } => views.iter().any(|v| v.scenario().is_some()),
            _ => false,
        });
        let (Some(p), Some(e)) = (first_predict, first_evidence) else {
            panic!("{}: needs a prediction and evidence", lesson.id)
        };
        assert!(
            p < e,
            "{}: the first evidence comes before any prediction",
            lesson.id
        );
        for scenario in &lesson.meta.scenarios {
            assert!(memlab::scenarios::find(scenario).is_some());
        }
    }
}

#[test]
fn list_shows_lessons_in_order_then_scenarios() {
    let (stdout, _) = check(&["list"], "", 0);
    let lessons = stdout.find("Lessons").unwrap();
    let scenarios = stdout.find("Scenarios").unwrap();
    assert!(lessons < scenarios);
    let ids: Vec<String> = lessons::embedded(&BUILT_IN)
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    let mut last = 0;
    for id in &ids {
        let at = stdout[..scenarios]
            .find(&format!(" {id} "))
            .unwrap_or_else(|| panic!("{id}"));
        assert!(at >= last, "{id} out of order");
        last = at;
    }
}

#[test]
fn unknown_lesson_exits_2_naming_the_closest() {
    let (_, stderr) = check(&["lesson", "vec-grwoth"], "", 2);
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("'vec-growth'"), "{stderr}");
}

#[test]
fn lesson_fits_the_width_side_by_side_or_stacked() {
    let (wide, _) = check(&["lesson", "vec-growth", "--width", "160"], "", 0);
    let (narrow, _) = check(&["lesson", "vec-growth", "--width", "70"], "", 0);
    // Side by side: some line holds prose and, after a gutter, a table border.
    assert!(
        wide.lines()
            .any(|l| l.contains("   │") && l.trim_start().len() < l.len() - 70)
    );
    assert!(wide.lines().all(|l| l.chars().count() <= 160));
    assert!(narrow.lines().all(|l| l.chars().count() <= 70));
    let (forced, _) = check(
        &[
            "lesson",
            "vec-growth",
            "--width",
            "160",
            "--layout",
            "stacked",
        ],
        "",
        0,
    );
    assert!(forced.lines().filter(|l| l.starts_with('│')).count() > 10);
}

#[test]
fn step_mode_judges_a_right_answer_and_quits_on_q() {
    let (stdout, _) = check(&["lesson", "vec-growth", "--step"], "8\n\nq\n", 0);
    assert!(stdout.contains("✓ The live run agrees: 8."), "{stdout}");
    assert!(stdout.contains("Stopped."), "{stdout}");
    // It stopped early: the last section's evidence was never printed.
    assert!(
        !stdout.contains("live run of vec-growth: summary"),
        "{stdout}"
    );
}

#[test]
fn step_mode_corrects_a_wrong_answer_after_one_more_try() {
    let (stdout, _) = check(&["lesson", "vec-growth", "--step"], "6\n7\nq\n", 0);
    assert!(
        stdout.contains("Not what this run says. One more try?"),
        "{stdout}"
    );
    assert!(stdout.contains("✗ The live run says 8, not 7."), "{stdout}");
    assert!(!stdout.contains("not 6"), "{stdout}");
    let (stdout, _) = check(&["lesson", "vec-growth", "--step"], "6\n8\nq\n", 0);
    assert!(stdout.contains("✓ The live run agrees: 8."), "{stdout}");
}

/// The step-mode transcript up to the first verdict, and the verdict line.
fn first_verdict(lesson: &str, input: &str) -> (String, String) {
    let (stdout, _) = check(&["lesson", lesson, "--step"], input, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("The live run"))
        .unwrap_or_else(|| panic!("no verdict:\n{stdout}"));
    (lines[..at].join("\n"), lines[at].to_string())
}

#[test]
fn unreadable_and_tricky_answers_are_asked_again_never_revealed() {
    // vec-growth's first prediction: the capacity after the fifth push is 8.
    let hint = "Not an answer memlab can read: type a whole number";
    for (input, hints, verdict) in [
        ("\nlots\nnone\n8\n", 2, "✓ The live run agrees: 8."),
        ("eight\n", 0, "✓ The live run agrees: 8."),
        ("0x8\n", 0, "✓ The live run agrees: 8."),
        ("-8\n8.5\n", 0, "✗ The live run says 8, not 8.5."),
        ("64 B\n8 B\n", 0, "✓ The live run agrees: 8."),
        ("yes\n\n+8\n", 2, "✓ The live run agrees: 8."),
    ] {
        let (before, line) = first_verdict("vec-growth", input);
        assert_eq!(before.matches(hint).count(), hints, "{input:?}:\n{before}");
        // The answer is never shown before the verdict.
        assert!(!before.contains("says 8"), "{input:?}:\n{before}");
        assert!(line.starts_with(verdict), "{input:?}: {line}");
    }
    // A yes/no question reads yes and no, and asks again for anything else.
    let (before, line) = first_verdict("box", "none\n1\nyes\n");
    assert_eq!(before.matches("type yes or no").count(), 2, "{before}");
    assert!(line.starts_with("✓ The live run agrees: yes."), "{line}");
}

#[test]
fn a_yes_no_question_takes_yes_or_no_even_when_the_run_records_a_number() {
    // rc-arc's second prediction: does `upgrade` give an `Rc` back? The run
    // records 1 or 0; the reader answers yes or no.
    let (stdout, _) = check(&["lesson", "rc-arc", "--step"], "2\n\nno\nq\n", 0);
    assert!(stdout.contains("✓ The live run agrees: no."), "{stdout}");
    let (stdout, _) = check(&["lesson", "rc-arc", "--step"], "2\n\nyes\nno\nq\n", 0);
    assert!(stdout.contains("One more try?"), "{stdout}");
    assert!(stdout.contains("✓ The live run agrees: no."), "{stdout}");
    // The question comes before the observations table that answers it.
    let (question, table) = (
        stdout.find("`watcher.upgrade()`").unwrap(),
        stdout.find("live run of rc-arc: observations"),
    );
    assert!(table.is_none_or(|table| question < table), "{stdout}");
}

#[test]
fn step_mode_goes_on_without_waiting_at_the_end_of_input() {
    let (stdout, _) = check(&["lesson", "vec-growth", "--step"], "", 0);
    assert!(stdout.contains("The live run says 8."), "{stdout}");
    assert!(
        stdout.contains("live run of vec-growth: summary"),
        "the whole lesson"
    );
    assert!(
        !stdout.contains("· q: quit"),
        "no pauses once input has ended"
    );
}

/// Writes `files` into a fresh folder and runs `memlab list` on it.
fn lessons_dir(name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("memlab-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

const GOOD: &str = "+++\ntitle = \"T\"\nsummary = \"S\"\nscenarios = [\"box\"]\norder = 1\n+++\n\
# T\n\n> **Predict:** how many heap events?\n\n```memlab\nanswer box events\n```\n\n\
```memlab\nevents box\n```\n";

#[test]
fn lessons_dir_replaces_the_built_in_lessons() {
    let dir = lessons_dir("good", &[("mine.md", GOOD)]);
    let dir = dir.to_str().unwrap();
    let (stdout, _) = check(&["list", "--lessons-dir", dir], "", 0);
    let lessons = &stdout[..stdout.find("Scenarios").unwrap()];
    assert!(lessons.contains("mine"), "{stdout}");
    assert!(
        !lessons.contains("vec-growth"),
        "built-in lessons still listed: {stdout}"
    );
    let (stdout, _) = check(
        &["lesson", "mine", "--lessons-dir", dir, "--step"],
        "2\n",
        0,
    );
    assert!(stdout.contains("✓ The live run agrees: 2."), "{stdout}");
}

#[test]
fn a_malformed_lesson_is_one_error_naming_file_and_line() {
    let live = |prose: &str| {
        GOOD.replace(
            "```memlab\nevents box\n```\n",
            &format!("```memlab\nevents box\n```\n\n{prose}\n"),
        )
    };
    let cases: [(&str, String, usize, &str); 14] = [
        ("no-front-matter", "# Hi\n".into(), 1, "front matter"),
        (
            "bad-toml",
            GOOD.replace("order = 1", "order = \"one\""),
            5,
            "front matter",
        ),
        (
            "unknown-scenario",
            GOOD.replace("events box", "events boxx"),
            16,
            "'boxx'",
        ),
        (
            "bad-directive",
            GOOD.replace("events box", "table box"),
            16,
            "unknown directive",
        ),
        (
            "no-predict",
            GOOD.replace("> **Predict:** how many heap events?\n\n", ""),
            10,
            "Predict",
        ),
        (
            "bad-answer",
            GOOD.replace("answer box events", "answer box observation 9 len"),
            0,
            "observation",
        ),
        (
            "bad-value",
            live("It is {{event one size}} bytes."),
            19,
            "'one' is not an event number",
        ),
        (
            "unclosed-value",
            live("It is {{event 1 size bytes."),
            19,
            "not closed",
        ),
        (
            "value-the-run-cannot-give",
            live("It is {{event 9 size}} bytes."),
            19,
            "box has 2 heap events, not 9",
        ),
        (
            "address-in-prose",
            live("At {{event 1 address}}."),
            19,
            "an address changes with every run",
        ),
        (
            "no-otherwise",
            live("::: when event 1 size = 32\n\nYes.\n\n:::"),
            23,
            "need a '::: otherwise' passage",
        ),
        (
            "never-closed",
            live("::: when event 1 size = 32\n\nYes.\n\n::: otherwise\n\nNo."),
            19,
            "never closed",
        ),
        (
            "no-blank-line",
            live("::: when event 1 size = 32\nYes.\n\n::: otherwise\n\nNo.\n\n:::"),
            19,
            "blank line after it",
        ),
        (
            "bad-condition",
            live("::: when event 1 region = mapped\n\nYes.\n\n::: otherwise\n\nNo.\n\n:::"),
            19,
            "'mapped' is not one of stack",
        ),
    ];
    for (name, text, line, words) in cases {
        let dir = lessons_dir(name, &[(&format!("{name}.md"), &text)]);
        let args = ["lesson", name, "--lessons-dir", dir.to_str().unwrap()];
        let (_, stderr) = check(&args, "", 1);
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        let file = dir.join(format!("{name}.md"));
        let at = format!("{}:", file.display());
        assert!(stderr.contains(&at), "{name}: {stderr}");
        if line > 0 {
            assert!(
                stderr.contains(&format!("{}:{line}:", file.display())),
                "{name}: {stderr}"
            );
        }
        assert!(stderr.contains(words), "{name}: {stderr}");
    }
}

#[test]
fn live_prose_shows_what_this_run_did() {
    let prose = "The block is {{event 1 size}} bytes, in `{{event 1 region}}`.\n\n\
                 ::: when event 1 size = 32 and event 2 kind = dealloc\n\n\
                 PASSAGE-ONE shows {{count dealloc}} free.\n\n\
                 ::: when event 1 size > 0\n\nPASSAGE-TWO\n\n\
                 ::: otherwise\n\nPASSAGE-THREE {{event 9 size}}\n\n:::\n";
    let text = GOOD.replace(
        "```memlab\nevents box\n```\n",
        &format!("```memlab\nevents box\n```\n\n{prose}"),
    );
    let dir = lessons_dir("live", &[("live.md", &text)]);
    let dir = dir.to_str().unwrap();
    let (stdout, _) = check(
        &["lesson", "live", "--lessons-dir", dir, "--width", "100"],
        "",
        0,
    );
    assert!(
        // Inline code keeps its backticks without colour.
        stdout.contains("The block is 32 bytes, in `heap`."),
        "{stdout}"
    );
    // The first passage that holds, and only it; a value in a passage that is
    // not shown is never asked for.
    assert!(stdout.contains("PASSAGE-ONE shows 1 free."), "{stdout}");
    assert!(!stdout.contains("PASSAGE-TWO") && !stdout.contains("PASSAGE-THREE"));
    assert!(!stdout.contains("{{"), "{stdout}");
    // With --claims, the same page says what each value and passage asks.
    let (claims, _) = check(&["lesson", "live", "--lessons-dir", dir, "--claims"], "", 0);
    assert!(
        claims.contains("\x1b]memlab;passage;1;1\x07PASSAGE-ONE"),
        "{claims}"
    );
    assert!(claims.contains("value 1 "), "{claims}");
    assert!(
        claims.contains("passage 1.1 when box event 1 size = 32 and box event 2 kind = dealloc | run: 32, dealloc"),
        "{claims}"
    );
    assert!(claims.contains("passage 1.3 otherwise"), "{claims}");
}

/// Every condition of every lesson can be answered by the run it asks, here:
/// a condition that can never be answered (a misspelt field, a label that
/// is not there) would silently always show the `otherwise` passage.
#[test]
fn every_condition_of_every_lesson_can_be_answered() {
    for lesson in lessons::embedded(&BUILT_IN).unwrap() {
        let plan = Plan::build(&lesson, |id| {
            Some(BUILT_IN.find(id)?.trace(Options::default(), None))
        })
        .unwrap_or_else(|e| panic!("{e}"));
        for block in &lesson.blocks {
            let Block::Passages(group) = block else {
                continue;
            };
            let choice = plan.choice(group.id).expect("every group is decided");
            for (passage, outcomes) in group.passages.iter().zip(&choice.outcomes) {
                for outcome in outcomes {
                    assert!(
                        outcome.answer.is_ok(),
                        "{}:{}: {:?}",
                        lesson.origin,
                        passage.line,
                        outcome.answer
                    );
                }
            }
        }
    }
}

#[test]
fn a_missing_lessons_dir_is_a_usage_error() {
    let missing = Path::new("/nonexistent/memlab-lessons");
    let (_, stderr) = check(&["list", "--lessons-dir", missing.to_str().unwrap()], "", 2);
    assert!(
        stderr.contains("cannot read the lessons folder"),
        "{stderr}"
    );
    let empty = lessons_dir("empty", &[]);
    let (_, stderr) = check(&["list", "--lessons-dir", empty.to_str().unwrap()], "", 2);
    assert!(stderr.contains("no lessons"), "{stderr}");
}
