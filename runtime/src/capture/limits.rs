//! memlab's own needs against the limits it runs under: the main thread's
//! stack. (Memory is the recorder's business: `recorder::take_buffers` and
//! `recorder::end_on_allocation_failure`.)

/// The main thread's stack memlab needs: four times the most its debug
/// build was measured to use (all scenarios and lessons ran under
/// `ulimit -s 256`, none under 128).
pub const STACK_NEEDED: usize = 1 << 20;

/// The stack memlab asks for when the limit allows less: the usual default.
pub const STACK_WANTED: usize = 8 << 20;

/// Makes sure this process's main thread may grow its stack to what memlab
/// needs: raises the soft `RLIMIT_STACK` towards [`STACK_WANTED`] as far as
/// the hard limit allows, and the hard limit itself to [`STACK_NEEDED`]
/// where the process may (a privileged one). The main thread's stack grows
/// on demand, checked against the limit at each growth, so a raised limit
/// counts at once. `Err(limit)` is the limit in bytes when it stays below
/// the need. Call it on the main thread, before the work that needs it.
#[cfg(unix)]
pub fn ensure_stack() -> Result<(), usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the value we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) } != 0 {
        return Ok(()); // cannot tell: go on, as without this check
    }
    let infinite = libc::RLIM_INFINITY;
    let (cur, max) = (limit.rlim_cur, limit.rlim_max);
    let wanted = STACK_WANTED as libc::rlim_t;
    let needed = STACK_NEEDED as libc::rlim_t;
    if cur == infinite || cur >= wanted {
        return Ok(());
    }
    let raised = if max == infinite || max >= needed {
        libc::rlimit {
            rlim_cur: if max == infinite {
                wanted
            } else {
                wanted.min(max)
            },
            rlim_max: max,
        }
    } else {
        libc::rlimit {
            rlim_cur: needed,
            rlim_max: needed,
        }
    };
    // SAFETY: setrlimit reads one `rlimit`; it fails (EPERM) rather than
    // raise a hard limit this process may not raise.
    let ok = unsafe { libc::setrlimit(libc::RLIMIT_STACK, &raised) } == 0;
    match ok && raised.rlim_cur >= needed {
        true => Ok(()),
        false if cur >= needed => Ok(()),
        false => Err(usize::try_from(cur).unwrap_or(usize::MAX)),
    }
}

#[cfg(not(unix))]
pub fn ensure_stack() -> Result<(), usize> {
    Ok(())
}
