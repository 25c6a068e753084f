//! No `#[global_allocator]` at all: Rust's default, which also ends in `System`.

fn main() {
    memlab_bench::main(0, |workload| (memlab_bench::timed(|| workload.run()), None));
}
