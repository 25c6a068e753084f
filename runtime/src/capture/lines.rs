//! Source lines for captured call chains, resolved after the run.

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::{Path, PathBuf};

use super::Recorded;
use super::recorder::RawEvent;

/// The (file, line) of each frame inlined at one return address, innermost first.
type InlinedFrames = Vec<(Option<PathBuf>, Option<u32>)>;

/// Finds, for a captured call chain, the innermost frame in one source file.
/// Symbolises each return address once (about 6 ms for the first, cold).
pub(super) struct Resolver<'a> {
    file: &'a Path,
    /// Return address → the (file, line) of each frame inlined there, innermost first.
    symbols: HashMap<usize, InlinedFrames>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(file: &'a Path) -> Self {
        Resolver {
            file,
            symbols: HashMap::new(),
        }
    }

    pub(super) fn line(&mut self, recording: &dyn Recorded, event: &RawEvent) -> Option<u32> {
        let chain = recording.chain(event)?;
        for &ip in chain {
            let frames = self.symbols.entry(ip).or_insert_with(|| {
                let mut frames = Vec::new();
                // `resolve` looks up the call instruction just before `ip`.
                backtrace::resolve(ip as *mut c_void, |symbol| {
                    frames.push((symbol.filename().map(Path::to_path_buf), symbol.lineno()));
                });
                frames
            });
            let in_file = frames
                .iter()
                .find(|(file, _)| file.as_deref().is_some_and(|f| f.ends_with(self.file)));
            if let Some((_, line)) = in_file {
                return *line;
            }
        }
        None
    }
}
