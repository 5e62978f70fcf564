//! What the OS tells about other processes — the go command a bare `-toolexec` invocation belongs to: its parent,
//! name, start time, working directory and command line (`/proc` on Linux, `proc_pidinfo` and `sysctl` on macOS) —
//! and the Unix clock every record's stamps are on.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the OS tells about one process.
#[derive(Clone)]
pub(crate) struct ProcessInfo {
    pub comm: String,
    pub ppid: u32,
    /// The start time in the OS's own unit (clock ticks since boot, or Unix µs): stable, so it goes into the id.
    pub start: u64,
}

/// One process of the process table, as [`processes`] saw it.
#[derive(Debug, Clone)]
pub struct ProcessEntry {
    pub pid: u32,
    pub ppid: u32,
    pub comm: String,
    /// As in bare-mode build ids: with the pid, it names one process even after the pid is reused.
    pub start: u64,
}

/// Every process the OS lists now (none where it does not tell). A sample: processes may come and go while it is
/// taken.
pub fn processes() -> Vec<ProcessEntry> {
    os::pids()
        .into_iter()
        .filter_map(|pid| {
            let info = os::process(pid)?;
            Some(ProcessEntry { pid, ppid: info.ppid, comm: info.comm, start: info.start })
        })
        .collect()
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

pub(crate) use os::{process, start_unix_ns};

#[cfg(target_os = "linux")]
mod os {
    use std::path::PathBuf;

    use super::{ProcessInfo, now_unix_ns, split_nul};

    pub(crate) fn process(pid: u32) -> Option<ProcessInfo> {
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

    pub(crate) fn cwd(pid: u32) -> Option<PathBuf> {
        std::fs::read_link(format!("/proc/{pid}/cwd")).ok()
    }

    pub(crate) fn pids() -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect()
    }

    pub(crate) fn command_line(pid: u32) -> Option<Vec<String>> {
        let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        Some(split_nul(&bytes))
    }

    /// `/proc` gives the start in clock ticks since boot; move it onto the Unix time axis through CLOCK_BOOTTIME.
    pub(crate) fn start_unix_ns(start_ticks: u64) -> Option<u64> {
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

    pub(crate) fn process(pid: u32) -> Option<ProcessInfo> {
        let bsd: libc::proc_bsdinfo = pidinfo(pid, libc::PROC_PIDTBSDINFO)?;
        let comm: Vec<u8> = bsd.pbi_comm.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
        Some(ProcessInfo {
            comm: String::from_utf8_lossy(&comm).into_owned(),
            ppid: bsd.pbi_ppid,
            start: bsd.pbi_start_tvsec * 1_000_000 + bsd.pbi_start_tvusec,
        })
    }

    pub(crate) fn pids() -> Vec<u32> {
        // SAFETY: a null buffer asks for the number of processes only.
        let count = unsafe { libc::proc_listallpids(std::ptr::null_mut(), 0) };
        if count <= 0 {
            return Vec::new();
        }
        // Room for processes started since the count.
        let mut pids = vec![0 as libc::c_int; count as usize + 64];
        let size = (pids.len() * std::mem::size_of::<libc::c_int>()) as libc::c_int;
        // SAFETY: the buffer holds `size` bytes; proc_listallpids writes at most that many and returns how many pids.
        let got = unsafe { libc::proc_listallpids(pids.as_mut_ptr().cast(), size) };
        pids.truncate(got.max(0) as usize);
        pids.into_iter().filter(|&p| p > 0).map(|p| p as u32).collect()
    }

    pub(crate) fn cwd(pid: u32) -> Option<PathBuf> {
        let vnode: libc::proc_vnodepathinfo = pidinfo(pid, libc::PROC_PIDVNODEPATHINFO)?;
        // vip_path is MAXPATHLEN bytes (declared as 32 x 32) holding a NUL-terminated path.
        let bytes: Vec<u8> = vnode.pvi_cdir.vip_path.as_flattened().iter().map(|&c| c as u8).collect();
        let path = CStr::from_bytes_until_nul(&bytes).ok()?;
        Some(PathBuf::from(OsStr::from_bytes(path.to_bytes())))
    }

    /// `KERN_PROCARGS2`: argc (a C int), the executable path, NUL padding, then argc NUL-terminated arguments.
    pub(crate) fn command_line(pid: u32) -> Option<Vec<String>> {
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
    pub(crate) fn start_unix_ns(start_us: u64) -> Option<u64> {
        Some(start_us * 1_000)
    }
}

/// Elsewhere nothing is known about other processes: [`BuildStamp::from_go_process`] groups by parent.
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod os {
    use std::path::PathBuf;

    use super::ProcessInfo;

    pub(crate) fn process(_pid: u32) -> Option<ProcessInfo> {
        None
    }

    pub(crate) fn cwd(_pid: u32) -> Option<PathBuf> {
        None
    }

    pub(crate) fn pids() -> Vec<u32> {
        Vec::new()
    }

    pub(crate) fn command_line(_pid: u32) -> Option<Vec<String>> {
        None
    }

    pub(crate) fn start_unix_ns(_start: u64) -> Option<u64> {
        None
    }
}
