//! `memlab run FILE.rs` (once, or again on every save with `--watch`) and
//! `memlab new FILE.rs`.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use super::cli::{Format, Show};
use super::{Context, Error, print};
use crate::render::output::Output;
use crate::render::{self, Settings, style};
use crate::runner::{self, Run, RunError, child};

/// The options of `memlab run`.
pub(super) struct Args<'a> {
    pub file: &'a Path,
    pub show: &'a Show,
    pub timeout: f64,
    pub stdin: bool,
    pub cache_dir: Option<&'a Path>,
    pub watch: bool,
}

pub(super) fn run(context: &Context, args: &Args) -> Result<(), Error> {
    let options = super::trace::options(args.show);
    let timeout = runner::timeout(args.timeout).ok_or_else(|| {
        Error::Usage(format!(
            "--timeout {} is not a time memlab waits: give seconds, more than 0 and at most 3600",
            args.timeout
        ))
    })?;
    let request = runner::Request {
        file: args.file,
        cache_dir: args.cache_dir,
        settings: child::Settings {
            capacity: options.capacity,
            probes: options.probes,
            timeout,
            stdin: args.stdin,
        },
        colour: style::colour(),
    };
    if args.watch {
        return watch(context, args, &request);
    }
    let ran = cleaned(runner::run(&request).map_err(|e| failure(e, args.file))?);
    present(&ran, args.show, context.settings)?;
    match ran.ending {
        Some(ending) => Err(Error::Failure(ending)),
        None => Ok(()),
    }
}

/// The error a failed run ends with; a compile error's messages go first.
fn failure(error: RunError, file: &Path) -> Error {
    match error {
        RunError::Usage(message) => Error::Usage(message),
        RunError::Failed(message) => Error::Failure(message),
        RunError::Compile(messages) => {
            let _ = io::stderr().write_all(render::run::compiler(&messages).as_bytes());
            Error::Failure(format!(
                "{} does not compile: fix the errors above and run it again",
                runner::source::escaped(&file.display().to_string())
            ))
        }
    }
}

/// A run of a user's file with its text cleaned (`text::clean_trace`):
/// the names its probes gave, its path and source, and the notes that quote
/// them. Its stdout and stderr are cleaned as they are shown.
fn cleaned(mut ran: Run) -> Run {
    crate::text::clean_trace(&mut ran.trace);
    for note in &mut ran.notes {
        *note = crate::text::clean(note).into_owned();
    }
    ran
}

/// The program's output apart, then the trace as asked, then what it leaves out.
fn present(ran: &Run, show: &Show, settings: Settings) -> Result<(), Error> {
    super::trace::enough_memory(&ran.trace, true)?;
    let output = program_output(ran, settings);
    let notes = render::run::notes(&ran.notes, ran.partial, settings);
    if show.format == Format::Json {
        // JSON alone on stdout: the program's output goes to stderr.
        let mut stderr = io::stderr().lock();
        stderr.write_all(output.as_bytes())?;
        super::trace::display(&ran.trace, show, settings)?;
        stderr.write_all(notes.as_bytes())?;
        return Ok(());
    }
    if show.step {
        print(&output, settings)?;
        super::trace::display(&ran.trace, show, settings)?;
        return print(&notes, settings);
    }
    // One text, so that the pager sees all of it.
    let views = super::trace::views(&ran.trace, show, settings);
    print(&format!("{output}{views}{notes}"), settings)
}

fn program_output(ran: &Run, settings: Settings) -> String {
    render::run::program_output(
        &[
            render::run::Stream {
                name: "stdout",
                text: &ran.stdout.text,
                cut: ran.stdout.cut,
            },
            render::run::Stream {
                name: "stderr",
                text: &ran.stderr.text,
                cut: ran.stderr.cut,
            },
        ],
        settings,
    )
}

/// Runs the file, then again whenever its bytes change, until Ctrl-C. A
/// build that fails leaves the last good output on the screen, its errors
/// under it.
fn watch(context: &Context, args: &Args, request: &runner::Request) -> Result<(), Error> {
    use notify_debouncer_mini::{new_debouncer, notify::RecursiveMode};
    let settings = context.settings;
    let (changed, changes) = std::sync::mpsc::channel();
    let mut debouncer = new_debouncer(Duration::from_millis(150), changed)
        .map_err(|e| Error::Failure(format!("cannot watch files: {e}")))?;
    // The folder, not the file: an editor saves by renaming a new file over
    // the old one, which would end a watch on the file itself.
    let folder = match args.file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    debouncer
        .watcher()
        .watch(folder, RecursiveMode::NonRecursive)
        .map_err(|e| {
            Error::Failure(format!(
                "cannot watch {}: {e}",
                runner::source::escaped(&folder.display().to_string())
            ))
        })?;
    let terminal = io::stdout().is_terminal();
    let mut last: Option<Vec<u8>> = None;
    let mut good: Option<String> = None;
    loop {
        // Only a change of the file's bytes runs it again: reading it, or
        // touching it, or a save of another file does not.
        let bytes = std::fs::read(args.file).ok();
        if bytes != last {
            last = bytes;
            let screen = match runner::run(request).map(cleaned) {
                Ok(ran) => {
                    let text = watched(&ran, args.show, settings);
                    good = Some(text.clone());
                    text
                }
                Err(error) => {
                    let message = match &error {
                        RunError::Compile(messages) => format!(
                            "{}{}",
                            render::run::compiler(messages),
                            super::error_line(&format!(
                                "{} does not compile: fix it and save again",
                                runner::source::escaped(&args.file.display().to_string())
                            ))
                        ),
                        other => super::error_line(&other.to_string()),
                    };
                    format!("{}{message}", good.clone().unwrap_or_default())
                }
            };
            let clear = if terminal {
                render::prompt::clear_screen()
            } else {
                ""
            };
            let waiting = render::prompt::watching(&args.file.display().to_string());
            let mut out = Output::stdout(settings.ascii);
            write!(out, "{clear}{screen}\n{waiting}\n")?;
            out.flush()?;
        }
        if changes.recv().is_err() {
            return Ok(());
        }
    }
}

/// One run's screen in watch mode: the output, the views, the notes, and
/// how it ended.
fn watched(ran: &Run, show: &Show, settings: Settings) -> String {
    let mut text = program_output(ran, settings);
    text.push_str(&super::trace::views(&ran.trace, show, settings));
    text.push_str(&render::run::notes(&ran.notes, ran.partial, settings));
    if let Some(ending) = &ran.ending {
        text.push_str(&super::error_line(ending));
    }
    text
}

/// `memlab new FILE.rs`: a starting file, never over an existing one.
pub(super) fn new(file: &Path) -> Result<(), Error> {
    let shown = runner::source::escaped(&file.display().to_string());
    if file.extension().is_none_or(|x| x != "rs") {
        return Err(Error::Usage(format!(
            "memlab new writes a Rust source file: name it FILE.rs, not {shown}"
        )));
    }
    let mut out = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
    {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(Error::Usage(format!(
                "{shown} exists already: memlab new never overwrites a file"
            )));
        }
        Err(e) => return Err(Error::Failure(format!("cannot write {shown}: {e}"))),
    };
    out.write_all(runner::STARTER.as_bytes())
        .map_err(|e| Error::Failure(format!("cannot write {shown}: {e}")))?;
    let mut stdout = io::stdout().lock();
    writeln!(
        stdout,
        "Wrote {shown}: a scenario to change. Run it with 'memlab run {shown}' \
         ('--view diagram' draws it, '--watch' runs it on every save)."
    )?;
    Ok(())
}
