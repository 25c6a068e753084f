//! The facts each scenario exists to show, asserted on a live run.
//! (Snapshots in tests/snapshots.rs hold the rendered output.)

mod common;
use common::*;

use memlab::scenarios::SCENARIOS;
use memlab::trace::{Event, Trace};
use memlab::{Kind, Lines, Options};

#[test]
fn every_scenario_runs_cleanly_and_ties_every_event_to_a_line() {
    for scenario in SCENARIOS {
        let trace = scenario.trace(Options::default(), None);
        assert_eq!(trace.panic, None, "{}", scenario.id);
        assert_eq!(trace.loss.events, 0, "{}", scenario.id);
        for event in &trace.events {
            let line = event.line.unwrap_or_else(|| {
                panic!("{}: event #{} has no source line", scenario.id, event.seq)
            });
            assert!(
                scenario.source().line(line).is_some(),
                "{}: line {line} is not in the file",
                scenario.id
            );
        }
    }
}

#[test]
fn frame_pointer_lines_agree_with_the_unwinder() {
    // The fast frame-pointer walk and the backtrace crate's DWARF unwinder are
    // independent ways to find the caller; they must name the same lines.
    for scenario in SCENARIOS {
        let fast = scenario.trace(Options::default(), None);
        let unwind = scenario.trace(
            Options {
                lines: Lines::Unwind,
                ..Options::default()
            },
            None,
        );
        let facts = |t: &Trace| -> Vec<_> {
            t.events
                .iter()
                .map(|e| (e.kind, e.size, e.align, e.line))
                .collect()
        };
        assert_eq!(facts(&fast), facts(&unwind), "{}", scenario.id);
    }
}

#[test]
fn locals_has_no_heap_events_and_nested_frames_sit_lower() {
    let trace = run("locals");
    assert!(trace.events.is_empty(), "{:?}", trace.events);

    let local = |name: &str| {
        trace
            .locals
            .iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("no local {name}"))
    };
    for (name, size, align) in [
        ("small", 1, 1),
        ("count", 4, 4),
        ("big", 8, 8),
        ("ratio", 8, 8),
        ("bytes", 4, 1),
    ] {
        assert_eq!(
            (local(name).size, local(name).align),
            (size, align),
            "{name}"
        );
        assert!(local(name).points_to.is_none());
    }

    let addresses = |frame: &str| -> Vec<usize> {
        let a: Vec<usize> = trace
            .locals
            .iter()
            .filter(|l| l.frame == frame)
            .map(|l| l.address)
            .collect();
        assert!(!a.is_empty(), "no locals in frame {frame}");
        a
    };
    let (run, outer, inner) = (addresses("run"), addresses("outer"), addresses("inner"));
    // The stack grows down: each callee's locals lie below all of its caller's.
    assert!(outer.iter().max() < run.iter().min());
    assert!(inner.iter().max() < outer.iter().min());
}

#[test]
fn box_allocates_once_moves_only_the_pointer_and_frees_the_same_block() {
    let trace = run("box");
    assert_eq!(kinds(&trace.events), [Kind::Alloc, Kind::Dealloc]);
    let (alloc, free) = (&trace.events[0], &trace.events[1]);
    assert_eq!((alloc.size, alloc.align), (32, 8));
    assert_eq!(free.address, alloc.address);
    assert_eq!(alloc.line, Some(line_of("box", "Box::new(")));
    assert_eq!(
        free.line,
        Some(line_of("box", "} // `second` goes out of scope"))
    );

    let [first, second] = trace.locals.as_slice() else {
        panic!("expected two locals: {:?}", trace.locals)
    };
    assert_eq!((&*first.name, &*second.name), ("first", "second"));
    assert_eq!(first.size, 8, "a Box is one pointer");
    assert_ne!(
        first.address, second.address,
        "the move gives a new stack slot"
    );
    let target = |l: &memlab::trace::Local| l.points_to.map(|t| t.address);
    assert_eq!(target(first), Some(alloc.address));
    assert_eq!(
        target(second),
        Some(alloc.address),
        "same heap block after the move"
    );
}

