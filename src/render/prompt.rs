//! What step modes print while they wait for the reader.

use super::style::{Style, paint};

/// Where a step mode stands ("3/27", with "more" when the page goes on on
/// the next one) and its keys, in at most `width` columns.
fn keys(what: &str, at: usize, of: usize, more: bool, width: usize) -> String {
    let more = if more { " more" } else { "" };
    let at = format!("{what}{at}/{of}{more}");
    let text = [
        format!("── {at} · →/Space: next · ←: back · q: quit · ?: keys ──"),
        format!("── {at} · →: next · ←: back · q: quit · ?: keys ──"),
        format!("── {at} · → ← q ? ──"),
    ]
    .into_iter()
    .find(|t| t.chars().count() < width)
    .unwrap_or(at);
    paint(&text, Style::Dim)
}

/// At a pause of a lesson: page `at` of `of`.
pub fn pause(at: usize, of: usize, more: bool, width: usize) -> String {
    keys("", at, of, more, width)
}

/// Before the reader's answer to a prediction.
pub fn answer() -> String {
    paint("Your answer:", Style::Highlight)
}

/// Between the events of `trace --step`: event `at` of `of`.
pub fn step_keys(at: usize, of: usize, more: bool, width: usize) -> String {
    keys("event ", at, of, more, width)
}

/// After a key step mode does not know, or `?`: every key, wrapped to
/// `width`.
pub fn step_help(width: usize) -> String {
    let help = "→ Space n PgDn: next · ← b PgUp: back · Home End · N Enter, g: go to · q";
    paint(&super::fill(help, width.saturating_sub(1)), Style::Dim)
}

/// After `g`: which page or event, from 1 to `of`.
pub fn go_to(of: usize) -> String {
    paint(&format!("Go to (1–{of}), then Enter:"), Style::Highlight)
}

/// After an answer memlab cannot read: what to type instead. The answer is
/// not given away.
pub fn unreadable(expected: &str, width: usize) -> String {
    let text = format!("Not an answer memlab can read: type {expected}.");
    paint(&super::fill(&text, width.saturating_sub(1)), Style::Dim)
}

/// After a first wrong answer: one more try before the run's answer.
pub fn try_again(width: usize) -> String {
    let text = "Not what this run says. One more try?";
    paint(&super::fill(text, width.saturating_sub(1)), Style::Wrong)
}

pub fn at_first_event() -> String {
    paint("Already at the first event.", Style::Dim)
}

pub fn at_first_page() -> String {
    paint("Already at the first page.", Style::Dim)
}

pub fn end_of_trace() -> String {
    paint("End of the trace.", Style::Dim)
}

pub fn end_of_lesson() -> String {
    paint("End of the lesson.", Style::Dim)
}

/// When the reader quits.
pub fn stopped() -> String {
    paint("Stopped. Run the same command to start again.", Style::Dim)
}

/// When the reader quits a lesson at `page`: it is remembered.
pub fn stopped_lesson(page: usize) -> String {
    paint(
        &format!("Stopped. 'memlab lesson --continue' goes on at page {page}."),
        Style::Dim,
    )
}

/// Clears a terminal and puts the cursor home, between runs of `--watch`.
pub fn clear_screen() -> &'static str {
    "\x1b[2J\x1b[H"
}

/// Under a run of `--watch`, while it waits for the next save.
pub fn watching(file: &str) -> String {
    let file = crate::text::clean_line(file);
    paint(
        &format!("── watching {file}: save it to run it again · Ctrl-C ends ──"),
        Style::Dim,
    )
}
