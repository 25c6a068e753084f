//! `memlab list` and the welcome: the lessons in order, then the scenarios.

use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};

use super::Settings;
use crate::lessons::Listed;
use crate::trace::Source;

fn two_columns(rows: impl IntoIterator<Item = (String, String)>, settings: Settings) -> Table {
    let mut table = Table::new();
    table
        .load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(settings.width)
        .force_no_tty();
    for (a, b) in rows {
        table.add_row(vec![a, b]);
    }
    table
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

/// The lessons with their summaries, then the scenarios with theirs.
pub fn list(lessons: &[Listed], scenarios: &[Source], settings: Settings) -> String {
    let lesson_rows = lessons.iter().map(|l| (cut(&l.id), cut(&l.meta.summary)));
    let scenario_rows = scenarios
        .iter()
        .map(|s| (s.id.to_string(), s.summary.to_string()));
    format!(
        "Lessons, in order (read one with 'memlab lesson <lesson>'):\n{}\n\n\
         Scenarios (run one with 'memlab trace <scenario>'):\n{}\n",
        super::trim_ends(&two_columns(lesson_rows, settings).to_string()),
        super::trim_ends(&two_columns(scenario_rows, settings).to_string())
    )
}

/// What `memlab` alone prints: what it is, the list, and where to start.
pub fn welcome(lessons: &[Listed], scenarios: &[Source], settings: Settings) -> String {
    let intro = super::fill(
        "memlab shows how Rust uses the stack and the heap: it runs small Rust scenarios \
         under a recording allocator and shows every heap event with its real address, \
         size, alignment and the source line that caused it, beside lessons that explain it.",
        usize::from(settings.width).min(super::MEASURE),
    );
    let start = match lessons.first() {
        Some(first) => format!("Start with:  memlab lesson {}\n", first.id),
        None => String::new(),
    };
    format!(
        "{intro}\n\n{}\n{start}Step through: memlab lesson <lesson> --step\n\
         All options: memlab --help\n",
        list(lessons, scenarios, settings)
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
