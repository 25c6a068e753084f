//! `--format json`: the trace for other tools. Key names are a public contract
//! (README, "JSON output"); add keys, never rename or remove them.
//!
//! The document is streamed to the writer as it is serialised: a trace of a
//! million events never exists as a tree in memory. Fields are declared in
//! alphabetical order, so every object's keys come out sorted. The document
//! is indented, and each item of a list (an event, a stack row, a block) is
//! one line: easy to read and to `grep`, and a third of the bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::Serializer;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use crate::trace::snapshot::{self, Moment, Snapshot};
use crate::trace::{Event, Local, Observation, Trace, field_block};

/// Writes the trace as JSON (indented, one line per list item) and a final
/// newline.
pub fn write(trace: &Trace, out: impl Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, ItemLines::default());
    Document(trace).serialize(&mut serializer)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// serde_json's pretty formatter for the document and its lists, its
/// compact one inside each item of a list: every event on a line of its own.
#[derive(Default)]
struct ItemLines {
    pretty: PrettyFormatter<'static>,
    /// For each open array or object: whether it is written compactly.
    compact: Vec<bool>,
    /// Whether the innermost open container is an array.
    in_array: Vec<bool>,
}

impl ItemLines {
    /// Whether the innermost open container is written compactly.
    fn is_compact(&self) -> bool {
        self.compact.last().copied().unwrap_or(false)
    }

    /// Opens a container: compact inside a compact one, or as an item of a
    /// list below the top level.
    fn open(&mut self, array: bool) -> bool {
        let compact = self.is_compact()
            || (self.in_array.last().copied().unwrap_or(false) && self.compact.len() >= 2);
        self.compact.push(compact);
        self.in_array.push(array);
        compact
    }

    fn close(&mut self) -> bool {
        self.in_array.pop();
        self.compact.pop().unwrap_or(false)
    }
}

impl Formatter for ItemLines {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.open(true) {
            true => CompactFormatter.begin_array(w),
            false => self.pretty.begin_array(w),
        }
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.close() {
            true => CompactFormatter.end_array(w),
            false => self.pretty.end_array(w),
        }
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        match self.is_compact() {
            true => CompactFormatter.begin_array_value(w, first),
            false => self.pretty.begin_array_value(w, first),
        }
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.is_compact() {
            true => CompactFormatter.end_array_value(w),
            false => self.pretty.end_array_value(w),
        }
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.open(false) {
            true => CompactFormatter.begin_object(w),
            false => self.pretty.begin_object(w),
        }
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.close() {
            true => CompactFormatter.end_object(w),
            false => self.pretty.end_object(w),
        }
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        match self.is_compact() {
            true => CompactFormatter.begin_object_key(w, first),
            false => self.pretty.begin_object_key(w, first),
        }
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.is_compact() {
            true => CompactFormatter.begin_object_value(w),
            false => self.pretty.begin_object_value(w),
        }
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        match self.is_compact() {
            true => CompactFormatter.end_object_value(w),
            false => self.pretty.end_object_value(w),
        }
    }
}

/// The trace as a JSON value (for tests and tools that want the tree).
pub fn trace(trace: &Trace) -> serde_json::Value {
    serde_json::to_value(Document(trace)).unwrap_or_default()
}

/// An address as JSON has it: a string, `0x` and lowercase hex.
fn address(address: usize) -> String {
    format!("{address:#x}")
}

/// An address written as [`address`] writes it, without making a `String`.
#[derive(Clone, Copy)]
struct Address(usize);

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{:#x}", self.0))
    }
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
            moments: Moments<'t>,
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
            moments: Moments(trace),
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
    address: Address,
    align: usize,
    file: Option<&'t str>,
    kind: &'static str,
    line: Option<u32>,
    moved: Option<bool>,
    old_address: Option<Address>,
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
            address: Address(e.address),
            align: e.align,
            file: e.line.map(|_| &*trace.source.file),
            kind: e.kind.name(),
            line: e.line,
            moved: e.moved(),
            old_address: e.old.map(|(a, _)| Address(a)),
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
    /// For a field of a heap block (probed through a reference): the
    /// block's address; null for a stack slot.
    in_block: Option<String>,
    len: Option<usize>,
    line: u32,
    name: &'t str,
    /// For a field of a heap block: how far into the block it is.
    offset: Option<usize>,
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
        let field = field_block(&trace.events, l);
        LocalJson {
            address: address(l.address),
            align: l.align,
            capacity: l.points_to.and_then(|t| t.capacity),
            frame: &l.frame,
            in_block: field.map(|(e, _)| address(trace.events[e].address)),
            len: l.points_to.and_then(|t| t.len),
            line: l.line,
            name: &l.name,
            offset: field.map(|(_, offset)| offset),
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

/// The moments of the memory diagrams (`snapshot::moments`), each with the
/// links between heap blocks that its diagram draws.
struct Moments<'t>(&'t Trace);

#[derive(Serialize)]
struct MomentJson<'t> {
    after_event: usize,
    end: bool,
    line: Option<u32>,
    links: Vec<LinkJson<'t>>,
}

#[derive(Serialize)]
struct LinkJson<'t> {
    /// The address of the block holding the pointer, at that moment.
    from_block: String,
    label: &'t str,
    offset: usize,
    /// The address of the block it points into, at that moment.
    to_block: String,
    to_offset: usize,
}

impl Serialize for Moments<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let trace = self.0;
        // Links come only from fields: without one, no moment has any, and
        // no snapshot is needed (a million-event trace has many blocks).
        let fields = trace
            .locals
            .iter()
            .any(|l| crate::trace::field_block(&trace.events, l).is_some());
        if !fields {
            return serializer.collect_seq(snapshot::moments(trace).into_iter().map(|moment| {
                let (after_event, line) = match moment {
                    Moment::Probe {
                        after_event, line, ..
                    } => (after_event.min(trace.events.len()), Some(line)),
                    Moment::Event { after_event } => (after_event.min(trace.events.len()), None),
                    Moment::End => (trace.events.len(), None),
                };
                MomentJson {
                    after_event,
                    end: moment == Moment::End,
                    line,
                    links: vec![],
                }
            }));
        }
        let ids = snapshot::block_ids(&trace.events);
        serializer.collect_seq(snapshot::moments(trace).into_iter().map(|moment| {
            let snap = Snapshot::at(trace, &ids, moment);
            let at = |id: usize| snap.block(id).map(|b| address(b.address));
            let links = snap
                .links
                .iter()
                .filter_map(|l| {
                    Some(LinkJson {
                        from_block: at(l.from_block)?,
                        label: l.label,
                        offset: l.offset,
                        to_block: at(l.to_block)?,
                        to_offset: l.to_offset,
                    })
                })
                .collect();
            MomentJson {
                after_event: snap.after_event,
                end: moment == Moment::End,
                line: match moment {
                    Moment::Probe { line, .. } => Some(line),
                    _ => None,
                },
                links,
            }
        }))
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
