//! The command-line interface, as a library: [`main`] parses the arguments,
//! decides colour, width and how to print addresses once, runs the command
//! against a catalogue of scenarios, and maps the outcome to an exit code
//! (2: bad usage, 1: failure, 0 also when the reader closed the pipe).
//!
//! One module per command (`trace`, `lesson`; `list` and the welcome are
//! here), and one place that reads what the reader types (`prompt`). What is
//! printed comes from `render`: nothing here builds a table or paints text.

mod allocator;
mod cli;
mod lesson;
mod pager;
mod progress;
mod prompt;
mod run;
mod step;
mod trace;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::lessons::{self, Listed, LoadError};
use crate::render::{self, AddressMode, Settings, style};
use crate::scenarios::Catalogue;
use crate::trace::Source;
use cli::{Addresses, Cli, ColorChoice, Command, Look, Paging};

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
    /// `--lessons-dir`, for the commands that read lessons.
    lessons_dir: Option<&'a std::path::Path>,
    /// `--state`, for the commands that read or record progress.
    state: Option<&'a std::path::Path>,
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
    // Before anything else runs: this may replace the process.
    if let Err(e) = allocator::choose(&cli) {
        return match e {
            Error::Usage(message) => {
                report(&message);
                ExitCode::from(2)
            }
            Error::Failure(message) => {
                report(&message);
                ExitCode::FAILURE
            }
            Error::Io(e) => write_failed(&e),
        };
    }
    quiet_scenario_panics();
    // Each command's own options: the welcome's are memlab's own.
    let (look, addresses, lessons_dir, state) = match &cli.command {
        None => (
            Some(&cli.look),
            None,
            cli.lessons.lessons_dir.as_deref(),
            cli.state.file.as_deref(),
        ),
        Some(Command::Lesson {
            look,
            addresses,
            lessons,
            state,
            ..
        })
        | Some(Command::Next {
            look,
            addresses,
            lessons,
            state,
            ..
        }) => (
            Some(look),
            Some(addresses.addresses),
            lessons.lessons_dir.as_deref(),
            state.file.as_deref(),
        ),
        Some(Command::List {
            look,
            lessons,
            state,
        }) => (
            Some(look),
            None,
            lessons.lessons_dir.as_deref(),
            state.file.as_deref(),
        ),
        Some(Command::Trace {
            look, addresses, ..
        })
        | Some(Command::Run {
            look, addresses, ..
        }) => (Some(look), Some(addresses.addresses), None, None),
        Some(Command::New { .. } | Command::Completions { .. } | Command::Man { .. }) => {
            (None, None, None, None)
        }
    };
    // Step modes are paged already; --watch redraws its screen.
    let stepping = match &cli.command {
        Some(Command::Lesson { step, resume, .. }) => *step || *resume,
        Some(Command::Next { step, .. }) => *step,
        Some(Command::Trace { show, .. }) => show.step,
        Some(Command::Run { show, watch, .. }) => show.step || *watch,
        _ => false,
    };
    let paging = look.map_or(Paging::Never, |l| l.paging);
    pager::set(if stepping { Paging::Never } else { paging });
    let mut settings = settings(look, addresses.unwrap_or(Addresses::Real));
    // What shows a run has tables and diagrams: never narrower than they fit.
    if addresses.is_some() && settings.width < render::NARROWEST {
        let _ = writeln!(
            io::stderr(),
            "note: memlab's tables and diagrams need at least {} columns, not {}: \
             they are drawn {0} wide",
            render::NARROWEST,
            settings.width
        );
        settings.width = render::NARROWEST;
    }
    let context = Context {
        settings,
        cli: &cli,
        catalogue,
        lessons_dir,
        state,
    };
    match run(&context) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Io(e)) => write_failed(&e),
        Err(Error::Usage(message)) => {
            report(&message);
            ExitCode::from(2)
        }
        Err(Error::Failure(message)) => {
            report(&message);
            ExitCode::FAILURE
        }
    }
}

/// Every error memlab reports goes out here: one line on stderr, cleaned
/// (`text::clean_line`), so a name or a message holding a newline or an
/// escape sequence neither breaks the line nor drives the terminal.
fn report(message: &str) {
    let _ = io::stderr().write_all(error_line(message).as_bytes());
}

/// A problem that does not stop the command (progress that cannot be read
/// or saved): one line on stderr, cleaned as [`report`]'s are.
fn warn(message: &str) {
    let line = format!("warning: {}\n", crate::text::clean_line(message));
    let _ = io::stderr().write_all(line.as_bytes());
}

