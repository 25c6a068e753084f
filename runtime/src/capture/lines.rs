//! Source lines for captured call chains, resolved after the run.

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::Path;

use super::Recorded;
use super::recorder::RawEvent;

/// What one return address says about the scenario's file: `None` when no
/// frame inlined there is in it, else the line of the innermost such frame
/// (which may itself be unknown).
type InFile = Option<Option<u32>>;

/// Finds, for a captured call chain, the innermost frame in one source file.
/// Symbolises each return address once (about 6 ms for the first, cold) and
/// decides once whether it is in the file: a long trace repeats a few
/// addresses, and comparing paths per event was most of the time after a run.
pub(super) struct Resolver<'a> {
    file: &'a Path,
    /// Return address → whether it is in the file, and at which line.
    addresses: HashMap<usize, InFile>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(file: &'a Path) -> Self {
        Resolver {
            file,
            addresses: HashMap::new(),
        }
    }

    pub(super) fn line(&mut self, recording: &dyn Recorded, event: &RawEvent) -> Option<u32> {
        let chain = recording.chain(event)?;
        for &ip in chain {
            let file = self.file;
            let in_file = *self.addresses.entry(ip).or_insert_with(|| {
                let mut found = None;
                // `resolve` looks up the call instruction just before `ip`,
                // innermost inlined frame first.
                backtrace::resolve(ip as *mut c_void, |symbol| {
                    if found.is_none() && symbol.filename().is_some_and(|f| f.ends_with(file)) {
                        found = Some(symbol.lineno());
                    }
                });
                found
            });
            if let Some(line) = in_file {
                return line;
            }
        }
        None
    }
}
