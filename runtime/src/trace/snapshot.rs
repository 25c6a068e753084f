//! Memory at one moment of a trace: the stack slots probed so far and the heap
//! blocks allocated so far, each with what is known of it at that moment.
//! Diagrams (`render::diagram`) draw these; nothing here prints.
//!
//! Everything here is read off the trace or follows from a rule of the
//! language, never guessed:
//! - a block's address, size and whether it is freed come from its events;
//! - a slot shows what its last probe saw; a later probe of the same slot
//!   replaces it;
//! - a local whose block has been freed is gone: safe Rust has no live
//!   pointer to freed memory (a `Box`, `Vec` or `String` frees its block only
//!   when dropped, and borrows cannot outlive what they borrow);
//! - of two owners (`Box`, `Vec`, `String`) of one block, the one probed
//!   first has been moved from: a block has exactly one owner;
//! - an owner (`Box`, `Vec`, `String`) probed with no block whose next probe
//!   finds it owning block B shows B from the event that made B, when B was
//!   made after the first probe, every heap event between the two probes
//!   was B's, each on a line that calls a method on the slot by its name
//!   (`numbers.push(i)`), and no other probe in between pointed into B: the
//!   later probe shows the slot owns B, the heap saw only B being made and
//!   grown, and it was the slot's own value that did it, not a value moved
//!   into the slot later (vec-growth's `numbers` shows its block from
//!   `#1 alloc` on, not only from its second probe);
//! - a block's len, capacity and first elements are shown only at the moment
//!   of the probe that read them, when nothing since can have changed them;
//! - a probed value whose own address lies inside a live heap block is a
//!   field of that block, not a stack slot (a `String` header in a `Vec`'s
//!   block, an `Rc` node's `next`): when it points into another block, the
//!   snapshot has a [`Link`] from the field's block and offset to that block.
//!   A link shows what its last probe saw, from that probe on, while both
//!   blocks are live (a block's contents move with it when `realloc` moves
//!   it, so the offset stays true); the end of the run does not end it.

use super::{Event, Kind, Local, Preview, Region, Thread, Trace, block_containing, field_block};

/// Whether `line` of Rust calls a method on the variable `name`
/// (`name.push(…)`, `x = name.len()`): `name` is an identifier there,
/// not the end of a longer one, followed by `.` and a method's name.
fn calls_a_method_on(line: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    if name.is_empty() || !name.chars().all(ident) {
        return false;
    }
    let code = line.split("//").next().unwrap_or("");
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + name.len()..];
        !before.is_some_and(|c| ident(c) || c == '.')
            && after
                .strip_prefix('.')
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_alphabetic() || c == '_')
    })
}

/// Most blocks one snapshot shows; freed blocks nothing points to go first.
pub const MAX_BLOCKS: usize = 10;

/// The block each event touched, by event index: blocks are numbered 1, 2, …
/// in order of allocation, and a block `realloc` moves keeps its number.
pub fn block_ids(events: &[Event]) -> Vec<Option<usize>> {
    let mut live: std::collections::HashMap<usize, usize> = Default::default();
    let mut blocks = 0;
    let mut ids = Vec::with_capacity(events.len());
    for event in events {
        let id = match event.kind {
            Kind::Alloc | Kind::AllocZeroed => {
                blocks += 1;
                live.insert(event.address, blocks);
                Some(blocks)
            }
            Kind::Realloc => {
                let old = event.old.map(|(a, _)| a).unwrap_or_default();
                let id = live.remove(&old).unwrap_or_else(|| {
                    blocks += 1;
                    blocks
                });
                live.insert(event.address, id);
                Some(id)
            }
            Kind::Dealloc => live.remove(&event.address),
        };
        ids.push(id);
    }
    ids
}

