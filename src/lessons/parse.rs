//! Reading a lesson file: front matter, Markdown, directives and predictions,
//! each problem reported with its line.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::live::{Live, after_words};
use super::query::Query;
use super::{
    Answer, Block, Chart, DiagramAt, EXCERPTS, Lesson, LessonError, Listed, MOST_BYTES,
    MOST_EVENTS, MOST_NESTING, MOST_VIEWS, Meta, Scenarios, Span, SpanStyle, View, is_predict,
};
use crate::text::{clean, clean_line};

/// Parses and validates one lesson.
pub fn parse(
    id: &str,
    origin: &str,
    text: &str,
    scenarios: &dyn Scenarios,
) -> Result<Lesson, LessonError> {
    let error = |line: usize, message: String| LessonError {
        origin: origin.to_string(),
        line,
        message,
    };
    let (meta, body, body_line) = header(id, origin, text, scenarios)?;
    // Where each line starts, found once: an event's line is a binary search.
    let newlines: Vec<usize> = body.match_indices('\n').map(|(i, _)| i).collect();
    let line_of = |offset: usize| body_line + newlines.partition_point(|&n| n < offset);
    let mut live = Live::new(&meta.scenarios, scenarios);
    let blocks = markdown(body, &line_of, scenarios, &mut live)
        .and_then(|blocks| live.group(blocks))
        .map_err(|(line, m)| error(line, m))?;
    let lesson = Lesson {
        id: id.to_string(),
        meta,
        origin: origin.to_string(),
        blocks,
    };
    check_predictions(&lesson).map_err(|(line, m)| error(line, m))?;
    Ok(lesson)
}

/// A lesson's front matter, parsed and validated, without its body: what
/// `memlab list` shows.
pub fn front(
    id: &str,
    origin: &str,
    text: &str,
    scenarios: &dyn Scenarios,
) -> Result<Listed, LessonError> {
    let (meta, _, _) = header(id, origin, text, scenarios)?;
    Ok(Listed {
        id: id.to_string(),
        meta,
        origin: origin.to_string(),
    })
}

/// Checks the size and the id, and parses the front matter: it, the body
/// and the body's first line number.
fn header<'t>(
    id: &str,
    origin: &str,
    text: &'t str,
    scenarios: &dyn Scenarios,
) -> Result<(Meta, &'t str, usize), LessonError> {
    let error = |line: usize, message: String| LessonError {
        origin: origin.to_string(),
        line,
        message,
    };
    if text.len() > MOST_BYTES {
        return Err(error(1, too_big(&text.len().to_string())));
    }
    let valid_id = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_id {
        return Err(error(
            1,
            format!("'{id}' is not a lesson id: name the file with a-z, 0-9 and '-'"),
        ));
    }
    let (meta, body, body_line) = front_matter(text).map_err(|(line, m)| error(line, m))?;
    for scenario in &meta.scenarios {
        if !scenarios.knows(scenario) {
            // The front matter line that names it (the file's first lines).
            let quoted = format!("\"{scenario}\"");
            let line = text
                .lines()
                .take(body_line)
                .position(|l| l.contains(&quoted))
                .map_or(2, |i| i + 1);
            return Err(error(line, unknown_scenario(scenario, scenarios)));
        }
    }
    Ok((meta, body, body_line))
}

/// The error for a lesson of `size` bytes, over [`MOST_BYTES`].
pub(super) fn too_big(size: &str) -> String {
    format!("it holds {size} bytes: a lesson may hold at most {MOST_BYTES} (1 MiB); split it")
}

fn unknown_scenario(id: &str, scenarios: &dyn Scenarios) -> String {
    let hint = match scenarios.closest(id).first() {
        Some(near) => format!(" (did you mean '{near}'?)"),
        None => String::new(),
    };
    format!("no scenario named '{}'{hint}", id.escape_debug())
}

