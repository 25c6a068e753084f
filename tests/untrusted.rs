//! Lesson folders are untrusted input: instructors share them, students
//! download them. Whatever a lesson file holds (escape sequences, bidi
//! controls, deep nesting, a huge size, a name with a newline) and whatever
//! sits in the folder (links out of it, FIFOs, devices), memlab prints no
//! control sequence it did not make, never crashes or hangs, does bounded
//! work, and reports a problem in one line naming the file.

mod common;

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

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

/// memlab with `args`, `--lessons-dir dir`, and `stdin`; killed, and the
/// test failed, if it runs for more than a minute (a hang, or work that
/// grows faster than the input: a debug build does any of these lessons
/// in a few seconds).
fn memlab(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = common::memlab_binary()
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
    let id = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output().unwrap();
        let _ = done.send(());
        out
    });
    if finished.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = Command::new("kill")
            .args(["-KILL", &id.to_string()])
            .status();
        panic!("memlab {args:?} ran for over a minute: killed");
    }
    waiter.join().unwrap()
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
        let args = ["lesson", "evil", "--color", "always"];
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
        // Only the lesson asked for is read: ask for this one.
        &[
            "lesson",
            "bad\nname\x1b]0;x\x07\u{202e}",
            "--color",
            "never",
        ],
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

// ---------------------------------------------------------------------------
// Bounded work: nesting, size, what a table cell gets, special files
// ---------------------------------------------------------------------------

/// The box lesson's front matter and a prediction, then `body`.
fn lesson_with(body: &str) -> String {
    format!(
        "+++\ntitle = \"T\"\nsummary = \"S\"\nscenarios = [\"box\"]\norder = 1\n+++\n\
         # T\n\n> **Predict:** how many heap events?\n\n```memlab\nanswer box events\n```\n\n\
         ```memlab\nevents box\n```\n\n{body}"
    )
}

