//! Command-line definitions (clap derive). Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// See how Rust uses the stack and the heap: memlab runs small Rust scenarios
/// under its own recording allocator and shows every heap event with its real
/// address, size, alignment and the source line that caused it.
#[derive(Debug, Parser)]
#[command(name = "memlab", version, max_term_width = 100)]
#[command(args_conflicts_with_subcommands = true, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// (For the welcome, without a command.)
    #[command(flatten)]
    pub look: Look,
    #[command(flatten)]
    pub lessons: Lessons,
    #[command(flatten)]
    pub state: StateArg,
}

const EXAMPLES: &str = "Examples:
  memlab                          a welcome: the lessons, and where you left off
  memlab lesson vec-growth        read a lesson beside its live run
  memlab next                     the next lesson you have not read, or where you quit one
  memlab trace box --step         one heap event at a time
  memlab run mine.rs              trace a file of your own (memlab new mine.rs writes one)

Options go after the command: memlab list --width 80. 'memlab help COMMAND' says more.";

/// How output looks: every command that prints a view takes these.
#[derive(Debug, Args)]
pub struct Look {
    /// When to use colour: auto uses it on a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Width of the output in columns, 40 to 400 [default: the terminal's width;
    /// COLUMNS when not writing to a terminal; or 100].
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(40..=400))]
    pub width: Option<u16>,

    /// Draw diagrams, charts and tables with plain ASCII characters [default:
    /// when the locale (LC_ALL, LC_CTYPE or LANG) is not UTF-8].
    #[arg(long)]
    pub ascii: bool,

    /// Page output taller than the terminal through $MEMLAB_PAGER, $PAGER or
    /// `less -R`: auto does when writing to a terminal (never in step mode).
    #[arg(long, value_enum, default_value_t = Paging::Auto)]
    pub paging: Paging,
}

/// Where lessons come from.
#[derive(Debug, Args)]
pub struct Lessons {
    /// Read lessons from this folder (every *.md file) instead of the built-in ones.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub lessons_dir: Option<PathBuf>,
}

/// Where the reader's progress is kept.
#[derive(Debug, Args)]
pub struct StateArg {
    /// Keep your progress (lessons read, the page you stopped at, your
    /// answers) in this file [default: $MEMLAB_STATE, or state.toml in
    /// $XDG_DATA_HOME/memlab or ~/.local/share/memlab].
    #[arg(long = "state", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub file: Option<PathBuf>,
}

/// How addresses are printed: every command that shows a run takes this.
#[derive(Debug, Args)]
pub struct AddressArg {
    /// How to print addresses: real, symbolic (stable names: heap blocks H1, H2, …
    /// in order of allocation, stack slots S1, S2, …), or both.
    #[arg(long, value_enum, default_value_t = Addresses::Real)]
    pub addresses: Addresses,
}

/// The run's global allocator.
#[derive(Debug, Args)]
pub struct AllocatorArg {
    /// The global allocator the run's blocks come from: system (the C
    /// library's malloc), bump (memlab's own bump allocator, for what the
    /// scenario allocates), and jemalloc and mimalloc in a build with those
    /// features [default: system, or
    /// $MEMLAB_ALLOCATOR]. A program has one, so memlab runs itself again
    /// with MEMLAB_ALLOCATOR set when it is not the one this process has.
    #[arg(long, value_name = "NAME", value_parser = allocator_names())]
    pub allocator: Option<String>,
}