/// Splits off and parses the `+++` front matter; returns it, the body and the
/// body's first line number.
fn front_matter(text: &str) -> Result<(Meta, &str, usize), (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        return Err((
            1,
            "a lesson starts with front matter between '+++' lines".into(),
        ));
    };
    let Some(end) = rest.find("\n+++") else {
        return Err((1, "the front matter has no closing '+++' line".into()));
    };
    let toml_text = &rest[..=end];
    let mut meta: Meta = toml::from_str(toml_text).map_err(|e| {
        let line = e
            .span()
            .map_or(0, |span| toml_text[..span.start].matches('\n').count());
        (line + 2, format!("front matter: {}", e.message()))
    })?;
    // TOML's escapes (`\u001b`) can spell any character: its values are
    // cleaned as they come out, like the Markdown's text.
    for value in [&mut meta.title, &mut meta.summary]
        .into_iter()
        .chain(&mut meta.scenarios)
    {
        *value = clean_line(value).into_owned();
    }
    let after = &rest[end + 4..];
    let body = after
        .strip_prefix("\r\n")
        .or_else(|| after.strip_prefix('\n'))
        .unwrap_or(after);
    let body_line = text[..text.len() - body.len()].matches('\n').count() + 1;
    Ok((meta, body, body_line))
}

/// The Markdown body as blocks, directives parsed.
fn markdown(
    body: &str,
    line_of: &dyn Fn(usize) -> usize,
    scenarios: &dyn Scenarios,
    live: &mut Live,
) -> Result<Vec<Block>, (usize, String)> {
    let mut stack: Vec<Frame> = vec![Frame::new(Container::Root)];
    let mut style = SpanStyle::default();
    let mut code: Option<(String, String, usize)> = None; // (info, text, line)
    // Whether the text that comes next starts a line of its paragraph.
    let mut line_start = true;
    // Open quotes and lists, and the pieces of evidence so far.
    let mut nesting = 0;
    let mut views = 0;
    for (count, (event, range)) in Parser::new_ext(body, Options::empty())
        .into_offset_iter()
        .enumerate()
    {
        let line = line_of(range.start);
        if count == MOST_EVENTS {
            return Err((
                line,
                format!(
                    "a lesson may hold at most {MOST_EVENTS} pieces of Markdown (paragraphs, \
                     headings, items, runs of styled text), and this is one more: split it"
                ),
            ));
        }
        let starts_line = std::mem::replace(&mut line_start, false);
        if let Some((_, text, _)) = code.as_mut() {
            match event {
                Event::Text(t) => text.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let (info, text, start) = code.take().unwrap_or_default();
                    let text = clean(&text).into_owned();
                    let block = code_block(&info, text, start, scenarios)?;
                    if let Block::Evidence { views: v, .. } = &block {
                        views += v.len();
                        if views > MOST_VIEWS {
                            return Err((
                                start,
                                format!(
                                    "a lesson shows at most {MOST_VIEWS} pieces of evidence; \
                                     this is one more: split the lesson"
                                ),
                            ));
                        }
                    }
                    top(&mut stack).blocks.push(block);
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((info, String::new(), line));
            }
            Event::Start(Tag::Paragraph) => {
                stack.push(Frame::new(Container::Paragraph));
                line_start = true;
            }
            Event::Start(Tag::Heading { level, .. }) => {
                stack.push(Frame::new(Container::Heading(heading_level(level))));
            }
            Event::Start(Tag::BlockQuote(_) | Tag::List(_)) if nesting == MOST_NESTING => {
                return Err((
                    line,
                    format!(
                        "quotes and lists nest more than {MOST_NESTING} deep here: \
                         a lesson may nest them at most {MOST_NESTING} deep"
                    ),
                ));
            }
            Event::Start(Tag::BlockQuote(_)) => {
                nesting += 1;
                stack.push(Frame::new(Container::Quote));
            }
            Event::Start(Tag::List(start)) => {
                nesting += 1;
                stack.push(Frame::new(Container::List(start)));
            }
            Event::Start(Tag::Item) => stack.push(Frame::new(Container::Item)),
            Event::Start(Tag::Emphasis) => style.emphasis = true,
            Event::Start(Tag::Strong) => style.strong = true,
            Event::Start(Tag::Link { .. }) => style.link = true,
            Event::End(TagEnd::Emphasis) => style.emphasis = false,
            Event::End(TagEnd::Strong) => style.strong = false,
            Event::End(TagEnd::Link) => style.link = false,
            Event::Text(t) => {
                let t = clean(&t);
                let text_so_far = top(&mut stack).spans.first().map(|s| s.text.as_str());
                if t.starts_with(":::") && starts_line && text_so_far.is_some() {
                    return Err((line, "a ':::' line needs a blank line before it".into()));
                }
                for span in live.spans(&t, line, style)? {
                    push_span(&mut stack, span);
                }
            }
            Event::Code(t) => {
                let t = clean(&t);
                let code = SpanStyle {
                    code: true,
                    ..style
                };
                for span in live.spans(&t, line, code)? {
                    push_span(&mut stack, span);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                let frame = top(&mut stack);
                if frame
                    .spans
                    .first()
                    .is_some_and(|s| s.text.starts_with(":::"))
                {
                    return Err((line, "a ':::' line needs a blank line after it".into()));
                }
                push_span(&mut stack, plain(" ", style));
                line_start = true;
            }
            Event::Rule => top(&mut stack).blocks.push(Block::Rule),
            Event::End(TagEnd::Item) => {
                let mut item = pop(&mut stack);
                // A tight list item holds its text bare, without a paragraph.
                if !item.spans.is_empty() {
                    let spans = std::mem::take(&mut item.spans);
                    item.blocks.insert(0, Block::Paragraph(spans));
                }
                top(&mut stack).items.push(item.blocks);
            }
            Event::End(TagEnd::Paragraph) => {
                let frame = pop(&mut stack);
                let text: String = frame.spans.iter().map(|s| s.text.as_str()).collect();
                if text.starts_with(":::") {
                    if stack.len() > 1 {
                        return Err((
                            line,
                            "a ':::' line goes at the top level of a lesson, not in a list                              or quote"
                                .into(),
                        ));
                    }
                    live.directive(&text, line, top(&mut stack).blocks.len())?;
                } else if let Some(block) = frame.finish() {
                    top(&mut stack).blocks.push(block);
                }
            }
            Event::End(TagEnd::Heading(_) | TagEnd::BlockQuote(_) | TagEnd::List(_)) => {
                if !matches!(event, Event::End(TagEnd::Heading(_))) {
                    nesting -= 1;
                }
                if let Some(block) = pop(&mut stack).finish() {
                    top(&mut stack).blocks.push(block);
                }
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                return Err((line, "HTML is not supported in lessons".into()));
            }
            _ => {}
        }
    }
    Ok(stack.pop().map(|f| f.blocks).unwrap_or_default())
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        _ => 4,
    }
}

