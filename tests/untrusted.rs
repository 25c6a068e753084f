//! Lesson folders are untrusted input: instructors share them, students
//! download them. Whatever a lesson file holds (escape sequences, bidi
//! controls, deep nesting, a huge size, a name with a newline) and whatever
//! sits in the folder (links out of it, FIFOs, devices), memlab prints no
//! control sequence it did not make, never crashes or hangs, does bounded
//! work, and reports a problem in one line naming the file.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fresh folder under the temporary directory, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let dir =
            std::env::temp_dir().join(format!("memlab-untrusted-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Folder(dir)
    }

    fn with(self, file: impl AsRef<OsStr>, text: impl AsRef<[u8]>) -> Folder {
        std::fs::write(self.0.join(file.as_ref()), text).unwrap();
        self
    }
}

impl std::ops::Deref for Folder {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// memlab with `args`, `--lessons-dir dir`, and `stdin`.
fn memlab(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_memlab"))
        .args(args)
        .arg("--lessons-dir")
        .arg(dir)
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("memlab runs");
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().unwrap()
}

fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "memlab {args:?}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every terminal-driving sequence a hostile lesson tried in tmux, and more:
/// OSC (window title; the clipboard, OSC 52), CSI (hide the cursor, clear
/// the screen), DCS, an 8-bit CSI, NEL, NUL, DEL, backspace, bidi overrides
/// and isolates.
const BAD: &str = "\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[?25l\x1b[2J\x1bP1$r\x1b\\\
                   \u{202e}\u{2066}\u{2069}\u{202a}\u{9b}31m\u{85}\x00\x7f\x08";

/// A lesson with [`BAD`] in every place a lesson can hold text: front
/// matter (through TOML's escapes, which are all it accepts), heading,
/// prose, inline code, emphasis, character references, a list, a quote, a
/// code block, the prediction and its `why:` line.
fn hostile_lesson() -> String {
    format!(
        "+++\n\
         title = \"Evil \\u001b]0;title\\u0007 \\u202e \\u009b\"\n\
         summary = \"Summary \\u001b]52;c;cm0=\\u0007 \\u001b[31m red \\u202e\\nsecond line\"\n\
         scenarios = [\"box\"]\n\
         order = 1\n\
         +++\n\n\
         # Heading {BAD}\n\n\
         Prose over\rwrite {BAD} with `code {BAD}` and *em {BAD}* and &#x1b;[31m and \
         &#27;]0;x&#7; and &#x202e;.\n\n\
         - list {BAD}\n  > quote {BAD}\n\n\
         ```\ncode block {BAD}\n```\n\n\
         > **Predict:** do they point to the same block? {BAD}\n\n\
         ```memlab\nanswer box same-block first second\nwhy: because {BAD} moves copy the pointer\n```\n\n\
         ```memlab\nevents box\n```\n"
    )
}

/// Whether `bytes` hold a bidi override or isolate.
fn has_bidi(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .chars()
        .any(|c| ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c))
}

/// Every ESC in `bytes` starts a colour (`ESC [ digits and ; m`).
fn only_colours(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some(i) = rest.iter().position(|&b| b == 0x1b) {
        let after = &rest[i + 1..];
        let Some(body) = after.strip_prefix(b"[") else {
            return false;
        };
        let end = body
            .iter()
            .position(|&b| !(b.is_ascii_digit() || b == b';'))
            .unwrap_or(body.len());
        if body.get(end) != Some(&b'm') {
            return false;
        }
        rest = &body[end + 1..];
    }
    true
}

/// No C0/C1 control but newline and tab reaches the terminal.
fn no_controls(bytes: &[u8], colour: bool) -> bool {
    String::from_utf8_lossy(bytes)
        .chars()
        .all(|c| !c.is_control() || c == '\n' || (colour && c == '\x1b'))
}

