//! Every lesson page says what the evidence on that page shows, under every
//! allocator and setting that changes the runs.
//!
//! `memlab lesson ID --claims` prints the page with each live value and each
//! passage shown wrapped in marks of no width (so the page keeps the layout a
//! reader sees), then lists what each value and passage asks of the run. This checker reads the *evidence
//! printed on the same page* (the events, stack, observations and summary
//! tables, the listing and the leak report) and answers each question itself,
//! with its own reading of the query language: it shares no code with the
//! lesson layer that chose the passages. A value must equal the checker's
//! answer; the passage shown must be the first whose condition holds by the
//! checker's reading (or `otherwise` when none does); and a shown passage may
//! only rest on evidence the page prints.
//!
//! The lesson's live run is not `memlab trace`'s run (the process differs,
//! and with it the heap), so nothing here compares pages with traces.
//!
//! `cargo test` checks every page in the default environment and two glibc
//! settings; `.ci/run` runs the whole matrix with the release build
//! (`cargo test --test claims -- --ignored`), where valgrind and the
//! preloaded allocators must be installed: a missing one fails the test.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use memlab::lessons;
use memlab::scenarios::BUILT_IN;

// ---------------------------------------------------------------------------
// The page: markers in the prose, the trailer, and the evidence.

/// One row of a table: each column's lines, by the column's first header line.
type Row = HashMap<String, Vec<String>>;

#[derive(Debug, Default)]
struct Evidence {
    events: Option<Vec<Row>>,
    /// Whether the events table left rows out (`⋮`).
    events_cut: bool,
    /// `(line, annotation)` of every `↳` in a listing.
    listing: Option<Vec<(u32, String)>>,
    /// Whether the listing left a line's events out (`… N more events`).
    listing_cut: bool,
    locals: Option<Vec<Row>>,
    observations: Option<Vec<Row>>,
    summary: Option<HashMap<String, String>>,
    /// The leak report's lines of text.
    leaks: Option<Vec<String>>,
}

#[derive(Debug, Default)]
struct Page {
    /// Value N as the prose shows it.
    values: Vec<(usize, String)>,
    /// Passage P of group G is shown.
    shown: Vec<(usize, usize)>,
    /// From the trailer: value N asks `scenario query` (and where).
    asks: Vec<(usize, String, String)>,
    /// From the trailer: group G (and where), its passages' conditions
    /// (`None`: otherwise).
    groups: Vec<(usize, String, Vec<Option<String>>)>,
    evidence: HashMap<String, Evidence>,
}

/// The claims marks of `text`, in order: `("value;3", "mmap")` for a value
/// (with the text it wraps), `("passage;1;2", "")` for the start of a passage.
fn marks(text: &str) -> Vec<(String, String)> {
    const OPEN: &str = "\x1b]memlab;";
    let mut out = vec![];
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('\x07') else { break };
        let what = after[..end].to_string();
        rest = &after[end + 1..];
        if what.starts_with("value;") {
            let close = format!("{OPEN}/value\x07");
            let inner = rest.find(&close).map_or("", |i| &rest[..i]);
            out.push((what, inner.to_string()));
        } else if what.starts_with("passage;") {
            out.push((what, String::new()));
        }
    }
    out
}

fn is_table_line(line: &str) -> bool {
    line.starts_with(['┌', '│', '╞', '├', '└'])
}

/// Reads a comfy-table (UTF-8, condensed) starting at `lines[0]`: its rows,
/// whether a `⋮` row cut it, and how many lines it took.
fn table(lines: &[&str]) -> (Vec<Row>, bool, usize) {
    let cells = |line: &str| -> Vec<String> {
        line.trim_start_matches('│')
            .trim_end_matches('│')
            .split('┆')
            .map(|c| c.trim().to_string())
            .collect()
    };
    let mut used = 0;
    let mut header: Vec<String> = vec![];
    let mut header_done = false;
    let mut body: Vec<Vec<String>> = vec![];
    let has_header = lines
        .iter()
        .take_while(|l| !l.starts_with('└'))
        .any(|l| l.starts_with('╞'));
    for line in lines {
        used += 1;
        if line.starts_with('└') {
            break;
        }
        if line.starts_with('┌') {
            continue;
        }
        if line.starts_with('╞') {
            header_done = true;
            continue;
        }
        if has_header && !header_done {
            let c = cells(line);
            if header.is_empty() {
                header = c;
            }
            continue;
        }
        body.push(cells(line));
    }
    if header.is_empty() {
        // No header (the summary): name the columns by position.
        let n = body.first().map_or(0, Vec::len);
        header = (0..n).map(|i| i.to_string()).collect();
    }
    let mut rows: Vec<Row> = vec![];
    let mut cut = false;
    for line in body {
        if line.first().is_some_and(|c| c == "⋮") {
            cut = true;
            continue;
        }
        let starts = line.first().is_some_and(|c| !c.is_empty()) || rows.is_empty();
        if starts {
            rows.push(Row::new());
        }
        let row = rows.last_mut().unwrap();
        for (name, cell) in header.iter().zip(line) {
            let entry = row.entry(name.clone()).or_default();
            if !cell.is_empty() || starts {
                entry.push(cell);
            }
        }
    }
    (rows, cut, used)
}

