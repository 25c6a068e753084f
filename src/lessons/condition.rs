//! Guards of lesson passages: `::: when <query> = <value> [and …]`, each
//! clause asked of one scenario's run.

use std::fmt;

use super::query::{Answers, Query, Token, USAGE, VERBS, Value, tokens};
use crate::trace::Trace;

/// How a condition compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

pub(super) const OPS: [(&str, Op); 6] = [
    ("=", Op::Eq),
    ("!=", Op::Ne),
    ("<", Op::Lt),
    ("<=", Op::Le),
    (">", Op::Gt),
    (">=", Op::Ge),
];

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            OPS.iter()
                .find(|(_, op)| op == self)
                .map_or("?", |(s, _)| s),
        )
    }
}

/// What a query is compared with: a value, or another query of the same run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    Value(Value),
    Query(Query),
}

/// One comparison of a condition: `<query> <op> <value or query>`, asked of
/// one scenario's run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    pub scenario: String,
    pub query: Query,
    pub op: Op,
    pub operand: Operand,
}

/// A guard: clauses joined by `and`, all of which must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub clauses: Vec<Clause>,
}

/// What a run said about one clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub holds: bool,
    /// What the run answered (`mmap`, `6`), or why it could not answer.
    pub answer: Result<Value, String>,
}

impl Condition {
    /// Reads `<clause> [and <clause> …]`. Each clause may start with a
    /// scenario id (`scenario` says which words are ids); without one it
    /// asks `default` (the lesson's only scenario), or it is an error.
    pub fn parse(
        text: &str,
        default: Option<&str>,
        scenario: &dyn Fn(&str) -> bool,
    ) -> Result<Condition, String> {
        let tokens = tokens(text)?;
        let mut clauses = vec![];
        for part in tokens.split(|t| t.is("and")) {
            clauses.push(Clause::parse(part, default, scenario)?);
        }
        Ok(Condition { clauses })
    }

    /// Each clause's outcome in `trace_of`'s runs: a clause the run cannot
    /// answer does not hold.
    pub fn evaluate<'t>(&self, trace_of: &dyn Fn(&str) -> Option<&'t Trace>) -> Vec<Outcome> {
        self.clauses.iter().map(|c| c.evaluate(trace_of)).collect()
    }
}

/// Splits a leading scenario id off `tokens`: `(scenario, rest)`.
pub fn scenario_of<'a>(
    tokens: &'a [Token],
    default: Option<&str>,
    scenario: &dyn Fn(&str) -> bool,
) -> Result<(String, &'a [Token]), String> {
    let verb = |t: Option<&Token>| t.is_some_and(|t| !t.quoted && VERBS.contains(&t.text.as_str()));
    match tokens.first() {
        // A scenario id followed by a query (an id may be spelled like a verb).
        Some(first) if !first.quoted && scenario(&first.text) && verb(tokens.get(1)) => {
            Ok((first.text.clone(), &tokens[1..]))
        }
        Some(first) if !first.quoted && !verb(Some(first)) => {
            if scenario(&first.text) {
                Ok((first.text.clone(), &tokens[1..]))
            } else {
                Err(format!(
                    "'{}' is neither a scenario nor a query: {USAGE}",
                    first.text
                ))
            }
        }
        _ => match default {
            Some(default) => Ok((default.to_string(), tokens)),
            None => Err("name the scenario first: this lesson runs more than one \
                 (`<scenario> <query>`)"
                .into()),
        },
    }
}