#[test]
fn vec_growth_reallocates_to_each_capacity_it_reports() {
    let trace = run("vec-growth");
    let push_line = line_of("vec-growth", "numbers.push(");
    let reserve_line = line_of("vec-growth", "Vec::with_capacity(33)");
    let end_line = line_of("vec-growth", "} // `reserved`, then `numbers`");
    let events = &trace.events;
    // Growing push by push: one alloc, then reallocs, all on the push line.
    let growing: Vec<&Event> = events
        .iter()
        .take_while(|e| e.line == Some(push_line))
        .collect();
    assert_eq!(growing[0].kind, Kind::Alloc);
    assert!(growing.len() >= 5, "{} events while pushing", growing.len());
    for pair in growing.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        assert_eq!(after.kind, Kind::Realloc);
        // Each growth starts from the block and size the previous event left.
        assert_eq!(after.old, Some((before.address, before.size)));
        assert!(after.size > before.size, "sizes grow");
    }
    let grown = growing.last().unwrap();

    // with_capacity: exactly one allocation of 33 × 8 bytes, then no growth.
    let rest = &events[growing.len()..];
    assert_eq!(kinds(rest), [Kind::Alloc, Kind::Dealloc, Kind::Dealloc]);
    assert_eq!((rest[0].size, rest[0].line), (33 * 8, Some(reserve_line)));
    // Locals drop in reverse order of declaration: `reserved`, then `numbers`.
    assert_eq!(rest[1].address, rest[0].address);
    assert_eq!(rest[2].address, grown.address);
    assert!(rest[1..].iter().all(|e| e.line == Some(end_line)));

    // One observation per push; whenever capacity changed, exactly one heap event
    // happened during that push, and its size is the new capacity in bytes.
    assert_eq!(trace.observations.len(), 33);
    let mut previous = (0, 0); // (capacity, events so far)
    for (i, o) in trace.observations.iter().enumerate() {
        let (len, capacity) = (o.get("len").unwrap(), o.get("capacity").unwrap());
        assert_eq!(len, i + 1);
        assert!(capacity >= len);
        if capacity == previous.0 {
            assert_eq!(o.after_event, previous.1, "push {len} touched the heap");
        } else {
            assert_eq!(o.after_event, previous.1 + 1, "push {len}");
            assert_eq!(events[o.after_event - 1].size, capacity * 8, "push {len}");
        }
        previous = (capacity, o.after_event);
    }
}

#[test]
fn string_drop_frees_every_block_strings_before_their_vec() {
    let trace = run("string-drop");
    let summary = trace.summary();
    assert_eq!(summary.allocs, summary.deallocs);
    assert_eq!(summary.live_bytes_at_end, 0);
    assert_eq!(summary.reallocs, 0);

    let blocks: Vec<usize> = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Alloc)
        .map(|e| e.size)
        .collect();
    assert_eq!(
        blocks,
        [5, 72, 3, 5, 5],
        "hello; 3 × 24-byte headers; ada, grace, linus"
    );

    let local = |name: &str| trace.locals.iter().find(|l| l.name == name).unwrap();
    assert_eq!(local("greeting").size, 24, "pointer, length, capacity");
    assert_eq!(local("literal").size, 16, "pointer, length");
    let greeting = local("greeting").points_to.unwrap();
    assert_eq!((greeting.len, greeting.capacity), (Some(5), Some(5)));
    let heap: Vec<usize> = trace.events.iter().map(|e| e.address).collect();
    let literal = local("literal").points_to.unwrap().address;
    assert!(!heap.contains(&literal), "a literal is not a heap block");

    // Dropping the Vec frees each String's bytes, then the Vec's own block.
    let names = local("names").points_to.unwrap().address;
    let frees: Vec<&Event> = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Dealloc)
        .collect();
    assert_eq!(frees.last().unwrap().address, names);
    let drop_line = line_of("string-drop", "drop(names)");
    assert!(frees[1..].iter().all(|e| e.line == Some(drop_line)));
}

