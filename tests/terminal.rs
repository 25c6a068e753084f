//! memlab on a terminal: step mode in a pseudo-terminal of 80×24 read
//! through a terminal emulator (every page and verdict on the screen when
//! memlab waits, nothing scrolled away), step mode's input bounded; and the
//! conventions of a command-line tool: shell completions, the man page,
//! flags only where they mean something, the pager, COLUMNS, and no line
//! of any output ending in a space.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 24;
const COLS: u16 = 80;

/// memlab running in a pseudo-terminal, its screen kept by a terminal
/// emulator.
struct Terminal {
    parser: vt100::Parser,
    output: mpsc::Receiver<Vec<u8>>,
    input: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Everything memlab wrote, for failure messages.
    transcript: Vec<u8>,
    /// The last row when memlab last waited.
    last: String,
}

impl Terminal {
    fn start(args: &[&str]) -> Terminal {
        Terminal::start_with(args, &[])
    }

    fn start_with(args: &[&str], env: &[(&str, &str)]) -> Terminal {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_memlab"));
        command.args(args);
        command.env("LC_ALL", "C.UTF-8");
        command.env("TERM", "xterm");
        command.env_remove("NO_COLOR");
        command.env_remove("MEMLAB_PAGER");
        command.env_remove("PAGER");
        // A progress file of its own, unless the test names one.
        command.env("MEMLAB_STATE", common::state());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = pair.slave.spawn_command(command).expect("memlab starts");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let input = pair.master.take_writer().unwrap();
        let (tx, output) = mpsc::channel();
        thread::spawn(move || {
            let _master = pair.master;
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = reader.read(&mut buffer) {
                if tx.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Terminal {
            parser: vt100::Parser::new(ROWS.try_into().unwrap(), COLS.try_into().unwrap(), 10_000),
            output,
            input,
            child,
            transcript: vec![],
            last: String::new(),
        }
    }

    /// The screen's rows, trailing spaces cut.
    fn rows(&self) -> Vec<String> {
        self.parser
            .screen()
            .rows(0, COLS)
            .map(|r| r.trim_end().to_string())
            .collect()
    }

    /// Reads memlab's output until its last row changes and satisfies
    /// `waiting` (it waits for the reader then), within 30 s.
    #[track_caller]
    fn wait_for(&mut self, waiting: impl Fn(&str) -> bool) -> Vec<String> {
        let started = Instant::now();
        loop {
            let rows = self.rows();
            let last = &rows[usize::from(ROWS) - 1];
            if *last != self.last && waiting(last) {
                self.last = last.clone();
                return rows;
            }
            let left = Duration::from_secs(30).saturating_sub(started.elapsed());
            match self.output.recv_timeout(left) {
                Ok(bytes) => {
                    self.parser.process(&bytes);
                    self.transcript.extend_from_slice(&bytes);
                }
                Err(_) => panic!(
                    "memlab did not wait as expected; screen:\n{}\ntranscript:\n{}",
                    rows.join("\n"),
                    String::from_utf8_lossy(&self.transcript)
                ),
            }
        }
    }

    fn send(&mut self, keys: &str) {
        self.input.write_all(keys.as_bytes()).unwrap();
        self.input.flush().unwrap();
    }

    /// Waits for memlab to end: its exit code and the screen it left.
    fn end(self) -> (u32, Vec<String>) {
        self.end_after(Duration::from_secs(10))
    }

    /// The same, waiting at most `limit`.
    fn end_after(mut self, limit: Duration) -> (u32, Vec<String>) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                thread::sleep(Duration::from_millis(100));
                while let Ok(bytes) = self.output.try_recv() {
                    self.parser.process(&bytes);
                }
                return (status.exit_code(), self.rows());
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("memlab did not end");
            }
            while let Ok(bytes) = self.output.try_recv() {
                self.parser.process(&bytes);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A lesson page's prompt, as step mode shows it on its last row: "── 3/20".
fn pause(row: &str) -> Option<(usize, usize)> {
    let position = row.strip_prefix("── ")?.split(' ').next()?;
    let (at, of) = position.split_once('/')?;
    Some((at.parse().ok()?, of.parse().ok()?))
}

/// A line without what differs between two runs of vec-growth: in place
/// or moved, the counts that follow from it, and the widths of the table
/// columns that show them.
fn normalised(line: &str) -> String {
    let mut text: String = line.split_whitespace().collect();
    text = text.replace("inplace", "~").replace("moved", "~");
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_ascii_digit() { '0' } else { c };
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

#[test]
fn lesson_step_fits_an_80_by_24_terminal_and_shows_every_page_and_verdict() {
    let args = ["lesson", "vec-growth", "--step"];
    let style = ["--color", "never", "--addresses", "symbolic"];
    // The whole lesson, as printed without --step (at 80 columns).
    let whole = common::memlab_binary()
        .args(["lesson", "vec-growth", "--width", "80"])
        .args(style)
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let whole = String::from_utf8(whole.stdout).unwrap();

    let mut terminal = Terminal::start(&[&args[..], &style[..]].concat());
    let mut seen: Vec<String> = vec![];
    let mut verdicts = 0;
    let mut pages = vec![];
    loop {
        let rows = terminal.wait_for(|row| pause(row).is_some() || row == "Your answer:");
        assert_eq!(
            terminal.parser.screen().scrollback_len(),
            0,
            "a line scrolled off the screen:\n{}",
            String::from_utf8_lossy(&terminal.transcript)
        );
        let last = rows[usize::from(ROWS) - 1].clone();
        seen.extend(rows[..usize::from(ROWS) - 1].iter().cloned());
        if last == "Your answer:" {
            // The question is on the screen with the prompt.
            assert!(rows.iter().any(|r| r.contains("Predict:")), "{rows:#?}");
            terminal.send("8\r");
            // The verdict is on the screen when memlab waits again.
            let rows = terminal.wait_for(|row| pause(row).is_some());
            assert_eq!(terminal.parser.screen().scrollback_len(), 0);
            let verdict = rows.iter().any(|r| {
                r.starts_with("✓ The live run agrees") || r.starts_with("✗ The live run says")
            });
            assert!(verdict, "no verdict on the screen:\n{}", rows.join("\n"));
            assert!(rows.iter().any(|r| r == "Your answer: 8"), "{rows:#?}");
            verdicts += 1;
            seen.extend(rows[..usize::from(ROWS) - 1].iter().cloned());
            let (at, of) = pause(&rows[usize::from(ROWS) - 1]).unwrap();
            pages.push(at);
            terminal.send(if at == of { "q" } else { " " });
            if at == of {
                break;
            }
            continue;
        }
        let (at, of) = pause(&last).unwrap();
        pages.push(at);
        if at == of {
            terminal.send("\x1b[C"); // → at the end ends the lesson
            break;
        }
        // The keys of a presenter's remote, and the others, all go forward.
        terminal.send(["\x1b[6~", " ", "n", "\x1b[C"][at % 4]);
    }
    let (code, rows) = terminal.end();
    assert_eq!(code, 0);
    assert!(
        rows.iter().any(|r| r.starts_with("End of the lesson.")),
        "{rows:#?}"
    );
    // Every page was shown, in order, and the question was answered.
    let count = *pages.last().unwrap();
    assert!(count > 10, "{pages:?}");
    let mut distinct = pages.clone();
    distinct.dedup();
    assert_eq!(distinct, (1..=count).collect::<Vec<_>>());
    assert!(verdicts >= 1);
    // Every line of the lesson was on the screen at a pause, in order.
    let seen: Vec<String> = seen.iter().map(|l| normalised(l)).collect();
    let mut from = 0;
    for line in whole.lines().filter(|l| !l.trim().is_empty()) {
        let line = normalised(line);
        match seen[from..].iter().position(|s| *s == line) {
            Some(at) => from += at + 1,
            None => panic!("never on the screen at a pause: {line:?}"),
        }
    }
}

#[test]
fn step_mode_goes_back_jumps_and_restores_the_terminal() {
    let mut terminal = Terminal::start(&["trace", "vec-growth", "--step", "--color", "never"]);
    let on_event = |n: usize| move |row: &str| row.starts_with(&format!("── event {n}/8"));
    let rows = terminal.wait_for(on_event(1));
    assert!(rows[0].starts_with("Event 1 of 8"), "{rows:#?}");
    terminal.send("\x1b[C"); // →
    terminal.wait_for(on_event(2));
    terminal.send("\x1b[D"); // ←
    terminal.wait_for(on_event(1));
    terminal.send("\x1b[F"); // End
    let rows = terminal.wait_for(on_event(8));
    // Redrawn: the old step is not on the screen under the new one.
    assert_eq!(rows.iter().filter(|r| r.starts_with("Event ")).count(), 1);
    terminal.send("\x1b[H"); // Home
    terminal.wait_for(on_event(1));
    terminal.send("5\r");
    terminal.wait_for(on_event(5));
    terminal.send("g");
    terminal.wait_for(|row| row.starts_with("Go to (1–8)"));
    terminal.send("3\r");
    terminal.wait_for(on_event(3));
    terminal.send("b");
    terminal.wait_for(on_event(2));
    // A presenter's remote: PageDown and PageUp.
    terminal.send("\x1b[6~");
    terminal.wait_for(on_event(3));
    terminal.send("\x1b[5~");
    terminal.wait_for(on_event(2));
    terminal.send("\x03"); // Ctrl-C, a key in raw mode: quit
    let (code, rows) = terminal.end();
    assert_eq!(code, 0);
    assert!(rows.iter().any(|r| r.starts_with("Stopped.")), "{rows:#?}");
}

/// `--step` fed /dev/zero (a line without end) stops reading at the
/// bound and goes on as at the end of input, within a memory limit that
/// reading it whole would pass at once.
#[test]
fn step_mode_reads_a_bounded_line() {
    use std::os::unix::process::CommandExt;
    for args in [
        &["lesson", "vec-growth", "--step"][..],
        &["trace", "vec-growth", "--step"],
    ] {
        let mut command = common::memlab_binary();
        command
            .args(args)
            .stdin(std::fs::File::open("/dev/zero").unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: runs in the child between fork and exec and only calls
        // setrlimit, which is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 1 << 30,
                    rlim_max: 1 << 30,
                };
                libc::setrlimit(libc::RLIMIT_AS, &limit);
                Ok(())
            });
        }
        let out = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}: {stderr}",
            out.status
        );
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

// ---------------------------------------------------------------------------
// Terminal conventions: completions, the man page, per-command flags, the
// pager, COLUMNS, and no trailing spaces
// ---------------------------------------------------------------------------

/// Runs memlab with `env` set; (exit code, stdout, stderr).
fn memlab(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = common::memlab_binary();
    command
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .env_remove("COLUMNS")
        .env_remove("LINES")
        .env_remove("MEMLAB_PAGER")
        .env_remove("PAGER")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

#[track_caller]
fn success(args: &[&str]) -> String {
    let (code, stdout, stderr) = memlab(args, &[]);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    stdout
}

#[test]
fn bash_completion_completes_lesson_and_scenario_ids() {
    let script =
        std::env::temp_dir().join(format!("memlab-completion-{}.bash", std::process::id()));
    std::fs::write(&script, success(&["completions", "bash"])).unwrap();
    // As bash calls a completion function: the words, the current word's
    // index, and (command, word, previous word) as arguments.
    let complete = |words: &str| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "set -e; source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
                 _memlab memlab \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("memlab lesson v"), "vec-growth\n");
    assert_eq!(complete("memlab trace rc"), "rc-arc\nrc-cycle\n");
    assert!(complete("memlab tr").contains("trace"));
    assert!(complete("memlab trace box --vi").contains("--view"));
    let _ = std::fs::remove_file(&script);
    for shell in ["zsh", "fish", "powershell"] {
        let script = success(&["completions", shell]);
        assert!(script.contains("lessons-dir"), "{shell}");
        // PowerShell's script completes commands and options only.
        if shell != "powershell" {
            assert!(script.contains("vec-growth"), "{shell}");
        }
    }
}

#[test]
fn the_man_page_is_roff_for_memlab_and_each_command() {
    let page = success(&["man"]);
    assert!(page.contains(".TH memlab 1"), "{page}");
    assert!(
        page.contains(".SH NAME") && page.contains(".SH SUBCOMMANDS"),
        "{page}"
    );
    for command in ["lesson", "trace", "completions"] {
        assert!(page.contains(command), "{command}");
        let page = success(&["man", command]);
        assert!(page.contains(&format!(".TH memlab-{command} 1")), "{page}");
    }
    assert!(success(&["man", "trace"]).contains("\\-\\-view"));
    let (code, _, stderr) = memlab(&["man", "nope"], &[]);
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn each_flag_belongs_to_the_commands_it_means_something_for() {
    for args in [
        &["trace", "box", "--lessons-dir", "/nonexistent"][..],
        &["list", "--addresses", "symbolic"],
        &["new", "x.rs", "--color", "never"],
        &["completions", "bash", "--width", "80"],
        &["--color", "never", "list"],
    ] {
        let (code, stdout, stderr) = memlab(args, &[]);
        assert_eq!(code, 2, "{args:?} accepted: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    let trace = success(&["trace", "--help"]);
    assert!(!trace.contains("--lessons-dir"), "{trace}");
    assert!(
        trace.contains("Examples:") && trace.contains("--paging"),
        "{trace}"
    );
    let lesson = success(&["lesson", "--help"]);
    assert!(lesson.contains("--lessons-dir") && lesson.contains("Examples:"));
    // Help is wrapped to the terminal (here COLUMNS, as no terminal).
    let (_, help, _) = memlab(&["trace", "--help"], &[("COLUMNS", "60")]);
    assert!(help.lines().all(|l| l.chars().count() <= 60), "{help}");
}

#[test]
fn the_pager_pages_when_asked_and_never_into_a_pipe() {
    let pager = [("MEMLAB_PAGER", "sed s/^/paged:/")];
    let (code, paged, _) = memlab(&["list", "--paging", "always"], &pager);
    assert_eq!(code, 0);
    assert!(paged.lines().count() > 10);
    assert!(paged.lines().all(|l| l.starts_with("paged:")), "{paged}");
    // auto, into a pipe: no pager.
    let (_, piped, _) = memlab(&["list"], &pager);
    assert!(!piped.contains("paged:"), "{piped}");
    // An empty MEMLAB_PAGER means no pager; PAGER is the fallback.
    let (_, none, _) = memlab(&["list", "--paging", "always"], &[("MEMLAB_PAGER", "")]);
    assert!(!none.contains("paged:"));
    let (_, fallback, _) = memlab(
        &["list", "--paging", "always"],
        &[("PAGER", "sed s/^/pager:/")],
    );
    assert!(fallback.lines().all(|l| l.starts_with("pager:")));
    // A pager that cannot start: one warning, then the output.
    let (code, direct, stderr) = memlab(
        &["list", "--paging", "always"],
        &[("MEMLAB_PAGER", "/nonexistent/pager")],
    );
    assert_eq!(code, 0);
    assert!(
        direct.contains("vec-growth") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn on_a_terminal_tall_output_is_paged_and_step_mode_is_not() {
    let paged = |args: &[&str]| {
        let pager = "sed s/^/paged:/";
        let mut args: Vec<&str> = args.to_vec();
        args.extend(["--color", "never"]);
        Terminal::start_with(&args, &[("MEMLAB_PAGER", pager)])
    };
    // 24 rows, and `trace box` is taller: paged.
    let (_, rows) = paged(&["trace", "box"]).end_after(Duration::from_secs(5));
    assert!(rows.iter().any(|r| r.starts_with("paged:")), "{rows:#?}");
    // Short output: not paged.
    let (_, rows) = paged(&["new", "/nonexistent/dir/x.rs"]).end_after(Duration::from_secs(5));
    assert!(!rows.iter().any(|r| r.starts_with("paged:")), "{rows:#?}");
    // Step mode: never paged.
    let mut terminal = paged(&["trace", "box", "--step", "--paging", "always"]);
    let rows = terminal.wait_for(|row| row.starts_with("── event 1/2"));
    assert!(!rows.iter().any(|r| r.starts_with("paged:")), "{rows:#?}");
    terminal.send("q");
    terminal.end();
}

#[test]
fn columns_sets_the_width_when_stdout_is_not_a_terminal() {
    let (_, text, _) = memlab(&["trace", "box"], &[("COLUMNS", "80")]);
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!((70..=80).contains(&widest), "{widest}");
    // --width wins.
    let (_, text, _) = memlab(&["trace", "box", "--width", "120"], &[("COLUMNS", "80")]);
    assert!(text.lines().any(|l| l.chars().count() > 80));
}

/// No line of any command's output ends in a space or a tab.
#[test]
fn no_output_has_trailing_spaces() {
    let check = |args: &[&str], input: &str| {
        let mut child = common::memlab_binary()
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .env_remove("COLUMNS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        let out = child.wait_with_output().unwrap();
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(text);
            for (i, line) in text.lines().enumerate() {
                assert!(
                    !line.ends_with(' ') && !line.ends_with('\t'),
                    "memlab {args:?}, {stream} line {}: {line:?}",
                    i + 1
                );
            }
        }
    };
    let keys = "8\nb\nx\n".to_string() + &"\n".repeat(60);
    check(&[], "");
    check(&["list"], "");
    check(&["--help"], "");
    for command in [
        "lesson",
        "list",
        "trace",
        "run",
        "new",
        "completions",
        "man",
    ] {
        check(&[command, "--help"], "");
        check(&["man", command], "");
    }
    for shell in ["bash", "zsh", "fish", "powershell"] {
        check(&["completions", shell], "");
    }
    check(&["man"], "");
    let lessons = success(&["list", "--width", "200"]);
    let lessons: Vec<&str> = lessons
        .lines()
        .take_while(|l| !l.starts_with("Scenarios"))
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.contains('-') || w.len() > 2)
        })
        .filter(|id| id.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    assert!(lessons.contains(&"vec-growth"), "{lessons:?}");
    for lesson in &lessons {
        check(&["lesson", lesson], "");
        check(&["lesson", lesson, "--width", "160"], "");
        check(&["lesson", lesson, "--step"], &keys);
    }
    for scenario in memlab::scenarios::SCENARIOS {
        check(&["trace", scenario.id, "--view", "all"], "");
        check(&["trace", scenario.id, "--format", "json"], "");
        check(&["trace", scenario.id, "--step"], &keys);
    }
}

#[test]
fn below_the_narrowest_width_memlab_says_so_and_prose_keeps_a_readable_measure() {
    let (code, text, stderr) = memlab(&["trace", "locals", "--width", "40"], &[]);
    assert_eq!(code, 0);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("need at least 60 columns, not 40"),
        "{stderr}"
    );
    // Drawn at 60, with readable columns: no type cut to a letter a row.
    assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
    assert!(text.contains("┆ u8 "), "{text}");
    // Lists and prose work narrower: no note.
    let (_, _, stderr) = memlab(&["list", "--width", "40"], &[]);
    assert!(stderr.is_empty(), "{stderr}");
    // In a wide terminal, prose lines stay at most 80 wide.
    let (_, page, _) = memlab(
        &["lesson", "vec-growth", "--width", "120", "--color", "never"],
        &[],
    );
    let first = page.lines().find(|l| l.starts_with("A `Vec<T>`")).unwrap();
    assert!(first.chars().count() <= 80, "{first}");
    assert!(first.chars().count() > 60, "{first}");
}

/// Every page of every scenario's steps, and of every lesson, fits 24
/// rows (one of them the prompt's). `LINES` gives the height when stdout
/// is a pipe; the transcript has the pages one after another.
#[test]
fn every_step_of_every_scenario_and_lesson_fits_24_rows() {
    // Forward through every page, answering each prediction right (a line
    // memlab cannot read as an answer would be asked again): memlab's own
    // transcript, read as it waits.
    let answered = |lesson: &str| {
        let lessons = memlab::lessons::embedded(&memlab::scenarios::BUILT_IN).unwrap();
        let lesson = lessons.iter().find(|l| l.id == lesson).unwrap();
        let plan = memlab::lessons::Plan::build(lesson, |id| {
            Some(
                memlab::scenarios::BUILT_IN
                    .find(id)?
                    .trace(Default::default(), None),
            )
        })
        .unwrap();
        lesson
            .blocks
            .iter()
            .filter_map(|b| match b {
                memlab::lessons::Block::Answer(a) => Some(plan.prediction(a)?.value.to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let pages = |args: &[&str], answers: &[String]| {
        let mut child = common::memlab_binary()
            .args(args)
            .args(["--color", "never", "--width", "80"])
            .env("LC_ALL", "C.UTF-8")
            .env("LINES", "24")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut answers = answers.iter();
        let mut seen = vec![];
        let mut replied = 0;
        let mut replies = 0;
        while let Ok(chunk) = rx.recv_timeout(Duration::from_secs(30)) {
            seen.extend(chunk);
            // memlab waits after a prompt with no newline after it.
            let text = String::from_utf8_lossy(&seen);
            let tail = text.trim_end_matches(' ');
            if seen.len() == replied || !(tail.ends_with("Your answer:") || tail.ends_with("──"))
            {
                continue;
            }
            replied = seen.len();
            // As many pages as the tests read; then the end of input shows
            // the rest without waiting.
            replies += 1;
            if replies > 400 {
                break;
            }
            let reply = match tail.ends_with("Your answer:") {
                true => answers.next().cloned().unwrap_or_default(),
                false => String::new(),
            };
            if stdin.write_all(format!("{reply}\n").as_bytes()).is_err() {
                break;
            }
        }
        drop(stdin);
        let status = child.wait().unwrap();
        assert!(status.success(), "{args:?}");
        let text = String::from_utf8(seen).unwrap();
        // Pages end at a prompt line; blank lines at a page's top are not
        // drawn on a cleared screen.
        let mut pages: Vec<Vec<String>> = vec![vec![]];
        for line in text.lines() {
            if line.starts_with("── ") {
                // The blank line before a prompt is the transcript's.
                let page = pages.last_mut().unwrap();
                while page.last().is_some_and(|l| l.trim().is_empty()) {
                    page.pop();
                }
                pages.push(vec![]);
            } else {
                let page = pages.last_mut().unwrap();
                if !(page.is_empty() && line.trim().is_empty()) {
                    page.push(line.to_string());
                }
            }
        }
        pages
    };
    for scenario in memlab::scenarios::SCENARIOS {
        let steps = pages(&["trace", scenario.id, "--step"], &[]);
        for page in &steps[..steps.len() - 1] {
            assert!(page.len() <= 23, "{}: {}", scenario.id, page.join("\n"));
        }
    }
    let lessons = ["vec-growth", "global-allocator", "myths", "box"];
    for lesson in lessons {
        let shown = pages(&["lesson", lesson, "--step"], &answered(lesson));
        assert!(shown.len() > 5, "{lesson}");
        for page in &shown[..shown.len() - 1] {
            assert!(page.len() <= 23, "{lesson}: {}", page.join("\n"));
        }
    }
}

/// Piped, the keys are lines: `g` then a number jumps, a `g` followed by
/// something else shows the keys (and does not end the walk), `end` and
/// `home` go to either end.
#[test]
fn piped_lines_jump_and_a_bad_jump_shows_the_keys() {
    let mut child = common::memlab_binary()
        .args(["trace", "vec-growth", "--step", "--color", "never"])
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = "g\nzz\ng\n5\nend\nhome\n3\nq\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let steps: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Event ")?.split(' ').next())
        .collect();
    assert_eq!(steps, ["1", "5", "8", "1", "3"], "{text}");
    assert!(text.contains("Go to (1–8), then Enter:"), "{text}");
    assert!(text.contains("→ Space n PgDn: next"), "{text}");
    assert!(text.contains("Stopped."), "{text}");
}

/// `q` in `lesson --step` remembers the page; `lesson --continue` opens the
/// same lesson at that page, in step mode.
#[test]
fn quitting_a_lesson_remembers_its_page_and_continue_starts_there() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.toml");
    let state = state.to_str().unwrap();
    let env = [("MEMLAB_STATE", state)];
    let style = ["--color", "never", "--addresses", "symbolic"];
    let waiting = |row: &str| {
        pause(row).is_some() || row == "Your answer:" || row.starts_with("Not what this run says")
    };
    let last = usize::from(ROWS) - 1;
    let args = [&["lesson", "vec-growth", "--step"][..], &style[..]].concat();
    let mut terminal = Terminal::start_with(&args, &env);
    let mut screen = vec![];
    loop {
        let rows = terminal.wait_for(waiting);
        let Some((at, _)) = pause(&rows[last]) else {
            terminal.send("8\r");
            continue;
        };
        if at == 4 {
            screen = rows;
            break;
        }
        terminal.send(" ");
    }
    terminal.send("q");
    let (code, rows) = terminal.end();
    assert_eq!(code, 0);
    assert!(
        rows.iter()
            .any(|r| r.starts_with("Stopped.") && r.contains("--continue") && r.contains("page 4")),
        "{rows:#?}"
    );
    let saved = std::fs::read_to_string(state).unwrap();
    assert!(saved.contains("page = 4"), "{saved}");

    // A new start, with no lesson named: the same lesson, at that page.
    let args = [&["lesson", "--continue"][..], &style[..]].concat();
    let mut terminal = Terminal::start_with(&args, &env);
    let rows = terminal.wait_for(waiting);
    assert_eq!(pause(&rows[last]).map(|(at, _)| at), Some(4), "{rows:#?}");
    let same =
        |rows: &[String]| -> Vec<String> { rows[..last].iter().map(|r| normalised(r)).collect() };
    assert_eq!(same(&rows), same(&screen));
    // ← goes back to the page before, as in any step through it.
    terminal.send("\x1b[D");
    let rows = terminal.wait_for(waiting);
    assert_eq!(pause(&rows[last]).map(|(at, _)| at), Some(3), "{rows:#?}");
    terminal.send("q");
    let (code, _) = terminal.end();
    assert_eq!(code, 0);
    let saved = std::fs::read_to_string(state).unwrap();
    assert!(saved.contains("page = 3"), "{saved}");
}