impl Page {
    fn parse(text: &str) -> Result<Page, String> {
        let (body, trailer) = text
            .split_once("\n⟦claims ")
            .ok_or("the page has no claims trailer (was it run with --claims?)")?;
        let mut page = Page::default();
        for (what, inner) in marks(body) {
            let bad = || format!("bad mark {what:?}");
            let fields: Vec<&str> = what.split(';').collect();
            match fields.as_slice() {
                ["value", n] => page.values.push((n.parse().map_err(|_| bad())?, inner)),
                ["passage", g, p] => page
                    .shown
                    .push((g.parse().map_err(|_| bad())?, p.parse().map_err(|_| bad())?)),
                _ => return Err(bad()),
            }
        }
        for line in trailer.lines().skip(1) {
            let line = line.split(" | run: ").next().unwrap_or(line);
            if let Some(rest) = line.strip_prefix("value ") {
                let (n, rest) = rest.split_once(' ').ok_or("bad value line")?;
                let (place, ask) = rest.split_once(": ").ok_or("bad value line")?;
                page.asks.push((
                    n.parse().map_err(|_| "bad value line")?,
                    place.to_string(),
                    ask.to_string(),
                ));
            } else if let Some(rest) = line.strip_prefix("group ") {
                let (g, place) = rest.split_once(' ').ok_or("bad group line")?;
                let g = g.parse().map_err(|_| "bad group line")?;
                page.groups.push((g, place.to_string(), vec![]));
            } else if let Some(rest) = line.strip_prefix("passage ") {
                let (_, what) = rest.split_once(' ').ok_or("bad passage line")?;
                let group = page.groups.last_mut().ok_or("a passage before its group")?;
                group.2.push(what.strip_prefix("when ").map(str::to_string));
            } else if !line.trim().is_empty() {
                return Err(format!("unknown trailer line: {line}"));
            }
        }
        let lines: Vec<&str> = body.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let Some(caption) = lines[i].strip_prefix("▸ live run of ") else {
                i += 1;
                continue;
            };
            let (id, what) = caption.split_once(": ").ok_or("bad caption")?;
            let evidence = page.evidence.entry(id.to_string()).or_default();
            i += 1;
            match what {
                "heap events" | "stack locals" | "observations" | "summary" => {
                    let (rows, cut, used) = table(&lines[i..]);
                    i += used;
                    match what {
                        "heap events" => {
                            evidence.events = Some(rows);
                            evidence.events_cut = cut;
                        }
                        "stack locals" => evidence.locals = Some(rows),
                        "observations" => evidence.observations = Some(rows),
                        _ => {
                            evidence.summary = Some(
                                rows.iter()
                                    .map(|r| (r["0"][0].clone(), r["1"][0].clone()))
                                    .collect(),
                            );
                        }
                    }
                }
                "source, with the heap events of each line" => {
                    let mut notes = vec![];
                    let mut current = 0;
                    while i < lines.len() {
                        let Some((number, rest)) = lines[i].split_once(" │") else {
                            break;
                        };
                        if !number.trim().is_empty() {
                            match number.trim().parse() {
                                Ok(n) => current = n,
                                Err(_) => break,
                            }
                        }
                        if let Some(note) = rest.trim_start().strip_prefix("↳ ") {
                            if note.starts_with('…') {
                                evidence.listing_cut = true;
                            } else {
                                notes.push((current, note.to_string()));
                            }
                        }
                        i += 1;
                    }
                    evidence.listing = Some(notes);
                }
                "leak report" => {
                    let mut text = vec![];
                    while i < lines.len()
                        && (is_table_line(lines[i])
                            || lines[i].starts_with("Leaked:")
                            || lines[i].starts_with("Nothing leaked")
                            || lines[i].starts_with("Alive on purpose"))
                    {
                        if !is_table_line(lines[i]) {
                            text.push(lines[i].to_string());
                        }
                        i += 1;
                    }
                    evidence.leaks = Some(text);
                }
                _ => {} // diagrams and charts: pictures, not read here
            }
        }
        Ok(page)
    }
}

// ---------------------------------------------------------------------------
// The checker's own reading of the query language (CONTRIBUTING.md).

/// Why the page cannot answer: it does not print that kind of evidence at
/// all (a claim resting on it is unfounded), or it prints it and it does
/// not hold the answer (a condition on it does not hold).
#[derive(Debug)]
enum NoAnswer {
    Missing(String),
    Blank(String),
}

type Answer = Result<String, NoAnswer>;

fn words(text: &str) -> Vec<(String, bool)> {
    let mut out = vec![];
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
        } else if c == '"' {
            chars.next();
            out.push((chars.by_ref().take_while(|&c| c != '"').collect(), true));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push((word, false));
        }
    }
    out
}

fn first_line(row: &Row, column: &str) -> Option<String> {
    row.get(column)?.first().cloned()
}

