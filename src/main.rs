//! The `cargo-dbm` binary: parse the command line, run it, map the outcome to an exit code.

/// mimalloc: seeding allocates millions of small values on one thread and frees them on
/// another, where glibc's allocator spends a third of the time (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cargo_dbm::cli::main());
}
