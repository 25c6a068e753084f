//! The `memlab` binary: parse arguments, resolve settings once, dispatch,
//! and map errors to exit codes (2: bad usage, 1: failure, 0 on a closed pipe).

mod cli;

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use colored::Colorize;
use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};

use cli::{Addresses, Cli, ColorChoice, Command, Format, LayoutChoice, View};
use memlab::capture::Options;
use memlab::lessons::{self, Lesson, LoadError, Value, Verdict};
use memlab::render::lesson::{Layout, Piece, Prediction, Runs};
use memlab::render::{self, AddressMode, Settings};
use memlab::scenarios::{self, SCENARIOS};
use memlab::trace::Trace;

/// Why memlab stopped early.
enum Error {
    /// The user asked for something that does not exist: exit 2.
    Usage(String),
    /// A lesson could not be loaded or run: exit 1.
    Failure(String),
    /// Writing the output failed: exit 1, or 0 when the reader went away.
    Io(io::Error),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    quiet_scenario_panics();
    let settings = settings(&cli);
    match run(&cli, settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Error::Io(e)) => {
            let _ = writeln!(io::stderr(), "error: could not write the output: {e}");
            ExitCode::FAILURE
        }
        Err(Error::Usage(message)) => {
            let _ = writeln!(io::stderr(), "error: {message}");
            ExitCode::from(2)
        }
        Err(Error::Failure(message)) => {
            let _ = writeln!(io::stderr(), "error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Help and version go to stdout; errors are one line on stderr (clap's first
/// line, and its suggestion if it has one), exit 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return match e.print() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                let _ = writeln!(io::stderr(), "error: could not write the output: {err}");
                ExitCode::FAILURE
            }
        };
    }
    // clap's message is its first paragraph ("…were not provided:" is
    // followed by the names, one per line); usage and tips come after.
    let rendered = e.render().to_string();
    let paragraph: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let first = paragraph.join(" ");
    let mut message = first.strip_prefix("error: ").unwrap_or(&first).to_string();
    if e.kind() == ErrorKind::InvalidUtf8 {
        message = "an argument is not valid UTF-8: memlab's names and values are text".into();
    }
    if let Some(ContextValue::String(s)) = e.get(ContextKind::SuggestedArg) {
        message.push_str(&format!(" (did you mean '{s}'?)"));
    }
    let code = u8::try_from(e.exit_code()).unwrap_or(2);
    let _ = writeln!(io::stderr(), "error: {message}. See 'memlab --help'.");
    ExitCode::from(code)
}

/// A scenario's panic is caught by the recorder and reported by `run` in one
/// line, so the default hook's message and backtrace note stay out of it.
/// Any other panic (a bug in memlab) is printed as usual.
fn quiet_scenario_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !memlab::capture::recorder::is_recording() {
            default(info);
        }
    }));
}

/// Decides colour and width once; nothing else asks about the terminal.
fn settings(cli: &Cli) -> Settings {
    let stdout = io::stdout();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout.is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    };
    colored::control::set_override(color);
    let width = cli.width.unwrap_or_else(|| {
        terminal_size::terminal_size_of(&stdout)
            .map_or(100, |(terminal_size::Width(w), _)| w.clamp(40, 400))
    });
    let addresses = match cli.addresses {
        Addresses::Real => AddressMode::Real,
        Addresses::Symbolic => AddressMode::Symbolic,
        Addresses::Both => AddressMode::Both,
    };
    Settings {
        width,
        color,
        addresses,
        ascii: cli.ascii || !utf8_locale(),
    }
}

/// Whether the locale says the terminal takes UTF-8: the first of LC_ALL,
/// LC_CTYPE and LANG that is set decides, as in POSIX.
fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .is_some_and(|locale| {
            let locale = locale.to_ascii_lowercase();
            locale.contains("utf-8") || locale.contains("utf8")
        })
}

