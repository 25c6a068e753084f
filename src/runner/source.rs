//! A user's file, read and prepared for the build: which kind it is, the
//! crates its front matter names, and a copy that stable rustc accepts with
//! every line where it was (front matter and a shebang blanked; for an
//! ordinary program, the leading inner attributes and `//!` docs moved out).

use std::path::{Path, PathBuf};

use super::RunError;

/// Files larger than this are refused: a traced file is a few KB.
const MAX_BYTES: u64 = 1 << 20;

/// How memlab runs a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `pub fn run(s: &mut memlab::Scene)`: run like a built-in scenario.
    Scenario,
    /// `fn main()`: the whole program is recorded, every thread, from start to exit.
    Program,
}

/// A user's file, ready to build.
#[derive(Clone, Debug)]
pub struct UserFile {
    /// As the user named it, for messages and listings.
    pub shown: String,
    /// Absolute: what the compiler names in line tables.
    pub path: PathBuf,
    /// The file's text, as it is.
    pub text: String,
    pub kind: FileKind,
    /// The text rustc compiles: same lines, same columns.
    pub copy: String,
    /// Inner attributes (`#![...]`) moved to the generated crate root.
    pub hoisted: Vec<String>,
    /// `[dependencies]` from the front matter, as TOML.
    pub dependencies: Option<toml::Table>,
}

impl UserFile {
    /// The file's stem, e.g. `demo` for `demo.rs`: the trace's id.
    pub fn id(&self) -> String {
        self.path
            .file_stem()
            .map_or_else(|| "program".into(), |s| s.to_string_lossy().into_owned())
    }
}

/// Reads and prepares `path`; a path that is no Rust source file, or a file
/// of neither kind, is a usage error.
pub fn read(path: &Path) -> Result<UserFile, RunError> {
    let shown = path.display().to_string();
    let usage = |what: &str| RunError::Usage(format!("{what}: {}", escaped(&shown)));
    if path.extension().is_none_or(|x| x != "rs") {
        return Err(usage("memlab runs Rust source files (FILE.rs)"));
    }
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => usage("no such file"),
        _ => RunError::Usage(format!("cannot read {}: {e}", escaped(&shown))),
    })?;
    if metadata.is_dir() {
        return Err(usage("a directory, not a file"));
    }
    if !metadata.is_file() {
        return Err(usage("not a regular file"));
    }
    if metadata.len() > MAX_BYTES {
        return Err(usage("larger than 1 MiB: memlab traces small files"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        RunError::Usage(format!(
            "cannot read {} as UTF-8 text: {e}",
            escaped(&shown)
        ))
    })?;
    let path = std::path::absolute(path)
        .map_err(|e| RunError::Usage(format!("cannot resolve {}: {e}", escaped(&shown))))?;
    prepare(shown, path, text)
}

/// The same checks and preparation on text already read.
pub fn prepare(shown: String, path: PathBuf, text: String) -> Result<UserFile, RunError> {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    // A shebang (`#!/...`, not an inner attribute `#![`) is blanked.
    if lines
        .first()
        .is_some_and(|l| l.starts_with("#!") && !l.starts_with("#!["))
    {
        lines[0].clear();
    }
    let dependencies = front_matter(&mut lines, &shown)?;
    let blanked = lines.join("\n");
    let kind = kind(&blanked).ok_or_else(|| {
        RunError::Usage(format!(
            "{} has neither `pub fn run(s: &mut memlab::Scene)` nor `fn main()`: \
             'memlab new FILE.rs' writes a file to start from",
            escaped(&shown)
        ))
    })?;
    let hoisted = match kind {
        FileKind::Program => hoist_inner_attributes(&mut lines),
        FileKind::Scenario => vec![],
    };
    Ok(UserFile {
        shown,
        path,
        text,
        kind,
        copy: lines.join("\n"),
        hoisted,
        dependencies,
    })
}

/// A name for messages, one line whatever it holds.
pub fn escaped(text: &str) -> String {
    text.escape_debug().to_string()
}

/// Blanks cargo-script front matter (a `---` fence, a TOML manifest, the same
/// fence) and returns its `[dependencies]`.
fn front_matter(lines: &mut [String], shown: &str) -> Result<Option<toml::Table>, RunError> {
    // It may follow only blank lines (and a shebang, blanked already).
    let Some(start) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return Ok(None);
    };
    let dashes = lines[start].chars().take_while(|&c| c == '-').count();
    if dashes < 3 {
        return Ok(None);
    }
    let fence = "-".repeat(dashes);
    let Some(end) = (start + 1..lines.len()).find(|&i| lines[i].trim_end() == fence) else {
        return Err(RunError::Usage(format!(
            "{}:{}: the front matter has no closing '{fence}' line",
            escaped(shown),
            start + 1
        )));
    };
    let body = lines[start + 1..end].join("\n");
    let manifest: toml::Table = toml::from_str(&body).map_err(|e| {
        RunError::Usage(format!(
            "{}:{}: front matter: {}",
            escaped(shown),
            start + 2,
            e.message()
        ))
    })?;
    for line in &mut lines[start..=end] {
        line.clear();
    }
    let dependencies = match manifest.get("dependencies") {
        Some(toml::Value::Table(table)) => Some(table.clone()),
        _ => None,
    };
    Ok(dependencies)
}