/// Which moment a snapshot shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// Just after the probes on `thread` up to `order` (see `Local::order`),
    /// the last of them on `line`, taken after `after_event` events; `key`
    /// orders it among other threads' probes (see `Local::key`).
    Probe {
        after_event: usize,
        line: u32,
        thread: Thread,
        key: u64,
        order: usize,
    },
    /// Just after event number `after_event` (1-based), in step-through.
    Event { after_event: usize },
    /// After the scenario returned: its frames are gone.
    End,
}

/// What a probed stack slot holds at the moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotState<'t> {
    /// Not a pointer (or memlab cannot tell what it points to).
    Value,
    /// Points into heap block `block`, `offset` bytes from its start.
    PointsTo { block: usize, offset: usize },
    /// Points outside this trace's heap blocks (static data, the stack), or
    /// dangles on purpose (an empty `Vec`); the local's own target says where.
    Elsewhere,
    /// An owner whose block a later-probed owner holds: moved from.
    MovedTo { name: &'t str },
    /// Its block has been freed, so the local no longer exists.
    Gone { block: usize, freed_at: usize },
    /// The scenario said it went out of scope, on `line`.
    OutOfScope { line: u32 },
}

/// A probed stack slot at the moment.
#[derive(Clone, Debug)]
pub struct Slot<'t> {
    /// Index into `Trace::locals` of the probe shown.
    pub index: usize,
    pub local: &'t Local,
    pub state: SlotState<'t>,
    /// When the slot shows a block its last probe found none in: the later
    /// probe of the slot that found it owning that block (see the rules).
    pub owned_by_later: Option<usize>,
}

/// The slots of one function's frame on one thread, highest address first.
#[derive(Clone, Debug)]
pub struct Frame<'t> {
    pub thread: Thread,
    pub name: &'t str,
    pub slots: Vec<Slot<'t>>,
}

/// What a probe taken at this very moment read from a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Contents {
    pub len: Option<usize>,
    pub capacity: Option<usize>,
    pub preview: Preview,
}

/// A heap block at the moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block<'t> {
    /// Its number: `H{id}` in symbolic names.
    pub id: usize,
    /// Index into `Trace::events` of the last event that touched it so far.
    pub last_event: usize,
    /// Address and requested size, as the last alloc or realloc left them.
    pub address: usize,
    pub size: usize,
    pub usable: Option<usize>,
    pub region: Region,
    /// Sequence number of the event that freed it, if it is freed.
    pub freed_at: Option<usize>,
    /// Read by a probe taken at this moment.
    pub contents: Option<Contents>,
    /// Touched by the event the moment follows (step-through).
    pub current: bool,
    /// At the end: the name the scenario kept it alive under on purpose.
    pub kept: Option<&'t str>,
    /// At the end: never freed, and not kept on purpose.
    pub leaked: bool,
}

/// A pointer held inside one heap block to another: a field a probe read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link<'t> {
    /// Index into `Trace::locals` of the field's probe.
    pub index: usize,
    /// The block holding the pointer, and how far into it the pointer is.
    pub from_block: usize,
    pub offset: usize,
    /// The block it points into, and how far into it.
    pub to_block: usize,
    pub to_offset: usize,
    /// The probe's name for the field: `names[0]`, `a.next`.
    pub label: &'t str,
}

/// Memory at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot<'t> {
    pub moment: Moment,
    /// Events that happened before the moment.
    pub after_event: usize,
    /// Frames in address order, highest first: the stack grows down.
    pub frames: Vec<Frame<'t>>,
    /// Blocks shown, in order of allocation.
    pub blocks: Vec<Block<'t>>,
    /// Blocks allocated so far but left out (freed, nothing points to them).
    pub hidden: usize,
    /// Pointers from one shown block to another, by field offset.
    pub links: Vec<Link<'t>>,
}

