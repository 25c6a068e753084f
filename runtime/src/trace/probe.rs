//! What a run's probes saw besides its heap events: named stack locals (and
//! the memory they point to), labelled observations, blocks kept alive on
//! purpose, and where locals went out of scope. Each record is placed among
//! the events (`after_event`) when the capture layer builds the trace.

use std::fmt::{self, Debug, Write as _};

use serde::{Deserialize, Serialize};

use super::{Region, Text, Thread};

/// A named local variable: where it sits on the stack and, for pointer types,
/// the memory it points to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Local {
    /// The thread the local belongs to.
    pub thread: Thread,
    /// The function the local belongs to, as the code named it (`s.frame`).
    pub frame: Text,
    pub name: Text,
    /// `std::any::type_name` of the local.
    pub type_name: Text,
    pub address: usize,
    pub size: usize,
    pub align: usize,
    pub points_to: Option<Target>,
    /// The start of what it points to, as text (`[1, 2, 3, 4]`, `"hello"`),
    /// taken when probed; empty when the type does not say.
    pub preview: Preview,
    /// Where the local itself is: this thread's stack, as far as memlab can tell.
    pub region: Region,
    /// Source line of the probe.
    pub line: u32,
    /// Heap events (of all threads) recorded before this probe.
    pub after_event: usize,
    /// Orders probes taken between the same events on different threads:
    /// smaller keys came first.
    pub key: u64,
    /// Position among this thread's locals and scope ends, in the order taken.
    pub order: usize,
}

/// Where a pointer-holding local points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub address: usize,
    pub len: Option<usize>,
    pub capacity: Option<usize>,
    /// Where the target is: the region of the live block of the trace that
    /// holds it, or else what the process's mappings say.
    pub region: Region,
}

/// Locals the code says have gone out of scope (their block, if any, may
/// live on: a leak, or an `Rc` another owner holds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeEnd {
    pub thread: Thread,
    pub frame: Text,
    pub names: Vec<Text>,
    /// Source line of the probe.
    pub line: u32,
    /// Heap events (of all threads) recorded before it.
    pub after_event: usize,
    /// As [`Local::key`].
    pub key: u64,
    /// Position among this thread's locals and scope ends, in the order taken.
    pub order: usize,
}

impl ScopeEnd {
    /// Whether it names the local `name`.
    pub fn names(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// A block the code leaves alive on purpose: not a leak.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub name: Text,
    /// The address the pointer held: the kept block's.
    pub address: usize,
    /// Source line of the probe.
    pub line: u32,
}

/// Labelled values the code noted at one moment, e.g. a Vec's len and capacity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The thread that made the observation.
    pub thread: Thread,
    pub label: Text,
    pub fields: Vec<(Text, usize)>,
    pub line: u32,
    /// Heap events (of all threads) recorded before this observation.
    pub after_event: usize,
}

impl Observation {
    pub fn get(&self, name: &str) -> Option<usize> {
        self.fields.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }
}

/// Room for a preview, in bytes.
pub const PREVIEW_BYTES: usize = 40;

/// A short text that never allocates: what fits of what was written to it,
/// cut at a character boundary and ending in `…` when cut. Probes fill it
/// while the code runs, so it has a fixed size.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    bytes: [u8; PREVIEW_BYTES],
    len: u8,
    cut: bool,
}

impl Default for Preview {
    fn default() -> Self {
        Preview {
            bytes: [0; PREVIEW_BYTES],
            len: 0,
            cut: false,
        }
    }
}

impl Preview {
    /// The text as written, without the `…` of a cut.
    pub fn text(&self) -> &str {
        // Only whole UTF-8 characters are ever copied in (see `write_str`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// Whether more was written than fits.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// Formats `value` with `Debug` into a new preview.
    pub fn debug(value: &(impl Debug + ?Sized)) -> Preview {
        let mut preview = Preview::default();
        // An error only means the preview is full.
        let _ = write!(preview, "{value:?}");
        preview
    }
}

impl fmt::Write for Preview {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let len = usize::from(self.len);
        let room = PREVIEW_BYTES - len;
        if s.len() <= room {
            self.bytes[len..len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len() as u8;
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.bytes[len..len + end].copy_from_slice(&s.as_bytes()[..end]);
        self.len += end as u8;
        self.cut = true;
        Err(fmt::Error)
    }
}

/// As its text and whether it was cut.
impl Serialize for Preview {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.text(), self.cut).serialize(serializer)
    }
}

/// Keeps what fits of the text, as a probe would have.
impl<'de> Deserialize<'de> for Preview {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (text, cut) = <(String, bool)>::deserialize(deserializer)?;
        let mut preview = Preview::default();
        let fits = preview.write_str(&text).is_ok();
        preview.cut = cut || !fits;
        Ok(preview)
    }
}

impl Debug for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}{}", self.text(), if self.cut { "…" } else { "" })
    }
}
