use crate::helpers::*;

use memlab::trace::{Kind, Region};

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
    assert_eq!(target(&trace, "square"), trace.events[0].address);
    assert_eq!(target(&trace, "shape"), trace.events[1].address);
    assert_eq!(target(&trace, "numbers"), trace.events[2].address);
    let text = local(&trace, "text").points_to.unwrap();
    assert_eq!(text.len, Some(5));
    assert!(trace.events.iter().all(|e| e.address != text.address));

    // Through the vtable: each value's method and its size.
    let shape = observation(&trace, "shape");
    assert_eq!(
        (shape.get("area"), shape.get("size_of_val")),
        (Some(12), Some(16))
    );
    let dyn_ref = observation(&trace, "dyn_ref");
    assert_eq!(
        (dyn_ref.get("area"), dyn_ref.get("size_of_val")),
        (Some(1), Some(8))
    );
    let numbers = observation(&trace, "numbers");
    assert_eq!(
        (numbers.get("len"), numbers.get("size_of_val")),
        (Some(3), Some(12))
    );
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
        assert_eq!(target.region, Region::Static);
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
