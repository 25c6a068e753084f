//! `--allocator NAME`: which global allocator the run's blocks come from.
//! A program has exactly one, chosen at its first allocation from
//! `MEMLAB_ALLOCATOR` (`capture::backend`), so when the command asks for
//! another than this process has, memlab runs itself again, with the same
//! arguments and the variable set, in place of this process.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use super::Error;
use super::cli::{Cli, Command};
use crate::capture::backend::{self, VARIABLE};
use crate::trace::Allocator;

/// Checks `MEMLAB_ALLOCATOR`, and runs memlab again under the allocator the
/// command asks for if this process has another. Returns only when this
/// process is the one to run the command.
pub(super) fn choose(cli: &Cli) -> Result<(), Error> {
    let from_environment = std::env::var_os(VARIABLE);
    if let Some(value) = &from_environment
        && named(value).is_none()
    {
        return Err(Error::Usage(format!(
            "{VARIABLE}={} is not an allocator memlab has: {}",
            value.to_string_lossy(),
            names()
        )));
    }
    let asked = match &cli.command {
        Some(Command::Trace { allocator, .. }) | Some(Command::Lesson { allocator, .. }) => {
            allocator.allocator.as_deref()
        }
        _ => None,
    };
    let Some(asked) = asked else {
        return Ok(());
    };
    // clap has checked the name against the same list.
    let Some(wanted) = Allocator::from_name(asked).filter(|a| backend::compiled(*a)) else {
        return Err(Error::Usage(format!(
            "'{asked}' is not an allocator memlab has: {}",
            names()
        )));
    };
    if backend::current() == wanted {
        return Ok(());
    }
    if from_environment.as_deref().and_then(named) == Some(wanted) {
        // Already run again with the variable set: never loop.
        return Err(Error::Failure(format!(
            "memlab was run with {VARIABLE}={asked} but its allocator is {}",
            backend::current().name()
        )));
    }
    let exe = std::env::current_exe().map_err(|e| {
        Error::Failure(format!(
            "cannot find memlab's own program to run it again with the {asked} allocator: {e}"
        ))
    })?;
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| OsString::from("memlab"));
    let e = std::process::Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .env(VARIABLE, wanted.name())
        .exec();
    Err(Error::Failure(format!(
        "could not run memlab again with the {asked} allocator ({}): {e}",
        crate::text::clean_line(&exe.display().to_string())
    )))
}

/// The allocator `value` names, if this build has it.
fn named(value: &std::ffi::OsStr) -> Option<Allocator> {
    Allocator::from_name(value.to_str()?).filter(|a| backend::compiled(*a))
}

/// The names of the allocators this build has, comma-separated.
fn names() -> String {
    backend::available()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}
