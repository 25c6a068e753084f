//! Output taller than the terminal goes through a pager, as git's and
//! bat's does: `$MEMLAB_PAGER`, else `$PAGER`, else `less -R` (an empty
//! variable means no pager). `--paging auto` pages only when standard
//! output is a terminal and the text is taller than it; `always` pages
//! whatever stdout is; `never` never. Step modes never page: they are
//! paged already. The decision is made once ([`set`]).

use std::io::{self, IsTerminal, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use super::cli::Paging;
use crate::render::output::Output;

static PAGING: OnceLock<Paging> = OnceLock::new();

/// How this run of memlab pages.
pub fn set(paging: Paging) {
    let _ = PAGING.set(paging);
}

/// Writes `text` to standard output, through the pager when it is due.
/// No line ends in a space (a table's padding, an empty line of code).
pub fn print(text: &str, ascii: bool) -> io::Result<()> {
    let text = &crate::render::trim_ends(text);
    let stdout = io::stdout();
    let page = match PAGING.get().copied().unwrap_or(Paging::Never) {
        Paging::Never => false,
        Paging::Always => true,
        Paging::Auto => {
            stdout.is_terminal()
                && terminal_size::terminal_size_of(&stdout).is_some_and(
                    |(_, terminal_size::Height(rows))| text.lines().count() >= usize::from(rows),
                )
        }
    };
    if page && let Some(command) = command() {
        return through(&command, text, ascii);
    }
    let mut out = Output::stdout(ascii);
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The pager's words, or `None` for no pager.
fn command() -> Option<Vec<String>> {
    let chosen = ["MEMLAB_PAGER", "PAGER"]
        .iter()
        .find_map(|name| std::env::var(name).ok());
    match chosen {
        None => Some(vec!["less".into(), "-R".into()]),
        Some(words) => {
            let words = shell_words::split(&words).ok()?;
            (!words.is_empty()).then_some(words)
        }
    }
}

/// Runs the pager on `text` and waits for it; if it cannot start, writes
/// `text` directly, after one line on stderr saying so.
fn through(command: &[String], text: &str, ascii: bool) -> io::Result<()> {
    let mut pager = Command::new(&command[0]);
    pager.args(&command[1..]).stdin(Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        // As git does: quit when it fits, keep colours, leave the text on
        // the screen.
        pager.env("LESS", "FRX");
    }
    let mut child = match pager.spawn() {
        Ok(child) => child,
        Err(e) => {
            let name = command[0].escape_debug();
            let _ = writeln!(
                io::stderr(),
                "warning: cannot run the pager '{name}' ({e}): set MEMLAB_PAGER, or use --paging never"
            );
            let mut out = Output::stdout(ascii);
            out.write_all(text.as_bytes())?;
            return out.flush();
        }
    };
    // Ctrl-C is the pager's while it runs: memlab waits for it to end.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGINT,
        Arc::new(AtomicBool::new(false)),
    );
    let written = match child.stdin.take() {
        Some(stdin) => {
            let mut input = Output::new(stdin, ascii);
            input
                .write_all(text.as_bytes())
                .and_then(|()| input.flush())
        }
        None => Ok(()),
    };
    let _ = child.wait();
    match written {
        // The reader quit the pager before the end: that is fine.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
