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

pub mod answer;
pub mod condition;
mod evaluate;
mod live;
mod parse;
pub mod plan;
pub mod query;

pub use answer::{Verdict, expected_form, judge};
pub use condition::Condition;
pub use parse::{front, parse};
pub use plan::{Choice, Plan, Prediction};
pub use query::{Query, Value};

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
        "runtime/src/capture/bump.rs",
        include_str!("../../runtime/src/capture/bump.rs"),
    ),
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

/// The front matter of the lessons built into memlab, in order: what `memlab
/// list` needs, without parsing any lesson's body.
pub fn embedded_listed(scenarios: &dyn Scenarios) -> Result<Vec<Listed>, LessonError> {
    let mut listed = EMBEDDED
        .iter()
        .map(|(file, text)| {
            let id = file.trim_end_matches(".md");
            parse::front(id, &format!("lessons/{file}"), text, scenarios)
        })
        .collect::<Result<Vec<_>, _>>()?;
    listed.sort_by(|a, b| (a.meta.order, &a.id).cmp(&(b.meta.order, &b.id)));
    Ok(listed)
}

/// The built-in lesson `id`, parsed whole, or else the ids of them all: a
/// command that shows one lesson parses only that one.
pub fn embedded_one(
    id: &str,
    scenarios: &dyn Scenarios,
) -> Result<Result<Lesson, Vec<String>>, LessonError> {
    let ids = || {
        EMBEDDED
            .iter()
            .map(|(file, _)| file.trim_end_matches(".md").to_string())
    };
    match EMBEDDED
        .iter()
        .find(|(file, _)| file.trim_end_matches(".md") == id)
    {
        Some((file, text)) => parse(id, &format!("lessons/{file}"), text, scenarios).map(Ok),
        None => Ok(Err(ids().collect())),
    }
}

/// The most a lesson file may hold. A lesson is a few KB; 1 MiB is
/// generous, and it bounds the work of reading, parsing and showing one.
pub const MOST_BYTES: usize = 1 << 20;

/// How deep block quotes and lists may nest in a lesson.
pub const MOST_NESTING: usize = 16;

/// How many pieces of evidence (directive lines) a lesson may show.
pub const MOST_VIEWS: usize = 100;

/// How many pieces of Markdown (pulldown-cmark's events: a paragraph's
/// start and end, a run of text, …) a lesson may hold. The longest lesson
/// has about 400.
pub const MOST_EVENTS: usize = 50_000;

/// How many live values (`{{…}}`) a lesson may hold.
pub const MOST_VALUES: usize = 1_000;

/// A lesson as `memlab list` shows it: its front matter, checked, with its
/// body not yet parsed.
#[derive(Clone, Debug)]
pub struct Listed {
    pub id: String,
    pub meta: Meta,
    pub origin: String,
}

impl Lesson {
    pub fn listed(&self) -> Listed {
        Listed {
            id: self.id.clone(),
            meta: self.meta.clone(),
            origin: self.origin.clone(),
        }
    }
}

/// The lessons in `dir` (every `*.md` file), in order, each read and its
/// front matter checked; bodies are parsed when a lesson is shown
/// ([`from_dir`]), so listing a folder costs little whatever its lessons
/// hold. Each file must be a regular file directly in the folder (a link is
/// followed only to one), and is read up to [`MOST_BYTES`]: a FIFO, a
/// device, a folder or a link out of the folder (to `/proc`,
/// `/etc/shadow`) is refused before it is opened.
pub fn list_dir(dir: &Path, scenarios: &dyn Scenarios) -> Result<Vec<Listed>, LoadError> {
    let (home, files) = lesson_files(dir)?;
    let mut listed = vec![];
    for file in &files {
        let text = file.read(&home)?;
        listed.push(
            parse::front(&file.id, &file.origin, &text, scenarios).map_err(LoadError::Lesson)?,
        );
    }
    listed.sort_by(|a, b| (a.meta.order, &a.id).cmp(&(b.meta.order, &b.id)));
    Ok(listed)
}

