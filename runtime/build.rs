//! Enables the recorder's frame-pointer walk only when this build really keeps
//! frame pointers (see .cargo/config.toml, and the project `memlab run`
//! generates); otherwise source lines come from the `backtrace` crate's
//! unwinder, which is slower but needs no frame pointers.

fn main() {
    configure_frame_pointers();
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