#[test]
fn raw_alloc_gets_each_layout_and_frees_with_the_same_one() {
    let trace = run("raw-alloc");
    let id = "raw-alloc";
    assert_eq!(
        kinds(&trace.events),
        [[Kind::Alloc; 4], [Kind::Dealloc; 4]].concat()
    );
    let (allocs, frees) = trace.events.split_at(4);
    let expected = [
        ((8, 8), "unsafe { alloc(word) }", "dealloc(word_ptr, word)"),
        (
            (64, 8),
            "unsafe { alloc(bytes) }",
            "dealloc(bytes_ptr, bytes)",
        ),
        ((40, 4), "unsafe { alloc(array) }", "dealloc(array_ptr"),
        (
            (64, 64),
            "unsafe { alloc(line) }",
            "dealloc(line_ptr, line)",
        ),
    ];
    for (i, (layout, alloc_code, free_code)) in expected.into_iter().enumerate() {
        let (alloc, free) = (&allocs[i], &frees[i]);
        assert_eq!((alloc.size, alloc.align), layout, "alloc #{}", alloc.seq);
        assert_eq!((free.size, free.align), layout, "dealloc #{}", free.seq);
        assert_eq!(free.address, alloc.address, "freed with the same address");
        assert_eq!(alloc.address % alloc.align, 0, "alloc #{}", alloc.seq);
        assert_eq!(alloc.line, Some(line_of(id, alloc_code)));
        assert_eq!(free.line, Some(line_of(id, free_code)));

        // What the scenario observed of each layout matches its event.
        let o = &trace.observations[i];
        assert_eq!(
            (o.get("size"), o.get("align")),
            (Some(layout.0), Some(layout.1))
        );
        assert_eq!(o.get("address % align"), Some(0), "{}", o.label);
    }
    assert_eq!(allocs[3].address % 64, 0, "the over-aligned block");
    assert_eq!(trace.summary().live_bytes_at_end, 0);
}

#[test]
fn alignment_pads_repr_c_and_over_aligns_on_stack_and_heap() {
    let trace = run("alignment");
    let local = |name: &str| {
        let l = trace.locals.iter().find(|l| l.name == name).unwrap();
        (l.size, l.align)
    };
    assert_eq!(
        local("mixed_c"),
        (12, 4),
        "repr(C): declaration order, padded"
    );
    // Today's compiler reorders the default-repr struct into 8 bytes; the Rust
    // Reference guarantees no layout for it, so this is an observation, not a rule.
    assert_eq!(local("mixed"), (8, 4));
    assert_eq!(local("pair"), (16, 8));
    assert_eq!(local("line"), (64, 64));

    let observed = |label: &str| {
        trace
            .observations
            .iter()
            .find(|o| o.label == label)
            .unwrap_or_else(|| panic!("no observation {label}"))
    };
    let offsets = |label: &str, fields: &[&str]| -> Vec<usize> {
        let o = observed(label);
        fields.iter().map(|f| o.get(f).unwrap()).collect()
    };
    assert_eq!(offsets("MixedC", &["a", "b", "c"]), [0, 4, 8]);
    // Default repr: whatever the order, each field is aligned and inside the value.
    let mixed = offsets("Mixed", &["a", "b", "c"]);
    for (offset, (size, align)) in mixed.iter().zip([(1, 1), (4, 4), (2, 2)]) {
        assert_eq!(offset % align, 0, "{mixed:?}");
        assert!(offset + size <= 8, "{mixed:?}");
    }
    let pair = offsets("(u8, u64)", &["0", "1"]);
    assert_eq!(pair[1] % 8, 0, "{pair:?}");
    assert_ne!(pair[0], pair[1]);

    // The over-aligned Box: the allocator is asked for align 64, and honours it.
    assert_eq!(kinds(&trace.events), [Kind::Alloc, Kind::Dealloc]);
    let (alloc, free) = (&trace.events[0], &trace.events[1]);
    assert_eq!((alloc.size, alloc.align), (64, 64));
    assert_eq!(alloc.address % 64, 0);
    assert_eq!(free.address, alloc.address);
    assert_eq!(alloc.line, Some(line_of("alignment", "Box::new(")));
    let boxed = trace.locals.iter().find(|l| l.name == "boxed").unwrap();
    assert_eq!(boxed.points_to.map(|t| t.address), Some(alloc.address));
    assert_eq!(observed("boxed").get("addr % 64"), Some(0));
    assert_eq!(observed("line").get("addr % 64"), Some(0));
}

