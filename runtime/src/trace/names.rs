//! Stable names for addresses: heap blocks H1, H2, … in order of allocation
//! and stack slots S1, S2, … in order of first probe. The same scenario gets the
//! same names on every run and machine, for slides and for snapshot tests.
//!
//! Names follow blocks, not addresses: a block that `realloc` moves keeps its
//! name, and a new block at a freed block's address gets a new one.

use std::collections::HashMap;

use super::{Trace, block_containing, field_block};

/// The names of one trace's blocks and slots.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Number of the block each event touched, by event index.
    events: Vec<Option<usize>>,
    /// The block each local pointed into when probed, and the offset into it,
    /// by local index.
    targets: Vec<Option<(usize, usize)>>,
    /// Stack slot number by address.
    slots: HashMap<usize, usize>,
    /// For a local that is a field of a heap block (see
    /// [`super::field_block`]), that block and the offset, by local index.
    fields: Vec<Option<(usize, usize)>>,
}

impl Names {
    pub fn new(trace: &Trace) -> Names {
        let events = super::snapshot::block_ids(&trace.events);
        let targets = trace
            .locals
            .iter()
            .map(|local| {
                let target = local.points_to.filter(|t| t.capacity != Some(0))?;
                let (event, offset) =
                    block_containing(&trace.events, local.after_event, target.address)?;
                Some((events[event]?, offset))
            })
            .collect();
        let fields: Vec<Option<(usize, usize)>> = trace
            .locals
            .iter()
            .map(|local| {
                let (event, offset) = field_block(&trace.events, local)?;
                Some((events[event]?, offset))
            })
            .collect();
        let mut slots = HashMap::new();
        for (local, field) in trace.locals.iter().zip(&fields) {
            if field.is_none() {
                let next = slots.len() + 1;
                slots.entry(local.address).or_insert(next);
            }
        }
        Names {
            events,
            targets,
            slots,
            fields,
        }
    }

    /// Where local `index` itself is when it is a field of a heap block:
    /// `H1+24`.
    pub fn field(&self, index: usize) -> Option<String> {
        let (block, offset) = self.field_block(index)?;
        Some(format!("H{block}+{offset}"))
    }

    /// The heap block local `index` is a field of, and its offset there.
    pub fn field_block(&self, index: usize) -> Option<(usize, usize)> {
        self.fields.get(index).copied().flatten()
    }

    /// The block event `index` touched: `H3`.
    pub fn event(&self, index: usize) -> Option<String> {
        self.events
            .get(index)
            .copied()
            .flatten()
            .map(|n| format!("H{n}"))
    }

    /// The block local `index` pointed into when probed, if it was a block of
    /// this trace: `H1`, or `H1+16` for a pointer 16 bytes into it.
    pub fn target(&self, index: usize) -> Option<String> {
        let (block, offset) = self.targets.get(index).copied().flatten()?;
        Some(match offset {
            0 => format!("H{block}"),
            offset => format!("H{block}+{offset}"),
        })
    }

    /// How far into its block local `index` pointed, if it pointed inside one.
    pub fn target_offset(&self, index: usize) -> Option<usize> {
        self.targets
            .get(index)
            .copied()
            .flatten()
            .map(|(_, offset)| offset)
    }

    /// The stack slot at `address`: `S2`.
    pub fn slot(&self, address: usize) -> Option<String> {
        self.slots.get(&address).map(|n| format!("S{n}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Event, Kind, Local, Loss, Region, Source, Target, Thread};

    fn event(seq: usize, kind: Kind, address: usize, old: Option<(usize, usize)>) -> Event {
        Event {
            seq,
            kind,
            address,
            size: 8,
            align: 8,
            old,
            line: None,
            region: Region::Unknown,
            usable: None,
            thread: Thread(0),
        }
    }

    fn local(address: usize, target: usize, after_event: usize) -> Local {
        Local {
            thread: Thread(0),
            frame: "run".into(),
            name: "x".into(),
            type_name: "Box<u64>".into(),
            address,
            size: 8,
            align: 8,
            region: Region::Stack,
            preview: Default::default(),
            points_to: Some(Target {
                address: target,
                len: None,
                capacity: None,
                region: Region::Unknown,
            }),
            line: 1,
            after_event,
            key: 0,
            order: 0,
        }
    }

    #[test]
    fn names_follow_blocks_not_addresses() {
        let trace = Trace {
            source: Source::new("names", file!()),
            events: vec![
                event(1, Kind::Alloc, 0x100, None),
                event(2, Kind::Realloc, 0x200, Some((0x100, 8))), // moved: still H1
                event(3, Kind::Alloc, 0x100, None),               // old address reused: H2
                event(4, Kind::Dealloc, 0x200, None),
                event(5, Kind::Dealloc, 0x100, None),
            ],
            locals: vec![
                local(0x7000, 0x100, 1), // H1 before it moved
                local(0x7008, 0x100, 3), // the new block at the old address
                local(0x7000, 0x100, 5), // freed by then: no name
            ],
            observations: vec![],
            kept: vec![],
            scope_ends: vec![],
            thread_names: vec!["main".into()],
            loss: Loss::default(),
            panic: None,
            stopped: false,
            allocator: Default::default(),
        };
        let names = Names::new(&trace);
        let events: Vec<_> = (0..5).map(|i| names.event(i).unwrap()).collect();
        assert_eq!(events, ["H1", "H1", "H2", "H1", "H2"]);
        assert_eq!(names.target(0).as_deref(), Some("H1"));
        assert_eq!(names.target(1).as_deref(), Some("H2"));
        assert_eq!(names.target(2), None);
        assert_eq!(names.slot(0x7000).as_deref(), Some("S1"));
        assert_eq!(names.slot(0x7008).as_deref(), Some("S2"));
    }

    #[test]
    fn a_value_inside_a_block_is_a_field_of_it_not_a_slot() {
        let mut trace = Trace {
            source: Source::new("fields", file!()),
            events: vec![
                event(1, Kind::Alloc, 0x100, None), // H1: holds the pointer
                event(2, Kind::Alloc, 0x200, None), // H2: what it points to
            ],
            locals: vec![local(0x7000, 0x100, 2), local(0x104, 0x200, 2)],
            observations: vec![],
            kept: vec![],
            scope_ends: vec![],
            thread_names: vec!["main".into()],
            loss: Loss::default(),
            panic: None,
            stopped: false,
            allocator: Default::default(),
        };
        trace.locals[1].region = Region::Heap;
        let names = Names::new(&trace);
        assert_eq!(names.field(0), None);
        assert_eq!(names.field(1).as_deref(), Some("H1+4"));
        assert_eq!(names.target(1).as_deref(), Some("H2"));
        assert_eq!(names.slot(0x104), None, "not numbered as a stack slot");
        // On a stack, an address is never a field, whatever it equals.
        trace.locals[1].region = Region::Stack;
        assert_eq!(Names::new(&trace).field(1), None);

        let ids = crate::trace::snapshot::block_ids(&trace.events);
        trace.locals[1].region = Region::Heap;
        let snap =
            crate::trace::snapshot::Snapshot::at(&trace, &ids, crate::trace::snapshot::Moment::End);
        let links: Vec<_> = snap
            .links
            .iter()
            .map(|l| (l.from_block, l.offset, l.to_block, l.to_offset))
            .collect();
        assert_eq!(links, [(1, 4, 2, 0)]);
    }
}
