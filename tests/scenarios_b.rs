//! The facts batch B's scenarios exist to show, asserted on a live run:
//! box-dyn, capacity, string-growth and clone-vs-move.

mod common;
use common::*;

use memlab::Kind;
use memlab::Region;

use memlab::trace::Trace;
use memlab::trace::{Local, Observation};

/// The address a pointer-holding local points to.
#[track_caller]
fn target(local: &Local) -> usize {
    local
        .points_to
        .unwrap_or_else(|| panic!("{} points nowhere", local.name))
        .address
}

#[track_caller]
fn observed<'t>(trace: &'t Trace, label: &str) -> &'t Observation {
    trace
        .observations
        .iter()
        .find(|o| o.label == label)
        .unwrap_or_else(|| panic!("no observation {label}"))
}

/// Where a small block may be: glibc's main heap or, since tests run on
/// spawned threads, a thread's arena; never unknown, a stack, a mapping of
/// its own or the program.
fn small_block_region(region: Region) -> bool {
    matches!(region, Region::Heap | Region::Arena)
}

#[test]
fn box_dyn_pointers_to_unsized_values_are_two_words() {
    let id = "box-dyn";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    assert_eq!(
        kinds(&trace.events),
        [[Kind::Alloc; 3], [Kind::Dealloc; 3]].concat()
    );
    let layouts: Vec<(usize, usize)> = trace.events[..3]
        .iter()
        .map(|e| (e.size, e.align))
        .collect();
    // Square (one f64), Rect (two f64s): the dyn Box's block holds only the
    // Rect. Then three u32s for the boxed slice.
    assert_eq!(layouts, [(8, 8), (16, 8), (12, 4)]);
    let lines: Vec<Option<u32>> = trace.events[..3].iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [
            Some(line_of(id, "let square: Box<Square>")),
            Some(line_of(id, "let shape: Box<dyn Shape>")),
            Some(line_of(id, "let numbers: Box<[u32]>")),
        ]
    );
    // Dropped in reverse order of declaration, each block freed as allocated.
    let end = line_of(id, "} // `numbers`, `shape`, then `square`");
    for (free, alloc) in trace.events[3..].iter().zip(trace.events[..3].iter().rev()) {
        assert_eq!((free.address, free.size), (alloc.address, alloc.size));
        assert_eq!(free.line, Some(end));
    }
    for alloc in &trace.events[..3] {
        assert!(small_block_region(alloc.region), "{:?}", alloc.region);
    }

    // A Box of a sized type is one word; pointers to unsized values are two.
    let sizes: Vec<(&str, usize, usize)> = trace
        .locals
        .iter()
        .map(|l| (&*l.name, l.size, l.align))
        .collect();
    assert_eq!(
        sizes,
        [
            ("square", 8, 8),
            ("shape", 16, 8),
            ("(vtable)", 8, 8),
            ("dyn_ref", 16, 8),
            ("(vtable)", 8, 8),
            ("numbers", 16, 8),
            ("text", 16, 8),
        ]
    );
    // Each Box points to its own block: the data pointer is the block's start.
    assert_eq!(target(local(&trace, "square")), trace.events[0].address);
    assert_eq!(target(local(&trace, "shape")), trace.events[1].address);
    assert_eq!(target(local(&trace, "numbers")), trace.events[2].address);
    let text = local(&trace, "text").points_to.unwrap();
    assert_eq!(text.len, Some(5));
    assert!(trace.events.iter().all(|e| e.address != text.address));

    // Through the vtable: each value's method and its size.
    let shape = observed(&trace, "shape");
    assert_eq!(
        (shape.get("area"), shape.get("size_of_val")),
        (Some(12), Some(16))
    );
    let dyn_ref = observed(&trace, "dyn_ref");
    assert_eq!(
        (dyn_ref.get("area"), dyn_ref.get("size_of_val")),
        (Some(1), Some(8))
    );
    let numbers = observed(&trace, "numbers");
    assert_eq!(
        (numbers.get("len"), numbers.get("size_of_val")),
        (Some(3), Some(12))
    );
}

