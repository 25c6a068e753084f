//! Times memlab's recorder against other global allocators and prints the
//! tables of BENCHMARKS.md (Markdown on stdout, progress on stderr).
//!
//! ```text
//! memlab-bench [--runs N] [--startup-runs N] [--memlab PATH]
//! ```
//!
//! Each variant is a sibling binary (`variant-*`, built by
//! `cargo build --release -p memlab-bench`). One measurement is one fresh
//! process: a warm-up run, then the timed run(s). Rounds interleave the
//! variants, so a slow spell of a shared machine hits all of them alike; the
//! tables show medians over rounds.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use memlab_bench::Workload;

/// One allocator setup: a binary and, for the recorder, its mode; for a
/// peer tool, the command it runs the binary under.
struct Variant {
    label: &'static str,
    binary: &'static str,
    mode: Option<&'static str>,
    /// A tool and its arguments, before the binary (`heaptrack`, valgrind).
    wrapper: &'static [&'static str],
    /// How to install the wrapper's tool, when it is missing.
    install: &'static str,
}

const SYSTEM: Variant = Variant {
    label: "`System` as global allocator",
    binary: "variant-system",
    mode: None,
    wrapper: &[],
    install: "",
};
const DEFAULT: Variant = Variant {
    label: "no `#[global_allocator]` (Rust's default)",
    binary: "variant-default",
    mode: None,
    wrapper: &[],
    install: "",
};
const IDLE: Variant = Variant {
    label: "memlab `Recorder`, not recording",
    binary: "variant-recorder",
    mode: Some("idle"),
    wrapper: &[],
    install: "",
};
const OFF: Variant = Variant {
    label: "memlab recording, `Lines::Off`",
    binary: "variant-recorder",
    mode: Some("off"),
    wrapper: &[],
    install: "",
};
const LINES: Variant = Variant {
    label: "memlab recording, `Lines::Auto` (frame-pointer walk)",
    binary: "variant-recorder",
    mode: Some("lines"),
    wrapper: &[],
    install: "",
};
const STATS_ALLOC: Variant = Variant {
    label: "`stats_alloc` (`StatsAlloc<System>`)",
    binary: "variant-stats-alloc",
    mode: None,
    wrapper: &[],
    install: "",
};
const DHAT: Variant = Variant {
    label: "`dhat` with `Profiler::new_heap()` running",
    binary: "variant-dhat",
    mode: None,
    wrapper: &[],
    install: "",
};

/// The tools a user would reach for instead, each recording every
/// allocation of the same `System` binary, run as a user runs them. The
/// variant times the workload itself, so heaptrack's analysis after the run
/// is not counted; its output goes to a scratch folder.
const HEAPTRACK: Variant = Variant {
    label: "heaptrack 1.4 (`heaptrack`), `System` binary",
    binary: "variant-system",
    mode: None,
    wrapper: &["heaptrack", "--output", "{scratch}/heaptrack"],
    install: "apt-get install heaptrack",
};
const VALGRIND: Variant = Variant {
    label: "valgrind `--trace-malloc=yes` (memcheck), `System` binary",
    binary: "variant-system",
    mode: None,
    wrapper: &[
        "valgrind",
        "-q",
        "--trace-malloc=yes",
        "--log-file=/dev/null",
    ],
    install: "apt-get install valgrind",
};

const VARIANTS: [&Variant; 9] = [
    &SYSTEM,
    &DEFAULT,
    &IDLE,
    &OFF,
    &LINES,
    &STATS_ALLOC,
    &DHAT,
    &HEAPTRACK,
    &VALGRIND,
];

const PAIRS: Workload = Workload::BoxPairs(1_000_000);
const VEC_BOX: Workload = Workload::VecAndBoxes {
    pushes: 1_000_000,
    boxes: 100_000,
};
/// Scale bench sizes, in events (two per pair).
const SCALE_EVENTS: [usize; 3] = [10_000, 100_000, 1_000_000];
/// Timed runs per process in the scale bench.
const SCALE_REPS: usize = 5;

struct Settings {
    runs: usize,
    startup_runs: usize,
    memlab: Option<PathBuf>,
}

/// What the runs of one variant on one workload gave.
#[derive(Default)]
struct Samples {
    /// Each process's warm-up run, in ns.
    first: Vec<u128>,
    /// The timed runs, in ns.
    timed: Vec<u128>,
    /// Events per run, from variants that count them.
    events: Option<u64>,
    /// The wrapper's tool is not installed: nothing was measured.
    missing: bool,
}

