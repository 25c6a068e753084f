//! Step-through: one heap event at a time, with the source line that caused
//! it, the event itself, and memory as it is after it.

use std::fmt::Write as _;

use super::canvas::Glyphs;
use super::show;
use super::style::{Style, paint};
use super::{Settings, diagram, listing};
use crate::trace::Trace;
use crate::trace::names::Names;
use crate::trace::snapshot::{Moment, Snapshot};

/// Source lines shown around the current one, on each side.
const CONTEXT: usize = 3;

/// [`frame`] in at most `room` lines where it can be: with fewer source
/// lines around the event's (3, 1, then none) when the whole frame is
/// taller. A diagram taller than that still makes a taller frame, which
/// step mode then shows a page at a time.
pub fn frame_within(
    trace: &Trace,
    names: &Names,
    ids: &[Option<usize>],
    step: usize,
    settings: Settings,
    room: Option<usize>,
) -> String {
    let mut text = String::new();
    for context in [CONTEXT, 1, 0] {
        text = frame_with(trace, names, ids, step, settings, context);
        if room.is_none_or(|room| text.lines().count() <= room) {
            break;
        }
    }
    text
}

/// What step-through shows at event number `step` (1-based): a heading, the
/// source around the event's line with that line marked, the event, and the
/// memory diagram after it. `ids` is `snapshot::block_ids` of the trace.
pub fn frame(
    trace: &Trace,
    names: &Names,
    ids: &[Option<usize>],
    step: usize,
    settings: Settings,
) -> String {
    frame_with(trace, names, ids, step, settings, CONTEXT)
}

fn frame_with(
    trace: &Trace,
    names: &Names,
    ids: &[Option<usize>],
    step: usize,
    settings: Settings,
    context: usize,
) -> String {
    let width = usize::from(settings.width);
    let glyphs = Glyphs::new(settings.ascii);
    let count = trace.events.len();
    let step = step.clamp(1, count.max(1));
    let mut out = String::new();
    let title = format!("Event {step} of {count} · {}", trace.source.id);
    let _ = writeln!(out, "{}", paint(&title, Style::Bold));

    let Some(event) = trace.events.get(step - 1) else {
        let _ = writeln!(out, "No heap events: nothing to step through.");
        return out;
    };
    // The source around the line, the line itself marked.
    let source: Vec<&str> = trace.source.text.lines().collect();
    let digits = source.len().to_string().len();
    match event.line {
        Some(line) => {
            let at = (line as usize)
                .saturating_sub(1)
                .min(source.len().saturating_sub(1));
            let (from, to) = (
                at.saturating_sub(context),
                (at + context + 1).min(source.len()),
            );
            let marker = glyphs.head;
            let bar = glyphs.line(super::canvas::UP | super::canvas::DOWN);
            for (i, code) in source.iter().enumerate().take(to).skip(from) {
                let number = format!("{:>digits$}", i + 1);
                let room = width.saturating_sub(digits + 5);
                let code = cut(code, room, glyphs.ellipsis);
                let text = if i == at {
                    paint(&format!("{marker} {number} {bar} {code}"), Style::Highlight)
                } else {
                    let number = paint(&format!("  {number} {bar}"), Style::Dim);
                    format!("{number} {code}")
                };
                let _ = writeln!(out, "{}", text.trim_end());
            }
        }
        None => {
            let why = match trace.loss.proc_missing {
                true => {
                    "source lines need /proc/self/maps and /proc/self/exe, which could not be read"
                }
                false => "the call chain did not pass through it, or this build has no line tables",
            };
            let text = format!(
                "(memlab found no line of {} on this call's path: {why}.)",
                trace.source.file_name()
            );
            let _ = writeln!(out, "{}", super::fill(&text, width));
        }
    }
    // The event.
    let address = show(settings.addresses, names.event(step - 1), event.address);
    let mut text = listing::annotation(event, address, settings);
    if let (Some((old, _)), Some(true)) = (event.old, event.moved()) {
        // Where it was: the address, or (symbolic) the event that put it there.
        let from = match settings.addresses {
            super::AddressMode::Symbolic => {
                let before = (0..step - 1).rev().find(|&i| {
                    ids[i] == ids[step - 1] && trace.events[i].kind != crate::trace::Kind::Dealloc
                });
                match before {
                    Some(i) => format!("#{}'s address", trace.events[i].seq),
                    None => "its old address".to_string(),
                }
            }
            _ => super::address(old),
        };
        let _ = write!(text, " from {from}");
    }
    let _ = write!(text, " · align {} · {}", event.align, event.region.name());
    if let Some(usable) = event.usable {
        let _ = write!(text, " · {usable} B reserved");
    }
    if trace.threads().len() > 1 {
        let _ = write!(text, " · on {}", trace.thread_name(event.thread));
    }
    let text = paint(&super::fill(&text, width), Style::Event(event.kind));
    let _ = writeln!(out, "{text}");
    // What the code observed after it, before the next event.
    let observed: Vec<_> = trace
        .observations
        .iter()
        .filter(|o| o.after_event == step)
        .collect();
    if let (Some(first), Some(last)) = (observed.first(), observed.last()) {
        let fields = |o: &crate::trace::Observation| {
            o.fields
                .iter()
                .map(|(name, value)| format!("{name} {value}"))
                .collect::<Vec<_>>()
                .join(" · ")
        };
        let at = |o: &crate::trace::Observation| format!("`{}`, line {}", o.label, o.line);
        let n = observed.len();
        let text = if n == 1 {
            format!("Observed after it ({}): {}", at(first), fields(first))
        } else if (&first.label, first.line) == (&last.label, last.line) {
            let (a, b) = (fields(first), fields(last));
            format!(
                "Observed after it ({}, {n} times): from {a} to {b}",
                at(first)
            )
        } else {
            let (a, b) = (fields(first), fields(last));
            format!(
                "Observed after it, {n} times: first ({}) {a}, last ({}) {b}",
                at(first),
                at(last)
            )
        };
        let _ = writeln!(out, "{}", paint(&super::fill(&text, width), Style::Dim));
    }
    out.push('\n');
    // Memory after it.
    let snapshot = Snapshot::at(trace, ids, Moment::Event { after_event: step });
    let _ = writeln!(out, "{}", diagram::heading(trace, &snapshot, settings));
    for line in diagram::draw(trace, names, &snapshot, settings) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// `text` in at most `room` columns, ending in `ellipsis` when cut.
fn cut(text: &str, room: usize, ellipsis: &str) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let keep = room.saturating_sub(ellipsis.chars().count());
    text.chars().take(keep).chain(ellipsis.chars()).collect()
}
