//! The one way a lesson asks a run a question. Predictions use it
//! (`answer <scenario> <query>`), live values in the prose use it
//! (`{{<query>}}`), and guarded passages use it in their conditions
//! (`::: when <query> = <value>`, in `condition`): how queries are written and
//! what the run answers; `answer` compares a reader's answer with it.
//!
//! A query is words; a word with spaces (an observation's label or field) is
//! written in double quotes: `observation "after join" "strong count"`.

use std::fmt;

use super::condition::{OPS, Op, literal};
use crate::trace::{Kind, Region, Summary};

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
    /// `<query> <op> <value>`: does the comparison hold? (yes/no) A
    /// prediction asks it when the run records a number and the reader
    /// should answer yes or no (`observation 4 upgrade = 1`).
    Holds {
        query: Box<Query>,
        op: Op,
        value: Value,
    },
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

pub(super) const LOCAL_FIELDS: [(&str, LocalField); 8] = [
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

pub(super) const USAGE: &str = "a query is one of: observation N|LABEL FIELD, count KIND|moved|in-place \
                     [line N], events [line N], event N FIELD, summary FIELD, local NAME [N] \
                     FIELD, same-block NAME NAME, leaked blocks|bytes, kept blocks|bytes, \
                     or one of these and a comparison (= 1, != 0, < 8 …) for a yes/no question";

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

pub(super) const REGION_NAMES: [&str; 7] = [
    "stack",
    "thread-stack",
    "heap",
    "mmap",
    "arena",
    "static",
    "unknown",
];
pub(super) const KIND_NAMES: [&str; 4] = ["alloc", "alloc_zeroed", "realloc", "dealloc"];

/// One word of a query: quoted words may hold spaces and are never keywords.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub quoted: bool,
}

impl Token {
    pub(super) fn is(&self, word: &str) -> bool {
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
        let op = |t: &Token| OPS.iter().find(|(s, _)| !t.quoted && *s == t.text);
        if let Some(at) = tokens.iter().position(|t| op(t).is_some()) {
            let query = Query::from_tokens(&tokens[..at])?;
            let Some(&(_, op)) = op(&tokens[at]) else {
                return Err(USAGE.to_string());
            };
            let answers = query.answers();
            let value = match &tokens[at + 1..] {
                [value] => literal(value, answers)?,
                _ => return Err(format!("compare `{query}` with one value")),
            };
            if answers != Answers::Number && !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!(
                    "`{query}` is not a number: compare it with = or !="
                ));
            }
            return Ok(Query::Holds {
                query: Box::new(query),
                op,
                value,
            });
        }
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
            | Query::SameBlock(..)
            | Query::Holds { .. } => Answers::YesNo,
            _ => Answers::Number,
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
            Query::Holds { query, op, value } => {
                let is = match op {
                    Op::Eq => "is",
                    Op::Ne => "is not",
                    Op::Lt => "is less than",
                    Op::Le => "is at most",
                    Op::Gt => "is more than",
                    Op::Ge => "is at least",
                };
                format!("whether {} {is} {value}", query.describe(scenario))
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
            Query::Holds { query, op, value } => write!(f, "{query} {op} {value}"),
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

pub(super) fn field_name<F: PartialEq>(fields: &[(&'static str, F)], field: &F) -> &'static str {
    fields
        .iter()
        .find(|(_, f)| f == field)
        .map_or("?", |(n, _)| n)
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
    fn a_comparison_makes_a_yes_no_question() {
        let parse = |text: &str| Query::parse(&text.split_whitespace().collect::<Vec<_>>());
        let holds = parse("observation 4 upgrade = 1").unwrap();
        assert_eq!(holds.answers(), Answers::YesNo);
        assert_eq!(holds.to_string(), "observation 4 upgrade = 1");
        assert_eq!(
            holds.describe("rc-arc"),
            "whether upgrade in observation 4 of this run of rc-arc is 1"
        );
        assert!(parse("event 1 region = mmap").is_ok());
        assert!(
            parse("event 1 region < mmap")
                .unwrap_err()
                .contains("not a number: compare it with = or !=")
        );
        assert!(parse("events = 1 2").unwrap_err().contains("one value"));
        assert!(parse("events = lots").unwrap_err().contains("not a number"));
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
}