fn run(cli: &Cli, settings: Settings) -> Result<(), Error> {
    match &cli.command {
        None => print(&welcome(&load_lessons(cli)?, settings), settings),
        Some(Command::List) => print(&list(&load_lessons(cli)?, settings), settings),
        Some(Command::Trace {
            scenario,
            format,
            view,
            step,
            n,
            capacity,
            all,
        }) => {
            let Some(scenario) = scenarios::find(scenario) else {
                return Err(Error::Usage(unknown_scenario(scenario)));
            };
            if n.is_some() && scenario.default_n.is_none() {
                let sized: Vec<&str> = SCENARIOS
                    .iter()
                    .filter(|s| s.default_n.is_some())
                    .map(|s| s.id)
                    .collect();
                return Err(Error::Usage(format!(
                    "'{}' takes no --n; the sized scenarios are: {}",
                    scenario.id,
                    sized.join(", ")
                )));
            }
            let options = Options {
                capacity: usize::try_from(*capacity).unwrap_or(usize::MAX),
                ..Options::default()
            };
            let n = n.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
            let trace = scenario.trace(options, n);
            if *step {
                step_through(&trace, settings)?;
            } else {
                show_trace(&trace, *format, *view, *all, settings)?;
            }
            match &trace.panic {
                Some(message) => Err(Error::Failure(format!(
                    "the scenario '{}' panicked: {}",
                    scenario.id,
                    message.escape_debug()
                ))),
                None => Ok(()),
            }
        }
        Some(Command::Lesson {
            lesson,
            step,
            layout,
        }) => {
            let lessons = load_lessons(cli)?;
            let Some(lesson) = lessons.iter().find(|l| l.id == *lesson) else {
                return Err(Error::Usage(unknown_lesson(lesson, &lessons)));
            };
            let layout = match layout {
                Some(LayoutChoice::Side) => Layout::Side,
                Some(LayoutChoice::Stacked) => Layout::Stacked,
                None => Layout::for_width(settings.width),
            };
            let pieces = render::lesson::lesson(lesson, &mut Runs::default(), settings, layout)
                .map_err(|e| Error::Failure(e.to_string()))?;
            present(&pieces, *step, settings)
        }
    }
}

/// `memlab trace` without `--step`: the views asked for, or JSON.
fn show_trace(
    trace: &Trace,
    format: Format,
    view: View,
    all: bool,
    settings: Settings,
) -> Result<(), Error> {
    match (format, view) {
        (Format::Json, _) => {
            let json = render::json::trace(trace);
            // Data, not a picture: UTF-8 whatever the locale.
            let raw = Settings {
                ascii: false,
                ..settings
            };
            print(&format!("{json:#}\n"), raw)
        }
        (Format::Table, View::Table) => {
            print(&render::table::trace(trace, settings, all), settings)
        }
        (Format::Table, View::Diagram) => print(&render::diagram::view(trace, settings), settings),
        (Format::Table, View::Chart) => print(&render::chart::view(trace, settings), settings),
        (Format::Table, View::All) => print(
            &format!(
                "{}\n{}\n{}",
                render::table::trace(trace, settings, all),
                render::diagram::view(trace, settings),
                render::chart::view(trace, settings)
            ),
            settings,
        ),
    }
}

fn load_lessons(cli: &Cli) -> Result<Vec<Lesson>, Error> {
    match &cli.lessons_dir {
        None => lessons::embedded().map_err(|e| Error::Failure(e.to_string())),
        Some(dir) => lessons::from_dir(dir).map_err(|e| match e {
            LoadError::Folder(message) => Error::Usage(message),
            LoadError::Lesson(e) => Error::Failure(e.to_string()),
        }),
    }
}