/// Which kind a file is, from its top-level items: a `pub fn run` taking a
/// `Scene` makes a scenario (even beside a `main`), a `fn main` a program.
/// A file rustc would reject is classified by its text, so that rustc can
/// say what is wrong with it.
fn kind(text: &str) -> Option<FileKind> {
    match syn::parse_file(text) {
        Ok(file) => {
            let functions: Vec<&syn::ItemFn> = file
                .items
                .iter()
                .filter_map(|item| match item {
                    syn::Item::Fn(f) => Some(f),
                    _ => None,
                })
                .collect();
            let run = functions.iter().any(|f| {
                f.sig.ident == "run"
                    && f.sig.inputs.len() == 1
                    && matches!(f.vis, syn::Visibility::Public(_))
            });
            let main = functions.iter().any(|f| f.sig.ident == "main");
            match (run, main) {
                (true, _) => Some(FileKind::Scenario),
                (false, true) => Some(FileKind::Program),
                _ => None,
            }
        }
        Err(_) if text.contains("fn run(") && text.contains("Scene") => Some(FileKind::Scenario),
        Err(_) if text.contains("fn main(") => Some(FileKind::Program),
        Err(_) => None,
    }
}

/// An ordinary program is included at the generated crate's root, where its
/// leading inner attributes (`#![allow(...)]`) must come first and its inner
/// docs (`//!`) may not be: the attributes are moved out, both blanked.
fn hoist_inner_attributes(lines: &mut [String]) -> Vec<String> {
    let mut hoisted = vec![];
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if line.is_empty() || (line.starts_with("//") && !line.starts_with("//!")) {
            i += 1;
        } else if line.starts_with("//!") {
            lines[i].clear();
            i += 1;
        } else if line.starts_with("/*!") {
            // An inner block doc runs to its closing `*/`.
            while i < lines.len() {
                let closes = lines[i].contains("*/");
                lines[i].clear();
                i += 1;
                if closes {
                    break;
                }
            }
        } else if line.starts_with("#![") {
            // An inner attribute runs until its brackets balance.
            let mut depth = 0i32;
            let mut text = String::new();
            while i < lines.len() {
                depth += lines[i].matches('[').count() as i32;
                depth -= lines[i].matches(']').count() as i32;
                text.push_str(&lines[i]);
                text.push('\n');
                lines[i].clear();
                i += 1;
                if depth <= 0 {
                    break;
                }
            }
            hoisted.push(text);
        } else {
            break;
        }
    }
    hoisted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(text: &str) -> Result<UserFile, RunError> {
        prepare("t.rs".into(), "/t.rs".into(), text.into())
    }

    #[test]
    fn each_kind_is_told_apart_and_lines_stay_where_they_were() {
        let scenario = "//! A scenario.\nuse memlab::Scene;\n\npub fn run(s: &mut Scene) {}\n";
        let file = prepared(scenario).unwrap();
        assert_eq!(file.kind, FileKind::Scenario);
        assert_eq!(file.copy, scenario, "a scenario file compiles as it is");

        let program = "#!/usr/bin/env run\n//! Docs.\n#![allow(\n  dead_code\n)]\nfn main() {\n    println!(\"hi\");\n}\n";
        let file = prepared(program).unwrap();
        assert_eq!(file.kind, FileKind::Program);
        assert_eq!(file.copy.lines().count(), program.lines().count());
        assert_eq!(file.copy.lines().nth(5), Some("fn main() {"));
        assert!(
            file.copy.lines().take(5).all(str::is_empty),
            "{:?}",
            file.copy
        );
        assert_eq!(file.hoisted, ["#![allow(\n  dead_code\n)]\n"]);
    }

    #[test]
    fn front_matter_is_read_and_blanked() {
        let text = "---cargo\n[dependencies]\nsmallvec = \"1\"\n---\n\nfn main() {}\n";
        let file = prepared(text).unwrap();
        assert!(
            file.copy.starts_with("\n\n\n\n\nfn main() {}"),
            "{:?}",
            file.copy
        );
        let deps = file.dependencies.unwrap();
        assert_eq!(deps["smallvec"].as_str(), Some("1"));
        let unclosed = prepared("---\n[dependencies]\nfn main() {}\n").unwrap_err();
        assert!(
            unclosed
                .to_string()
                .contains("t.rs:1: the front matter has no closing")
        );
    }

    #[test]
    fn a_file_of_neither_kind_says_what_it_needs() {
        let error = prepared("pub fn helper() {}\n").unwrap_err();
        assert!(matches!(error, RunError::Usage(_)));
        assert!(error.to_string().contains("memlab new FILE.rs"), "{error}");
    }
}