fn allocator_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(crate::capture::backend::available().map(|a| a.name()))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a lesson: prose, the scenario's code, and its live run beside it.
    /// Reading it to the end (the whole page, or step mode's last page)
    /// marks it read in your progress.
    #[command(after_help = "Examples:
  memlab lesson vec-growth              the whole lesson
  memlab lesson vec-growth --step       a screen at a time, with its questions
  memlab lesson --continue              step mode, at the page where you pressed q
  memlab lesson box --continue --state ~/class/progress.toml
  memlab lesson box --step --addresses symbolic --width 100   for slides
  memlab lesson mine --lessons-dir ./my-lessons               a lesson of your own")]
    Lesson {
        /// The lesson to read, e.g. vec-growth (see `memlab list`) [default
        /// with --continue: the lesson you read last].
        #[arg(required_unless_present = "resume")]
        lesson: Option<String>,
        /// Step mode, starting at the page where you last quit this lesson
        /// (with q); without a lesson, the lesson you read last.
        #[arg(long = "continue", id = "resume")]
        resume: bool,
        /// One screen at a time: pause after each section and piece of
        /// evidence (split to fit the terminal), and ask each "Predict"
        /// question. Keys: →/Space/n/PageDown next, ←/b/PageUp back,
        /// Home/End, a number and Enter (or g) to go to a page, q quits.
        #[arg(long)]
        step: bool,
        /// Evidence beside the prose or below it [default: side by side at 140
        /// columns or more].
        #[arg(long, value_enum)]
        layout: Option<LayoutChoice>,
        /// For checking a page against its own evidence: mark each live value
        /// and passage shown, and list what each asks of the run.
        #[arg(long, hide = true, conflicts_with_all = ["step", "resume"])]
        claims: bool,
        #[command(flatten)]
        look: Look,
        #[command(flatten)]
        addresses: AddressArg,
        #[command(flatten)]
        allocator: AllocatorArg,
        #[command(flatten)]
        lessons: Lessons,
        #[command(flatten)]
        state: StateArg,
    },
    /// Open the next lesson: the one you left mid-way in step mode (at its
    /// page), else the first in course order you have not read.
    #[command(after_help = "Examples:
  memlab next                   the next lesson, whole (step mode where you quit one)
  memlab next --step            a screen at a time
  memlab next --state ~/class/progress.toml")]
    Next {
        /// One screen at a time, as 'memlab lesson --step'.
        #[arg(long)]
        step: bool,
        /// Evidence beside the prose or below it [default: side by side at 140
        /// columns or more].
        #[arg(long, value_enum)]
        layout: Option<LayoutChoice>,
        #[command(flatten)]
        look: Look,
        #[command(flatten)]
        addresses: AddressArg,
        #[command(flatten)]
        lessons: Lessons,
        #[command(flatten)]
        state: StateArg,
    },
    /// List the lessons (numbered, marked read or not) and the scenarios.
    #[command(after_help = "Examples:
  memlab list
  memlab list --lessons-dir ./my-lessons
  memlab list --state ~/class/progress.toml")]
    List {
        #[command(flatten)]
        look: Look,
        #[command(flatten)]
        lessons: Lessons,
        #[command(flatten)]
        state: StateArg,
    },
    /// Run one scenario and show its heap events, stack locals and a summary.
    #[command(after_help = "Examples:
  memlab trace vec-growth                     the tables
  memlab trace vec-growth --view diagram      memory diagrams at each moment
  memlab trace box --step                     one heap event at a time
  memlab trace many-boxes --n 1000 --format json > boxes.json")]
    Trace {
        /// The scenario to run, e.g. vec-growth (see `memlab list`).
        scenario: String,
        #[command(flatten)]
        show: Show,
        /// The size of a sized scenario, e.g. the number of boxes of
        /// many-boxes (see `memlab list`).
        #[arg(long, value_name = "N",
              value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        n: Option<u64>,
        #[command(flatten)]
        look: Look,
        #[command(flatten)]
        addresses: AddressArg,
        #[command(flatten)]
        allocator: AllocatorArg,
    },
    /// Trace a Rust file of your own: a scenario file or an ordinary program.
    // The rest of the description is after the options: a long description
    // would make clap print the long form of help, with its padded lines.
    #[command(
        after_help = "A scenario file has `pub fn run(s: &mut memlab::Scene)` and probes its