#[test]
fn leaks_leave_every_block_live_at_the_end() {
    let trace = run("leaks");
    let summary = trace.summary();
    assert_eq!(summary.deallocs, 0, "nothing is ever freed");
    assert!(summary.live_bytes_at_end > 0);

    // The leaked blocks: the Box's [u32; 4], the String's 9 bytes, and the two
    // Rc nodes (two counts and a RefCell<Option<Rc<Node>>>: 32 bytes each).
    let live: Vec<(usize, usize)> = trace.events.iter().map(|e| (e.size, e.align)).collect();
    assert_eq!(kinds(&trace.events), [Kind::Alloc; 4]);
    assert_eq!(live, [(16, 4), (9, 1), (32, 8), (32, 8)]);
    assert_eq!(summary.live_bytes_at_end, 16 + 9 + 32 + 32);
    let lines: Vec<Option<u32>> = trace.events.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [
            Some(line_of("leaks", "Box::leak(")),
            Some(line_of("leaks", "String::from(")),
            Some(line_of("leaks", "let a = Rc::new(")),
            Some(line_of("leaks", "let b = Rc::new(")),
        ]
    );

    let target = |name: &str| {
        let l = trace.locals.iter().find(|l| l.name == name).unwrap();
        l.points_to.unwrap().address
    };
    assert_eq!(target("primes"), trace.events[0].address);
    assert_eq!(target("name"), trace.events[1].address);

    let counts = |label: &str| {
        let o = trace
            .observations
            .iter()
            .find(|o| o.label == label)
            .unwrap();
        (o.get("a strong"), o.get("b strong"))
    };
    assert_eq!(counts("cycle"), (Some(2), Some(2)));
    assert_eq!(counts("dropped"), (Some(1), Some(1)), "never reaches 0");
}

#[test]
fn recursion_puts_each_call_one_frame_lower() {
    let trace = run("recursion");
    assert!(trace.events.is_empty(), "{:?}", trace.events);

    let addresses: Vec<usize> = trace.locals.iter().map(|l| l.address).collect();
    assert_eq!(addresses.len(), 4);
    assert!(
        trace
            .locals
            .iter()
            .all(|l| (&*l.frame, &*l.name) == ("depth", "here"))
    );
    // Each call's local lies below its caller's, by the same frame size.
    let strides: Vec<usize> = addresses
        .windows(2)
        .map(|w| {
            assert!(w[1] < w[0], "{addresses:x?}");
            w[0] - w[1]
        })
        .collect();
    assert!(strides.iter().all(|&d| d == strides[0]), "{strides:?}");

    assert_eq!(trace.observations.len(), 4);
    for (i, o) in trace.observations.iter().enumerate() {
        assert_eq!(o.get("depth"), Some(i + 1));
        let below = o.get("bytes below caller");
        assert_eq!(below, (i > 0).then_some(strides[0]), "depth {}", i + 1);
    }
}

