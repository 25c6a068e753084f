//! The `memlab` binary: parse arguments, resolve settings once, dispatch,
//! and map errors to exit codes (2: bad usage, 1: failure, 0 on a closed pipe).

mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};

use cli::{Addresses, Cli, ColorChoice, Command, Format};
use memlab::recorder::Options;
use memlab::render::{self, AddressMode, Settings};
use memlab::scenarios::{self, SCENARIOS};
use memlab::trace::Trace;

/// Why memlab stopped early.
enum Error {
    /// The user asked for something that does not exist: exit 2.
    Usage(String),
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
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
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
    }
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
    }
}

fn run(cli: &Cli, settings: Settings) -> Result<(), Error> {
    match &cli.command {
        None => print(&welcome(settings)),
        Some(Command::List) => print(&list(settings)),
        Some(Command::Trace { scenario, format }) => {
            let Some(scenario) = scenarios::find(scenario) else {
                return Err(Error::Usage(unknown_scenario(scenario)));
            };
            let trace = Trace::run(scenario, Options::default());
            match format {
                Format::Table => print(&render::table::trace(&trace, settings)),
                Format::Json => {
                    let json = render::json::trace(&trace);
                    print(&format!("{json:#}\n"))
                }
            }
        }
    }
}

/// Writes all of `text` to stdout.
fn print(text: &str) -> Result<(), Error> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

fn unknown_scenario(id: &str) -> String {
    let suggestions = scenarios::closest(id);
    let hint = match suggestions.as_slice() {
        [] => String::new(),
        [one] => format!(" Did you mean '{one}'?"),
        many => format!(" Did you mean one of: {}?", many.join(", ")),
    };
    format!("no scenario named '{id}'.{hint} Run 'memlab list' to see them all.")
}

fn list(settings: Settings) -> String {
    let mut table = Table::new();
    table
        .load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(settings.width)
        .force_no_tty();
    for scenario in SCENARIOS {
        table.add_row(vec![scenario.id, scenario.summary]);
    }
    format!("Scenarios (run one with 'memlab trace <scenario>'):\n{table}\n")
}

fn welcome(settings: Settings) -> String {
    format!(
        "memlab shows how Rust uses the stack and the heap: it runs small Rust scenarios\n\
         under a recording allocator and prints every heap event with its real address,\n\
         size, alignment and the source line that caused it.\n\n{}\
         Start with:  memlab trace vec-growth\n\
         All options: memlab --help\n",
        list(settings)
    )
}
