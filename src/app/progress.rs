//! The reader's progress, as rustlings keeps it: which lessons they read to
//! the end, the step-mode page they stopped at, and which predictions they
//! answered right or wrong; and the lesson they touched last.
//!
//! It lives in a small TOML file a person can read (and delete to start
//! afresh): `--state FILE`, else `$MEMLAB_STATE`, else `state.toml` in
//! memlab's folder of the user's data directory (`$XDG_DATA_HOME/memlab`,
//! `~/.local/share/memlab`). It is written whole to a temporary file in the
//! same folder and renamed over the old one, so a crash never leaves half a
//! file. A file that cannot be read, is not one memlab wrote, or cannot be
//! written costs one `warning:` line on stderr: the command still works,
//! and the file is left as it was.
//!
//! Progress is not part of any view: the CLI records it here and hands the
//! views only what to show (a mark per lesson, where the reader stands).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::render::list::Standing;

/// What the file says at its top.
const HEADER: &str = "\
# memlab's record of your progress: the lessons you read to the end, the
# step-mode page you stopped at, and the predictions you answered (by their
# number in the lesson). memlab rewrites this file; delete it to start afresh.
";

/// The most a state file may hold: it is a few hundred bytes per lesson.
const MOST_BYTES: u64 = 1 << 20;

/// Everything the file holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The lesson read last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Each lesson the reader opened, by id.
    #[serde(default)]
    pub lessons: BTreeMap<String, Progress>,
}

/// One lesson's progress.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The reader reached its end.
    #[serde(default)]
    pub read: bool,
    /// The step-mode page they stopped at (from 1) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
    /// … of this many (pages depend on the terminal's size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<usize>,
    /// Predictions answered as the run did, by their number in the lesson.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub right: Vec<usize>,
    /// Predictions answered otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrong: Vec<usize>,
}

impl State {
    /// Reads a state file's text.
    pub fn parse(text: &str) -> Result<State, String> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            let message = e.message().trim_end_matches('.');
            match line {
                Some(line) => format!("line {line}: {message}"),
                None => message.to_string(),
            }
        })
    }

    /// The file's text: the header, then the TOML.
    pub fn to_text(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("{HEADER}\n{body}")
    }

    /// Whether `id` was read to its end.
    pub fn is_read(&self, id: &str) -> bool {
        self.lessons.get(id).is_some_and(|p| p.read)
    }

    /// Where a reader of the lessons `ids` (in course order) stands: the
    /// lesson read last if they quit it mid-way, else the first not read
    /// (at the page they quit it, if they did).
    pub fn standing<'a>(&self, ids: &'a [&'a str]) -> Standing<'a> {
        if ids.is_empty() {
            return Standing::New;
        }
        let mid_way = self.last.as_deref().and_then(|last| {
            let id = ids.iter().find(|id| **id == last)?;
            let progress = self.lessons.get(last)?;
            match (progress.read, progress.page, progress.pages) {
                (false, Some(page), Some(pages)) => Some(Standing::LeftOff { id, page, pages }),
                _ => None,
            }
        });
        if let Some(standing) = mid_way {
            return standing;
        }
        if !ids.iter().any(|id| self.lessons.contains_key(*id)) {
            return Standing::New;
        }
        match ids.iter().find(|id| !self.is_read(id)) {
            // Quit mid-way before another lesson was read: go on there too.
            Some(id) => match self.lessons.get(*id).and_then(|p| p.page.zip(p.pages)) {
                Some((page, pages)) => Standing::LeftOff { id, page, pages },
                None => Standing::Next { id },
            },
            None => Standing::AllDone,
        }
    }
}

/// The state file, loaded, and where it goes.
pub struct Store {
    path: Option<PathBuf>,
    state: State,
    /// Saving is off: the file could not be read (it is left as it was) or
    /// written (one warning is enough).
    frozen: bool,
}