#[test]
fn the_leak_report_separates_leaks_from_blocks_kept_on_purpose() {
    let trace = run("leaks");
    let live = trace.live_blocks();
    let size = |b: &memlab::trace::LiveBlock| trace.events[b.event].size;
    let leaked: Vec<usize> = live.iter().filter(|b| b.kept.is_none()).map(size).collect();
    assert_eq!(
        leaked,
        [9, 32, 32],
        "the forgotten String and the two Rc nodes"
    );
    let kept: Vec<_> = live
        .iter()
        .filter_map(|b| Some((b.kept.clone()?, size(b))))
        .collect();
    assert_eq!(kept, [("primes".into(), 16)], "Box::leak, kept on purpose");
    let total: usize = live.iter().map(size).sum();
    assert_eq!(total, trace.summary().live_bytes_at_end);

    for id in ["box", "vec-growth", "string-drop", "raw-alloc", "alignment"] {
        assert_eq!(run(id).live_blocks(), [], "{id} frees everything");
    }
}

#[test]
fn threads_are_recorded_into_one_trace_each_event_tagged() {
    let trace = run("threads");
    let by = |thread: &str| -> Vec<(Kind, usize)> {
        trace
            .events
            .iter()
            .filter(|e| trace.thread_name(e.thread) == thread)
            .map(|e| (e.kind, e.size))
            .collect()
    };
    assert_eq!(
        by("worker"),
        [(Kind::Alloc, 24), (Kind::Dealloc, 24)],
        "vec![10, 20, 30]"
    );
    // The scenario's own thread: the Arc's one block, freed after the join.
    let own = trace.thread_name(trace.events[0].thread);
    assert_ne!(own, "worker");
    assert_eq!(by(own), [(Kind::Alloc, 48), (Kind::Dealloc, 48)]);
    assert_eq!(
        trace.thread_name(trace.events.last().unwrap().thread),
        own,
        "freed after the worker ended"
    );

    let local = |thread: &str, name: &str| {
        trace
            .locals
            .iter()
            .find(|l| trace.thread_name(l.thread) == thread && l.name == name)
            .unwrap_or_else(|| panic!("{thread}: {name}"))
    };
    // Each thread's locals are on its own stack, far apart.
    let (a, b) = (local(own, "here").address, local("worker", "here").address);
    assert!(
        a.abs_diff(b) > 1 << 16,
        "stacks {a:#x} and {b:#x} are close"
    );
    assert_eq!(local("worker", "here").region, memlab::Region::ThreadStack);
    // Both Arcs point to the same value, inside the one shared block.
    let shared = local(own, "shared").points_to.unwrap().address;
    assert_eq!(local("worker", "mine").points_to.unwrap().address, shared);
    let block = &trace.events[0];
    assert!((block.address..block.address + block.size).contains(&shared));
    assert_eq!(trace.observations[0].get("strong count"), Some(1));
    // The observation made after the join comes after the worker's events.
    assert_eq!(trace.observations[0].after_event, 3);
}

#[test]
fn big_data_boxes_two_ways_and_survives_a_stack_overflow() {
    let trace = run("big-data");
    let allocs: Vec<(Kind, usize)> = trace
        .events
        .iter()
        .filter(|e| e.kind != Kind::Dealloc)
        .map(|e| (e.kind, e.size))
        .collect();
    // vec![0; n] asks for zeroed memory; Box::new copies an array already built.
    assert_eq!(
        allocs,
        [
            (Kind::AllocZeroed, 1 << 20),
            (Kind::Alloc, 1 << 16),
            (Kind::AllocZeroed, 1 << 16)
        ]
    );
    assert_eq!(trace.live_blocks(), [], "everything is freed");
    let observed = |label: &str, field: &str| {
        trace
            .observations
            .iter()
            .find(|o| o.label == label)
            .and_then(|o| o.get(field))
    };
    // Rust's documented default for spawned threads: 2 MiB.
    assert_eq!(observed("worker's stack", "KiB"), Some(2048));
    // The child that recursed without end was killed by SIGABRT (6).
    assert_eq!(observed("overflow in a child", "signal"), Some(6));
    // The observation made after the join comes after the worker's.
    let labels: Vec<&str> = trace.observations.iter().map(|o| &*o.label).collect();
    assert_eq!(labels, ["worker's stack", "overflow in a child"]);
}
