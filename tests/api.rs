//! The front door: `memlab::trace` runs any closure, outside memlab's own
//! catalogue, and every view and export reads the trace it returns.

use std::collections::VecDeque;
use std::hint::black_box;

use memlab::lessons::{Query, Value};
use memlab::render::{self, AddressMode, Settings};
use memlab::trace::names::Names;
use memlab::trace::snapshot;
use memlab::{Kind, Options, Source, Trace};

const SETTINGS: Settings = Settings {
    width: 80,
    addresses: AddressMode::Symbolic,
    ascii: false,
};

/// The 1-based line of this file that ends with `snippet` (exactly one).
#[track_caller]
fn line_of(snippet: &str) -> u32 {
    let text = include_str!("api.rs");
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.ends_with(snippet))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{snippet:?}: lines {lines:?}");
    lines[0] as u32
}

fn source() -> Source {
    Source::new("mine", file!())
        .with_title("My own Vec")
        .with_summary("A Vec pushed five times, traced from a test")
        .with_text(include_str!("api.rs"))
}

/// A closure of this file, traced: the kind of thing a user writes.
fn my_vec() -> Trace {
    memlab::trace(source(), Options::default(), |s| {
        let mut numbers: Vec<u32> = Vec::new();
        s.pointer("numbers", &numbers);
        for i in 0..5 {
            numbers.push(black_box(i)); // grows here
            s.observe(
                "push",
                &[("len", numbers.len()), ("capacity", numbers.capacity())],
            );
        }
        s.pointer("numbers", &numbers);
    })
}

#[test]
fn a_closure_outside_the_catalogue_is_traced_with_its_own_lines() {
    let trace = my_vec();
    assert_eq!(trace.panic, None);
    let kinds: Vec<Kind> = trace.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [Kind::Alloc, Kind::Realloc, Kind::Dealloc]);
    let grows = line_of("// grows here");
    assert_eq!(trace.events[0].line, Some(grows));
    assert_eq!(trace.events[1].line, Some(grows));
    assert_eq!(
        trace.source.line(grows),
        Some("numbers.push(black_box(i)); // grows here")
    );
    // The question language asks the same run how many events that line caused.
    let query = Query::parse(&["events", "line", &grows.to_string()]).unwrap();
    assert_eq!(query.evaluate(&trace), Ok(Value::Number(2)));
    let query = Query::parse(&["count", "realloc", "line", &grows.to_string()]).unwrap();
    assert_eq!(query.evaluate(&trace), Ok(Value::Number(1)));
    let past = Query::parse(&["events", "line", "100000"]).unwrap();
    assert!(past.evaluate(&trace).unwrap_err().contains("api.rs has"));
}

#[test]
fn every_view_reads_a_trace_from_outside_the_catalogue() {
    let trace = my_vec();
    let names = Names::new(&trace);
    let grows = line_of("// grows here").to_string();

    let table = render::table::trace(&trace, SETTINGS, false);
    assert!(table.starts_with("mine · My own Vec\n"), "{table}");
    assert!(table.contains("source: tests/api.rs"), "{table}");
    assert!(table.contains("Nothing leaked"), "{table}");

    let listing = render::listing::source(&trace, &names, SETTINGS).join("\n");
    assert!(listing.contains("#1 alloc H1 16 B"), "{listing}");
    assert!(listing.contains("#2 realloc H1 16 → 32 B"), "{listing}");

    let diagram = render::diagram::view(&trace, SETTINGS);
    assert!(
        diagram.contains("mine · My own Vec: memory diagrams"),
        "{diagram}"
    );
    assert!(diagram.contains("H1"), "{diagram}");
    assert!(diagram.contains("len 5 · capacity 8"), "{diagram}");

    let chart = render::chart::view(&trace, SETTINGS);
    assert!(chart.contains("◀ #1 alloc"), "{chart}");
    assert!(chart.contains("◀ #2 realloc"), "{chart}");

    let ids = snapshot::block_ids(&trace.events);
    let step = render::step::frame(&trace, &names, &ids, 1, SETTINGS);
    assert!(step.starts_with("Event 1 of 3 · mine"), "{step}");
    let marked = step
        .lines()
        .find(|l| l.starts_with('▶'))
        .unwrap_or_default();
    assert!(marked.contains(&format!("{grows} │")), "{step}");
    assert!(marked.ends_with("// grows here"), "{step}");

    let json = memlab::export::json::trace(&trace);
    assert_eq!(json["scenario"], "mine");
    assert_eq!(json["title"], "My own Vec");
    assert_eq!(json["events"][0]["file"], "tests/api.rs");
    assert_eq!(json["events"][0]["line"], grows.parse::<u32>().unwrap());
}

#[test]
fn probes_past_the_room_are_counted_and_the_note_says_how_to_keep_them() {
    let observe_300 = |s: &mut memlab::Scene| {
        for i in 0..300 {
            s.observe("tick", &[("i", i)]);
        }
    };
    let trace = memlab::trace(source(), Options::default(), observe_300);
    assert_eq!(trace.observations.len(), 256);
    assert_eq!((trace.loss.probes, trace.loss.probes_wanted), (44, 300));
    assert_eq!(trace.summary().dropped_probes, 44);
    let text = render::table::trace(
        &trace,
        Settings {
            width: 400,
            ..SETTINGS
        },
        false,
    );
    assert!(
        text.contains(
            "note: 44 probes (locals, observations, kept blocks or scope ends) did not fit in \
             the scenario's room for 256 of each kind per thread"
        ),
        "{text}"
    );
    assert!(
        text.contains("run again with --probes 300 (or more)"),
        "{text}"
    );
    let json = memlab::export::json::trace(&trace);
    assert_eq!(json["summary"]["dropped_probes"], 44);

    // With the room the note asks for, nothing is dropped.
    let roomy = Options {
        probes: 300,
        ..Options::default()
    };
    let trace = memlab::trace(source(), roomy, observe_300);
    assert_eq!((trace.observations.len(), trace.loss.probes), (300, 0));
    assert!(!render::table::trace(&trace, SETTINGS, false).contains("probes did not fit"));
}

#[test]
fn a_wrapped_deque_points_into_its_one_block() {
    let trace = memlab::trace(source(), Options::default(), |s| {
        let mut queue: VecDeque<u64> = VecDeque::with_capacity(4);
        queue.extend(black_box([1, 2, 3, 4]));
        queue.pop_front();
        queue.push_back(5); // wraps around to the block's start
        s.pointer("queue", &queue);
    });
    let allocs: Vec<_> = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Alloc)
        .collect();
    assert_eq!(allocs.len(), 1, "{:?}", trace.events);
    let local = &trace.locals[0];
    let target = local.points_to.unwrap();
    assert_eq!((target.len, target.capacity), (Some(4), Some(4)));
    // The lower of its two slices is the block's start once it has wrapped.
    assert_eq!(target.address, allocs[0].address);
    assert_eq!(Names::new(&trace).target(0).as_deref(), Some("H1"));
    assert_eq!(local.preview.text(), "[2, 3, 4, 5]");
}
