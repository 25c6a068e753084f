//! The `dhat` crate with its heap profiler running: `dhat::Profiler::new_heap`,
//! except that the profile goes to a temporary file, not the working folder.

use std::path::PathBuf;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn profile_file() -> PathBuf {
    std::env::temp_dir().join(format!("memlab-bench-dhat-{}.json", std::process::id()))
}

fn main() {
    memlab_bench::main(0, |workload| {
        let profiler = dhat::Profiler::builder().file_name(profile_file()).build();
        let nanos = memlab_bench::timed(|| workload.run());
        // Saving the profile is not part of the workload's cost.
        drop(profiler);
        (nanos, None)
    });
    let _ = std::fs::remove_file(profile_file());
}
