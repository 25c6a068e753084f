//! Memory diagrams: the stack on the left (frames top to bottom, highest
//! address first, so the stack grows down the page), the heap on the right,
//! and an arrow from each pointer to the block it points into.
//!
//! ```text
//!  Stack (high addresses first)      Heap
//!  ┌─ run ──────────────────┐        ┌─ H1 ─────────────────┐
//!  │ first: Box<[u64; 4]>   ●───────▶ 32 B of 40 reserved   │
//!  │   S1 · 8 B             │        │ [1, 2, 3, 4]         │
//!  └────────────────────────┘        └──────────────────────┘
//! ```
//!
//! A pointer inside a heap block to another block (a field a probe read: a
//! `Vec<String>`'s headers, an `Rc` node's `next`) is a line `+24 a.next` in
//! its block, with its `●` on the block's right border; its arrow runs in a
//! lane right of the heap and ends in a `◀` on the right border of the block
//! it points into.
//!
//! What is drawn comes from [`crate::trace::snapshot`]; this module only lays it out.

use std::fmt::Write as _;

use super::canvas::{Canvas, DOWN, Glyphs, LEFT, RIGHT, Style, UP};
use super::show;
use super::style::paint;
use super::{Settings, short_type};
use crate::trace::Region;
use crate::trace::Trace;
use crate::trace::names::Names;
use crate::trace::snapshot::{self, Block, Moment, SlotState, Snapshot};

/// Widest a panel gets, so wide terminals do not stretch the picture.
const MAX_PANEL: usize = 44;

/// `memlab trace <scenario> --view diagram`: a title, how to read the
/// pictures, then every moment's diagram.
pub fn view(trace: &Trace, settings: Settings) -> String {
    let names = Names::new(trace);
    let source = &trace.source;
    let title = format!("{} · {}: memory diagrams", source.id, source.title);
    let title = super::fill(&title, usize::from(settings.width))
        .lines()
        .map(super::table::heading)
        .collect::<Vec<_>>()
        .join("\n");
    let glyphs = Glyphs::new(settings.ascii);
    let numbers = match &*source.command {
        "" => "the events table".to_string(),
        command => format!("`{command}`"),
    };
    // Fields probed inside heap blocks are drawn as lines of their block.
    let fields = (0..trace.locals.len()).any(|i| names.field_block(i).is_some());
    let fields = match fields {
        true => format!(
            " A line `+N name` in a block is a pointer stored N bytes into it; its arrow, \
             right of the heap, ends at a {head} on the block it points into.",
            head = glyphs.head_left
        ),
        false => String::new(),
    };
    let how = format!(
        "Locals as last probed, in their stack frames, highest address first: the stack \
         grows down the page. Each {dot} is a pointer; its arrow ends at the heap block it \
         points into.{fields} Freed blocks have dashed borders. Event numbers (#) are those \
         of {numbers}.",
        dot = glyphs.dot,
    );
    let how = paint(&super::fill(&how, usize::from(settings.width)), Style::Dim);
    format!("{title}\n{how}\n\n{}", diagrams(trace, &names, settings))
}