/// Exit 1 and one line on stderr holding each of `words`; no signal.
#[track_caller]
fn fails(out: &Output, args: &[&str], words: &[&str]) {
    assert_eq!(out.status.code(), Some(1), "{}", describe(args, out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{}", describe(args, out));
    assert!(stderr.starts_with("error: "), "{}", describe(args, out));
    for word in words {
        assert!(stderr.contains(word), "{word:?}: {}", describe(args, out));
    }
}

#[test]
fn deep_nesting_is_an_error_naming_file_and_line_not_a_stack_overflow() {
    // 12,000 overflowed the stack in `lesson`, 100,000 in `list` too.
    for (name, unit, depth) in [
        ("quotes", "> ", 12_000),
        ("items", "- ", 12_000),
        ("quotes100k", "> ", 100_000),
        ("mixed", "> - ", 12_000),
    ] {
        let body = format!("{}deep\n", unit.repeat(depth));
        let dir = Folder::new(name).with("deep.md", lesson_with(&body));
        let file = dir.join("deep.md").display().to_string();
        let args = ["lesson", "deep"];
        let out = memlab(&dir, &args, "");
        fails(
            &out,
            &args,
            &[&format!("{file}:19:"), "nest more than 16 deep"],
        );
        // `list` reads only the front matter, and shows it.
        let out = memlab(&dir, &["list"], "");
        assert_eq!(out.status.code(), Some(0), "{}", describe(&["list"], &out));
    }
    // 16 deep is fine.
    let dir = Folder::new("sixteen").with(
        "deep.md",
        lesson_with(&format!("{}deep\n", "> ".repeat(16))),
    );
    let out = memlab(&dir, &["lesson", "deep"], "");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe(&["lesson"], &out)
    );
}

#[test]
fn a_lesson_of_1_mib_is_shown_and_a_bigger_one_refused() {
    const MIB: usize = 1 << 20;
    let paragraph =
        "Words of a long lesson, one paragraph after another, wrapped to the width.\n\n";
    let mut text = lesson_with("");
    while text.len() + paragraph.len() <= MIB {
        text.push_str(paragraph);
    }
    assert!(text.len() > MIB - paragraph.len());
    let dir = Folder::new("mib").with("big.md", &text);
    for args in [&["list"][..], &["lesson", "big"]] {
        let out = memlab(&dir, args, "");
        assert_eq!(out.status.code(), Some(0), "{}", describe(args, &out));
    }
    // Past the cap, in a file or in front matter and body alike: refused
    // by its size, before it is parsed.
    let mut two = text.clone();
    two.push_str(&text);
    let dir = Folder::new("two-mib").with("big.md", &two);
    let file = dir.join("big.md").display().to_string();
    for args in [&["list"][..], &["lesson", "big"]] {
        let out = memlab(&dir, args, "");
        fails(&out, args, &[&format!("{file}:1:"), "at most 1048576"]);
    }
}

#[test]
fn a_lesson_of_too_many_pieces_is_refused_in_bounded_time() {
    let file = |dir: &Folder| dir.join("many.md").display().to_string();
    let cases = [
        ("headings", "# h\n\n".repeat(100_000), "pieces of Markdown"),
        (
            "values",
            "{{box count alloc}} ".repeat(2_000),
            "live values",
        ),
        (
            "evidence",
            "```memlab\nevents box\n```\n\n".repeat(200),
            "pieces of evidence",
        ),
    ];
    for (name, body, words) in cases {
        let dir = Folder::new(name).with("many.md", lesson_with(&body));
        let args = ["lesson", "many"];
        let out = memlab(&dir, &args, "");
        fails(&out, &args, &[&file(&dir), words]);
    }
}

#[test]
fn a_huge_summary_is_cut_in_the_list() {
    // 600,000 characters with no space took 12 s in `list`.
    let text = lesson_with("").replace(
        "summary = \"S\"",
        &format!("summary = \"{}\"", "x".repeat(600_000)),
    );
    let dir = Folder::new("summary").with("long.md", text);
    let args = ["list", "--width", "100"];
    let out = memlab(&dir, &args, "");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&args, &out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let row: Vec<&str> = stdout.lines().filter(|l| l.contains("xxx")).collect();
    let shown: usize = row.iter().map(|l| l.matches('x').count()).sum();
    assert!((300..=310).contains(&shown), "{shown} x shown: {stdout}");
    assert!(stdout.contains('…'), "{stdout}");
}

#[test]
fn only_regular_files_in_the_folder_are_lessons() {
    let good = lesson_with("");
    let shadow = Path::new("/etc/shadow");
    let mut links: Vec<(&str, &Path, &str)> = vec![
        ("kmsg", Path::new("/proc/kmsg"), "leads out of the folder"),
        (
            "pagemap",
            Path::new("/proc/self/pagemap"),
            "leads out of the folder",
        ),
        ("zero", Path::new("/dev/zero"), "leads out of the folder"),
        ("tty", Path::new("/dev/tty"), "leads out of the folder"),
    ];
    if shadow.exists() {
        links.push(("shadow", shadow, "leads out of the folder"));
    }
    // A regular lesson outside the folder, reached through a link.
    let outside = Folder::new("outside").with("x.md", &good);
    let elsewhere = outside.join("x.md");
    links.push(("elsewhere", &elsewhere, "leads out of the folder"));
    for (name, target, words) in links {
        let dir = Folder::new(name).with("good.md", &good);
        std::os::unix::fs::symlink(target, dir.join("x.md")).unwrap();
        check_refused(&dir, words);
    }
    // A FIFO (opening it would block), a folder, a link loop.
    let dir = Folder::new("fifo").with("good.md", &good);
    let made = Command::new("mkfifo").arg(dir.join("x.md")).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    check_refused(&dir, "it is a FIFO");
    let dir = Folder::new("folder").with("good.md", &good);
    std::fs::create_dir(dir.join("x.md")).unwrap();
    check_refused(&dir, "it is a folder");
    let dir = Folder::new("loop").with("good.md", &good);
    std::os::unix::fs::symlink("y.md", dir.join("x.md")).unwrap();
    std::os::unix::fs::symlink("x.md", dir.join("y.md")).unwrap();
    check_refused(&dir, "cannot read it");
    // A link to a lesson in the folder is that lesson.
    let dir = Folder::new("inside").with("good.md", &good);
    std::os::unix::fs::symlink("good.md", dir.join("x.md")).unwrap();
    for args in [&["list"][..], &["lesson", "x"]] {
        let out = memlab(&dir, args, "");
        assert_eq!(out.status.code(), Some(0), "{}", describe(args, &out));
    }
}

/// `x.md` in `dir` is refused with `words`, by `list` and by `lesson x`,
/// while `lesson good` beside it is shown.
#[track_caller]
fn check_refused(dir: &Folder, words: &str) {
    let file = format!("{}:1:", dir.join("x.md").display());
    for args in [&["list"][..], &["lesson", "x"]] {
        let out = memlab(dir, args, "");
        fails(&out, args, &[&file, words]);
    }
    let out = memlab(dir, &["lesson", "good"], "");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        describe(&["lesson", "good"], &out)
    );
}

// ---------------------------------------------------------------------------
// A lesson that runs the hidden `panics` scenario
// ---------------------------------------------------------------------------

#[test]
fn a_panicking_scenario_in_a_lesson_is_on_the_page_and_exit_1() {
    let text = lesson_with("```memlab\nevents panics\n```\n")
        .replace("scenarios = [\"box\"]", "scenarios = [\"box\", \"panics\"]");
    let dir = Folder::new("panics").with("p.md", text);
    for args in [
        &["lesson", "p", "--color", "never"][..],
        &["lesson", "p", "--step"],
    ] {
        let out = memlab(&dir, args, "");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("note: the scenario panics panicked (index out of bounds"),
            "{}",
            describe(args, &out)
        );
        fails(
            &out,
            args,
            &["the scenario 'panics' panicked: index out of bounds"],
        );
    }
}
