//! The reader's progress, through the binary: lessons read show as done in
//! `memlab list`, `memlab` says where to go on, `memlab next` opens the
//! right lesson, and a state file memlab cannot use is one warning, never a
//! failure. Each test keeps its progress in a folder of its own.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// Runs memlab with its progress in `state` (through `MEMLAB_STATE`) and
/// nothing on its standard input; returns (exit code, stdout, stderr).
fn memlab(state: &Path, args: &[&str]) -> (i32, String, String) {
    let out: Output = common::memlab_binary()
        .args(args)
        .env("MEMLAB_STATE", state)
        .env("LC_ALL", "C.UTF-8")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("memlab runs");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
    assert!(!stderr.contains("panicked"), "memlab {args:?}: {stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// The same, which must succeed with nothing on stderr.
#[track_caller]
fn ok(state: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = memlab(state, args);
    assert_eq!(code, 0, "memlab {args:?}\n{stdout}\n{stderr}");
    assert_eq!(stderr, "", "memlab {args:?}");
    stdout
}

fn fresh() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.toml");
    (dir, state)
}

/// `memlab list`'s lesson rows: (number, done, id).
fn marks(list: &str) -> Vec<(usize, bool, String)> {
    list.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let number = words.next()?.parse().ok()?;
            let done = match words.next()? {
                "✓" => true,
                "·" => false,
                other => panic!("not a mark: {other:?} in {l:?}"),
            };
            Some((number, done, words.next()?.to_string()))
        })
        .collect()
}

/// The lessons in course order, as `memlab list` numbers them.
fn course(state: &Path) -> Vec<String> {
    let rows = marks(&ok(state, &["list", "--width", "120"]));
    assert!(rows.len() > 3, "{rows:?}");
    for (i, (number, ..)) in rows.iter().enumerate() {
        assert_eq!(*number, i + 1);
    }
    rows.into_iter().map(|(_, _, id)| id).collect()
}

#[test]
fn two_lessons_read_show_as_done_and_memlab_names_the_next() {
    let (_dir, state) = fresh();
    let ids = course(&state);
    // A new reader: nothing done, and the welcome says where to start.
    let list = ok(&state, &["list", "--width", "120"]);
    assert!(marks(&list).iter().all(|(_, done, _)| !done), "{list}");
    let welcome = ok(&state, &["--width", "120"]);
    assert!(
        welcome.contains(&format!("Start with:  memlab lesson {}", ids[0])),
        "{welcome}"
    );
    assert!(!state.exists(), "only reading a lesson writes progress");

    // The first and the third lesson, read whole.
    for id in [&ids[0], &ids[2]] {
        let page = ok(&state, &["lesson", id, "--width", "100"]);
        assert!(!page.is_empty());
    }
    let rows = marks(&ok(&state, &["list", "--width", "120"]));
    let done: Vec<&str> = rows
        .iter()
        .filter(|(_, done, _)| *done)
        .map(|(_, _, id)| id.as_str())
        .collect();
    assert_eq!(done, [ids[0].as_str(), ids[2].as_str()]);
    assert_eq!(
        rows.iter().filter(|(_, done, _)| !done).count(),
        ids.len() - 2
    );

    // The next is the first not read, in course order: the second.
    let welcome = ok(&state, &["--width", "120"]);
    assert!(
        welcome.contains(&format!("Next lesson: {}. Run 'memlab next'", ids[1])),
        "{welcome}"
    );
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(
        text.starts_with("# memlab's record of your progress"),
        "{text}"
    );
    assert!(text.contains(&format!("last = \"{}\"", ids[2])), "{text}");
}

#[test]
fn next_opens_the_first_lesson_not_read_and_says_when_all_are() {
    let (_dir, state) = fresh();
    let ids = course(&state);
    let title = |id: &str| {
        let page = ok(&common::state(), &["lesson", id, "--width", "100"]);
        page.lines().next().unwrap().to_string()
    };
    // A new reader: the first lesson.
    let page = ok(&state, &["next", "--width", "100"]);
    assert_eq!(page.lines().next(), Some(title(&ids[0]).as_str()));
    assert!(
        page.contains(&format!("Next: memlab lesson {}", ids[1])),
        "{page}"
    );
    // `next` read it whole: then the second.
    let page = ok(&state, &["next", "--width", "100"]);
    assert_eq!(page.lines().next(), Some(title(&ids[1]).as_str()));

    // Every lesson read: `next` says so, and succeeds.
    for id in &ids[2..] {
        ok(&state, &["lesson", id, "--width", "100"]);
    }
    let said = ok(&state, &["next"]);
    assert_eq!(
        said,
        "You have read every lesson. Read any again with 'memlab lesson <lesson>'.\n"
    );
    assert!(ok(&state, &[]).contains("You have read every lesson."));
    let rows = marks(&ok(&state, &["list", "--width", "120"]));
    assert!(rows.iter().all(|(_, done, _)| *done), "{rows:?}");
}

#[test]
fn every_lesson_ends_by_naming_the_next_and_the_last_ends_the_course() {
    let (_dir, state) = fresh();
    let ids = course(&state);
    for (i, id) in ids.iter().enumerate() {
        let page = ok(&state, &["lesson", id, "--width", "80"]);
        let end: Vec<&str> = page.lines().rev().take(2).collect();
        match ids.get(i + 1) {
            Some(next) => assert_eq!(end[0], format!("Next: memlab lesson {next}"), "{id}"),
            None => assert!(
                page.trim_end()
                    .ends_with("'memlab list' shows what you have read."),
                "{page}"
            ),
        }
    }
}

