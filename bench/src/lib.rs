//! What every variant binary shares: the workloads and the timing loop.
//!
//! A program has exactly one global allocator, fixed when it is linked, so
//! each allocator under test is a binary of its own (`src/bin/variant-*.rs`)
//! that installs it and hands [`main`] a way to run a workload under it. The
//! driver (`src/bin/memlab-bench.rs`) runs those binaries and prints the
//! tables of BENCHMARKS.md.
//!
//! Protocol between a variant and the driver: the driver runs
//! `variant-X [mode] <workload> <reps>`; the variant runs the workload once
//! untimed-for-the-table (a warm-up, reported as `first`), then `reps` times,
//! and prints one line per run: `first|sample <nanoseconds> <events or ->`.

use std::hint::black_box;
use std::time::Instant;

/// A block of memory the size the brief asks for: 32 bytes, align 1.
type Block = [u8; 32];

/// A small struct, boxed by the second workload.
struct Small {
    a: u64,
    b: u32,
}

/// The workloads, all of them in this one compiled library so that every
/// variant runs the same machine code; only the allocator behind it differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `n` times: `Box::new` a 32-byte array, then drop it (2 events each).
    BoxPairs(usize),
    /// Push `pushes` `u64`s one at a time into a `Vec` (one alloc, a realloc
    /// per doubling, one dealloc), then `Box::new` and drop a small struct
    /// `boxes` times.
    VecAndBoxes { pushes: usize, boxes: usize },
}

impl Workload {
    /// Parses `pairs:N` or `vec-box:PUSHES:BOXES`.
    pub fn parse(text: &str) -> Option<Workload> {
        let mut parts = text.split(':');
        let workload = match parts.next()? {
            "pairs" => Workload::BoxPairs(parts.next()?.parse().ok()?),
            "vec-box" => Workload::VecAndBoxes {
                pushes: parts.next()?.parse().ok()?,
                boxes: parts.next()?.parse().ok()?,
            },
            _ => return None,
        };
        parts.next().is_none().then_some(workload)
    }

    /// The argument [`Workload::parse`] reads back.
    pub fn arg(self) -> String {
        match self {
            Workload::BoxPairs(n) => format!("pairs:{n}"),
            Workload::VecAndBoxes { pushes, boxes } => format!("vec-box:{pushes}:{boxes}"),
        }
    }

    /// At least as many allocator events as one run makes: a recording of
    /// this capacity loses none.
    pub fn max_events(self) -> usize {
        match self {
            Workload::BoxPairs(n) => 2 * n,
            // 2 events per box, alloc + dealloc of the Vec, at most one
            // realloc per doubling of its capacity.
            Workload::VecAndBoxes { boxes, .. } => 2 * boxes + 2 + usize::BITS as usize,
        }
    }

    /// Runs the workload once.
    pub fn run(self) {
        match self {
            Workload::BoxPairs(n) => box_pairs(n),
            Workload::VecAndBoxes { pushes, boxes } => vec_and_boxes(pushes, boxes),
        }
    }
}

#[inline(never)]
fn box_pairs(n: usize) {
    for _ in 0..n {
        drop(black_box(Box::new(black_box::<Block>([0; 32]))));
    }
}

#[inline(never)]
fn vec_and_boxes(pushes: usize, boxes: usize) {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..pushes as u64 {
        v.push(black_box(i));
    }
    drop(black_box(v));
    for i in 0..boxes {
        let small = Small {
            a: i as u64,
            b: i as u32,
        };
        let small = black_box(Box::new(black_box(small)));
        black_box((small.a, small.b));
    }
}

/// How a variant runs one workload under its allocator: returns the time the
/// workload took (see [`timed`]) and the number of allocator events it saw,
/// if it counts them.
pub type Runner = fn(Workload) -> (u128, Option<u64>);

/// Nanoseconds `f` takes. A variant times only what the workload costs under
/// its allocator, not setting up or saving a profile.
pub fn timed(f: impl FnOnce()) -> u128 {
    let start = Instant::now();
    f();
    start.elapsed().as_nanos()
}

/// The whole of a variant binary's `main`: reads `<workload> <reps>` from
/// the arguments after `skip` (a mode, for variants that have one), runs the
/// workload once as a warm-up and `reps` times, and prints each run.
pub fn main(skip: usize, run: Runner) {
    let args: Vec<String> = std::env::args().skip(1 + skip).collect();
    let (Some(workload), Some(reps)) = (
        args.first().and_then(|a| Workload::parse(a)),
        args.get(1).and_then(|a| a.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: {} <pairs:N|vec-box:P:B> <reps>", program());
        std::process::exit(2);
    };
    for rep in 0..=reps {
        let (nanos, events) = run(workload);
        let label = if rep == 0 { "first" } else { "sample" };
        match events {
            Some(events) => println!("{label} {nanos} {events}"),
            None => println!("{label} {nanos} -"),
        }
    }
}

/// This program's name, for messages.
pub fn program() -> String {
    std::env::args().next().unwrap_or_default()
}