/// `"32 / 8"` → (32, 8).
fn size_align(text: &str) -> Option<(String, String)> {
    let (size, align) = text.split_once(" / ")?;
    Some((size.trim().to_string(), align.trim().to_string()))
}

/// The number in `"85 bytes"`, `"1 byte"`, `"#3"`, `"12"`.
fn number_in(text: &str) -> Option<String> {
    let digits: String = text
        .trim()
        .trim_start_matches('#')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

impl NoAnswer {
    fn reason(&self) -> &str {
        match self {
            NoAnswer::Missing(why) => why,
            NoAnswer::Blank(why) => why,
        }
    }
}

impl Evidence {
    /// Event `seq` as (kind, the annotation's words) from the listing.
    fn listed(&self, seq: usize) -> Option<(u32, Vec<String>)> {
        self.listing.as_ref()?.iter().find_map(|(line, note)| {
            let words: Vec<String> = note.split_whitespace().map(str::to_string).collect();
            (words.first()? == &format!("#{seq}")).then_some((*line, words))
        })
    }

    fn local<'a>(&'a self, id: &str, name: &str, nth: usize) -> Result<&'a Row, NoAnswer> {
        let locals = self
            .locals
            .as_ref()
            .ok_or_else(|| NoAnswer::Missing(format!("no stack table of {id}")))?;
        locals
            .iter()
            .filter(|r| first_line(r, "local").as_deref() == Some(name))
            .nth(nth - 1)
            .ok_or_else(|| {
                NoAnswer::Missing(format!("no local {name} ({nth}) in {id}'s stack table"))
            })
    }

    fn answer(&self, id: &str, query: &[(String, bool)]) -> Answer {
        let w: Vec<&str> = query.iter().map(|(w, _)| w.as_str()).collect();
        let blank = |why: &str| Err(NoAnswer::Blank(why.to_string()));
        let unknown = || {
            Err(NoAnswer::Missing(format!(
                "the checker cannot read '{}'",
                w.join(" ")
            )))
        };
        match w.as_slice() {
            ["event", seq, field] => {
                let seq: usize = seq
                    .parse()
                    .map_err(|_| NoAnswer::Missing("bad seq".into()))?;
                let row = self.events.as_ref().and_then(|rows| {
                    rows.iter()
                        .find(|r| first_line(r, "#").as_deref() == Some(&seq.to_string()))
                });
                let Some(row) = row else {
                    // The listing names each event's kind, size, old size and move.
                    let Some((line, note)) = self.listed(seq) else {
                        return Err(NoAnswer::Missing(format!(
                            "event #{seq} of {id} is not on the page"
                        )));
                    };
                    return match *field {
                        "kind" => Ok(note[1].clone()),
                        "line" => Ok(line.to_string()),
                        "size" => Ok(note[note.iter().position(|w| w == "B").unwrap() - 1].clone()),
                        "old-size" if note.contains(&"→".to_string()) => Ok(note[3].clone()),
                        "moved" if note.contains(&"→".to_string()) => {
                            Ok(if note.last().is_some_and(|w| w == "moved") {
                                "yes"
                            } else {
                                "no"
                            }
                            .into())
                        }
                        "moved" | "old-size" => blank("not a realloc"),
                        _ => Err(NoAnswer::Missing(format!(
                            "the listing does not show an event's {field}"
                        ))),
                    };
                };
                let address = row.get("address").cloned().unwrap_or_default();
                let sizes = row.get("size/align").cloned().unwrap_or_default();
                let realloc = row.get("realloc").cloned().unwrap_or_default();
                match *field {
                    "kind" => first_line(row, "event").ok_or(NoAnswer::Blank("no kind".into())),
                    "region" => address
                        .get(1)
                        .cloned()
                        .ok_or(NoAnswer::Blank("no region".into())),
                    "size" | "align" => {
                        let (size, align) = sizes
                            .first()
                            .and_then(|s| size_align(s))
                            .ok_or(NoAnswer::Blank("no size".into()))?;
                        Ok(if *field == "size" { size } else { align })
                    }
                    "reserved" => match sizes.get(1).map(String::as_str) {
                        Some("?") | None => blank("reserved ?"),
                        Some(n) => Ok(n.to_string()),
                    },
                    "line" => match first_line(row, "line").as_deref() {
                        Some("?") | None => blank("line ?"),
                        Some(n) => Ok(n.to_string()),
                    },
                    "moved" => match realloc.get(1).map(String::as_str) {
                        Some("in place") => Ok("no".into()),
                        Some(m) if m.starts_with("moved") => Ok("yes".into()),
                        _ => blank("not a realloc"),
                    },
                    "old-size" => realloc
                        .first()
                        .and_then(|r| r.split_once(" → "))
                        .map(|(old, _)| old.to_string())
                        .ok_or(NoAnswer::Blank("not a realloc".into())),
                    "address" => address
                        .first()
                        .and_then(|a| hex(a))
                        .ok_or(NoAnswer::Blank("no address".into())),
                    _ => unknown(),
                }
            }
            ["count" | "events", ..] => {
                let (filter, rest) = match w.as_slice() {
                    ["count", kind, rest @ ..] => (Some(*kind), rest),
                    [_, rest @ ..] => (None, rest),
                    [] => unreachable!(),
                };
                let line = match rest {
                    [] => None,
                    ["line", n] => Some(n.to_string()),
                    _ => return unknown(),
                };
                let matches = |kind: &str, moved: Option<bool>, at: Option<String>| -> bool {
                    let kind_ok = match filter {
                        None => true,
                        Some("moved") => moved == Some(true),
                        Some("in-place") => moved == Some(false),
                        Some(k) => k == kind,
                    };
                    kind_ok && (line.is_none() || at == line)
                };
                if let (Some(rows), false) = (&self.events, self.events_cut) {
                    let n = rows
                        .iter()
                        .filter(|r| {
                            let kind = first_line(r, "event").unwrap_or_default();
                            let moved = match r.get("realloc").and_then(|c| c.get(1)) {
                                Some(m) if m == "in place" => Some(false),
                                Some(m) if m.starts_with("moved") => Some(true),
                                _ => None,
                            };
                            matches(&kind, moved, first_line(r, "line"))
                        })
                        .count();
                    return Ok(n.to_string());
                }
                // The summary counts them all, by kind.
                if let (Some(summary), None) = (&self.summary, &line) {
                    let row = |label: &str| summary.get(label).and_then(|v| number_in(v));
                    let n = match filter {
                        None => ["allocations", "reallocations", "deallocations"]
                            .iter()
                            .map(|l| row(l).and_then(|n| n.parse::<u64>().ok()))
                            .sum::<Option<u64>>()
                            .map(|n| n.to_string()),
                        Some("realloc") => row("reallocations"),
                        Some("dealloc") => row("deallocations"),
                        _ => None,
                    };
                    if let Some(n) = n {
                        return Ok(n);
                    }
                }
                // A listing shows only events tied to a line: enough to count
                // one line's, if it left none out.
                match (&self.listing, &line, self.listing_cut) {
                    (Some(notes), Some(_), false) => Ok(notes
                        .iter()
                        .filter(|(at, note)| {
                            let words: Vec<&str> = note.split_whitespace().collect();
                            let moved = note.contains('→').then(|| note.ends_with("moved"));
                            matches(
                                words.get(1).copied().unwrap_or(""),
                                moved,
                                Some(at.to_string()),
                            )
                        })
                        .count()
                        .to_string()),
                    _ => Err(NoAnswer::Missing(format!("no whole events table of {id}"))),
                }
            }
            ["observation", at, field] => {
                let rows = self
                    .observations
                    .as_ref()
                    .ok_or_else(|| NoAnswer::Missing(format!("no observations table of {id}")))?;
                let quoted = query[1].1;
                let row = if !quoted && at.chars().all(|c| c.is_ascii_digit()) {
                    rows.iter()
                        .find(|r| first_line(r, "#").as_deref() == Some(*at))
                } else {
                    rows.iter()
                        .find(|r| first_line(r, "label").as_deref() == Some(*at))
                };
                let row = row.ok_or_else(|| {
                    NoAnswer::Missing(format!("no observation {at} in {id}'s table"))
                })?;
                if *field == "after-event" {
                    return match first_line(row, "after event").as_deref() {
                        Some("none yet") => Ok("0".into()),
                        Some(n) => number_in(n).ok_or(NoAnswer::Blank("after ?".into())),
                        None => blank("no after column"),
                    };
                }
                match first_line(row, field) {
                    Some(v) if !v.is_empty() => Ok(v),
                    _ => blank("no such field in that row"),
                }
            }
            ["summary", field] => {
                let summary = self
                    .summary
                    .as_ref()
                    .ok_or_else(|| NoAnswer::Missing(format!("no summary table of {id}")))?;
                let label = match *field {
                    "allocs" => "allocations",
                    "reallocs" => "reallocations",
                    "deallocs" => "deallocations",
                    "bytes_allocated" => "bytes requested",
                    "peak_live_bytes" => "peak live bytes",
                    "live_bytes_at_end" => "live at the end",
                    "lost_events" => "lost events",
                    "dropped_probes" => "dropped probes",
                    _ => return unknown(),
                };
                summary
                    .get(label)
                    .and_then(|v| number_in(v))
                    .ok_or(NoAnswer::Blank("no such summary row".into()))
            }
            ["local", name, rest @ ..] => {
                let (nth, field) = match rest {
                    [field] => (1, *field),
                    [nth, field] => (nth.parse().unwrap_or(0), *field),
                    _ => return unknown(),
                };
                let row = self.local(id, name, nth)?;
                let target = first_line(row, "points to").unwrap_or_default();
                // "0x55… (heap; at offset 16; len 3, capacity 3)"
                let facts: Vec<&str> = target
                    .split_once(" (")
                    .map(|(_, f)| f.trim_end_matches(')'))
                    .unwrap_or("")
                    .split("; ")
                    .flat_map(|f| f.split(", "))
                    .collect();
                let fact = |key: &str| {
                    facts
                        .iter()
                        .find_map(|f| f.strip_prefix(key).map(str::to_string))
                        .ok_or(NoAnswer::Blank(format!("no {key}")))
                };
                let sizes = first_line(row, "size/align").and_then(|s| size_align(&s));
                match field {
                    "size" => sizes.map(|s| s.0).ok_or(NoAnswer::Blank("size".into())),
                    "align" => sizes.map(|s| s.1).ok_or(NoAnswer::Blank("align".into())),
                    "region" => row
                        .get("address")
                        .and_then(|a| a.get(1).cloned())
                        .ok_or(NoAnswer::Blank("region".into())),
                    "len" => fact("len "),
                    "capacity" => fact("capacity "),
                    "points-to" => match facts.first() {
                        _ if target.is_empty() => blank("points nowhere"),
                        Some(&"dangling") => blank("dangling"),
                        Some(region) => Ok(region.to_string()),
                        None => blank("no region"),
                    },
                    "address" => row
                        .get("address")
                        .and_then(|a| a.first())
                        .and_then(|a| hex(a))
                        .ok_or(NoAnswer::Blank("no address".into())),
                    "offset" => {
                        if let Ok(offset) = fact("at offset ") {
                            return Ok(offset);
                        }
                        // At a block's start: the address is an event's own.
                        let address = target.split(' ').next().unwrap_or("");
                        let at_start = self.events.iter().flatten().any(|r| {
                            r.get("address").and_then(|a| a.first()).map(String::as_str)
                                == Some(address)
                        });
                        if at_start {
                            Ok("0".into())
                        } else {
                            blank("in no block the page shows")
                        }
                    }
                    _ => unknown(),
                }
            }
            ["same-block", a, b] => {
                let target = |name: &str| -> Result<String, NoAnswer> {
                    let row = self.local(id, name, 1)?;
                    let t = first_line(row, "points to").unwrap_or_default();
                    let address = t.split(' ').next().unwrap_or("").to_string();
                    if address.is_empty() {
                        blank("points nowhere")
                    } else {
                        Ok(address)
                    }
                };
                Ok(if target(a)? == target(b)? {
                    "yes"
                } else {
                    "no"
                }
                .into())
            }
            [which @ ("leaked" | "kept"), what @ ("blocks" | "bytes")] => {
                let text = self
                    .leaks
                    .as_ref()
                    .ok_or_else(|| NoAnswer::Missing(format!("no leak report of {id}")))?;
                let prefix = if *which == "leaked" {
                    "Leaked:"
                } else {
                    "Alive on purpose"
                };
                let Some(line) = text.iter().find(|l| l.starts_with(prefix)) else {
                    return Ok("0".into());
                };
                // "Leaked: 3 blocks, 73 bytes, never freed:"
                let after = line.split_once(':').map_or("", |(_, r)| r);
                let mut numbers = after.split(',').filter_map(number_in_words);
                let blocks = numbers.next().ok_or(NoAnswer::Blank("blocks".into()))?;
                let bytes = numbers.next().ok_or(NoAnswer::Blank("bytes".into()))?;
                Ok(if *what == "blocks" { blocks } else { bytes })
            }
            _ => unknown(),
        }
    }
}

