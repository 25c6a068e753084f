//! Colour: decided once for the whole process ([`use_colour`], called by the
//! CLI before anything is rendered), applied only here. Every view paints
//! with a semantic [`Style`]; tables (comfy-table) follow the same decision.

use colored::{ColoredString, Colorize};

use crate::trace::Kind;

/// What a piece of text is, for colouring it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// Secondary text: captions, hints, freed blocks.
    Dim,
    Bold,
    /// A section heading of a view.
    Heading,
    /// A lesson's top heading.
    Title,
    /// A local's or block's name; a lesson's second-level heading.
    Name,
    /// Arrows and chart marks.
    Accent,
    /// Leaks and reallocations past their room.
    Alert,
    /// The current event in step-through; peaks; a question.
    Highlight,
    /// A block of code in prose.
    Code,
    /// A note under the tables about what they cannot show.
    Note,
    /// The bar of a block quote.
    Quote,
    /// A reader's answer the run agrees with, or not.
    Right,
    Wrong,
    /// Bytes still live at the end.
    Lost,
    /// An allocator event of this kind.
    Event(Kind),
}

/// Turns colour on or off for everything rendered from now on.
pub fn use_colour(on: bool) {
    colored::control::set_override(on);
}

/// Whether colour is on (see [`use_colour`]).
pub fn colour() -> bool {
    colored::control::SHOULD_COLORIZE.should_colorize()
}

/// `text` in `style`; unchanged when colour is off.
pub fn paint(text: &str, style: Style) -> String {
    styled(text, style).to_string()
}

fn styled(text: &str, style: Style) -> ColoredString {
    match style {
        Style::Plain => text.normal(),
        Style::Dim => text.dimmed(),
        Style::Bold => text.bold(),
        Style::Heading => text.bold().underline(),
        Style::Title => text.bold().cyan().underline(),
        Style::Name => text.cyan().bold(),
        Style::Accent => text.cyan(),
        Style::Alert | Style::Wrong => text.red().bold(),
        Style::Highlight => text.yellow().bold(),
        Style::Code | Style::Note => text.yellow(),
        Style::Quote => text.blue(),
        Style::Right => text.green().bold(),
        Style::Lost => text.red(),
        Style::Event(Kind::Alloc | Kind::AllocZeroed) => text.green(),
        Style::Event(Kind::Realloc) => text.yellow(),
        Style::Event(Kind::Dealloc) => text.red(),
    }
}

/// A run of prose: inline code, strong, emphasis and links combine.
pub fn span(text: &str, code: bool, strong: bool, emphasis: bool, link: bool) -> String {
    let mut styled = if code { text.green() } else { text.normal() };
    if strong {
        styled = styled.bold();
    }
    if emphasis {
        styled = styled.italic();
    }
    if link {
        styled = styled.underline();
    }
    styled.to_string()
}
