//! Views of a [`Trace`](crate::trace::Trace) for the terminal: functions
//! from plain data (traces, lesson plans) to text. Only this module knows
//! about colour (`style`) and width. It never runs code: it imports the
//! vocabulary and lesson data, never the capture layer or the catalogue.

pub mod canvas;
pub mod chart;
pub mod diagram;
pub mod highlight;
pub mod lesson;
pub mod list;
pub mod listing;
pub mod markdown;
pub mod output;
pub mod prompt;
pub mod run;
pub mod screen;
pub mod step;
pub mod style;
pub mod table;

/// The narrowest width at which every table and diagram of memlab fits
/// with its columns readable (at 40, a type column is one character a
/// row): the CLI draws them no narrower, and says so.
pub const NARROWEST: u16 = 60;

/// The widest prose is set, however wide the terminal: lines of a readable
/// length (evidence beside it takes the rest).
pub const MEASURE: usize = 80;

/// Resolved output settings, decided once by the CLI. (Colour is decided
/// once too, with [`style::use_colour`].)
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Total width available, in columns.
    pub width: u16,
    /// Real addresses, stable names (H1, S1), or both.
    pub addresses: AddressMode,
    /// Draw with plain ASCII instead of Unicode box-drawing characters.
    pub ascii: bool,
}

impl Settings {
    /// The arrow of "32 → 64 B" and "→ heap": `->` in ASCII, where a lone
    /// `>` would read as "greater than".
    pub fn to_arrow(self) -> &'static str {
        if self.ascii { "->" } else { "→" }
    }
}

/// Prose wrapped to `width` columns. Words are never split at their hyphens
/// (`vec-growth` stays whole); ANSI colour codes take no width.
pub fn fill(text: &str, width: usize) -> String {
    textwrap::fill(text, wrap_options(width))
}

/// `text` with no space at the end of any line (a table pads its last
/// column).
pub fn trim_ends(text: &str) -> String {
    let mut out: String = text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The wrapping rules for all prose.
pub fn wrap_options(width: usize) -> textwrap::Options<'static> {
    textwrap::Options::new(width).word_splitter(textwrap::WordSplitter::NoHyphenation)
}

/// `text` in plain ASCII, one character for one (so tables stay aligned):
/// lines and corners become `-`, `|` and `+`, marks their nearest ASCII
/// look-alike, anything else `?`. ANSI colour codes pass through.
pub fn plain(text: &str) -> String {
    text.chars().map(plain_char).collect()
}

/// One character of [`plain`].
pub fn plain_char(c: char) -> char {
    match c {
        c if c.is_ascii() => c,
        '┄' | '┅' | '┈' | '┉' | '╌' | '╍' => '.',
        '┆' | '┇' | '┊' | '┋' | '╎' | '╏' => ':',
        '─' | '━' | '═' | '—' | '–' | '·' => '-',
        '│' | '┃' | '║' | '▌' => '|',
        '\u{2500}'..='\u{257f}' => '+',
        '…' | '░' | '▁' | '▂' | '▃' => '.',
        '▄' | '▅' => ':',
        '█' | '▆' | '▇' => '#',
        '→' | '▶' | '▸' | '↳' | '≥' => '>',
        '←' | '◀' | '≤' => '<',
        '●' => 'o',
        '▼' | '✓' => 'v',
        '✗' | '×' => 'x',
        '•' => '*',
        '“' | '”' => '"',
        '‘' | '’' => '\'',
        _ => '?',
    }
}

/// An address as printed everywhere: `0x` and lowercase hex.
pub fn address(address: usize) -> String {
    format!("{address:#x}")
}

/// How addresses are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddressMode {
    /// `0x55d0c3a1b2c0`
    #[default]
    Real,
    /// `H1`, `S1` (see `trace::names`)
    Symbolic,
    /// `H1 0x55d0c3a1b2c0`
    Both,
}

/// Formats an address with its name as `mode` asks; unnamed addresses stay real.
pub fn show(mode: AddressMode, name: Option<String>, address: usize) -> String {
    let real = self::address(address);
    match (mode, name) {
        (AddressMode::Symbolic, Some(name)) => name,
        (AddressMode::Both, Some(name)) => format!("{name} {real}"),
        _ => real,
    }
}

/// A type name with module paths removed: `alloc::vec::Vec<u64>` → `Vec<u64>`.
pub fn short_type(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut segment_start = 0;
    for (i, c) in name.char_indices() {
        if !(c.is_alphanumeric() || c == '_' || c == ':') {
            out.push_str(last_segment(&name[segment_start..i]));
            out.push(c);
            segment_start = i + c.len_utf8();
        }
    }
    out.push_str(last_segment(&name[segment_start..]));
    out
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_show_their_names_as_asked() {
        assert_eq!(
            show(AddressMode::Both, Some("H1".into()), 0x200),
            "H1 0x200"
        );
        assert_eq!(show(AddressMode::Symbolic, Some("H1".into()), 0x200), "H1");
        assert_eq!(show(AddressMode::Symbolic, None, 0x200), "0x200");
    }

    #[test]
    fn short_type_drops_paths() {
        assert_eq!(short_type("alloc::vec::Vec<u64>"), "Vec<u64>");
        assert_eq!(short_type("alloc::boxed::Box<[u64; 4]>"), "Box<[u64; 4]>");
        assert_eq!(short_type("(u8, alloc::string::String)"), "(u8, String)");
        assert_eq!(short_type("&str"), "&str");
        assert_eq!(short_type("memlab::scenarios::locals::Point"), "Point");
    }
}
