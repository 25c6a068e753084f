//! A grid of styled characters for pictures (diagrams, charts), and the line
//! and box glyphs in Unicode or plain ASCII.

use unicode_width::UnicodeWidthChar;

pub use super::style::Style;
use super::style::paint;

/// Connections of a line cell.
pub const UP: u8 = 1;
pub const DOWN: u8 = 2;
pub const LEFT: u8 = 4;
pub const RIGHT: u8 = 8;

/// The characters pictures are drawn with.
#[derive(Clone, Copy, Debug)]
pub struct Glyphs {
    pub ascii: bool,
    /// Where an arrow starts (a pointer's value).
    pub dot: char,
    /// Where an arrow ends.
    pub head: char,
    /// Where an arrow coming from the right ends (a link between blocks).
    pub head_left: char,
    /// Dashed lines, for freed blocks.
    pub dashed_h: char,
    pub dashed_v: char,
    /// Marks a cut text.
    pub ellipsis: &'static str,
    /// A full chart cell, and the eighths of one (lowest first).
    pub full: char,
    pub eighths: [char; 8],
    /// A chart cell of spare room.
    pub spare: char,
    /// Points at something in a chart or a picture.
    pub pointer: &'static str,
}

impl Glyphs {
    pub fn new(ascii: bool) -> Glyphs {
        if ascii {
            Glyphs {
                ascii,
                dot: 'o',
                head: '>',
                head_left: '<',
                dashed_h: '.',
                dashed_v: ':',
                ellipsis: "~",
                full: '#',
                eighths: [' ', ' ', ' ', '.', '.', ':', ':', '#'],
                spare: '.',
                pointer: "<-",
            }
        } else {
            Glyphs {
                ascii,
                dot: '●',
                head: '▶',
                head_left: '◀',
                dashed_h: '┄',
                dashed_v: '┆',
                ellipsis: "…",
                full: '█',
                eighths: [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇'],
                spare: '░',
                pointer: "◀",
            }
        }
    }

    /// The line character joining the given directions.
    pub fn line(&self, bits: u8) -> char {
        if self.ascii {
            return match bits {
                0 => ' ',
                b if b & (UP | DOWN) == 0 => '-',
                b if b & (LEFT | RIGHT) == 0 => '|',
                _ => '+',
            };
        }
        match bits {
            0 => ' ',
            b if b & (UP | DOWN) == 0 => '─',
            b if b & (LEFT | RIGHT) == 0 => '│',
            b if b == DOWN | RIGHT => '┌',
            b if b == DOWN | LEFT => '┐',
            b if b == UP | RIGHT => '└',
            b if b == UP | LEFT => '┘',
            b if b == UP | DOWN | RIGHT => '├',
            b if b == UP | DOWN | LEFT => '┤',
            b if b == LEFT | RIGHT | DOWN => '┬',
            b if b == LEFT | RIGHT | UP => '┴',
            _ => '┼',
        }
    }
}

/// Rows of cells, each one column wide, growing downwards as written.
#[derive(Clone, Debug)]
pub struct Canvas {
    width: usize,
    rows: Vec<Vec<(char, Style)>>,
}

impl Canvas {
    pub fn new(width: usize) -> Canvas {
        Canvas {
            width,
            rows: vec![],
        }
    }

    pub fn height(&self) -> usize {
        self.rows.len()
    }

    fn row(&mut self, row: usize) -> &mut Vec<(char, Style)> {
        while self.rows.len() <= row {
            self.rows.push(vec![(' ', Style::Plain); self.width]);
        }
        &mut self.rows[row]
    }

    /// The character at a cell (a space outside what was written).
    pub fn get(&self, row: usize, column: usize) -> char {
        self.rows
            .get(row)
            .and_then(|r| r.get(column))
            .map_or(' ', |&(c, _)| c)
    }

    pub fn put(&mut self, row: usize, column: usize, c: char, style: Style) {
        if column < self.width {
            self.row(row)[column] = (c, style);
        }
    }

