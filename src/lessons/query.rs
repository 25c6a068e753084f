//! The one way a lesson asks a run a question. Predictions use it
//! (`answer <scenario> <query>`), live values in the prose use it
//! (`{{<query>}}`), and guarded passages use it in their conditions
//! (`::: when <query> = <value>`): how queries and conditions are written,
//! what the run answers, and how a reader's answer compares.
//!
//! A query is words; a word with spaces (an observation's label or field) is
//! written in double quotes: `observation "after join" "strong count"`.

use std::fmt;

use crate::trace::{Kind, Local, Region, Summary, Trace, block_containing};

/// A fact of a trace that a lesson asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// `observation N|LABEL FIELD`: a field of the N-th observation (1-based),
    /// or of the first observation with that label; the field `after-event`
    /// is the number of heap events before it.
    Observation { at: Observed, field: String },
    /// `count KIND [line N]`: how many events of one kind (caused by line N).
    Count { kind: Kind, line: Option<u32> },
    /// `count moved|in-place [line N]`: how many reallocations gave the block
    /// a new address, or kept it.
    Moves { moved: bool, line: Option<u32> },
    /// `events [line N]`: how many heap events in all (caused by line N).
    Events { line: Option<u32> },
    /// `event N FIELD`: a fact of the event numbered N (the `#` column).
    Event { seq: usize, field: EventField },
    /// `summary FIELD`: a summary figure by its JSON name.
    Summary(String),
    /// `local NAME [N] FIELD`: a fact of the first (or N-th) local so named.
    Local {
        name: String,
        nth: usize,
        field: LocalField,
    },
    /// `same-block A B`: do locals A and B point to the same address? (yes/no)
    SameBlock(String, String),
    /// `leaked blocks|bytes`, `kept blocks|bytes`: the leak report's totals,
    /// leaked blocks or blocks kept alive on purpose.
    Live { kept: bool, bytes: bool },
}

/// Which observation a query reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    Index(usize),
    Label(String),
}

/// What `event N` asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventField {
    Kind,
    Size,
    Align,
    /// What the allocator really reserved (the `reserved` column).
    Reserved,
    Region,
    /// A realloc: did the block get a new address? (yes/no)
    Moved,
    Line,
    /// A realloc: the block's size before it.
    OldSize,
    /// The block's address: for comparing in a condition, never for the prose.
    Address,
}

/// What `local NAME` asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalField {
    Size,
    Align,
    Len,
    Capacity,
    /// Where the local itself is.
    Region,
    /// Where what it points to is.
    PointsTo,
    /// How far into its heap block it points.
    Offset,
    /// Its own address: for comparing in a condition (`<`: lower in
    /// memory), never for the prose.
    Address,
}

const EVENT_FIELDS: [(&str, EventField); 9] = [
    ("kind", EventField::Kind),
    ("size", EventField::Size),
    ("align", EventField::Align),
    ("reserved", EventField::Reserved),
    ("region", EventField::Region),
    ("moved", EventField::Moved),
    ("line", EventField::Line),
    ("old-size", EventField::OldSize),
    ("address", EventField::Address),
];

const LOCAL_FIELDS: [(&str, LocalField); 8] = [
    ("size", LocalField::Size),
    ("align", LocalField::Align),
    ("len", LocalField::Len),
    ("capacity", LocalField::Capacity),
    ("region", LocalField::Region),
    ("points-to", LocalField::PointsTo),
    ("offset", LocalField::Offset),
    ("address", LocalField::Address),
];

/// The names of the regions, as tables print them.
const REGIONS: [Region; 7] = [
    Region::Stack,
    Region::ThreadStack,
    Region::Heap,
    Region::Mmap,
    Region::Arena,
    Region::Static,
    Region::Unknown,
];

/// The words that start a query.
pub const VERBS: [&str; 9] = [
    "observation",
    "count",
    "events",
    "event",
    "summary",
    "local",
    "same-block",
    "leaked",
    "kept",
];

const USAGE: &str = "a query is one of: observation N|LABEL FIELD, count KIND|moved|in-place \
                     [line N], events [line N], event N FIELD, summary FIELD, local NAME [N] \
                     FIELD, same-block NAME NAME, leaked blocks|bytes, kept blocks|bytes";

