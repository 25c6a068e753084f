//! Prose bound to the run: live values and guarded passages.
//!
//! - `{{<query>}}` in a paragraph, heading, list item or inline code is
//!   replaced by the run's answer to the query (`event 1 region` → `mmap`).
//!   The query may start with a scenario id, and must when the lesson runs
//!   more than one scenario. It is written on one line, with no Markdown
//!   inside.
//! - Passages, each a paragraph (or list, quote, code) chosen by the run:
//!
//!   ```text
//!   ::: when big-data event 1 region = mmap
//!
//!   The block has a mapping of its own …
//!
//!   ::: when big-data event 1 region = heap
//!
//!   The block came from the heap …
//!
//!   ::: otherwise
//!
//!   memlab cannot tell where this allocator put it …
//!
//!   :::
//!   ```
//!
//!   The first passage whose condition holds is shown, else the `otherwise`
//!   passage, which every group must have: an honest text for every other
//!   outcome. Each `:::` line is a paragraph of its own (blank lines around
//!   it), at the top level of the lesson; passages hold prose only, never
//!   headings, evidence or predictions.
//!
//! Everything here is checked when the lesson is read, with file and line;
//! [`super::Plan`] evaluates what the run says.

use super::condition::{Condition, scenario_of};
use super::query::{Query, tokens};
use super::{Block, LiveValue, Passage, Passages, Scenarios, Span, SpanStyle, is_predict};

/// What a `:::` line says.
#[derive(Clone, Debug)]
pub(super) enum Directive {
    When(Condition),
    Otherwise,
    End,
}

/// The state of one lesson's live prose while it is parsed.
pub(super) struct Live<'a> {
    /// The scenario a query asks when it names none: the lesson's only one.
    default: Option<&'a str>,
    scenarios: &'a dyn Scenarios,
    next_value: usize,
    next_group: usize,
    /// `:::` lines: (index among the top-level blocks before which it
    /// stands, its line, what it says).
    directives: Vec<(usize, usize, Directive)>,
}

type Fail = (usize, String);

