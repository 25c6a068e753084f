//! A lesson laid out for the terminal: prose, and beside it (or below it) the
//! live evidence. It reads a [`Plan`] (the lesson with its runs, made by the
//! caller) and returns a list of [`Piece`]s; the CLI prints them and, in step
//! mode, waits at each pause and asks each prediction.

use textwrap::core::display_width;

use super::style::{Style, paint};
use super::{Settings, chart, diagram, listing, markdown, table};
use crate::lessons::{
    Block, Chart, DiagramAt, Plan, Prediction, Span, Value, Verdict, View, judge,
};
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

/// Lays out a lesson with its runs.
pub fn lesson(plan: &Plan, settings: Settings, layout: Layout) -> Vec<Piece> {
    let blocks = resolve(plan, &plan.lesson.blocks, false);
    lay_out(plan, &blocks, settings, layout)
}

/// The same page with its claims marked, for checking it against its own
/// evidence (`memlab lesson --claims`). The marks are escape sequences of no
/// width (`ESC ] memlab;… BEL`, which terminals ignore), so the page keeps the
/// very layout a reader sees: each live value is wrapped in
/// `ESC]memlab;value;N BEL` … `ESC]memlab;/value BEL`, each passage shown in
/// `ESC]memlab;passage;G;P BEL` … `ESC]memlab;/passage BEL` (passage P of
/// group G). A last piece lists what each value and passage asks of the run:
///
/// ```text
/// ⟦claims lessons/big-data.md⟧
/// value 1 lessons/big-data.md:31: big-data event 1 region
/// group 1 lessons/big-data.md:29
/// passage 1.1 when big-data event 1 region = mmap | run: mmap
/// passage 1.2 otherwise
/// ```
///
/// The text after ` | ` is what this run answered, for people reading a
/// failure: a checker must judge each claim by the evidence on the page.
pub fn lesson_with_claims(plan: &Plan, settings: Settings, layout: Layout) -> Vec<Piece> {
    let blocks = resolve(plan, &plan.lesson.blocks, true);
    let mut pieces = lay_out(plan, &blocks, settings, layout);
    pieces.push(Piece::Text(claims(plan)));
    pieces
}

/// A claims mark: an escape sequence that takes no width.
fn mark(what: &str) -> String {
    format!("\x1b]memlab;{what}\x07")
}

/// Puts `text` at the start (`first`) or the end of `block`'s inline text,
/// if it has any (in a list, its first or last item's).
fn mark_block(block: &mut Block, text: &str, first: bool) -> bool {
    match block {
        Block::Paragraph(spans) | Block::Heading { text: spans, .. } if !spans.is_empty() => {
            let span = Span {
                text: text.to_string(),
                style: Default::default(),
                live: None,
            };
            if first {
                spans.insert(0, span);
            } else {
                spans.push(span);
            }
            true
        }
        Block::List { items, .. } => {
            let item = if first {
                items.first_mut()
            } else {
                items.last_mut()
            };
            let inner = match (item, first) {
                (Some(blocks), true) => blocks.first_mut(),
                (Some(blocks), false) => blocks.last_mut(),
                (None, _) => None,
            };
            inner.is_some_and(|b| mark_block(b, text, first))
        }
        Block::Quote(inner) => {
            let inner = if first {
                inner.first_mut()
            } else {
                inner.last_mut()
            };
            inner.is_some_and(|b| mark_block(b, text, first))
        }
        _ => false,
    }
}

/// The blocks as the run makes them: each group of passages replaced by the
/// passage shown, each live value by the run's answer (marked with `claims`).
fn resolve(plan: &Plan, blocks: &[Block], claims: bool) -> Vec<Block> {
    let spans = |spans: &[Span]| -> Vec<Span> {
        spans
            .iter()
            .map(|span| match &span.live {
                Some(live) => {
                    // The plan read every value of the prose it shows.
                    let value = plan
                        .value(live.id)
                        .map_or("?".to_string(), |v| v.to_string());
                    Span {
                        text: if claims {
                            format!(
                                "{}{value}{}",
                                mark(&format!("value;{}", live.id)),
                                mark("/value")
                            )
                        } else {
                            value
                        },
                        style: span.style,
                        live: None,
                    }
                }
                None => span.clone(),
            })
            .collect()
    };
    let mut out = vec![];
    for block in blocks {
        match block {
            Block::Passages(group) => {
                let Some(choice) = plan.choice(group.id) else {
                    continue;
                };
                let mut shown = resolve(plan, &group.passages[choice.shown].blocks, claims);
                if claims {
                    let alone = |text: String| {
                        Block::Paragraph(vec![Span {
                            text,
                            style: Default::default(),
                            live: None,
                        }])
                    };
                    let start = mark(&format!("passage;{};{}", group.id, choice.shown + 1));
                    if !shown
                        .first_mut()
                        .is_some_and(|b| mark_block(b, &start, true))
                    {
                        shown.insert(0, alone(start));
                    }
                    let end = mark("/passage");
                    if !shown.last_mut().is_some_and(|b| mark_block(b, &end, false)) {
                        shown.push(alone(end));
                    }
                }
                out.extend(shown);
            }
            Block::Paragraph(s) => out.push(Block::Paragraph(spans(s))),
            Block::Heading { level, text } => out.push(Block::Heading {
                level: *level,
                text: spans(text),
            }),
            Block::List { start, items } => out.push(Block::List {
                start: *start,
                items: items
                    .iter()
                    .map(|item| resolve(plan, item, claims))
                    .collect(),
            }),
            Block::Quote(inner) => out.push(Block::Quote(resolve(plan, inner, claims))),
            other => out.push(other.clone()),
        }
    }
    out
}

