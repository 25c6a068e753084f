//! What the reader types in the step modes: one line at a time from
//! standard input. The end of input (or an unreadable input) ends the
//! waiting; a script or a test drives step mode through a pipe.

use std::io::{self, BufRead, IsTerminal, Lines, StdinLock};

pub struct Prompt {
    lines: Lines<StdinLock<'static>>,
    /// Input is not a terminal, so nothing echoes what was read.
    piped: bool,
    ended: bool,
}

impl Prompt {
    pub fn stdin() -> Prompt {
        let stdin = io::stdin();
        Prompt {
            piped: !stdin.is_terminal(),
            lines: stdin.lock().lines(),
            ended: false,
        }
    }

    /// The next line, or `None` at the end of input (and from then on).
    pub fn line(&mut self) -> Option<String> {
        if self.ended {
            return None;
        }
        match self.lines.next() {
            Some(Ok(line)) => Some(line),
            _ => {
                self.ended = true;
                None
            }
        }
    }

    /// Whether input has ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Whether what is read is not echoed by a terminal.
    pub fn piped(&self) -> bool {
        self.piped
    }
}
