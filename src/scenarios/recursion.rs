//! A function that calls itself gets a new frame for every call, each one below
//! its caller's. The compiler fixes a frame's size when it compiles the
//! function; each call claims that much stack, and returning gives it back.

use std::hint::black_box;

use memlab::Scene;

pub fn run(s: &mut Scene) {
    depth(s, 1, None);
}

/// Probes this call's local, then calls itself one level deeper, down to 4.
/// `caller` is the `here` of the call above, to measure the distance to it.
// `#[inline(never)]` keeps every call a real call with its own frame.
#[inline(never)]
fn depth(s: &mut Scene, n: usize, caller: Option<&usize>) {
    let here: usize = black_box(n);
    s.frame("depth");
    s.local("here", &here);

    match caller {
        // The first call has no `here` above it to compare with.
        None => s.observe("call", &[("depth", n)]),
        // The same distance at every level: one frame of `depth`.
        Some(above) => {
            let gap = above as *const usize as usize - &here as *const usize as usize;
            s.observe("call", &[("depth", n), ("bytes below caller", gap)]);
        }
    }

    if n < 4 {
        depth(s, n + 1, Some(&here));
    }
}
