//! What step modes print while they wait for the reader.

use super::style::{Style, paint};

/// Between the sections of a lesson.
pub fn pause() -> String {
    paint("── Enter: next · q: quit ──", Style::Dim)
}

/// Before the reader's answer to a prediction.
pub fn answer() -> String {
    paint("Your answer:", Style::Highlight)
}

/// Between the events of `trace --step`.
pub fn step_keys() -> String {
    paint("── Enter/n: next · b: back · q: quit ──", Style::Dim)
}

/// After a key step mode does not know.
pub fn step_help() -> String {
    paint("Type n (or just Enter), b or q.", Style::Dim)
}

pub fn at_first_event() -> String {
    paint("Already at the first event.", Style::Dim)
}

pub fn end_of_trace() -> String {
    paint("End of the trace.", Style::Dim)
}

/// When the reader quits.
pub fn stopped() -> String {
    paint("Stopped. Run the same command to start again.", Style::Dim)
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
