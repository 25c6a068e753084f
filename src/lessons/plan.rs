//! A lesson ready to lay out: the runs its evidence shows, every prediction
//! answered from them, every group of passages decided and every live value
//! of the prose that will be shown read from them. The caller runs the
//! scenarios (the lesson layer never starts a run itself); views then only
//! read the plan.

use std::collections::HashMap;

use super::condition::Outcome;
use super::{Answer, Block, Chart, DiagramAt, Lesson, LessonError, Passages, Span, Value, View};
use crate::trace::{Trace, snapshot};

/// A prediction's answer from the live run, with its explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub value: Value,
    /// Where the value comes from, e.g. "capacity in observation 5 of vec-growth".
    pub source: String,
    pub why: Option<String>,
}

/// A lesson with its runs and answers.
#[derive(Debug)]
pub struct Plan<'l> {
    pub lesson: &'l Lesson,
    /// One run of each scenario the lesson's evidence and answers name.
    traces: HashMap<String, Trace>,
    /// Each answer's prediction, by the answer's line.
    predictions: HashMap<usize, Prediction>,
    /// Each live value shown, by its id.
    values: HashMap<usize, Value>,
    /// Which passage of each group is shown, by the group's id.
    choices: HashMap<usize, Choice>,
}

/// Which passage of a group the run chose, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The index of the passage shown.
    pub shown: usize,
    /// For each passage with a condition, what the run said of each clause.
    pub outcomes: Vec<Vec<Outcome>>,
}

impl<'l> Plan<'l> {
    /// Runs each scenario `lesson` names once, with `run` (`None`: no such
    /// scenario), answers every prediction, chooses a passage of every group
    /// and reads every live value of the prose that will be shown. Fails,
    /// naming the file and line, when a run cannot show what a directive asks
    /// for, answer a question or give a live value. (A condition the run
    /// cannot answer does not hold: its group shows another passage.)
    pub fn build(
        lesson: &'l Lesson,
        mut run: impl FnMut(&str) -> Option<Trace>,
    ) -> Result<Plan<'l>, LessonError> {
        let error = |line: usize, message: String| LessonError {
            origin: lesson.origin.clone(),
            line,
            message,
        };
        let mut traces: HashMap<String, Trace> = HashMap::new();
        // Runs scenario `id` unless it has run already.
        let mut ensure = |traces: &mut HashMap<String, Trace>, id: &str, line: usize| {
            if !traces.contains_key(id) {
                let trace =
                    run(id).ok_or_else(|| error(line, format!("no scenario named '{id}'")))?;
                traces.insert(id.to_string(), trace);
            }
            Ok::<(), LessonError>(())
        };
        let mut predictions = HashMap::new();
        let mut values = HashMap::new();
        let mut choices = HashMap::new();
        // Blocks whose prose is shown, in reading order: the lesson's, and the
        // chosen passage of each group in its place.
        let mut queue: Vec<&Block> = lesson.blocks.iter().rev().collect();
        while let Some(block) = queue.pop() {
            for span in spans_of(block) {
                let Some(live) = &span.live else { continue };
                ensure(&mut traces, &live.scenario, live.line)?;
                let value = live
                    .query
                    .evaluate(&traces[&live.scenario])
                    .map_err(|m| error(live.line, format!("live value {}: {m}", span.text)))?;
                values.insert(live.id, value);
            }
            match block {
                Block::Passages(group) => {
                    let choice = choose(group, &mut |id, line| {
                        ensure(&mut traces, id, line)?;
                        Ok(())
                    })?;
                    let choice = choice(&traces);
                    queue.extend(group.passages[choice.shown].blocks.iter().rev());
                    choices.insert(group.id, choice);
                }
                Block::List { items, .. } => queue.extend(items.iter().flatten().rev()),
                Block::Quote(blocks) => queue.extend(blocks.iter().rev()),
                _ => {}
            }
            match block {
                Block::Evidence { line, views } => {
                    for view in views {
                        let Some(id) = view.scenario() else { continue };
                        ensure(&mut traces, id, *line)?;
                        check(view, &traces[id]).map_err(|m| error(*line, m))?;
                    }
                }
                Block::Answer(answer) => {
                    let id = &answer.scenario;
                    ensure(&mut traces, id, answer.line)?;
                    let prediction =
                        predict(answer, &traces[id]).map_err(|m| error(answer.line, m))?;
                    predictions.insert(answer.line, prediction);
                }
                _ => {}
            }
        }
        Ok(Plan {
            lesson,
            traces,
            predictions,
            values,
            choices,
        })
    }

    /// The run's answer for the live value numbered `id`, if it is shown.
    pub fn value(&self, id: usize) -> Option<Value> {
        self.values.get(&id).copied()
    }

    /// Which passage of the group numbered `id` is shown, and why.
    pub fn choice(&self, id: usize) -> Option<&Choice> {
        self.choices.get(&id)
    }

    /// The run of scenario `id`, if the lesson names it.
    pub fn trace(&self, id: &str) -> Option<&Trace> {
        self.traces.get(id)
    }

    /// The first scenario by id whose run panicked, and its message.
    pub fn panicked(&self) -> Option<(&str, &str)> {
        let mut panicked: Vec<(&str, &str)> = self
            .traces
            .iter()
            .filter_map(|(id, t)| Some((id.as_str(), t.panic.as_deref()?)))
            .collect();
        panicked.sort();
        panicked.first().copied()
    }

    /// The live answer to `answer`'s question.
    pub fn prediction(&self, answer: &Answer) -> Option<&Prediction> {
        self.predictions.get(&answer.line)
    }
}