#[test]
fn a_hostile_lesson_prints_no_control_sequence_of_its_own() {
    let dir = Folder::new("hostile").with("evil.md", hostile_lesson());
    let runs: &[(&[&str], &str)] = &[
        (&["list"], ""),
        (&[], ""),
        (&["lesson", "evil", "--width", "100"], ""),
        (&["lesson", "evil", "--width", "160"], ""),
        (
            &["lesson", "evil", "--layout", "side", "--width", "200"],
            "",
        ),
        (
            &["lesson", "evil", "--step"],
            "\n\nno \x1b]0;typed\x07\u{202e}\n\n\n",
        ),
        (&["lesson", "evil", "--claims"], ""),
        (&["lesson", "evi\x1b]0;x\x07"], ""),
    ];
    for colour in ["never", "always"] {
        for (args, stdin) in runs {
            let mut args = args.to_vec();
            args.extend(["--color", colour]);
            let out = memlab(&dir, &args, stdin);
            assert!(
                matches!(out.status.code(), Some(0 | 2)),
                "{}",
                describe(&args, &out)
            );
            for stream in [&out.stdout, &out.stderr] {
                assert!(!has_bidi(stream), "{}", describe(&args, &out));
                if colour == "never" {
                    assert!(!stream.contains(&0x1b), "{}", describe(&args, &out));
                }
                assert!(only_colours(stream), "{}", describe(&args, &out));
                assert!(
                    no_controls(stream, colour == "always"),
                    "{}",
                    describe(&args, &out)
                );
            }
        }
    }
    // The sequences are shown, not dropped: the reader sees what the file holds.
    let out = memlab(
        &dir,
        &["lesson", "evil", "--color", "never", "--width", "400"],
        "",
    );
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains("\\x1b]0;pwned\\x07"), "{page}");
    assert!(page.contains("\\u{202e}"), "{page}");
    let out = memlab(&dir, &["list", "--color", "never", "--width", "400"], "");
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("Summary \\x1b]52;c;cm0=\\x07 \\x1b[31m red \\u{202e}\\nsecond line"),
        "{list}"
    );
}

/// Errors echo what the lesson said (a directive word, a TOML key, a file
/// name): cleaned, on one line.
#[test]
fn errors_that_quote_a_lesson_stay_one_clean_line() {
    let good = hostile_lesson();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "directive",
            good.replace("events box", &format!("evil{BAD}word box"))
                .into_bytes(),
        ),
        (
            "toml key",
            good.replace(
                "order = 1",
                "order = 1\n\"\\u001b]0;key\\u0007\\u202e\" = 2",
            )
            .into_bytes(),
        ),
        (
            "scenario",
            good.replace("events box", &format!("events bo{BAD}x"))
                .into_bytes(),
        ),
    ];
    for (what, text) in cases {
        let dir = Folder::new("errors").with("evil.md", text);
        let args = ["list", "--color", "always"];
        let out = memlab(&dir, &args, "");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{what}: {}",
            describe(&args, &out)
        );
        let stderr = &out.stderr;
        assert!(
            !stderr.contains(&0x1b) && !has_bidi(stderr),
            "{what}: {}",
            describe(&args, &out)
        );
        assert!(
            no_controls(stderr, false),
            "{what}: {}",
            describe(&args, &out)
        );
        assert_eq!(
            stderr.iter().filter(|&&b| b == b'\n').count(),
            1,
            "{what}: {}",
            describe(&args, &out)
        );
    }
    // A file name with a newline and an escape in it.
    let name = OsStr::from_bytes(b"bad\nname\x1b]0;x\x07\xe2\x80\xae.md");
    let dir = Folder::new("names").with(name, good);
    let runs: [&[&str]; 2] = [
        &["list", "--color", "never"],
        &["lesson", "x", "--color", "never"],
    ];
    for args in runs {
        let out = memlab(&dir, args, "");
        assert_eq!(out.status.code(), Some(1), "{}", describe(args, &out));
        let stderr = &out.stderr;
        assert!(
            !stderr.contains(&0x1b) && !has_bidi(stderr),
            "{}",
            describe(args, &out)
        );
        assert_eq!(
            stderr.iter().filter(|&&b| b == b'\n').count(),
            1,
            "{}",
            describe(args, &out)
        );
        assert!(
            String::from_utf8_lossy(stderr).contains("bad\\nname\\x1b"),
            "{}",
            describe(args, &out)
        );
    }
}
