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
//! answers the "Predict" block quote just before it. Every problem is reported
//! with the file and line.

use std::fmt;
use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;

use crate::scenarios;
use crate::trace::Kind;
use crate::trace::{Summary, Trace};

/// Lessons compiled into the binary: `(file name, text)`, from lessons/*.md.
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/lessons.rs"));

/// memlab's own source files that `excerpt` directives may quote.
const EXCERPTS: &[(&str, &str)] = &[
    (
        "src/capture/recorder.rs",
        include_str!("capture/recorder.rs"),
    ),
    ("src/lib.rs", include_str!("lib.rs")),
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
}

/// A run of inline text with one style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub style: SpanStyle,
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
    Source(&'static str),
    Events(&'static str),
    Stack(&'static str),
    Observations(&'static str),
    Summary(&'static str),
    /// The leak report: blocks never freed, and blocks kept on purpose.
    Leaks(&'static str),
    /// Memory diagrams: every moment's, or one.
    Diagram {
        scenario: &'static str,
        at: DiagramAt,
    },
    /// A chart: length against capacity, or live heap bytes.
    Chart {
        scenario: &'static str,
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
    pub fn scenario(&self) -> Option<&'static str> {
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
    pub scenario: &'static str,
    pub query: Query,
    /// The author's explanation, shown after the reader answers.
    pub why: Option<String>,
}

/// A fact of a trace that a prediction asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// `observation N FIELD`: a field of the N-th observation (1-based).
    Observation { index: usize, field: String },
    /// `count KIND`: how many events of one kind.
    Count(Kind),
    /// `events`: how many heap events in all.
    Events,
    /// `summary FIELD`: a summary figure by its JSON name.
    Summary(String),
    /// `local NAME FIELD`: size, align, len or capacity of the first local so named.
    Local { name: String, field: String },
    /// `same-block A B`: do locals A and B point to the same address? (yes/no)
    SameBlock(String, String),
}

/// The live run's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Number(u64),
    YesNo(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::YesNo(true) => f.write_str("yes"),
            Value::YesNo(false) => f.write_str("no"),
        }
    }
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
pub fn embedded() -> Result<Vec<Lesson>, LessonError> {
    let mut lessons = EMBEDDED
        .iter()
        .map(|(file, text)| {
            parse(
                file.trim_end_matches(".md"),
                &format!("lessons/{file}"),
                text,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    sort(&mut lessons);
    Ok(lessons)
}

/// The lessons in `dir` (every `*.md` file), in order.
pub fn from_dir(dir: &Path) -> Result<Vec<Lesson>, LoadError> {
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
        let origin = path.display().to_string();
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
        lessons.push(parse(id, &origin, &text).map_err(LoadError::Lesson)?);
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

/// Parses and validates one lesson.
pub fn parse(id: &str, origin: &str, text: &str) -> Result<Lesson, LessonError> {
    let error = |line: usize, message: String| LessonError {
        origin: origin.to_string(),
        line,
        message,
    };
    let valid_id = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_id {
        return Err(error(
            1,
            format!("'{id}' is not a lesson id: name the file with a-z, 0-9 and '-'"),
        ));
    }
    let (meta, body, body_line) = front_matter(text).map_err(|(line, m)| error(line, m))?;
    for scenario in &meta.scenarios {
        if scenarios::find(scenario).is_none() {
            // The front matter line that names it (the file's first lines).
            let quoted = format!("\"{scenario}\"");
            let line = text
                .lines()
                .take(body_line)
                .position(|l| l.contains(&quoted))
                .map_or(2, |i| i + 1);
            return Err(error(line, unknown_scenario(scenario)));
        }
    }
    let line_of = |offset: usize| body_line + body[..offset.min(body.len())].matches('\n').count();
    let blocks = markdown(body, &line_of).map_err(|(line, m)| error(line, m))?;
    let lesson = Lesson {
        id: id.to_string(),
        meta,
        origin: origin.to_string(),
        blocks,
    };
    check_predictions(&lesson).map_err(|(line, m)| error(line, m))?;
    Ok(lesson)
}

fn unknown_scenario(id: &str) -> String {
    let hint = match scenarios::closest(id).first() {
        Some(near) => format!(" (did you mean '{near}'?)"),
        None => String::new(),
    };
    format!("no scenario named '{}'{hint}", id.escape_debug())
}

/// Splits off and parses the `+++` front matter; returns it, the body and the
/// body's first line number.
fn front_matter(text: &str) -> Result<(Meta, &str, usize), (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        return Err((
            1,
            "a lesson starts with front matter between '+++' lines".into(),
        ));
    };
    let Some(end) = rest.find("\n+++") else {
        return Err((1, "the front matter has no closing '+++' line".into()));
    };
    let toml_text = &rest[..=end];
    let meta: Meta = toml::from_str(toml_text).map_err(|e| {
        let line = e
            .span()
            .map_or(0, |span| toml_text[..span.start].matches('\n').count());
        (line + 2, format!("front matter: {}", e.message()))
    })?;
    let after = &rest[end + 4..];
    let body = after
        .strip_prefix("\r\n")
        .or_else(|| after.strip_prefix('\n'))
        .unwrap_or(after);
    let body_line = text[..text.len() - body.len()].matches('\n').count() + 1;
    Ok((meta, body, body_line))
}

/// The Markdown body as blocks, directives parsed.
fn markdown(body: &str, line_of: &dyn Fn(usize) -> usize) -> Result<Vec<Block>, (usize, String)> {
    let mut stack: Vec<Frame> = vec![Frame::new(Container::Root)];
    let mut style = SpanStyle::default();
    let mut code: Option<(String, String, usize)> = None; // (info, text, line)
    for (event, range) in Parser::new_ext(body, Options::empty()).into_offset_iter() {
        let line = line_of(range.start);
        if let Some((_, text, _)) = code.as_mut() {
            match event {
                Event::Text(t) => text.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let (info, text, start) = code.take().unwrap_or_default();
                    let block = code_block(&info, text, start)?;
                    top(&mut stack).blocks.push(block);
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((info, String::new(), line));
            }
            Event::Start(Tag::Paragraph) => stack.push(Frame::new(Container::Paragraph)),
            Event::Start(Tag::Heading { level, .. }) => {
                stack.push(Frame::new(Container::Heading(heading_level(level))));
            }
            Event::Start(Tag::BlockQuote(_)) => stack.push(Frame::new(Container::Quote)),
            Event::Start(Tag::List(start)) => stack.push(Frame::new(Container::List(start))),
            Event::Start(Tag::Item) => stack.push(Frame::new(Container::Item)),
            Event::Start(Tag::Emphasis) => style.emphasis = true,
            Event::Start(Tag::Strong) => style.strong = true,
            Event::Start(Tag::Link { .. }) => style.link = true,
            Event::End(TagEnd::Emphasis) => style.emphasis = false,
            Event::End(TagEnd::Strong) => style.strong = false,
            Event::End(TagEnd::Link) => style.link = false,
            Event::Text(t) => push_span(&mut stack, &t, style),
            Event::Code(t) => push_span(
                &mut stack,
                &t,
                SpanStyle {
                    code: true,
                    ..style
                },
            ),
            Event::SoftBreak | Event::HardBreak => push_span(&mut stack, " ", style),
            Event::Rule => top(&mut stack).blocks.push(Block::Rule),
            Event::End(TagEnd::Item) => {
                let mut item = pop(&mut stack);
                // A tight list item holds its text bare, without a paragraph.
                if !item.spans.is_empty() {
                    let spans = std::mem::take(&mut item.spans);
                    item.blocks.insert(0, Block::Paragraph(spans));
                }
                top(&mut stack).items.push(item.blocks);
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::BlockQuote(_) | TagEnd::List(_),
            ) => {
                if let Some(block) = pop(&mut stack).finish() {
                    top(&mut stack).blocks.push(block);
                }
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                return Err((line, "HTML is not supported in lessons".into()));
            }
            _ => {}
        }
    }
    Ok(stack.pop().map(|f| f.blocks).unwrap_or_default())
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        _ => 4,
    }
}

enum Container {
    Root,
    Paragraph,
    Heading(u8),
    Quote,
    List(Option<u64>),
    Item,
}

/// An open Markdown container while parsing.
struct Frame {
    container: Container,
    spans: Vec<Span>,
    blocks: Vec<Block>,
    items: Vec<Vec<Block>>,
}

impl Frame {
    fn new(container: Container) -> Frame {
        Frame {
            container,
            spans: vec![],
            blocks: vec![],
            items: vec![],
        }
    }

    fn finish(self) -> Option<Block> {
        match self.container {
            Container::Root | Container::Item => None,
            Container::Paragraph => Some(Block::Paragraph(self.spans)),
            Container::Heading(level) => Some(Block::Heading {
                level,
                text: self.spans,
            }),
            Container::Quote => Some(Block::Quote(self.blocks)),
            Container::List(start) => Some(Block::List {
                start,
                items: self.items,
            }),
        }
    }
}

fn pop(stack: &mut Vec<Frame>) -> Frame {
    // The parser balances every start with an end, so the root is never popped
    // here; an empty stack would only mean a parser bug, and yields a no-op.
    if stack.len() > 1 {
        stack.pop().unwrap_or_else(|| Frame::new(Container::Root))
    } else {
        Frame::new(Container::Root)
    }
}

fn top(stack: &mut [Frame]) -> &mut Frame {
    stack
        .last_mut()
        .expect("the root frame is never popped before the end")
}

fn push_span(stack: &mut [Frame], text: &str, style: SpanStyle) {
    let frame = top(stack);
    match frame.spans.last_mut() {
        Some(last) if last.style == style => last.text.push_str(text),
        _ => frame.spans.push(Span {
            text: text.to_string(),
            style,
        }),
    }
}

/// A fenced block: a `memlab` directive, or code shown as is.
fn code_block(info: &str, text: String, line: usize) -> Result<Block, (usize, String)> {
    if info.split_whitespace().next() != Some("memlab") {
        return Ok(Block::Code { text });
    }
    let first = line + 1;
    let mut views = vec![];
    let mut answer: Option<Answer> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = first + i;
        let words: Vec<&str> = raw.split_whitespace().collect();
        let Some(&verb) = words.first() else {
            continue;
        };
        if let Some(why) = raw.trim().strip_prefix("why:") {
            match answer.as_mut() {
                Some(a) => a.why = Some(why.trim().to_string()),
                None => return Err((line, "'why:' belongs after an 'answer' line".into())),
            }
            continue;
        }
        let scenario = |n: usize| -> Result<&'static str, (usize, String)> {
            let id = words
                .get(n)
                .ok_or((line, format!("'{verb}' needs a scenario id")))?;
            scenarios::find(id)
                .map(|s| s.id)
                .ok_or_else(|| (line, unknown_scenario(id)))
        };
        let view = match verb {
            "source" => View::Source(scenario(1)?),
            "events" => View::Events(scenario(1)?),
            "stack" => View::Stack(scenario(1)?),
            "observations" => View::Observations(scenario(1)?),
            "summary" => View::Summary(scenario(1)?),
            "leaks" => View::Leaks(scenario(1)?),
            "excerpt" => excerpt(&words, line)?,
            "diagram" => View::Diagram {
                scenario: scenario(1)?,
                at: match words.get(2..) {
                    Some([]) | None => DiagramAt::All,
                    Some(["end"]) => DiagramAt::End,
                    Some(["after", local]) => DiagramAt::After(local.to_string()),
                    _ => {
                        return Err((line, "use: diagram <scenario> [after <local> | end]".into()));
                    }
                },
            },
            "chart" => View::Chart {
                scenario: scenario(1)?,
                chart: match words.get(2) {
                    Some(&"capacity") => Chart::Capacity,
                    Some(&"live") => Chart::Live,
                    _ => return Err((line, "use: chart <scenario> capacity|live".into())),
                },
            },
            "answer" => {
                if answer.is_some() || !views.is_empty() {
                    return Err((line, "an 'answer' goes in a memlab block of its own".into()));
                }
                answer = Some(Answer {
                    line,
                    scenario: scenario(1)?,
                    query: query(&words[2..]).map_err(|m| (line, m))?,
                    why: None,
                });
                continue;
            }
            other => {
                return Err((
                    line,
                    format!(
                        "unknown directive '{other}': use source, events, stack, \
                         observations, summary, leaks, diagram, chart, excerpt or answer"
                    ),
                ));
            }
        };
        if answer.is_some() {
            return Err((line, "an 'answer' goes in a memlab block of its own".into()));
        }
        views.push(view);
    }
    match answer {
        Some(answer) => Ok(Block::Answer(answer)),
        None if views.is_empty() => Err((line, "this memlab block is empty".into())),
        None => Ok(Block::Evidence { line, views }),
    }
}

fn excerpt(words: &[&str], line: usize) -> Result<View, (usize, String)> {
    let (Some(file), Some(marker)) = (words.get(1), words.get(2)) else {
        return Err((line, "use: excerpt <file> <marker>".into()));
    };
    let Some(&(file, source)) = EXCERPTS.iter().find(|(f, _)| f == file) else {
        let known: Vec<&str> = EXCERPTS.iter().map(|(f, _)| *f).collect();
        return Err((
            line,
            format!(
                "cannot quote '{file}': known files are {}",
                known.join(", ")
            ),
        ));
    };
    let begin = format!("// lesson: {marker}");
    let mut lines = source.lines().skip_while(|l| l.trim() != begin);
    if lines.next().is_none() {
        return Err((line, format!("{file} has no '{begin}' line")));
    }
    let text: Vec<&str> = lines.take_while(|l| l.trim() != "// lesson: end").collect();
    Ok(View::Excerpt {
        file,
        text: text.join("\n"),
    })
}

fn query(words: &[&str]) -> Result<Query, String> {
    let usage = "an answer is one of: observation N FIELD, count KIND, events, \
                 summary FIELD, local NAME FIELD, same-block NAME NAME";
    Ok(match words {
        ["observation", n, field] => Query::Observation {
            index: n
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("'{n}' is not an observation number (1, 2, …)"))?,
            field: field.to_string(),
        },
        ["count", kind] => Query::Count(match *kind {
            "alloc" => Kind::Alloc,
            "alloc_zeroed" => Kind::AllocZeroed,
            "realloc" => Kind::Realloc,
            "dealloc" => Kind::Dealloc,
            other => return Err(format!("'{other}' is not an event kind")),
        }),
        ["events"] => Query::Events,
        ["summary", field] => {
            if !Summary::FIELDS.contains(field) {
                let known = Summary::FIELDS.join(", ");
                return Err(format!("'{field}' is not a summary field: {known}"));
            }
            Query::Summary(field.to_string())
        }
        ["local", name, field] => {
            if !["size", "align", "len", "capacity"].contains(field) {
                return Err(format!("'{field}' is not size, align, len or capacity"));
            }
            Query::Local {
                name: name.to_string(),
                field: field.to_string(),
            }
        }
        ["same-block", a, b] => Query::SameBlock(a.to_string(), b.to_string()),
        _ => return Err(usage.to_string()),
    })
}

/// Every lesson has a "Predict" quote, each answered by the `answer` right
/// after it, before any evidence from that scenario.
fn check_predictions(lesson: &Lesson) -> Result<(), (usize, String)> {
    let mut any = false;
    let mut previous: Option<&Block> = None;
    for block in &lesson.blocks {
        if let Block::Answer(answer) = block {
            if !previous.is_some_and(is_predict) {
                return Err((
                    answer.line,
                    "an 'answer' must follow a '> **Predict:** …' block quote".into(),
                ));
            }
            any = true;
        }
        previous = Some(block);
    }
    if !any {
        return Err((
            1,
            "a lesson needs at least one '> **Predict:** …' question with an 'answer'".into(),
        ));
    }
    Ok(())
}

/// Whether a block is a `> **Predict:** …` quote.
pub fn is_predict(block: &Block) -> bool {
    let Block::Quote(blocks) = block else {
        return false;
    };
    matches!(blocks.first(), Some(Block::Paragraph(spans))
        if spans.first().is_some_and(|s| s.text.trim_start().starts_with("Predict")))
}

impl Query {
    /// The live run's answer, or why the run cannot answer it.
    pub fn evaluate(&self, trace: &Trace) -> Result<Value, String> {
        let number = |n: usize| Value::Number(n as u64);
        match self {
            Query::Observation { index, field } => {
                let observation = trace.observations.get(index - 1).ok_or_else(|| {
                    format!(
                        "{} has {} observations, not {index}",
                        trace.source.id,
                        trace.observations.len()
                    )
                })?;
                observation
                    .get(field)
                    .map(number)
                    .ok_or_else(|| format!("observation {index} has no field '{field}'"))
            }
            Query::Count(kind) => Ok(number(
                trace.events.iter().filter(|e| e.kind == *kind).count(),
            )),
            Query::Events => Ok(number(trace.events.len())),
            Query::Summary(field) => trace
                .summary()
                .get(field)
                .map(Value::Number)
                .ok_or_else(|| format!("'{field}' is not a summary field")),
            Query::Local { name, field } => {
                let local = find_local(trace, name)?;
                let target = local.points_to;
                let value = match field.as_str() {
                    "size" => Some(local.size),
                    "align" => Some(local.align),
                    "len" => target.and_then(|t| t.len),
                    _ => target.and_then(|t| t.capacity),
                };
                value
                    .map(number)
                    .ok_or_else(|| format!("local '{name}' has no {field}"))
            }
            Query::SameBlock(a, b) => {
                let target = |name: &str| {
                    find_local(trace, name)?
                        .points_to
                        .map(|t| t.address)
                        .ok_or_else(|| format!("local '{name}' points nowhere"))
                };
                Ok(Value::YesNo(target(a)? == target(b)?))
            }
        }
    }
}

fn find_local<'t>(trace: &'t Trace, name: &str) -> Result<&'t crate::trace::Local, String> {
    trace
        .locals
        .iter()
        .find(|l| l.name == name)
        .ok_or_else(|| format!("{} has no local named '{name}'", trace.source.id))
}

/// How a reader's answer compares with the live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    Differs,
    /// Not a number (or yes/no) at all.
    Unreadable,
}

/// Compares what the reader typed with the live run's answer.
pub fn judge(expected: Value, typed: &str) -> Verdict {
    let typed = typed.trim().to_ascii_lowercase();
    let given = match expected {
        Value::Number(_) => {
            // Accept "8", "8 bytes", "capacity 8": the first number typed.
            let digits: String = typed
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || *c == '_' || *c == ',')
                .filter(char::is_ascii_digit)
                .collect();
            digits.parse().ok().map(Value::Number)
        }
        Value::YesNo(_) => match typed.as_str() {
            "y" | "yes" | "true" => Some(Value::YesNo(true)),
            "n" | "no" | "false" => Some(Value::YesNo(false)),
            _ => None,
        },
    };
    match given {
        None => Verdict::Unreadable,
        Some(given) if given == expected => Verdict::Agrees,
        Some(_) => Verdict::Differs,
    }
}