/// Every moment's diagram, each under a heading: after each group of probes,
/// then at the end.
pub fn diagrams(trace: &Trace, names: &Names, settings: Settings) -> String {
    let ids = snapshot::block_ids(&trace.events);
    let mut out = String::new();
    for (i, moment) in snapshot::moments(trace).into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let snapshot = Snapshot::at(trace, &ids, moment);
        let _ = writeln!(out, "{}", heading(trace, &snapshot, settings));
        for line in draw(trace, names, &snapshot, settings) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// The diagram of one moment, under its heading.
pub fn at(trace: &Trace, names: &Names, moment: Moment, settings: Settings) -> Vec<String> {
    let ids = snapshot::block_ids(&trace.events);
    let snapshot = Snapshot::at(trace, &ids, moment);
    let mut lines: Vec<String> = heading(trace, &snapshot, settings)
        .lines()
        .map(str::to_string)
        .collect();
    lines.extend(draw(trace, names, &snapshot, settings));
    lines
}

/// What moment a diagram shows, in words.
pub fn heading(trace: &Trace, snapshot: &Snapshot, settings: Settings) -> String {
    let events = match snapshot.after_event {
        0 => "before any heap event".to_string(),
        n => format!("after event #{n} of {}", trace.events.len()),
    };
    let text = match snapshot.moment {
        Moment::Probe { line, .. } => format!("At line {line}, {events}"),
        Moment::Event { .. } => format!("Memory {events}"),
        Moment::End if trace.stopped => format!("When it was stopped, {events}"),
        Moment::End if trace.source.program => {
            format!("At the end, {events}: the program has exited")
        }
        Moment::End => format!("At the end, {events}: the scenario has returned"),
    };
    super::fill(&text, usize::from(settings.width))
        .lines()
        .map(|l| paint(l, Style::Bold))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One diagram, as lines no wider than the settings' width, or than
/// [`super::NARROWEST`] when the width is less: narrower, the panels and
/// lanes have no room (the CLI never asks for less).
pub fn draw(trace: &Trace, names: &Names, snapshot: &Snapshot, settings: Settings) -> Vec<String> {
    let glyphs = Glyphs::new(settings.ascii);
    let width = usize::from(settings.width.max(super::NARROWEST));
    // Lay out with room for one arrow lane, then again if more are needed;
    // links between blocks take one lane each per target, right of the heap.
    let mut lanes = 1;
    let link_lanes = link_groups(snapshot).len();
    loop {
        let layout = Layout::new(width, lanes, link_lanes);
        let picture = Picture::draw(trace, names, snapshot, settings, &glyphs, layout);
        if picture.lanes <= lanes || lanes >= 8 {
            return picture.canvas.lines();
        }
        lanes = picture.lanes;
    }
}

/// Columns of the two panels, the arrows' gutter between them and the
/// links' lanes right of the heap.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// Width of the stack panel, from column 0.
    left: usize,
    /// First column of the heap panel.
    right_start: usize,
    right: usize,
    /// Lanes for links between blocks, right of the heap panel.
    link_lanes: usize,
}

impl Layout {
    fn new(width: usize, lanes: usize, link_lanes: usize) -> Layout {
        let gutter = 4 + 2 * lanes;
        let links = match link_lanes {
            0 => 0,
            n => 1 + 2 * n,
        };
        let available = width.saturating_sub(gutter + links);
        let left = (available / 2).min(MAX_PANEL);
        let right = (available - left).min(MAX_PANEL);
        Layout {
            left,
            right_start: left + gutter,
            right,
            link_lanes,
        }
    }

    /// The gutter column of arrow lane `lane`.
    fn lane(&self, lane: usize) -> usize {
        self.left + 2 + 2 * lane
    }

    /// The heap panel's right border.
    fn right_border(&self) -> usize {
        (self.right_start + self.right).saturating_sub(1)
    }

    /// The column of link lane `lane`, 0 nearest the heap.
    fn link_lane(&self, lane: usize) -> usize {
        self.right_border() + 2 + 2 * lane
    }

    fn width(&self) -> usize {
        match self.link_lanes {
            0 => self.right_start + self.right,
            n => self.link_lane(n - 1) + 1,
        }
    }
}

/// The links of a snapshot grouped by the block they point into, in order
/// of that block: each group is drawn in one lane.
fn link_groups<'s>(snapshot: &'s Snapshot) -> Vec<(usize, Vec<&'s snapshot::Link<'s>>)> {
    let mut groups: Vec<(usize, Vec<&snapshot::Link>)> = vec![];
    for link in &snapshot.links {
        if snapshot.block(link.from_block).is_none() || snapshot.block(link.to_block).is_none() {
            continue;
        }
        match groups.iter_mut().find(|(to, _)| *to == link.to_block) {
            Some((_, links)) => links.push(link),
            None => groups.push((link.to_block, vec![link])),
        }
    }
    groups.sort_by_key(|(to, _)| *to);
    groups
}