/// The line [`report`] prints, newline included.
fn error_line(message: &str) -> String {
    format!("error: {}\n", crate::text::clean_line(message))
}

/// Writing the output failed: quietly 0 when the reader closed the pipe,
/// else one line and 1.
fn write_failed(e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    report(&format!("could not write the output: {e}"));
    ExitCode::FAILURE
}

/// Help and version go to stdout; errors are one line on stderr (clap's first
/// line, and its suggestion if it has one), exit 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        return match e.print() {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => write_failed(&err),
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
    // `memlab lesson` or `memlab trace` alone: say what to name, and how.
    if e.kind() == ErrorKind::MissingRequiredArgument {
        let missing = |name: &str| {
            matches!(e.get(ContextKind::InvalidArg),
                Some(ContextValue::Strings(args)) if args.iter().any(|a| a == name))
        };
        let hint = if missing("<LESSON>") {
            Some(
                "name a lesson, as in 'memlab lesson vec-growth' ('memlab list' shows them), \
                 or go on where you stopped with 'memlab lesson --continue'",
            )
        } else if missing("<SCENARIO>") {
            Some("name a scenario, as in 'memlab trace vec-growth' ('memlab list' shows them)")
        } else {
            None
        };
        if let Some(hint) = hint {
            report(hint);
            return ExitCode::from(2);
        }
    }
    // `memlab --color never list`: each command takes its options after it.
    if e.kind() == ErrorKind::ArgumentConflict
        && let Some(command) = message
            .strip_prefix("the subcommand '")
            .and_then(|rest| rest.split('\'').next())
    {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if let Some(at) = args.iter().position(|a| a == command) {
            let reordered: Vec<&str> = args[at..]
                .iter()
                .chain(&args[..at])
                .map(String::as_str)
                .collect();
            message = format!(
                "options go after the command: memlab {}",
                shell_words::join(reordered)
            );
            report(&message);
            return ExitCode::from(2);
        }
    }
    let code = u8::try_from(e.exit_code()).unwrap_or(2);
    report(&format!("{message}. See 'memlab --help'."));
    ExitCode::from(code)
}

/// A scenario's panic is caught by the recorder and reported by the command
/// in one line, so the default hook's message and backtrace note stay out of
/// it. Any other panic (a bug in memlab) is printed as usual.
fn quiet_scenario_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A terminal left in raw mode would garble the message.
        prompt::restore_terminal();
        if !crate::capture::recorder::is_recording() {
            default(info);
        }
    }));
}

/// Decides colour and width once; nothing else asks about the terminal.
fn settings(look: Option<&Look>, addresses: Addresses) -> Settings {
    let stdout = io::stdout();
    let plain = Look {
        color: ColorChoice::Never,
        width: None,
        ascii: false,
        paging: Paging::Never,
    };
    let cli = look.unwrap_or(&plain);
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
    // The terminal's width; COLUMNS when stdout is not a terminal (as
    // when piped to a pager or a file); else 100.
    let width = cli.width.unwrap_or_else(|| {
        let columns = terminal_size::terminal_size_of(&stdout)
            .map(|(terminal_size::Width(w), _)| usize::from(w))
            .or_else(|| env_size("COLUMNS"))
            .unwrap_or(100);
        u16::try_from(columns.clamp(40, 400)).unwrap_or(100)
    });
    let addresses = match addresses {
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

/// A size from the environment (`COLUMNS`, `LINES`), when it is a number
/// above 0.
fn env_size(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&n: &usize| n > 0)
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
            let lessons = listed_lessons(context)?;
            let store = progress::Store::open(context.state);
            let ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
            let done: Vec<bool> = ids.iter().map(|id| store.state().is_read(id)).collect();
            let standing = store.state().standing(&ids);
            let welcome =
                render::list::welcome(&lessons, &done, standing, &listed(context), settings);
            print(&welcome, settings)
        }
        Some(Command::List { .. }) => {
            let lessons = listed_lessons(context)?;
            let store = progress::Store::open(context.state);
            let done: Vec<bool> = lessons
                .iter()
                .map(|l| store.state().is_read(&l.id))
                .collect();
            print(
                &render::list::list(&lessons, &done, &listed(context), settings),
                settings,
            )
        }
        Some(Command::Trace {
            scenario, show, n, ..
        }) => trace::run(context, scenario, show, *n),
        Some(Command::Run {
            file,
            show,
            timeout,
            stdin,
            cache_dir,
            watch,
            ..
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
            resume,
            step,
            layout,
            claims,
            ..
        }) => lesson::open(
            context,
            lesson.as_deref(),
            lesson::How {
                step: *step,
                resume: *resume,
                layout: *layout,
                claims: *claims,
            },
        ),
        Some(Command::Next { step, layout, .. }) => lesson::next(context, *step, *layout),
        Some(Command::Completions { shell }) => completions(context, *shell),
        Some(Command::Man { command }) => man(command.as_deref()),
    }
}

