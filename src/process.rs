//! Child processes (the runner, `pg_dump`, `pg_restore`) die with `cargo dbm`: if it is
//! killed, their work (a migration's transaction, a dump) stops instead of running on
//! without the lock or the temporary file's owner.

use std::process::Command;

/// Asks the kernel to SIGKILL the child when this process dies (Linux; a no-op elsewhere).
#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "pre_exec is unsafe; prctl(PR_SET_PDEATHSIG) is async-signal-safe"
)]
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Asks the kernel to SIGKILL the child when this process dies (Linux; a no-op elsewhere).
#[cfg(not(target_os = "linux"))]
pub fn die_with_parent(_cmd: &mut Command) {}
