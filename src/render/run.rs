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
            let line = visible(line);
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
    let colour = super::style::colour();
    let mut out = String::new();
    let mut rest = messages;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&visible_lines(&rest[..i]));
        let sequence = &rest[i..];
        // ESC [ digits and semicolons m: a colour, nothing else.
        let sgr = sequence.strip_prefix("\x1b[").and_then(|s| {
            let end = s.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
            (s[end..].starts_with('m')).then_some(2 + end + 1)
        });
        match sgr {
            Some(len) => {
                if colour {
                    out.push_str(&sequence[..len]);
                }
                rest = &sequence[len..];
            }
            None => {
                out.push_str("\\u{1b}");
                rest = &sequence[1..];
            }
        }
    }
    out.push_str(&visible_lines(rest));
    out
}

/// [`visible`], line by line, keeping the newlines.
fn visible_lines(text: &str) -> String {
    text.split('\n').map(visible).collect::<Vec<_>>().join("\n")
}

/// `text` with every control character but a tab shown as an escape (`\u{1b}`),
/// so a program's output cannot drive the terminal.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => c.to_string(),
            c if c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                c.escape_unicode().to_string()
            }
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_programs_output_cannot_drive_the_terminal() {
        assert_eq!(
            visible("a\x1b]0;title\x07b\u{202e}"),
            "a\\u{1b}]0;title\\u{7}b\\u{202e}"
        );
        assert_eq!(visible("tab\there"), "tab\there");
        // Colour is off in tests: rustc's colours go, its text stays, and any
        // other escape is shown.
        assert_eq!(
            compiler("\x1b[1;31merror\x1b[0m: x\n\x1b]52;c;cm0=\x07\n"),
            "error: x\n\\u{1b}]52;c;cm0=\\u{7}\n"
        );
    }
}
