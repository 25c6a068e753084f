//! Two build-time jobs:
//! - embed every lesson in lessons/ (`<id>.md`, id of a-z, 0-9 and '-'), so an
//!   installed memlab needs no files beside it;
//! - enable memlab's frame-pointer walk only when this build really keeps frame
//!   pointers (see .cargo/config.toml); otherwise source lines come from the
//!   `backtrace` crate's unwinder, which is slower but needs no frame pointers.

use std::path::Path;

fn main() {
    embed_lessons();
    configure_frame_pointers();
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

fn configure_frame_pointers() {
    println!("cargo::rustc-check-cfg=cfg(memlab_frame_pointers)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    // Flags come as "-C" "force-frame-pointers=yes" or "-Cforce-frame-pointers=yes";
    // the last setting wins, as it does for rustc.
    let keeps_frame_pointers = flags
        .split('\x1f')
        .map(|flag| flag.strip_prefix("-C").unwrap_or(flag))
        .filter_map(|flag| flag.strip_prefix("force-frame-pointers"))
        .next_back()
        .is_some_and(|value| matches!(value, "" | "=yes" | "=y" | "=on" | "=true" | "=always"));
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // Checked on x86-64 Linux with Rust 1.95: std's own functions there keep frame
    // pointers too, so the chain from a scenario down into the allocator is whole.
    if keeps_frame_pointers && arch == "x86_64" && os == "linux" {
        println!("cargo::rustc-cfg=memlab_frame_pointers");
    }
}