/// The live run's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Number(u64),
    YesNo(bool),
    /// A name from a fixed set: a region (`mmap`), an event kind (`alloc`).
    Word(&'static str),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::YesNo(true) => f.write_str("yes"),
            Value::YesNo(false) => f.write_str("no"),
            Value::Word(w) => f.write_str(w),
        }
    }
}

/// What kind of value a query answers with, for checking what it is compared
/// with before any run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answers {
    Number,
    YesNo,
    /// One of these words.
    Word(&'static [&'static str]),
}

const REGION_NAMES: [&str; 7] = [
    "stack",
    "thread-stack",
    "heap",
    "mmap",
    "arena",
    "static",
    "unknown",
];
const KIND_NAMES: [&str; 4] = ["alloc", "alloc_zeroed", "realloc", "dealloc"];

/// One word of a query: quoted words may hold spaces and are never keywords.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub quoted: bool,
}

impl Token {
    fn is(&self, word: &str) -> bool {
        !self.quoted && self.text == word
    }
}

/// Splits `text` into words at whitespace; `"…"` is one word.
pub fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = vec![];
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut word = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => word.push(c),
                    None => return Err(format!("a quote is not closed: {text}")),
                }
            }
            out.push(Token {
                text: word,
                quoted: true,
            });
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(Token {
                text: word,
                quoted: false,
            });
        }
    }
    Ok(out)
}

/// A word as a query writes it: quoted when it holds anything but a plain word.
fn word(text: &str) -> String {
    let plain = !text.is_empty()
        && !VERBS.contains(&text)
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '\''));
    if plain {
        text.to_string()
    } else {
        format!("\"{text}\"")
    }
}

fn number(token: Option<&Token>, what: &str) -> Result<usize, String> {
    let token = token.ok_or_else(|| USAGE.to_string())?;
    token
        .text
        .parse()
        .ok()
        .filter(|&n: &usize| n > 0 && !token.quoted)
        .ok_or_else(|| format!("'{}' is not {what} (1, 2, …)", token.text))
}

impl Query {
    /// Reads a query from plain words (no quotes), as after `answer <scenario>`.
    pub fn parse(words: &[&str]) -> Result<Query, String> {
        let tokens: Vec<Token> = words
            .iter()
            .map(|w| Token {
                text: w.to_string(),
                quoted: false,
            })
            .collect();
        Query::from_tokens(&tokens)
    }

    /// Reads a query from its text, where `"…"` quotes a word with spaces.
    pub fn from_text(text: &str) -> Result<Query, String> {
        Query::from_tokens(&tokens(text)?)
    }

    /// Reads a query from its words.
    pub fn from_tokens(tokens: &[Token]) -> Result<Query, String> {
        let line = |rest: &[Token]| -> Result<Option<u32>, String> {
            match rest {
                [] => Ok(None),
                [l, n] if l.is("line") => n
                    .text
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .map(Some)
                    .ok_or_else(|| format!("'{}' is not a line number (1, 2, …)", n.text)),
                _ => Err(USAGE.to_string()),
            }
        };
        let Some(verb) = tokens.first().filter(|t| !t.quoted) else {
            return Err(USAGE.to_string());
        };
        let rest = &tokens[1..];
        Ok(match (verb.text.as_str(), rest) {
            ("observation", [at, field]) => {
                let at = if !at.quoted && at.text.chars().all(|c| c.is_ascii_digit()) {
                    Observed::Index(number(Some(at), "an observation number")?)
                } else {
                    Observed::Label(at.text.clone())
                };
                Query::Observation {
                    at,
                    field: field.text.clone(),
                }
            }
            ("count", [kind, rest @ ..]) if kind.is("moved") || kind.is("in-place") => {
                Query::Moves {
                    moved: kind.is("moved"),
                    line: line(rest)?,
                }
            }
            ("count", [kind, rest @ ..]) => Query::Count {
                kind: Kind::from_name(&kind.text)
                    .filter(|_| !kind.quoted)
                    .ok_or_else(|| {
                        format!(
                            "'{}' is not an event kind: {}, moved or in-place",
                            kind.text,
                            KIND_NAMES.join(", ")
                        )
                    })?,
                line: line(rest)?,
            },
            ("events", rest) => Query::Events { line: line(rest)? },
            ("event", [seq, field]) => Query::Event {
                seq: number(Some(seq), "an event number")?,
                field: field_named(&EVENT_FIELDS, field, "an event")?,
            },
            ("summary", [field]) => {
                if !Summary::FIELDS.contains(&field.text.as_str()) {
                    let known = Summary::FIELDS.join(", ");
                    return Err(format!("'{}' is not a summary field: {known}", field.text));
                }
                Query::Summary(field.text.clone())
            }
            ("local", [name, field]) => Query::Local {
                name: name.text.clone(),
                nth: 1,
                field: field_named(&LOCAL_FIELDS, field, "a local")?,
            },
            ("local", [name, nth, field]) => Query::Local {
                name: name.text.clone(),
                nth: number(Some(nth), "a position")?,
                field: field_named(&LOCAL_FIELDS, field, "a local")?,
            },
            ("same-block", [a, b]) => Query::SameBlock(a.text.clone(), b.text.clone()),
            ("leaked" | "kept", [what]) if what.is("blocks") || what.is("bytes") => Query::Live {
                kept: verb.text == "kept",
                bytes: what.is("bytes"),
            },
            _ => return Err(USAGE.to_string()),
        })
    }

