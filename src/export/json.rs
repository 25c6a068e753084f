//! `--format json`: the trace for other tools. Key names are a public contract
//! (README, "JSON output"); add keys, never rename or remove them.
//!
//! The document is streamed to the writer as it is serialised: a trace of a
//! million events never exists as a tree in memory. Fields are declared in
//! alphabetical order, so every object's keys come out sorted.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::Serializer;

use crate::trace::{Event, Local, Observation, Trace};

/// Writes the trace as pretty-printed JSON and a final newline.
pub fn write(trace: &Trace, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut out, &Document(trace))?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The trace as a JSON value (for tests and tools that want the tree).
pub fn trace(trace: &Trace) -> serde_json::Value {
    serde_json::to_value(Document(trace)).unwrap_or_default()
}

/// An address as JSON has it: a string, `0x` and lowercase hex.
fn address(address: usize) -> String {
    format!("{address:#x}")
}

struct Document<'t>(&'t Trace);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let trace = self.0;
        #[derive(Serialize)]
        struct Top<'t> {
            allocator: &'static str,
            events: Seq<'t, EventJson<'t>>,
            file: &'t str,
            kept: Blocks,
            leaks: Blocks,
            observations: Seq<'t, ObservationJson<'t>>,
            panic: &'t Option<String>,
            scenario: &'t str,
            stack: Seq<'t, LocalJson<'t>>,
            summary: BTreeMap<&'static str, u64>,
            title: &'t str,
        }
        Top {
            allocator: trace.allocator.name(),
            events: Seq(trace, &|t| {
                Box::new(t.events.iter().map(|e| EventJson::new(t, e)))
            }),
            file: &trace.source.file,
            kept: blocks(trace, true),
            leaks: blocks(trace, false),
            observations: Seq(trace, &|t| {
                Box::new(t.observations.iter().map(|o| ObservationJson::new(t, o)))
            }),
            panic: &trace.panic,
            scenario: &trace.source.id,
            stack: Seq(trace, &|t| {
                Box::new(t.locals.iter().map(|l| LocalJson::new(t, l)))
            }),
            summary: trace.summary().fields().into_iter().collect(),
            title: &trace.source.title,
        }
        .serialize(serializer)
    }
}

/// A sequence serialised item by item from the trace, never collected.
type Items<'t, T> = Box<dyn Iterator<Item = T> + 't>;
struct Seq<'t, T>(&'t Trace, &'t dyn Fn(&'t Trace) -> Items<'t, T>);

impl<T: Serialize> Serialize for Seq<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.1)(self.0))
    }
}

#[derive(Serialize)]
struct EventJson<'t> {
    address: String,
    align: usize,
    file: Option<&'t str>,
    kind: &'static str,
    line: Option<u32>,
    moved: Option<bool>,
    old_address: Option<String>,
    old_size: Option<usize>,
    region: &'static str,
    seq: usize,
    size: usize,
    thread: &'t str,
    usable_size: Option<usize>,
}

impl<'t> EventJson<'t> {
    fn new(trace: &'t Trace, e: &Event) -> Self {
        EventJson {
            address: address(e.address),
            align: e.align,
            file: e.line.map(|_| &*trace.source.file),
            kind: e.kind.name(),
            line: e.line,
            moved: e.moved(),
            old_address: e.old.map(|(a, _)| address(a)),
            old_size: e.old.map(|(_, s)| s),
            region: e.region.name(),
            seq: e.seq,
            size: e.size,
            thread: trace.thread_name(e.thread),
            usable_size: e.usable,
        }
    }
}

#[derive(Serialize)]
struct LocalJson<'t> {
    address: String,
    align: usize,
    capacity: Option<usize>,
    frame: &'t str,
    len: Option<usize>,
    line: u32,
    name: &'t str,
    points_to: Option<String>,
    points_to_region: Option<&'static str>,
    /// The start of what it points to, as `Debug` shows it (a trailing …
    /// when cut); null when memlab cannot show it.
    preview: Option<String>,
    region: &'static str,
    size: usize,
    thread: &'t str,
    #[serde(rename = "type")]
    type_name: &'t str,
}

impl<'t> LocalJson<'t> {
    fn new(trace: &'t Trace, l: &'t Local) -> Self {
        let preview = &l.preview;
        LocalJson {
            address: address(l.address),
            align: l.align,
            capacity: l.points_to.and_then(|t| t.capacity),
            frame: &l.frame,
            len: l.points_to.and_then(|t| t.len),
            line: l.line,
            name: &l.name,
            points_to: l.points_to.map(|t| address(t.address)),
            points_to_region: l.points_to.map(|t| t.region.name()),
            preview: (!preview.text().is_empty()).then(|| {
                let cut = if preview.is_cut() { "…" } else { "" };
                format!("{}{cut}", preview.text())
            }),
            region: l.region.name(),
            size: l.size,
            thread: trace.thread_name(l.thread),
            type_name: &l.type_name,
        }
    }
}

#[derive(Serialize)]
struct ObservationJson<'t> {
    after_event: usize,
    label: &'t str,
    line: u32,
    thread: &'t str,
    values: BTreeMap<&'t str, usize>,
}

impl<'t> ObservationJson<'t> {
    fn new(trace: &'t Trace, o: &'t Observation) -> Self {
        ObservationJson {
            after_event: o.after_event,
            label: &o.label,
            line: o.line,
            thread: trace.thread_name(o.thread),
            values: o.fields.iter().map(|(name, v)| (&**name, *v)).collect(),
        }
    }
}

/// Blocks still allocated at the end: the leaks, or the ones kept on purpose.
#[derive(Serialize)]
struct Blocks {
    blocks: Vec<BlockJson>,
    bytes: usize,
}

#[derive(Serialize)]
struct BlockJson {
    address: String,
    file: Option<String>,
    line: Option<u32>,
    name: Option<String>,
    region: &'static str,
    seq: usize,
    size: usize,
}

fn blocks(trace: &Trace, kept: bool) -> Blocks {
    let blocks: Vec<BlockJson> = trace
        .live_blocks()
        .into_iter()
        .filter(|b| b.kept.is_some() == kept)
        .map(|b| {
            let e = &trace.events[b.event];
            BlockJson {
                address: address(e.address),
                file: e.line.map(|_| trace.source.file.to_string()),
                line: e.line,
                name: b.kept.map(|name| name.to_string()),
                region: e.region.name(),
                seq: e.seq,
                size: e.size,
            }
        })
        .collect();
    let bytes = blocks.iter().map(|b| b.size).sum();
    Blocks { blocks, bytes }
}
