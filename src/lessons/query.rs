//! The questions a lesson asks a run (`answer <scenario> <query>`): how they
//! are written, what the run answers, and how a reader's answer compares.

use std::fmt;

use crate::trace::{Kind, Local, Summary, Trace};

/// A fact of a trace that a prediction asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// `observation N FIELD`: a field of the N-th observation (1-based).
    Observation { index: usize, field: String },
    /// `count KIND [line N]`: how many events of one kind (caused by line N).
    Count { kind: Kind, line: Option<u32> },
    /// `events [line N]`: how many heap events in all (caused by line N).
    Events { line: Option<u32> },
    /// `summary FIELD`: a summary figure by its JSON name.
    Summary(String),
    /// `local NAME FIELD`: size, align, len or capacity of the first local so named.
    Local { name: String, field: String },
    /// `same-block A B`: do locals A and B point to the same address? (yes/no)
    SameBlock(String, String),
}

/// The live run's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Number(u64),
    YesNo(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::YesNo(true) => f.write_str("yes"),
            Value::YesNo(false) => f.write_str("no"),
        }
    }
}

impl Query {
    /// Reads a query from the words after `answer <scenario>`.
    pub fn parse(words: &[&str]) -> Result<Query, String> {
        let usage = "an answer is one of: observation N FIELD, count KIND [line N], \
                     events [line N], summary FIELD, local NAME FIELD, same-block NAME NAME";
        let line = |words: &[&str]| -> Result<Option<u32>, String> {
            match words {
                [] => Ok(None),
                ["line", n] => n
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .map(Some)
                    .ok_or_else(|| format!("'{n}' is not a line number (1, 2, …)")),
                _ => Err(usage.to_string()),
            }
        };
        Ok(match words {
            ["observation", n, field] => Query::Observation {
                index: n
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("'{n}' is not an observation number (1, 2, …)"))?,
                field: field.to_string(),
            },
            ["count", kind, rest @ ..] => Query::Count {
                kind: Kind::from_name(kind)
                    .ok_or_else(|| format!("'{kind}' is not an event kind"))?,
                line: line(rest)?,
            },
            ["events", rest @ ..] => Query::Events { line: line(rest)? },
            ["summary", field] => {
                if !Summary::FIELDS.contains(field) {
                    let known = Summary::FIELDS.join(", ");
                    return Err(format!("'{field}' is not a summary field: {known}"));
                }
                Query::Summary(field.to_string())
            }
            ["local", name, field] => {
                if !["size", "align", "len", "capacity"].contains(field) {
                    return Err(format!("'{field}' is not size, align, len or capacity"));
                }
                Query::Local {
                    name: name.to_string(),
                    field: field.to_string(),
                }
            }
            ["same-block", a, b] => Query::SameBlock(a.to_string(), b.to_string()),
            _ => return Err(usage.to_string()),
        })
    }

    /// The live run's answer, or why the run cannot answer it.
    pub fn evaluate(&self, trace: &Trace) -> Result<Value, String> {
        let number = |n: usize| Value::Number(n as u64);
        match self {
            Query::Observation { index, field } => {
                let observation = trace.observations.get(index - 1).ok_or_else(|| {
                    format!(
                        "{} has {} observations, not {index}",
                        trace.source.id,
                        trace.observations.len()
                    )
                })?;
                observation
                    .get(field)
                    .map(number)
                    .ok_or_else(|| format!("observation {index} has no field '{field}'"))
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
            Query::Summary(field) => trace
                .summary()
                .get(field)
                .map(Value::Number)
                .ok_or_else(|| format!("'{field}' is not a summary field")),
            Query::Local { name, field } => {
                let local = find_local(trace, name)?;
                let target = local.points_to;
                let value = match field.as_str() {
                    "size" => Some(local.size),
                    "align" => Some(local.align),
                    "len" => target.and_then(|t| t.len),
                    _ => target.and_then(|t| t.capacity),
                };
                value
                    .map(number)
                    .ok_or_else(|| format!("local '{name}' has no {field}"))
            }
            Query::SameBlock(a, b) => {
                let target = |name: &str| {
                    find_local(trace, name)?
                        .points_to
                        .map(|t| t.address)
                        .ok_or_else(|| format!("local '{name}' points nowhere"))
                };
                Ok(Value::YesNo(target(a)? == target(b)?))
            }
        }
    }

    /// Where an answer comes from, in words.
    pub fn describe(&self, scenario: &str) -> String {
        let on = |line: &Option<u32>| match line {
            Some(line) => format!(" on line {line}"),
            None => String::new(),
        };
        match self {
            Query::Observation { index, field } => {
                format!("{field} in observation {index} of this run of {scenario}")
            }
            Query::Count { kind, line } => {
                format!(
                    "{} events{} in this run of {scenario}",
                    kind.name(),
                    on(line)
                )
            }
            Query::Events { line } => format!("heap events{} in this run of {scenario}", on(line)),
            Query::Summary(field) => {
                format!("{} in this run of {scenario}", field.replace('_', " "))
            }
            Query::Local { name, field } => {
                format!("{field} of `{name}` in this run of {scenario}")
            }
            Query::SameBlock(a, b) => {
                format!("whether `{a}` and `{b}` point to the same block in this run of {scenario}")
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

fn find_local<'t>(trace: &'t Trace, name: &str) -> Result<&'t Local, String> {
    trace
        .locals
        .iter()
        .find(|l| l.name == name)
        .ok_or_else(|| format!("{} has no local named '{name}'", trace.source.id))
}

/// How a reader's answer compares with the live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    Differs,
    /// Not a number (or yes/no) at all.
    Unreadable,
}

/// Compares what the reader typed with the live run's answer.
pub fn judge(expected: Value, typed: &str) -> Verdict {
    let typed = typed.trim().to_ascii_lowercase();
    let given = match expected {
        Value::Number(_) => {
            // Accept "8", "8 bytes", "capacity 8": the first number typed.
            let digits: String = typed
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || *c == '_' || *c == ',')
                .filter(char::is_ascii_digit)
                .collect();
            digits.parse().ok().map(Value::Number)
        }
        Value::YesNo(_) => match typed.as_str() {
            "y" | "yes" | "true" => Some(Value::YesNo(true)),
            "n" | "no" | "false" => Some(Value::YesNo(false)),
            _ => None,
        },
    };
    match given {
        None => Verdict::Unreadable,
        Some(given) if given == expected => Verdict::Agrees,
        Some(_) => Verdict::Differs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_read_their_words_and_name_what_is_wrong() {
        let parse = |text: &str| Query::parse(&text.split_whitespace().collect::<Vec<_>>());
        assert_eq!(parse("events"), Ok(Query::Events { line: None }));
        assert_eq!(
            parse("events line 14"),
            Ok(Query::Events { line: Some(14) })
        );
        assert_eq!(
            parse("count realloc line 3"),
            Ok(Query::Count {
                kind: Kind::Realloc,
                line: Some(3)
            })
        );
        assert!(
            parse("count free")
                .unwrap_err()
                .contains("'free' is not an event kind")
        );
        assert!(
            parse("events line 0")
                .unwrap_err()
                .contains("not a line number")
        );
        assert!(
            parse("events line")
                .unwrap_err()
                .starts_with("an answer is one of")
        );
        assert!(
            parse("summary peak")
                .unwrap_err()
                .contains("dropped_probes")
        );
    }
}