/// `"0x55…"` as a decimal number.
fn hex(text: &str) -> Option<String> {
    let digits = text.strip_prefix("0x")?;
    u64::from_str_radix(digits, 16).ok().map(|n| n.to_string())
}

/// The first number among the words of `text` (`" 3 blocks"` → 3).
fn number_in_words(text: &str) -> Option<String> {
    text.split_whitespace().find_map(number_in)
}

/// Whether `scenario query op operand` holds by the page's evidence.
fn clause_holds(page: &Page, clause: &[(String, bool)]) -> Result<bool, NoAnswer> {
    let ops = ["=", "!=", "<", "<=", ">", ">="];
    let Some(at) = clause
        .iter()
        .position(|(w, q)| !q && ops.contains(&w.as_str()))
    else {
        return Err(NoAnswer::Missing("a clause without an operator".into()));
    };
    let scenario = &clause[0].0;
    let evidence = page
        .evidence
        .get(scenario)
        .ok_or_else(|| NoAnswer::Missing(format!("no evidence of {scenario} on the page")))?;
    let left = evidence.answer(scenario, &clause[1..at])?;
    let rhs = &clause[at + 1..];
    let verbs = [
        "observation",
        "count",
        "events",
        "event",
        "summary",
        "local",
        "same-block",
        "leaked",
        "kept",
    ];
    let right = match rhs {
        [(w, false), ..] if verbs.contains(&w.as_str()) => evidence.answer(scenario, rhs)?,
        [(w, _)] => w.clone(),
        _ => return Err(NoAnswer::Missing("a bad operand".into())),
    };
    let numbers = (left.parse::<u64>(), right.parse::<u64>());
    Ok(match (clause[at].0.as_str(), numbers) {
        ("=", _) => left == right,
        ("!=", _) => left != right,
        ("<", (Ok(a), Ok(b))) => a < b,
        ("<=", (Ok(a), Ok(b))) => a <= b,
        (">", (Ok(a), Ok(b))) => a > b,
        (">=", (Ok(a), Ok(b))) => a >= b,
        _ => false,
    })
}

