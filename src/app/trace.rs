//! `memlab trace`: run one scenario and show it: tables, diagrams, charts or
//! JSON, or one event at a time.

use std::io::Write;

use super::cli::{Format, Show, View};
use super::prompt::{Key, Prompt};
use super::step::Screen;
use super::{Context, Error, listed_lessons, print, suggest};
use crate::capture::Options;
use crate::render::output::Output;
use crate::render::{self, Settings};
use crate::trace::names::Names;
use crate::trace::{Trace, snapshot};

pub(super) fn run(context: &Context, id: &str, show: &Show, n: Option<u64>) -> Result<(), Error> {
    let catalogue = context.catalogue;
    let Some(scenario) = catalogue.find(id) else {
        // `memlab trace stack-basics`: a lesson's name; say so, and name what
        // it runs.
        let lessons = listed_lessons(context).unwrap_or_default();
        if let Some(lesson) = lessons.iter().find(|l| l.id == id) {
            let scenarios: Vec<&str> = lesson.meta.scenarios.iter().map(String::as_str).collect();
            return Err(Error::Usage(format!(
                "'{id}' is a lesson, not a scenario: run 'memlab lesson {id}'. It runs {}.",
                super::lesson::quoted(&scenarios)
            )));
        }
        let suggestions = catalogue.closest(id);
        return Err(Error::Usage(suggest(id, &suggestions, "scenario")));
    };
    if n.is_some() && scenario.default_n.is_none() {
        let sized: Vec<&str> = catalogue
            .listed
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
    let n = n.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let trace = scenario.trace(options(show), n);
    enough_memory(&trace, true)?;
    display(&trace, show, context.settings)?;
    match &trace.panic {
        Some(message) => Err(Error::Failure(format!(
            "the scenario '{}' panicked: {}",
            scenario.id,
            message.escape_debug()
        ))),
        None => Ok(()),
    }
}

/// A run that lost events because memory could not give the recorder the
/// room asked for is an error, one line saying what would fit (`--capacity`,
/// where the command takes it). A run that lost nothing in the room it got
/// is complete, and shown.
pub(super) fn enough_memory(trace: &Trace, takes_capacity: bool) -> Result<(), Error> {
    let Some(short) = trace.loss.memory else {
        return Ok(());
    };
    if trace.loss.events == 0 {
        return Ok(());
    }
    let advice = match short.fits {
        0 => "nor for fewer: free some memory or raise the limit (ulimit -v)".to_string(),
        fits if takes_capacity => format!("try --capacity {}", round_down(fits)),
        _ => "free some memory or raise the limit (ulimit -v)".to_string(),
    };
    let size = match short.bytes {
        bytes if bytes < 1 << 20 => format!("{} KiB", bytes.div_ceil(1 << 10)),
        bytes => format!("{} MiB", bytes.div_ceil(1 << 20)),
    };
    Err(Error::Failure(format!(
        "not enough memory for {} events per thread ({size} each); {advice}",
        short.events
    )))
}

/// `n` rounded down to two significant digits: 524288 → 520000.
fn round_down(n: usize) -> usize {
    let mut unit = 1;
    while n / unit >= 100 {
        unit *= 10;
    }
    n / unit * unit
}

/// What `--capacity` and `--probes` ask of the recorder.
pub(super) fn options(show: &Show) -> Options {
    Options {
        capacity: usize::try_from(show.capacity).unwrap_or(usize::MAX),
        probes: usize::try_from(show.probes).unwrap_or(usize::MAX),
        ..Options::default()
    }
}

/// Shows a trace as asked: step by step, the views, or JSON.
pub(super) fn display(trace: &Trace, show: &Show, settings: Settings) -> Result<(), Error> {
    match (show.step, show.format) {
        (true, _) => step_through(trace, settings),
        // Data, not a picture: UTF-8 whatever the locale.
        (false, Format::Json) => Ok(crate::export::json::write(trace, Output::stdout(false))?),
        (false, Format::Table) => print(&views(trace, show, settings), settings),
    }
}

/// The views `--view` asks for, as text (JSON for `--format json`).
pub(super) fn views(trace: &Trace, show: &Show, settings: Settings) -> String {
    let all = show.all;
    match (show.format, show.view) {
        (Format::Json, _) => {
            let mut json = vec![];
            let _ = crate::export::json::write(trace, &mut json);
            String::from_utf8_lossy(&json).into_owned()
        }
        (Format::Table, View::Table) => render::table::trace(trace, settings, all),
        (Format::Table, View::Diagram) => render::diagram::view(trace, settings),
        (Format::Table, View::Chart) => render::chart::view(trace, settings),
        (Format::Table, View::All) => format!(
            "{}\n{}\n{}",
            render::table::trace(trace, settings, all),
            render::diagram::view(trace, settings),
            render::chart::view(trace, settings)
        ),
    }
}

/// `trace --step`: one event at a time, each fitted to the screen (or
/// shown a page at a time). →, Space, n or Enter go on, ←/b back, Home and
/// End to either end, a number to that event, `q` quits; the end of input,
/// or going past the last event, ends it.
fn step_through(trace: &Trace, settings: Settings) -> Result<(), Error> {
    let names = Names::new(trace);
    let ids = snapshot::block_ids(&trace.events);
    let count = trace.events.len();
    let width = usize::from(settings.width);
    let mut out = Output::stdout(settings.ascii);
    let screen = Screen::stdout();
    let mut prompt = Prompt::stdin();
    let (mut step, mut page) = (1, 0);
    loop {
        let frame = render::step::frame_within(trace, &names, &ids, step, settings, screen.room());
        let lines: Vec<String> = frame.lines().map(str::to_string).collect();
        if count == 0 {
            prompt.release();
            out.write_all(frame.as_bytes())?;
            out.flush()?;
            return Ok(());
        }
        let pages = match screen.room() {
            Some(room) => render::screen::split(&lines, room),
            None => vec![lines],
        };
        page = page.min(pages.len() - 1);
        let more = page + 1 < pages.len();
        let keys = render::prompt::step_keys(step, count, more, width);
        let space = !prompt.piped();
        screen.show(&mut out, &pages[page], &keys, space)?;
        let key = loop {
            let mut key = prompt.key();
            if key == Some(Key::Go(None)) {
                screen.ask(&mut out, &render::prompt::go_to(count), space, width)?;
                key = match prompt.number() {
                    Some(n) => Some(Key::Go(Some(n))),
                    // Not a number: say which keys there are.
                    None if !prompt.ended() => Some(Key::Other("g".into())),
                    None => None,
                };
            }
            if prompt.piped() {
                // Piped input is not echoed by a terminal: show what was read.
                if key.is_some() && !prompt.typed().is_empty() {
                    write!(out, " {}", prompt.typed())?;
                }
            }
            let message = match &key {
                None => {
                    prompt.release();
                    writeln!(out)?;
                    return Ok(());
                }
                Some(Key::Next) if step == count && !more => {
                    prompt.release();
                    writeln!(out)?;
                    writeln!(out, "{}", render::prompt::end_of_trace())?;
                    return Ok(());
                }
                Some(Key::Back) if step == 1 && page == 0 => render::prompt::at_first_event(),
                Some(Key::Other(_)) => render::prompt::step_help(width),
                Some(_) => break key,
            };
            if !screen.redraw {
                writeln!(out)?;
            }
            screen.say(&mut out, &message, &keys, space, width)?;
        };
        if !screen.redraw {
            writeln!(out)?;
        }
        match key {
            Some(Key::Next) if more => page += 1,
            Some(Key::Next) => (step, page) = (step + 1, 0),
            Some(Key::Back) if page > 0 => page -= 1,
            Some(Key::Back) => (step, page) = (step - 1, 0),
            Some(Key::First) => (step, page) = (1, 0),
            Some(Key::Last) => (step, page) = (count, 0),
            Some(Key::Go(n)) => (step, page) = (n.unwrap_or(1).clamp(1, count), 0),
            Some(Key::Quit) => {
                prompt.release();
                if screen.redraw {
                    writeln!(out)?;
                }
                return super::lesson::quit(&mut out);
            }
            _ => {}
        }
        if !screen.redraw {
            writeln!(out)?;
        }
    }
}