struct Picture {
    canvas: Canvas,
    /// Arrow lanes the picture needed.
    lanes: usize,
}

/// A pointer's arrow: from the rows of the slots to the block's row.
struct Arrow {
    sources: Vec<usize>,
    target: usize,
}

impl Picture {
    fn draw(
        trace: &Trace,
        names: &Names,
        snapshot: &Snapshot,
        settings: Settings,
        glyphs: &Glyphs,
        layout: Layout,
    ) -> Picture {
        let mode = settings.addresses;
        let mut canvas = Canvas::new(layout.width());
        let inner = layout.left.saturating_sub(4);
        let stack = match "Stack (high addresses first)" {
            long if long.len() < layout.left => long,
            _ => "Stack",
        };
        canvas.text(0, 1, stack, layout.left, Style::Bold, glyphs);
        canvas.text(
            0,
            layout.right_start + 1,
            "Heap",
            layout.right,
            Style::Bold,
            glyphs,
        );

        // The stack: one box per frame, one or more lines per slot.
        let mut sources: Vec<(usize, usize)> = vec![]; // (block id, row)
        let mut row = 1;
        let threads = trace.threads().len() > 1;
        for frame in &snapshot.frames {
            let top = row;
            row += 1;
            for slot in &frame.slots {
                let local = slot.local;
                let name_row = row;
                let used = canvas.text(row, 2, &local.name, inner, Style::Name, glyphs);
                let kind = format!(": {}", short_type(&local.type_name));
                canvas.text(
                    row,
                    2 + used,
                    &kind,
                    inner - used.min(inner),
                    Style::Plain,
                    glyphs,
                );
                row += 1;
                let place = format!(
                    "{} · {} B",
                    show(mode, names.slot(local.address), local.address),
                    local.size
                );
                let used = canvas.text(row, 4, &place, inner.saturating_sub(2), Style::Dim, glyphs);
                if let Some((text, style)) = slot_state(slot.state, local, snapshot, settings) {
                    // Beside the address when it fits, else on a line of its own.
                    let beside = 4 + used;
                    let text_beside = format!(" · {text}");
                    if beside + text_beside.chars().count() <= inner + 2 {
                        canvas.text(row, beside, &text_beside, inner + 2 - beside, style, glyphs);
                    } else {
                        row += 1;
                        canvas.text(row, 4, &text, inner.saturating_sub(2), style, glyphs);
                    }
                }
                row += 1;
                if let SlotState::PointsTo { block, .. } = slot.state
                    && snapshot.block(block).is_some()
                {
                    sources.push((block, name_row));
                }
            }
            canvas.frame(
                top,
                0,
                layout.left,
                row - top + 1,
                false,
                Style::Dim,
                glyphs,
            );
            let title = if threads {
                format!(" {} · {} ", trace.thread_name(frame.thread), frame.name)
            } else {
                format!(" {} ", frame.name)
            };
            canvas.text(top, 2, &title, inner, Style::Bold, glyphs);
            row += 1;
        }
        if snapshot.frames.is_empty() {
            let message = match snapshot.moment {
                Moment::End => "run has returned: its locals are gone",
                _ => "no locals probed yet",
            };
            let lines = textwrap::wrap(message, inner.max(1));
            canvas.frame(
                row,
                0,
                layout.left,
                lines.len() + 2,
                false,
                Style::Dim,
                glyphs,
            );
            for (i, line) in lines.iter().enumerate() {
                canvas.text(row + 1 + i, 2, line, inner, Style::Dim, glyphs);
            }
        }

        // The heap: one box per block, placed level with its first pointer
        // when there is room, so most arrows run straight across.
        let mut arrows: Vec<Arrow> = vec![];
        let groups = link_groups(snapshot);
        // Rows of each link's source (by link index) and of each block's top line.
        let mut link_rows: Vec<(usize, usize)> = vec![]; // (link index, row)
        let mut block_rows: Vec<(usize, usize)> = vec![]; // (block id, row)
        let mut cursor = 1;
        let column = layout.right_start;
        let inner = layout.right.saturating_sub(4);
        for block in &snapshot.blocks {
            let block_sources: Vec<usize> = sources
                .iter()
                .filter(|(id, _)| *id == block.id)
                .map(|&(_, row)| row)
                .collect();
            let top = match block_sources.first() {
                Some(&first) if first > cursor => first - 1,
                _ => cursor,
            };
            let fields: Vec<(usize, String)> = snapshot
                .links
                .iter()
                .filter(|l| l.from_block == block.id)
                .filter(|l| {
                    groups
                        .iter()
                        .any(|(_, g)| g.iter().any(|g| g.index == l.index))
                })
                .map(|l| (l.index, format!("+{} {}", l.offset, l.label)))
                .collect();
            let texts: Vec<String> = fields.iter().map(|(_, t)| t.clone()).collect();
            let (lines, first_field) = block_lines(trace, block, &texts, inner, glyphs);
            for (i, (index, _)) in fields.iter().enumerate() {
                link_rows.push((*index, top + 1 + first_field + i));
            }
            block_rows.push((block.id, top + 1));
            let height = lines.len() + 2;
            let dashed = block.freed_at.is_some();
            let border = if block.current {
                Style::Highlight
            } else {
                Style::Dim
            };
            canvas.frame(top, column, layout.right, height, dashed, border, glyphs);
            let title = format!(
                " {} ",
                show(mode, Some(format!("H{}", block.id)), block.address)
            );
            canvas.text(top, column + 2, &title, inner, Style::Name, glyphs);
            for (i, (text, style)) in lines.into_iter().enumerate() {
                canvas.text(top + 1 + i, column + 2, &text, inner, style, glyphs);
            }
            if !block_sources.is_empty() {
                arrows.push(Arrow {
                    sources: block_sources,
                    target: top + 1,
                });
            }
            cursor = top + height;
        }
        if snapshot.hidden > 0 {
            let more = match snapshot.hidden {
                1 => "+ 1 more freed block".to_string(),
                n => format!("+ {n} more freed blocks"),
            };
            canvas.text(cursor, column + 1, &more, layout.right, Style::Dim, glyphs);
        }
        let lanes = draw_arrows(&mut canvas, &arrows, layout, glyphs);
        let links: Vec<Arrow> = groups
            .iter()
            .filter_map(|(to, links)| {
                let target = block_rows.iter().find(|(id, _)| id == to)?.1;
                let sources = links
                    .iter()
                    .filter_map(|l| link_rows.iter().find(|(i, _)| *i == l.index))
                    .map(|&(_, row)| row)
                    .collect();
                Some(Arrow { sources, target })
            })
            .collect();
        draw_links(&mut canvas, &links, layout, glyphs);
        Picture { canvas, lanes }
    }
}