/// The moments worth a diagram: after each group of probes (locals noted, or
/// said to be out of scope), then the end. A group is probes on one thread,
/// on the same or consecutive lines, with no heap event between them.
pub fn moments(trace: &Trace) -> Vec<Moment> {
    let mut probes: Vec<(usize, u64, usize, Thread, u32)> = trace
        .locals
        .iter()
        .map(|l| (l.after_event, l.key, l.order, l.thread, l.line))
        .chain(
            trace
                .scope_ends
                .iter()
                .map(|e| (e.after_event, e.key, e.order, e.thread, e.line)),
        )
        .collect();
    probes.sort_by_key(|&(after_event, key, order, ..)| (after_event, key, order));
    let mut moments: Vec<Moment> = vec![];
    for (after_event, key, order, thread, line) in probes {
        let next = Moment::Probe {
            after_event,
            line,
            thread,
            key,
            order,
        };
        match moments.last_mut() {
            Some(Moment::Probe {
                after_event: a,
                line: l,
                thread: t,
                key: k,
                order: o,
            }) if *a == after_event && *t == thread && (line == *l || line == *l + 1) => {
                (*l, *k, *o) = (line, key, order);
            }
            _ => moments.push(next),
        }
    }
    moments.push(Moment::End);
    moments
}

/// The moment of the last probe that names `name`: the local's last probe,
/// or the scope end that lists it, whichever came later.
pub fn moment_naming(trace: &Trace, name: &str) -> Option<Moment> {
    let locals = trace
        .locals
        .iter()
        .filter(|l| l.name == name)
        .map(|l| (l.after_event, l.key, l.order, l.thread));
    let ends = trace
        .scope_ends
        .iter()
        .filter(|e| e.names(name))
        .map(|e| (e.after_event, e.key, e.order, e.thread));
    let (after_event, key, order, thread) = locals.chain(ends).max()?;
    moments(trace)
        .into_iter()
        .find(|&m| taken_by(m, thread, (after_event, key), order))
}

/// Whether a probe on `thread` with mark key `key` and number `order`, taken
/// after `after_event` events, comes at or before `moment`.
fn taken_by(
    moment: Moment,
    thread: Thread,
    (after_event, key): (usize, u64),
    order: usize,
) -> bool {
    match moment {
        Moment::Probe {
            after_event: a,
            thread: t,
            key: k,
            order: o,
            ..
        } => {
            (after_event, key) < (a, k)
                || ((after_event, key) == (a, k) && thread == t && order <= o)
        }
        Moment::Event { after_event: a } => after_event <= a,
        Moment::End => false,
    }
}

fn is_owner(local: &Local) -> bool {
    let t = &local.type_name;
    t.starts_with("alloc::boxed::Box<")
        || t.starts_with("alloc::vec::Vec<")
        || t == "alloc::string::String"
}

