//! The `trace` view: heap events, stack locals, observations and a summary, as
//! tables that fit the width.

use std::collections::HashSet;
use std::fmt::Write as _;

use comfy_table::presets::{ASCII_FULL_CONDENSED, UTF8_FULL_CONDENSED};
use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table};

use super::style::{self, Style, paint};
use super::{AddressMode, show};
use super::{Settings, address, short_type};
use crate::trace::Kind;
use crate::trace::Region;
use crate::trace::names::Names;
use crate::trace::{Event, LiveBlock, Trace};
use crate::trace::{Local, Target};

/// Rows the events table shows at each end of a long trace, unless asked for all.
pub const EDGE_ROWS: usize = 20;

/// The whole `memlab trace` text output. A trace of more than
/// 2 × [`EDGE_ROWS`] events shows its first and last rows unless `all`.
pub fn trace(trace: &Trace, settings: Settings, all: bool) -> String {
    let source = &trace.source;
    let names = Names::new(trace);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} {}",
        paint(&source.id, Style::Bold),
        paint("·", Style::Dim),
        paint(&source.title, Style::Bold)
    );
    let _ = writeln!(out, "{}", wrap(&source.summary, settings));
    let _ = writeln!(
        out,
        "{}",
        paint(&format!("source: {}", source.file), Style::Dim)
    );

    let _ = writeln!(out, "\n{}", heading("Heap events"));
    if trace.events.is_empty() {
        let _ = writeln!(out, "No heap events: nothing was allocated or freed.");
    } else {
        let shown = (!all).then_some(EDGE_ROWS);
        let _ = writeln!(out, "{}", events_table(trace, &names, settings, shown));
        let count = trace.events.len();
        if !all && count > 2 * EDGE_ROWS + 1 {
            let gap = format!(
                "{} events not shown (#{} to #{}): --all shows every one.",
                count - 2 * EDGE_ROWS,
                EDGE_ROWS + 1,
                count - EDGE_ROWS
            );
            let _ = writeln!(out, "{}", paint(&wrap(&gap, settings), Style::Dim));
        }
    }

    if !trace.locals.is_empty() {
        // Fields probed inside heap blocks are rows too, shown where they are.
        let fields = (0..trace.locals.len()).any(|i| names.field_block(i).is_some());
        let title = match fields {
            true => "Stack, and fields in heap blocks",
            false => "Stack",
        };
        let _ = writeln!(out, "\n{}", heading(title));
        let _ = writeln!(out, "{}", locals(trace, &names, settings));
    }
    if !trace.observations.is_empty() {
        let _ = writeln!(out, "\n{}", heading("Observations"));
        let _ = writeln!(out, "{}", observations(trace, settings));
    }

    let _ = writeln!(out, "\n{}", heading("Summary"));
    let _ = writeln!(out, "{}", summary(trace, settings));

    let _ = writeln!(out, "\n{}", heading("Leak report"));
    out.push_str(&leak_report(trace, &names, settings));
    for note in notes(trace) {
        let note = wrap(&format!("note: {note}"), settings);
        let _ = writeln!(out, "{}", paint(&note, Style::Note));
    }
    out
}

/// Prose wrapped to the width.
fn wrap(text: &str, settings: Settings) -> String {
    super::fill(text, usize::from(settings.width))
}

/// Below this width the events table leaves out the code column (the line
/// number stays), so addresses and sizes keep their space.
const CODE_COLUMN_WIDTH: u16 = 100;
/// Below this width tables fold detail columns into fewer, taller cells.
const NARROW_WIDTH: u16 = 90;

/// A section heading, as every text view prints it.
pub(super) fn heading(text: &str) -> String {
    paint(text, Style::Heading)
}

