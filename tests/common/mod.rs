//! What every test that runs the memlab binary shares: each run gets a
//! progress file of its own (`MEMLAB_STATE`), so no test reads or writes the
//! real user's data directory and no test depends on another's progress.
//! A test that means to share progress between runs passes its own file.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A progress file no other run of memlab uses (it does not exist yet;
/// memlab makes its folder when it saves). It is in cargo's scratch folder
/// for tests, `target/tmp`, so runs leave nothing in the system's temp
/// folder.
pub fn state() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("memlab-test-state-{}", std::process::id()))
        .join(format!("{}.toml", NEXT.fetch_add(1, Ordering::Relaxed)))
}

/// `program` (memlab, or a launcher of it) with a fresh progress file.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env("MEMLAB_STATE", state());
    command
}

/// The memlab binary under test, with a fresh progress file.
#[allow(dead_code)] // Not every test file runs the debug binary.
pub fn memlab_binary() -> Command {
    command(env!("CARGO_BIN_EXE_memlab"))
}
