//! The `trace` view: heap events, stack locals, observations and a summary, as
//! tables that fit the width.

use std::collections::HashSet;
use std::fmt::Write as _;

use colored::Colorize;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Color, ContentArrangement, Table};

use super::{Settings, address, short_type};
use crate::recorder::Kind;
use crate::scene::{Local, Target};
use crate::trace::{Event, Trace};

/// The whole `memlab trace` text output.
pub fn trace(trace: &Trace, settings: Settings) -> String {
    let scenario = trace.scenario;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} {}",
        scenario.id.bold(),
        "·".dimmed(),
        scenario.title.bold()
    );
    let _ = writeln!(out, "{}", scenario.summary);
    let _ = writeln!(out, "{}", format!("source: {}", scenario.file).dimmed());

    let _ = writeln!(out, "\n{}", heading("Heap events"));
    if trace.events.is_empty() {
        let _ = writeln!(out, "No heap events: nothing was allocated or freed.");
    } else {
        let _ = writeln!(out, "{}", events(trace, settings));
    }

    if !trace.locals.is_empty() {
        let _ = writeln!(out, "\n{}", heading("Stack"));
        let _ = writeln!(out, "{}", locals(trace, settings));
    }
    if !trace.observations.is_empty() {
        let _ = writeln!(out, "\n{}", heading("Observations"));
        let _ = writeln!(out, "{}", observations(trace, settings));
    }

    let _ = writeln!(out, "\n{}", heading("Summary"));
    let _ = writeln!(out, "{}", summary(trace, settings));
    for note in notes(trace) {
        let _ = writeln!(out, "{} {note}", "note:".yellow().bold());
    }
    out
}

fn heading(text: &str) -> String {
    text.bold().underline().to_string()
}

fn new_table(settings: Settings, header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(settings.width);
    if settings.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if !header.is_empty() {
        table.set_header(header.iter().map(|h| Cell::new(h).fg(Color::Cyan)));
    }
    table
}

fn align_right(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// The heap events table.
pub fn events(trace: &Trace, settings: Settings) -> Table {
    let mut table = new_table(
        settings,
        &[
            "#", "event", "address", "size", "align", "realloc", "line", "code",
        ],
    );
    for event in &trace.events {
        table.add_row(vec![
            Cell::new(event.seq),
            kind_cell(event.kind),
            Cell::new(address(event.address)),
            Cell::new(event.size),
            Cell::new(event.align),
            realloc_cell(event),
            Cell::new(event.line.map_or("?".to_string(), |l| l.to_string())),
            Cell::new(code(trace, event.line)),
        ]);
    }
    align_right(&mut table, &[0, 3, 4, 6]);
    table
}

fn kind_cell(kind: Kind) -> Cell {
    let color = match kind {
        Kind::Alloc | Kind::AllocZeroed => Color::Green,
        Kind::Realloc => Color::Yellow,
        Kind::Dealloc => Color::Red,
    };
    Cell::new(kind.name()).fg(color)
}

fn realloc_cell(event: &Event) -> Cell {
    match (event.old, event.moved()) {
        (Some((_, old_size)), Some(false)) => {
            Cell::new(format!("{old_size} → {} B, in place", event.size)).fg(Color::Green)
        }
        (Some((old_address, old_size)), Some(true)) => Cell::new(format!(
            "{old_size} → {} B, moved from {}",
            event.size,
            address(old_address)
        ))
        .fg(Color::Yellow),
        _ => Cell::new(""),
    }
}

/// The scenario's code on `line`, e.g. `numbers.push(black_box(i));`.
fn code(trace: &Trace, line: Option<u32>) -> &'static str {
    line.and_then(|l| trace.scenario.source_line(l))
        .unwrap_or("(not in the scenario's file)")
}

