//! `memlab lesson`: load the lesson, run the scenarios it names (here, and
//! only here), lay it out and present it; in step mode, wait at each pause
//! and ask each prediction.

use std::io::Write;

use super::cli::LayoutChoice;
use super::progress::Store;
use super::prompt::{Key, Prompt, Reply};
use super::step::Screen;
use super::{Context, Error, listed_lessons, load_error, suggest};
use crate::capture::Options;
use crate::lessons::{self, Plan, Prediction, Verdict, expected_form, judge};
use crate::render::lesson::{Layout, Piece, verdict};
use crate::render::list::Standing;
use crate::render::output::Output;
use crate::render::{self, Settings};

/// How `lesson` presents a lesson.
pub(super) struct How {
    pub step: bool,
    /// `--continue`: step mode from the page the reader quit at.
    pub resume: bool,
    pub layout: Option<LayoutChoice>,
    pub claims: bool,
}

/// `memlab lesson [ID]`: without an id (`--continue`), the lesson read
/// last, or for a new reader the first one.
pub(super) fn open(context: &Context, id: Option<&str>, how: How) -> Result<(), Error> {
    let mut store = Store::open(context.state);
    let id = match id {
        Some(id) => id.to_string(),
        None => match store.state().last.clone() {
            Some(last) => last,
            None => match next_lesson(context, &store)? {
                Some((id, _)) => id,
                None => return super::print(&render::list::all_read(), context.settings),
            },
        },
    };
    run(context, &id, how, &mut store)
}

/// `memlab next`: the lesson left mid-way, at its page in step mode; else
/// the first not read, as `memlab lesson` opens it.
pub(super) fn next(
    context: &Context,
    step: bool,
    layout: Option<LayoutChoice>,
) -> Result<(), Error> {
    let mut store = Store::open(context.state);
    let Some((id, resume)) = next_lesson(context, &store)? else {
        return super::print(&render::list::all_read(), context.settings);
    };
    let how = How {
        step,
        resume,
        layout,
        claims: false,
    };
    run(context, &id, how, &mut store)
}

/// The lesson `memlab next` opens, and whether it goes on where the reader
/// quit it; `None` when every lesson is read.
fn next_lesson(context: &Context, store: &Store) -> Result<Option<(String, bool)>, Error> {
    let lessons = listed_lessons(context)?;
    let ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
    Ok(match store.state().standing(&ids) {
        Standing::LeftOff { id, .. } => Some((id.to_string(), true)),
        Standing::Next { id } => Some((id.to_string(), false)),
        Standing::New => ids.first().map(|id| (id.to_string(), false)),
        Standing::AllDone => None,
    })
}

fn run(context: &Context, id: &str, how: How, store: &mut Store) -> Result<(), Error> {
    let How {
        step,
        resume,
        layout,
        claims,
    } = how;
    let step = step || resume;
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
        // The lessons' ids in course order, for the line naming the next
        // one: the others are read for their front matter only.
        let course: Option<Vec<String>> = listed_lessons(context)
            .ok()
            .map(|all| all.into_iter().map(|l| l.id).collect());
        let pieces = render::lesson::lesson(&plan, settings, layout);
        match course {
            Some(course) => {
                let at = course.iter().position(|l| *l == lesson.id);
                let next = at.and_then(|at| course.get(at + 1)).map(String::as_str);
                render::lesson::with_next_lesson(pieces, next, usize::from(settings.width))
            }
            None => pieces,
        }
    };
    let mut record = Record {
        store,
        id: &lesson.id,
        on: !claims,
    };
    record.opened();
    present(&pieces, step, resume, settings, &mut record)?;
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

/// What reading a lesson changes in the reader's progress.
struct Record<'a> {
    store: &'a mut Store,
    id: &'a str,
    /// Off for `--claims`, which checks a page and reads nothing.
    on: bool,
}

impl Record<'_> {
    fn opened(&mut self) {
        if self.on {
            self.store.opened(self.id);
        }
    }

    /// The reader reached the end: the whole page printed, or step mode
    /// past its last page (or its input ended and the rest was printed).
    fn finished(&mut self) {
        if self.on {
            self.store.finished(self.id);
        }
    }

    fn stopped(&mut self, page: usize, pages: usize) {
        if self.on {
            self.store.stopped(self.id, page, pages);
        }
    }

    fn answered(&mut self, number: usize, right: bool) {
        if self.on {
            self.store.answered(self.id, number, right);
        }
    }

    /// The page `--continue` starts at (from 0) of `count`: where the
    /// reader quit, scaled when the screen's size made a different number
    /// of pages.
    fn start(&self, count: usize) -> usize {
        let progress = self.store.state().lessons.get(self.id);
        match progress.and_then(|p| p.page.zip(p.pages)) {
            Some((page, pages)) if pages == count => page.clamp(1, count) - 1,
            Some((page, pages)) if pages > 0 => {
                ((page.max(1) - 1) * count / pages).min(count.saturating_sub(1))
            }
            _ => 0,
        }
    }
}

/// Prints a laid-out lesson; in step mode, a page at a time (each fits the
/// screen), waiting for a key at each, and asks each prediction, pausing
/// after its verdict. At the end of input it goes on without waiting.
/// `resume`: step mode starts at the page the reader quit at last time.
fn present(
    pieces: &[Piece],
    step: bool,
    resume: bool,
    settings: Settings,
    record: &mut Record,
) -> Result<(), Error> {
    if !step {
        let text: String = pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        super::print(&text, settings)?;
        record.finished();
        return Ok(());
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
    let mut at = if resume { record.start(count) } else { 0 };
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
            record.finished();
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
                    // Under the prompt, which waits at the end of its line.
                    if screen.redraw || prompt.piped() {
                        writeln!(out)?;
                    }
                    record.stopped(at + 1, count);
                    return quit_lesson(&mut out, at + 1);
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
                    let right = judge(predictions[i].value, &typed) == Verdict::Agrees;
                    record.answered(i + 1, right);
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
                record.finished();
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
                record.stopped(at + 1, count);
                return quit_lesson(&mut out, at + 1);
            }
            Some(Key::Other(_)) => {}
        }
    }
    out.flush()?;
    record.finished();
    Ok(())
}

/// Says how to start again, and stops.
pub(super) fn quit(out: &mut impl Write) -> Result<(), Error> {
    writeln!(out, "{}", render::prompt::stopped())?;
    out.flush()?;
    Ok(())
}

/// Says where the reader stopped and how to go on from there, and stops.
fn quit_lesson(out: &mut impl Write, page: usize) -> Result<(), Error> {
    writeln!(out, "{}", render::prompt::stopped_lesson(page))?;
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
