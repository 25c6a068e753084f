//! Charts of a trace: a Vec's (or String's) length against its capacity after
//! each observation, with the reallocations marked, and the live heap bytes
//! over the events, with the peak and the bytes still live at the end.
//!
//! ```text
//!  observation  len/cap
//!  push           1/4    █░░░                 ◀ #1 alloc
//!  push           2/4    ██░░
//!  push           5/8    █████░░░             ◀ #2 realloc
//! ```

use std::fmt::Write as _;

use super::canvas::{Canvas, DOWN, Glyphs, LEFT, RIGHT, Style, UP};
use super::style::paint;
use super::{Settings, fill};
use crate::trace::Kind;
use crate::trace::Trace;

/// Rows of the live-bytes chart's plot.
const HEIGHT: usize = 8;
/// Most observations the capacity chart draws.
const MAX_ROWS: usize = 200;

/// `memlab trace <scenario> --view chart`: both charts, under headings.
pub fn view(trace: &Trace, settings: Settings) -> String {
    use super::table::heading;
    let mut out = String::new();
    if let Some(lines) = capacity(trace, settings) {
        let _ = writeln!(out, "{}", heading("Length and capacity"));
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", heading("Live heap bytes"));
    for line in live_bytes(trace, settings) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Length against capacity for every observation that notes both, one row
/// each: `█` for the elements, `░` for the spare room. A row after an
/// allocating event names the `alloc`s and `realloc`s since the row before,
/// by their numbers in the events table: where the capacity grew. `None` when no observation notes
/// both.
pub fn capacity(trace: &Trace, settings: Settings) -> Option<Vec<String>> {
    let glyphs = Glyphs::new(settings.ascii);
    let rows: Vec<_> = trace
        .observations
        .iter()
        .filter_map(|o| Some((o, o.get("len")?, o.get("capacity")?)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let width = usize::from(settings.width);
    let label_width = rows
        .iter()
        .map(|(o, ..)| o.label.chars().count())
        .max()
        .unwrap_or(0)
        .clamp("observation".len(), 18);
    let figures: Vec<String> = rows.iter().map(|(_, l, c)| format!("{l}/{c}")).collect();
    let figure_width = figures.iter().map(String::len).max().unwrap_or(0).max(7);
    // What each row's marker says: the allocating events since the row before.
    let mut markers = vec![];
    let mut previous = 0; // the row before's after_event
    for (observation, ..) in &rows {
        let from = previous;
        let events: Vec<String> = trace.events
            [from.min(observation.after_event)..observation.after_event]
            .iter()
            .filter(|e| e.kind != Kind::Dealloc)
            .map(|e| format!("#{} {}", e.seq, e.kind.name()))
            .collect();
        markers.push(if events.is_empty() {
            String::new()
        } else {
            format!("{} {}", glyphs.pointer, events.join(", "))
        });
        previous = observation.after_event;
    }
    let marker_width = markers.iter().map(|m| m.chars().count()).max().unwrap_or(0);
    let fixed = 1 + label_width + 1 + figure_width + 2;
    let bar_width = width.saturating_sub(fixed + 1 + marker_width).clamp(4, 64);
    let biggest = rows
        .iter()
        .map(|(_, l, c)| (*l).max(*c))
        .max()
        .unwrap_or(1)
        .max(1);
    let cells = |n: usize| match n * bar_width / biggest {
        0 if n > 0 => 1,
        c => c,
    };

    let mut canvas = Canvas::new(width);
    canvas.text(0, 1, "observation", label_width, Style::Bold, &glyphs);
    let header = format!("{:>figure_width$}", "len/cap");
    canvas.text(
        0,
        2 + label_width,
        &header,
        figure_width,
        Style::Bold,
        &glyphs,
    );
    for (i, ((observation, len, capacity), figure)) in
        rows.iter().zip(&figures).enumerate().take(MAX_ROWS)
    {
        let row = i + 1;
        canvas.text(
            row,
            1,
            &observation.label,
            label_width,
            Style::Plain,
            &glyphs,
        );
        let figure = format!("{figure:>figure_width$}");
        canvas.text(
            row,
            2 + label_width,
            &figure,
            figure_width,
            Style::Plain,
            &glyphs,
        );
        let bar = fixed;
        let (used, room) = (cells(*len), cells(*capacity));
        for c in 0..used.max(room) {
            let (ch, style) = if c < used.min(room) {
                (glyphs.full, Style::Accent)
            } else if c < room {
                (glyphs.spare, Style::Dim)
            } else {
                (glyphs.full, Style::Alert) // more elements than room: never seen
            };
            canvas.put(row, bar + c, ch, style);
        }
        if !markers[i].is_empty() {
            let at = bar + bar_width + 1;
            canvas.text(
                row,
                at,
                &markers[i],
                width.saturating_sub(at),
                Style::Highlight,
                &glyphs,
            );
        }
    }
    let mut lines = canvas.lines();
    if rows.len() > MAX_ROWS {
        lines.push(format!(
            " … and {} more observations",
            rows.len() - MAX_ROWS
        ));
    }
    // The figure leads, so wrapping never leaves it alone on the last line.
    let scale = format!(
        "The full width is {biggest} elements (bytes for a String); each row shows {} the \
         length and {} the spare capacity.",
        glyphs.full, glyphs.spare
    );
    lines.extend(fill(&scale, width).lines().map(|l| paint(l, Style::Dim)));
    Some(lines)
}

/// Live heap bytes (requested sizes of the trace's blocks not yet freed)
/// after each event, with the peak marked and what is still live at the end.
pub fn live_bytes(trace: &Trace, settings: Settings) -> Vec<String> {
    let glyphs = Glyphs::new(settings.ascii);
    let width = usize::from(settings.width);
    let mut lines = vec![];
    if trace.events.is_empty() {
        lines.push("No heap events: no heap bytes were ever live.".to_string());
        return lines;
    }
    let series = trace.live_bytes();
    let (peak_at, peak) =
        series.iter().copied().enumerate().fold(
            (0, 0),
            |best, (i, v)| if v > best.1 { (i, v) } else { best },
        );
    let end = *series.last().unwrap_or(&0);

    let axis = format!("{peak} B").len().max(3) + 1;
    let plot = width.saturating_sub(axis + 2).max(8);
    let n = series.len();
    // Events per column (at least 1), and columns per event (at least 1).
    let per_column = n.div_ceil(plot);
    let columns_each = (plot / n).clamp(1, 3);
    let columns: Vec<(usize, usize)> = if per_column > 1 {
        series
            .chunks(per_column)
            .enumerate()
            .map(|(i, chunk)| (i * per_column, chunk.iter().copied().max().unwrap_or(0)))
            .collect()
    } else {
        series
            .iter()
            .enumerate()
            .flat_map(|(i, &v)| std::iter::repeat_n((i, v), columns_each))
            .collect()
    };

    let mut canvas = Canvas::new(width);
    let x0 = axis + 1; // the axis line's column
    // The peak: a marker over its column, the words beside it where they fit.
    let peak_column = columns
        .iter()
        .position(|&(i, _)| i + per_column > peak_at)
        .unwrap_or(0);
    let marker_at = x0 + 1 + peak_column;
    canvas.put(
        0,
        marker_at,
        if glyphs.ascii { 'v' } else { '▼' },
        Style::Highlight,
    );
    let words = format!("peak {peak} B after #{}", peak_at + 1);
    let words_len = words.chars().count();
    let words_at = if marker_at + 2 + words_len <= width {
        marker_at + 2
    } else {
        marker_at.saturating_sub(words_len + 1)
    };
    canvas.text(0, words_at, &words, words_len, Style::Highlight, &glyphs);
    for r in 0..HEIGHT {
        canvas.put(1 + r, x0, glyphs.line(UP | DOWN), Style::Dim);
    }
    canvas.text(
        1,
        0,
        &format!("{:>axis$}", format!("{peak} B")),
        axis,
        Style::Dim,
        &glyphs,
    );
    canvas.text(
        HEIGHT,
        0,
        &format!("{:>axis$}", "0"),
        axis,
        Style::Dim,
        &glyphs,
    );
    for (c, &(_, value)) in columns.iter().enumerate() {
        let eighths = (value * HEIGHT * 8).checked_div(peak).unwrap_or(0);
        let eighths = if value > 0 { eighths.max(1) } else { 0 };
        let style = if c == peak_column {
            Style::Highlight
        } else {
            Style::Accent
        };
        for r in 0..HEIGHT {
            let level = (HEIGHT - 1 - r) * 8; // eighths below this row
            let ch = match eighths.saturating_sub(level) {
                0 => continue,
                e if e >= 8 => glyphs.full,
                e => glyphs.eighths[e],
            };
            canvas.put(1 + r, x0 + 1 + c, ch, style);
        }
    }
    let base = HEIGHT + 1;
    canvas.put(base, x0, glyphs.line(UP | RIGHT), Style::Dim);
    for c in 0..columns.len() {
        canvas.put(base, x0 + 1 + c, glyphs.line(LEFT | RIGHT), Style::Dim);
    }
    canvas.text(base + 1, x0 + 1, "#1", 4, Style::Dim, &glyphs);
    let last = format!("#{n}");
    let last_at = (x0 + columns.len())
        .saturating_sub(last.len() - 1)
        .max(x0 + 4);
    canvas.text(
        base + 1,
        last_at,
        &last,
        width - last_at.min(width),
        Style::Dim,
        &glyphs,
    );
    lines.extend(canvas.lines());

    let blocks = trace.live_blocks();
    let kept: usize = blocks
        .iter()
        .filter(|b| b.kept.is_some())
        .map(|b| trace.events[b.event].size)
        .sum();
    let caption = match (end, kept) {
        (0, _) => "At the end: 0 B live, every block was freed.".to_string(),
        (end, 0) if trace.stopped => {
            format!("When it was stopped: {end} B still allocated (see the leak report).")
        }
        (end, 0) if trace.source.program => {
            format!("At exit: {end} B still allocated (see the leak report).")
        }
        (end, 0) => format!("At the end: {end} B still live, never freed (see the leak report)."),
        (end, kept) if kept == end => {
            format!("At the end: {end} B still live, kept alive on purpose.")
        }
        (end, kept) => format!(
            "At the end: {end} B still live: {kept} B kept on purpose, {} B leaked.",
            end - kept
        ),
    };
    let scale = if per_column > 1 {
        format!(" Each column is {per_column} events (the most live bytes among them).")
    } else {
        String::new()
    };
    let text = format!(
        "Bytes requested by blocks not yet freed, after each heap event (#1 to #{n}).{scale} {caption}"
    );
    let style = if end > kept { Style::Lost } else { Style::Dim };
    lines.extend(fill(&text, width).lines().map(|line| paint(line, style)));
    lines
}