/// The stack locals table.
pub fn locals(trace: &Trace, settings: Settings) -> Table {
    let frames: HashSet<&str> = trace.locals.iter().map(|l| l.frame).collect();
    let with_frame = frames.len() > 1;
    let mut header = vec![];
    if with_frame {
        header.push("frame");
    }
    header.extend([
        "local",
        "type",
        "address",
        "size",
        "align",
        "points to",
        "line",
    ]);
    let mut table = new_table(settings, &header);
    for local in &trace.locals {
        let mut row = vec![];
        if with_frame {
            row.push(Cell::new(local.frame));
        }
        row.extend([
            Cell::new(local.name).fg(Color::Cyan),
            Cell::new(short_type(local.type_name)),
            Cell::new(address(local.address)),
            Cell::new(local.size),
            Cell::new(local.align),
            Cell::new(points_to(local)),
            Cell::new(local.line),
        ]);
        table.add_row(row);
    }
    let offset = usize::from(with_frame);
    align_right(&mut table, &[offset + 3, offset + 4, offset + 6]);
    table
}

fn points_to(local: &Local) -> String {
    let Some(Target {
        address: target,
        len,
        capacity,
    }) = local.points_to
    else {
        return String::new();
    };
    if capacity == Some(0) {
        return format!("{} (dangling: capacity 0, no block)", address(target));
    }
    let mut text = address(target);
    match (len, capacity) {
        (Some(len), Some(capacity)) => {
            let _ = write!(text, " (len {len}, capacity {capacity})");
        }
        (Some(len), None) => {
            let _ = write!(text, " (len {len})");
        }
        _ => {}
    }
    text
}

/// The observations table: one column per field name, in order of first use.
pub fn observations(trace: &Trace, settings: Settings) -> Table {
    let mut fields: Vec<&str> = vec![];
    for observation in &trace.observations {
        for (name, _) in observation.fields() {
            if !fields.contains(name) {
                fields.push(name);
            }
        }
    }
    let mut header = vec!["#", "label"];
    header.extend(&fields);
    header.extend(["after event", "line"]);
    let mut table = new_table(settings, &header);
    for (i, observation) in trace.observations.iter().enumerate() {
        let mut row = vec![Cell::new(i + 1), Cell::new(observation.label)];
        for name in &fields {
            row.push(Cell::new(
                observation
                    .get(name)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            ));
        }
        let after = match observation.after_event {
            0 => "none yet".to_string(),
            n => format!("#{n}"),
        };
        row.extend([Cell::new(after), Cell::new(observation.line)]);
        table.add_row(row);
    }
    let numeric: Vec<usize> = (0..fields.len() + 4).filter(|&i| i != 1).collect();
    align_right(&mut table, &numeric);
    table
}

/// The summary as a two-column table.
pub fn summary(trace: &Trace, settings: Settings) -> Table {
    let s = trace.summary();
    let mut table = new_table(settings, &[]);
    let rows: [(&str, String); 7] = [
        ("allocations", s.allocs.to_string()),
        ("reallocations", s.reallocs.to_string()),
        ("deallocations", s.deallocs.to_string()),
        ("bytes allocated", bytes(s.bytes_allocated)),
        ("peak live bytes", bytes(s.peak_live_bytes)),
        ("live at the end", bytes(s.live_bytes_at_end)),
        ("lost events", s.lost_events.to_string()),
    ];
    for (name, value) in rows {
        table.add_row(vec![Cell::new(name), Cell::new(value)]);
    }
    align_right(&mut table, &[1]);
    table
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

/// Sentences about anything that limits what the tables show.
fn notes(trace: &Trace) -> Vec<String> {
    let mut notes = vec![];
    if let Some(message) = &trace.panic {
        notes.push(format!(
            "the scenario panicked ({message}); the events up to the panic are shown"
        ));
    }
    if trace.lost_events > 0 {
        notes.push(format!(
            "{} events did not fit in the recorder's buffer and are not shown",
            trace.lost_events
        ));
    }
    let unattributed = trace.unattributed();
    if unattributed > 0 {
        notes.push(format!(
            "{unattributed} events have no source line in {}: their call chain did not pass \
             through it, or this build has no line tables",
            trace.scenario.file_name()
        ));
    }
    notes
}
