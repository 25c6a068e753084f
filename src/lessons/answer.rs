//! How a reader's answer to a prediction compares with the live run.
//!
//! A reader types what a person would: `8`, `+8`, `0x8`, `eight`, `64 B`,
//! `1 KiB`, `capacity 8`, `yes`. An answer that cannot be read as the kind
//! of value asked for (`none` for a yes/no question, an empty line, `8 or
//! 16`) is [`Verdict::Unreadable`], so the caller can ask again without
//! giving the answer away; a number no count can equal (`-8`, `8.5`) is
//! read, and differs.

use super::query::{KIND_NAMES, REGION_NAMES, Value};

/// How a reader's answer compares with the live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    Differs,
    /// Not an answer of the kind asked for: ask again.
    Unreadable,
}

/// Compares what the reader typed with the live run's answer.
pub fn judge(expected: Value, typed: &str) -> Verdict {
    let typed = typed.trim().to_lowercase();
    let words: Vec<&str> = typed
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| ",.;:!?\"'()".contains(c)))
        .filter(|w| !w.is_empty())
        .collect();
    let same = |agrees: bool| {
        if agrees {
            Verdict::Agrees
        } else {
            Verdict::Differs
        }
    };
    match expected {
        Value::Number(n) => match number(&words) {
            Reading::Count(given) => same(given == n),
            Reading::NotACount => Verdict::Differs,
            Reading::Unreadable => Verdict::Unreadable,
        },
        Value::YesNo(yes) => match words.as_slice() {
            [w, ..] if YES.contains(w) => same(yes),
            [w, ..] if NO.contains(w) => same(!yes),
            _ => Verdict::Unreadable,
        },
        Value::Word(word) => {
            let known = REGION_NAMES.iter().chain(&KIND_NAMES);
            match words.as_slice() {
                [w] => match known.into_iter().find(|k| *k == w) {
                    Some(k) => same(*k == word),
                    None => Verdict::Unreadable,
                },
                _ => Verdict::Unreadable,
            }
        }
    }
}

/// What a reader is asked to type, for the hint after an unreadable answer.
pub fn expected_form(expected: Value) -> String {
    match expected {
        Value::Number(_) => "a whole number (8, 0x8, eight, 64 B)".into(),
        Value::YesNo(_) => "yes or no".into(),
        // Short enough for the prompt line of an 80-column screen.
        Value::Word(word) if REGION_NAMES.contains(&word) => {
            "a region's name (heap, mmap, stack …)".into()
        }
        Value::Word(_) => "an event's kind (alloc, dealloc …)".into(),
    }
}

const YES: [&str; 5] = ["y", "yes", "yeah", "yep", "true"];
const NO: [&str; 5] = ["n", "no", "nope", "false", "never"];

enum Reading {
    Count(u64),
    /// A number, but negative or fractional: no count or size equals it.
    NotACount,
    Unreadable,
}

/// Words for the small numbers a prediction asks about.
const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Reads the one number in `words` (other words, like `capacity` in
/// `capacity 8`, are the reader's own labels). Two numbers are unreadable:
/// `8 or 16` is not an answer.
fn number(words: &[&str]) -> Reading {
    let mut found = vec![];
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        let unit_next = words.get(i + 1).copied().filter(|w| unit(w).is_some());
        if let Some(n) = number_word(word, words.get(i + 1).copied()) {
            found.push(n.0);
            i += n.1;
        } else if let Some(reading) = numeral(word, unit_next) {
            found.push(reading);
            i += if unit_next.is_some() { 2 } else { 1 };
        } else {
            i += 1;
        }
    }
    match found.len() {
        1 => found.pop().unwrap_or(Reading::Unreadable),
        _ => Reading::Unreadable,
    }
}

/// `eight`, `twenty-four`, `twenty four`, `none`: the reading and how many
/// words it took.
fn number_word(word: &str, next: Option<&str>) -> Option<(Reading, usize)> {
    let one = |w: &str| ONES.iter().position(|o| *o == w);
    let ten = |w: &str| TENS.iter().position(|t| *t == w).map(|t| 20 + 10 * t);
    if word == "none" {
        return Some((Reading::Count(0), 1));
    }
    if let Some(n) = one(word) {
        return Some((Reading::Count(n as u64), 1));
    }
    if let Some((tens, ones)) = word.split_once('-') {
        let n = ten(tens)? + one(ones).filter(|&o| (1..10).contains(&o))?;
        return Some((Reading::Count(n as u64), 1));
    }
    let tens = ten(word)?;
    match next.and_then(one).filter(|o| (1..10).contains(o)) {
        Some(ones) => Some((Reading::Count((tens + ones) as u64), 2)),
        None => Some((Reading::Count(tens as u64), 1)),
    }
}

/// A unit of size, by its binary name (`KB` is taken as 1024, as memory
/// sizes are).
fn unit(word: &str) -> Option<&'static str> {
    match word {
        "b" | "byte" | "bytes" => Some("B"),
        "k" | "kb" | "kib" | "ki" => Some("KiB"),
        "m" | "mb" | "mib" | "mi" => Some("MiB"),
        "g" | "gb" | "gib" | "gi" => Some("GiB"),
        _ => None,
    }
}

