//! A scenario's source, numbered, with the heap events each line caused
//! written under it: the code a student reads, tied to what it did.

use super::Settings;
use super::highlight::Coloured;
use super::show;
use super::style::{Style, paint};
use crate::trace::names::Names;
use crate::trace::{Event, Trace};

/// The listing as lines no wider than the settings' width.
pub fn source(trace: &Trace, names: &Names, settings: Settings) -> Vec<String> {
    let width = usize::from(settings.width);
    let text = &trace.source.text;
    let mut out = vec![];
    let digits = text.lines().count().to_string().len();
    let gutter = digits + 3; // "14 │ "
    let room = width.saturating_sub(gutter).max(10);
    let coloured = Coloured::rust(text);
    for (i, code) in text.lines().enumerate() {
        let line = i as u32 + 1;
        let number = format!("{line:>digits$}");
        let pieces: Vec<String> = if code.is_empty() {
            vec![String::new()]
        } else {
            textwrap::wrap(code, super::wrap_options(room))
                .iter()
                .map(|piece| coloured.paint(line, offset_in(code, piece), piece))
                .collect()
        };
        for (j, piece) in pieces.into_iter().enumerate() {
            let number = if j == 0 {
                number.clone()
            } else {
                " ".repeat(digits)
            };
            let line = format!(
                "{} {} {piece}",
                paint(&number, Style::Dim),
                paint("│", Style::Dim)
            );
            // An empty line of code leaves no space after the bar.
            out.push(line.trim_end().to_string());
        }
        let events: Vec<usize> = (0..trace.events.len())
            .filter(|&i| trace.events[i].line == Some(line))
            .collect();
        for shown in shown_events(&events) {
            let note = match shown {
                Shown::Event(index) => {
                    let event = &trace.events[index];
                    let address = show(settings.addresses, names.event(index), event.address);
                    (
                        annotation(event, address, settings),
                        Style::Event(event.kind),
                    )
                }
                Shown::Gap { count, first, last } => (
                    format!("… {count} more events on this line, #{first} to #{last}"),
                    Style::Dim,
                ),
            };
            let indent = " ".repeat(digits);
            for (j, piece) in
                textwrap::wrap(&note.0, super::wrap_options(room.saturating_sub(2).max(10)))
                    .into_iter()
                    .enumerate()
            {
                let arrow = if j == 0 { "↳ " } else { "  " };
                out.push(format!(
                    "{indent} {} {}{}",
                    paint("│", Style::Dim),
                    paint(arrow, Style::Dim),
                    paint(&piece, note.1)
                ));
            }
        }
    }
    out
}

/// A line's events beyond this many are summed up in one line, so that a
/// loop of a thousand allocations stays readable.
const MOST_EVENTS_PER_LINE: usize = 8;

/// What a line of the listing shows under it.
enum Shown {
    /// The event at this index.
    Event(usize),
    /// Events left out: how many, and the first and last `#`.
    Gap {
        count: usize,
        first: usize,
        last: usize,
    },
}

/// The events of one line as shown: all of them, or the first few, a gap
/// and the last two.
fn shown_events(events: &[usize]) -> Vec<Shown> {
    if events.len() <= MOST_EVENTS_PER_LINE {
        return events.iter().map(|&i| Shown::Event(i)).collect();
    }
    let (head, tail) = (MOST_EVENTS_PER_LINE - 3, 2);
    let gap = &events[head..events.len() - tail];
    let mut shown: Vec<Shown> = events[..head].iter().map(|&i| Shown::Event(i)).collect();
    shown.push(Shown::Gap {
        count: gap.len(),
        first: gap[0] + 1,
        last: gap[gap.len() - 1] + 1,
    });
    shown.extend(
        events[events.len() - tail..]
            .iter()
            .map(|&i| Shown::Event(i)),
    );
    shown
}

/// `#2 realloc 0x55… 32 → 64 B, in place`
pub fn annotation(event: &Event, address: String, settings: Settings) -> String {
    let kind = event.kind.name();
    match (event.old, event.moved()) {
        (Some((_, old_size)), Some(moved)) => format!(
            "#{} {kind} {address} {old_size} {} {} B, {}",
            event.seq,
            settings.to_arrow(),
            event.size,
            if moved { "moved" } else { "in place" }
        ),
        _ => format!("#{} {kind} {address} {} B", event.seq, event.size),
    }
}

/// Where `piece`, a line textwrap cut from `line`, starts in it.
fn offset_in(line: &str, piece: &str) -> usize {
    let (start, at) = (line.as_ptr() as usize, piece.as_ptr() as usize);
    if (start..=start + line.len()).contains(&at) {
        at - start
    } else {
        line.find(piece).unwrap_or(0)
    }
}