    /// Whether the answer is an address, which a condition may compare but
    /// the prose never prints.
    pub fn is_address(&self) -> bool {
        matches!(
            self,
            Query::Local {
                field: LocalField::Address,
                ..
            } | Query::Event {
                field: EventField::Address,
                ..
            }
        )
    }

    /// What kind of value the query answers with.
    pub fn answers(&self) -> Answers {
        match self {
            Query::Event {
                field: EventField::Region,
                ..
            }
            | Query::Local {
                field: LocalField::Region | LocalField::PointsTo,
                ..
            } => Answers::Word(&REGION_NAMES),
            Query::Event {
                field: EventField::Kind,
                ..
            } => Answers::Word(&KIND_NAMES),
            Query::Event {
                field: EventField::Moved,
                ..
            }
            | Query::SameBlock(..) => Answers::YesNo,
            _ => Answers::Number,
        }
    }

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

    /// Where an answer comes from, in words.
    pub fn describe(&self, scenario: &str) -> String {
        let on = |line: &Option<u32>| match line {
            Some(line) => format!(" on line {line}"),
            None => String::new(),
        };
        match self {
            Query::Observation { at, field } => {
                format!("{field} in observation {at} of this run of {scenario}")
            }
            Query::Count { kind, line } => {
                format!(
                    "{} events{} in this run of {scenario}",
                    kind.name(),
                    on(line)
                )
            }
            Query::Moves { moved, line } => format!(
                "reallocations{} that {} in this run of {scenario}",
                on(line),
                if *moved {
                    "moved the block"
                } else {
                    "kept the block in place"
                }
            ),
            Query::Events { line } => format!("heap events{} in this run of {scenario}", on(line)),
            Query::Event { seq, field } => format!(
                "the {} of event #{seq} in this run of {scenario}",
                field_name(&EVENT_FIELDS, field)
            ),
            Query::Summary(field) => {
                format!("{} in this run of {scenario}", field.replace('_', " "))
            }
            Query::Local { name, nth, field } => {
                let which = if *nth == 1 {
                    String::new()
                } else {
                    format!(" (row {nth} of that name)")
                };
                format!(
                    "{} of `{name}`{which} in this run of {scenario}",
                    field_name(&LOCAL_FIELDS, field)
                )
            }
            Query::SameBlock(a, b) => {
                format!("whether `{a}` and `{b}` point to the same block in this run of {scenario}")
            }
            Query::Live { kept, bytes } => format!(
                "{} {} at the end of this run of {scenario}",
                if *bytes { "bytes in blocks" } else { "blocks" },
                if *kept {
                    "kept alive on purpose"
                } else {
                    "leaked"
                }
            ),
        }
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Index(n) => write!(f, "{n}"),
            Observed::Label(label) => f.write_str(&word(label)),
        }
    }
}

