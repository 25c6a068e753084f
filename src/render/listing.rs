//! A scenario's source, numbered, with the heap events each line caused
//! written under it: the code a student reads, tied to what it did.

use super::Settings;
use super::markdown;
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
    for (i, code) in text.lines().enumerate() {
        let line = i as u32 + 1;
        let number = format!("{line:>digits$}");
        let pieces = if code.is_empty() {
            vec![String::new()]
        } else {
            markdown::code(code, room + 2)
        };
        for (j, piece) in pieces.into_iter().enumerate() {
            let piece = piece.strip_prefix("  ").unwrap_or(&piece).to_string();
            let number = if j == 0 {
                number.clone()
            } else {
                " ".repeat(digits)
            };
            out.push(format!(
                "{} {} {piece}",
                paint(&number, Style::Dim),
                paint("│", Style::Dim)
            ));
        }
        for (index, event) in trace.events.iter().enumerate() {
            if event.line != Some(line) {
                continue;
            }
            let note = annotation(
                event,
                show(settings.addresses, names.event(index), event.address),
            );
            let indent = " ".repeat(digits);
            for (j, piece) in
                textwrap::wrap(&note, super::wrap_options(room.saturating_sub(2).max(10)))
                    .into_iter()
                    .enumerate()
            {
                let arrow = if j == 0 { "↳ " } else { "  " };
                out.push(format!(
                    "{indent} {} {}{}",
                    paint("│", Style::Dim),
                    paint(arrow, Style::Dim),
                    paint(&piece, Style::Event(event.kind))
                ));
            }
        }
    }
    out
}

/// `#2 realloc 0x55… 32 → 64 B, in place`
pub fn annotation(event: &Event, address: String) -> String {
    let kind = event.kind.name();
    match (event.old, event.moved()) {
        (Some((_, old_size)), Some(moved)) => format!(
            "#{} {kind} {address} {old_size} → {} B, {}",
            event.seq,
            event.size,
            if moved { "moved" } else { "in place" }
        ),
        _ => format!("#{} {kind} {address} {} B", event.seq, event.size),
    }
}
