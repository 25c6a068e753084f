//! What the reader types in the step modes, as keys and answers.
//!
//! When standard input is a terminal, each key acts at once (raw mode, with
//! crossterm reading the keys): no Enter is needed. Otherwise input is read
//! a line at a time, so a script or a test drives step mode through a pipe;
//! a line longer than [`MAX_LINE`] bytes, unreadable input or its end ends
//! the waiting. Both give the same [`Key`]s.
//!
//! Raw mode lasts from the prompt's start to [`Prompt::release`] (or the
//! prompt's end), so keys pressed while a page is drawn are neither echoed
//! nor lost; what step mode draws on the terminal meanwhile ends its lines
//! with `\r\n`. A guard restores the terminal however the prompt ends; a
//! panic restores it first thing ([`restore_terminal`], called by the
//! CLI's panic hook), and SIGINT, SIGTERM and SIGHUP from outside restore
//! it before memlab exits (in raw mode Ctrl-C arrives as a key, which
//! quits).

use std::io::{self, BufRead, IsTerminal, StdinLock, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The longest line memlab reads from a pipe, in bytes: a line is a key or
/// an answer, and anything longer (such as /dev/zero, which has no newline)
/// is not input a person typed.
pub const MAX_LINE: usize = 4096;

/// What a key (or a line of piped input) asks step mode to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// →, Space, n, PageDown, Enter.
    Next,
    /// ←, b, PageUp.
    Back,
    /// Home.
    First,
    /// End.
    Last,
    /// A number and Enter, or `g` after a number: that step. `g` alone
    /// (`None`): the caller asks which.
    Go(Option<usize>),
    /// q, Ctrl-C (in raw mode), Ctrl-D.
    Quit,
    /// Anything else, as typed.
    Other(String),
}

/// What the reader gave to a "Your answer:" prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A line: the answer.
    Answer(String),
    /// A key that moves instead (q quits; on a terminal, ← or PageUp with
    /// nothing typed goes back).
    Key(Key),
}

pub struct Prompt {
    lines: StdinLock<'static>,
    /// Standard input is a terminal: single keys in raw mode.
    keys: bool,
    ended: bool,
    /// The last line read from a pipe, trimmed.
    typed: String,
    /// Raw mode, on from the first wait for a key.
    raw: Option<RawMode>,
}

impl Prompt {
    pub fn stdin() -> Prompt {
        let stdin = io::stdin();
        let keys = stdin.is_terminal();
        if keys {
            restore_on_signals();
        }
        Prompt {
            keys,
            lines: stdin.lock(),
            ended: false,
            typed: String::new(),
            // From the start, so that keys pressed before the first wait
            // are not echoed.
            raw: if keys { RawMode::on() } else { None },
        }
    }

    /// The next key, or `None` at the end of input (and from then on).
    pub fn key(&mut self) -> Option<Key> {
        if self.ended {
            return None;
        }
        let key = if self.keys {
            self.raw()?;
            read_key(&mut io::stdout())
        } else {
            self.line().map(|line| parse_line(&line))
        };
        if key.is_none() {
            self.ended = true;
        }
        key
    }

    /// An answer to a prediction (a line, edited in raw mode on a
    /// terminal), or `None` at the end of input.
    pub fn answer(&mut self) -> Option<Reply> {
        if self.ended {
            return None;
        }
        let reply = if self.keys {
            self.raw()?;
            read_answer(&mut io::stdout())
        } else {
            self.line().map(|line| match parse_line(&line) {
                Key::Quit => Reply::Key(Key::Quit),
                // What was typed is echoed and quoted back: shown visibly.
                _ => Reply::Answer(crate::text::clean_line(&line).into_owned()),
            })
        };
        if reply.is_none() {
            self.ended = true;
        }
        reply
    }

    /// Raw mode on, if it is not yet; `None` if the terminal refuses.
    fn raw(&mut self) -> Option<()> {
        if self.raw.is_none() {
            self.raw = RawMode::on();
        }
        self.raw.as_ref().map(|_| ())
    }

    /// The terminal as it was (raw mode off), before memlab's last words.
    pub fn release(&mut self) {
        self.raw = None;
    }

