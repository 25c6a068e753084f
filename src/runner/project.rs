//! The build of a user's file: a cargo project in memlab's cache that links
//! the runtime crate (written from the copy embedded in memlab) and includes
//! the file, built offline first.
//!
//! ```text
//! <cache>/runtime-<digest>/   the runtime's source, as this memlab was built with
//! <cache>/p/<key>/            one project per user file: Cargo.toml ([workspace]),
//!                             Cargo.lock (memlab's, for its versions), src/main.rs,
//!                             src/user.rs (the prepared copy), stamp
//! <cache>/target/             shared by every project: dependencies compile once
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::RunError;
use super::source::{FileKind, UserFile, escaped};

/// The runtime crate's files, from runtime/ (build.rs).
const RUNTIME: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/runtime.rs"));
const RUNTIME_DIGEST: &str = include_str!(concat!(env!("OUT_DIR"), "/runtime-digest.txt"));
/// memlab's own lock: the child builds with the versions memlab was built with.
const LOCK: &str = include_str!("../../Cargo.lock");

/// Where builds and their outputs live.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// `dir`, or `$XDG_CACHE_HOME/memlab`, or `~/.cache/memlab`.
    pub fn new(dir: Option<&Path>) -> Result<Cache, RunError> {
        let root = match dir {
            Some(dir) => dir.to_path_buf(),
            None => match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
                Some(base) => PathBuf::from(base).join("memlab"),
                None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
                    Some(home) => PathBuf::from(home).join(".cache").join("memlab"),
                    None => {
                        return Err(RunError::Usage(
                            "no cache folder: set HOME or XDG_CACHE_HOME, or give --cache-dir"
                                .into(),
                        ));
                    }
                },
            },
        };
        let fail = |e: std::io::Error| {
            RunError::Failed(format!(
                "cannot use the cache folder {}: {e}",
                escaped(&root.display().to_string())
            ))
        };
        std::fs::create_dir_all(&root).map_err(fail)?;
        let root = std::path::absolute(&root).map_err(fail)?;
        Ok(Cache { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A fresh path for a child's report.
    pub fn report_path(&self) -> Result<PathBuf, RunError> {
        let runs = self.root.join("runs");
        std::fs::create_dir_all(&runs).map_err(|e| io_failure(&runs, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Ok(runs.join(format!("{}-{nanos}.report", std::process::id())))
    }
}

fn io_failure(path: &Path, e: std::io::Error) -> RunError {
    RunError::Failed(format!(
        "cannot write {}: {e}",
        escaped(&path.display().to_string())
    ))
}

/// FNV-1a: names folders and stamps; not a security boundary.
fn digest(parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.iter().chain(&[0xff]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Writes `text` to `path` unless it holds it already (cargo rebuilds on a
/// newer mtime, so files are only touched when they change).
fn write_if_changed(path: &Path, text: &str) -> Result<(), RunError> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_failure(dir, e))?;
    }
    // A temporary file of this call alone, then a rename: a reader never
    // sees half a file, and two runs at once never share a temporary.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    std::fs::write(&temporary, text).map_err(|e| io_failure(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| io_failure(path, e))
}

/// The runtime's source in the cache, written if missing.
fn runtime(cache: &Cache) -> Result<PathBuf, RunError> {
    let dir = cache.root.join(format!("runtime-{RUNTIME_DIGEST}"));
    for (file, text) in RUNTIME {
        write_if_changed(&dir.join(file), text)?;
    }
    Ok(dir)
}

/// A built program, ready to run.
pub struct Built {
    pub exe: PathBuf,
    /// Whether cargo ran (the file or the runtime changed since the last build).
    pub compiled: bool,
}

/// How the child is compiled: the generated project's settings.
const PROFILE: &str = r#"
# Line tables name the user's lines; the user's code stays unoptimised, so its
# heap events are the ones it asks for; memlab's runtime is optimised.
[profile.dev]
debug = "line-tables-only"

[profile.dev.package.memlab-runtime]
opt-level = 3

[profile.dev.package.postcard]
opt-level = 3

[profile.dev.package.serde]
opt-level = 3
"#;

/// Builds `file`. `colour` is for the compiler's messages.
pub fn build(cache: &Cache, file: &UserFile, colour: bool) -> Result<Built, RunError> {
    let runtime = runtime(cache)?;
    let path = file.path.to_string_lossy();
    let key = digest(&[path.as_bytes()]);
    let name = format!("m-{key}");
    let project = cache.root.join("p").join(&key);
    let user = project.join("src").join("user.rs");
    let manifest = manifest(&name, &runtime, file)?;
    let main = main_rs(file, &user);
    write_if_changed(&project.join("Cargo.toml"), &manifest)?;
    write_if_changed(&project.join("src").join("main.rs"), &main)?;
    write_if_changed(&user, &file.copy)?;
    let lock = project.join("Cargo.lock");
    if !lock.exists() {
        write_if_changed(&lock, LOCK)?;
    }
    let exe = cache.root.join("target").join("debug").join(&name);
    // Nothing changed since the last good build: no need to ask cargo.
    let stamp = project.join("stamp");
    let wanted = digest(&[
        manifest.as_bytes(),
        main.as_bytes(),
        file.copy.as_bytes(),
        RUNTIME_DIGEST.as_bytes(),
        path.as_bytes(),
    ]);
    let stamped = std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted);
    if stamped && exe.is_file() {
        return Ok(Built {
            exe,
            compiled: false,
        });
    }
    let _ = std::fs::remove_file(&stamp);
    let remap = format!("--remap-path-prefix={}={path}", user.display());
    let cargo = Cargo {
        cache,
        project: &project,
        name: &name,
        remap: &remap,
        colour,
        shown: &file.shown,
    };
    let exe = match cargo.build(true) {
        Attempt::Built(exe) => exe,
        Attempt::Compile(messages) => return Err(RunError::Compile(messages)),
        Attempt::Offline(_) => {
            // The lock may pin versions the local cache lacks: let cargo
            // choose from what is cached, still offline.
            let _ = std::fs::remove_file(&lock);
            match cargo.build(true) {
                Attempt::Built(exe) => exe,
                Attempt::Compile(messages) => return Err(RunError::Compile(messages)),
                Attempt::Offline(_) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "memlab: the local cargo cache lacks crates {} needs; \
                         fetching them from crates.io",
                        escaped(&file.shown)
                    );
                    match cargo.build(false) {
                        Attempt::Built(exe) => exe,
                        Attempt::Compile(messages) => return Err(RunError::Compile(messages)),
                        Attempt::Offline(error) | Attempt::Cargo(error) => {
                            return Err(RunError::Failed(error));
                        }
                    }
                }
                Attempt::Cargo(error) => return Err(RunError::Failed(error)),
            }
        }
        Attempt::Cargo(error) => return Err(RunError::Failed(error)),
    };
    write_if_changed(&stamp, &wanted)?;
    Ok(Built {
        exe,
        compiled: true,
    })
}