enum Container {
    Root,
    Paragraph,
    Heading(u8),
    Quote,
    List(Option<u64>),
    Item,
}

/// An open Markdown container while parsing.
struct Frame {
    container: Container,
    spans: Vec<Span>,
    blocks: Vec<Block>,
    items: Vec<Vec<Block>>,
}

impl Frame {
    fn new(container: Container) -> Frame {
        Frame {
            container,
            spans: vec![],
            blocks: vec![],
            items: vec![],
        }
    }

    fn finish(self) -> Option<Block> {
        match self.container {
            Container::Root | Container::Item => None,
            Container::Paragraph => Some(Block::Paragraph(self.spans)),
            Container::Heading(level) => Some(Block::Heading {
                level,
                text: self.spans,
            }),
            Container::Quote => Some(Block::Quote(self.blocks)),
            Container::List(start) => Some(Block::List {
                start,
                items: self.items,
            }),
        }
    }
}

fn pop(stack: &mut Vec<Frame>) -> Frame {
    // The parser balances every start with an end, so the root is never popped
    // here; an empty stack would only mean a parser bug, and yields a no-op.
    if stack.len() > 1 {
        stack.pop().unwrap_or_else(|| Frame::new(Container::Root))
    } else {
        Frame::new(Container::Root)
    }
}

fn top(stack: &mut [Frame]) -> &mut Frame {
    stack
        .last_mut()
        .expect("the root frame is never popped before the end")
}