/// What a slot's line says after its address, if anything.
fn slot_state(
    state: SlotState,
    local: &crate::trace::Local,
    snapshot: &Snapshot,
    settings: Settings,
) -> Option<(String, Style)> {
    match state {
        SlotState::Value => None,
        SlotState::PointsTo { block, offset } if snapshot.block(block).is_none() => {
            // Not drawn; named as the tables name it (H3+16, or the address).
            let at = local.points_to.map_or(0, |t| t.address);
            let name = show(settings.addresses, Some(format!("H{block}+{offset}")), at);
            Some((format!("{} {name}", settings.to_arrow()), Style::Plain))
        }
        SlotState::PointsTo { offset: 0, .. } => None,
        SlotState::PointsTo { offset, .. } => {
            Some((format!("{} {offset} B in", settings.to_arrow()), Style::Dim))
        }
        SlotState::Elsewhere => {
            let target = local.points_to?;
            let text = if target.capacity == Some(0) && local.after_event < snapshot.after_event {
                // Heap events since: it may have a block by now.
                format!("no block at line {}", local.line)
            } else if target.capacity == Some(0) {
                "dangling: no block".to_string()
            } else if target.region == Region::Unknown {
                format!("{} not in this trace", settings.to_arrow())
            } else {
                let place = match settings.addresses {
                    super::AddressMode::Symbolic => String::new(),
                    _ => format!(" {}", super::address(target.address)),
                };
                format!("{} {}{place}", settings.to_arrow(), target.region.name())
            };
            Some((text, Style::Plain))
        }
        SlotState::MovedTo { name } => Some((format!("moved to `{name}`"), Style::Dim)),
        SlotState::OutOfScope { line } => Some((format!("out of scope (line {line})"), Style::Dim)),
        SlotState::Gone { block, freed_at } => {
            let at = local.points_to.map_or(0, |t| t.address);
            let name = show(settings.addresses, Some(format!("H{block}")), at);
            Some((format!("gone: {name} freed at #{freed_at}"), Style::Dim))
        }
    }
}