#[test]
fn capacity_reserve_shrink_clear_and_zeroed() {
    let id = "capacity";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    for e in &trace.events {
        assert!(small_block_region(e.region), "#{}: {:?}", e.seq, e.region);
    }
    let events = &trace.events;
    assert_eq!(
        kinds(events),
        [
            Kind::Alloc,       // generous: with_capacity(4)
            Kind::Realloc,     // generous.reserve(1)
            Kind::Alloc,       // exact: with_capacity(4)
            Kind::Realloc,     // exact.reserve_exact(1)
            Kind::Realloc,     // generous.shrink_to_fit()
            Kind::AllocZeroed, // vec![0; 100]
            Kind::Dealloc,
            Kind::Dealloc,
            Kind::Dealloc,
        ]
    );
    let facts: Vec<(usize, usize, Option<u32>)> =
        events.iter().map(|e| (e.size, e.align, e.line)).collect();
    let end = Some(line_of(id, "} // `zeros`, `exact`, then `generous`"));
    assert_eq!(
        facts,
        [
            (32, 8, Some(line_of(id, "let mut generous"))),
            (64, 8, Some(line_of(id, "generous.reserve(1)"))),
            (32, 8, Some(line_of(id, "let mut exact"))),
            (40, 8, Some(line_of(id, "exact.reserve_exact(1)"))),
            (32, 8, Some(line_of(id, "generous.shrink_to_fit()"))),
            (800, 8, Some(line_of(id, "vec![0; 100]"))),
            (800, 8, end),
            (40, 8, end),
            (32, 8, end),
        ]
    );
    // Each realloc starts from the block the Vec had before.
    assert_eq!(events[1].old, Some((events[0].address, 32)));
    assert_eq!(events[3].old, Some((events[2].address, 32)));
    assert_eq!(events[4].old, Some((events[1].address, 64)));
    // Freed: zeros, exact, generous: each the block it last had.
    assert_eq!(events[6].address, events[5].address);
    assert_eq!(events[7].address, events[3].address);
    assert_eq!(events[8].address, events[4].address);
    assert_eq!(trace.summary().live_bytes_at_end, 0);

    let capacity = |label: &str| {
        let o = observed(&trace, label);
        (o.get("len").unwrap(), o.get("capacity").unwrap())
    };
    assert_eq!(capacity("full"), (4, 4));
    assert_eq!(capacity("reserve(1)"), (4, 8), "reserve doubled");
    assert_eq!(capacity("reserve_exact(1)"), (4, 5), "exactly one more");
    assert_eq!(capacity("shrink_to_fit"), (4, 4));
    assert_eq!(capacity("clear"), (0, 4), "clear keeps the capacity");
    // `extend` into room already there, and `clear`, touch no block.
    assert_eq!(observed(&trace, "full").after_event, 1);
    assert_eq!(
        observed(&trace, "clear").after_event,
        observed(&trace, "shrink_to_fit").after_event
    );
    // After clear, `generous` still points to the block shrink_to_fit left.
    let generous: Vec<&Local> = trace
        .locals
        .iter()
        .filter(|l| l.name == "generous")
        .collect();
    assert_eq!(generous.len(), 2);
    let full = generous[0].points_to.unwrap();
    assert_eq!((full.len, full.capacity), (Some(4), Some(4)));
    assert_eq!(target(generous[1]), events[4].address);
    let after_clear = generous[1].points_to.unwrap();
    assert_eq!((after_clear.len, after_clear.capacity), (Some(0), Some(4)));
    let zeros = local(&trace, "zeros").points_to.unwrap();
    assert_eq!(zeros.address, events[5].address);
    assert_eq!((zeros.len, zeros.capacity), (Some(100), Some(100)));
}