#[test]
fn a_lesson_left_mid_way_is_where_memlab_and_next_go_on() {
    let (_dir, state) = fresh();
    let ids = course(&state);
    std::fs::write(
        &state,
        format!(
            "last = \"{}\"\n\n[lessons.{}]\npage = 2\npages = 5\n",
            ids[1], ids[1]
        ),
    )
    .unwrap();
    let welcome = ok(&state, &["--width", "120"]);
    assert!(
        welcome.contains(&format!(
            "You left off at {} (page 2 of 5): run 'memlab next'",
            ids[1]
        )),
        "{welcome}"
    );
    // `next` goes on there in step mode: with no input, it shows the rest
    // and that counts as the end.
    let whole = ok(&common::state(), &["lesson", &ids[1], "--width", "100"]);
    let (code, page, stderr) = memlab(&state, &["next", "--width", "100"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    // Not from the start: page 1 (the title) is not shown, the end is.
    let first = |text: &str| {
        text.lines()
            .find(|l| !l.trim().is_empty())
            .map(str::to_string)
    };
    assert!(first(&whole).is_some());
    assert_ne!(first(&page), first(&whole), "{page}");
    assert!(page.len() < whole.len(), "{page}");
    assert!(
        page.contains(&format!("Next: memlab lesson {}", ids[2])),
        "{page}"
    );
    let rows = marks(&ok(&state, &["list", "--width", "120"]));
    assert!(rows[1].1, "{rows:?}");
    assert!(!rows[0].1, "{rows:?}");
}

#[test]
fn answers_are_recorded_right_and_wrong() {
    let (_dir, state) = fresh();
    let out = common::memlab_binary()
        .args(["lesson", "vec-growth", "--step", "--width", "100"])
        .env("MEMLAB_STATE", &state)
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            // Two wrong answers: the verdict, then q at the next pause.
            child.stdin.take().unwrap().write_all(b"0\n0\nq\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("[lessons.vec-growth]"), "{text}");
    assert!(text.contains("wrong = [1]"), "{text}");
    assert!(text.contains("read = false"), "{text}");
    assert!(text.contains("page = 1"), "{text}");
}

#[test]
fn a_corrupt_state_file_is_one_warning_and_is_left_as_it_was() {
    let (_dir, state) = fresh();
    let garbage = "this is [not toml\n";
    std::fs::write(&state, garbage).unwrap();
    for args in [
        &["list"][..],
        &[][..],
        &["lesson", "box"][..],
        &["next"][..],
    ] {
        let (code, stdout, stderr) = memlab(&state, args);
        assert_eq!(code, 0, "memlab {args:?}: {stderr}");
        assert!(!stdout.is_empty(), "memlab {args:?} still works");
        assert_eq!(stderr.lines().count(), 1, "memlab {args:?}: {stderr}");
        assert!(
            stderr.starts_with("warning: memlab's progress file "),
            "{stderr}"
        );
        assert!(stderr.contains("line 1"), "{stderr}");
        assert!(stderr.contains("--state FILE"), "{stderr}");
    }
    assert_eq!(std::fs::read_to_string(&state).unwrap(), garbage);
    // A file of the wrong shape is as corrupt as one of broken TOML.
    std::fs::write(&state, "lessons = 3\n").unwrap();
    let (code, _, stderr) = memlab(&state, &["list"]);
    assert_eq!((code, stderr.lines().count()), (0, 1), "{stderr}");
}

#[test]
fn an_unwritable_state_file_is_one_warning() {
    let (dir, _) = fresh();
    // A folder where a file is: no one can make it, not even root.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let state = blocker.join("state.toml");
    let (code, stdout, stderr) = memlab(&state, &["lesson", "box", "--width", "100"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Next: memlab lesson"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("warning: could not save your progress to "),
        "{stderr}"
    );
    assert!(stderr.contains("--state FILE"), "{stderr}");
    // A state file that is a folder cannot be read: one warning too.
    let (code, _, stderr) = memlab(dir.path(), &["lesson", "box"]);
    assert_eq!((code, stderr.lines().count()), (0, 1), "{stderr}");
}

#[test]
fn state_moves_the_file_and_makes_its_folder() {
    let (dir, from_env) = fresh();
    let moved = dir
        .path()
        .join("class")
        .join("term 1")
        .join("progress.toml");
    let moved_arg = moved.to_str().unwrap();
    ok(&from_env, &["lesson", "box", "--state", moved_arg]);
    assert!(moved.exists(), "--state names the file");
    assert!(!from_env.exists(), "--state wins over MEMLAB_STATE");
    let done = |args: &[&str]| -> Vec<String> {
        marks(&ok(&from_env, args))
            .into_iter()
            .filter(|(_, done, _)| *done)
            .map(|(_, _, id)| id)
            .collect()
    };
    assert_eq!(done(&["list", "--state", moved_arg]), ["box"]);
    assert!(done(&["list"]).is_empty());
    // Where the file is, with no temporary file left beside it.
    let names: Vec<_> = std::fs::read_dir(moved.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["progress.toml"]);
}

#[test]
fn list_marks_in_ascii_and_fits_its_width() {
    let (_dir, state) = fresh();
    ok(&state, &["lesson", "box"]);
    for width in ["60", "80", "100"] {
        let list = ok(&state, &["list", "--ascii", "--width", width]);
        assert!(list.contains(" [x] "), "{list}");
        assert!(list.contains(" [ ] "), "{list}");
        let width: usize = width.parse().unwrap();
        for line in list.lines() {
            assert!(line.chars().count() <= width, "{line:?}");
            assert_eq!(line, line.trim_end(), "a trailing space");
        }
    }
}