/// Whether every clause of `condition` holds; `Err` when the page does not
/// print the evidence one of them asks about.
fn condition_holds(page: &Page, condition: &str) -> Result<bool, String> {
    let tokens = words(condition);
    let mut all = true;
    for clause in tokens.split(|(w, q)| !q && w == "and") {
        match clause_holds(page, clause) {
            Ok(holds) => all &= holds,
            Err(NoAnswer::Blank(_)) => all = false,
            Err(NoAnswer::Missing(why)) => return Err(why),
        }
    }
    Ok(all)
}

/// Every disagreement between what `text` (a page printed with `--claims`)
/// says and what its own evidence shows.
fn check_page(text: &str) -> Vec<String> {
    let page = match Page::parse(text) {
        Ok(page) => page,
        Err(e) => return vec![e],
    };
    let mut problems = vec![];
    for (n, place, ask) in &page.asks {
        let shown: Vec<&String> = page
            .values
            .iter()
            .filter(|(m, _)| m == n)
            .map(|(_, v)| v)
            .collect();
        let tokens = words(ask);
        let scenario = &tokens[0].0;
        let answer = match page.evidence.get(scenario) {
            Some(evidence) => evidence.answer(scenario, &tokens[1..]),
            None => Err(NoAnswer::Missing(format!(
                "no evidence of {scenario} on the page"
            ))),
        };
        match (shown.as_slice(), answer) {
            ([value], Ok(answer)) if **value == answer => {}
            ([value], Ok(answer)) => problems.push(format!(
                "{place}: the prose says {value} for `{ask}`, the page's evidence shows {answer}"
            )),
            ([value], Err(why)) => problems.push(format!(
                "{place}: the prose says {value} for `{ask}`, which the page does not show ({})",
                why.reason()
            )),
            (other, _) => problems.push(format!(
                "{place}: value {n} appears {} times in the prose",
                other.len()
            )),
        }
    }
    for (n, _) in &page.values {
        if !page.asks.iter().any(|(m, ..)| m == n) {
            problems.push(format!(
                "value ⟦{n}=…⟧ is in the prose but not in the trailer"
            ));
        }
    }
    for (g, place, passages) in &page.groups {
        let shown: Vec<usize> = page
            .shown
            .iter()
            .filter(|(h, _)| h == g)
            .map(|&(_, p)| p)
            .collect();
        let [shown] = shown.as_slice() else {
            problems.push(format!("{place}: group {g} shows {} passages", shown.len()));
            continue;
        };
        let Some(first) = passages.iter().position(|when| {
            when.as_ref()
                .is_none_or(|c| condition_holds(&page, c).unwrap_or(false))
        }) else {
            problems.push(format!("{place}: group {g} has no passage for this run"));
            continue;
        };
        if first + 1 != *shown {
            problems.push(format!(
                "{place}: group {g} shows passage {shown}, but by the page's evidence \
                 passage {} is the one that holds: {}",
                first + 1,
                passages[first].as_deref().unwrap_or("otherwise")
            ));
        }
        if let Some(Some(condition)) = passages.get(shown - 1)
            && let Err(why) = condition_holds(&page, condition)
        {
            problems.push(format!(
                "{place}: the passage shown rests on `{condition}`, which the page does \
                 not show: {why}"
            ));
        }
    }
    for (g, _) in &page.shown {
        if !page.groups.iter().any(|(h, ..)| h == g) {
            problems.push(format!(
                "a passage of group {g} is shown but not in the trailer"
            ));
        }
    }
    problems
}

