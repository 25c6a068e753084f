//! The facts the batch C scenarios exist to show, asserted on a live run:
//! drop-order, hashmap and over-aligned.

mod common;
use common::*;

use memlab::Kind;
use memlab::Region;

use memlab::trace::Event;

fn sizes(events: &[&Event]) -> Vec<usize> {
    events.iter().map(|e| e.size).collect()
}

#[test]
fn drop_order_frees_locals_in_reverse_fields_in_order_inner_blocks_first() {
    let id = "drop-order";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    let summary = trace.summary();
    assert_eq!(
        (summary.allocs, summary.deallocs, summary.reallocs),
        (10, 10, 0)
    );
    assert_eq!(summary.live_bytes_at_end, 0);
    // Small blocks, allocated on the test's thread: its arena or the brk heap.
    assert!(
        trace
            .events
            .iter()
            .all(|e| matches!(e.region, Region::Heap | Region::Arena))
    );
    let on = |line: u32| -> Vec<&Event> {
        trace
            .events
            .iter()
            .filter(|e| e.line == Some(line))
            .collect()
    };
    // Every dealloc frees a block allocated earlier, with the same size.
    for (i, free) in trace.events.iter().enumerate() {
        if free.kind == Kind::Dealloc {
            let alloc = trace.events[..i]
                .iter()
                .rfind(|e| e.kind == Kind::Alloc && e.address == free.address)
                .unwrap_or_else(|| panic!("dealloc #{} frees no block", free.seq));
            assert_eq!((alloc.size, alloc.align), (free.size, free.align));
        }
    }

    // 1. Locals, declared 10, 20, 30: dropped in reverse order of declaration.
    let locals_end = on(line_of(id, "} // dropped in reverse order"));
    let declared: Vec<&Event> = trace.events.iter().take(3).collect();
    assert!(declared.iter().all(|e| e.kind == Kind::Alloc));
    assert_eq!(sizes(&declared), [10, 20, 30]);
    assert!(locals_end.iter().all(|e| e.kind == Kind::Dealloc));
    assert_eq!(sizes(&locals_end), [30, 20, 10]);

    // 2. Fields: allocated in the literal's order, dropped in declaration order.
    let literal: Vec<&Event> = ["tail: Box::new(", "head: Box::new(", "body: Box::new("]
        .iter()
        .flat_map(|code| on(line_of(id, code)))
        .collect();
    assert_eq!(sizes(&literal), [60, 40, 50]);
    assert!(literal[0].seq < literal[1].seq && literal[1].seq < literal[2].seq);
    let fields = on(line_of(id, "drop(parts);"));
    assert!(fields.iter().all(|e| e.kind == Kind::Dealloc));
    assert_eq!(sizes(&fields), [40, 50, 60]);
    let head = trace.locals.iter().find(|l| l.name == "head").unwrap();
    assert_eq!(head.points_to.unwrap().address, fields[0].address);

    // 3. A Vec of Vecs: three inner blocks (in some order), then the outer one.
    let rows = on(line_of(id, "drop(rows);"));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|e| e.kind == Kind::Dealloc));
    let outer = trace.locals.iter().find(|l| l.name == "rows").unwrap();
    let outer_block = outer.points_to.unwrap().address;
    assert_eq!((rows[3].size, rows[3].align), (3 * 24, 8));
    assert_eq!(
        rows[3].address, outer_block,
        "the outer block is freed last"
    );
    let mut inner = sizes(&rows[..3]);
    inner.sort();
    assert_eq!(inner, [7, 8, 9]);
    // The first inner Vec lives at the start of the outer block.
    let first = trace.locals.iter().find(|l| l.name == "rows[0]").unwrap();
    assert_eq!(first.address, outer_block);
    let first_block = first.points_to.unwrap();
    assert_eq!((first_block.len, first_block.capacity), (Some(7), Some(7)));
    let freed_7 = rows.iter().find(|e| e.size == 7).unwrap();
    assert_eq!(freed_7.address, first_block.address);
}