/// The lines inside a block's box, and where its `fields` (the links it
/// holds, `+24 a.next`) start among them.
fn block_lines(
    trace: &Trace,
    block: &Block,
    fields: &[String],
    room: usize,
    glyphs: &Glyphs,
) -> (Vec<(String, Style)>, usize) {
    let mut size = format!("{} B", block.size);
    if let Some(usable) = block.usable.filter(|&u| u != block.size) {
        let _ = write!(size, " of {usable} reserved");
    }
    if !matches!(block.region, Region::Heap | Region::Unknown) {
        let _ = write!(size, " · {}", block.region.name());
    }
    if let Some(freed_at) = block.freed_at {
        let freed = format!("freed at #{freed_at}");
        let lines = if size.chars().count() + 3 + freed.len() <= room {
            vec![(format!("{size} · {freed}"), Style::Dim)]
        } else {
            vec![(size, Style::Dim), (freed, Style::Dim)]
        };
        let first = lines.len();
        return (lines, first);
    }
    let mut lines = vec![(size, Style::Plain)];
    if let Some(contents) = block.contents {
        match (contents.len, contents.capacity) {
            (Some(len), Some(capacity)) => {
                lines.push((format!("len {len} · capacity {capacity}"), Style::Plain));
            }
            (Some(len), None) => lines.push((format!("len {len}"), Style::Plain)),
            _ => {}
        }
        let preview = contents.preview;
        if !preview.text().is_empty() {
            let cut = if preview.is_cut() {
                glyphs.ellipsis
            } else {
                ""
            };
            lines.push((format!("{}{cut}", preview.text()), Style::Plain));
        }
    }
    let first_field = lines.len();
    lines.extend(fields.iter().map(|f| (f.clone(), Style::Name)));
    if block.current {
        let event = &trace.events[block.last_event];
        let text = format!("{} #{} {}", glyphs.pointer, event.seq, event.kind.name());
        lines.push((text, Style::Highlight));
    }
    if let Some(name) = block.kept {
        lines.push((format!("kept alive: `{name}`"), Style::Highlight));
    }
    if block.leaked {
        lines.push(("leaked: never freed".to_string(), Style::Alert));
    }
    (lines, first_field)
}

