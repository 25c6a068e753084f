//! The `stats_alloc` crate: `System` behind atomic counters.

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    memlab_bench::main(0, |workload| {
        let region = Region::new(ALLOCATOR);
        let nanos = memlab_bench::timed(|| workload.run());
        let stats = region.change();
        let events = stats.allocations + stats.deallocations + stats.reallocations;
        (nanos, Some(events as u64))
    });
}