#[test]
fn hashmap_grows_by_new_tables_freeing_each_old_one() {
    let id = "hashmap";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    let insert_line = line_of(id, "squares.insert(");
    let growing: Vec<&Event> = trace
        .events
        .iter()
        .take_while(|e| e.line == Some(insert_line))
        .collect();
    // No realloc: alloc of the first table, then per growth: alloc new, free old.
    assert!(
        growing.len() >= 7,
        "{} events while inserting",
        growing.len()
    );
    assert_eq!(growing[0].kind, Kind::Alloc);
    let tables: Vec<&Event> = growing
        .iter()
        .copied()
        .filter(|e| e.kind == Kind::Alloc)
        .collect();
    for (i, pair) in growing[1..].chunks(2).enumerate() {
        let [new, old] = pair else {
            panic!("odd number of events: {growing:?}")
        };
        assert_eq!((new.kind, old.kind), (Kind::Alloc, Kind::Dealloc));
        let previous = tables[i];
        assert_eq!((old.address, old.size), (previous.address, previous.size));
        assert!(new.size > previous.size, "tables grow");
        assert_ne!(new.address, previous.address, "both alive at once");
    }
    assert!(tables.iter().all(|t| t.align == 16 || t.align == 8));
    let last = tables.last().unwrap();

    // The observations: capacity 0 before any insert, then one per growth.
    let o = &trace.observations;
    assert_eq!(
        (&*o[0].label, o[0].get("capacity"), o[0].after_event),
        ("new", Some(0), 0)
    );
    let grew: Vec<_> = o.iter().filter(|o| o.label == "grew").collect();
    assert_eq!(grew.len(), tables.len(), "one table per capacity");
    let mut previous = 0;
    for (g, table) in grew.iter().zip(&tables) {
        let (len, capacity) = (g.get("len").unwrap(), g.get("capacity").unwrap());
        assert!(capacity >= len && capacity > previous);
        // The insert that grew the map made this table, and (after the first)
        // freed the old one: the observation comes right after both.
        let made = trace.events[..g.after_event]
            .iter()
            .rfind(|e| e.kind == Kind::Alloc)
            .unwrap();
        assert_eq!(made.seq, table.seq);
        let freed_old = previous > 0;
        assert_eq!(g.after_event, made.seq + usize::from(freed_old));
        previous = capacity;
    }
    assert_eq!(
        grew[0].after_event, 1,
        "the first insert allocates the first table"
    );
    assert_eq!(grew.last().unwrap().get("len"), Some(29));

    // with_capacity(29): one table, no growth; dropped first, then `squares`.
    let rest = &trace.events[growing.len()..];
    assert_eq!(kinds(rest), [Kind::Alloc, Kind::Dealloc, Kind::Dealloc]);
    assert_eq!(
        rest[0].line,
        Some(line_of(id, "HashMap::with_capacity(29)"))
    );
    let reserved = o.iter().find(|o| o.label == "reserved").unwrap();
    assert_eq!(reserved.get("len"), Some(29));
    assert!(reserved.get("capacity").unwrap() >= 29);
    assert_eq!(rest[1].address, rest[0].address);
    assert_eq!((rest[2].address, rest[2].size), (last.address, last.size));
    let end = line_of(id, "} // `reserved`, then `squares`");
    assert!(rest[1..].iter().all(|e| e.line == Some(end)));
    assert_eq!(trace.summary().live_bytes_at_end, 0);
}

#[test]
fn over_aligned_blocks_are_asked_for_align_64_and_always_move_to_grow() {
    let id = "over-aligned";
    // Moving is std's own code on Unix (alloc, copy, free: the old block is
    // still alive when the new one is allocated), not the heap's history;
    // check several runs anyway.
    for _ in 0..3 {
        let trace = run(id);
        assert_eq!(trace.panic, None);
        assert!(
            trace.events.iter().all(|e| e.align == 64),
            "{:?}",
            trace.events
        );
        assert!(trace.events.iter().all(|e| e.address % 64 == 0));
        let box_line = line_of(id, "let boxed = Box::new(");
        let push_line = line_of(id, "lines.push(");
        let end_line = line_of(id, "} // `lines`, then `boxed`");

        let boxed = &trace.events[0];
        assert_eq!(
            (boxed.kind, boxed.size, boxed.line),
            (Kind::Alloc, 64, Some(box_line))
        );
        let local = trace.locals.iter().find(|l| l.name == "boxed").unwrap();
        assert_eq!(local.points_to.unwrap().address, boxed.address);

        let growing: Vec<&Event> = trace.events[1..]
            .iter()
            .take_while(|e| e.line == Some(push_line))
            .collect();
        assert_eq!(growing[0].kind, Kind::Alloc);
        assert_eq!(growing[0].size, 4 * 64, "room for 4 on the first push");
        assert!(growing.len() >= 4);
        for pair in growing.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            assert_eq!(after.kind, Kind::Realloc);
            assert_eq!(after.old, Some((before.address, before.size)));
            assert_eq!(after.size, 2 * before.size);
            #[cfg(unix)]
            assert_eq!(after.moved(), Some(true), "realloc #{}", after.seq);
        }

        let grew = &trace.observations;
        assert_eq!(grew.len(), growing.len());
        for (o, event) in grew.iter().zip(&growing) {
            assert_eq!(o.get("addr % 64"), Some(0));
            assert_eq!(o.get("capacity").unwrap() * 64, event.size);
            assert_eq!(trace.events[o.after_event - 1].seq, event.seq);
        }
        #[cfg(unix)]
        assert_eq!(grew.last().unwrap().get("moves"), Some(growing.len() - 1));

        let rest = &trace.events[1 + growing.len()..];
        assert_eq!(kinds(rest), [Kind::Dealloc, Kind::Dealloc]);
        let last = growing.last().unwrap();
        assert_eq!((rest[0].address, rest[0].size), (last.address, last.size));
        assert_eq!(rest[1].address, boxed.address);
        assert!(rest.iter().all(|e| e.line == Some(end_line)));
    }
}
