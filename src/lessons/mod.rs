//! Lessons: Markdown prose with directives that embed a scenario's live run.
//!
//! A lesson file is TOML front matter between `+++` lines, then Markdown:
//!
//! ````text
//! +++
//! title = "How a Vec grows"
//! summary = "Capacity vs length, and what push does when the block is full"
//! scenarios = ["vec-growth"]
//! order = 3
//! +++
//! # How a Vec grows
//! > **Predict:** after the 5th push, what is the capacity?
//!
//! ```memlab
//! answer vec-growth observation 5 capacity
//! why: the 5th element did not fit in 4, so the Vec doubled its room.
//! ```
//!
//! ```memlab
//! events vec-growth
//! ```
//! ````
//!
//! Directives are fenced blocks tagged `memlab`, one per line:
//! `source`, `events`, `stack`, `observations`, `summary` or `leaks` followed
//! by a scenario id; `excerpt <file> <marker>` for a marked region of memlab's own
//! code; and `answer <scenario> <query>` (with an optional `why:` line), which
//! answers the "Predict" block quote just before it. The prose can say what
//! the run did: `{{query}}` is a live value, and `::: when <condition>` …
//! `::: otherwise` … `:::` are passages the run chooses between (see
//! `live`). Every problem is reported with the file and line.
//!
//! This module is lesson *data*: it parses and checks lessons, and a [`Plan`]
//! holds a lesson with the runs its caller made for it. It never runs code.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod live;
mod parse;
pub mod plan;
pub mod query;

pub use parse::parse;
pub use plan::{Choice, Plan, Prediction};
pub use query::{Condition, Query, Value, Verdict, judge};

/// The scenarios lessons may name, as whoever runs them knows them.
pub trait Scenarios {
    /// Whether `id` names a scenario that can run.
    fn knows(&self, id: &str) -> bool;
    /// Listed ids close to a mistyped `id`, closest first.
    fn closest(&self, id: &str) -> Vec<&str>;
}

/// Lessons compiled into the binary: `(file name, text)`, from lessons/*.md.
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/lessons.rs"));

/// memlab's own source files that `excerpt` directives may quote.
const EXCERPTS: &[(&str, &str)] = &[
    (
        "runtime/src/capture/recorder.rs",
        include_str!("../../runtime/src/capture/recorder.rs"),
    ),
    ("src/lib.rs", include_str!("../lib.rs")),
];

/// A parsed, validated lesson.
#[derive(Clone, Debug)]
pub struct Lesson {
    /// The file name without `.md`: what users type.
    pub id: String,
    pub meta: Meta,
    /// Where it came from, for error messages: `lessons/box.md` or a path.
    pub origin: String,
    pub blocks: Vec<Block>,
}

/// The front matter.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub title: String,
    pub summary: String,
    pub scenarios: Vec<String>,
    pub order: u32,
}

/// One piece of a lesson, in reading order.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Heading {
        level: u8,
        text: Vec<Span>,
    },
    Paragraph(Vec<Span>),
    List {
        start: Option<u64>,
        items: Vec<Vec<Block>>,
    },
    Code {
        text: String,
    },
    Quote(Vec<Block>),
    Rule,
    /// Live output of a scenario (or an excerpt of memlab's code).
    Evidence {
        line: usize,
        views: Vec<View>,
    },
    /// The answer to the "Predict" question just before it.
    Answer(Answer),
    /// Passages of which the run chooses one to show.
    Passages(Passages),
}

/// A run of inline text with one style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The text; for a live value, its source (`{{event 1 region}}`).
    pub text: String,
    pub style: SpanStyle,
    /// A value read from the run, shown instead of `text`.
    pub live: Option<LiveValue>,
}

/// `{{<query>}}` in the prose: the run's answer, in the span's style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveValue {
    /// Its number in the lesson, from 1.
    pub id: usize,
    pub line: usize,
    pub scenario: String,
    pub query: Query,
}

/// A group of passages: the first whose condition holds is shown, or else
/// the last, `otherwise`, which has none.
#[derive(Clone, Debug, PartialEq)]
pub struct Passages {
    /// Its number in the lesson, from 1.
    pub id: usize,
    /// The line of its first `::: when`.
    pub line: usize,
    pub passages: Vec<Passage>,
}