// ---------------------------------------------------------------------------
// Environments.

/// How memlab is started.
#[derive(Clone, Copy, Debug)]
enum Launch {
    Plain,
    /// Under valgrind with this tool.
    Valgrind(&'static str),
    /// By the dynamic loader: `/proc/self/exe` is then ld.so.
    Loader,
    /// From a shell that ignores SIGSEGV (inherited across exec).
    IgnoringSegv,
    /// A copy of the binary in a folder whose name has a space.
    SpacedPath,
}

#[derive(Clone, Copy, Debug)]
struct Env {
    name: &'static str,
    vars: &'static [(&'static str, &'static str)],
    launch: Launch,
}

const fn env(name: &'static str, vars: &'static [(&'static str, &'static str)]) -> Env {
    Env {
        name,
        vars,
        launch: Launch::Plain,
    }
}

const JEMALLOC: &str = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
const MIMALLOC: &str = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2";
const TCMALLOC: &str = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
const MALLOC_DEBUG: &str = "/lib/x86_64-linux-gnu/libc_malloc_debug.so.0";
const LOADER: &str = "/lib64/ld-linux-x86-64.so.2";

/// The settings under which the audit of issue 13 saw a run change (a
/// region, a reserved size, a move, the child's signal, the worker's stack,
/// whether memlab can name `static`), each a class of its own.
const MATRIX: &[Env] = &[
    env("default", &[]),
    env("MALLOC_ARENA_MAX=1", &[("MALLOC_ARENA_MAX", "1")]),
    env(
        "MALLOC_MMAP_THRESHOLD_=4096",
        &[("MALLOC_MMAP_THRESHOLD_", "4096")],
    ),
    env(
        "MALLOC_MMAP_THRESHOLD_=65536",
        &[("MALLOC_MMAP_THRESHOLD_", "65536")],
    ),
    env(
        "MALLOC_MMAP_THRESHOLD_=4194304",
        &[("MALLOC_MMAP_THRESHOLD_", "4194304")],
    ),
    env("MALLOC_MMAP_MAX_=0", &[("MALLOC_MMAP_MAX_", "0")]),
    env("MALLOC_TOP_PAD_=2097152", &[("MALLOC_TOP_PAD_", "2097152")]),
    env("MALLOC_TOP_PAD_=0", &[("MALLOC_TOP_PAD_", "0")]),
    env("hugetlb=1", &[("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")]),
    env("hugetlb=2", &[("GLIBC_TUNABLES", "glibc.malloc.hugetlb=2")]),
    env(
        "tcache_count=0",
        &[("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0")],
    ),
    env("RUST_MIN_STACK=65536", &[("RUST_MIN_STACK", "65536")]),
    env("jemalloc", &[("LD_PRELOAD", JEMALLOC)]),
    env("mimalloc", &[("LD_PRELOAD", MIMALLOC)]),
    env("tcmalloc", &[("LD_PRELOAD", TCMALLOC)]),
    env(
        "malloc-debug MALLOC_CHECK_=3",
        &[("LD_PRELOAD", MALLOC_DEBUG), ("MALLOC_CHECK_", "3")],
    ),
    Env {
        name: "ld.so memlab",
        vars: &[],
        launch: Launch::Loader,
    },
    Env {
        name: "a path with a space",
        vars: &[],
        launch: Launch::SpacedPath,
    },
    Env {
        name: "SIGSEGV ignored",
        vars: &[],
        launch: Launch::IgnoringSegv,
    },
    Env {
        name: "valgrind memcheck",
        vars: &[],
        launch: Launch::Valgrind("memcheck"),
    },
    Env {
        name: "valgrind none",
        vars: &[],
        launch: Launch::Valgrind("none"),
    },
];

/// The release build, as the witness tests find it.
fn release_binary() -> PathBuf {
    let path = std::env::var_os("MEMLAB_RELEASE_BIN").map_or_else(
        || {
            let debug = PathBuf::from(env!("CARGO_BIN_EXE_memlab"));
            debug.parent().and_then(Path::parent).map_or_else(
                || PathBuf::from("target/release/memlab"),
                |d| d.join("release/memlab"),
            )
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release` first",
        path.display()
    );
    path
}

/// The page of `lesson` printed with `--claims` under `env`.
fn page(binary: &Path, env: &Env, lesson: &str) -> Result<String, String> {
    let args = [
        "lesson",
        lesson,
        "--claims",
        "--width",
        "400",
        "--layout",
        "stacked",
        "--color",
        "never",
        "--addresses",
        "real",
    ];
    let mut command = match env.launch {
        Launch::Plain | Launch::SpacedPath => Command::new(binary),
        Launch::Valgrind(tool) => {
            let mut c = Command::new("valgrind");
            c.args([
                "-q",
                &format!("--tool={tool}"),
                "--child-silent-after-fork=yes",
            ]);
            c.arg(binary);
            c
        }
        Launch::Loader => {
            let mut c = Command::new(LOADER);
            c.arg(binary);
            c
        }
        Launch::IgnoringSegv => {
            let mut c = Command::new("sh");
            c.args(["-c", "trap '' SEGV; exec \"$0\" \"$@\""]);
            c.arg(binary);
            c
        }
    };
    command
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .env("MEMLAB_STATE", common::state());
    for (key, value) in env.vars {
        command.env(key, value);
    }
    let out = command
        .output()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "{} exited with {}:\n{}",
            lesson,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(stdout)
}

/// The tools an environment needs, so that a missing one fails loudly.
fn require(env: &Env) {
    for (key, value) in env.vars {
        if *key == "LD_PRELOAD" {
            assert!(
                Path::new(value).exists(),
                "{}: {value} is missing (install it: .ci/run does)",
                env.name
            );
        }
    }
    match env.launch {
        Launch::Valgrind(_) => assert!(
            Command::new("valgrind")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success()),
            "{}: valgrind is not installed (.ci/run installs it)",
            env.name
        ),
        Launch::Loader => assert!(Path::new(LOADER).exists(), "{LOADER} is missing"),
        _ => {}
    }
}

fn lesson_ids() -> Vec<String> {
    lessons::embedded(&BUILT_IN)
        .expect("the built-in lessons load")
        .into_iter()
        .map(|l| l.id)
        .collect()
}

/// Checks every lesson under every environment of `envs`, `workers` pages
/// at a time; returns each environment's pages' passages shown, for a
/// coverage report, and panics with every problem found.
fn check_matrix(binary: &Path, envs: &[Env]) -> HashMap<String, Vec<String>> {
    let started = Instant::now();
    let ids = lesson_ids();
    let spaced;
    let spaced_binary = if envs.iter().any(|e| matches!(e.launch, Launch::SpacedPath)) {
        spaced = std::env::temp_dir().join(format!("memlab claims {}", std::process::id()));
        let dir = spaced.join("dir with space");
        std::fs::create_dir_all(&dir).unwrap();
        let copy = dir.join("memlab");
        std::fs::copy(binary, &copy).unwrap();
        Some(copy)
    } else {
        None
    };
    // Slow environments first, so that the fast ones fill in around them.
    let mut jobs: Vec<(Env, String)> = vec![];
    for env in envs {
        require(env);
        for id in &ids {
            jobs.push((*env, id.clone()));
        }
    }
    jobs.sort_by_key(|(env, _)| !matches!(env.launch, Launch::Valgrind(_)));
    let next = AtomicUsize::new(0);
    let problems = Mutex::new(Vec::new());
    let shown = Mutex::new(HashMap::<String, Vec<String>>::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some((env, id)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let binary = match (env.launch, &spaced_binary) {
                        (Launch::SpacedPath, Some(copy)) => copy.as_path(),
                        _ => binary,
                    };
                    let found = match page(binary, env, id) {
                        Ok(text) => {
                            let page = Page::parse(&text).unwrap_or_default();
                            let mut shown = shown.lock().unwrap();
                            for (g, p) in &page.shown {
                                shown
                                    .entry(format!("{id} {g}.{p}"))
                                    .or_default()
                                    .push(env.name.to_string());
                            }
                            check_page(&text)
                        }
                        Err(e) => vec![e],
                    };
                    let mut problems = problems.lock().unwrap();
                    problems.extend(
                        found
                            .into_iter()
                            .map(|p| format!("[{}] {id}: {p}", env.name)),
                    );
                }
            });
        }
    });
    if let Some(copy) = &spaced_binary {
        let _ = std::fs::remove_dir_all(copy.parent().unwrap().parent().unwrap());
    }
    eprintln!(
        "claims: {} lessons × {} environments in {:.1?} ({workers} at a time)",
        ids.len(),
        envs.len(),
        started.elapsed()
    );
    let problems = problems.into_inner().unwrap();
    assert!(
        problems.is_empty(),
        "{} pages say what their evidence does not show:\n{}",
        problems.len(),
        problems.join("\n")
    );
    shown.into_inner().unwrap()
}

#[test]
fn every_lesson_page_says_what_its_evidence_shows() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_memlab"));
    check_matrix(&binary, &MATRIX[..3]);
}

#[test]
#[ignore = "needs valgrind, libjemalloc2, libmimalloc2.0, libtcmalloc-minimal4 and a release build: run by .ci/run"]
fn every_lesson_page_holds_in_every_environment() {
    let shown = check_matrix(&release_binary(), MATRIX);
    // Which passage each environment chose: the cases the matrix exercised.
    let mut lines: Vec<String> = shown
        .into_iter()
        .map(|(passage, envs)| match envs.len() {
            n if n == MATRIX.len() => format!("{passage}: every environment"),
            _ => format!("{passage}: {}", envs.join(", ")),
        })
        .collect();
    lines.sort();
    eprintln!("passages shown, by environment:\n{}", lines.join("\n"));
}

#[test]
fn the_checker_catches_a_page_that_contradicts_its_evidence() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_memlab"));
    let text = page(&binary, &MATRIX[0], "big-data").unwrap();
    assert_eq!(check_page(&text), Vec::<String>::new());
    let page = Page::parse(&text).unwrap();
    // A value the prose got wrong.
    let (n, value) = page
        .values
        .first()
        .expect("big-data has live values")
        .clone();
    let mark = |what: &str| format!("\x1b]memlab;{what}\x07");
    let shown = format!("{}{value}{}", mark(&format!("value;{n}")), mark("/value"));
    let wrong = text.replacen(
        &shown,
        &format!("{}{value}0{}", mark(&format!("value;{n}")), mark("/value")),
        1,
    );
    let problems = check_page(&wrong);
    assert!(
        problems.iter().any(|p| p.contains("the prose says")),
        "{problems:?}"
    );
    // Another passage of a group shown in place of the one that holds.
    let (g, p) = page.shown[0];
    let count = page.groups.iter().find(|(h, ..)| *h == g).unwrap().2.len();
    let other = if p == count { 1 } else { p + 1 };
    let wrong = text.replacen(
        &mark(&format!("passage;{g};{p}")),
        &mark(&format!("passage;{g};{other}")),
        1,
    );
    let problems = check_page(&wrong);
    assert!(
        problems.iter().any(|p| p.contains("shows passage")),
        "{problems:?}"
    );
    // A claim resting on evidence the page does not print.
    let cut = text.replace("▸ live run of big-data: heap events", "▸ (removed)");
    let problems = check_page(&cut);
    assert!(
        problems.iter().any(|p| p.contains("does not show")),
        "{problems:?}"
    );
}
