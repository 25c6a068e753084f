use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn rc_cycle_leaks_the_strong_pair_and_frees_the_weak_linked_pair() {
    let id = "rc-cycle";
    let trace = run(id);
    assert_eq!(trace.panic, None);
    assert_eq!(
        kinds(&trace.events),
        [&[Kind::Alloc; 4][..], &[Kind::Dealloc; 2]].concat()
    );
    let allocs = &trace.events[..4];
    // Each node: two counts and two RefCell links of 16 bytes each.
    assert!(allocs.iter().all(|e| (e.size, e.align) == (48, 8)));
    let lines: Vec<Option<u32>> = allocs.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [
            Some(line_of(id, "let a = Rc::new(")),
            Some(line_of(id, "let b = Rc::new(")),
            Some(line_of(id, "let parent = Rc::new(")),
            Some(line_of(id, "let child = Rc::new(")),
        ]
    );
    for (name, event) in ["a", "b", "parent", "child"].iter().zip(allocs) {
        assert_eq!(target(&trace, name), event.address + 16, "{name}");
    }

    // The cycle: each node owned twice. The tree: the child twice, the
    // parent once, and watched once by the child's Weak.
    let count = |index: usize, name: &str| observation_at(&trace, index).get(name);
    assert_eq!(count(0, "a"), Some(2));
    assert_eq!(count(0, "b"), Some(2));
    assert_eq!(count(1, "parent"), Some(1));
    assert_eq!(count(1, "child"), Some(2));
    assert_eq!(count(2, "parent"), Some(1));
    assert_eq!(count(2, "child"), Some(0));

    // The end of the first block frees nothing; the end of the second frees
    // both nodes of the tree.
    let end = line_of(id, "} // both blocks are freed here");
    let freed: Vec<usize> = trace.events[4..].iter().map(|e| e.address).collect();
    assert!(trace.events[4..].iter().all(|e| e.line == Some(end)));
    assert!(freed.contains(&allocs[2].address) && freed.contains(&allocs[3].address));

    // Each node's `next` is a field inside its own block, after the two
    // counts, pointing at the other node's value: H1 → H2 and H2 → H1.
    let field = |name: &str, event: usize| {
        let next = local(&trace, name);
        assert!(small_block_region(next.region), "{name} is in its node");
        next.address - allocs[event].address
    };
    let offset = field("a.next", 0);
    assert_eq!(
        field("b.next", 1),
        offset,
        "the same field of the same type"
    );
    assert!((16..48).contains(&offset) && offset % 8 == 0, "{offset}");
    assert_eq!(target(&trace, "a.next"), allocs[1].address + 16);
    assert_eq!(target(&trace, "b.next"), allocs[0].address + 16);
    let cycle = vec![
        ("a.next".to_string(), 1, offset, 2, 16),
        ("b.next".to_string(), 2, offset, 1, 16),
    ];
    assert_eq!(links_after(&trace, "a.next"), cycle);
    // Still there once `a` and `b` are out of scope, and at the end: leaked.
    assert_eq!(links_after(&trace, "a"), cycle);
    use memlab::trace::snapshot::{self, Moment, Snapshot};
    let ids = snapshot::block_ids(&trace.events);
    let end = Snapshot::at(&trace, &ids, Moment::End);
    assert_eq!(end.links.len(), 2);

    // The leak report lists exactly the cycle's two blocks.
    let live = trace.live_blocks();
    let leaked: Vec<(usize, Option<&str>)> =
        live.iter().map(|b| (b.event, b.kept.as_deref())).collect();
    assert_eq!(leaked, [(0, None), (1, None)]);
    assert!(trace.kept.is_empty());
    assert_eq!(trace.summary().live_bytes_at_end, 96);
}

#[test]
fn rc_cycle_json_has_the_cycle_s_links_and_the_fields_where_they_are() {
    let trace = run("rc-cycle");
    let json = memlab::export::json::trace(&trace);
    let hex = |a: usize| format!("{a:#x}");
    let (h1, h2) = (trace.events[0].address, trace.events[1].address);
    // The fields are rows with the block they lie in, not stack slots.
    let row = |name: &str| {
        json["stack"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .clone()
    };
    let offset = local(&trace, "a.next").address - h1;
    assert_eq!(row("a.next")["in_block"], hex(h1));
    assert_eq!(row("a.next")["offset"], offset);
    assert_eq!(row("b.next")["in_block"], hex(h2));
    assert_eq!(row("a")["in_block"], serde_json::Value::Null);
    let region = row("a")["region"].as_str().unwrap().to_string();
    assert!(["stack", "thread-stack"].contains(&&*region), "{region}");
    // Every moment from the first probe of the fields on, the end too, has
    // both links: H1 → H2 and H2 → H1.
    let moments = json["moments"].as_array().unwrap();
    assert_eq!(moments.last().unwrap()["end"], true);
    for moment in moments {
        let links = moment["links"].as_array().unwrap();
        let ends: Vec<(String, u64, String, u64)> = links
            .iter()
            .map(|l| {
                (
                    l["from_block"].as_str().unwrap().to_string(),
                    l["offset"].as_u64().unwrap(),
                    l["to_block"].as_str().unwrap().to_string(),
                    l["to_offset"].as_u64().unwrap(),
                )
            })
            .collect();
        let o = offset as u64;
        assert_eq!(
            ends,
            [(hex(h1), o, hex(h2), 16), (hex(h2), o, hex(h1), 16)],
            "{moment}"
        );
    }
}
