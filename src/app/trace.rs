//! `memlab trace`: run one scenario and show it: tables, diagrams, charts or
//! JSON, or one event at a time.

use std::io::Write;

use super::cli::{Format, View};
use super::prompt::Prompt;
use super::{Context, Error, print, suggest};
use crate::capture::Options;
use crate::render::output::Output;
use crate::render::{self, Settings};
use crate::trace::names::Names;
use crate::trace::{Trace, snapshot};

/// The options of `memlab trace`.
pub(super) struct Args<'a> {
    pub scenario: &'a str,
    pub format: Format,
    pub view: View,
    pub step: bool,
    pub n: Option<u64>,
    pub capacity: u64,
    pub probes: u64,
    pub all: bool,
}

pub(super) fn run(context: &Context, args: &Args) -> Result<(), Error> {
    let catalogue = context.catalogue;
    let Some(scenario) = catalogue.find(args.scenario) else {
        let suggestions = catalogue.closest(args.scenario);
        return Err(Error::Usage(suggest(
            args.scenario,
            &suggestions,
            "scenario",
        )));
    };
    if args.n.is_some() && scenario.default_n.is_none() {
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
    let options = Options {
        capacity: usize::try_from(args.capacity).unwrap_or(usize::MAX),
        probes: usize::try_from(args.probes).unwrap_or(usize::MAX),
        ..Options::default()
    };
    let n = args.n.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let trace = scenario.trace(options, n);
    if args.step {
        step_through(&trace, context.settings)?;
    } else {
        show(&trace, args, context.settings)?;
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

/// The views asked for, or JSON.
fn show(trace: &Trace, args: &Args, settings: Settings) -> Result<(), Error> {
    let all = args.all;
    match (args.format, args.view) {
        // Data, not a picture: UTF-8 whatever the locale.
        (Format::Json, _) => Ok(crate::export::json::write(trace, Output::stdout(false))?),
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

/// `trace --step`: one event at a time. Enter or `n` goes on, `b` back, `q`
/// quits; the end of input, or going past the last event, ends it.
fn step_through(trace: &Trace, settings: Settings) -> Result<(), Error> {
    let names = Names::new(trace);
    let ids = snapshot::block_ids(&trace.events);
    let count = trace.events.len();
    let mut out = Output::stdout(settings.ascii);
    let mut prompt = Prompt::stdin();
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
        write!(out, "\n{} ", render::prompt::step_keys())?;
        out.flush()?;
        let Some(line) = prompt.line() else {
            writeln!(out)?;
            return Ok(());
        };
        if prompt.piped() {
            // Piped input is not echoed by a terminal: show what was read.
            writeln!(out, "{}", line.trim())?;
        }
        show = true;
        match line.trim().to_ascii_lowercase().as_str() {
            "" | "n" | "next" if step == count => {
                writeln!(out, "{}", render::prompt::end_of_trace())?;
                return Ok(());
            }
            "" | "n" | "next" => step += 1,
            "b" | "back" if step == 1 => {
                writeln!(out, "{}", render::prompt::at_first_event())?;
                show = false;
            }
            "b" | "back" => step -= 1,
            "q" | "quit" => return super::lesson::quit(&mut out),
            _ => {
                writeln!(out, "{}", render::prompt::step_help())?;
                show = false;
            }
        }
        if show {
            writeln!(out)?;
        }
    }
}
