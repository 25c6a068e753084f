//! Lesson prose for the terminal: headings, wrapped paragraphs, lists,
//! emphasis, inline code, code blocks and block quotes, fitted to a width.

use textwrap::core::display_width;

use super::style::{Style, colour, paint, span};

use crate::lessons::{Block, Span, is_predict};

/// Renders prose blocks as lines no wider than `width` (ANSI codes excluded).
pub fn blocks(blocks: &[Block], width: usize) -> Vec<String> {
    let mut out = vec![];
    for block in blocks {
        let lines = render(block, width.max(20));
        if lines.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(String::new());
        }
        out.extend(lines);
    }
    out
}

fn render(block: &Block, width: usize) -> Vec<String> {
    match block {
        Block::Heading { level, text } => {
            let plain: String = text.iter().map(|s| s.text.as_str()).collect();
            let style = match level {
                1 => Style::Title,
                2 => Style::Name,
                _ => Style::Bold,
            };
            wrap(&[paint(&plain, style)], width, "", "")
        }
        Block::Paragraph(spans) => wrap(&words(spans), width, "", ""),
        Block::List { start, items } => {
            let mut out = vec![];
            for (i, item) in items.iter().enumerate() {
                let bullet = match start {
                    Some(n) => format!("{}. ", n + i as u64),
                    None => "• ".to_string(),
                };
                let indent = display_width(&bullet);
                let lines = blocks(item, width.saturating_sub(indent));
                for (j, line) in lines.into_iter().enumerate() {
                    let prefix = if j == 0 {
                        bullet.clone()
                    } else {
                        " ".repeat(indent)
                    };
                    out.push(format!("{prefix}{line}"));
                }
            }
            out
        }
        Block::Code { text } => code(text, width),
        Block::Quote(inner) => {
            let bar = if is_predict(block) {
                paint("▌ ", Style::Highlight)
            } else {
                paint("▌ ", Style::Quote)
            };
            blocks(inner, width.saturating_sub(2))
                .into_iter()
                .map(|line| format!("{bar}{line}"))
                .collect()
        }
        Block::Rule => vec![paint(&"─".repeat(width), Style::Dim)],
        // Evidence and answers are not prose: the lesson layout places them;
        // it also chooses the passage to show before prose is rendered.
        Block::Evidence { .. } | Block::Answer(_) | Block::Passages(_) => vec![],
    }
}

/// A code block: indented, dimmed, long lines broken at the width.
pub fn code(text: &str, width: usize) -> Vec<String> {
    let indent = "  ";
    let room = width.saturating_sub(indent.len()).max(10);
    text.lines()
        .flat_map(|line| {
            let pieces = textwrap::wrap(line, super::wrap_options(room));
            let pieces: Vec<String> = if pieces.is_empty() {
                vec![String::new()]
            } else {
                pieces.into_iter().map(|p| p.into_owned()).collect()
            };
            pieces
                .into_iter()
                .map(|p| format!("{indent}{}", paint(&p, Style::Code)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Styled words: each word carries its own colour codes, so a line break
/// between words never leaves a colour open.
fn words(spans: &[Span]) -> Vec<String> {
    let mut words = vec![];
    let mut current = String::new();
    for run in spans {
        let s = run.style;
        // Without colour, inline code keeps its backticks: "`cap` is 1"
        // still reads as code.
        let text = if s.code && !colour() {
            format!("`{}`", run.text)
        } else {
            run.text.clone()
        };
        for (i, part) in text.split(' ').enumerate() {
            if i > 0 && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            if !part.is_empty() {
                current.push_str(&span(part, s.code, s.strong, s.emphasis, s.link));
            }
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn wrap(words: &[String], width: usize, first: &str, rest: &str) -> Vec<String> {
    let text = words.join(" ");
    textwrap::wrap(
        &text,
        super::wrap_options(width)
            .initial_indent(first)
            .subsequent_indent(rest),
    )
    .into_iter()
    .map(|line| line.into_owned())
    .collect()
}
