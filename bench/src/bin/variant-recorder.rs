//! memlab's `Recorder` as the global allocator, in one of three modes:
//! `idle` (installed, no thread recording), `off` (recording without source
//! lines) and `lines` (recording with `Lines::Auto`: the frame-pointer walk
//! in a build with frame pointers).

use memlab::capture::recorder::{self, Recorder};
use memlab::{Lines, Options};
use memlab_bench::{Workload, timed};

#[global_allocator]
static ALLOCATOR: Recorder = Recorder;

fn record(workload: Workload, lines: Lines) -> (u128, Option<u64>) {
    let options = Options {
        capacity: workload.max_events(),
        lines,
        ..Options::default()
    };
    let mut recording = None;
    let nanos = timed(|| recording = Some(recorder::record(options, || workload.run())));
    let recording = recording.expect("recorded");
    if recording.outcome.is_err() || recording.lost() != 0 || recording.events().is_empty() {
        eprintln!(
            "recording failed: {} events lost, {} kept",
            recording.lost(),
            recording.events().len()
        );
        std::process::exit(1);
    }
    (nanos, Some(recording.events().len() as u64))
}

fn main() {
    let run: memlab_bench::Runner = match std::env::args().nth(1).as_deref() {
        Some("idle") => |workload| (timed(|| workload.run()), None),
        Some("off") => |workload| record(workload, Lines::Off),
        Some("lines") => |workload| record(workload, Lines::Auto),
        _ => {
            eprintln!(
                "usage: {} idle|off|lines <workload> <reps>",
                memlab_bench::program()
            );
            std::process::exit(2);
        }
    };
    memlab_bench::main(1, run);
}
