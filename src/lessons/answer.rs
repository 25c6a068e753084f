//! How a reader's answer to a prediction compares with the live run.

use super::query::{KIND_NAMES, REGION_NAMES, Value};

/// How a reader's answer compares with the live run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    Differs,
    /// Not a number (or yes/no, or one of the words) at all.
    Unreadable,
}

/// Compares what the reader typed with the live run's answer.
pub fn judge(expected: Value, typed: &str) -> Verdict {
    let typed = typed.trim().to_ascii_lowercase();
    let given = match expected {
        Value::Number(_) => {
            // Accept "8", "8 bytes", "capacity 8": the first number typed.
            let digits: String = typed
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || *c == '_' || *c == ',')
                .filter(char::is_ascii_digit)
                .collect();
            digits.parse().ok().map(Value::Number)
        }
        Value::YesNo(_) => match typed.as_str() {
            "y" | "yes" | "true" => Some(Value::YesNo(true)),
            "n" | "no" | "false" => Some(Value::YesNo(false)),
            _ => None,
        },
        Value::Word(word) => {
            let known = REGION_NAMES.iter().chain(&KIND_NAMES);
            match known.into_iter().find(|w| **w == typed) {
                Some(w) if *w == word => Some(expected),
                Some(_) => Some(Value::Word("")),
                None => None,
            }
        }
    };
    match given {
        None => Verdict::Unreadable,
        Some(given) if given == expected => Verdict::Agrees,
        Some(_) => Verdict::Differs,
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
        assert_eq!(judge(Value::Number(8), "8 bytes"), Verdict::Agrees);
    }
}
