//! Property test of the lesson parser and renderer: lessons mutated from a
//! corpus (the real lessons and the hostile cases of tests/untrusted.rs)
//! never panic memlab, and whatever they hold, a page printed from one
//! carries no control character but newline and tab, no bidi control, and
//! no escape sequence but memlab's own colours (none at all with colour
//! off). A lesson that does not load is an error naming its file and line.
//!
//! `cargo test` runs 32 cases (a few seconds); `PROPTEST_CASES=N` runs N:
//! `.ci/run` runs 4,000 (about two minutes in a debug build). A failing
//! case is shrunk and printed; add it to `hostile()` to keep it.

use std::collections::HashMap;
use std::sync::Mutex;

use memlab::lessons::{self, Lesson, Plan};
use memlab::render::lesson::{Layout, Piece, verdict};
use memlab::render::{AddressMode, Settings, style};
use memlab::scenarios::BUILT_IN;
use memlab::{Options, Trace};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence};

/// The real lessons, as files hold them.
fn real() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

const FRONT: &str =
    "+++\ntitle = \"T\"\nsummary = \"S\"\nscenarios = [\"box\", \"vec-growth\"]\norder = 1\n+++\n";
const PREDICT: &str = "# T\n\n> **Predict:** how many heap events?\n\n\
                       ```memlab\nanswer box events\nwhy: a rule\n```\n\n```memlab\nevents box\n```\n\n";
const BAD: &str = "\x1b]0;t\x07\x1b]52;c;eA==\x07\x1b[2J\x1bP$q\x1b\\\u{9b}1m\u{85}\u{202e}\u{2067}\x00\x7f\x08\r";

/// The hostile cases: escape sequences everywhere, deep nesting, huge and
/// unbreakable text, CRLF and a BOM, broken front matter, live values and
/// passages at their edges.
fn hostile() -> Vec<String> {
    let with = |body: &str| format!("{FRONT}{PREDICT}{body}");
    vec![
        format!(
            "+++\ntitle = \"\\u001b]0;x\\u0007\"\nsummary = \"\\u202e\\n\\u009b\"\n\
             scenarios = [\"box\"]\norder = 1\n+++\n# H {BAD}\n\nP {BAD} `c {BAD}` *e {BAD}* \
             &#x1b;&#27;&#x202e;\n\n- {BAD}\n  > {BAD}\n\n```\n{BAD}\n```\n\n\
             > **Predict:** {BAD}\n\n```memlab\nanswer box events\nwhy: {BAD}\n```\n"
        ),
        with(&"> ".repeat(40)),
        with(&"- ".repeat(40)),
        with(&format!("{}x\n", "> - 1. ".repeat(20))),
        with(&"[[".repeat(5_000)),
        with(&"*a **b _c `d ".repeat(500)),
        with(&"x".repeat(20_000)),
        with("{{box count alloc}} {{vec-growth observation 1 capacity}} {{box event 9 size}}"),
        with(
            "::: when box count alloc = 1\n\nOne {{box count alloc}}.\n\n::: otherwise\n\nNot.\n\n:::\n",
        ),
        with("::: when box event 1 region = heap\n\nA\n\n:::\n"),
        with("```memlab\ndiagram box after first\nchart vec-growth capacity\nsource box\n```\n"),
        with("| a | b |\n|---|---|\n| c | d |\n\n---\n\n<b>html</b>\n"),
        real()[0].replace('\n', "\r\n"),
        format!("\u{feff}{}", real()[1]),
        "+++\n".into(),
        "+++\ntitle = 1\n+++\n".into(),
        String::new(),
    ]
}

/// Pieces of Markdown, directives and hostile bytes to insert.
const FRAGMENTS: &[&str] = &[
    "> ",
    "- ",
    "1. ",
    "# ",
    "\n",
    "\n\n",
    "```",
    "```memlab\n",
    "\n```\n",
    "{{",
    "}}",
    "{{box events}}",
    "::: when ",
    "::: otherwise",
    ":::",
    "*",
    "**",
    "_",
    "`",
    "[",
    "](",
    "<",
    "&#x1b;",
    "&#8238;",
    "\x1b",
    "\x1b[",
    "\x1b]",
    "\x07",
    "\u{202e}",
    "\u{2066}",
    "\u{9b}",
    "\r",
    "\t",
    "\0",
    "+++",
    "answer box same-block first second\n",
    "why: ",
    "events vec-growth\n",
    "\u{1f980}",
    "é",
    "    ",
    "---\n",
];