/// A span of text with no live value.
fn plain(text: &str, style: SpanStyle) -> Span {
    Span {
        text: text.to_string(),
        style,
        live: None,
    }
}

/// Appends `span`, merged into the last span when both are text of one style.
fn push_span(stack: &mut [Frame], span: Span) {
    let frame = top(stack);
    match frame.spans.last_mut() {
        Some(last) if last.style == span.style && last.live.is_none() && span.live.is_none() => {
            last.text.push_str(&span.text)
        }
        _ => frame.spans.push(span),
    }
}

/// A fenced block: a `memlab` directive, or code shown as is.
fn code_block(
    info: &str,
    text: String,
    line: usize,
    scenarios: &dyn Scenarios,
) -> Result<Block, (usize, String)> {
    if info.split_whitespace().next() != Some("memlab") {
        return Ok(Block::Code { text });
    }
    let first = line + 1;
    let mut views = vec![];
    let mut answer: Option<Answer> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = first + i;
        let words: Vec<&str> = raw.split_whitespace().collect();
        let Some(&verb) = words.first() else {
            continue;
        };
        if let Some(why) = raw.trim().strip_prefix("why:") {
            if why.contains("{{") {
                return Err((
                    line,
                    "a 'why:' explains the rule; live values go in the prose".into(),
                ));
            }
            match answer.as_mut() {
                Some(a) => a.why = Some(why.trim().to_string()),
                None => return Err((line, "'why:' belongs after an 'answer' line".into())),
            }
            continue;
        }
        let scenario = |n: usize| -> Result<String, (usize, String)> {
            let id = words
                .get(n)
                .ok_or((line, format!("'{verb}' needs a scenario id")))?;
            if scenarios.knows(id) {
                Ok(id.to_string())
            } else {
                Err((line, unknown_scenario(id, scenarios)))
            }
        };
        let view = match verb {
            "source" => View::Source(scenario(1)?),
            "events" => View::Events(scenario(1)?),
            "stack" => View::Stack(scenario(1)?),
            "observations" => View::Observations(scenario(1)?),
            "summary" => View::Summary(scenario(1)?),
            "leaks" => View::Leaks(scenario(1)?),
            "excerpt" => excerpt(&words, line)?,
            "diagram" => View::Diagram {
                scenario: scenario(1)?,
                at: match words.get(2..) {
                    Some([]) | None => DiagramAt::All,
                    Some(["end"]) => DiagramAt::End,
                    Some(["after", local]) => DiagramAt::After(local.to_string()),
                    _ => {
                        return Err((line, "use: diagram <scenario> [after <local> | end]".into()));
                    }
                },
            },
            "chart" => View::Chart {
                scenario: scenario(1)?,
                chart: match words.get(2) {
                    Some(&"capacity") => Chart::Capacity,
                    Some(&"live") => Chart::Live,
                    _ => return Err((line, "use: chart <scenario> capacity|live".into())),
                },
            },
            "answer" => {
                if answer.is_some() || !views.is_empty() {
                    return Err((line, "an 'answer' goes in a memlab block of its own".into()));
                }
                answer = Some(Answer {
                    line,
                    scenario: scenario(1)?,
                    query: Query::from_text(after_words(raw, 2)).map_err(|m| (line, m))?,
                    why: None,
                });
                continue;
            }
            other => {
                return Err((
                    line,
                    format!(
                        "unknown directive '{other}': use source, events, stack, \
                         observations, summary, leaks, diagram, chart, excerpt or answer"
                    ),
                ));
            }
        };
        if answer.is_some() {
            return Err((line, "an 'answer' goes in a memlab block of its own".into()));
        }
        views.push(view);
    }
    match answer {
        Some(answer) => Ok(Block::Answer(answer)),
        None if views.is_empty() => Err((line, "this memlab block is empty".into())),
        None => Ok(Block::Evidence { line, views }),
    }
}