/// The generated project's manifest.
fn manifest(name: &str, runtime: &Path, file: &UserFile) -> Result<String, RunError> {
    let mut dependencies = toml::Table::new();
    let mut memlab = toml::Table::new();
    memlab.insert("package".into(), "memlab-runtime".into());
    memlab.insert("path".into(), runtime.to_string_lossy().into_owned().into());
    dependencies.insert("memlab".into(), memlab.into());
    if let Some(extra) = &file.dependencies {
        for (crate_name, spec) in extra {
            if crate_name == "memlab" {
                return Err(RunError::Usage(format!(
                    "{}: the front matter may not name `memlab`: memlab provides it",
                    escaped(&file.shown)
                )));
            }
            dependencies.insert(crate_name.clone(), spec.clone());
        }
    }
    let mut package = toml::Table::new();
    package.insert("name".into(), name.into());
    package.insert("version".into(), "0.0.0".into());
    package.insert("edition".into(), "2024".into());
    package.insert("publish".into(), false.into());
    let mut root = toml::Table::new();
    root.insert("package".into(), package.into());
    root.insert("dependencies".into(), dependencies.into());
    let text = toml::to_string(&root)
        .map_err(|e| RunError::Failed(format!("cannot write the build's manifest: {e}")))?;
    Ok(format!(
        "# Generated by memlab for {}; rewritten on every run.\n{text}\n\
         # Its own workspace: never part of one around the cache.\n[workspace]\n{PROFILE}",
        file.path.display()
    ))
}

