//! `memlab list` and the welcome: the lessons in order, marked read or not
//! (marks the CLI hands over from the reader's progress), then the scenarios.

use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};

use super::Settings;
use crate::lessons::Listed;
use crate::trace::Source;

fn columns(rows: impl IntoIterator<Item = Vec<String>>, settings: Settings) -> Table {
    let mut table = Table::new();
    table
        .load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(settings.width)
        .force_no_tty();
    for row in rows {
        table.add_row(row);
    }
    table
}

/// Where the reader stands in the course, as the CLI worked it out from
/// their progress (views never read it themselves).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing<'a> {
    /// No lesson opened yet.
    New,
    /// A lesson left mid-way in step mode, at `page` of `pages`.
    LeftOff {
        id: &'a str,
        page: usize,
        pages: usize,
    },
    /// The first lesson in course order not read to its end.
    Next { id: &'a str },
    /// Every lesson read.
    AllDone,
}

/// A lesson's mark in `memlab list`: read to its end, or not yet.
fn mark(done: bool, settings: Settings) -> &'static str {
    match (done, settings.ascii) {
        (true, false) => "✓",
        (false, false) => "·",
        (true, true) => "[x]",
        (false, true) => "[ ]",
    }
}

/// The most of a lesson's summary `list` shows: a summary is one line, and
/// a table lays out a cell's text in time that grows faster than its length.
const MOST_SUMMARY_CHARS: usize = 300;

/// At most [`MOST_SUMMARY_CHARS`] of `text`, ending in `…` when cut.
fn cut(text: &str) -> String {
    match text.char_indices().nth(MOST_SUMMARY_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The lessons, numbered in course order, each marked read (`done[i]`) or
/// not, with their summaries; then the scenarios with theirs.
pub fn list(lessons: &[Listed], done: &[bool], scenarios: &[Source], settings: Settings) -> String {
    let lesson_rows = lessons.iter().enumerate().map(|(i, l)| {
        let done = done.get(i).copied().unwrap_or(false);
        vec![
            format!("{:>2} {}", i + 1, mark(done, settings)),
            cut(&l.id),
            cut(&l.meta.summary),
        ]
    });
    let scenario_rows = scenarios
        .iter()
        .map(|s| vec![s.id.to_string(), s.summary.to_string()]);
    let key = super::fill(
        &format!(
            "{} read to its end, {} not yet: 'memlab next' opens the next one.",
            mark(true, settings),
            mark(false, settings)
        ),
        usize::from(settings.width).min(super::MEASURE),
    );
    format!(
        "Lessons, in order (read one with 'memlab lesson <lesson>'):\n{}\n{key}\n\n\
         Scenarios (run one with 'memlab trace <scenario>'):\n{}\n",
        super::trim_ends(&columns(lesson_rows, settings).to_string()),
        super::trim_ends(&columns(scenario_rows, settings).to_string())
    )
}

/// Where to go on from, for the welcome.
fn where_to_go(lessons: &[Listed], standing: Standing) -> String {
    match standing {
        Standing::New => match lessons.first() {
            Some(first) => format!("Start with:  memlab lesson {}\n", first.id),
            None => String::new(),
        },
        Standing::LeftOff { id, page, pages } => format!(
            "You left off at {id} (page {page} of {pages}): run 'memlab next' to go on there.\n"
        ),
        Standing::Next { id } => {
            format!("Next lesson: {id}. Run 'memlab next' (or 'memlab lesson {id}').\n")
        }
        Standing::AllDone => all_read(),
    }
}

/// What `memlab next` says when every lesson is read.
pub fn all_read() -> String {
    "You have read every lesson. Read any again with 'memlab lesson <lesson>'.\n".to_string()
}

/// What `memlab` alone prints: what it is, the list, and where to start.
pub fn welcome(
    lessons: &[Listed],
    done: &[bool],
    standing: Standing,
    scenarios: &[Source],
    settings: Settings,
) -> String {
    let intro = super::fill(
        "memlab shows how Rust uses the stack and the heap: it runs small Rust scenarios \
         under a recording allocator and shows every heap event with its real address, \
         size, alignment and the source line that caused it, beside lessons that explain it.",
        usize::from(settings.width).min(super::MEASURE),
    );
    let start = where_to_go(lessons, standing);
    format!(
        "{intro}\n\n{}\n{start}Step through: memlab lesson <lesson> --step\n\
         All options: memlab --help\n",
        list(lessons, done, scenarios, settings)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_summary_is_cut() {
        assert_eq!(super::cut("short"), "short");
        let long = "é".repeat(600_000);
        let shown = super::cut(&long);
        assert_eq!(shown.chars().count(), super::MOST_SUMMARY_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
