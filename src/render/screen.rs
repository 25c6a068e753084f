//! Screens for the step modes: text split into pages that fit the
//! terminal's height, and a page drawn on a cleared screen with the prompt
//! on its last row.

/// `lines` in pages of at most `room` lines each (blank lines at the top of
/// a page do not count: a cleared screen leaves them out). A page ends at
/// a blank line when one falls in its second half, so paragraphs and
/// tables stay whole where they can.
pub fn split(lines: &[String], room: usize) -> Vec<Vec<String>> {
    let room = room.max(1);
    let mut pages = vec![];
    let mut start = 0;
    while start < lines.len() {
        let first = start + leading_blanks(&lines[start..]);
        if first == lines.len() {
            // Only blank lines are left: they go with the page before.
            match pages.last_mut() {
                Some(page) => page_extend(page, &lines[start..]),
                None => pages.push(lines[start..].to_vec()),
            }
            break;
        }
        let mut end = (first + room).min(lines.len());
        if end < lines.len() {
            let half = first + room / 2;
            if let Some(blank) = (half..end).rev().find(|&i| lines[i].trim().is_empty()) {
                end = blank.max(first + 1);
            }
        }
        pages.push(lines[start..end].to_vec());
        start = end;
    }
    if pages.is_empty() {
        pages.push(vec![]);
    }
    pages
}

fn page_extend(page: &mut Vec<String>, lines: &[String]) {
    page.extend(lines.iter().cloned());
}

/// How many of `lines` at the start are blank.
pub fn leading_blanks(lines: &[String]) -> usize {
    lines.iter().take_while(|l| l.trim().is_empty()).count()
}

/// A whole screen: cleared, `lines` from the top (their leading blank
/// lines left out, and no more than `height - 1` of them: the last ones
/// when there are more), then `prompt` on the last row, the cursor after it.
pub fn draw(lines: &[String], height: usize, prompt: &str) -> String {
    let lines = &lines[leading_blanks(lines)..];
    let room = height.saturating_sub(1).max(1);
    let shown = &lines[lines.len().saturating_sub(room)..];
    let mut text = String::from(super::prompt::clear_screen());
    for line in shown {
        text.push_str(line.trim_end());
        text.push_str("\r\n");
    }
    text.push_str(&format!("\x1b[{height};1H{prompt} "));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn pages_fit_the_room_and_end_at_blank_lines() {
        let text = lines("a\nb\nc\n\nd\ne\nf\ng\nh");
        let pages = split(&text, 5);
        assert!(pages.iter().all(|p| p.len() - leading_blanks(p) <= 5));
        assert_eq!(pages[0], lines("a\nb\nc"));
        assert_eq!(pages[1], lines("\nd\ne\nf\ng\nh"));
        assert_eq!(pages.len(), 2);
        // Every line is on a page, in order.
        assert_eq!(pages.concat(), text);
        // No blank line to end at: cut at the room.
        let solid = lines("1\n2\n3\n4\n5\n6\n7");
        assert_eq!(split(&solid, 3).len(), 3);
        assert_eq!(split(&[], 3), vec![Vec::<String>::new()]);
    }

    #[test]
    fn a_screen_keeps_the_prompt_on_its_last_row() {
        let screen = draw(&lines("\none\ntwo"), 24, "next");
        assert!(screen.starts_with("\x1b[2J\x1b[H"));
        assert!(screen.contains("one\r\ntwo\r\n\x1b[24;1Hnext"));
        // Too many lines: the last ones are shown.
        let screen = draw(&lines("1\n2\n3\n4"), 3, "p");
        assert!(!screen.contains("1\r\n") && !screen.contains("2\r\n"));
        assert!(screen.contains("3\r\n4\r\n"));
    }
}
