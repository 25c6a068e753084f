//! `--format json`: the trace for other tools. Key names are a public contract
//! (README, "JSON output"); add keys, never rename or remove them.

use serde_json::{Value, json};

use crate::trace::Trace;

pub fn trace(trace: &Trace) -> Value {
    let file = &*trace.source.file;
    let events: Vec<Value> = trace
        .events
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "thread": trace.thread_name(e.thread),
                "kind": e.kind.name(),
                "address": address(e.address),
                "size": e.size,
                "align": e.align,
                "old_address": e.old.map(|(a, _)| address(a)),
                "old_size": e.old.map(|(_, s)| s),
                "moved": e.moved(),
                "region": e.region.name(),
                "usable_size": e.usable,
                "file": e.line.map(|_| file),
                "line": e.line,
            })
        })
        .collect();
    let stack: Vec<Value> = trace
        .locals
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "thread": trace.thread_name(l.thread),
                "frame": l.frame,
                "type": l.type_name,
                "address": address(l.address),
                "size": l.size,
                "align": l.align,
                "region": l.region.name(),
                "points_to": l.points_to.map(|t| address(t.address)),
                "points_to_region": l.points_to.map(|t| t.region.name()),
                "len": l.points_to.and_then(|t| t.len),
                "capacity": l.points_to.and_then(|t| t.capacity),
                // The start of what it points to, as Debug shows it (a
                // trailing … when cut); null when memlab cannot show it.
                "preview": (!l.preview.text().is_empty()).then(|| {
                    format!("{}{}", l.preview.text(), if l.preview.is_cut() { "…" } else { "" })
                }),
                "line": l.line,
            })
        })
        .collect();
    let observations: Vec<Value> = trace
        .observations
        .iter()
        .map(|o| {
            let values: serde_json::Map<String, Value> = o
                .fields
                .iter()
                .map(|(name, value)| (name.to_string(), json!(value)))
                .collect();
            json!({
                "thread": trace.thread_name(o.thread),
                "label": o.label,
                "values": values,
                "after_event": o.after_event,
                "line": o.line,
            })
        })
        .collect();
    let summary: serde_json::Map<String, Value> = trace
        .summary()
        .fields()
        .into_iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect();
    json!({
        "scenario": trace.source.id,
        "title": trace.source.title,
        "file": file,
        "events": events,
        "stack": stack,
        "observations": observations,
        "summary": summary,
        "leaks": live_blocks(trace, false),
        "kept": live_blocks(trace, true),
        "panic": trace.panic,
    })
}

/// An address as JSON has it: a string, `0x` and lowercase hex.
fn address(address: usize) -> String {
    format!("{address:#x}")
}

/// Blocks still allocated at the end: the leaks, or the ones kept on purpose.
fn live_blocks(trace: &Trace, kept: bool) -> Value {
    let blocks: Vec<Value> = trace
        .live_blocks()
        .into_iter()
        .filter(|b| b.kept.is_some() == kept)
        .map(|b| {
            let e = &trace.events[b.event];
            json!({
                "name": b.kept,
                "seq": e.seq,
                "address": address(e.address),
                "size": e.size,
                "region": e.region.name(),
                "file": e.line.map(|_| &*trace.source.file),
                "line": e.line,
            })
        })
        .collect();
    let bytes: usize = blocks
        .iter()
        .filter_map(|b| b["size"].as_u64())
        .sum::<u64>() as usize;
    json!({ "blocks": blocks, "bytes": bytes })
}