locals as the built-in scenarios do; an ordinary program has `fn main`, and
every heap event of it and the threads it starts is recorded. memlab builds
the file with cargo (offline when it can) and shows it as it shows a scenario;
the program's own output is shown apart.

Examples:
  memlab new mine.rs && memlab run mine.rs    start from a scenario file
  memlab run mine.rs --view diagram --watch   redraw on every save
  memlab run main.rs --stdin < input.txt      a program that reads its input"
    )]
    Run {
        /// The file to run, e.g. mine.rs ('memlab new mine.rs' writes one).
        #[arg(value_hint = clap::ValueHint::FilePath)]
        file: PathBuf,
        #[command(flatten)]
        show: Show,
        /// Stop the program after this many seconds; what it recorded until
        /// then is shown.
        #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
        timeout: f64,
        /// Give the program memlab's standard input (otherwise it reads
        /// nothing, as from /dev/null).
        #[arg(long, conflicts_with = "step")]
        stdin: bool,
        /// Where builds are kept [default: $XDG_CACHE_HOME/memlab or
        /// ~/.cache/memlab].
        #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
        cache_dir: Option<PathBuf>,
        /// Run again every time the file is saved (Ctrl-C ends).
        #[arg(long, conflicts_with_all = ["step", "stdin"])]
        watch: bool,
        #[command(flatten)]
        look: Look,
        #[command(flatten)]
        addresses: AddressArg,
    },
    /// Write a short scenario file to start from, ready for 'memlab run'.
    #[command(after_help = "Example:
  memlab new mine.rs && memlab run mine.rs")]
    New {
        /// The file to write, e.g. mine.rs (an existing file is never overwritten).
        #[arg(value_hint = clap::ValueHint::FilePath)]
        file: PathBuf,
    },
    /// Print a shell's completion script: it completes commands, options,
    /// and the ids of lessons and scenarios.
    #[command(after_help = "Examples:
  source <(memlab completions bash)                         in ~/.bashrc
  memlab completions zsh > ~/.zfunc/_memlab                 with ~/.zfunc in $fpath
  memlab completions fish > ~/.config/fish/completions/memlab.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print memlab's manual page (roff), or a command's.
    #[command(after_help = "Examples:
  memlab man | man -l -
  memlab man trace > memlab-trace.1")]
    Man {
        /// A command, for its own page (memlab-trace(1)).
        command: Option<String>,
    },
}

/// How `trace` and `run` show what ran.
#[derive(Debug, Args)]
pub struct Show {
    /// Output format: tables for people, JSON for tools.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// What to show: the tables, memory diagrams (stack and heap side by
    /// side), charts (capacity and live bytes), or all three.
    #[arg(long, value_enum, default_value_t = View::Table, conflicts_with = "format")]
    pub view: View,
    /// Walk through the events one at a time: the source line, the event
    /// and the memory after it, a screen each. Keys: →/Space/n/PageDown
    /// next, ←/b/PageUp back, Home/End, a number and Enter (or g) to go
    /// to an event, q quits.
    #[arg(long, conflicts_with_all = ["format", "view"])]
    pub step: bool,
    /// Events the recorder keeps per thread; more are counted as lost.
    #[arg(long, value_name = "EVENTS", default_value_t = crate::capture::DEFAULT_CAPACITY as u64,
          value_parser = clap::value_parser!(u64).range(1..=(1 << 26)))]
    pub capacity: u64,
    /// Probes of each kind (locals, observations, …) the scenario may take
    /// per thread; more are counted as dropped.
    #[arg(long, value_name = "PROBES", default_value_t = crate::capture::DEFAULT_PROBES as u64,
          value_parser = clap::value_parser!(u64).range(1..=(1 << 20)))]
    pub probes: u64,
    /// Show every event of a long trace, not only the first and last rows.
    #[arg(long)]
    pub all: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Paging {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LayoutChoice {
    Side,
    Stacked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Addresses {
    Real,
    Symbolic,
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum View {
    Table,
    Diagram,
    Chart,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}
