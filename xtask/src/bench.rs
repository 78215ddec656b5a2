//! Benchmarks (see docs/benchmarks.md).
use anyhow::Result;

pub fn run(_args: &[String]) -> Result<()> {
    anyhow::bail!("not implemented yet")
}