#[test]
fn string_growth_grows_like_a_vec_of_bytes() {
    let id = "string-growth";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    for e in &trace.events {
        assert!(small_block_region(e.region), "#{}: {:?}", e.seq, e.region);
    }
    let events = &trace.events;
    let push_str = Some(line_of(id, "text.push_str("));
    let push = Some(line_of(id, "word.push(c)"));
    let reserved = Some(line_of(id, "String::with_capacity(25)"));
    let format = Some(line_of(id, "format!(\"hello, {}!\""));
    let end = Some(line_of(id, "} // all four Strings"));
    let facts: Vec<(Kind, usize, usize, Option<u32>)> = events
        .iter()
        .map(|e| (e.kind, e.size, e.align, e.line))
        .collect();
    assert_eq!(
        facts,
        [
            (Kind::Alloc, 8, 1, push_str),
            (Kind::Realloc, 16, 1, push_str),
            (Kind::Realloc, 32, 1, push_str),
            (Kind::Alloc, 8, 1, push),
            (Kind::Realloc, 16, 1, push),
            (Kind::Alloc, 25, 1, reserved),
            (Kind::Alloc, 16, 1, format),
            (Kind::Dealloc, 16, 1, end),
            (Kind::Dealloc, 25, 1, end),
            (Kind::Dealloc, 16, 1, end),
            (Kind::Dealloc, 32, 1, end),
        ]
    );
    for pair in [(0, 1), (1, 2), (3, 4)] {
        let (before, after) = (&events[pair.0], &events[pair.1]);
        assert_eq!(after.old, Some((before.address, before.size)));
    }
    // Dropped in reverse order of declaration: greeting, reserved, word, text.
    let frees: Vec<usize> = events[7..].iter().map(|e| e.address).collect();
    let last_blocks = [
        events[6].address,
        events[5].address,
        events[4].address,
        events[2].address,
    ];
    assert_eq!(frees, last_blocks);

    let sequence = |label: &str| -> Vec<(usize, usize)> {
        trace
            .observations
            .iter()
            .filter(|o| o.label == label)
            .map(|o| (o.get("len").unwrap(), o.get("capacity").unwrap()))
            .collect()
    };
    // The sequence the String documentation prints (section "Representation").
    assert_eq!(
        sequence("push_str"),
        [(5, 8), (10, 16), (15, 16), (20, 32), (25, 32)]
    );
    let pushes = sequence("push");
    assert_eq!(pushes.len(), 9, "rustacean");
    assert!(pushes[..8].iter().all(|&(_, c)| c == 8), "{pushes:?}");
    assert_eq!(pushes[8], (9, 16));
    assert_eq!(sequence("with_capacity(25)"), [(25, 25)]);
    assert_eq!(sequence("format!"), [(13, 16)], "\"hello, world!\"");

    assert_eq!(local(&trace, "text").size, 24);
    let text = local(&trace, "text").points_to.unwrap();
    assert_eq!(text.capacity, Some(0), "String::new allocates nothing");
    let greeting = local(&trace, "greeting").points_to.unwrap();
    assert_eq!(greeting.address, events[6].address);
    assert_eq!((greeting.len, greeting.capacity), (Some(13), Some(16)));
}

#[test]
fn clone_vs_move_keeps_the_block_on_a_move_and_copies_on_a_clone() {
    let id = "clone-vs-move";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    for e in &trace.events {
        assert!(small_block_region(e.region), "#{}: {:?}", e.seq, e.region);
    }
    let events = &trace.events;
    assert_eq!(
        kinds(events),
        [Kind::Alloc, Kind::Alloc, Kind::Dealloc, Kind::Dealloc]
    );
    let facts: Vec<(usize, usize, Option<u32>)> =
        events.iter().map(|e| (e.size, e.align, e.line)).collect();
    assert_eq!(
        facts,
        [
            (32, 8, Some(line_of(id, "vec![1, 2, 3, 4]"))),
            (32, 8, Some(line_of(id, "owner.clone()"))),
            (32, 8, Some(line_of(id, "} // `numbers` is dropped here"))),
            (32, 8, Some(line_of(id, "} // `copy` is dropped here"))),
        ]
    );
    let (first, cloned) = (events[0].address, events[1].address);
    assert_ne!(first, cloned, "a clone is a second block");
    assert_eq!(events[2].address, first, "the callee frees the moved block");
    assert_eq!(events[3].address, cloned);

    // The move keeps the block; the clone points elsewhere.
    assert_eq!(target(local(&trace, "original")), first);
    assert_eq!(target(local(&trace, "owner")), first);
    assert_eq!(target(local(&trace, "copy")), cloned);
    let numbers = local(&trace, "numbers");
    assert_eq!(numbers.frame, "consume");
    assert_eq!(target(numbers), first);
    for name in ["original", "owner", "copy", "numbers"] {
        let l = local(&trace, name);
        assert_eq!((l.size, l.align), (24, 8), "{name}");
        let t = l.points_to.unwrap();
        assert_eq!((t.len, t.capacity), (Some(4), Some(4)), "{name}");
    }
    // The observation after `consume` returned comes after its free.
    let after = observed(&trace, "after consume");
    assert_eq!(after.after_event, 3);
    assert_eq!(after.get("copy len"), Some(4));
}

#[test]
fn a_trait_objects_second_word_points_into_the_binary() {
    let trace = run("box-dyn");
    let vtables: Vec<_> = trace
        .locals
        .iter()
        .filter(|l| l.name == "(vtable)")
        .collect();
    assert_eq!(vtables.len(), 2, "shape and dyn_ref");
    for vtable in &vtables {
        let target = vtable.points_to.unwrap();
        assert_eq!(target.region, memlab::Region::Static);
        // The vtable word is the second half of its 16-byte pointer.
        let pointer = trace
            .locals
            .iter()
            .find(|l| l.size == 16 && l.address + 8 == vtable.address);
        assert!(pointer.is_some(), "{vtable:?}");
    }
    let (a, b) = (vtables[0].points_to.unwrap(), vtables[1].points_to.unwrap());
    assert_ne!(a.address, b.address, "Rect's vtable and Square's");
}