fn new_table(settings: Settings, header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(if settings.ascii {
            ASCII_FULL_CONDENSED
        } else {
            UTF8_FULL_CONDENSED
        })
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(settings.width);
    if style::colour() {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if !header.is_empty() {
        table.set_header(header.iter().map(|h| Cell::new(h).fg(Color::Cyan)));
    }
    table
}

fn align_right(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Keeps short columns (numbers, addresses) on one line; prose columns wrap.
fn keep_whole(table: &mut Table, columns: &[usize]) {
    for &i in columns {
        if let Some(column) = table.column_mut(i) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
}

/// The heap events table, every row.
pub fn events(trace: &Trace, names: &Names, settings: Settings) -> Table {
    events_table(trace, names, settings, None)
}

/// The heap events table; with `edge`, a long trace shows only its first and
/// last `edge` rows, and a row between says how many are left out.
fn events_table(trace: &Trace, names: &Names, settings: Settings, edge: Option<usize>) -> Table {
    let narrow = settings.width < NARROW_WIDTH;
    let with_code = settings.width >= CODE_COLUMN_WIDTH;
    let with_realloc = !narrow && trace.events.iter().any(|e| e.old.is_some());
    let threads = trace.threads().len() > 1;
    // Narrow: the thread's name goes under the event's instead.
    let with_thread = threads && !narrow;
    let mut header = vec!["#", "event", "address\nregion", "size/align\nreserved"];
    if with_thread {
        header.insert(1, "thread");
    }
    if with_realloc {
        header.push("realloc");
    }
    header.push("line");
    if with_code {
        header.push("code");
    }
    let mut table = new_table(settings, &header);
    let count = trace.events.len();
    let skipped = match edge {
        Some(edge) if count > 2 * edge + 1 => edge..count - edge,
        _ => 0..0,
    };
    for (i, event) in trace.events.iter().enumerate() {
        if skipped.contains(&i) {
            if i == skipped.start {
                table.add_row(vec![Cell::new("⋮"); header.len()]);
            }
            continue;
        }
        let mut row = vec![Cell::new(event.seq)];
        if with_thread {
            row.push(Cell::new(trace.thread_name(event.thread)).fg(Color::Magenta));
        }
        row.extend([
            kind_cell(
                event,
                narrow,
                (threads && narrow).then(|| trace.thread_name(event.thread)),
            ),
            Cell::new(format!(
                "{}\n{}",
                show(settings.addresses, names.event(i), event.address),
                event.region.name()
            )),
            Cell::new(match event.usable {
                Some(usable) => format!("{} / {}\n{usable}", event.size, event.align),
                None => format!("{} / {}\n?", event.size, event.align),
            }),
        ]);
        if with_realloc {
            row.push(realloc_cell(event, settings.addresses, settings.to_arrow()));
        }
        row.push(Cell::new(
            event.line.map_or("?".to_string(), |l| l.to_string()),
        ));
        if with_code {
            row.push(Cell::new(code(trace, event.line)));
        }
        table.add_row(row);
    }
    let line = header.len() - 1 - usize::from(with_code);
    let t = usize::from(with_thread); // columns after "#" shift by one
    align_right(&mut table, &[0, t + 3, line]);
    let mut whole = vec![0, t + 1, t + 2, t + 3, line];
    if with_thread {
        whole.push(1);
    }
    if with_realloc {
        whole.push(t + 4); // realloc: its lines are already short
    }
    keep_whole(&mut table, &whole);
    if narrow {
        // As wide as "in place" (8 columns and the padding) whether or not any
        // realloc stayed in place, so the table's shape does not depend on the
        // allocator's history.
        if let Some(column) = table.column_mut(t + 1) {
            column.set_constraint(ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(
                10,
            )));
        }
    }
    table
}

/// The event's kind; in the narrow layout a realloc also says whether it
/// moved, and the event's thread is named under it when `thread` says.
fn kind_cell(event: &Event, narrow: bool, thread: Option<&str>) -> Cell {
    let color = match event.kind {
        Kind::Alloc | Kind::AllocZeroed => Color::Green,
        Kind::Realloc => Color::Yellow,
        Kind::Dealloc => Color::Red,
    };
    let text = match (narrow, event.moved()) {
        (true, Some(false)) => format!("{}\nin place", event.kind.name()),
        (true, Some(true)) => format!("{}\nmoved", event.kind.name()),
        _ => event.kind.name().to_string(),
    };
    let text = match thread {
        Some(thread) => format!("{text}\non {thread}"),
        None => text,
    };
    Cell::new(text).fg(color)
}

/// Old → new size and in place or moved; a moved block's old address unless
/// addresses are symbolic (the block keeps its name).
fn realloc_cell(event: &Event, mode: AddressMode, to: &str) -> Cell {
    match (event.old, event.moved()) {
        (Some((_, old_size)), Some(false)) => {
            Cell::new(format!("{old_size} {to} {} B\nin place", event.size)).fg(Color::Green)
        }
        (Some((_, old_size)), Some(true)) if mode == AddressMode::Symbolic => {
            Cell::new(format!("{old_size} {to} {} B\nmoved", event.size)).fg(Color::Yellow)
        }
        (Some((old_address, old_size)), Some(true)) => Cell::new(format!(
            "{old_size} {to} {} B\nmoved from\n{}",
            event.size,
            address(old_address)
        ))
        .fg(Color::Yellow),
        _ => Cell::new(""),
    }
}

/// The scenario's code on `line`, e.g. `numbers.push(black_box(i));`.
fn code(trace: &Trace, line: Option<u32>) -> &str {
    line.and_then(|l| trace.source.line(l)).unwrap_or("") // the notes below the tables say why
}

/// The stack locals table, with the fields probed inside heap blocks named
/// by their block and offset (`H2+24`, region `heap`). The narrow layout
/// shows what a local points to under its address, and its frame under its
/// name.
pub fn locals(trace: &Trace, names: &Names, settings: Settings) -> Table {
    let narrow = settings.width < NARROW_WIDTH;
    let frames: HashSet<&str> = trace.locals.iter().map(|l| &*l.frame).collect();
    let with_frame = frames.len() > 1 && !narrow;
    let with_targets = !narrow && trace.locals.iter().any(|l| l.points_to.is_some());
    let threads = trace.threads().len() > 1;
    // Narrow: the thread's name goes under the local's instead.
    let with_thread = threads && !narrow;
    let mut header = vec![];
    if with_thread {
        header.push("thread");
    }
    if with_frame {
        header.push("frame");
    }
    header.extend(["local", "type", "address\nregion", "size/align"]);
    if with_targets {
        header.push("points to");
    }
    if !narrow {
        header.push("line");
    }
    let mut table = new_table(settings, &header);
    let mut previous_frame = None;
    for (i, local) in trace.locals.iter().enumerate() {
        let mut row = vec![];
        if with_thread {
            row.push(Cell::new(trace.thread_name(local.thread)).fg(Color::Magenta));
        }
        if with_frame {
            row.push(Cell::new(&local.frame));
        }
        let new_frame = previous_frame != Some((local.thread, &*local.frame));
        previous_frame = Some((local.thread, &*local.frame));
        let mut name = local.name.to_string();
        if narrow && frames.len() > 1 && new_frame {
            name.push_str(&format!("\nin {}()", local.frame));
        }
        if narrow && threads {
            name.push_str(&format!("\non {}", trace.thread_name(local.thread)));
        }
        // A stack slot (S1), or a field of a heap block (H2+24).
        let place = names.field(i).or_else(|| names.slot(local.address));
        let slot = format!(
            "{}\n{}",
            show(settings.addresses, place, local.address),
            local.region.name()
        );
        let offset = names.target_offset(i).filter(|&o| o > 0);
        let target = points_to(local, names.target(i), offset, settings.addresses, narrow);
        let place = match (narrow, &target) {
            (true, Some(target)) => format!("{slot}\n{} {target}", settings.to_arrow()),
            _ => slot,
        };
        row.extend([
            Cell::new(name).fg(Color::Cyan),
            Cell::new(short_type(&local.type_name)),
            Cell::new(place),
            Cell::new(format!("{} / {}", local.size, local.align)),
        ]);
        if with_targets {
            row.push(Cell::new(target.unwrap_or_default()));
        }
        if !narrow {
            row.push(Cell::new(local.line));
        }
        table.add_row(row);
    }
    let first = usize::from(with_frame) + usize::from(with_thread);
    let mut numbers = vec![first + 3]; // size/align
    if !narrow {
        numbers.push(header.len() - 1); // line
    }
    align_right(&mut table, &numbers);
    numbers.extend([first, first + 2]); // local, address
    if !narrow {
        numbers.push(first + 1); // type; narrow tables may wrap it
    }
    keep_whole(&mut table, &numbers);
    table
}

/// What a pointer-holding local points to: `0x55… (len 5, capacity 5)`, or in
/// the narrow layout the same on short lines.
fn points_to(
    local: &Local,
    block: Option<String>,
    offset: Option<usize>,
    mode: AddressMode,
    narrow: bool,
) -> Option<String> {
    let Target {
        address: target,
        len,
        capacity,
        region,
    } = local.points_to?;
    let dangling = capacity == Some(0);
    // Symbolic and no block: the place itself says what it is.
    let place_says_what = mode == AddressMode::Symbolic && block.is_none();
    let place = match (mode, &block) {
        // No block to name: say what it is instead of printing a raw address.
        (AddressMode::Symbolic, None) if dangling => "dangling".to_string(),
        (AddressMode::Symbolic, None) if region == Region::Unknown => {
            "not in this trace".to_string()
        }
        (AddressMode::Symbolic, None) => region.name().to_string(),
        _ => show(mode, block, target),
    };
    let mut facts = vec![];
    if !place_says_what {
        facts.push(if dangling { "dangling" } else { region.name() }.to_string());
    }
    if let (Some(offset), AddressMode::Real) = (offset, mode) {
        facts.push(format!("at offset {offset}"));
    }
    match (len, capacity) {
        (_, Some(0)) => facts.push("capacity 0, no block".to_string()),
        (Some(len), Some(capacity)) => facts.push(format!("len {len}, capacity {capacity}")),
        (Some(len), None) => facts.push(format!("len {len}")),
        _ => {}
    }
    let detail = facts.join("; ");
    if detail.is_empty() {
        return Some(place);
    }
    Some(if narrow {
        format!(
            "{place}\n{}",
            detail.replace(", ", ",\n").replace("; ", ";\n")
        )
    } else {
        format!("{place} ({detail})")
    })
}

/// The observations table: one column per field name, in order of first use.
pub fn observations(trace: &Trace, settings: Settings) -> Table {
    let mut fields: Vec<&str> = vec![];
    for observation in &trace.observations {
        for (name, _) in &observation.fields {
            if !fields.contains(&&**name) {
                fields.push(name);
            }
        }
    }
    let mut header = vec!["#", "label"];
    header.extend(&fields);
    header.extend(["after event", "line"]);
    let mut table = new_table(settings, &header);
    for (i, observation) in trace.observations.iter().enumerate() {
        let mut row = vec![Cell::new(i + 1), Cell::new(&observation.label)];
        for name in &fields {
            row.push(Cell::new(
                observation
                    .get(name)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            ));
        }
        let after = match observation.after_event {
            0 => "none yet".to_string(),
            n => format!("#{n}"),
        };
        row.extend([Cell::new(after), Cell::new(observation.line)]);
        table.add_row(row);
    }
    let numeric: Vec<usize> = (0..fields.len() + 4).filter(|&i| i != 1).collect();
    align_right(&mut table, &numeric);
    table
}

/// Blocks never freed, apart from blocks the scenario keeps alive on purpose.
pub fn leak_report(trace: &Trace, names: &Names, settings: Settings) -> String {
    let live = trace.live_blocks();
    let noun = trace.source.noun();
    if live.is_empty() {
        let text = format!("Nothing leaked: every block allocated during the {noun} was freed.\n");
        return wrap(&text, settings);
    }
    let mut out = String::new();
    let (kept, leaked): (Vec<LiveBlock>, Vec<LiveBlock>) =
        live.into_iter().partition(|b| b.kept.is_some());
    let bytes =
        |blocks: &[LiveBlock]| -> usize { blocks.iter().map(|b| trace.events[b.event].size).sum() };
    let count = |n: usize| {
        if n == 1 {
            "1 block".to_string()
        } else {
            format!("{n} blocks")
        }
    };
    if leaked.is_empty() {
        out.push_str(&wrap("Nothing leaked.", settings));
    } else if trace.source.program {
        // Memory a program still holds at exit is not always a leak: a
        // static's (stdout's buffer after a `println!`, say) lives until then.
        let when = match trace.stopped {
            true => "was stopped: memlab cannot tell which it would have freed",
            false => "exited (statics live until exit; anything else it never freed)",
        };
        let text = format!(
            "Still allocated when the program {when}: {}, {}:",
            count(leaked.len()),
            self::bytes(bytes(&leaked))
        );
        let _ = writeln!(out, "{}", paint(&wrap(&text, settings), Style::Note));
        let _ = writeln!(out, "{}", live_table(trace, names, &leaked, settings));
    } else {
        let text = format!(
            "Leaked: {}, {}, never freed:",
            count(leaked.len()),
            self::bytes(bytes(&leaked))
        );
        let _ = writeln!(out, "{}", paint(&wrap(&text, settings), Style::Alert));
        let _ = writeln!(out, "{}", live_table(trace, names, &leaked, settings));
    }
    if !kept.is_empty() {
        let text = format!(
            "Alive on purpose (the {noun} keeps them): {}, {}:",
            count(kept.len()),
            self::bytes(bytes(&kept))
        );
        let _ = writeln!(out, "{}", wrap(&text, settings));
        let _ = writeln!(out, "{}", live_table(trace, names, &kept, settings));
    }
    out
}

fn live_table(trace: &Trace, names: &Names, blocks: &[LiveBlock], settings: Settings) -> Table {
    let with_code = settings.width >= CODE_COLUMN_WIDTH;
    let with_name = blocks.iter().any(|b| b.kept.is_some());
    let mut header = vec![];
    if with_name {
        header.push("kept as");
    }
    header.extend(["block\nregion", "size", "from #", "line"]);
    if with_code {
        header.push("code");
    }
    let mut table = new_table(settings, &header);
    for block in blocks {
        let event = &trace.events[block.event];
        let mut row = vec![];
        if let Some(name) = &block.kept {
            row.push(Cell::new(name).fg(Color::Cyan));
        }
        row.extend([
            Cell::new(format!(
                "{}\n{}",
                show(settings.addresses, names.event(block.event), event.address),
                event.region.name()
            )),
            Cell::new(event.size),
            Cell::new(event.seq),
            Cell::new(event.line.map_or("?".to_string(), |l| l.to_string())),
        ]);
        if with_code {
            row.push(Cell::new(code(trace, event.line)));
        }
        table.add_row(row);
    }
    let first = usize::from(with_name);
    align_right(&mut table, &[first + 1, first + 2, first + 3]);
    keep_whole(&mut table, &[first, first + 1, first + 2, first + 3]);
    table
}

/// The summary as a two-column table.
pub fn summary(trace: &Trace, settings: Settings) -> Table {
    let s = trace.summary();
    let mut table = new_table(settings, &[]);
    let rows: [(&str, String); 9] = [
        ("allocator", trace.allocator.name().to_string()),
        ("allocations", s.allocs.to_string()),
        ("reallocations", s.reallocs.to_string()),
        ("deallocations", s.deallocs.to_string()),
        ("bytes requested", bytes(s.bytes_allocated)),
        ("peak live bytes", bytes(s.peak_live_bytes)),
        ("live at the end", bytes(s.live_bytes_at_end)),
        ("lost events", s.lost_events.to_string()),
        ("dropped probes", s.dropped_probes.to_string()),
    ];
    for (name, value) in rows {
        table.add_row(vec![Cell::new(name), Cell::new(value)]);
    }
    align_right(&mut table, &[1]);
    table
}

fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

/// Sentences about anything that limits what the tables show.
fn notes(trace: &Trace) -> Vec<String> {
    let mut notes = vec![];
    if let Some(message) = &trace.panic {
        notes.push(format!(
            "the {} panicked ({message}); the events up to the panic are shown",
            trace.source.noun()
        ));
    }
    if trace.loss.events > 0 {
        let needed = trace.events.len() as u64 + trace.loss.events;
        notes.push(format!(
            "{} events did not fit in the recorder's buffer of {} events per thread, so \
             they are missing from the tables and the summary; run again with \
             --capacity {needed} (or more) to keep them all",
            trace.loss.events, trace.loss.event_capacity
        ));
    }
    if trace.loss.probes > 0 {
        notes.push(format!(
            "{} probes (locals, observations, kept blocks or scope ends) did not fit in the \
             scenario's room for {} of each kind per thread, so they are missing from the \
             tables and diagrams; run again with --probes {} (or more) to keep them all",
            trace.loss.probes, trace.loss.probe_capacity, trace.loss.probes_wanted
        ));
    }
    let unattributed = trace.unattributed();
    if unattributed > 0 && trace.loss.proc_missing {
        notes.push(format!(
            "{} no source line in {}: source lines need /proc/self/maps and \
             /proc/self/exe, which could not be read (is /proc mounted?)",
            events_have(unattributed),
            trace.source.file_name()
        ));
    } else if unattributed > 0 {
        notes.push(format!(
            "{} no source line in {}: {} did not pass through it, or this build has no \
             line tables",
            events_have(unattributed),
            trace.source.file_name(),
            if unattributed == 1 {
                "its call chain"
            } else {
                "their call chains"
            }
        ));
    }
    if trace.loss.proc_missing {
        notes.push(
            "regions are unknown where only the mappings could tell (the stack, the brk heap, \
             the program's statics): they need /proc/self/maps, which could not be read (is \
             /proc mounted?)"
                .to_string(),
        );
    }
    notes
}

/// "1 event has", "3 events have".
fn events_have(n: usize) -> String {
    match n {
        1 => "1 event has".to_string(),
        n => format!("{n} events have"),
    }
}
