//! Embeds what an installed memlab needs beside it:
//! - every lesson in lessons/ (`<id>.md`, id of a-z, 0-9 and '-');
//! - the source of the runtime crate (runtime/) and memlab's Cargo.lock, which
//!   `memlab run` writes into its cache to build a user's file against.

use std::path::Path;

fn main() {
    embed_lessons();
    embed_runtime();
}

fn embed_lessons() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| {
                    name.strip_suffix(".md").is_some_and(|id| {
                        !id.is_empty()
                            && id
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = String::from("&[\n");
    for file in &files {
        let path = dir.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        code.push_str(&format!(
            "    ({file:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("lessons.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

fn embed_runtime() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = root.join("runtime");
    let mut files: Vec<String> = vec!["Cargo.toml".into(), "build.rs".into()];
    let mut dirs = vec![runtime.join("src")];
    while let Some(dir) = dirs.pop() {
        println!("cargo::rerun-if-changed={}", dir.display());
        for entry in std::fs::read_dir(&dir)
            .expect("runtime/src is readable")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let relative = path.strip_prefix(&runtime).expect("inside runtime/");
                files.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    // A digest of every file names the cache's copy of this runtime.
    let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
    let mut code = String::from("&[\n");
    for file in &files {
        let path = runtime.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        let text = std::fs::read(&path).expect("runtime files are readable");
        for byte in file.bytes().chain(text) {
            digest = (digest ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
        code.push_str(&format!(
            "    ({file:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("]\n");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("runtime.rs"), code).expect("OUT_DIR is writable");
    std::fs::write(out.join("runtime-digest.txt"), format!("{digest:016x}"))
        .expect("OUT_DIR is writable");
    println!(
        "cargo::rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );
}
