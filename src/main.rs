//! The `cargo-dbm` binary: parse the command line, run it, map the outcome to an exit code.

fn main() {
    std::process::exit(cargo_dbm::cli::main());
}