/// memlab's command line as completions know it: the ids of the built-in
/// lessons and of the scenarios are the values of `lesson` and `trace`.
fn completions(context: &Context, shell: clap_complete::Shell) -> Result<(), Error> {
    use clap::CommandFactory;
    use clap::builder::PossibleValuesParser;
    let lessons: Vec<&'static str> = lessons::embedded_listed(context.catalogue)
        .map_err(|e| Error::Failure(e.to_string()))?
        .into_iter()
        // Leaked: this process prints the script and ends.
        .map(|lesson| &*String::leak(lesson.id))
        .collect();
    let scenarios: Vec<&'static str> = context.catalogue.listed.iter().map(|s| s.id).collect();
    let mut command = Cli::command()
        .mut_subcommand("lesson", |c| {
            c.mut_arg("lesson", |a| {
                a.value_parser(PossibleValuesParser::new(lessons.clone()))
            })
        })
        .mut_subcommand("trace", |c| {
            c.mut_arg("scenario", |a| {
                a.value_parser(PossibleValuesParser::new(scenarios.clone()))
            })
        });
    let mut script = vec![];
    clap_complete::generate(shell, &mut command, "memlab", &mut script);
    if shell == clap_complete::Shell::Fish {
        // clap_complete's fish script offers no values for positionals.
        for (command, ids) in [("lesson", &lessons), ("trace", &scenarios)] {
            writeln!(
                script,
                "complete -c memlab -n \"__fish_memlab_using_subcommand {command}\" -f -a \"{}\"",
                ids.join(" ")
            )?;
        }
    }
    let mut stdout = io::stdout().lock();
    stdout.write_all(&script)?;
    stdout.flush()?;
    Ok(())
}

/// `memlab man [COMMAND]`: the manual page, in roff.
fn man(name: Option<&str>) -> Result<(), Error> {
    use clap::CommandFactory;
    let memlab = Cli::command();
    let page = match name {
        None => memlab,
        Some(name) => {
            let Some(command) = memlab.find_subcommand(name) else {
                let names: Vec<&str> = memlab.get_subcommands().map(|c| c.get_name()).collect();
                return Err(Error::Usage(format!(
                    "memlab has no command '{}': its commands are {}",
                    name.escape_debug(),
                    names.join(", ")
                )));
            };
            // Leaked: this process prints the page and ends.
            let title: &'static str = String::leak(format!("memlab-{name}"));
            command
                .clone()
                .name(title)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut roff = vec![];
    clap_mangen::Man::new(page).render(&mut roff)?;
    // Spaces at the end of a roff line mean nothing: no line of memlab's
    // output ends in one.
    let roff = String::from_utf8_lossy(&roff);
    let mut stdout = io::stdout().lock();
    for line in roff.lines() {
        writeln!(stdout, "{}", line.trim_end())?;
    }
    stdout.flush()?;
    Ok(())
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

/// The lessons `list` and the welcome show: their front matter.
fn listed_lessons(context: &Context) -> Result<Vec<Listed>, Error> {
    match context.lessons_dir {
        None => {
            lessons::embedded_listed(context.catalogue).map_err(|e| Error::Failure(e.to_string()))
        }
        Some(dir) => lessons::list_dir(dir, context.catalogue).map_err(load_error),
    }
}

/// A lesson folder that cannot be read is a usage error; a lesson in it
/// that cannot be loaded, a failure.
fn load_error(e: LoadError) -> Error {
    match e {
        LoadError::Folder(message) => Error::Usage(message),
        LoadError::Lesson(e) => Error::Failure(e.to_string()),
    }
}

/// Writes all of `text` to stdout, through the pager when it is due.
fn print(text: &str, settings: Settings) -> Result<(), Error> {
    Ok(pager::print(text, settings.ascii)?)
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