/// The lesson `id` in `dir`, read and parsed whole (as for [`list_dir`]),
/// or else the ids there.
pub fn from_dir(
    dir: &Path,
    id: &str,
    scenarios: &dyn Scenarios,
) -> Result<Result<Lesson, Vec<String>>, LoadError> {
    let (home, files) = lesson_files(dir)?;
    let Some(file) = files.iter().find(|f| f.id == id) else {
        return Ok(Err(files.into_iter().map(|f| f.id).collect()));
    };
    let text = file.read(&home)?;
    parse(&file.id, &file.origin, &text, scenarios)
        .map(Ok)
        .map_err(LoadError::Lesson)
}

/// A `*.md` file of a lessons folder.
struct LessonFile {
    path: PathBuf,
    /// Its name without `.md` (checked when it is parsed).
    id: String,
    /// Its path, cleaned, for messages.
    origin: String,
}

impl LessonFile {
    fn read(&self, home: &Path) -> Result<String, LoadError> {
        read(&self.path, home).map_err(|message| {
            LoadError::Lesson(LessonError {
                origin: self.origin.clone(),
                line: 1,
                message,
            })
        })
    }
}

/// The folder, canonical, and its `*.md` files by name; at least one.
fn lesson_files(dir: &Path) -> Result<(PathBuf, Vec<LessonFile>), LoadError> {
    let folder_error = |e: std::io::Error| {
        LoadError::Folder(format!(
            "cannot read the lessons folder {}: {e}",
            dir.display()
        ))
    };
    let entries = std::fs::read_dir(dir).map_err(folder_error)?;
    let home = dir.canonicalize().map_err(folder_error)?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    if paths.is_empty() {
        return Err(LoadError::Folder(format!(
            "no lessons (*.md files) in {}",
            dir.display()
        )));
    }
    paths.sort();
    let files = paths
        .into_iter()
        .map(|path| LessonFile {
            id: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            origin: crate::text::clean_line(&path.display().to_string()).into_owned(),
            path,
        })
        .collect();
    Ok((home, files))
}

/// A lesson file's text, if it is a regular file in `folder` (canonical)
/// of at most [`MOST_BYTES`]; else why not.
fn read(path: &Path, folder: &Path) -> Result<String, String> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let refuse =
        |what: &str| format!("{what}: a lesson is a regular file directly in the lessons folder");
    // Everything is checked before the file is opened: opening a FIFO
    // blocks, and a device or a /proc file reads without end.
    let real = path
        .canonicalize()
        .map_err(|e| format!("cannot read it: {e}"))?;
    if real.parent() != Some(folder) {
        return Err(refuse(&format!(
            "it leads out of the folder, to {}",
            real.display()
        )));
    }
    let kind = |meta: &std::fs::Metadata| {
        let t = meta.file_type();
        if t.is_file() {
            None
        } else if t.is_dir() {
            Some("it is a folder")
        } else if t.is_fifo() {
            Some("it is a FIFO")
        } else if t.is_block_device() || t.is_char_device() {
            Some("it is a device")
        } else {
            Some("it is not a regular file")
        }
    };
    let meta = std::fs::metadata(&real).map_err(|e| format!("cannot read it: {e}"))?;
    if let Some(what) = kind(&meta) {
        return Err(refuse(what));
    }
    let too_big = |size: String| parse::too_big(&size);
    if meta.len() > MOST_BYTES as u64 {
        return Err(too_big(meta.len().to_string()));
    }
    // Non-blocking, and checked again once open, in case the file changed
    // in between.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&real)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?;
    if let Some(what) = kind(&meta) {
        return Err(refuse(what));
    }
    let mut bytes = vec![];
    file.take(MOST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() > MOST_BYTES {
        return Err(too_big(format!("more than {MOST_BYTES}")));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "cannot read it: it is not UTF-8 text (byte {} is not)",
            e.utf8_error().valid_up_to()
        )
    })
}

fn sort(lessons: &mut [Lesson]) {
    lessons.sort_by(|a, b| (a.meta.order, &a.id).cmp(&(b.meta.order, &b.id)));
}

/// Up to three of `ids` closest to `id` in spelling.
pub fn closest<'a>(id: &str, ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    crate::closest(id, ids.into_iter())
}

/// Whether a block is a `> **Predict:** …` quote.
pub fn is_predict(block: &Block) -> bool {
    let Block::Quote(blocks) = block else {
        return false;
    };
    matches!(blocks.first(), Some(Block::Paragraph(spans))
        if spans.first().is_some_and(|s| s.text.trim_start().starts_with("Predict")))
}