/// What each value and passage shown asks of the run (see
/// [`lesson_with_claims`]).
fn claims(plan: &Plan) -> String {
    let origin = &plan.lesson.origin;
    let mut out = format!("\n⟦claims {origin}⟧\n");
    let mut queue: Vec<&Block> = plan.lesson.blocks.iter().rev().collect();
    while let Some(block) = queue.pop() {
        if let Block::Paragraph(spans) | Block::Heading { text: spans, .. } = block {
            for live in spans.iter().filter_map(|s| s.live.as_ref()) {
                out.push_str(&format!(
                    "value {} {origin}:{}: {} {}\n",
                    live.id, live.line, live.scenario, live.query
                ));
            }
        }
        match block {
            Block::Passages(group) => {
                let Some(choice) = plan.choice(group.id) else {
                    continue;
                };
                out.push_str(&format!("group {} {origin}:{}\n", group.id, group.line));
                for (i, passage) in group.passages.iter().enumerate() {
                    let number = format!("{}.{}", group.id, i + 1);
                    match (&passage.when, choice.outcomes.get(i)) {
                        (Some(when), Some(outcomes)) => {
                            let answers: Vec<String> = outcomes
                                .iter()
                                .map(|o| match &o.answer {
                                    Ok(v) => v.to_string(),
                                    Err(why) => format!("no answer ({why})"),
                                })
                                .collect();
                            out.push_str(&format!(
                                "passage {number} when {when} | run: {}\n",
                                answers.join(", ")
                            ));
                        }
                        _ => out.push_str(&format!("passage {number} otherwise\n")),
                    }
                }
                queue.extend(group.passages[choice.shown].blocks.iter().rev());
            }
            Block::List { items, .. } => queue.extend(items.iter().flatten().rev()),
            Block::Quote(blocks) => queue.extend(blocks.iter().rev()),
            _ => {}
        }
    }
    out
}

