//! `memlab lesson`: load the lesson, run the scenarios it names (here, and
//! only here), lay it out and present it; in step mode, wait at each pause
//! and ask each prediction.

use std::io::Write;

use super::cli::LayoutChoice;
use super::prompt::{Key, Prompt, Reply};
use super::step::Screen;
use super::{Context, Error, listed_lessons, load_error, suggest};
use crate::capture::Options;
use crate::lessons::{self, Plan, Prediction, Verdict, expected_form, judge};
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
    let found = match &context.lessons_dir {
        // Only this lesson is parsed (and, from a folder, read): the others
        // cost nothing.
        None => lessons::embedded_one(id, context.catalogue)
            .map_err(|e| Error::Failure(e.to_string()))?,
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

/// One screen of a lesson in step mode.
struct Page {
    /// As printed without `--step` (leading blank lines included).
    lines: Vec<String>,
    /// The prediction asked at its end (an index into the predictions).
    ask: Option<usize>,
    /// The section goes on on the next page.
    more: bool,
}

/// The lesson's pieces as pages of at most `room` lines: a page ends at
/// each pause and each prediction, and a longer stretch is split.
fn pages(pieces: &[Piece], room: Option<usize>) -> (Vec<Page>, Vec<&Prediction>) {
    let mut pages = vec![];
    let mut predictions = vec![];
    let mut lines: Vec<String> = vec![];
    let mut flush = |lines: &mut Vec<String>, ask: Option<usize>| {
        if lines.is_empty() && ask.is_none() {
            return;
        }
        let parts = match room {
            Some(room) => render::screen::split(lines, room),
            None => vec![std::mem::take(lines)],
        };
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            let last = i + 1 == count;
            pages.push(Page {
                lines: part,
                ask: if last { ask } else { None },
                more: !last,
            });
        }
        lines.clear();
    };
    for piece in pieces {
        match piece {
            Piece::Text(text) => lines.extend(text.lines().map(str::to_string)),
            Piece::Pause => flush(&mut lines, None),
            Piece::Predict(prediction) => {
                predictions.push(prediction);
                flush(&mut lines, Some(predictions.len() - 1));
            }
        }
    }
    flush(&mut lines, None);
    (pages, predictions)
}

