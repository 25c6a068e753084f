//! `memlab lesson`: load the lesson, run the scenarios it names (here, and
//! only here), lay it out and present it; in step mode, wait at each pause
//! and ask each prediction.

use std::io::Write;

use super::cli::LayoutChoice;
use super::prompt::Prompt;
use super::{Context, Error, load_lessons, suggest};
use crate::capture::Options;
use crate::lessons::{self, Plan};
use crate::render::lesson::{Layout, Piece, verdict};
use crate::render::output::Output;
use crate::render::{self, Settings};

pub(super) fn run(
    context: &Context,
    id: &str,
    step: bool,
    layout: Option<LayoutChoice>,
    claims: bool,
) -> Result<(), Error> {
    let settings = context.settings;
    let lessons = load_lessons(context)?;
    let Some(lesson) = lessons.iter().find(|l| l.id == id) else {
        let suggestions = lessons::closest(id, &lessons);
        return Err(Error::Usage(suggest(id, &suggestions, "lesson")));
    };
    let layout = match layout {
        Some(LayoutChoice::Side) => Layout::Side,
        Some(LayoutChoice::Stacked) => Layout::Stacked,
        None => Layout::for_width(settings.width),
    };
    let catalogue = context.catalogue;
    let mut short = None;
    let plan = Plan::build(lesson, |id| {
        let trace = catalogue.find(id)?.trace(Options::default(), None);
        if let Err(e) = super::trace::enough_memory(&trace, false) {
            short.get_or_insert(e);
        }
        Some(trace)
    });
    if let Some(e) = short {
        return Err(e);
    }
    let plan = plan.map_err(|e| Error::Failure(e.to_string()))?;
    let pieces = if claims {
        render::lesson::lesson_with_claims(&plan, settings, layout)
    } else {
        render::lesson::lesson(&plan, settings, layout)
    };
    present(&pieces, step, settings)
}

/// Prints a laid-out lesson; in step mode waits at each pause (Enter goes on,
/// `q` quits) and asks each prediction. At the end of input it goes on
/// without waiting.
fn present(pieces: &[Piece], step: bool, settings: Settings) -> Result<(), Error> {
    let mut out = Output::stdout(settings.ascii);
    let mut prompt = Prompt::stdin();
    let quits = |line: &str| line.trim().eq_ignore_ascii_case("q");
    for (i, piece) in pieces.iter().enumerate() {
        let waiting = step && !prompt.ended();
        match piece {
            Piece::Text(text) => out.write_all(text.as_bytes())?,
            Piece::Pause if waiting && i + 1 < pieces.len() => {
                write!(out, "\n{} ", render::prompt::pause())?;
                out.flush()?;
                match prompt.line() {
                    Some(line) if quits(&line) => return quit(&mut out),
                    Some(_) => {}
                    None => writeln!(out)?,
                }
            }
            Piece::Predict(prediction) if step => {
                write!(out, "\n{} ", render::prompt::answer())?;
                out.flush()?;
                let typed = if waiting { prompt.line() } else { None };
                if typed.as_deref().is_some_and(quits) {
                    return quit(&mut out);
                }
                if typed.is_none() {
                    writeln!(out)?;
                }
                let width = usize::from(settings.width);
                writeln!(out, "{}", verdict(prediction, typed.as_deref(), width))?;
            }
            _ => {}
        }
    }
    out.flush()?;
    Ok(())
}

/// Says how to start again, and stops.
pub(super) fn quit(out: &mut impl Write) -> Result<(), Error> {
    writeln!(out, "{}", render::prompt::stopped())?;
    out.flush()?;
    Ok(())
}