/// The query as a lesson writes it (and as [`Query::from_text`] reads it).
impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = |line: &Option<u32>| line.map_or(String::new(), |l| format!(" line {l}"));
        match self {
            Query::Observation { at, field } => write!(f, "observation {at} {}", word(field)),
            Query::Count { kind, line: l } => write!(f, "count {}{}", kind.name(), line(l)),
            Query::Moves { moved, line: l } => write!(
                f,
                "count {}{}",
                if *moved { "moved" } else { "in-place" },
                line(l)
            ),
            Query::Events { line: l } => write!(f, "events{}", line(l)),
            Query::Event { seq, field } => {
                write!(f, "event {seq} {}", field_name(&EVENT_FIELDS, field))
            }
            Query::Summary(field) => write!(f, "summary {field}"),
            Query::Local { name, nth, field } => {
                write!(f, "local {}", word(name))?;
                if *nth != 1 {
                    write!(f, " {nth}")?;
                }
                write!(f, " {}", field_name(&LOCAL_FIELDS, field))
            }
            Query::SameBlock(a, b) => write!(f, "same-block {} {}", word(a), word(b)),
            Query::Live { kept, bytes } => write!(
                f,
                "{} {}",
                if *kept { "kept" } else { "leaked" },
                if *bytes { "bytes" } else { "blocks" }
            ),
        }
    }
}

fn field_named<F: Copy>(fields: &[(&str, F)], token: &Token, what: &str) -> Result<F, String> {
    fields
        .iter()
        .find(|(name, _)| token.is(name))
        .map(|&(_, f)| f)
        .ok_or_else(|| {
            let known: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
            format!(
                "'{}' is not a field of {what}: {}",
                token.text,
                known.join(", ")
            )
        })
}

fn field_name<F: PartialEq>(fields: &[(&'static str, F)], field: &F) -> &'static str {
    fields
        .iter()
        .find(|(_, f)| f == field)
        .map_or("?", |(n, _)| n)
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

const OPS: [(&str, Op); 6] = [
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
fn literal(token: &Token, answers: Answers) -> Result<Value, String> {
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

fn compare(a: Value, op: Op, b: Value) -> bool {
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

/// How a reader's answer compares with the live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    Differs,
    /// Not a number (or yes/no, or one of the words) at all.
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
        Value::Word(word) => {
            let known = REGION_NAMES.iter().chain(&KIND_NAMES);
            match known.into_iter().find(|w| **w == typed) {
                Some(w) if *w == word => Some(expected),
                Some(_) => Some(Value::Word("")),
                None => None,
            }
        }
    };
    match given {
        None => Verdict::Unreadable,
        Some(given) if given == expected => Verdict::Agrees,
        Some(_) => Verdict::Differs,
    }
}

/// The region named `name`, as tables print it.
pub fn region_named(name: &str) -> Option<Region> {
    REGIONS.into_iter().find(|r| r.name() == name)
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
                .starts_with("a query is one of")
        );
        assert!(
            parse("summary peak")
                .unwrap_err()
                .contains("dropped_probes")
        );
        assert!(
            parse("event 1 colour")
                .unwrap_err()
                .contains("not a field of an event: kind, size")
        );
        assert!(
            parse("event 0 size")
                .unwrap_err()
                .contains("not an event number")
        );
    }

    #[test]
    fn quoted_words_hold_spaces_and_every_query_prints_as_it_reads() {
        for text in [
            "observation \"after join\" \"strong count\"",
            "observation 2 signal",
            "observation \"worker's stack\" KiB",
            "observation 1 after-event",
            "count moved line 14",
            "count in-place",
            "count alloc_zeroed",
            "events line 3",
            "event 1 region",
            "event 12 old-size",
            "summary peak_live_bytes",
            "local generous 2 capacity",
            "local \"rows[0]\" region",
            "local literal points-to",
            "same-block a b",
            "leaked bytes",
            "kept blocks",
        ] {
            let query = Query::from_text(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(query.to_string(), text);
            assert_eq!(Query::from_text(&query.to_string()), Ok(query));
        }
        assert!(Query::from_text("observation \"open").is_err());
    }

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

    #[test]
    fn readers_may_answer_with_a_word() {
        assert_eq!(judge(Value::Word("mmap"), " MMAP "), Verdict::Agrees);
        assert_eq!(judge(Value::Word("mmap"), "heap"), Verdict::Differs);
        assert_eq!(judge(Value::Word("mmap"), "somewhere"), Verdict::Unreadable);
        assert_eq!(judge(Value::Number(8), "8 bytes"), Verdict::Agrees);
    }
}