fn lay_out(plan: &Plan, blocks: &[Block], settings: Settings, layout: Layout) -> Vec<Piece> {
    let width = usize::from(settings.width);
    let mut pieces = vec![];
    for chunk in chunks(blocks) {
        let mut prose: Vec<Block> = vec![];
        let mut evidence: Vec<Vec<String>> = vec![];
        // Prose at most MEASURE wide; evidence takes the rest.
        let (left, right) = match layout {
            Layout::Side => {
                let left = ((width - 3) * 9 / 20).min(super::MEASURE);
                (left, width - 3 - left)
            }
            Layout::Stacked => (width.min(super::MEASURE), width),
        };
        let evidence_settings = Settings {
            width: u16::try_from(right).unwrap_or(settings.width),
            ..settings
        };
        let mut prediction = None;
        for block in chunk {
            match block {
                Block::Evidence { views, .. } => {
                    let lines = render_views(plan, views, evidence_settings);
                    if layout == Layout::Stacked {
                        flush_prose(&mut pieces, &mut prose, left);
                        pieces.push(Piece::Text(join(&lines)));
                        pieces.push(Piece::Pause);
                    } else {
                        evidence.push(lines);
                    }
                }
                Block::Answer(answer) => prediction = plan.prediction(answer).cloned(),
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
                        if let Block::Evidence { views, .. } = block {
                            evidence.extend(render_views(plan, views, settings));
                        }
                    }
                    flush_prose(&mut pieces, &mut prose, width.min(super::MEASURE));
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
    pieces
}

/// The last lines of a lesson's page: the next lesson in course order and
/// the command that opens it, or that the course ends here; prose, at
/// most `width` (and the measure) wide.
pub fn next_lesson(next: Option<&str>, width: usize) -> String {
    let text = match next {
        Some(id) => format!("Next: memlab lesson {id}"),
        None => "That was the last lesson of the course: 'memlab list' shows what you have read."
            .to_string(),
    };
    format!("\n{}\n", super::fill(&text, width.min(super::MEASURE)))
}

/// `pieces` with the end of the page: [`next_lesson`]'s lines go before the
/// last pause, so step mode shows them on the last page.
pub fn with_next_lesson(mut pieces: Vec<Piece>, next: Option<&str>, width: usize) -> Vec<Piece> {
    let text = Piece::Text(next_lesson(next, width));
    match pieces.last() {
        Some(Piece::Pause) => pieces.insert(pieces.len() - 1, text),
        _ => pieces.push(text),
    }
    pieces
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

/// The lines of an evidence block's views.
fn render_views(plan: &Plan, views: &[View], settings: Settings) -> Vec<String> {
    views
        .iter()
        .flat_map(|view| render_view(plan, view, settings))
        .collect()
}

fn render_view(plan: &Plan, view: &View, settings: Settings) -> Vec<String> {
    let width = usize::from(settings.width);
    if let View::Excerpt { file, text } = view {
        let caption = format!("memlab's own code, from {file}");
        return captioned(&caption, markdown::code(text, width), width);
    }
    // The plan holds a run of every scenario a view names.
    let Some((id, trace)) = view.scenario().and_then(|id| Some((id, plan.trace(id)?))) else {
        return vec![];
    };
    let names = Names::new(trace);
    let (what, lines): (&str, Vec<String>) = match view {
        View::Leaks(_) => {
            let report = table::leak_report(trace, &names, settings);
            ("leak report", report.lines().map(str::to_string).collect())
        }
        View::Diagram { at, .. } => {
            let lines = match at {
                DiagramAt::All => diagram::diagrams(trace, &names, settings)
                    .lines()
                    .map(str::to_string)
                    .collect(),
                DiagramAt::End => diagram::at(trace, &names, Moment::End, settings),
                // The plan checked that the run has such a local.
                DiagramAt::After(local) => match snapshot::moment_naming(trace, local) {
                    Some(moment) => diagram::at(trace, &names, moment, settings),
                    None => vec![],
                },
            };
            ("memory diagram", lines)
        }
        View::Chart {
            chart: Chart::Capacity,
            ..
        } => (
            "length and capacity",
            chart::capacity(trace, settings).unwrap_or_default(),
        ),
        View::Chart {
            chart: Chart::Live, ..
        } => ("live heap bytes", chart::live_bytes(trace, settings)),
        View::Source(_) => (
            "source, with the heap events of each line",
            listing::source(trace, &names, settings),
        ),
        View::Events(_) => ("heap events", lines(table::events(trace, &names, settings))),
        View::Stack(_) => (
            "stack locals",
            lines(table::locals(trace, &names, settings)),
        ),
        View::Observations(_) => ("observations", lines(table::observations(trace, settings))),
        View::Summary(_) | View::Excerpt { .. } => {
            ("summary", lines(table::summary(trace, settings)))
        }
    };
    let mut lines = captioned(&format!("live run of {id}: {what}"), lines, width);
    if let Some(message) = &trace.panic {
        let note = format!(
            "note: the scenario {id} panicked ({}); the events up to the panic are shown",
            crate::text::clean_line(message)
        );
        let note = super::fill(&note, width);
        lines.extend(note.lines().map(|l| paint(l, Style::Note)));
    }
    lines
}

fn lines(table: comfy_table::Table) -> Vec<String> {
    table.lines().collect()
}

/// Evidence under a dimmed caption line (wrapped, each line styled alone).
fn captioned(caption: &str, lines: Vec<String>, width: usize) -> Vec<String> {
    let caption = super::fill(&format!("▸ {caption}"), width);
    let mut out: Vec<String> = caption.lines().map(|l| paint(l, Style::Dim)).collect();
    out.extend(lines);
    out
}

/// What the live run says about the reader's answer (`None`: no answer),
/// and why, wrapped to `width`.
pub fn verdict(prediction: &Prediction, typed: Option<&str>, width: usize) -> String {
    let value = prediction.value;
    let said = match typed.map(|t| judge(value, t)) {
        Some(Verdict::Agrees) => {
            format!("{} The live run agrees: {value}.", paint("✓", Style::Right))
        }
        Some(Verdict::Differs) => format!(
            "{} The live run says {value}, not {}.",
            paint("✗", Style::Wrong),
            crate::text::clean_line(typed.unwrap_or_default().trim())
        ),
        Some(Verdict::Unreadable) => {
            let expected = match value {
                Value::Number(_) => "a number",
                Value::YesNo(_) => "yes or no",
                Value::Word(_) => "a word",
            };
            format!("(The answer is {expected}.) The live run says {value}.")
        }
        None => format!("The live run says {value}."),
    };
    let source = paint(&format!("({})", prediction.source), Style::Dim);
    let mut text = format!("{said} {source}");
    if let Some(why) = &prediction.why {
        text.push('\n');
        text.push_str(why);
    }
    super::fill(&text, width)
}
