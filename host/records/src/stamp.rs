//! The build id and build start stamp that every invocation of one go command shares.
//!
//! `gohook build`/`gohook exec` choose them and pass them down in the environment. Under a bare
//! `go build -toolexec=/abs/gohook` nobody does, so each invocation derives them from the go process that started
//! it: its pid and its start time, read from `/proc` on Linux and from `proc_pidinfo` on macOS. All invocations of
//! one go command then agree on the id, and their start stamps land on one time axis that starts when go started.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::processes::{self as os, unix_ns};
use crate::store::valid_build_id;

use gohook_process::env;

/// The run a build belongs to (e.g. all targets of one goreleaser release; a file name, so an id) and its target within
/// it (goreleaser's `{{ .Target }}`), as the environment sets them.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Labels {
    pub run: String,
    pub target: String,
}

impl Labels {
    /// `Ok(None)` when neither is set; an error names a run label that cannot be a file name.
    pub fn from_env() -> Result<Option<Labels>, LabelError> {
        let (run, target) = env::run_and_target();
        if run.is_empty() && target.is_empty() {
            return Ok(None);
        }
        if !run.is_empty() && !valid_build_id(&run) {
            return Err(LabelError { run });
        }
        Ok(Some(Labels { run, target }))
    }
}

/// A run label that cannot name a file.
#[derive(Debug, thiserror::Error)]
#[error("{}={run:?} is not a usable run label: use letters, digits, '-', '_' and '.' (at most 128)", env::RUN)]
pub struct LabelError {
    run: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildStamp {
    pub id: String,
    pub start_unix_ns: u64,
}

/// The go process a bare toolexec invocation belongs to.
#[derive(Debug, Clone)]
pub struct GoProcess {
    pub pid: u32,
    /// The go command's working directory: where `gohook.toml` is looked for.
    pub cwd: Option<PathBuf>,
}

impl BuildStamp {
    /// A new build starting now, for `gohook build`/`gohook exec`.
    pub fn new_now() -> BuildStamp {
        let now = SystemTime::now();
        let start_unix_ns = unix_ns(now);
        let stamp = humantime::format_rfc3339_millis(now).to_string().replace(['-', ':'], "");
        BuildStamp { id: format!("{stamp}-{:x}", std::process::id()), start_unix_ns }
    }

    /// The stamp `gohook build` passed down, if any (and if it is well-formed).
    pub fn from_env() -> Option<BuildStamp> {
        let (id, start) = env::build_stamp()?;
        let start_unix_ns = start.parse().ok()?;
        valid_build_id(&id).then_some(BuildStamp { id, start_unix_ns })
    }

