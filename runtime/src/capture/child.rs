//! Running a step that kills its process (a stack overflow) in a child
//! process, so memlab survives and reports how the child ended.
//!
//! The child is a `fork` of the calling thread. After `fork` in a program that
//! may have other threads, the child may only do async-signal-safe work, so
//! the step must only use the stack (recursion, arrays): no allocation, no
//! locks, no printing. It runs on a thread of its own with a fixed stack
//! ([`STEP_STACK`]), the one exception to that rule (see
//! `on_a_stack_of_its_own`). The child's standard error goes to /dev/null, so
//! whatever the runtime prints as it dies stays out of memlab's output.

/// How a child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It returned normally with this status.
    Code(i32),
    /// A signal ended it (6 is SIGABRT, 11 is SIGSEGV on Linux).
    Signal(i32),
}

/// Runs `step` in a child process and waits for it; `None` where processes
/// cannot be forked (not Unix) or the fork failed.
#[cfg(unix)]
pub fn run(step: fn()) -> Option<Exit> {
    // SAFETY: `fork` duplicates only the calling thread. The child runs
    // `step`, which by contract only uses its stack, plus `open`, `dup2` and
    // `_exit`, all async-signal-safe, and never returns into the parent's code.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => None,
        0 => {
            // SAFETY: async-signal-safe calls on a path string that lives
            // for the whole program.
            unsafe {
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
                if null >= 0 {
                    libc::dup2(null, libc::STDERR_FILENO);
                }
            }
            let code = on_a_stack_of_its_own(step);
            // SAFETY: ends the child at once, without running the parent's
            // exit handlers a second time.
            unsafe { libc::_exit(code) }
        }
        child => {
            let mut status = 0;
            loop {
                // SAFETY: waits for our own child; `status` outlives the call.
                let waited = unsafe { libc::waitpid(child, &mut status, 0) };
                if waited == child {
                    break;
                }
                if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                    return None;
                }
            }
            if libc::WIFSIGNALED(status) {
                Some(Exit::Signal(libc::WTERMSIG(status)))
            } else {
                Some(Exit::Code(libc::WEXITSTATUS(status)))
            }
        }
    }
}

/// The stack a step runs on in the child: a thread's, of this size, so that
/// a stack overflow comes at the same depth whatever `ulimit -s` says (under
/// `ulimit -s unlimited` a main thread's stack would grow until memory ran
/// out). Rust's runtime knows a thread it started: an overflow there ends
/// the child with its "has overflowed its stack" abort.
pub const STEP_STACK: usize = 1 << 20;

/// Runs `step` on a new thread with a [`STEP_STACK`] stack and returns the
/// child's exit status: 0 when it returned, 101 when it panicked, 1 when the
/// thread could not start (no memory for its stack).
///
/// Starting a thread allocates. In the child of a `fork` that is safe with
/// glibc, which resets its malloc and thread-stack locks in the child, and
/// std's spawn with an explicit stack size takes no lock another thread of
/// the parent could have held.
#[cfg(unix)]
fn on_a_stack_of_its_own(step: fn()) -> i32 {
    let thread = std::thread::Builder::new()
        .stack_size(STEP_STACK)
        .spawn(step);
    match thread.map(std::thread::JoinHandle::join) {
        Ok(Ok(())) => 0,
        Ok(Err(_)) => 101,
        Err(_) => 1,
    }
}

#[cfg(not(unix))]
pub fn run(_step: fn()) -> Option<Exit> {
    None
}

/// Kills every process of the group a child started with
/// `CommandExt::process_group(0)` leads (its id is the child's).
#[cfg(unix)]
pub fn kill_group(leader: u32) {
    let Ok(group) = i32::try_from(leader) else {
        return;
    };
    // SAFETY: sends a signal to a process group; no memory is involved.
    unsafe { libc::kill(-group, libc::SIGKILL) };
}

#[cfg(not(unix))]
pub fn kill_group(_leader: u32) {}

/// Makes the kernel kill this process when its parent, `parent`, dies
/// (Linux), so a traced program never outlives the memlab that ran it.
#[cfg(target_os = "linux")]
pub fn die_with_parent(parent: u32) {
    // SAFETY: `prctl(PR_SET_PDEATHSIG, SIGKILL)` only changes this process's
    // own death signal; `getppid` only returns an id; `_exit` ends at once.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // The parent may have died before the call: then no signal would come.
        if i64::from(libc::getppid()) != i64::from(parent) {
            libc::_exit(1);
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn die_with_parent(_parent: u32) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn reports_how_the_child_ended() {
        assert_eq!(run(|| {}), Some(Exit::Code(0)));
        // SAFETY: `abort` is async-signal-safe.
        assert_eq!(run(|| unsafe { libc::abort() }), Some(Exit::Signal(6)));
    }
}
