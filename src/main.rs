//! The `memlab` binary: memlab's command line over its built-in scenarios.

fn main() -> std::process::ExitCode {
    memlab::app::main(&memlab::scenarios::BUILT_IN)
}