/// One passage: prose shown when its condition holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Passage {
    /// The line of its `:::` line.
    pub line: usize,
    /// `None` for `otherwise`.
    pub when: Option<Condition>,
    pub blocks: Vec<Block>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpanStyle {
    pub code: bool,
    pub emphasis: bool,
    pub strong: bool,
    pub link: bool,
}

/// What an evidence block shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum View {
    Source(String),
    Events(String),
    Stack(String),
    Observations(String),
    Summary(String),
    /// The leak report: blocks never freed, and blocks kept on purpose.
    Leaks(String),
    /// Memory diagrams: every moment's, or one.
    Diagram {
        scenario: String,
        at: DiagramAt,
    },
    /// A chart: length against capacity, or live heap bytes.
    Chart {
        scenario: String,
        chart: Chart,
    },
    /// A region of one of memlab's own files between `// lesson: <marker>` and
    /// `// lesson: end` lines.
    Excerpt {
        file: &'static str,
        text: String,
    },
}

/// Which moments a `diagram` directive draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiagramAt {
    /// Every moment, then the end.
    All,
    /// The moment of the last probe naming this local (see
    /// `snapshot::moment_naming`).
    After(String),
    /// After the scenario returned.
    End,
}

/// Which chart a `chart` directive draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chart {
    Capacity,
    Live,
}

impl View {
    /// The scenario this view runs, if any.
    pub fn scenario(&self) -> Option<&str> {
        match self {
            View::Source(s)
            | View::Events(s)
            | View::Stack(s)
            | View::Observations(s)
            | View::Summary(s)
            | View::Leaks(s) => Some(s),
            View::Diagram { scenario, .. } | View::Chart { scenario, .. } => Some(scenario),
            View::Excerpt { .. } => None,
        }
    }
}

/// A prediction's answer, read from a live run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub line: usize,
    pub scenario: String,
    pub query: Query,
    /// The author's explanation, shown after the reader answers.
    pub why: Option<String>,
}

/// A lesson that cannot be loaded or run: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonError {
    pub origin: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for LessonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.origin, self.line, self.message)
    }
}

impl std::error::Error for LessonError {}

/// Why lessons could not be found at all.
#[derive(Debug)]
pub enum LoadError {
    /// `--lessons-dir` is missing, not a folder, or unreadable.
    Folder(String),
    Lesson(LessonError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Folder(message) => f.write_str(message),
            LoadError::Lesson(e) => e.fmt(f),
        }
    }
}

/// The lessons built into memlab, in order.
pub fn embedded(scenarios: &dyn Scenarios) -> Result<Vec<Lesson>, LessonError> {
    let mut lessons = EMBEDDED
        .iter()
        .map(|(file, text)| {
            parse(
                file.trim_end_matches(".md"),
                &format!("lessons/{file}"),
                text,
                scenarios,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    sort(&mut lessons);
    Ok(lessons)
}

/// The lessons in `dir` (every `*.md` file), in order.
pub fn from_dir(dir: &Path, scenarios: &dyn Scenarios) -> Result<Vec<Lesson>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        LoadError::Folder(format!(
            "cannot read the lessons folder {}: {e}",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md") && p.is_file())
        .collect();
    paths.sort();
    let mut lessons = vec![];
    for path in paths {
        let origin = crate::text::clean_line(&path.display().to_string()).into_owned();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            LoadError::Lesson(LessonError {
                origin: origin.clone(),
                line: 1,
                message: format!("cannot read it: {e}"),
            })
        })?;
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        lessons.push(parse(id, &origin, &text, scenarios).map_err(LoadError::Lesson)?);
    }
    if lessons.is_empty() {
        return Err(LoadError::Folder(format!(
            "no lessons (*.md files) in {}",
            dir.display()
        )));
    }
    sort(&mut lessons);
    Ok(lessons)
}

fn sort(lessons: &mut [Lesson]) {
    lessons.sort_by(|a, b| (a.meta.order, &a.id).cmp(&(b.meta.order, &b.id)));
}

/// Up to three lesson ids closest to `id` in spelling.
pub fn closest<'a>(id: &str, lessons: &'a [Lesson]) -> Vec<&'a str> {
    crate::closest(id, lessons.iter().map(|l| l.id.as_str()))
}

/// Whether a block is a `> **Predict:** …` quote.
pub fn is_predict(block: &Block) -> bool {
    let Block::Quote(blocks) = block else {
        return false;
    };
    matches!(blocks.first(), Some(Block::Paragraph(spans))
        if spans.first().is_some_and(|s| s.text.trim_start().starts_with("Predict")))
}