impl<'t> Snapshot<'t> {
    /// Memory at `moment`; `ids` is [`block_ids`] of the trace's events.
    pub fn at(trace: &'t Trace, ids: &[Option<usize>], moment: Moment) -> Snapshot<'t> {
        let events = &trace.events;
        let after_event = match moment {
            Moment::Probe { after_event, .. } | Moment::Event { after_event } => {
                after_event.min(events.len())
            }
            Moment::End => events.len(),
        };

        // Each block's last event so far.
        let mut last: Vec<Option<usize>> = vec![];
        for (i, id) in ids[..after_event].iter().enumerate() {
            if let Some(id) = *id {
                if last.len() < id {
                    last.resize(id, None);
                }
                last[id - 1] = Some(i);
            }
        }
        let freed_at = |id: usize| {
            let i = last.get(id - 1).copied().flatten()?;
            (events[i].kind == Kind::Dealloc).then_some(events[i].seq)
        };

        // The latest probe of each slot taken so far (none once run returned),
        // and of each field of a heap block (kept at the end: blocks outlive
        // the run's frames).
        let mut shown: Vec<usize> = vec![];
        let mut fields: Vec<(usize, (usize, usize))> = vec![]; // (local, (block, offset))
        for (i, local) in trace.locals.iter().enumerate() {
            let taken = |moment| {
                taken_by(
                    moment,
                    local.thread,
                    (local.after_event, local.key),
                    local.order,
                )
            };
            let field = field_block(events, local).and_then(|(e, offset)| Some((ids[e]?, offset)));
            if let Some(field) = field {
                if moment == Moment::End || taken(moment) {
                    fields.retain(|&(j, f)| f != field || trace.locals[j].thread != local.thread);
                    fields.push((i, field));
                }
                continue;
            }
            if !taken(moment) {
                continue;
            }
            shown.retain(|&j| {
                let other = &trace.locals[j];
                (other.thread, other.address) != (local.thread, local.address)
            });
            shown.push(i);
        }
        // Where the scenario said a shown local went out of scope.
        let scope_end = |local: &Local| {
            trace
                .scope_ends
                .iter()
                .filter(|e| taken_by(moment, e.thread, (e.after_event, e.key), e.order))
                .find(|e| {
                    (e.thread, &e.frame) == (local.thread, &local.frame)
                        && e.order > local.order
                        && e.names(&local.name)
                })
        };
        // Whether the scenario probed a local on `thread` after probe `order`.
        let probed_after = |thread: Thread, order: usize| {
            shown.iter().any(|&j| {
                let other = &trace.locals[j];
                other.thread == thread && other.order > order
            })
        };
        // The block each shown local pointed into when probed.
        let target = |local: &Local| {
            let t = local.points_to.filter(|t| t.capacity != Some(0))?;
            let (event, offset) = block_containing(events, local.after_event, t.address)?;
            Some((ids[event]?, offset))
        };
        let source_lines: Vec<&str> = trace.source.text.lines().collect();
        // For an owner probed with no block: its next probe, if that finds
        // it owning block B, and B was made after the first probe and by
        // this moment, and every heap event between the two probes was B's
        // (so no other block, and no other owner's block, came or went), and
        // no other probe in between pointed into B.
        let owned_since = |local: &Local| -> Option<(usize, usize, usize)> {
            if !is_owner(local) {
                return None;
            }
            let (later, next) = trace.locals.iter().enumerate().find(|(_, l)| {
                (l.thread, l.address, &l.name) == (local.thread, local.address, &local.name)
                    && (l.after_event, l.key, l.order) > (local.after_event, local.key, local.order)
            })?;
            let (block, offset) = target(next)?;
            let made = ids.iter().position(|&id| id == Some(block))?;
            let between = local.after_event..next.after_event;
            let only_b = ids
                .get(between.clone())?
                .iter()
                .all(|&id| id == Some(block));
            let others = trace.locals.iter().any(|l| {
                !std::ptr::eq(l, next)
                    && between.contains(&l.after_event)
                    && l.after_event > local.after_event
                    && target(l).is_some_and(|(b, _)| b == block)
            });
            // And each of those events is on a line that calls a method on
            // the slot by its name (`numbers.push(i)`): the slot's own value
            // made and grew B, not a value moved into it later.
            let on_the_slot = events[between.clone()].iter().all(|e| {
                e.line
                    .and_then(|n| source_lines.get((n as usize).checked_sub(1)?))
                    .is_some_and(|text| calls_a_method_on(text, &local.name))
            });
            (between.contains(&made)
                && made < after_event
                && only_b
                && on_the_slot
                && !others
                && freed_at(block).is_none())
            .then_some((later, block, offset))
        };
        let mut slots: Vec<Slot<'t>> = shown
            .iter()
            .filter_map(|&index| {
                let local = &trace.locals[index];
                // No block when probed, but the slot's next probe finds it
                // owning one made since and certainly its own: shown from
                // the event that made it.
                let later = match (local.points_to, scope_end(local)) {
                    (Some(t), None) if t.capacity == Some(0) => owned_since(local),
                    _ => None,
                };
                if let Some((later, block, offset)) = later {
                    return Some(Slot {
                        index,
                        local,
                        state: SlotState::PointsTo { block, offset },
                        owned_by_later: Some(later),
                    });
                }
                let state = match (scope_end(local), local.points_to, target(local)) {
                    // A local that went out of scope is shown until the
                    // scenario probes something after that on its thread.
                    (Some(end), ..) if probed_after(end.thread, end.order) => return None,
                    (Some(end), ..) => SlotState::OutOfScope { line: end.line },
                    (None, None, _) => SlotState::Value,
                    (None, Some(_), None) => SlotState::Elsewhere,
                    (None, Some(_), Some((block, offset))) => match freed_at(block) {
                        Some(freed_at) => SlotState::Gone { block, freed_at },
                        None => SlotState::PointsTo { block, offset },
                    },
                };
                Some(Slot {
                    index,
                    local,
                    state,
                    owned_by_later: None,
                })
            })
            .collect();
        // Of two owners of one block, the first probed was moved from, into
        // the next owner probed.
        for a in 0..slots.len() {
            let SlotState::PointsTo { block, offset: 0 } = slots[a].state else {
                continue;
            };
            if !is_owner(slots[a].local) {
                continue;
            }
            let later = slots[a + 1..]
                .iter()
                .find(|b| is_owner(b.local) && b.state == SlotState::PointsTo { block, offset: 0 });
            if let Some(b) = later {
                slots[a].state = SlotState::MovedTo {
                    name: &b.local.name,
                };
            }
        }

        // Frames: slots grouped by thread and function, highest address first.
        let mut frames: Vec<Frame<'t>> = vec![];
        for slot in slots {
            let key = (slot.local.thread, &*slot.local.frame);
            match frames.iter_mut().find(|f| (f.thread, f.name) == key) {
                Some(frame) => frame.slots.push(slot),
                None => frames.push(Frame {
                    thread: key.0,
                    name: key.1,
                    slots: vec![slot],
                }),
            }
        }
        for frame in &mut frames {
            frame
                .slots
                .sort_by_key(|s| std::cmp::Reverse(s.local.address));
        }
        let top = |f: &Frame| f.slots.iter().map(|s| s.local.address).max();
        frames.sort_by_key(|f| std::cmp::Reverse(top(f)));

        // Links: fields pointing into a block, while both blocks live.
        let mut links: Vec<Link<'t>> = fields
            .iter()
            .filter_map(|&(index, (from_block, offset))| {
                let local = &trace.locals[index];
                let (to_block, to_offset) = target(local)?;
                (freed_at(from_block).is_none() && freed_at(to_block).is_none()).then_some(Link {
                    index,
                    from_block,
                    offset,
                    to_block,
                    to_offset,
                    label: &local.name,
                })
            })
            .collect();
        links.sort_by_key(|l| (l.from_block, l.offset));

        // Blocks, with what a probe at this very moment read of them.
        let pointed: Vec<(usize, &Slot)> = frames
            .iter()
            .flat_map(|f| &f.slots)
            .filter_map(|s| match s.state {
                SlotState::PointsTo { block, .. } | SlotState::Gone { block, .. } => {
                    Some((block, s))
                }
                _ => None,
            })
            .collect();
        // Probes that read a block at this moment: slots, then fields. A
        // field's reading is shown only in its own probe's moment (in
        // step-through, until the next event or scope end): a scope end since
        // may have changed what it read (an `Rc`'s counts) with no heap event.
        let own_moments = match (moment, links.is_empty()) {
            (Moment::Probe { .. }, false) => moments(trace),
            _ => vec![],
        };
        let read_at_moment = |local: &Local| match moment {
            Moment::Probe { .. } => {
                own_moments.iter().find(|&&m| {
                    taken_by(m, local.thread, (local.after_event, local.key), local.order)
                }) == Some(&moment)
            }
            Moment::Event { .. } => !trace.scope_ends.iter().any(|e| {
                e.thread == local.thread
                    && e.order > local.order
                    && taken_by(moment, e.thread, (e.after_event, e.key), e.order)
            }),
            Moment::End => false,
        };
        let read: Vec<(usize, &Local)> = pointed
            .iter()
            .filter(|(_, s)| !matches!(s.state, SlotState::Gone { .. }))
            .map(|&(block, s)| (block, s.local))
            .chain(
                links
                    .iter()
                    .map(|l| (l.to_block, &trace.locals[l.index]))
                    .filter(|(_, local)| read_at_moment(local)),
            )
            .collect();
        let live_at_end = moment == Moment::End;
        let mut blocks: Vec<Block<'t>> = vec![];
        for (index, last_event) in last.iter().enumerate() {
            let Some(last_event) = *last_event else {
                continue;
            };
            let id = index + 1;
            // Address and size from the last event that set them.
            let setter = (0..=last_event)
                .rev()
                .find(|&i| ids[i] == Some(id) && events[i].kind != Kind::Dealloc)
                .unwrap_or(last_event);
            let event = &events[setter];
            let freed = freed_at(id);
            let contents = read
                .iter()
                .rev()
                .find(|(b, local)| *b == id && local.after_event == after_event)
                .and_then(|(_, local)| {
                    let target = local.points_to?;
                    Some(Contents {
                        len: target.len,
                        capacity: target.capacity,
                        preview: local.preview,
                    })
                });
            let kept = trace
                .kept
                .iter()
                .find(|k| freed.is_none() && live_at_end && k.address == event.address)
                .map(|k| &*k.name);
            blocks.push(Block {
                id,
                last_event,
                address: event.address,
                size: event.size,
                usable: event.usable,
                region: event.region,
                freed_at: freed,
                contents,
                current: matches!(moment, Moment::Event { .. }) && last_event + 1 == after_event,
                kept,
                leaked: live_at_end && freed.is_none() && kept.is_none(),
            });
        }
        // Keep the picture small: blocks a slot points to and the current
        // one always; then live blocks, oldest first; then freed ones, newest first.
        let total = blocks.len();
        let linked = |id: usize| links.iter().any(|l| l.from_block == id || l.to_block == id);
        let rank = |b: &Block| {
            if b.current || pointed.iter().any(|(id, _)| *id == b.id) || linked(b.id) {
                (0, b.id)
            } else if b.freed_at.is_none() {
                (1, b.id)
            } else {
                (2, usize::MAX - b.id)
            }
        };
        blocks.sort_by_key(rank);
        let must = blocks.iter().take_while(|b| rank(b).0 == 0).count();
        blocks.truncate(MAX_BLOCKS.max(must));
        blocks.sort_by_key(|b| b.id);
        Snapshot {
            moment,
            after_event,
            frames,
            hidden: total - blocks.len(),
            blocks,
            links,
        }
    }

    /// The shown block numbered `id`.
    pub fn block(&self, id: usize) -> Option<&Block<'t>> {
        self.blocks.iter().find(|b| b.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::calls_a_method_on;

    #[test]
    fn a_method_call_on_the_slot_is_told_from_other_mentions() {
        assert!(calls_a_method_on(
            "        numbers.push(black_box(i));",
            "numbers"
        ));
        assert!(calls_a_method_on("v.reserve(8); // grow", "v"));
        // Another variable, a longer name, a field, a comment, no call.
        assert!(!calls_a_method_on("tmp.push(1);", "v"));
        assert!(!calls_a_method_on("numbers2.push(1);", "numbers"));
        assert!(!calls_a_method_on("self.numbers.push(1);", "numbers"));
        assert!(!calls_a_method_on(
            "let x = 1; // numbers.push(1)",
            "numbers"
        ));
        assert!(!calls_a_method_on("numbers = tmp;", "numbers"));
        assert!(!calls_a_method_on("names[0].push('a');", "names[0]"));
    }
}
