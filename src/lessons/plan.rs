//! A lesson ready to lay out: the runs its evidence shows, and every
//! prediction answered from them. The caller runs the scenarios (the lesson
//! layer never starts a run itself); views then only read the plan.

use std::collections::HashMap;

use super::{Answer, Block, Chart, DiagramAt, Lesson, LessonError, Value, View};
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
}

impl<'l> Plan<'l> {
    /// Runs each scenario `lesson` names once, with `run` (`None`: no such
    /// scenario), and answers every prediction. Fails, naming the file and
    /// line, when a run cannot show what a directive asks for or answer a
    /// question.
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
        for block in &lesson.blocks {
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
        })
    }

    /// The run of scenario `id`, if the lesson names it.
    pub fn trace(&self, id: &str) -> Option<&Trace> {
        self.traces.get(id)
    }

    /// The live answer to `answer`'s question.
    pub fn prediction(&self, answer: &Answer) -> Option<&Prediction> {
        self.predictions.get(&answer.line)
    }
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
