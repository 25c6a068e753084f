//! What a run answers to a query: the one place a query reads a `Trace`.

use super::condition::compare;
use super::query::{EventField, LOCAL_FIELDS, LocalField, Observed, Query, Value, field_name};
use crate::trace::{Local, Trace, block_containing};

impl Query {
    /// The live run's answer, or why the run cannot answer it.
    pub fn evaluate(&self, trace: &Trace) -> Result<Value, String> {
        let number = |n: usize| Value::Number(n as u64);
        let id = &trace.source.id;
        match self {
            Query::Observation { at, field } => {
                let observation = match at {
                    Observed::Index(index) => {
                        trace.observations.get(index - 1).ok_or_else(|| {
                            format!(
                                "{id} has {} observations, not {index}",
                                trace.observations.len()
                            )
                        })?
                    }
                    Observed::Label(label) => trace
                        .observations
                        .iter()
                        .find(|o| o.label == *label)
                        .ok_or_else(|| format!("{id} has no observation labelled '{label}'"))?,
                };
                if field == "after-event" {
                    return Ok(number(observation.after_event));
                }
                observation
                    .get(field)
                    .map(number)
                    .ok_or_else(|| format!("observation {at} has no field '{field}'"))
            }
            Query::Count { kind, line } => {
                check_line(trace, *line)?;
                Ok(number(
                    trace
                        .events
                        .iter()
                        .filter(|e| e.kind == *kind && (line.is_none() || e.line == *line))
                        .count(),
                ))
            }
            Query::Moves { moved, line } => {
                check_line(trace, *line)?;
                Ok(number(
                    trace
                        .events
                        .iter()
                        .filter(|e| {
                            e.moved() == Some(*moved) && (line.is_none() || e.line == *line)
                        })
                        .count(),
                ))
            }
            Query::Events { line } => {
                check_line(trace, *line)?;
                Ok(number(
                    trace
                        .events
                        .iter()
                        .filter(|e| line.is_none() || e.line == *line)
                        .count(),
                ))
            }
            Query::Event { seq, field } => {
                let event = trace.events.get(seq - 1).ok_or_else(|| {
                    format!("{id} has {} heap events, not {seq}", trace.events.len())
                })?;
                let not = |what: &str| format!("event {seq} has no {what}");
                match field {
                    EventField::Kind => Ok(Value::Word(event.kind.name())),
                    EventField::Size => Ok(number(event.size)),
                    EventField::Align => Ok(number(event.align)),
                    EventField::Reserved => event
                        .usable
                        .map(number)
                        .ok_or_else(|| not("reserved size memlab can tell")),
                    EventField::Region => Ok(Value::Word(event.region.name())),
                    EventField::Moved => event
                        .moved()
                        .map(Value::YesNo)
                        .ok_or_else(|| not("move: it is not a realloc")),
                    EventField::Line => event
                        .line
                        .map(|l| number(l as usize))
                        .ok_or_else(|| not("source line")),
                    EventField::Address => Ok(number(event.address)),
                    EventField::OldSize => event
                        .old
                        .map(|(_, size)| number(size))
                        .ok_or_else(|| not("old size: it is not a realloc")),
                }
            }
            Query::Summary(field) => trace
                .summary()
                .get(field)
                .map(Value::Number)
                .ok_or_else(|| format!("'{field}' is not a summary field")),
            Query::Local { name, nth, field } => {
                let local = find_local(trace, name, *nth)?;
                let target = local.points_to;
                let none = || format!("local '{name}' has no {}", field_name(&LOCAL_FIELDS, field));
                match field {
                    LocalField::Size => Ok(number(local.size)),
                    LocalField::Align => Ok(number(local.align)),
                    LocalField::Len => target.and_then(|t| t.len).map(number).ok_or_else(none),
                    LocalField::Capacity => {
                        target.and_then(|t| t.capacity).map(number).ok_or_else(none)
                    }
                    LocalField::Region => Ok(Value::Word(local.region.name())),
                    LocalField::Address => Ok(number(local.address)),
                    LocalField::PointsTo => match target {
                        None => Err(format!("local '{name}' points nowhere")),
                        Some(t) if t.capacity == Some(0) => {
                            Err(format!("local '{name}' is dangling: capacity 0, no block"))
                        }
                        Some(t) => Ok(Value::Word(t.region.name())),
                    },
                    LocalField::Offset => target
                        .filter(|t| t.capacity != Some(0))
                        .and_then(|t| block_containing(&trace.events, local.after_event, t.address))
                        .map(|(_, offset)| number(offset))
                        .ok_or_else(|| format!("local '{name}' points into no heap block")),
                }
            }
            Query::SameBlock(a, b) => {
                let target = |name: &str| {
                    find_local(trace, name, 1)?
                        .points_to
                        .map(|t| t.address)
                        .ok_or_else(|| format!("local '{name}' points nowhere"))
                };
                Ok(Value::YesNo(target(a)? == target(b)?))
            }
            Query::Holds { query, op, value } => {
                Ok(Value::YesNo(compare(query.evaluate(trace)?, *op, *value)))
            }
            Query::Live { kept, bytes } => {
                let blocks: Vec<_> = trace
                    .live_blocks()
                    .into_iter()
                    .filter(|b| b.kept.is_some() == *kept)
                    .collect();
                Ok(number(if *bytes {
                    blocks.iter().map(|b| trace.events[b.event].size).sum()
                } else {
                    blocks.len()
                }))
            }
        }
    }
}

/// A line a query names must be a line of the run's source.
fn check_line(trace: &Trace, line: Option<u32>) -> Result<(), String> {
    match line {
        Some(n) if trace.source.line(n).is_none() => Err(format!(
            "{} has {} lines, not {n}",
            trace.source.file_name(),
            trace.source.text.lines().count()
        )),
        _ => Ok(()),
    }
}

fn find_local<'t>(trace: &'t Trace, name: &str, nth: usize) -> Result<&'t Local, String> {
    trace
        .locals
        .iter()
        .filter(|l| l.name == name)
        .nth(nth - 1)
        .ok_or_else(|| match nth {
            1 => format!("{} has no local named '{name}'", trace.source.id),
            n => format!(
                "{} has fewer than {n} locals named '{name}'",
                trace.source.id
            ),
        })
}