    /// A number typed after `g`, or `None` (nothing readable, or the end
    /// of input).
    pub fn number(&mut self) -> Option<usize> {
        match self.answer()? {
            Reply::Answer(text) => text.trim().parse().ok(),
            Reply::Key(_) => None,
        }
    }

    /// The next whole line of piped input, without its line ending; `None`
    /// at the end of input, on an error, on bytes that are not UTF-8, or
    /// on a line longer than [`MAX_LINE`].
    fn line(&mut self) -> Option<String> {
        if self.ended {
            return None;
        }
        let line = read_line(&mut self.lines, MAX_LINE)
            .ok()
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        match &line {
            Some(text) => self.typed = crate::text::clean_line(text.trim()).into_owned(),
            None => self.ended = true,
        }
        line
    }

    /// The last line read from a pipe, trimmed (for a transcript: a
    /// terminal does not echo it).
    pub fn typed(&self) -> &str {
        &self.typed
    }

    /// Whether input has ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Whether what is read is not echoed by a terminal.
    pub fn piped(&self) -> bool {
        !self.keys
    }
}

/// One line of `reader` without its `\n` (or `\r\n`), reading at most
/// `max` bytes of it and a buffer more: `Ok(None)` at the end of input,
/// an error for a longer line.
pub fn read_line(reader: &mut impl BufRead, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut line = vec![];
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buffer.is_empty() {
            return Ok((!line.is_empty()).then_some(line));
        }
        let (taken, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (at, true),
            None => (buffer.len(), false),
        };
        line.extend_from_slice(&buffer[..taken]);
        reader.consume(taken + usize::from(done));
        if line.len() > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a line of input longer than {max} bytes"),
            ));
        }
        if done {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}

/// A line of piped input as a key: the words and letters of the keys
/// (`n`, `next`, an empty line, `b`, `back`, `home`, `end`, `q`, `quit`, a
/// number, `g` and `g N`), and the escape sequences a terminal sends for
/// the arrows, PageUp, PageDown, Home and End.
pub fn parse_line(line: &str) -> Key {
    let word = line.trim().to_ascii_lowercase();
    match word.as_str() {
        "" | "n" | "next" | "\x1b[c" | "\x1b[6~" => Key::Next,
        "b" | "back" | "\x1b[d" | "\x1b[5~" => Key::Back,
        "home" | "first" | "\x1b[h" | "\x1b[1~" | "\x1boh" => Key::First,
        "end" | "last" | "\x1b[f" | "\x1b[4~" | "\x1bof" => Key::Last,
        "q" | "quit" | "\x03" | "\x04" => Key::Quit,
        "g" => Key::Go(None),
        _ => {
            let number = word.strip_prefix('g').unwrap_or(&word).trim();
            match number.parse() {
                Ok(n) => Key::Go(Some(n)),
                Err(_) => Key::Other(line.trim().to_string()),
            }
        }
    }
}

/// Whether raw mode is on (so a panic or a signal knows to restore it).
static RAW: AtomicBool = AtomicBool::new(false);

/// Raw mode while it lives.
struct RawMode;

impl RawMode {
    fn on() -> Option<RawMode> {
        crossterm::terminal::enable_raw_mode().ok()?;
        RAW.store(true, Ordering::SeqCst);
        Some(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Puts the terminal back as it was before raw mode, if raw mode is on.
/// Safe to call at any time, from any thread, more than once.
pub fn restore_terminal() {
    if RAW.swap(false, Ordering::SeqCst) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// On SIGINT, SIGTERM or SIGHUP (sent from outside: in raw mode Ctrl-C is
/// a key), restores the terminal and exits as the signal would have
/// (128 + its number), from a thread of its own.
fn restore_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                restore_terminal();
                std::process::exit(128 + signal);
            }
        });
    });
}

/// The next key pressed, in raw mode; digits are echoed to `echo` until
/// Enter or `g` makes them a jump. `None` when the terminal cannot be read.
fn read_key(echo: &mut impl Write) -> Option<Key> {
    let mut digits = String::new();
    loop {
        let Event::Key(key) = event::read().ok()? else {
            continue;
        };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        let number = || digits.parse().ok();
        let chosen = match key.code {
            KeyCode::Char(c) if c.is_ascii_digit() && digits.len() < 9 => {
                digits.push(c);
                let _ = write!(echo, "{c}");
                let _ = echo.flush();
                continue;
            }
            KeyCode::Backspace if !digits.is_empty() => {
                digits.pop();
                let _ = write!(echo, "\x08 \x08");
                let _ = echo.flush();
                continue;
            }
            KeyCode::Enter | KeyCode::Char('g') if !digits.is_empty() => Key::Go(number()),
            _ => match control(&key) {
                Some(key) => key,
                None => Key::Other(describe(&key)),
            },
        };
        return Some(chosen);
    }
}

