//! The command-line interface, as a library: [`main`] parses the arguments,
//! decides colour, width and how to print addresses once, runs the command
//! against a catalogue of scenarios, and maps the outcome to an exit code
//! (2: bad usage, 1: failure, 0 also when the reader closed the pipe).
//!
//! One module per command (`trace`, `lesson`; `list` and the welcome are
//! here), and one place that reads what the reader types (`prompt`). What is
//! printed comes from `render`: nothing here builds a table or paints text.

mod cli;
mod lesson;
mod prompt;
mod run;
mod trace;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::lessons::{self, Lesson, LoadError};
use crate::render::output::Output;
use crate::render::{self, AddressMode, Settings, style};
use crate::scenarios::Catalogue;
use crate::trace::Source;
use cli::{Addresses, Cli, ColorChoice, Command};

/// Why a command stopped early.
enum Error {
    /// The user asked for something that does not exist: exit 2.
    Usage(String),
    /// A lesson could not be loaded or run, or the code panicked: exit 1.
    Failure(String),
    /// Writing the output failed: exit 1, or 0 when the reader went away.
    Io(io::Error),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// What every command works with.
struct Context<'a> {
    cli: &'a Cli,
    catalogue: &'a Catalogue,
    settings: Settings,
}

/// Runs memlab's command line over `catalogue`; the binary's `main` is this.
pub fn main(catalogue: &'static Catalogue) -> ExitCode {
    // An allocation that fails ends memlab with one line, not an abort.
    crate::capture::recorder::end_on_allocation_failure();
    if let Err(limit) = crate::capture::limits::ensure_stack() {
        let _ = writeln!(
            io::stderr(),
            "error: memlab needs {} KiB of stack and this shell allows {} KiB: \
             run it after 'ulimit -s {}'",
            crate::capture::limits::STACK_NEEDED / 1024,
            limit / 1024,
            crate::capture::limits::STACK_WANTED / 1024
        );
        return ExitCode::FAILURE;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    quiet_scenario_panics();
    let context = Context {
        settings: settings(&cli),
        cli: &cli,
        catalogue,
    };
    match run(&context) {
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

/// A scenario's panic is caught by the recorder and reported by the command
/// in one line, so the default hook's message and backtrace note stay out of
/// it. Any other panic (a bug in memlab) is printed as usual.
fn quiet_scenario_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !crate::capture::recorder::is_recording() {
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
    style::use_colour(color);
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

fn run(context: &Context) -> Result<(), Error> {
    let settings = context.settings;
    match &context.cli.command {
        None => {
            let lessons = load_lessons(context)?;
            let welcome = render::list::welcome(&lessons, &listed(context), settings);
            print(&welcome, settings)
        }
        Some(Command::List) => {
            let lessons = load_lessons(context)?;
            print(
                &render::list::list(&lessons, &listed(context), settings),
                settings,
            )
        }
        Some(Command::Trace { scenario, show, n }) => trace::run(context, scenario, show, *n),
        Some(Command::Run {
            file,
            show,
            timeout,
            stdin,
            cache_dir,
            watch,
        }) => run::run(
            context,
            &run::Args {
                file,
                show,
                timeout: *timeout,
                stdin: *stdin,
                cache_dir: cache_dir.as_deref(),
                watch: *watch,
            },
        ),
        Some(Command::New { file }) => run::new(file),
        Some(Command::Lesson {
            lesson,
            step,
            layout,
            claims,
        }) => lesson::run(context, lesson, *step, *layout, *claims),
    }
}

/// The scenarios `memlab list` shows.
fn listed(context: &Context) -> Vec<Source> {
    context
        .catalogue
        .listed
        .iter()
        .map(|s| s.source())
        .collect()
}

fn load_lessons(context: &Context) -> Result<Vec<Lesson>, Error> {
    match &context.cli.lessons_dir {
        None => lessons::embedded(context.catalogue).map_err(|e| Error::Failure(e.to_string())),
        Some(dir) => lessons::from_dir(dir, context.catalogue).map_err(|e| match e {
            LoadError::Folder(message) => Error::Usage(message),
            LoadError::Lesson(e) => Error::Failure(e.to_string()),
        }),
    }
}

/// Writes all of `text` to stdout.
fn print(text: &str, settings: Settings) -> Result<(), Error> {
    let mut stdout = Output::stdout(settings.ascii);
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// "No such thing" in one line, with the names it might have meant.
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
