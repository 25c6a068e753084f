//! Rust source coloured for reading: syntect, the highlighter bat uses, with
//! bat's `ansi` theme (from two-face), whose colours are the terminal's own
//! palette, so a listing reads on dark and light backgrounds alike. memlab's
//! probe calls (`s.pointer`, `s.observe`, …) are found with syn and dimmed,
//! so the Rust being taught stands out. Colour is applied, as everywhere,
//! through `colored`: with colour off nothing here changes the text.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use colored::{Color, Colorize};
use syn::visit::Visit;
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Style as Painted, Theme};
use syntect::parsing::SyntaxSet;
use two_face::re_exports::syntect;

use super::style::{Style, colour, paint};

/// The probe calls a scenario makes for memlab, which teach nothing of Rust:
/// `s.<one of these>(…)`.
const PROBES: [&str; 7] = [
    "frame",
    "local",
    "pointer",
    "trait_object",
    "observe",
    "out_of_scope",
    "keep",
];

struct Highlighter {
    syntaxes: SyntaxSet,
    theme: Theme,
}

fn highlighter() -> &'static Highlighter {
    static HIGHLIGHTER: OnceLock<Highlighter> = OnceLock::new();
    HIGHLIGHTER.get_or_init(|| Highlighter {
        syntaxes: SyntaxSet::load_defaults_newlines(),
        theme: two_face::theme::extra()
            .get(two_face::theme::EmbeddedThemeName::Ansi)
            .clone(),
    })
}

/// A source file's lines, each as runs of text with how to paint them; one
/// entry per line of `text`.
pub struct Coloured {
    lines: Vec<Vec<(Painted, String)>>,
    probes: BTreeSet<u32>,
}

impl Coloured {
    /// Highlights `text` as Rust when colour is on; with colour off, or if
    /// syntect cannot read it, the lines stay plain.
    pub fn rust(text: &str) -> Coloured {
        let probes = probe_lines(text);
        if !colour() {
            return Coloured {
                lines: vec![],
                probes,
            };
        }
        let h = highlighter();
        let Some(syntax) = h.syntaxes.find_syntax_by_extension("rs") else {
            return Coloured {
                lines: vec![],
                probes,
            };
        };
        let mut state = HighlightLines::new(syntax, &h.theme);
        let mut lines = vec![];
        for line in text.lines() {
            let with_end = format!("{line}\n");
            let runs = match state.highlight_line(&with_end, &h.syntaxes) {
                Ok(runs) => runs
                    .into_iter()
                    .map(|(style, text)| (style, text.trim_end_matches('\n').to_string()))
                    .filter(|(_, text)| !text.is_empty())
                    .collect(),
                Err(_) => vec![(Painted::default(), line.to_string())],
            };
            lines.push(runs);
        }
        Coloured { lines, probes }
    }

    /// Whether line `n` (from 1) is part of a probe call.
    pub fn is_probe(&self, n: u32) -> bool {
        self.probes.contains(&n)
    }

    /// Paints `piece`, which starts `offset` bytes into line `n` (from 1):
    /// a probe call dimmed, other code in its syntax colours.
    pub fn paint(&self, n: u32, offset: usize, piece: &str) -> String {
        if self.is_probe(n) {
            return paint(piece, Style::Dim);
        }
        let Some(runs) = self.lines.get(n as usize - 1) else {
            return paint(piece, Style::Code);
        };
        let mut out = String::new();
        let mut at = 0; // byte offset of the run in the line
        let end = offset + piece.len();
        for (style, text) in runs {
            let (start, stop) = (at.max(offset), (at + text.len()).min(end));
            if start < stop && text.is_char_boundary(start - at) && text.is_char_boundary(stop - at)
            {
                out.push_str(&painted(&text[start - at..stop - at], *style));
            }
            at += text.len();
        }
        if out.is_empty() {
            piece.to_string()
        } else {
            out
        }
    }
}

/// A run in its theme colour: the `ansi` theme keeps a palette number in
/// `r` with alpha 0, and alpha 1 for the terminal's default colour.
fn painted(text: &str, style: Painted) -> String {
    let colour = style.foreground;
    let mut s = match colour.a {
        0 => text.color(palette(colour.r)),
        _ => text.normal(),
    };
    if style.font_style.contains(FontStyle::BOLD) {
        s = s.bold();
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        s = s.italic();
    }
    if style.font_style.contains(FontStyle::UNDERLINE) {
        s = s.underline();
    }
    s.to_string()
}

fn palette(n: u8) -> Color {
    match n {
        0 => Color::Black,
        1 => Color::Red,
        2 => Color::Green,
        3 => Color::Yellow,
        4 => Color::Blue,
        5 => Color::Magenta,
        6 => Color::Cyan,
        7 => Color::White,
        8 => Color::BrightBlack,
        9 => Color::BrightRed,
        10 => Color::BrightGreen,
        11 => Color::BrightYellow,
        12 => Color::BrightBlue,
        13 => Color::BrightMagenta,
        14 => Color::BrightCyan,
        _ => Color::BrightWhite,
    }
}

/// The lines of every probe call statement in `text` (`s.pointer(…);` and
/// the like, each line of a call that spans several), found with syn; none
/// when the file does not parse.
pub fn probe_lines(text: &str) -> BTreeSet<u32> {
    struct Probes(BTreeSet<u32>);
    impl<'a> Visit<'a> for Probes {
        fn visit_expr_method_call(&mut self, call: &'a syn::ExprMethodCall) {
            let scene = match &*call.receiver {
                syn::Expr::Path(p) if p.path.is_ident("s") => p.path.get_ident(),
                _ => None,
            };
            if let Some(scene) = scene
                && PROBES.iter().any(|p| call.method == p)
            {
                let first = scene.span().start().line;
                let last = call.paren_token.span.close().end().line;
                self.0.extend(first as u32..=last as u32);
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut probes = Probes(BTreeSet::new());
    if let Ok(file) = syn::parse_file(text) {
        probes.visit_file(&file);
    }
    probes.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_calls_are_found_whole_and_nothing_else() {
        let text = "pub fn run(s: &mut Scene) {\n    let v = vec![1];\n    s.pointer(\"v\", &v);\n    \
                    s.observe(\n        \"after\",\n        &[(\"len\", v.len())],\n    );\n    \
                    let worker = s.spawn(\"w\", move |s| {\n        s.local(\"x\", &1);\n    });\n    \
                    s.join(worker);\n    t.pointer();\n}\n";
        assert_eq!(
            probe_lines(text).into_iter().collect::<Vec<_>>(),
            vec![3, 4, 5, 6, 7, 9]
        );
        assert!(probe_lines("not rust {").is_empty());
    }
}