impl Clause {
    fn parse(
        tokens: &[Token],
        default: Option<&str>,
        is_scenario: &dyn Fn(&str) -> bool,
    ) -> Result<Clause, String> {
        let (scenario, tokens) = scenario_of(tokens, default, is_scenario)?;
        let Some(at) = tokens
            .iter()
            .position(|t| !t.quoted && OPS.iter().any(|(s, _)| *s == t.text))
        else {
            return Err(format!(
                "a condition compares a query with a value: <query> = <value> \
                 (or !=, <, <=, >, >=), in '{}'",
                tokens
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        };
        let query = Query::from_tokens(&tokens[..at])?;
        let op = OPS
            .iter()
            .find(|(s, _)| *s == tokens[at].text)
            .map(|&(_, op)| op)
            .unwrap_or(Op::Eq);
        let mut rhs = &tokens[at + 1..];
        // The other side may name the scenario again, but not another one.
        if let [first, rest @ ..] = rhs
            && rest
                .first()
                .is_some_and(|t| !t.quoted && VERBS.contains(&t.text.as_str()))
            && !first.quoted
            && is_scenario(&first.text)
        {
            if first.text != scenario {
                return Err(format!(
                    "both sides of a comparison ask one run: {scenario}, not {}",
                    first.text
                ));
            }
            rhs = rest;
        }
        let answers = query.answers();
        let operand = match rhs {
            [] => return Err(format!("nothing to compare `{query}` with")),
            [first, ..] if !first.quoted && VERBS.contains(&first.text.as_str()) => {
                let other = Query::from_tokens(rhs)?;
                if other.answers() != answers {
                    return Err(format!(
                        "`{query}` and `{other}` answer different kinds of value"
                    ));
                }
                Operand::Query(other)
            }
            [value] => Operand::Value(literal(value, answers)?),
            _ => return Err(format!("compare with one value, not '{}'", join(rhs))),
        };
        if answers != Answers::Number && !matches!(op, Op::Eq | Op::Ne) {
            return Err(format!(
                "`{query}` is not a number: compare it with = or !="
            ));
        }
        Ok(Clause {
            scenario,
            query,
            op,
            operand,
        })
    }

    fn evaluate<'t>(&self, trace_of: &dyn Fn(&str) -> Option<&'t Trace>) -> Outcome {
        let Some(trace) = trace_of(&self.scenario) else {
            return Outcome {
                holds: false,
                answer: Err(format!("no run of {}", self.scenario)),
            };
        };
        let answer = self.query.evaluate(trace);
        let other = match &self.operand {
            Operand::Value(v) => Ok(*v),
            Operand::Query(q) => q.evaluate(trace),
        };
        let holds = match (&answer, other) {
            (Ok(a), Ok(b)) => compare(*a, self.op, b),
            _ => false,
        };
        Outcome { holds, answer }
    }
}

fn join(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value written in a condition, checked against what the query answers.
pub(super) fn literal(token: &Token, answers: Answers) -> Result<Value, String> {
    let text = token.text.as_str();
    match answers {
        Answers::Number => text
            .parse()
            .map(Value::Number)
            .map_err(|_| format!("'{text}' is not a number")),
        Answers::YesNo => match text {
            "yes" => Ok(Value::YesNo(true)),
            "no" => Ok(Value::YesNo(false)),
            _ => Err(format!("'{text}' is not yes or no")),
        },
        Answers::Word(words) => words
            .iter()
            .find(|w| **w == text)
            .map(|w| Value::Word(w))
            .ok_or_else(|| format!("'{text}' is not one of {}", words.join(", "))),
    }
}

pub(super) fn compare(a: Value, op: Op, b: Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        },
        (a, b) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => false,
        },
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Value(v) => write!(f, "{v}"),
            Operand::Query(q) => write!(f, "{q}"),
        }
    }
}

/// The clause as a lesson writes it, its scenario always named.
impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.scenario, self.query, self.op, self.operand
        )
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{clause}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_check_their_values_before_any_run() {
        let scenario = |id: &str| id == "big-data";
        let parse = |text: &str| Condition::parse(text, Some("box"), &scenario);
        let condition = parse("big-data event 1 region = mmap and event 2 size >= 32").unwrap();
        assert_eq!(
            condition.to_string(),
            "big-data event 1 region = mmap and box event 2 size >= 32"
        );
        assert!(
            parse("event 1 region = mapped")
                .unwrap_err()
                .contains("not one of stack")
        );
        assert!(
            parse("event 1 region > heap")
                .unwrap_err()
                .contains("= or !=")
        );
        assert!(
            parse("event 1 moved = 1")
                .unwrap_err()
                .contains("not yes or no")
        );
        assert!(
            parse("event 1 size")
                .unwrap_err()
                .contains("compares a query")
        );
        assert!(
            parse("big-dat event 1 size = 3")
                .unwrap_err()
                .contains("neither a scenario")
        );
        assert!(
            Condition::parse("event 1 size = 3", None, &scenario)
                .unwrap_err()
                .contains("name the scenario")
        );
        let other = parse("count moved = summary reallocs").unwrap();
        assert!(matches!(other.clauses[0].operand, Operand::Query(_)));
        assert!(parse("count moved = event 1 region").is_err());
    }
}
