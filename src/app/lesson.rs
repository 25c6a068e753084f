//! `memlab lesson`: load the lesson, run the scenarios it names (here, and
//! only here), lay it out and present it; in step mode, wait at each pause
//! and ask each prediction.

use std::io::Write;

use super::cli::LayoutChoice;
use super::prompt::Prompt;
use super::{Context, Error, listed_lessons, load_error, suggest};
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
    let found = match &context.cli.lessons_dir {
        None => {
            let mut all =
                lessons::embedded(context.catalogue).map_err(|e| Error::Failure(e.to_string()))?;
            match all.iter().position(|l| l.id == id) {
                Some(i) => Ok(all.swap_remove(i)),
                None => Err(all.into_iter().map(|l| l.id).collect()),
            }
        }
        // Only this lesson is read and parsed: the others in the folder
        // cost nothing.
        Some(dir) => lessons::from_dir(dir, id, context.catalogue).map_err(load_error)?,
    };
    let lesson = &match found {
        Ok(lesson) => lesson,
        Err(ids) => {
            if let Some(scenario) = context.catalogue.find(id) {
                let lessons = listed_lessons(context).unwrap_or_default();
                return Err(Error::Usage(is_a_scenario(scenario.id, &lessons)));
            }
            let suggestions = lessons::closest(id, ids.iter().map(String::as_str));
            return Err(Error::Usage(suggest(id, &suggestions, "lesson")));
        }
    };
    let layout = match layout {
        Some(LayoutChoice::Side) => Layout::Side,
        Some(LayoutChoice::Stacked) => Layout::Stacked,
        None => Layout::for_width(settings.width),
    };
    let catalogue = context.catalogue;
    let plan = Plan::build(lesson, |id| {
        Some(catalogue.find(id)?.trace(Options::default(), None))
    })
    .map_err(|e| Error::Failure(e.to_string()))?;
    let pieces = if claims {
        render::lesson::lesson_with_claims(&plan, settings, layout)
    } else {
        render::lesson::lesson(&plan, settings, layout)
    };
    present(&pieces, step, settings)?;
    // The page says so beside its evidence; the exit code says so too.
    match plan.panicked() {
        Some((id, message)) => Err(Error::Failure(format!(
            "the scenario '{id}' panicked: {}",
            message.escape_debug()
        ))),
        None => Ok(()),
    }
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

/// `memlab lesson locals`: the name is a scenario's; say how to trace it and
/// which lessons show it.
fn is_a_scenario(id: &str, lessons: &[lessons::Listed]) -> String {
    let showing: Vec<&str> = lessons
        .iter()
        .filter(|l| l.meta.scenarios.iter().any(|s| s == id))
        .map(|l| l.id.as_str())
        .collect();
    let lessons = match showing.as_slice() {
        [] => String::new(),
        [one] => format!(" The lesson '{one}' shows it."),
        many => format!(" The lessons {} show it.", quoted(many)),
    };
    format!("'{id}' is a scenario, not a lesson: run 'memlab trace {id}'.{lessons}")
}

/// `'a', 'b' and 'c'`.
pub(super) fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
