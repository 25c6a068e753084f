//! What `memlab run` prints besides the trace: the program's own output,
//! apart from memlab's, and what the trace leaves out.

use super::Settings;
use super::style::{Style, paint};

/// One of the program's streams, as captured.
pub struct Stream<'a> {
    /// `stdout` or `stderr`.
    pub name: &'a str,
    pub text: &'a str,
    /// Bytes printed beyond what memlab kept.
    pub cut: usize,
}

/// The program's output under a heading of its own, each stream indented
/// under its name; nothing when it printed nothing.
pub fn program_output(streams: &[Stream], settings: Settings) -> String {
    let mut out = String::new();
    for stream in streams.iter().filter(|s| !s.text.is_empty() || s.cut > 0) {
        let lines = stream.text.lines().count();
        let heading = format!(
            "The program's {} ({lines} line{}{})",
            stream.name,
            if lines == 1 { "" } else { "s" },
            match stream.cut {
                0 => String::new(),
                cut => format!("; {cut} more bytes not kept"),
            }
        );
        out.push_str(&super::table::heading(&heading));
        out.push('\n');
        for line in stream.text.lines() {
            let line = crate::text::clean(line);
            let line: String = line.chars().take(usize::from(settings.width) * 4).collect();
            out.push_str(&format!("{} {line}\n", paint("│", Style::Dim)));
        }
        out.push('\n');
    }
    out
}

/// Notes about what the trace does not hold, one per line.
pub fn notes(notes: &[String], partial: bool, settings: Settings) -> String {
    let mut out = String::new();
    if partial {
        out.push_str(&paint(
            &super::fill(
                "note: a partial trace: the program did not finish (the error below says why)",
                usize::from(settings.width),
            ),
            Style::Note,
        ));
        out.push('\n');
    }
    for note in notes {
        let note = super::fill(&format!("note: {note}"), usize::from(settings.width));
        out.push_str(&paint(&note, Style::Note));
        out.push('\n');
    }
    out
}

/// The compiler's messages as rustc rendered them: its colours (SGR
/// sequences) kept when colour is on, every other control made visible, so
/// the user's code quoted in them cannot drive the terminal.
pub fn compiler(messages: &str) -> String {
    crate::text::clean_keeping_colours(messages, super::style::colour())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_programs_output_cannot_drive_the_terminal() {
        let settings = Settings {
            width: 80,
            addresses: super::super::AddressMode::Symbolic,
            ascii: false,
        };
        let streams = [Stream {
            name: "stdout",
            text: "a\x1b]0;title\x07b\u{202e}\ttab\n",
            cut: 0,
        }];
        let out = program_output(&streams, settings);
        assert!(out.contains("a\\x1b]0;title\\x07b\\u{202e}\ttab"), "{out}");
        // Colour is off in tests: rustc's colours go, its text stays, and any
        // other escape is shown.
        assert_eq!(
            compiler("\x1b[1;31merror\x1b[0m: x\n\x1b]52;c;cm0=\x07\n"),
            "error: x\n\\x1b]52;c;cm0=\\x07\n"
        );
    }
}
