//! Text from outside memlab made safe to print: the one place that decides
//! what of it may reach a terminal.
//!
//! A lesson folder, a file name, a user's source file, what their program
//! printed and what the compiler said are untrusted: a terminal obeys the
//! escape sequences in them (set the window title, hide the cursor, write
//! the clipboard with OSC 52), and bidi controls reorder what the reader
//! sees. [`clean`] shows every such character visibly instead (`\x1b`,
//! `\u{202e}`), so a sequence is printed as the harmless text it is made
//! of. It is called where such text enters memlab's data (a lesson as it is
//! parsed, a user's trace as it comes back, a program's output and the
//! compiler's messages as they are shown) and by the one error printer
//! ([`clean_line`]); memlab's own colours are added after, by
//! `render::style`, so they are the only escape sequences on the page.
//!
//! This module imports nothing of the crate but the vocabulary: every layer
//! may use it.

use std::borrow::Cow;

/// `text` with every control character but newline and tab, and every bidi
/// override or isolate, written visibly: C0 controls and DEL as `\x1b`, C1
/// controls and bidi controls as `\u{9b}`, `\u{202e}`. A carriage return
/// stays only just before a newline (a CRLF line end). Borrowed when there
/// was nothing to change.
pub fn clean(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// [`clean`], and newlines, carriage returns and tabs written visibly too
/// (`\n`): for a name or a message that must stay on one line.
pub fn clean_line(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// Whether `c` is shown escaped: a control character or a bidi override or
/// isolate (U+202A–U+202E, U+2066–U+2069).
pub fn unsafe_char(c: char) -> bool {
    c.is_control()
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

fn escape(text: &str, one_line: bool) -> Cow<'_, str> {
    let keep = |c: char, next: Option<char>| match c {
        '\n' | '\t' => !one_line,
        '\r' => !one_line && next == Some('\n'),
        c => !unsafe_char(c),
    };
    let mut chars = text.chars().peekable();
    let mut first_bad = None;
    let mut offset = 0;
    while let Some(c) = chars.next() {
        if !keep(c, chars.peek().copied()) {
            first_bad = Some(offset);
            break;
        }
        offset += c.len_utf8();
    }
    let Some(start) = first_bad else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..start]);
    let mut chars = text[start..].chars().peekable();
    while let Some(c) = chars.next() {
        if keep(c, chars.peek().copied()) {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write;
    let _ = match c {
        '\n' => write!(out, "\\n"),
        '\r' => write!(out, "\\r"),
        '\t' => write!(out, "\\t"),
        c if c.is_ascii() => write!(out, "\\x{:02x}", u32::from(c)),
        c => write!(out, "\\u{{{:x}}}", u32::from(c)),
    };
}

/// Text that ANSI colour sequences (`ESC [ digits and ; m`, as rustc
/// writes them) may run through, [`clean`]ed around them: the colours are
/// kept when `colour` is on and dropped when it is off; every other escape
/// is shown visibly.
pub fn clean_keeping_colours(text: &str, colour: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\x1b') {
        out.push_str(&clean(&rest[..i]));
        let sequence = &rest[i..];
        let sgr = sequence.strip_prefix("\x1b[").and_then(|s| {
            let end = s.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
            s[end..].starts_with('m').then_some(2 + end + 1)
        });
        match sgr {
            Some(len) => {
                if colour {
                    out.push_str(&sequence[..len]);
                }
                rest = &sequence[len..];
            }
            None => {
                out.push_str("\\x1b");
                rest = &sequence[1..];
            }
        }
    }
    out.push_str(&clean(rest));
    out
}

/// A trace's text, cleaned: what a user's file named its locals, frames,
/// observations, threads and blocks kept, its path, its source text and
/// its panic message. Memory diagrams draw only characters of one column
/// (`render::canvas`), so a preview needs nothing more.
pub fn clean_trace(trace: &mut memlab_runtime::Trace) {
    fn one(text: &mut memlab_runtime::trace::Text) {
        if let Cow::Owned(cleaned) = clean_line(text) {
            *text = Cow::Owned(cleaned);
        }
    }
    let source = &mut trace.source;
    for text in [
        &mut source.id,
        &mut source.title,
        &mut source.summary,
        &mut source.file,
        &mut source.command,
    ] {
        one(text);
    }
    if let Cow::Owned(cleaned) = clean(&source.text) {
        source.text = Cow::Owned(cleaned);
    }
    for local in &mut trace.locals {
        one(&mut local.frame);
        one(&mut local.name);
        one(&mut local.type_name);
    }
    for end in &mut trace.scope_ends {
        one(&mut end.frame);
        end.names.iter_mut().for_each(one);
    }
    trace.kept.iter_mut().for_each(|k| one(&mut k.name));
    for observation in &mut trace.observations {
        one(&mut observation.label);
        observation.fields.iter_mut().for_each(|(f, _)| one(f));
    }
    trace.thread_names.iter_mut().for_each(one);
    if let Some(panic) = &mut trace.panic {
        *panic = clean(panic).into_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_shown_not_obeyed() {
        assert_eq!(
            clean("a\x1b]0;title\x07b\u{202e}c\u{2066}\u{9b}2J\x7f"),
            "a\\x1b]0;title\\x07b\\u{202e}c\\u{2066}\\u{9b}2J\\x7f"
        );
        assert_eq!(
            clean("tab\there\nnext\r\nend\rover"),
            "tab\there\nnext\r\nend\\rover"
        );
        assert!(matches!(clean("plain · text"), Cow::Borrowed(_)));
        assert_eq!(clean_line("one\nline\tand\r"), "one\\nline\\tand\\r");
        // Cleaning twice changes nothing more.
        let once = clean("\x1b[31m\u{202e}").into_owned();
        assert_eq!(clean(&once), once);
    }

    #[test]
    fn only_colours_run_through_compiler_messages() {
        let text = "\x1b[1;31merror\x1b[0m: x\n\x1b]52;c;cm0=\x07\n";
        assert_eq!(
            clean_keeping_colours(text, false),
            "error: x\n\\x1b]52;c;cm0=\\x07\n"
        );
        assert_eq!(
            clean_keeping_colours(text, true),
            "\x1b[1;31merror\x1b[0m: x\n\\x1b]52;c;cm0=\\x07\n"
        );
    }

    #[test]
    fn a_users_trace_is_cleaned_of_what_its_probes_named() {
        let source = crate::Source::new("id\x1b[2J", "dir/\u{202e}file.rs\n");
        let mut trace = crate::trace(source, crate::Options::default(), |s| {
            let value = std::hint::black_box(1u8);
            s.local("x\x1b]0;t\x07", &value);
            s.observe("label\u{2066}", &[("len\x1b", 1)]);
        });
        clean_trace(&mut trace);
        assert_eq!(trace.source.id, "id\\x1b[2J");
        assert_eq!(trace.source.file, "dir/\\u{202e}file.rs\\n");
        assert_eq!(trace.locals[0].name, "x\\x1b]0;t\\x07");
        assert_eq!(trace.observations[0].label, "label\\u{2066}");
        assert_eq!(trace.observations[0].fields[0].0, "len\\x1b");
    }
}