/// Prints a laid-out lesson; in step mode waits at each pause (Enter goes on,
/// `q` quits) and asks each prediction. At the end of input it goes on
/// without waiting.
fn present(pieces: &[Piece], step: bool, settings: Settings) -> Result<(), Error> {
    let mut out = Output::stdout(settings);
    let mut input = io::stdin().lock().lines();
    let mut waiting = step;
    // The next line of input, or None at its end (which stops all waiting).
    let mut read = |waiting: &mut bool| -> Option<String> {
        match input.next() {
            Some(Ok(line)) => Some(line),
            _ => {
                *waiting = false;
                None
            }
        }
    };
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Text(text) => out.write_all(text.as_bytes())?,
            Piece::Pause if waiting && i + 1 < pieces.len() => {
                write!(out, "\n{} ", "── Enter: next · q: quit ──".dimmed())?;
                out.flush()?;
                match read(&mut waiting) {
                    Some(line) if line.trim().eq_ignore_ascii_case("q") => return quit(&mut out),
                    Some(_) => {}
                    None => writeln!(out)?,
                }
            }
            Piece::Predict(prediction) if step => {
                write!(out, "\n{} ", "Your answer:".yellow().bold())?;
                out.flush()?;
                let typed = if waiting { read(&mut waiting) } else { None };
                if typed
                    .as_deref()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("q"))
                {
                    return quit(&mut out);
                }
                if typed.is_none() {
                    writeln!(out)?;
                }
                let text = verdict(prediction, typed.as_deref());
                let wrapped = render::fill(&text, usize::from(settings.width));
                writeln!(out, "{wrapped}")?;
            }
            _ => {}
        }
    }
    out.flush()?;
    Ok(())
}

fn quit(out: &mut impl Write) -> Result<(), Error> {
    writeln!(
        out,
        "{}",
        "Stopped. Run the same command to start again.".dimmed()
    )?;
    out.flush()?;
    Ok(())
}

/// What the live run says about the reader's answer, and why.
fn verdict(prediction: &Prediction, typed: Option<&str>) -> String {
    let value = prediction.value;
    let said = match typed.map(|t| lessons::judge(value, t)) {
        Some(Verdict::Agrees) => format!("{} The live run agrees: {value}.", "✓".green().bold()),
        Some(Verdict::Differs) => format!(
            "{} The live run says {value}, not {}.",
            "✗".red().bold(),
            typed.unwrap_or_default().trim()
        ),
        Some(Verdict::Unreadable) => {
            let expected = match value {
                Value::Number(_) => "a number",
                Value::YesNo(_) => "yes or no",
            };
            format!("(The answer is {expected}.) The live run says {value}.")
        }
        None => format!("The live run says {value}."),
    };
    let mut text = format!("{said} {}", format!("({})", prediction.source).dimmed());
    if let Some(why) = &prediction.why {
        text.push('\n');
        text.push_str(why);
    }
    text
}

/// Standard output, in plain ASCII when `ascii` (see `render::plain`).
struct Output<W: Write> {
    inner: W,
    ascii: bool,
    /// The start of a UTF-8 character cut off by the end of a write.
    pending: Vec<u8>,
}

impl Output<io::StdoutLock<'static>> {
    fn stdout(settings: Settings) -> Self {
        Output::new(io::stdout().lock(), settings.ascii)
    }
}