/// `8`, `+8`, `-8`, `1_000`, `1,024`, `0x8`, `8.5`, `64b`, `1.5kib`, or a
/// number followed by the unit in `unit_next`; `None` if `word` is no
/// numeral.
fn numeral(word: &str, unit_next: Option<&str>) -> Option<Reading> {
    let (negative, body) = match word.as_bytes().first()? {
        b'-' => (true, &word[1..]),
        b'+' => (false, &word[1..]),
        _ => (false, word),
    };
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let digits: String = body.chars().filter(|c| !matches!(c, '_' | ',')).collect();
    if let Some(hex) = digits.strip_prefix("0x") {
        let n = u64::from_str_radix(hex, 16).ok()?;
        return Some(if negative && n != 0 {
            Reading::NotACount
        } else {
            Reading::Count(n)
        });
    }
    let split = digits
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(digits.len());
    let (figures, glued) = digits.split_at(split);
    let unit = match (glued, unit_next) {
        ("", None) => "B",
        ("", Some(u)) | (u, None) => unit(u)?,
        (_, Some(_)) => return None,
    };
    let fraction = figures.contains('.');
    if figures.ends_with('.') || figures.matches('.').count() > 1 {
        return None;
    }
    if negative && figures.chars().any(|c| c.is_ascii_digit() && c != '0') {
        return Some(Reading::NotACount);
    }
    if fraction && unit == "B" {
        // 8.5 bytes, 8.5 blocks: no count or size is fractional.
        let whole = figures.trim_end_matches('0').trim_end_matches('.');
        return Some(match whole.parse::<u64>() {
            Ok(n) => Reading::Count(n),
            Err(_) => Reading::NotACount,
        });
    }
    // 1.5 KiB is 1536 bytes: parse-size reads sizes with full precision.
    match parse_size::parse_size(format!("{figures} {unit}")) {
        Ok(n) => Some(Reading::Count(n)),
        Err(parse_size::Error::PosOverflow) => Some(Reading::NotACount),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_may_answer_with_a_word() {
        assert_eq!(judge(Value::Word("mmap"), " MMAP "), Verdict::Agrees);
        assert_eq!(judge(Value::Word("mmap"), "heap"), Verdict::Differs);
        assert_eq!(judge(Value::Word("mmap"), "somewhere"), Verdict::Unreadable);
        assert_eq!(judge(Value::Word("mmap"), ""), Verdict::Unreadable);
    }

    #[test]
    fn numbers_are_read_as_people_write_them() {
        let eight = |typed| judge(Value::Number(8), typed);
        for agrees in [
            "8",
            "+8",
            " 8 ",
            "8.",
            "0x8",
            "0X08",
            "eight",
            "Eight!",
            "8 bytes",
            "8 B",
            "8b",
            "capacity 8",
            "8.0",
        ] {
            assert_eq!(eight(agrees), Verdict::Agrees, "{agrees:?}");
        }
        for differs in [
            "-8",
            "8.5",
            "9",
            "0x9",
            "nine",
            "8 KiB",
            "-0x8",
            "99999999999999999999",
        ] {
            assert_eq!(eight(differs), Verdict::Differs, "{differs:?}");
        }
        for unreadable in [
            "",
            "   ",
            "not sure",
            "eight or nine",
            "8 or 16",
            "lots",
            "yes",
        ] {
            assert_eq!(eight(unreadable), Verdict::Unreadable, "{unreadable:?}");
        }
        assert_eq!(judge(Value::Number(0), "none"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(0), "zero"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(0), "-0"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(64), "64 B"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(1024), "1 KiB"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(1024), "1kb"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(1536), "1.5 KiB"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(1 << 20), "1 MiB"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(1024), "1,024"), Verdict::Agrees);
        assert_eq!(judge(Value::Number(24), "twenty-four"), Verdict::Agrees);
        assert_eq!(
            judge(Value::Number(24), "twenty four bytes"),
            Verdict::Agrees
        );
        assert_eq!(judge(Value::Number(20), "twenty"), Verdict::Agrees);
    }

    #[test]
    fn yes_and_no_are_words_not_numbers() {
        let yes = |typed| judge(Value::YesNo(true), typed);
        assert_eq!(yes("yes"), Verdict::Agrees);
        assert_eq!(yes("Y"), Verdict::Agrees);
        assert_eq!(yes("true"), Verdict::Agrees);
        assert_eq!(yes("yes, the same block"), Verdict::Agrees);
        assert_eq!(yes("no"), Verdict::Differs);
        assert_eq!(yes("false"), Verdict::Differs);
        for unreadable in ["", "1", "0", "maybe", "none"] {
            assert_eq!(yes(unreadable), Verdict::Unreadable, "{unreadable:?}");
        }
    }

    #[test]
    fn the_hint_names_the_form_expected() {
        assert!(expected_form(Value::Number(8)).contains("whole number"));
        assert_eq!(expected_form(Value::YesNo(true)), "yes or no");
        assert!(expected_form(Value::Word("mmap")).contains("heap"));
        assert!(expected_form(Value::Word("alloc")).contains("dealloc"));
        for value in [
            Value::Number(8),
            Value::YesNo(true),
            Value::Word("mmap"),
            Value::Word("alloc"),
        ] {
            let hint = format!(
                "Not an answer memlab can read: type {}.",
                expected_form(value)
            );
            assert!(hint.chars().count() < 80, "{hint}");
        }
    }
}