/// The key a key press stands for, apart from digits.
fn control(key: &KeyEvent) -> Option<Key> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c' | 'd') if ctrl => Key::Quit,
        KeyCode::Right | KeyCode::PageDown | KeyCode::Enter | KeyCode::Char(' ' | 'n') => Key::Next,
        KeyCode::Left | KeyCode::PageUp | KeyCode::Char('b') => Key::Back,
        KeyCode::Home => Key::First,
        KeyCode::End => Key::Last,
        KeyCode::Char('g') => Key::Go(None),
        KeyCode::Char('q') | KeyCode::Esc => Key::Quit,
        _ => return None,
    })
}

fn describe(key: &KeyEvent) -> String {
    match key.code {
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    }
}

/// A line typed in raw mode, echoed to `echo`: Backspace edits, Enter
/// ends it, Ctrl-C quits; with nothing typed, ← and PageUp go back and →
/// and PageDown give an empty answer. `None` when the terminal cannot be
/// read.
fn read_answer(echo: &mut impl Write) -> Option<Reply> {
    let mut typed = String::new();
    let reply = loop {
        let Event::Key(key) = event::read().ok()? else {
            continue;
        };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c' | 'd') if ctrl => break Reply::Key(Key::Quit),
            KeyCode::Enter if typed.trim().eq_ignore_ascii_case("q") => {
                break Reply::Key(Key::Quit);
            }
            KeyCode::Enter => break Reply::Answer(crate::text::clean_line(&typed).into_owned()),
            KeyCode::Left | KeyCode::PageUp if typed.is_empty() => break Reply::Key(Key::Back),
            KeyCode::Right | KeyCode::PageDown if typed.is_empty() => {
                break Reply::Answer(crate::text::clean_line(&typed).into_owned());
            }
            KeyCode::Backspace if typed.pop().is_some() => {
                let _ = write!(echo, "\x08 \x08");
            }
            KeyCode::Char(c) if !ctrl && typed.len() < 80 => {
                typed.push(c);
                let _ = write!(echo, "{c}");
            }
            _ => {}
        }
        let _ = echo.flush();
    };
    let _ = echo.flush();
    Some(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_to_a_bound() {
        let mut input: &[u8] = b"8\r\nq\nlast";
        assert_eq!(read_line(&mut input, 10).unwrap(), Some(b"8".to_vec()));
        assert_eq!(read_line(&mut input, 10).unwrap(), Some(b"q".to_vec()));
        assert_eq!(read_line(&mut input, 10).unwrap(), Some(b"last".to_vec()));
        assert_eq!(read_line(&mut input, 10).unwrap(), None);
        let long = [b'x'; 100];
        assert!(read_line(&mut &long[..], 10).is_err());
        // A line of exactly the bound is read.
        let mut exact: &[u8] = b"0123456789\n";
        assert_eq!(read_line(&mut exact, 10).unwrap().unwrap().len(), 10);
    }

    #[test]
    fn piped_lines_give_the_keys_of_a_terminal() {
        for (line, key) in [
            ("", Key::Next),
            (" ", Key::Next),
            ("n", Key::Next),
            ("\x1b[C", Key::Next),
            ("\x1b[6~", Key::Next),
            ("b", Key::Back),
            ("\x1b[D", Key::Back),
            ("\x1b[5~", Key::Back),
            ("home", Key::First),
            ("\x1b[H", Key::First),
            ("End", Key::Last),
            ("q", Key::Quit),
            ("12", Key::Go(Some(12))),
            ("g 3", Key::Go(Some(3))),
            ("g", Key::Go(None)),
            ("x", Key::Other("x".into())),
        ] {
            assert_eq!(parse_line(line), key, "{line:?}");
        }
    }
}