impl Store {
    /// Reads the state from `--state`'s file, `$MEMLAB_STATE` or the data
    /// directory. A missing file is a new reader; any other problem is one
    /// warning, and the reader starts from nothing without saving.
    pub fn open(flag: Option<&Path>) -> Store {
        let path = flag.map(Path::to_path_buf).or_else(default_path);
        let mut store = Store {
            path,
            state: State::default(),
            frozen: false,
        };
        let Some(path) = store.path.clone() else {
            return store;
        };
        match read(&path) {
            Ok(None) => {}
            Ok(Some(state)) => store.state = state,
            Err(problem) => {
                store.frozen = true;
                super::warn(&format!(
                    "memlab's progress file {}: {problem}: fix or delete it, or choose \
                     another with --state FILE; progress is not saved this time",
                    path.display()
                ));
            }
        }
        store
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Changes the state and saves it. A save that fails warns once; the
    /// state in memory still changes, so the command goes on as if saved.
    pub fn update(&mut self, change: impl FnOnce(&mut State)) {
        let before = self.state.clone();
        change(&mut self.state);
        if self.frozen || self.state == before {
            return;
        }
        let Some(path) = &self.path else {
            self.frozen = true;
            super::warn(
                "memlab found no data directory to keep your progress in (is HOME set?): \
                 choose a file with --state FILE or MEMLAB_STATE",
            );
            return;
        };
        if let Err(e) = write(path, &self.state.to_text()) {
            self.frozen = true;
            super::warn(&format!(
                "could not save your progress to {}: {e}: choose a writable file with \
                 --state FILE or MEMLAB_STATE",
                path.display()
            ));
        }
    }

    /// Records that the reader opened `id`.
    pub fn opened(&mut self, id: &str) {
        self.update(|state| {
            state.last = Some(id.to_string());
            state.lessons.entry(id.to_string()).or_default();
        });
    }

    /// Records that the reader reached the end of `id`.
    pub fn finished(&mut self, id: &str) {
        self.update(|state| {
            state.last = Some(id.to_string());
            let progress = state.lessons.entry(id.to_string()).or_default();
            progress.read = true;
            progress.page = None;
            progress.pages = None;
        });
    }

    /// Records that the reader stopped `id` at `page` of `pages`.
    pub fn stopped(&mut self, id: &str, page: usize, pages: usize) {
        self.update(|state| {
            state.last = Some(id.to_string());
            let progress = state.lessons.entry(id.to_string()).or_default();
            progress.page = Some(page);
            progress.pages = Some(pages);
        });
    }

    /// Records the reader's answer to prediction `number` of `id`.
    pub fn answered(&mut self, id: &str, number: usize, right: bool) {
        self.update(|state| {
            let progress = state.lessons.entry(id.to_string()).or_default();
            progress.right.retain(|&n| n != number);
            progress.wrong.retain(|&n| n != number);
            let list = if right {
                &mut progress.right
            } else {
                &mut progress.wrong
            };
            list.push(number);
            list.sort_unstable();
        });
    }
}

/// `$MEMLAB_STATE` when set, else `state.toml` in the data directory.
fn default_path() -> Option<PathBuf> {
    match std::env::var_os("MEMLAB_STATE") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => dirs::data_dir().map(|dir| dir.join("memlab").join("state.toml")),
    }
}

/// The state in `path`: `None` when there is no file.
fn read(path: &Path) -> Result<Option<State>, String> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        // No such file (nor can there be one, under a file): a new reader.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err("it is not a regular file".into());
    }
    let mut bytes = vec![];
    file.take(MOST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MOST_BYTES {
        return Err(format!("it holds more than {MOST_BYTES} bytes"));
    }
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
    State::parse(&text)
        .map(Some)
        .map_err(|e| format!("it is not a state file memlab can read ({e})"))
}