/// The generated crate root: memlab's recorder as the global allocator, and
/// the user's file in it.
fn main_rs(file: &UserFile, user: &Path) -> String {
    let user = user.display().to_string();
    let header = format!(
        "// Generated by memlab for {}; rewritten on every run.\n",
        file.path.display()
    );
    let allocator = "#[global_allocator]\n\
         static MEMLAB_RECORDER: memlab::capture::recorder::Recorder = \
         memlab::capture::recorder::Recorder;\n";
    match file.kind {
        FileKind::Scenario => format!(
            "{header}{allocator}\n#[path = {user:?}]\nmod user;\n\n\
             fn main() {{\n    memlab::capture::program::scenario(user::run);\n}}\n"
        ),
        FileKind::Program => format!(
            "{}{header}{allocator}\n\
             // Starts recording before `main` (see memlab::capture::program).\n\
             #[used]\n#[unsafe(link_section = \".init_array\")]\n\
             static MEMLAB_START: extern \"C\" fn() = memlab::capture::program::start_program;\n\n\
             include!({user:?});\n",
            file.hoisted.concat()
        ),
    }
}

/// One `cargo rustc` of the generated project.
struct Cargo<'a> {
    cache: &'a Cache,
    project: &'a Path,
    name: &'a str,
    remap: &'a str,
    colour: bool,
    shown: &'a str,
}

enum Attempt {
    Built(PathBuf),
    /// rustc rejected the user's code: its messages, as rendered.
    Compile(String),
    /// Cargo failed because it was offline.
    Offline(String),
    /// Cargo failed otherwise.
    Cargo(String),
}

impl Cargo<'_> {
    fn build(&self, offline: bool) -> Attempt {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let format = if self.colour {
            "json-diagnostic-rendered-ansi"
        } else {
            "json"
        };
        let mut command = Command::new(cargo);
        command
            .arg("rustc")
            .arg("--manifest-path")
            .arg(self.project.join("Cargo.toml"))
            .args(["--bin", self.name, "--message-format", format, "--quiet"])
            .args(offline.then_some("--offline"))
            .args(["--", self.remap])
            .env("CARGO_TARGET_DIR", self.cache.root.join("target"))
            // Frame pointers name every event's line cheaply; this project's
            // flags are its own, whatever the environment says.
            .env("CARGO_ENCODED_RUSTFLAGS", "-Cforce-frame-pointers=yes")
            .env_remove("RUSTFLAGS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let output = match command.output() {
            Ok(output) => output,
            Err(e) => {
                return Attempt::Cargo(format!(
                    "cannot run cargo to build {}: {e} (memlab run needs Rust's cargo on the PATH)",
                    escaped(self.shown)
                ));
            }
        };
        let mut messages = String::new();
        let mut exe = None;
        let mut rejected = false;
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            match message["reason"].as_str() {
                Some("compiler-message") => {
                    if message["message"]["level"] == "error" {
                        rejected = true;
                    }
                    if let Some(text) = message["message"]["rendered"].as_str() {
                        messages.push_str(text);
                    }
                }
                Some("compiler-artifact") => {
                    if let Some(path) = message["executable"].as_str() {
                        exe = Some(PathBuf::from(path));
                    }
                }
                _ => {}
            }
        }
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        match (output.status.success(), exe) {
            (true, Some(exe)) => Attempt::Built(exe),
            _ if rejected => Attempt::Compile(messages),
            _ if offline && (stderr.contains("--offline") || stderr.contains("offline mode")) => {
                Attempt::Offline(stderr)
            }
            _ => Attempt::Cargo(format!(
                "cargo could not build {}: {}",
                escaped(self.shown),
                escaped(
                    stderr
                        .lines()
                        .find(|l| l.starts_with("error"))
                        .unwrap_or(&stderr)
                )
            )),
        }
    }
}
