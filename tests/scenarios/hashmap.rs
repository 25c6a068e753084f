use crate::helpers::*;

use memlab::trace::{Event, Kind};

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
    let reserved = observation(&trace, "reserved");
    assert_eq!(reserved.get("len"), Some(29));
    assert!(reserved.get("capacity").unwrap() >= 29);
    assert_eq!(rest[1].address, rest[0].address);
    assert_eq!((rest[2].address, rest[2].size), (last.address, last.size));
    let end = line_of(id, "} // `reserved`, then `squares`");
    assert!(rest[1..].iter().all(|e| e.line == Some(end)));
    assert_eq!(trace.summary().live_bytes_at_end, 0);
}
