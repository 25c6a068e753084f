//! Running a built program: in a process (and process group) of its own, its
//! stdin `/dev/null` unless asked, its stdout and stderr kept apart from
//! memlab's, stopped at the time-out, and its report read back.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use memlab_runtime::capture::child::kill_group;
use memlab_runtime::capture::program::{self, End, Report};

use super::RunError;
use super::source::UserFile;

/// Output kept of each of the program's streams; the rest is counted.
const KEPT: usize = 64 << 10;
/// After the time-out, how long the program's own watchdog has to write
/// what it recorded before memlab kills it. Writing means naming every
/// event's source line, which on a loaded machine with libc's debug info
/// installed took most of the 3 s this once was: 10 s only bounds a child
/// whose watchdog never comes.
const GRACE: Duration = Duration::from_secs(10);

/// What the program printed on one stream.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub text: String,
    /// Bytes printed beyond what was kept.
    pub cut: usize,
}

/// How to run it.
#[derive(Clone, Debug)]
pub struct Settings {
    pub capacity: usize,
    pub probes: usize,
    pub timeout: Duration,
    /// Give the program memlab's stdin (otherwise `/dev/null`).
    pub stdin: bool,
}

/// A finished run of the program.
pub struct Ran {
    pub report: Option<Report>,
    pub status: ExitStatus,
    pub stdout: Output,
    pub stderr: Output,
    /// memlab had to kill it: it ran past the time-out and its grace.
    pub killed: bool,
}

#[cfg(not(target_os = "linux"))]
pub fn run(_: &Path, _: &UserFile, _: &Path, _: &Settings) -> Result<Ran, RunError> {
    Err(RunError::Failed(
        "memlab run records programs on Linux only (it starts recording from .init_array)".into(),
    ))
}

#[cfg(target_os = "linux")]
pub fn run(
    exe: &Path,
    file: &UserFile,
    report: &Path,
    settings: &Settings,
) -> Result<Ran, RunError> {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(exe);
    command
        .env(program::ENV_REPORT, report)
        .env(program::ENV_FILE, &file.path)
        .env(program::ENV_ID, file.id())
        .env(program::ENV_CAPACITY, settings.capacity.to_string())
        .env(program::ENV_PROBES, settings.probes.to_string())
        .env(
            program::ENV_TIMEOUT_MS,
            settings.timeout.as_millis().to_string(),
        )
        .env(program::ENV_PARENT, std::process::id().to_string())
        // Backtraces are the program's, not memlab's business: a panic
        // prints its message only.
        .env_remove("RUST_BACKTRACE")
        // memlab's own allocator is memlab's business: the program gets the default.
        .env_remove(memlab_runtime::capture::backend::VARIABLE)
        .stdin(if settings.stdin {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: Ctrl-C reaches memlab, and a kill reaches every
        // process the program started.
        .process_group(0);
    let mut child = command.spawn().map_err(|e| {
        RunError::Failed(format!(
            "cannot start the program built from {}: {e}",
            file.shown
        ))
    })?;
    let drain = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut output = Output::default();
            let Some(mut stream) = stream else {
                return output;
            };
            let mut kept = Vec::new();
            let mut buffer = [0u8; 8192];
            while let Ok(n) = stream.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let room = KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
                output.cut += n.saturating_sub(room);
            }
            output.text = String::from_utf8_lossy(&kept).into_owned();
            output
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + settings.timeout + GRACE;
    let mut killed = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(child.id());
                killed = true;
                break child.wait().map_err(|e| RunError::Failed(e.to_string()))?;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => {
                return Err(RunError::Failed(format!(
                    "cannot wait for the program: {e}"
                )));
            }
        }
    };
    // Anything the program left running in its group goes too, so nothing
    // holds the pipes open.
    kill_group(child.id());
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let report = match std::fs::read(report) {
        Ok(bytes) => {
            let _ = std::fs::remove_file(report);
            Some(program::read_report(&bytes).map_err(RunError::Failed)?)
        }
        Err(_) => None,
    };
    Ok(Ran {
        report,
        status,
        stdout,
        stderr,
        killed,
    })
}

/// How the program ended, in one line, when it did not end well; `None` when
/// it returned normally.
pub fn ending(ran: &Ran, timeout: Duration) -> Option<String> {
    #[cfg(unix)]
    use std::os::unix::process::ExitStatusExt;
    let seconds = timeout.as_secs_f64();
    let partial = "the trace shows what it did until then";
    let end = ran.report.as_ref().map(|r| r.end);
    if end == Some(End::TimedOut) || ran.killed {
        return Some(match ran.report {
            Some(_) => {
                format!("the program ran past --timeout {seconds} s and was stopped; {partial}")
            }
            None => format!(
                "the program ran past --timeout {seconds} s and was killed; memlab could not read what it did"
            ),
        });
    }
    if end == Some(End::Panicked) {
        let message = ran
            .report
            .as_ref()
            .and_then(|r| r.trace.panic.clone())
            .unwrap_or_default();
        return Some(format!(
            "the program panicked: {}; {partial}",
            message.escape_debug()
        ));
    }
    #[cfg(unix)]
    let signal = ran.status.signal();
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    if let Some(signal) = signal {
        let overflow = ran.stderr.text.contains("has overflowed its stack");
        let what = match signal {
            _ if overflow => "overflowed its stack".to_string(),
            6 => "aborted (SIGABRT)".to_string(),
            9 => "was killed (SIGKILL; out of memory?)".to_string(),
            11 => "crashed (SIGSEGV)".to_string(),
            other => format!("was killed by signal {other}"),
        };
        return Some(format!(
            "the program {what}; it ended before memlab could read what it did"
        ));
    }
    match (ran.status.code(), &ran.report) {
        (Some(0), Some(_)) => None,
        (Some(code), Some(_)) => Some(format!(
            "the program exited with code {code} (process::exit, or main returned an error); {partial}"
        )),
        (None, Some(_)) => None, // a signal, handled above
        (code, None) => Some(format!(
            "the program ended (exit code {}) without handing memlab its trace",
            code.map_or("?".into(), |c| c.to_string())
        )),
    }
}
