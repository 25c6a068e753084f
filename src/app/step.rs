//! The screen of the step modes: how tall it is, whether each step is
//! drawn on a cleared screen, and how a page and its prompt are written.

use std::io::{self, IsTerminal, Write};

use crate::render;

pub(super) struct Screen {
    /// Standard output is a terminal: each page is drawn on a cleared
    /// screen, its prompt on the last row. Otherwise pages follow each
    /// other, as a transcript.
    pub redraw: bool,
    /// Rows, when known: the terminal's, or `LINES` when standard output
    /// is not a terminal.
    pub height: Option<usize>,
}

impl Screen {
    pub fn stdout() -> Screen {
        let stdout = io::stdout();
        let redraw = stdout.is_terminal();
        let height = if redraw {
            Some(
                terminal_size::terminal_size_of(&stdout)
                    .map_or(24, |(_, terminal_size::Height(h))| usize::from(h)),
            )
        } else {
            super::env_size("LINES")
        };
        Screen {
            redraw,
            height: height.map(|h| h.max(4)),
        }
    }

    /// Lines of a page: all rows but the prompt's.
    pub fn room(&self) -> Option<usize> {
        self.height.map(|h| h - 1)
    }

    /// Writes a page and the prompt that waits under it. `space`: a space
    /// after the prompt, where what the reader types appears.
    pub fn show(
        &self,
        out: &mut impl Write,
        lines: &[String],
        prompt: &str,
        space: bool,
    ) -> io::Result<()> {
        if self.redraw {
            let height = self.height.unwrap_or(24);
            out.write_all(render::screen::draw(lines, height, prompt).as_bytes())?;
        } else {
            for line in lines {
                writeln!(out, "{}", line.trim_end())?;
            }
            write!(out, "\n{prompt}{}", if space { " " } else { "" })?;
        }
        out.flush()
    }

    /// Writes a message under the prompt; on a redrawn screen, in place
    /// of it (cut to `width`), so nothing scrolls.
    pub fn say(
        &self,
        out: &mut impl Write,
        message: &str,
        prompt: &str,
        space: bool,
        width: usize,
    ) -> io::Result<()> {
        if self.redraw {
            let first = message.lines().next().unwrap_or_default();
            write!(out, "\r\x1b[2K{}", cut(first, width.saturating_sub(1)))?;
        } else {
            let space = if space { " " } else { "" };
            write!(out, "{message}\n{prompt}{space}")?;
        }
        out.flush()
    }
}

impl Screen {
    /// Asks a question under the prompt (in place of it on a redrawn
    /// screen); what the reader types goes after it.
    pub fn ask(
        &self,
        out: &mut impl Write,
        question: &str,
        space: bool,
        width: usize,
    ) -> io::Result<()> {
        if self.redraw {
            write!(out, "\r\x1b[2K{} ", cut(question, width.saturating_sub(8)))?;
        } else {
            write!(out, "\n{question}{}", if space { " " } else { "" })?;
        }
        out.flush()
    }
}

/// `text` in at most `width` columns, its colour codes kept (and reset
/// when cut).
fn cut(text: &str, width: usize) -> String {
    let mut out = String::new();
    let (mut shown, mut escape, mut painted) = (0, false, false);
    for c in text.chars() {
        if escape {
            out.push(c);
            escape = c != 'm';
            continue;
        }
        if c == '\x1b' {
            out.push(c);
            (escape, painted) = (true, true);
            continue;
        }
        if shown == width {
            if painted {
                out.push_str("\x1b[0m");
            }
            return out;
        }
        out.push(c);
        shown += 1;
    }
    out
}
