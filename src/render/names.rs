//! Stable names for addresses: heap blocks H1, H2, … in order of allocation
//! and stack slots S1, S2, … in order of first probe. The same scenario gets the
//! same names on every run and machine, for slides and for snapshot tests.
//!
//! Names follow blocks, not addresses: a block that `realloc` moves keeps its
//! name, and a new block at a freed block's address gets a new one.

use std::collections::HashMap;

use crate::trace::{Trace, block_containing};

/// How addresses are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AddressMode {
    /// `0x55d0c3a1b2c0`
    #[default]
    Real,
    /// `H1`, `S1`
    Symbolic,
    /// `H1 0x55d0c3a1b2c0`
    Both,
}

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
}

impl Names {
    pub fn new(trace: &Trace) -> Names {
        let events = crate::snapshot::block_ids(&trace.events);
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
        let mut slots = HashMap::new();
        for local in &trace.locals {
            let next = slots.len() + 1;
            slots.entry(local.address).or_insert(next);
        }
        Names {
            events,
            targets,
            slots,
        }
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

/// Formats an address with its name as `mode` asks; unnamed addresses stay real.
pub fn show(mode: AddressMode, name: Option<String>, address: usize) -> String {
    let real = super::address(address);
    match (mode, name) {
        (AddressMode::Symbolic, Some(name)) => name,
        (AddressMode::Both, Some(name)) => format!("{name} {real}"),
        _ => real,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Kind;
    use crate::scenarios;
    use crate::scene::{Local, Target};
    use crate::trace::Event;

    fn event(seq: usize, kind: Kind, address: usize, old: Option<(usize, usize)>) -> Event {
        Event {
            seq,
            kind,
            address,
            size: 8,
            align: 8,
            old,
            line: None,
            region: crate::region::Region::Unknown,
            usable: None,
            thread: "main",
        }
    }

    fn local(address: usize, target: usize, after_event: usize) -> Local {
        Local {
            thread: "main",
            frame: "run",
            name: "x",
            type_name: "Box<u64>",
            address,
            size: 8,
            align: 8,
            region: crate::region::Region::Stack,
            preview: Default::default(),
            points_to: Some(Target {
                address: target,
                len: None,
                capacity: None,
                region: crate::region::Region::Unknown,
            }),
            line: 1,
            after_event,
            mark: (0, 0),
            order: 0,
        }
    }

    #[test]
    fn names_follow_blocks_not_addresses() {
        let trace = Trace {
            scenario: scenarios::find("box").unwrap(),
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
            lost_events: 0,
            capacity: 0,
            panic: None,
        };
        let names = Names::new(&trace);
        let events: Vec<_> = (0..5).map(|i| names.event(i).unwrap()).collect();
        assert_eq!(events, ["H1", "H1", "H2", "H1", "H2"]);
        assert_eq!(names.target(0).as_deref(), Some("H1"));
        assert_eq!(names.target(1).as_deref(), Some("H2"));
        assert_eq!(names.target(2), None);
        assert_eq!(names.slot(0x7000).as_deref(), Some("S1"));
        assert_eq!(names.slot(0x7008).as_deref(), Some("S2"));
        assert_eq!(show(AddressMode::Both, names.event(0), 0x200), "H1 0x200");
        assert_eq!(show(AddressMode::Symbolic, None, 0x200), "0x200");
    }
}