impl<W: Write> Output<W> {
    fn new(inner: W, ascii: bool) -> Self {
        Output {
            inner,
            ascii,
            pending: vec![],
        }
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.ascii {
            return self.inner.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(), // cut off: wait
            Err(_) => self.pending.len(),                         // not UTF-8: as is
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]);
        self.inner.write_all(render::plain(&text).as_bytes())?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes all of `text` to stdout.
fn print(text: &str, settings: Settings) -> Result<(), Error> {
    let mut stdout = Output::stdout(settings);
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn suggest(id: &str, suggestions: &[&str], kind: &str) -> String {
    let hint = match suggestions {
        [] => String::new(),
        [one] => format!(" Did you mean '{one}'?"),
        many => format!(" Did you mean one of: {}?", many.join(", ")),
    };
    // Escaped, so that a newline or a control character in it stays visible
    // and the message stays on one line.
    let id = id.escape_debug();
    format!("no {kind} named '{id}'.{hint} Run 'memlab list' to see them all.")
}

fn unknown_scenario(id: &str) -> String {
    suggest(id, &scenarios::closest(id), "scenario")
}

fn unknown_lesson(id: &str, lessons: &[Lesson]) -> String {
    suggest(id, &lessons::closest(id, lessons), "lesson")
}

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

fn list(lessons: &[Lesson], settings: Settings) -> String {
    let lesson_rows = lessons
        .iter()
        .map(|l| (l.id.clone(), l.meta.summary.clone()));
    let scenario_rows = SCENARIOS
        .iter()
        .map(|s| (s.id.to_string(), s.summary.to_string()));
    format!(
        "Lessons, in order (read one with 'memlab lesson <lesson>'):\n{}\n\n\
         Scenarios (run one with 'memlab trace <scenario>'):\n{}\n",
        two_columns(lesson_rows, settings),
        two_columns(scenario_rows, settings)
    )
}

fn welcome(lessons: &[Lesson], settings: Settings) -> String {
    let intro = render::fill(
        "memlab shows how Rust uses the stack and the heap: it runs small Rust scenarios \
         under a recording allocator and shows every heap event with its real address, \
         size, alignment and the source line that caused it, beside lessons that explain it.",
        usize::from(settings.width),
    );
    let start = match lessons.first() {
        Some(first) => format!("Start with:  memlab lesson {}\n", first.id),
        None => String::new(),
    };
    format!(
        "{intro}\n\n{}\n{start}Step through: memlab lesson <lesson> --step\n\
         All options: memlab --help\n",
        list(lessons, settings)
    )
}

/// `trace --step`: one event at a time. Enter or `n` goes on, `b` back, `q`
/// quits; the end of input, or going past the last event, ends it.
fn step_through(trace: &Trace, settings: Settings) -> Result<(), Error> {
    let names = memlab::trace::names::Names::new(trace);
    let ids = memlab::trace::snapshot::block_ids(&trace.events);
    let count = trace.events.len();
    let mut out = Output::stdout(settings);
    let echoed = io::stdin().is_terminal();
    let mut input = io::stdin().lock().lines();
    let mut step = 1;
    let mut show = true;
    loop {
        if show {
            let frame = render::step::frame(trace, &names, &ids, step, settings);
            out.write_all(frame.as_bytes())?;
        }
        if count == 0 {
            return Ok(());
        }
        write!(
            out,
            "\n{} ",
            "── Enter/n: next · b: back · q: quit ──".dimmed()
        )?;
        out.flush()?;
        let Some(Ok(line)) = input.next() else {
            writeln!(out)?;
            return Ok(());
        };
        if !echoed {
            // Piped input is not echoed by a terminal: show what was read.
            writeln!(out, "{}", line.trim())?;
        }
        show = true;
        match line.trim().to_ascii_lowercase().as_str() {
            "" | "n" | "next" if step == count => {
                writeln!(out, "{}", "End of the trace.".dimmed())?;
                return Ok(());
            }
            "" | "n" | "next" => step += 1,
            "b" | "back" if step == 1 => {
                writeln!(out, "{}", "Already at the first event.".dimmed())?;
                show = false;
            }
            "b" | "back" => step -= 1,
            "q" | "quit" => return quit(&mut out),
            _ => {
                writeln!(out, "{}", "Type n (or just Enter), b or q.".dimmed())?;
                show = false;
            }
        }
        if show {
            writeln!(out)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_output_converts_characters_cut_between_writes() {
        let mut out = Output::new(Vec::new(), true);
        let text = "a·b─┼▶".as_bytes();
        // Cut inside the two-byte `·`: nothing of it is written until whole.
        out.write_all(&text[..2]).unwrap();
        assert_eq!(out.inner, b"a");
        out.write_all(&text[2..]).unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), "a-b-+>");
        let mut out = Output::new(Vec::new(), false);
        out.write_all(text).unwrap();
        assert_eq!(out.inner, text);
    }
}