/// Draws the links between blocks in lanes right of the heap panel: from a
/// `●` on the source block's right border at its field's row, right to the
/// lane, along it, and back left to a `◀` on the target block's right border.
/// Lanes nearest the heap go to the links spanning the fewest rows.
fn draw_links(canvas: &mut Canvas, links: &[Arrow], layout: Layout, glyphs: &Glyphs) {
    if links.is_empty() {
        return;
    }
    let border = layout.right_border();
    let start = border + 1;
    let width = layout.width() - start;
    let mut bits: Vec<Vec<u8>> = vec![vec![0; width]; canvas.height().max(1)];
    let span = |a: &Arrow| {
        let rows = a.sources.iter().chain([&a.target]);
        let low = *rows.clone().min().unwrap_or(&0);
        let high = *rows.max().unwrap_or(&0);
        (low, high)
    };
    let mut order: Vec<&Arrow> = links.iter().collect();
    order.sort_by_key(|a| {
        let (low, high) = span(a);
        (high - low, low)
    });
    for (lane, arrow) in order.iter().enumerate() {
        let column = layout.link_lane(lane) - start;
        let (low, high) = span(arrow);
        if bits.len() <= high {
            bits.resize(high + 1, vec![0; width]);
        }
        for &row in arrow.sources.iter().chain([&arrow.target]) {
            for (c, cell) in bits[row].iter_mut().enumerate().take(column + 1) {
                *cell |= LEFT; // the first cell joins the border's ● or ◀
                if c < column {
                    *cell |= RIGHT;
                }
            }
        }
        for (row, cells) in bits.iter_mut().enumerate().take(high + 1).skip(low) {
            let cell = &mut cells[column];
            if row > low {
                *cell |= UP;
            }
            if row < high {
                *cell |= DOWN;
            }
        }
    }
    for (row, cells) in bits.iter().enumerate() {
        for (i, &b) in cells.iter().enumerate() {
            if b != 0 {
                canvas.put(row, start + i, glyphs.line(b), Style::Accent);
            }
        }
    }
    for arrow in links {
        for &source in &arrow.sources {
            canvas.put(source, border, glyphs.dot, Style::Accent);
        }
        canvas.put(arrow.target, border, glyphs.head_left, Style::Accent);
    }
}

/// Draws the arrows in the gutter; returns the lanes they needed. An arrow
/// whose pointers are all level with its block runs straight across; the
/// others turn down or up a lane of their own.
fn draw_arrows(canvas: &mut Canvas, arrows: &[Arrow], layout: Layout, glyphs: &Glyphs) -> usize {
    let start = layout.left; // the first gutter column
    let end = layout.right_start; // the block's border: the arrow head
    let mut bits: Vec<Vec<u8>> = vec![vec![0; end - start]; canvas.height().max(1)];
    let connect = |bits: &mut Vec<Vec<u8>>, row: usize, from: usize, to: usize| {
        // A horizontal run on `row` between two gutter columns.
        if bits.len() <= row {
            bits.resize(row + 1, vec![0; end - start]);
        }
        let (a, b) = (from.min(to), from.max(to));
        for c in a..=b {
            let cell = &mut bits[row][c - start];
            if c > a {
                *cell |= LEFT;
            }
            if c < b {
                *cell |= RIGHT;
            }
        }
    };
    let mut lanes = 0;
    for arrow in arrows {
        let straight = arrow.sources.iter().all(|&s| s == arrow.target);
        if straight {
            connect(&mut bits, arrow.target, start, end - 1);
            bits[arrow.target][0] |= LEFT;
            bits[arrow.target][end - 1 - start] |= RIGHT;
        } else {
            let lane = layout.lane(lanes).min(end - 2);
            lanes += 1;
            for &source in &arrow.sources {
                connect(&mut bits, source, start, lane);
                bits[source][0] |= LEFT;
            }
            connect(&mut bits, arrow.target, lane, end - 1);
            bits[arrow.target][end - 1 - start] |= RIGHT;
            let rows = arrow.sources.iter().chain([&arrow.target]);
            let (low, high) = (*rows.clone().min().unwrap_or(&0), *rows.max().unwrap_or(&0));
            for (row, cells) in bits.iter_mut().enumerate().take(high + 1).skip(low) {
                let cell = &mut cells[lane - start];
                if row > low {
                    *cell |= UP;
                }
                if row < high {
                    *cell |= DOWN;
                }
            }
        }
    }
    for (row, cells) in bits.iter().enumerate() {
        for (i, &b) in cells.iter().enumerate() {
            if b != 0 {
                canvas.put(row, start + i, glyphs.line(b), Style::Accent);
            }
        }
    }
    for arrow in arrows {
        for &source in &arrow.sources {
            canvas.put(source, start - 1, glyphs.dot, Style::Accent);
        }
        canvas.put(arrow.target, end, glyphs.head, Style::Accent);
    }
    lanes
}