impl<'a> Live<'a> {
    pub(super) fn new(lesson_scenarios: &'a [String], scenarios: &'a dyn Scenarios) -> Live<'a> {
        Live {
            default: match lesson_scenarios {
                [only] => Some(only.as_str()),
                _ => None,
            },
            scenarios,
            next_value: 0,
            next_group: 0,
            directives: vec![],
        }
    }

    /// `text` (one Markdown text or code run starting on `line`) as spans,
    /// each `{{query}}` a live value.
    pub(super) fn spans(
        &mut self,
        text: &str,
        line: usize,
        style: SpanStyle,
    ) -> Result<Vec<Span>, Fail> {
        let mut spans = vec![];
        let mut rest = text;
        let mut line = line;
        let plain = |text: &str| Span {
            text: text.to_string(),
            style,
            live: None,
        };
        while let Some(start) = rest.find("{{") {
            let before = &rest[..start];
            line += before.matches('\n').count();
            if !before.is_empty() {
                spans.push(plain(before));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}").filter(|&end| !after[..end].contains('\n')) else {
                return Err((
                    line,
                    "a live value '{{…}}' is not closed on its line (write it on one \
                     line, with no Markdown inside)"
                        .into(),
                ));
            };
            let inside = &after[..end];
            let words = tokens(inside).map_err(|m| (line, m))?;
            let (scenario, words) =
                scenario_of(&words, self.default, &|id| self.scenarios.knows(id))
                    .map_err(|m| (line, format!("live value {{{{{inside}}}}}: {m}")))?;
            let query = Query::from_tokens(words)
                .map_err(|m| (line, format!("live value {{{{{inside}}}}}: {m}")))?;
            if query.is_address() {
                return Err((
                    line,
                    format!(
                        "live value {{{{{inside}}}}}: an address changes with every run; \
                         compare addresses in a '::: when' condition, and let the \
                         evidence show them"
                    ),
                ));
            }
            if self.next_value == super::MOST_VALUES {
                return Err((
                    line,
                    format!(
                        "a lesson may hold at most {} live values, and this is one more: \
                         split it",
                        super::MOST_VALUES
                    ),
                ));
            }
            self.next_value += 1;
            spans.push(Span {
                text: format!("{{{{{inside}}}}}"),
                style,
                live: Some(LiveValue {
                    id: self.next_value,
                    line,
                    scenario,
                    query,
                }),
            });
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            spans.push(plain(rest));
        }
        Ok(spans)
    }

    /// Notes a `:::` line found as the paragraph before top-level block
    /// `index`.
    pub(super) fn directive(&mut self, text: &str, line: usize, index: usize) -> Result<(), Fail> {
        let Some(rest) = text.trim().strip_prefix(":::") else {
            return Err((line, "not a ':::' line".into()));
        };
        let rest = rest.trim();
        let directive = if rest.is_empty() {
            Directive::End
        } else if rest == "otherwise" {
            Directive::Otherwise
        } else if let Some(condition) = rest.strip_prefix("when ") {
            let condition =
                Condition::parse(condition, self.default, &|id| self.scenarios.knows(id))
                    .map_err(|m| (line, format!("'::: when': {m}")))?;
            Directive::When(condition)
        } else {
            return Err((
                line,
                format!(
                    "a ':::' line is '::: when <condition>', '::: otherwise' or ':::', \
                     not '{text}'"
                ),
            ));
        };
        self.directives.push((index, line, directive));
        Ok(())
    }

    /// The top-level blocks with every group of passages folded into one
    /// [`Block::Passages`].
    pub(super) fn group(&mut self, blocks: Vec<Block>) -> Result<Vec<Block>, Fail> {
        struct Open {
            line: usize,
            passages: Vec<Passage>,
            current: Passage,
        }
        let mut out = vec![];
        let mut open: Option<Open> = None;
        let mut directives = std::mem::take(&mut self.directives).into_iter().peekable();
        let count = blocks.len();
        let mut blocks = blocks.into_iter();
        for index in 0..=count {
            while let Some((_, line, directive)) = directives.next_if(|(at, ..)| *at == index) {
                let passage = |when| Passage {
                    line,
                    when,
                    blocks: vec![],
                };
                open = match (open.take(), directive) {
                    (None, Directive::When(condition)) => Some(Open {
                        line,
                        passages: vec![],
                        current: passage(Some(condition)),
                    }),
                    (None, _) => {
                        return Err((
                            line,
                            "this ':::' line closes nothing: a group of passages starts \
                             with '::: when <condition>'"
                                .into(),
                        ));
                    }
                    (Some(mut group), directive) => {
                        let current = std::mem::replace(&mut group.current, passage(None));
                        if current.blocks.is_empty() {
                            return Err((current.line, "this passage is empty".into()));
                        }
                        let after_otherwise = current.when.is_none();
                        group.passages.push(current);
                        match directive {
                            _ if after_otherwise && !matches!(directive, Directive::End) => {
                                return Err((
                                    line,
                                    "'::: otherwise' is the last passage: close the group \
                                     with ':::'"
                                        .into(),
                                ));
                            }
                            Directive::When(condition) => {
                                group.current.when = Some(condition);
                                Some(group)
                            }
                            Directive::Otherwise => Some(group),
                            Directive::End if !after_otherwise => {
                                return Err((
                                    line,
                                    format!(
                                        "the passages from line {} need a '::: otherwise' \
                                         passage for every other outcome of the run",
                                        group.line
                                    ),
                                ));
                            }
                            Directive::End => {
                                self.next_group += 1;
                                out.push(Block::Passages(Passages {
                                    id: self.next_group,
                                    line: group.line,
                                    passages: group.passages,
                                }));
                                None
                            }
                        }
                    }
                };
            }
            let Some(block) = blocks.next() else { break };
            match open.as_mut() {
                None => out.push(block),
                Some(group) => {
                    let refused = match &block {
                        Block::Heading { .. } => Some("a heading"),
                        Block::Evidence { .. } => Some("evidence"),
                        Block::Answer(_) => Some("an answer"),
                        b if is_predict(b) => Some("a prediction"),
                        _ => None,
                    };
                    if let Some(what) = refused {
                        return Err((
                            group.current.line,
                            format!(
                                "{what} cannot go inside a passage: close the passages \
                                 with ':::' before it"
                            ),
                        ));
                    }
                    group.current.blocks.push(block);
                }
            }
        }
        match open {
            Some(group) => Err((
                group.line,
                "these passages are never closed: end them with a ':::' line".into(),
            )),
            None => Ok(out),
        }
    }
}

/// `raw` without its first `n` words and the space after them.
pub(super) fn after_words(raw: &str, n: usize) -> &str {
    let mut rest = raw.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest.trim_end()
}