    /// The stamp of the go command that runs this process, derived from that process alone.
    pub fn from_go_process() -> (BuildStamp, GoProcess) {
        go_ancestor().unwrap_or_else(|| {
            // Nothing known about processes here: group by parent, and let the report take the earliest record as
            // the start.
            let ppid = std::os::unix::process::parent_id();
            let go = GoProcess { pid: ppid, cwd: None };
            (BuildStamp { id: format!("go-{ppid}"), start_unix_ns: unix_ns(SystemTime::now()) }, go)
        })
    }
}

/// Under a build gohook drives (`driver_pid` started its go command): when the go command that runs this tool is
/// not that one but one further down — a test or a program of the build that runs `go build` — that go command's
/// own build, named as bare mode names it (`go-PID-START`). `None` for the driver's own go command.
///
/// The shim's hot path: one look at the parent when go's parent is the driver (`gohook build`,
/// `gohook exec -- go …`); otherwise a walk up to the driver, which finds a go command above go's parent only when
/// go is nested (a script that runs go, `gohook exec -- make`, has none).
pub fn nested_go(driver_pid: u32) -> Option<(BuildStamp, GoProcess)> {
    let go_pid = std::os::unix::process::parent_id();
    let go = os::process(go_pid)?;
    let mut pid = go.ppid;
    for _ in 0..16 {
        if pid == driver_pid || pid <= 1 {
            return None;
        }
        let info = os::process(pid)?;
        if info.comm == "go" {
            let stamp =
                BuildStamp { id: format!("go-{go_pid}-{}", go.start), start_unix_ns: os::start_unix_ns(go.start)? };
            return Some((stamp, GoProcess { pid: go_pid, cwd: os::process_cwd(go_pid) }));
        }
        pid = info.ppid;
    }
    None
}

/// Whether the process that writes build `id`'s records still runs, so that they may not be complete yet: for a bare
/// `-toolexec` build (`go-PID-START`) its go command, that pid with that start; for one of `gohook build`
/// (`…-PIDHEX`) the gohook that drives it. A reused pid errs towards "running": the build waits, it is not lost.
pub fn writer_running(id: &str) -> bool {
    if let Some(rest) = id.strip_prefix("go-") {
        let mut parts = rest.splitn(2, '-');
        let (Some(pid), start) = (parts.next().and_then(|p| p.parse::<u32>().ok()), parts.next()) else {
            return false;
        };
        return match (os::process(pid), start.and_then(|s| s.parse::<u64>().ok())) {
            (Some(info), Some(start)) => info.start == start,
            (Some(_), None) => true,
            (None, _) => false,
        };
    }
    let Some(pid) = id.rsplit('-').next().and_then(|hex| u32::from_str_radix(hex, 16).ok()) else {
        return false;
    };
    os::process(pid).is_some()
}

/// The nearest ancestor named `go` (a wrapper script may sit in between), else the parent.
fn go_ancestor() -> Option<(BuildStamp, GoProcess)> {
    let parent_pid = std::os::unix::process::parent_id();
    let parent = os::process(parent_pid)?;
    let mut found = None;
    let mut pid = parent_pid;
    let mut info = parent.clone();
    for _ in 0..8 {
        if info.comm == "go" {
            found = Some((pid, info));
            break;
        }
        if info.ppid <= 1 {
            break;
        }
        pid = info.ppid;
        info = os::process(pid)?;
    }
    let (pid, info) = found.unwrap_or((parent_pid, parent));
    let stamp = BuildStamp { id: format!("go-{pid}-{}", info.start), start_unix_ns: os::start_unix_ns(info.start)? };
    Some((stamp, GoProcess { pid, cwd: os::process_cwd(pid) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processes::now_unix_ns;

    #[test]
    fn a_build_is_being_written_while_its_writer_runs() {
        let (bare, go) = BuildStamp::from_go_process();
        // This test's parent plays the go command: the id names it, so it is running.
        if bare.id.matches('-').count() == 2 {
            assert!(writer_running(&bare.id), "{}", bare.id);
            assert!(!writer_running(&format!("go-{}-1", go.pid)), "the same pid with another start is another process");
        }
        assert!(writer_running(&BuildStamp::new_now().id), "gohook build's id names this process");
        assert!(!writer_running("20261203T101010.000Z-7fffffff"));
        assert!(!writer_running("go-4194303-5"));
        assert!(!writer_running("not-an-id"));
    }

    #[test]
    fn new_ids_are_valid_file_names() {
        let stamp = BuildStamp::new_now();
        assert!(valid_build_id(&stamp.id), "{}", stamp.id);
        assert!(stamp.start_unix_ns > 1_700_000_000_000_000_000);
    }

    #[cfg(any(target_os = "linux", target_os = "macos"))]
    #[test]
    fn parent_derived_stamp_is_stable_and_in_the_past() {
        let (a, _) = BuildStamp::from_go_process();
        let (b, _) = BuildStamp::from_go_process();
        assert_eq!(a.id, b.id);
        let now = now_unix_ns();
        assert!(a.start_unix_ns > 0 && a.start_unix_ns <= now);
        // Two derivations differ only by clock jitter, far below the 10 ms tick.
        assert!(a.start_unix_ns.abs_diff(b.start_unix_ns) < 10_000_000);
    }
}