#[derive(Clone, Debug)]
enum Mutation {
    /// Inserts the text this many times.
    Insert(Index, String, usize),
    Delete(Index, usize),
    /// Repeats a slice of the text.
    Repeat(Index, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fragment = prop_oneof![
        4 => prop::sample::select(FRAGMENTS).prop_map(String::from),
        1 => ".{0,12}",
        1 => prop::collection::vec(any::<char>(), 0..8).prop_map(|c| c.into_iter().collect()),
    ];
    let times = prop_oneof![8 => 1..3usize, 1 => 3..40usize, 1 => 40..3_000usize];
    prop_oneof![
        4 => (any::<Index>(), fragment, times).prop_map(|(at, f, n)| Mutation::Insert(at, f, n)),
        2 => (any::<Index>(), 0..120usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => (any::<Index>(), 1..200usize, 1..30usize).prop_map(|(at, n, k)| Mutation::Repeat(at, n, k)),
    ]
}

/// The char boundary at or before `i`.
fn boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, m: &Mutation) {
    match m {
        Mutation::Insert(at, fragment, times) => {
            let at = boundary(text, at.index(text.len() + 1));
            text.insert_str(at, &fragment.repeat(*times));
        }
        Mutation::Delete(at, n) => {
            let start = boundary(text, at.index(text.len() + 1));
            let end = boundary(text, start + n);
            text.replace_range(start..end, "");
        }
        Mutation::Repeat(at, n, k) => {
            let start = boundary(text, at.index(text.len() + 1));
            let end = boundary(text, start + n);
            let slice = text[start..end].to_string();
            text.insert_str(end, &slice.repeat(*k));
        }
    }
}

/// Each scenario's run, once: the renderer only reads them.
fn trace(id: &str) -> Option<Trace> {
    static RUNS: Mutex<Option<HashMap<String, Trace>>> = Mutex::new(None);
    let mut runs = RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let runs = runs.get_or_insert_with(HashMap::new);
    if !runs.contains_key(id) {
        runs.insert(
            id.to_string(),
            BUILT_IN.find(id)?.trace(Options::default(), None),
        );
    }
    runs.get(id).cloned()
}

/// Whether `text` could reach a terminal: no control but newline and tab,
/// no bidi control, and with `colour` only ESC starting `ESC [ digits ; m`.
fn printable(text: &str, colour: bool) -> Result<(), String> {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let bidi = ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c);
        if bidi {
            return Err(format!("a bidi control at byte {i}"));
        }
        if c == '\x1b' && colour {
            let rest = &text[i + 1..];
            let body = rest
                .strip_prefix('[')
                .ok_or(format!("ESC not CSI at byte {i}"))?;
            let end = body
                .find(|c: char| !(c.is_ascii_digit() || c == ';'))
                .unwrap_or(body.len());
            if !body[end..].starts_with('m') {
                return Err(format!("an escape other than a colour at byte {i}"));
            }
            for _ in 0..end + 2 {
                chars.next();
            }
            continue;
        }
        if c.is_control() && c != '\n' && c != '\t' {
            return Err(format!("control {c:?} at byte {i}"));
        }
    }
    Ok(())
}

/// Loads, plans and renders `text`; checks what would be printed. Colour
/// is a setting of the whole process: one check at a time.
fn check(text: &str, width: u16, typed: &str) -> Result<(), TestCaseError> {
    static COLOUR: Mutex<()> = Mutex::new(());
    let _alone = COLOUR.lock().unwrap_or_else(|e| e.into_inner());
    let origin = "fuzz/fuzzed.md";
    let lesson: Lesson = match lessons::parse("fuzzed", origin, text, &BUILT_IN) {
        Ok(lesson) => lesson,
        Err(e) => {
            prop_assert_eq!(&e.origin, origin);
            prop_assert!(
                e.line >= 1 && e.line <= text.lines().count().max(1) + 1,
                "{}",
                e
            );
            prop_assert!(!e.message.is_empty());
            return Ok(());
        }
    };
    prop_assert!(lessons::front("fuzzed", origin, text, &BUILT_IN).is_ok());
    let plan = match Plan::build(&lesson, trace) {
        Ok(plan) => plan,
        Err(e) => {
            prop_assert_eq!(&e.origin, origin);
            return Ok(());
        }
    };
    let settings = Settings {
        width,
        addresses: AddressMode::Symbolic,
        ascii: false,
    };
    for colour in [false, true] {
        style::use_colour(colour);
        let listed = memlab::render::list::list(&[lesson.listed()], &[false], &[], settings);
        printable(&listed, colour).map_err(|e| TestCaseError::fail(format!("list: {e}")))?;
        for layout in [Layout::Stacked, Layout::Side] {
            for piece in memlab::render::lesson::lesson(&plan, settings, layout) {
                let text = match piece {
                    Piece::Text(text) => text,
                    Piece::Predict(p) => verdict(&p, Some(typed), usize::from(width)),
                    Piece::Pause => continue,
                };
                printable(&text, colour)
                    .map_err(|e| TestCaseError::fail(format!("{layout:?} colour {colour}: {e}")))?;
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(32)
}

#[test]
fn the_corpus_itself_loads_or_fails_cleanly() {
    for text in real().iter().chain(&hostile()) {
        check(text, 100, "2").unwrap();
    }
}

proptest! {
    #![proptest_config(Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    })]

    #[test]
    fn mutated_lessons_never_panic_and_print_only_clean_text(
        seed in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 0..6),
        width in 40u16..220,
        typed in prop_oneof![Just("2".to_string()), ".{0,10}"],
    ) {
        let corpus: Vec<String> = real().into_iter().chain(hostile()).collect();
        let mut text = corpus[seed.index(corpus.len())].clone();
        for m in &mutations {
            apply(&mut text, m);
        }
        check(&text, width, &typed)?;
    }
}