fn main() -> ExitCode {
    match parse_args().and_then(|settings| run(&settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("memlab-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<Settings, String> {
    let mut settings = Settings {
        runs: 7,
        startup_runs: 21,
        memlab: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => settings.runs = number(&value()?)?,
            "--startup-runs" => settings.startup_runs = number(&value()?)?,
            "--memlab" => settings.memlab = Some(PathBuf::from(value()?)),
            _ => {
                return Err(format!(
                    "unknown argument {arg}; use: [--runs N] [--startup-runs N] [--memlab PATH]"
                ));
            }
        }
    }
    Ok(settings)
}

fn number(text: &str) -> Result<usize, String> {
    match text.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive number, got {text}")),
    }
}

fn run(settings: &Settings) -> Result<(), String> {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .ok_or("cannot find this program's folder")?;
    let load_before = load_average();

    println!("## Allocator variants\n");
    let workloads = [PAIRS, VEC_BOX];
    let mut results: Vec<Vec<Samples>> = Vec::new();
    for workload in workloads {
        results.push(rounds(&dir, &VARIANTS, workload, 1, settings.runs)?);
    }
    let medians = print_variants(&workloads, &results, settings.runs)?;

    println!("\n## Scale: recording cost by trace length\n");
    let scale_variants = [&SYSTEM, &OFF, &LINES];
    let mut scale = Vec::new();
    for events in SCALE_EVENTS {
        let workload = Workload::BoxPairs(events / 2);
        scale.push(rounds(
            &dir,
            &scale_variants,
            workload,
            SCALE_REPS,
            settings.runs,
        )?);
    }
    print_scale(&scale, settings.runs)?;

    println!("\n## Start-up\n");
    let startup_ms = startup(&dir, settings)?;

    println!("\n## Instructions per event (callgrind)\n");
    let instructions = instructions(&dir)?;

    println!("\n## Targets\n");
    print_targets(&workloads, &medians, startup_ms, instructions.as_deref());

    println!("\n## Machine\n");
    machine(&load_before);
    Ok(())
}

/// Runs `variants` on `workload` in `runs` rounds of one process each,
/// rotating the order every round.
fn rounds(
    dir: &Path,
    variants: &[&Variant],
    workload: Workload,
    reps: usize,
    runs: usize,
) -> Result<Vec<Samples>, String> {
    let mut samples: Vec<Samples> = variants.iter().map(|_| Samples::default()).collect();
    for round in 0..runs {
        eprintln!("{} round {}/{runs}", workload.arg(), round + 1);
        for i in 0..variants.len() {
            let index = (i + round) % variants.len();
            measure(dir, variants[index], workload, reps, &mut samples[index])?;
        }
    }
    Ok(samples)
}

/// One process of `variant` on `workload`: a warm-up, then `reps` timed runs.
fn measure(
    dir: &Path,
    variant: &Variant,
    workload: Workload,
    reps: usize,
    into: &mut Samples,
) -> Result<(), String> {
    if into.missing {
        return Ok(());
    }
    let binary = dir.join(variant.binary);
    if !binary.exists() {
        return Err(format!(
            "{} is missing (build it with `cargo build --release -p memlab-bench`)",
            binary.display()
        ));
    }
    let scratch = std::env::temp_dir().join(format!("memlab-bench-{}", std::process::id()));
    let mut command = match variant.wrapper {
        [] => Command::new(&binary),
        [tool, args @ ..] => {
            std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
            let mut command = Command::new(tool);
            command.args(
                args.iter()
                    .map(|a| a.replace("{scratch}", &scratch.to_string_lossy())),
            );
            command.arg(&binary);
            command
        }
    };
    command
        .args(variant.mode)
        .arg(workload.arg())
        .arg(reps.to_string());
    let output = command.stderr(Stdio::piped()).output();
    let _ = std::fs::remove_dir_all(&scratch);
    let output = match output {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !variant.wrapper.is_empty() => {
            eprintln!(
                "{}: not installed ({}); its row is left empty",
                variant.wrapper[0], variant.install
            );
            into.missing = true;
            return Ok(());
        }
        result => result.map_err(|e| format!("{}: {e}", binary.display()))?,
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{} {:?} failed ({}): {}",
            variant.binary,
            variant.mode,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // A wrapper may print lines of its own (heaptrack does): only the
    // variant's `first` and `sample` lines are read.
    for line in stdout
        .lines()
        .filter(|l| l.starts_with("first ") || l.starts_with("sample "))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [label, nanos, events] = words[..] else {
            return Err(format!(
                "{}: unexpected output line {line:?}",
                variant.binary
            ));
        };
        let nanos: u128 = nanos.parse().map_err(|_| format!("bad time in {line:?}"))?;
        match label {
            "first" => into.first.push(nanos),
            _ => into.timed.push(nanos),
        }
        if let Ok(events) = events.parse::<u64>() {
            if into.events.is_some_and(|seen| seen != events) {
                return Err(format!(
                    "{}: event count changed between runs",
                    variant.binary
                ));
            }
            into.events = Some(events);
        }
    }
    Ok(())
}

fn median(values: &[u128]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    match sorted.len() {
        0 => f64::NAN,
        n if !n.is_multiple_of(2) => sorted[n / 2] as f64,
        n => (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0,
    }
}

/// The event count every counting variant agreed on.
fn events(samples: &[Samples]) -> Result<u64, String> {
    let mut counts = samples.iter().filter_map(|s| s.events);
    let first = counts.next().ok_or("no variant counted events")?;
    if counts.any(|n| n != first) {
        return Err("variants counted different numbers of events".into());
    }
    Ok(first)
}

fn per_event(nanos: &[u128], events: u64) -> (f64, f64, f64) {
    let min = nanos.iter().min().copied().unwrap_or(0) as f64;
    let max = nanos.iter().max().copied().unwrap_or(0) as f64;
    let n = events as f64;
    (median(nanos) / n, min / n, max / n)
}

/// Prints the variants table; returns the median ns per event of each
/// variant (inner) on each workload (outer).
fn print_variants(
    workloads: &[Workload],
    results: &[Vec<Samples>],
    runs: usize,
) -> Result<Vec<Vec<f64>>, String> {
    let counts: Vec<u64> = results
        .iter()
        .map(|r| events(r))
        .collect::<Result<_, _>>()?;
    println!(
        "ns per allocator event: median of {runs} runs, each in a fresh process after \
         one warm-up run (min–max in brackets); × is the ratio of medians to `System`.\n"
    );
    for (workload, count) in workloads.iter().zip(&counts) {
        println!(
            "- `{}`: {} events per run",
            workload.arg(),
            thousands(*count)
        );
    }
    println!(
        "\n| variant | {} ns/event | × System | {} ns/event | × System | first run in process, {} ns/event |",
        workloads[0].arg(),
        workloads[1].arg(),
        workloads[0].arg()
    );
    println!("|---|--:|--:|--:|--:|--:|");
    let baseline: Vec<f64> = results
        .iter()
        .zip(&counts)
        .map(|(r, &n)| per_event(&r[0].timed, n).0)
        .collect();
    for (v, variant) in VARIANTS.iter().enumerate() {
        let mut row = format!("| {} |", variant.label);
        if results[0][v].missing {
            println!("{row} not installed (`{}`) | | | | |", variant.install);
            continue;
        }
        for (w, samples) in results.iter().enumerate() {
            let (mid, min, max) = per_event(&samples[v].timed, counts[w]);
            row += &format!(" {mid:.1} ({min:.1}–{max:.1}) | {:.2} |", mid / baseline[w]);
        }
        row += &format!(" {:.1} |", per_event(&results[0][v].first, counts[0]).0);
        println!("{row}");
    }
    Ok(results
        .iter()
        .zip(&counts)
        .map(|(samples, &n)| samples.iter().map(|s| per_event(&s.timed, n).0).collect())
        .collect())
}

/// Where `variant` is in [`VARIANTS`].
fn index(variant: &Variant) -> usize {
    VARIANTS
        .iter()
        .position(|v| v.label == variant.label)
        .expect("every variant is listed")
}

/// One target: a figure per workload and the bound it must keep.
struct Target {
    name: &'static str,
    values: Vec<f64>,
    unit: &'static str,
    /// `Ok(max)`: at most `max`; `Err(min)`: at least `min`.
    bound: Result<f64, f64>,
}

/// The issue's targets, judged on both workloads.
fn print_targets(
    workloads: &[Workload],
    medians: &[Vec<f64>],
    startup_ms: Option<f64>,
    instructions: Option<&[Option<f64>]>,
) {
    let of =
        |variant: &Variant| -> Vec<f64> { medians.iter().map(|m| m[index(variant)]).collect() };
    let ratio =
        |a: Vec<f64>, b: Vec<f64>| -> Vec<f64> { a.iter().zip(&b).map(|(a, b)| a / b).collect() };
    let targets = [
        Target {
            name: "idle ≤ 1.03× `System`",
            values: ratio(of(&IDLE), of(&SYSTEM)),
            unit: "×",
            bound: Ok(1.03),
        },
        Target {
            name: "recording without lines ≤ 3× `System`",
            values: ratio(of(&OFF), of(&SYSTEM)),
            unit: "×",
            bound: Ok(3.0),
        },
        Target {
            name: "recording with lines ≤ 100 ns per event",
            values: of(&LINES),
            unit: " ns",
            bound: Ok(100.0),
        },
        Target {
            name: "recording with lines ≥ 50× faster than dhat",
            values: ratio(of(&DHAT), of(&LINES)),
            unit: "×",
            bound: Err(50.0),
        },
        Target {
            name: "recording with lines ≥ 5× faster than heaptrack",
            values: ratio(of(&HEAPTRACK), of(&LINES)),
            unit: "×",
            bound: Err(5.0),
        },
    ];
    println!(
        "| target | {} | {} | met |",
        workloads[0].arg(),
        workloads[1].arg()
    );
    println!("|---|--:|--:|---|");
    for target in targets {
        if target.values.iter().any(|v| v.is_nan()) {
            println!("| {} | not measured | | |", target.name);
            continue;
        }
        let met = target.values.iter().all(|&v| match target.bound {
            Ok(max) => v <= max,
            Err(min) => v >= min,
        });
        let verdict = if met { "yes" } else { "**no**" };
        let (unit, a, b) = (target.unit, target.values[0], target.values[1]);
        println!(
            "| {} | {a:.2}{unit} | {b:.2}{unit} | {verdict} |",
            target.name
        );
    }
    match startup_ms {
        Some(ms) => {
            let verdict = if ms < 15.0 { "yes" } else { "**no**" };
            println!("| start-up < 15 ms (median) | {ms:.1} ms | | {verdict} |");
        }
        None => println!("| start-up < 15 ms (median) | not measured | | |"),
    }
    let bounds = [
        ("idle", &IDLE, 83.0 * 1.03, "≤ 1.03× `System`'s"),
        ("recording without lines", &OFF, 170.0, "≤ 170"),
        ("recording with lines", &LINES, 300.0, "≤ 300"),
    ];
    for (name, variant, max, bound) in bounds {
        let name = format!("{name}: instructions per event {bound}");
        let measured = instructions.and_then(|i| i[index(variant)]);
        let system = instructions.and_then(|i| i[index(&SYSTEM)]);
        let max = if variant.mode == Some("idle") {
            system.map_or(max, |s| s * 1.03)
        } else {
            max
        };
        match measured {
            Some(n) => {
                let verdict = if n <= max { "yes" } else { "**no**" };
                println!("| {name} | {n:.1} | | {verdict} |");
            }
            None => println!("| {name} | not measured | | |"),
        }
    }
}

/// Instructions per allocator event of each variant that runs without a
/// wrapper, counted by callgrind (the machine's load does not change them):
/// `pairs:N 1` at two sizes, so the start-up cancels. Prints the table and
/// returns the counts in [`VARIANTS`] order, or `None` without valgrind.
fn instructions(dir: &Path) -> Result<Option<Vec<Option<f64>>>, String> {
    const SMALL: usize = 100_000;
    const LARGE: usize = 200_000;
    // `pairs:N 1` runs N pairs twice (the warm-up and one timed run).
    let events = (2 * 2 * (LARGE - SMALL)) as f64;
    let collected = |variant: &Variant, pairs: usize| -> Result<Option<u64>, String> {
        let out = std::env::temp_dir().join(format!("memlab-bench-{}.cg", std::process::id()));
        let output = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(dir.join(variant.binary))
            .args(variant.mode)
            .arg(Workload::BoxPairs(pairs).arg())
            .arg("1")
            .stdout(Stdio::null())
            .output();
        let _ = std::fs::remove_file(&out);
        let output = match output {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            result => result.map_err(|e| format!("valgrind: {e}"))?,
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        let count = stderr
            .lines()
            .find_map(|l| {
                l.split_once("Collected :")
                    .map(|(_, n)| n.trim().to_string())
            })
            .and_then(|n| n.parse().ok())
            .ok_or(format!("callgrind gave no count for {}", variant.binary))?;
        Ok(Some(count))
    };
    let mut counts = vec![];
    println!(
        "`valgrind --tool=callgrind VARIANT [MODE] pairs:N 1` at N = {SMALL} and {LARGE}: \
         (Ir at {LARGE} − Ir at {SMALL}) / {} events, which includes the workload's own \
         instructions and `malloc`/`free`. The peers run under tools of their own and \
         are not counted.\n",
        events as u64
    );
    println!("| variant | instructions per event | × System |");
    println!("|---|--:|--:|");
    for variant in VARIANTS {
        if !variant.wrapper.is_empty() {
            counts.push(None);
            continue;
        }
        eprintln!("callgrind: {}", variant.label);
        let (Some(small), Some(large)) = (collected(variant, SMALL)?, collected(variant, LARGE)?)
        else {
            println!("not measured: valgrind is not installed (`apt-get install valgrind`)");
            return Ok(None);
        };
        counts.push(Some(large.saturating_sub(small) as f64 / events));
    }
    let system = counts[index(&SYSTEM)].unwrap_or(f64::NAN);
    for (variant, count) in VARIANTS.iter().zip(&counts) {
        if let Some(n) = count {
            println!("| {} | {n:.1} | {:.2} |", variant.label, n / system);
        }
    }
    Ok(Some(counts))
}

fn print_scale(scale: &[Vec<Samples>], runs: usize) -> Result<(), String> {
    println!(
        "`pairs:N` (Box of 32 bytes, alloc + dealloc) at three trace lengths; ns per event: \
         median of {runs} processes × {SCALE_REPS} timed runs after a warm-up.\n"
    );
    println!(
        "| events | `System` ns/event | recording, `Lines::Off` ns/event | × System | \
         recording, `Lines::Auto` ns/event | × System |"
    );
    println!("|--:|--:|--:|--:|--:|--:|");
    for (samples, &target) in scale.iter().zip(&SCALE_EVENTS) {
        let count = events(samples)?;
        if count != target as u64 {
            return Err(format!(
                "expected {target} events, the recording has {count}"
            ));
        }
        let system = per_event(&samples[0].timed, count).0;
        let off = per_event(&samples[1].timed, count).0;
        let lines = per_event(&samples[2].timed, count).0;
        println!(
            "| {} | {system:.1} | {off:.1} | {:.2} | {lines:.1} | {:.2} |",
            thousands(count),
            off / system,
            lines / system
        );
    }
    Ok(())
}

/// Wall time of `memlab lesson vec-growth --width 100 > /dev/null`: prints
/// it and returns the median in ms, if the binary is there.
fn startup(dir: &Path, settings: &Settings) -> Result<Option<f64>, String> {
    let memlab = settings
        .memlab
        .clone()
        .unwrap_or_else(|| dir.join("memlab"));
    if !memlab.exists() {
        println!(
            "not measured: {} is missing (build it with `cargo build --release --bin memlab`)",
            memlab.display()
        );
        return Ok(None);
    }
    let args = ["lesson", "vec-growth", "--width", "100"];
    let mut times = Vec::new();
    // The first run warms the page cache and is not counted.
    for run in 0..=settings.startup_runs {
        let start = Instant::now();
        let status = Command::new(&memlab)
            .args(args)
            // Reading the lesson records progress: never in the user's own.
            .env(
                "MEMLAB_STATE",
                std::env::temp_dir().join("memlab-bench-state.toml"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("{}: {e}", memlab.display()))?;
        let nanos = start.elapsed().as_nanos();
        if !status.success() {
            return Err(format!("memlab {} failed: {status}", args.join(" ")));
        }
        if run > 0 {
            times.push(nanos);
        }
    }
    let ms = |nanos: f64| nanos / 1e6;
    println!(
        "`{} {} > /dev/null`, spawned and waited for: median {:.1} ms of {} runs \
         (min {:.1}, max {:.1}) after one warm-up run.",
        memlab.display(),
        args.join(" "),
        ms(median(&times)),
        times.len(),
        ms(*times.iter().min().unwrap_or(&0) as f64),
        ms(*times.iter().max().unwrap_or(&0) as f64),
    );
    Ok(Some(ms(median(&times))))
}

fn machine(load_before: &str) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!("- CPU: {cpu}, {cores} cores available");
    println!("- rustc: {rustc}");
    println!("- Linux {}", kernel.trim());
    println!(
        "- load average before: {load_before}; after: {}",
        load_average()
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// 1234567 → "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
