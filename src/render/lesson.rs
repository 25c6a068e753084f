//! A lesson laid out for the terminal: prose, and beside it (or below it) the
//! live evidence. The result is a list of [`Piece`]s; `main` prints them and,
//! in step mode, waits at each pause and asks each prediction.

use std::collections::HashMap;

use colored::Colorize;
use textwrap::core::display_width;

use super::{Settings, chart, diagram, listing, markdown, table};
use crate::capture::Options;
use crate::lessons::{Answer, Block, Chart, DiagramAt, Lesson, LessonError, Query, Value, View};
use crate::scenarios;
use crate::trace::Trace;
use crate::trace::names::Names;
use crate::trace::snapshot::{self, Moment};

/// Prose on the left, evidence on the right, at or above this width.
pub const SIDE_BY_SIDE_WIDTH: u16 = 140;

/// Where the evidence goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Evidence beside the prose it supports.
    Side,
    /// Evidence after the prose.
    Stacked,
}

impl Layout {
    /// Side by side when the width allows it.
    pub fn for_width(width: u16) -> Layout {
        if width >= SIDE_BY_SIDE_WIDTH {
            Layout::Side
        } else {
            Layout::Stacked
        }
    }
}

/// One step of a rendered lesson.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Lines to print, each ending in a newline.
    Text(String),
    /// A natural stop: after a section or a piece of evidence.
    Pause,
    /// The reader is asked the question just printed.
    Predict(Prediction),
}

/// A question's answer from the live run, with its explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub value: Value,
    /// Where the value comes from, e.g. "capacity in observation 5 of vec-growth".
    pub source: String,
    pub why: Option<String>,
}

/// Runs each scenario once per lesson.
#[derive(Default)]
pub struct Runs {
    traces: HashMap<&'static str, Trace>,
}

impl Runs {
    pub fn get(&mut self, id: &'static str) -> &Trace {
        self.traces.entry(id).or_insert_with(|| {
            let scenario = scenarios::find(id).expect("directives name registered scenarios");
            scenario.trace(Options::default(), None)
        })
    }
}

/// Lays out `lesson`; fails (naming the file and line) when a prediction
/// cannot be answered from the live run.
pub fn lesson(
    lesson: &Lesson,
    runs: &mut Runs,
    settings: Settings,
    layout: Layout,
) -> Result<Vec<Piece>, LessonError> {
    let width = usize::from(settings.width);
    let mut pieces = vec![];
    for chunk in chunks(&lesson.blocks) {
        let mut prose: Vec<Block> = vec![];
        let mut evidence: Vec<Vec<String>> = vec![];
        let (left, right) = match layout {
            Layout::Side => {
                let left = (width - 3) * 9 / 20;
                (left, width - 3 - left)
            }
            Layout::Stacked => (width, width),
        };
        let evidence_settings = Settings {
            width: u16::try_from(right).unwrap_or(settings.width),
            ..settings
        };
        let mut prediction = None;
        for block in chunk {
            match block {
                Block::Evidence { views, line } => {
                    let lines = render_views(lesson, *line, views, runs, evidence_settings)?;
                    if layout == Layout::Stacked {
                        flush_prose(&mut pieces, &mut prose, left);
                        pieces.push(Piece::Text(join(&lines)));
                        pieces.push(Piece::Pause);
                    } else {
                        evidence.push(lines);
                    }
                }
                Block::Answer(answer) => prediction = Some(predict(lesson, answer, runs)?),
                prose_block => prose.push(prose_block.clone()),
            }
        }
        match layout {
            Layout::Stacked => flush_prose(&mut pieces, &mut prose, left),
            Layout::Side => {
                let right_lines: Vec<String> = evidence.join(&String::new());
                if right_lines.iter().all(|l| display_width(l) <= right) {
                    let left_lines = markdown::blocks(&prose, left);
                    pieces.push(Piece::Text(beside(&left_lines, &right_lines, left)));
                } else {
                    // Too narrow for this evidence beside prose: one after the other.
                    let mut evidence: Vec<String> = vec![];
                    for block in chunk {
                        if let Block::Evidence { views, line } = block {
                            evidence.extend(render_views(lesson, *line, views, runs, settings)?);
                        }
                    }
                    flush_prose(&mut pieces, &mut prose, width);
                    pieces.push(Piece::Text(join(&evidence)));
                }
            }
        }
        match prediction {
            Some(p) => pieces.push(Piece::Predict(p)),
            None if pieces.last() != Some(&Piece::Pause) => pieces.push(Piece::Pause),
            None => {}
        }
    }
    Ok(pieces)
}

/// Splits the lesson at each heading (a new section) and after each answer
/// (so a question is asked before the evidence that follows it is shown).
fn chunks(blocks: &[Block]) -> Vec<&[Block]> {
    let mut chunks = vec![];
    let mut start = 0;
    for (i, block) in blocks.iter().enumerate() {
        let heading = matches!(block, Block::Heading { .. });
        if heading && i > start {
            chunks.push(&blocks[start..i]);
            start = i;
        }
        if matches!(block, Block::Answer(_)) {
            chunks.push(&blocks[start..=i]);
            start = i + 1;
        }
    }
    if start < blocks.len() {
        chunks.push(&blocks[start..]);
    }
    chunks
}

