use crate::helpers::*;

use memlab::trace::{Event, Kind};

/// The size of each of a selection of events.
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
    assert!(trace.events.iter().all(|e| small_block_region(e.region)));
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
    assert_eq!(target(&trace, "head"), fields[0].address);

    // 3. A Vec of Vecs: three inner blocks (in some order), then the outer one.
    let rows = on(line_of(id, "drop(rows);"));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|e| e.kind == Kind::Dealloc));
    let outer_block = target(&trace, "rows");
    assert_eq!((rows[3].size, rows[3].align), (3 * 24, 8));
    assert_eq!(
        rows[3].address, outer_block,
        "the outer block is freed last"
    );
    let mut inner = sizes(&rows[..3]);
    inner.sort();
    assert_eq!(inner, [7, 8, 9]);
    // The first inner Vec lives at the start of the outer block.
    let first = local(&trace, "rows[0]");
    assert_eq!(first.address, outer_block);
    let first_block = first.points_to.unwrap();
    assert_eq!((first_block.len, first_block.capacity), (Some(7), Some(7)));
    let freed_7 = rows.iter().find(|e| e.size == 7).unwrap();
    assert_eq!(freed_7.address, first_block.address);
}
