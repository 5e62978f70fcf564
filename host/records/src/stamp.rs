//! The build id and build start stamp that every invocation of one go command shares.
//!
//! `gohook build`/`gohook exec` choose them and pass them down in the environment. Under a bare
//! `go build -toolexec=/abs/gohook` nobody does, so each invocation derives them from the go process that started
//! it: its pid and its start time, read from `/proc` on Linux and from `proc_pidinfo` on macOS. All invocations of
//! one go command then agree on the id, and their start stamps land on one time axis that starts when go started.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::store::valid_build_id;

pub const ENV_BUILD_ID: &str = "GOHOOK_BUILD_ID";
pub const ENV_BUILD_START: &str = "GOHOOK_BUILD_START_NS";

/// Groups builds into one run (e.g. all targets of one goreleaser release); a file name, so an id.
pub const ENV_RUN: &str = "GOHOOK_RUN";
/// Names the build's target within its run (goreleaser's `{{ .Target }}`).
pub const ENV_TARGET: &str = "GOHOOK_TARGET";

/// The run and target labels the environment sets, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Labels {
    pub run: String,
    pub target: String,
}

impl Labels {
    /// `Ok(None)` when neither is set; an error names a run label that cannot be a file name.
    pub fn from_env() -> Result<Option<Labels>, LabelError> {
        let run = std::env::var(ENV_RUN).unwrap_or_default();
        let target = std::env::var(ENV_TARGET).unwrap_or_default();
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
#[error("{ENV_RUN}={run:?} is not a usable run label: use letters, digits, '-', '_' and '.' (at most 128)")]
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
        let id = std::env::var(ENV_BUILD_ID).ok().filter(|id| valid_build_id(id))?;
        let start_unix_ns = std::env::var(ENV_BUILD_START).ok()?.parse().ok()?;
        Some(BuildStamp { id, start_unix_ns })
    }