fn flush_prose(pieces: &mut Vec<Piece>, prose: &mut Vec<Block>, width: usize) {
    if prose.is_empty() {
        return;
    }
    let lines = markdown::blocks(prose, width);
    pieces.push(Piece::Text(join(&lines)));
    prose.clear();
}

/// Lines as one text block, preceded by a blank line.
fn join(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut text = String::from("\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Two columns: `left` padded to `left_width`, a gutter, then `right`.
fn beside(left: &[String], right: &[String], left_width: usize) -> String {
    let mut text = String::from("\n");
    for i in 0..left.len().max(right.len()) {
        let l = left.get(i).map_or("", String::as_str);
        let r = right.get(i).map_or("", String::as_str);
        let pad = left_width.saturating_sub(display_width(l));
        let line = format!("{l}{}   {r}", " ".repeat(pad));
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// The lines of an evidence block's views; an error names the block's line.
fn render_views(
    lesson: &Lesson,
    line: usize,
    views: &[View],
    runs: &mut Runs,
    settings: Settings,
) -> Result<Vec<String>, LessonError> {
    let mut lines = vec![];
    for view in views {
        let rendered = render_view(view, runs, settings).map_err(|message| LessonError {
            origin: lesson.origin.clone(),
            line,
            message,
        })?;
        lines.extend(rendered);
    }
    Ok(lines)
}

fn render_view(view: &View, runs: &mut Runs, settings: Settings) -> Result<Vec<String>, String> {
    let width = usize::from(settings.width);
    let (caption, lines) = match view {
        View::Excerpt { file, text } => (
            format!("memlab's own code, from {file}"),
            markdown::code(text, width),
        ),
        view => {
            let id = view.scenario().unwrap_or_default();
            let trace = runs.get(id);
            let names = Names::new(trace);
            match view {
                View::Leaks(_) => {
                    let report = table::leak_report(trace, &names, settings);
                    let lines = report.lines().map(str::to_string).collect();
                    let caption = format!("live run of {id}: leak report");
                    return Ok(captioned(&caption, lines, width));
                }
                View::Diagram { at, .. } => {
                    let lines = match at {
                        DiagramAt::All => diagram::diagrams(trace, &names, settings)
                            .lines()
                            .map(str::to_string)
                            .collect(),
                        DiagramAt::End => diagram::at(trace, &names, Moment::End, settings),
                        DiagramAt::After(local) => {
                            let moment =
                                snapshot::moment_naming(trace, local).ok_or_else(|| {
                                    format!("diagram: no local named '{local}' in a run of {id}")
                                })?;
                            diagram::at(trace, &names, moment, settings)
                        }
                    };
                    let caption = format!("live run of {id}: memory diagram");
                    return Ok(captioned(&caption, lines, width));
                }
                View::Chart { chart, .. } => {
                    let (what, lines) = match chart {
                        Chart::Capacity => (
                            "length and capacity",
                            chart::capacity(trace, settings).ok_or_else(|| {
                                format!("chart: no observation of {id} notes len and capacity")
                            })?,
                        ),
                        Chart::Live => ("live heap bytes", chart::live_bytes(trace, settings)),
                    };
                    return Ok(captioned(
                        &format!("live run of {id}: {what}"),
                        lines,
                        width,
                    ));
                }
                _ => {}
            }
            let (what, table) = match view {
                View::Source(_) => ("source, with the heap events of each line", None),
                View::Events(_) => ("heap events", Some(table::events(trace, &names, settings))),
                View::Stack(_) => ("stack locals", Some(table::locals(trace, &names, settings))),
                View::Observations(_) => {
                    ("observations", Some(table::observations(trace, settings)))
                }
                _ => ("summary", Some(table::summary(trace, settings))),
            };
            let lines = match table {
                Some(table) => table.lines().collect(),
                None => listing::source(trace, &names, settings),
            };
            (format!("live run of {id}: {what}"), lines)
        }
    };
    Ok(captioned(&caption, lines, width))
}

/// Evidence under a dimmed caption line (wrapped, each line styled alone).
fn captioned(caption: &str, lines: Vec<String>, width: usize) -> Vec<String> {
    let caption = super::fill(&format!("▸ {caption}"), width);
    let mut out: Vec<String> = caption.lines().map(|l| l.dimmed().to_string()).collect();
    out.extend(lines);
    out
}

fn predict(lesson: &Lesson, answer: &Answer, runs: &mut Runs) -> Result<Prediction, LessonError> {
    let trace = runs.get(answer.scenario);
    let value = answer
        .query
        .evaluate(trace)
        .map_err(|message| LessonError {
            origin: lesson.origin.clone(),
            line: answer.line,
            message: format!("answer: {message}"),
        })?;
    Ok(Prediction {
        value,
        source: describe(&answer.query, answer.scenario),
        why: answer.why.clone(),
    })
}

/// Where an answer comes from, in words.
fn describe(query: &Query, scenario: &str) -> String {
    match query {
        Query::Observation { index, field } => {
            format!("{field} in observation {index} of this run of {scenario}")
        }
        Query::Count(kind) => format!("{} events in this run of {scenario}", kind.name()),
        Query::Events => format!("heap events in this run of {scenario}"),
        Query::Summary(field) => format!("{} in this run of {scenario}", field.replace('_', " ")),
        Query::Local { name, field } => format!("{field} of `{name}` in this run of {scenario}"),
        Query::SameBlock(a, b) => {
            format!("whether `{a}` and `{b}` point to the same block in this run of {scenario}")
        }
    }
}