fn excerpt(words: &[&str], line: usize) -> Result<View, (usize, String)> {
    let (Some(file), Some(marker)) = (words.get(1), words.get(2)) else {
        return Err((line, "use: excerpt <file> <marker>".into()));
    };
    let Some(&(file, source)) = EXCERPTS.iter().find(|(f, _)| f == file) else {
        let known: Vec<&str> = EXCERPTS.iter().map(|(f, _)| *f).collect();
        return Err((
            line,
            format!(
                "cannot quote '{file}': known files are {}",
                known.join(", ")
            ),
        ));
    };
    let begin = format!("// lesson: {marker}");
    let mut lines = source.lines().skip_while(|l| l.trim() != begin);
    if lines.next().is_none() {
        return Err((line, format!("{file} has no '{begin}' line")));
    }
    let text: Vec<&str> = lines.take_while(|l| l.trim() != "// lesson: end").collect();
    Ok(View::Excerpt {
        file,
        text: elide(&text).map_err(|e| (line, format!("{file} '{marker}': {e}")))?,
    })
}

/// The lines of an excerpt with each stretch from `// lesson: skip <what>` to
/// `// lesson: resume` replaced by one comment, `// … <what>`, at the skip
/// line's indentation: a lesson quotes the lines that teach and says what it
/// left out. A skip never resumed, or a resume with no skip, is an error:
/// either would quietly quote the wrong lines.
fn elide(lines: &[&str]) -> Result<String, String> {
    let mut kept = Vec::with_capacity(lines.len());
    let mut skipping = false;
    for line in lines {
        let trimmed = line.trim();
        let skip = trimmed
            .strip_prefix("// lesson: skip")
            .filter(|what| what.is_empty() || what.starts_with(' '));
        if let Some(what) = skip {
            if skipping {
                return Err("a '// lesson: skip' inside another skip".into());
            }
            let indent = &line[..line.len() - line.trim_start().len()];
            kept.push(
                format!("{indent}// … {}", what.trim())
                    .trim_end()
                    .to_string(),
            );
            skipping = true;
        } else if trimmed == "// lesson: resume" {
            if !skipping {
                return Err("a '// lesson: resume' with no skip before it".into());
            }
            skipping = false;
        } else if !skipping {
            kept.push(line.to_string());
        }
    }
    if skipping {
        return Err("a '// lesson: skip' with no '// lesson: resume' after it".into());
    }
    Ok(kept.join("\n"))
}

/// Every lesson has a "Predict" quote, each answered by the `answer` right
/// after it, before any evidence from that scenario.
fn check_predictions(lesson: &Lesson) -> Result<(), (usize, String)> {
    let mut any = false;
    let mut previous: Option<&Block> = None;
    for block in &lesson.blocks {
        if let Block::Answer(answer) = block {
            if !previous.is_some_and(is_predict) {
                return Err((
                    answer.line,
                    "an 'answer' must follow a '> **Predict:** …' block quote".into(),
                ));
            }
            any = true;
        }
        previous = Some(block);
    }
    if !any {
        return Err((
            1,
            "a lesson needs at least one '> **Predict:** …' question with an 'answer'".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::elide;

    #[test]
    fn an_excerpt_says_what_it_skips_at_the_skipped_lines_indentation() {
        let lines = [
            "fn alloc() {",
            "    // lesson: skip the other methods: the same shape",
            "    fn dealloc() {}",
            "    // lesson: resume",
            "}",
            "// lesson: skip",
            "tail",
            "// lesson: resume",
        ];
        assert_eq!(
            elide(&lines).as_deref(),
            Ok("fn alloc() {\n    // … the other methods: the same shape\n}\n// …")
        );
    }

    #[test]
    fn an_excerpt_with_a_skip_never_resumed_or_a_stray_resume_is_an_error() {
        assert!(elide(&["a", "// lesson: skip rest", "b"]).is_err());
        assert!(elide(&["a", "// lesson: resume", "b"]).is_err());
        assert!(elide(&["// lesson: skip", "// lesson: skip", "// lesson: resume"]).is_err());
        // A line that only starts like the marker is code, kept as it is.
        assert_eq!(
            elide(&["// lesson: skipped"]).as_deref(),
            Ok("// lesson: skipped")
        );
    }
}
