//! `System` installed as the global allocator: the baseline.

use std::alloc::System;

#[global_allocator]
static ALLOCATOR: System = System;

fn main() {
    memlab_bench::main(0, |workload| (memlab_bench::timed(|| workload.run()), None));
}