/// The inline text of a block itself (not of the blocks inside it).
fn spans_of(block: &Block) -> &[Span] {
    match block {
        Block::Paragraph(spans) | Block::Heading { text: spans, .. } => spans,
        _ => &[],
    }
}

/// Runs (with `ensure`) every scenario a group's conditions ask, then
/// returns how to choose from those runs: the first passage whose every
/// clause holds, or the last (`otherwise`).
fn choose<'g>(
    group: &'g Passages,
    ensure: &mut dyn FnMut(&str, usize) -> Result<(), LessonError>,
) -> Result<impl Fn(&HashMap<String, Trace>) -> Choice + 'g, LessonError> {
    for passage in &group.passages {
        for clause in passage.when.iter().flat_map(|c| &c.clauses) {
            ensure(&clause.scenario, passage.line)?;
        }
    }
    Ok(move |traces: &HashMap<String, Trace>| {
        let outcomes: Vec<Vec<Outcome>> = group
            .passages
            .iter()
            .filter_map(|p| p.when.as_ref())
            .map(|condition| condition.evaluate(&|id| traces.get(id)))
            .collect();
        let shown = outcomes
            .iter()
            .position(|clauses| clauses.iter().all(|c| c.holds))
            .unwrap_or(group.passages.len() - 1);
        Choice { shown, outcomes }
    })
}

/// Whether `trace` can show what `view` asks for.
fn check(view: &View, trace: &Trace) -> Result<(), String> {
    let id = &trace.source.id;
    match view {
        View::Diagram {
            at: DiagramAt::After(local),
            ..
        } if snapshot::moment_naming(trace, local).is_none() => Err(format!(
            "diagram: no local named '{local}' in a run of {id}"
        )),
        View::Chart {
            chart: Chart::Capacity,
            ..
        } if !trace
            .observations
            .iter()
            .any(|o| o.get("len").is_some() && o.get("capacity").is_some()) =>
        {
            Err(format!(
                "chart: no observation of {id} notes len and capacity"
            ))
        }
        _ => Ok(()),
    }
}

fn predict(answer: &Answer, trace: &Trace) -> Result<Prediction, String> {
    let value = answer
        .query
        .evaluate(trace)
        .map_err(|message| format!("answer: {message}"))?;
    Ok(Prediction {
        value,
        source: answer.query.describe(&answer.scenario),
        why: answer.why.clone(),
    })
}