/// Prints a laid-out lesson; in step mode, a page at a time (each fits the
/// screen), waiting for a key at each, and asks each prediction, pausing
/// after its verdict. At the end of input it goes on without waiting.
fn present(pieces: &[Piece], step: bool, settings: Settings) -> Result<(), Error> {
    if !step {
        let text: String = pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        return super::print(&text, settings);
    }
    let mut out = Output::stdout(settings.ascii);
    let width = usize::from(settings.width);
    // A verdict is prose: at most the prose's measure wide.
    let measure = width.min(render::MEASURE);
    let screen = Screen::stdout();
    let mut prompt = Prompt::stdin();
    let (pages, predictions) = pages(pieces, screen.room());
    // What the reader answered to each prediction: `Some(None)` when input
    // ended before an answer.
    let mut answers: Vec<Option<Option<String>>> = vec![None; predictions.len()];
    // Wrong answers so far to each prediction: the first gets a second try.
    let mut tries: Vec<usize> = vec![0; predictions.len()];
    let count = pages.len();
    let mut at = 0;
    // Whether the page must be printed (a transcript prints each once).
    let mut fresh = true;
    while at < count {
        let page = &pages[at];
        if prompt.ended() {
            prompt.release();
            // No more input: the rest as it is, without waiting.
            for page in &pages[at..] {
                for line in &page.lines {
                    writeln!(out, "{}", line.trim_end())?;
                }
                if let Some(i) = page.ask {
                    if answers[i].is_none() {
                        write!(out, "\n{}\n", render::prompt::answer())?;
                    }
                    let typed = answers[i].clone().flatten();
                    writeln!(
                        out,
                        "{}",
                        verdict(predictions[i], typed.as_deref(), measure)
                    )?;
                }
            }
            out.flush()?;
            return Ok(());
        }
        if let Some(i) = page.ask.filter(|&i| answers[i].is_none()) {
            let question = render::prompt::answer();
            if fresh || screen.redraw {
                screen.show(&mut out, &page.lines, &question, !prompt.piped())?;
            }
            let space = !prompt.piped();
            let reply = loop {
                let reply = prompt.answer();
                let Some(Reply::Answer(typed)) = &reply else {
                    break reply;
                };
                // An answer memlab cannot read, or a first wrong one, is
                // asked again; the run's answer is never shown before.
                let value = predictions[i].value;
                let again = match judge(value, typed) {
                    Verdict::Unreadable => render::prompt::unreadable(&expected_form(value), width),
                    Verdict::Differs if tries[i] == 0 => {
                        tries[i] += 1;
                        render::prompt::try_again(width)
                    }
                    _ => break reply,
                };
                if prompt.piped() {
                    let echo = typed.trim();
                    let space = if echo.is_empty() { "" } else { " " };
                    writeln!(out, "{space}{echo}")?;
                } else if !screen.redraw {
                    writeln!(out)?;
                }
                screen.say(&mut out, &again, &question, space, width)?;
            };
            match reply {
                None => {
                    writeln!(out)?;
                    answers[i] = Some(None);
                }
                Some(Reply::Key(Key::Quit)) => {
                    prompt.release();
                    if screen.redraw {
                        writeln!(out)?;
                    }
                    return quit(&mut out);
                }
                Some(Reply::Key(_)) => {
                    at = at.saturating_sub(1);
                    fresh = true;
                    continue;
                }
                Some(Reply::Answer(typed)) => {
                    if prompt.piped() {
                        let echo = typed.trim();
                        let space = if echo.is_empty() { "" } else { " " };
                        writeln!(out, "{space}{echo}")?;
                    } else if !screen.redraw {
                        writeln!(out)?;
                    }
                    answers[i] = Some(Some(typed));
                }
            }
            if prompt.ended() {
                continue;
            }
            fresh = false;
        }
        // The page (with its answer and verdict), and a pause.
        let mut lines = vec![];
        if fresh || screen.redraw {
            lines.extend(page.lines.iter().cloned());
        }
        if let Some(i) = page.ask {
            let typed = answers[i].clone().flatten();
            if fresh || screen.redraw {
                let said = match typed.as_deref().map(str::trim) {
                    Some(said) if !said.is_empty() => format!(" {said}"),
                    _ => String::new(),
                };
                lines.push(String::new());
                lines.push(format!("{}{said}", render::prompt::answer()));
            }
            let judged = verdict(predictions[i], typed.as_deref(), measure);
            lines.extend(judged.lines().map(str::to_string));
        }
        let pause = render::prompt::pause(at + 1, count, page.more, width);
        let space = !prompt.piped();
        screen.show(&mut out, &lines, &pause, space)?;
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
            let message = match &key {
                Some(Key::Back) if at == 0 => render::prompt::at_first_page(),
                Some(Key::Other(_)) => render::prompt::step_help(width),
                _ => break key,
            };
            if !screen.redraw {
                writeln!(out)?;
            }
            screen.say(&mut out, &message, &pause, space, width)?;
        };
        if prompt.piped() || !screen.redraw {
            writeln!(out)?;
        }
        fresh = true;
        match key {
            None => at += 1,
            Some(Key::Next) if at + 1 == count => {
                prompt.release();
                if screen.redraw {
                    writeln!(out)?;
                }
                writeln!(out, "{}", render::prompt::end_of_lesson())?;
                out.flush()?;
                return Ok(());
            }
            Some(Key::Next) => at += 1,
            Some(Key::Back) => at = at.saturating_sub(1),
            Some(Key::First) => at = 0,
            Some(Key::Last) => at = count - 1,
            Some(Key::Go(n)) => at = n.unwrap_or(1).clamp(1, count) - 1,
            Some(Key::Quit) => {
                prompt.release();
                if screen.redraw {
                    writeln!(out)?;
                }
                return quit(&mut out);
            }
            Some(Key::Other(_)) => {}
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