    pub fn env(&self) -> [(&'static str, String); 2] {
        [(ENV_BUILD_ID, self.id.clone()), (ENV_BUILD_START, self.start_unix_ns.to_string())]
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

/// What the OS tells about one process.
#[derive(Clone)]
struct ProcessInfo {
    comm: String,
    ppid: u32,
    /// The start time in the OS's own unit (clock ticks since boot, or Unix µs): stable, so it goes into the id.
    start: u64,
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
    Some((stamp, GoProcess { pid, cwd: os::cwd(pid) }))
}

/// The command line process `pid` was started with (empty when the OS does not tell).
pub fn command_line(pid: u32) -> Vec<String> {
    os::command_line(pid).unwrap_or_default()
}

/// The working directory of process `pid`.
pub fn process_cwd(pid: u32) -> Option<PathBuf> {
    os::cwd(pid)
}

pub fn unix_ns(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

pub fn now_unix_ns() -> u64 {
    unix_ns(SystemTime::now())
}

/// NUL-terminated strings, one after another.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))]
fn split_nul(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes.split(|&b| b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

#[cfg(target_os = "linux")]
mod os {
    use std::path::PathBuf;

    use super::{ProcessInfo, now_unix_ns, split_nul};

    pub(super) fn process(pid: u32) -> Option<ProcessInfo> {
        // One read into a stack buffer (a stat line is a few hundred bytes; comm is at most 64): bare-mode tool
        // invocations read their parent's line every time.
        let mut file = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
        let mut buffer = [0u8; 2048];
        let len = std::io::Read::read(&mut file, &mut buffer).ok()?;
        let text = std::str::from_utf8(buffer.get(..len)?).ok()?;
        // comm may hold spaces and parentheses: it runs from the first '(' to the last ')'.
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let comm = text.get(open + 1..close)?.to_owned();
        let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
        // Fields after comm start at field 3 (state): ppid is field 4, starttime field 22.
        Some(ProcessInfo { comm, ppid: fields.get(1)?.parse().ok()?, start: fields.get(19)?.parse().ok()? })
    }

    pub(super) fn cwd(pid: u32) -> Option<PathBuf> {
        std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
    }

    pub(super) fn command_line(pid: u32) -> Option<Vec<String>> {
        let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        Some(split_nul(&bytes))
    }

    /// `/proc` gives the start in clock ticks since boot; move it onto the Unix time axis through CLOCK_BOOTTIME.
    pub(super) fn start_unix_ns(start_ticks: u64) -> Option<u64> {
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if hz <= 0 {
            return None;
        }
        let mut boot = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut boot) } != 0 {
            return None;
        }
        let now_unix = now_unix_ns();
        let since_boot_now = boot.tv_sec as u64 * 1_000_000_000 + boot.tv_nsec as u64;
        let since_boot_start = start_ticks * (1_000_000_000 / hz as u64);
        Some(now_unix.saturating_sub(since_boot_now.saturating_sub(since_boot_start)))
    }
}

/// macOS has no `/proc`: libproc's `proc_pidinfo` gives the same facts, the start time already on the Unix axis
/// (microsecond resolution).
#[cfg(target_os = "macos")]
mod os {
    use std::ffi::{CStr, OsStr};
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

    use super::ProcessInfo;

    /// One `proc_pidinfo` answer of type `T` (plain C data), if the call filled it whole.
    fn pidinfo<T>(pid: u32, flavor: libc::c_int) -> Option<T> {
        let mut info = std::mem::MaybeUninit::<T>::zeroed();
        let size = std::mem::size_of::<T>() as libc::c_int;
        // SAFETY: the buffer is `size` bytes; proc_pidinfo writes at most that many and says how many it wrote.
        let got = unsafe { libc::proc_pidinfo(pid as libc::c_int, flavor, 0, info.as_mut_ptr().cast(), size) };
        // SAFETY: all-zero is a valid value of these C structs, and the call filled all of it.
        (got == size).then(|| unsafe { info.assume_init() })
    }

    pub(super) fn process(pid: u32) -> Option<ProcessInfo> {
        let bsd: libc::proc_bsdinfo = pidinfo(pid, libc::PROC_PIDTBSDINFO)?;
        let comm: Vec<u8> = bsd.pbi_comm.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
        Some(ProcessInfo {
            comm: String::from_utf8_lossy(&comm).into_owned(),
            ppid: bsd.pbi_ppid,
            start: bsd.pbi_start_tvsec * 1_000_000 + bsd.pbi_start_tvusec,
        })
    }

    pub(super) fn cwd(pid: u32) -> Option<PathBuf> {
        let vnode: libc::proc_vnodepathinfo = pidinfo(pid, libc::PROC_PIDVNODEPATHINFO)?;
        // vip_path is MAXPATHLEN bytes (declared as 32 x 32) holding a NUL-terminated path.
        let bytes: Vec<u8> = vnode.pvi_cdir.vip_path.as_flattened().iter().map(|&c| c as u8).collect();
        let path = CStr::from_bytes_until_nul(&bytes).ok()?;
        Some(PathBuf::from(OsStr::from_bytes(path.to_bytes())))
    }

    /// `KERN_PROCARGS2`: argc (a C int), the executable path, NUL padding, then argc NUL-terminated arguments.
    pub(super) fn command_line(pid: u32) -> Option<Vec<String>> {
        let mut mib = [libc::CTL_KERN, libc::KERN_PROCARGS2, pid as libc::c_int];
        let mut len = 0usize;
        // SAFETY: a null buffer asks for the size only.
        let sized =
            unsafe { libc::sysctl(mib.as_mut_ptr(), 3, std::ptr::null_mut(), &mut len, std::ptr::null_mut(), 0) };
        if sized != 0 || len < 4 {
            return None;
        }
        let mut buffer = vec![0u8; len];
        // SAFETY: the buffer holds `len` bytes, and sysctl writes at most that many.
        let read =
            unsafe { libc::sysctl(mib.as_mut_ptr(), 3, buffer.as_mut_ptr().cast(), &mut len, std::ptr::null_mut(), 0) };
        if read != 0 {
            return None;
        }
        buffer.truncate(len);
        let argc = i32::from_ne_bytes(buffer.get(..4)?.try_into().ok()?) as usize;
        let rest = buffer.get(4..)?;
        // Skip the executable path and the NULs after it.
        let path_end = rest.iter().position(|&b| b == 0)?;
        let args_start = path_end + rest[path_end..].iter().position(|&b| b != 0)?;
        Some(super::split_nul(&rest[args_start..]).into_iter().take(argc).collect())
    }

    /// The start is in Unix microseconds already.
    pub(super) fn start_unix_ns(start_us: u64) -> Option<u64> {
        Some(start_us * 1_000)
    }
}

/// Elsewhere nothing is known about other processes: [`BuildStamp::from_go_process`] groups by parent.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod os {
    use std::path::PathBuf;

    use super::ProcessInfo;

    pub(super) fn process(_pid: u32) -> Option<ProcessInfo> {
        None
    }

    pub(super) fn cwd(_pid: u32) -> Option<PathBuf> {
        None
    }

    pub(super) fn command_line(_pid: u32) -> Option<Vec<String>> {
        None
    }

    pub(super) fn start_unix_ns(_start: u64) -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