/// Writes `text` to `path` whole or not at all: a temporary file in the
/// same folder (made if missing), renamed over `path`.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".state-")
        .suffix(".toml.tmp")
        .tempfile_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<&'static str> {
        vec!["stack-basics", "box", "vec-growth"]
    }

    #[test]
    fn a_state_round_trips_through_its_file() {
        let mut state = State {
            last: Some("box".into()),
            ..State::default()
        };
        state.lessons.insert(
            "box".into(),
            Progress {
                read: false,
                page: Some(4),
                pages: Some(12),
                right: vec![1],
                wrong: vec![2, 3],
            },
        );
        state.lessons.insert(
            "stack-basics".into(),
            Progress {
                read: true,
                ..Progress::default()
            },
        );
        let text = state.to_text();
        assert!(text.starts_with("# memlab's record"), "{text}");
        assert!(text.contains("[lessons.box]"), "{text}");
        assert!(text.contains("wrong = [2, 3]"), "{text}");
        assert_eq!(State::parse(&text), Ok(state));
    }

    #[test]
    fn an_empty_file_is_a_new_reader() {
        assert_eq!(State::parse(""), Ok(State::default()));
        assert_eq!(State::parse(HEADER), Ok(State::default()));
    }

    #[test]
    fn a_broken_file_names_its_line() {
        let error = State::parse("last = \"box\"\n[lessons.box]\nread = maybe\n").unwrap_err();
        assert!(error.starts_with("line 3: "), "{error}");
        let error = State::parse("lessons = 3\n").unwrap_err();
        assert!(error.starts_with("line 1: "), "{error}");
        assert!(State::parse("[lessons.box]\npage = -1\n").is_err());
        assert!(!State::parse("\u{0}").unwrap_err().contains('\n'));
    }

    #[test]
    fn the_reader_stands_where_they_stopped() {
        let ids = ids();
        let mut state = State::default();
        assert_eq!(state.standing(&ids), Standing::New);
        state.lessons.insert(
            "stack-basics".into(),
            Progress {
                read: true,
                ..Progress::default()
            },
        );
        state.last = Some("stack-basics".into());
        assert_eq!(state.standing(&ids), Standing::Next { id: "box" });
        state.lessons.insert(
            "vec-growth".into(),
            Progress {
                page: Some(3),
                pages: Some(9),
                ..Progress::default()
            },
        );
        state.last = Some("vec-growth".into());
        assert_eq!(
            state.standing(&ids),
            Standing::LeftOff {
                id: "vec-growth",
                page: 3,
                pages: 9
            }
        );
        // Another lesson read since: the first not read is still the one
        // quit mid-way, and at its page.
        state.lessons.entry("box".into()).or_default().read = true;
        state.last = Some("box".into());
        assert_eq!(
            state.standing(&ids),
            Standing::LeftOff {
                id: "vec-growth",
                page: 3,
                pages: 9
            }
        );
        for id in ids.iter() {
            state.lessons.entry(id.to_string()).or_default().read = true;
        }
        assert_eq!(state.standing(&ids), Standing::AllDone);
        // A lesson of another folder is not where this course stands.
        state.last = Some("elsewhere".into());
        state
            .lessons
            .insert("elsewhere".into(), Progress::default());
        assert_eq!(state.standing(&ids), Standing::AllDone);
    }

    #[test]
    fn a_save_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deeper").join("state.toml");
        let mut store = Store::open(Some(&path));
        store.finished("box");
        store.answered("box", 2, false);
        store.answered("box", 2, true);
        let again = Store::open(Some(&path));
        assert!(again.state().is_read("box"));
        assert_eq!(again.state().lessons["box"].right, vec![2]);
        assert!(again.state().lessons["box"].wrong.is_empty());
        // Only the state file is left in the folder: no temporary file.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.toml")]);
    }

    #[test]
    fn a_file_memlab_cannot_read_is_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.toml");
        std::fs::write(&path, "not = [toml").unwrap();
        let mut store = Store::open(Some(&path));
        assert_eq!(store.state(), &State::default());
        store.finished("box");
        assert!(store.state().is_read("box"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not = [toml");
    }
}