    /// Writes `text` from `column`, in at most `max` columns: a longer text is
    /// cut and ends in the ellipsis. Characters wider or narrower than one
    /// column become `?`. Returns the columns used.
    pub fn text(
        &mut self,
        row: usize,
        column: usize,
        text: &str,
        max: usize,
        style: Style,
        glyphs: &Glyphs,
    ) -> usize {
        let chars: Vec<char> = text
            .chars()
            .map(|c| match c.width() {
                Some(1) if glyphs.ascii => super::plain_char(c),
                Some(1) => c,
                _ => '?',
            })
            .collect();
        let max = max.min(self.width.saturating_sub(column));
        let shown: Vec<char> = if chars.len() <= max {
            chars
        } else {
            let ellipsis: Vec<char> = glyphs.ellipsis.chars().collect();
            let keep = max.saturating_sub(ellipsis.len());
            chars[..keep]
                .iter()
                .copied()
                .chain(ellipsis)
                .take(max)
                .collect()
        };
        for (i, &c) in shown.iter().enumerate() {
            self.put(row, column + i, c, style);
        }
        shown.len()
    }

    /// A box of `width` × `height` cells with its top-left corner at
    /// (`row`, `column`), dashed when `dashed`.
    #[allow(clippy::too_many_arguments)]
    pub fn frame(
        &mut self,
        row: usize,
        column: usize,
        width: usize,
        height: usize,
        dashed: bool,
        style: Style,
        glyphs: &Glyphs,
    ) {
        if width < 2 || height < 2 {
            return;
        }
        let (h, v) = if dashed {
            (glyphs.dashed_h, glyphs.dashed_v)
        } else {
            (glyphs.line(LEFT | RIGHT), glyphs.line(UP | DOWN))
        };
        let bottom = row + height - 1;
        let right = column + width - 1;
        for c in column + 1..right {
            self.put(row, c, h, style);
            self.put(bottom, c, h, style);
        }
        for r in row + 1..bottom {
            self.put(r, column, v, style);
            self.put(r, right, v, style);
        }
        self.put(row, column, glyphs.line(DOWN | RIGHT), style);
        self.put(row, right, glyphs.line(DOWN | LEFT), style);
        self.put(bottom, column, glyphs.line(UP | RIGHT), style);
        self.put(bottom, right, glyphs.line(UP | LEFT), style);
    }

    /// The picture as lines, trailing spaces removed, each run of cells in
    /// its style (runs of spaces are left plain).
    pub fn lines(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|row| {
                let end = row
                    .iter()
                    .rposition(|&(c, _)| c != ' ')
                    .map_or(0, |i| i + 1);
                let mut line = String::new();
                let mut start = 0;
                while start < end {
                    let style = row[start].1;
                    let run_end = (start..end).find(|&i| row[i].1 != style).unwrap_or(end);
                    let text: String = row[start..run_end].iter().map(|&(c, _)| c).collect();
                    if text.trim().is_empty() {
                        line.push_str(&text);
                    } else {
                        line.push_str(&paint(&text, style));
                    }
                    start = run_end;
                }
                line
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_with_an_ellipsis_and_frames_close() {
        let glyphs = Glyphs::new(false);
        let mut canvas = Canvas::new(12);
        canvas.frame(0, 0, 12, 3, false, Style::Plain, &glyphs);
        let used = canvas.text(1, 1, "a long text here", 10, Style::Plain, &glyphs);
        assert_eq!(used, 10);
        assert_eq!(
            canvas.lines(),
            ["┌──────────┐", "│a long te…│", "└──────────┘"]
        );
        let ascii = Glyphs::new(true);
        let mut canvas = Canvas::new(6);
        canvas.frame(0, 0, 6, 2, true, Style::Plain, &ascii);
        assert_eq!(canvas.lines(), ["+....+", "+....+"]);
    }

    #[test]
    fn lines_join_as_drawn() {
        let glyphs = Glyphs::new(false);
        assert_eq!(glyphs.line(UP | DOWN | LEFT), '┤');
        assert_eq!(glyphs.line(LEFT), '─');
        assert_eq!(glyphs.line(UP | DOWN | LEFT | RIGHT), '┼');
        assert_eq!(Glyphs::new(true).line(UP | RIGHT), '+');
    }
}
