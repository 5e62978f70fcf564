//! How busy the machine was with other work while a build ran: the CPU time all of its cores spent busy over the
//! build (Linux `/proc/stat`, macOS `host_statistics`), less the CPU of the build's own processes (go, its tools,
//! gohook; `getrusage` of the driver's children), and the time a hypervisor gave the machine's CPUs to other
//! guests (steal, where the kernel reports it).
//!
//! A build that shared its machine ran slower than it would alone, by an amount its own records cannot tell: a
//! compile waiting for a core another program holds looks like a slow compile. Knowing the others' share lets
//! `report`, `compare` and the what-if say so instead of mistaking the machine for the build. Sampled by the driver
//! (`gohook build`, `exec`, `bench`) before and after go: a bare `-toolexec` build has no such figure.

use serde::{Deserialize, Serialize};

/// What the machine did while one build ran, written by the driver after go exited.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildLoad {
    pub build_id: String,
    /// The span measured: from just before go started to just after it exited.
    pub wall_ns: u64,
    /// The machine's logical CPUs.
    pub cpus: u32,
    /// CPU time all cores spent busy (user, nice, system, interrupts) over the span.
    pub machine_busy_ns: u64,
    /// CPU time the hypervisor ran other guests on this machine's CPUs over the span; 0 where not reported.
    pub steal_ns: u64,
    /// CPU time of the build's own processes (go, its tools, gohook, `go list`) over the span.
    pub build_cpu_ns: u64,
}

impl BuildLoad {
    /// CPU time the machine spent on work other than the build: busy time less the build's own.
    pub fn outside_ns(&self) -> u64 {
        self.machine_busy_ns.saturating_sub(self.build_cpu_ns)
    }

    /// How many cores other work (and steal) kept busy on average while the build ran.
    pub fn others_cores(&self) -> f64 {
        if self.wall_ns == 0 {
            return 0.0;
        }
        (self.outside_ns() + self.steal_ns) as f64 / self.wall_ns as f64
    }

    /// The cores the build had to itself on average: the machine's, less the others'.
    pub fn free_cores(&self) -> f64 {
        (self.cpus as f64 - self.others_cores()).max(0.0)
    }

    /// Whether other work took enough of the machine to change the build's times: at least [`SHARED`] of a core on
    /// average.
    pub fn shared(&self) -> bool {
        self.others_cores() >= SHARED
    }

    /// `others kept 0.93 of the 2 CPUs busy while it ran (steal 0.00)`.
    pub fn describe(&self) -> String {
        let stolen = self.steal_ns as f64 / self.wall_ns.max(1) as f64;
        let steal =
            if stolen >= 0.005 { format!(", {stolen:.2} of them stolen by the hypervisor") } else { String::new() };
        format!(
            "other work kept {:.2} of the {} CPUs busy on average while it ran{steal}",
            self.others_cores(),
            self.cpus
        )
    }
}

/// Other work on at least this share of a core changes a build's times by more than run-to-run noise (a quiet
/// 2-core machine measures 0.02-0.05 outside a build: the kernel, the shell, the terminal).
pub const SHARED: f64 = 0.25;

/// The machine's and the build's CPU counters at one moment; two make a [`BuildLoad`].
#[derive(Debug, Clone, Copy)]
pub struct LoadSample {
    at_ns: u64,
    machine: Option<CpuTimes>,
    children_cpu_ns: u64,
}

/// The machine's CPU time so far, all cores together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CpuTimes {
    busy_ns: u64,
    steal_ns: u64,
}

impl LoadSample {
    /// Now: the machine's counters, and the CPU of this process and of its children that have been waited for.
    pub fn now() -> LoadSample {
        LoadSample { at_ns: crate::now_unix_ns(), machine: os::cpu_times(), children_cpu_ns: own_cpu_ns() }
    }

    /// What happened between `self` and `later`; `None` where the machine's counters cannot be read.
    pub fn until(&self, later: &LoadSample, build_id: &str) -> Option<BuildLoad> {
        let (before, after) = (self.machine?, later.machine?);
        Some(BuildLoad {
            build_id: build_id.to_owned(),
            wall_ns: later.at_ns.saturating_sub(self.at_ns),
            cpus: crate::circumstances::logical_cpus(),
            machine_busy_ns: after.busy_ns.saturating_sub(before.busy_ns),
            steal_ns: after.steal_ns.saturating_sub(before.steal_ns),
            build_cpu_ns: later.children_cpu_ns.saturating_sub(self.children_cpu_ns),
        })
    }
}

/// User + system CPU of this process (the driver reads go's stderr and keeps the progress line) and of its
/// terminated, waited-for children and their waited-for descendants (go, and through it every tool and shim).
fn own_cpu_ns() -> u64 {
    let cpu = |who: libc::c_int| {
        // SAFETY: getrusage fills the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(who, &mut usage) } != 0 {
            return 0;
        }
        let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
        ns(usage.ru_utime) + ns(usage.ru_stime)
    };
    cpu(libc::RUSAGE_SELF) + cpu(libc::RUSAGE_CHILDREN)
}

/// Clock ticks per second of the kernel's CPU counters (`USER_HZ`).
fn ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as u64 } else { 100 }
}

#[cfg(target_os = "linux")]
mod os {
    use super::CpuTimes;

    /// The `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq steal (guest time is inside user).
    pub(super) fn cpu_times() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        parse(stat.lines().next()?, super::ticks_per_second())
    }

    pub(super) fn parse(line: &str, hz: u64) -> Option<CpuTimes> {
        let mut fields = line.split_whitespace();
        if fields.next()? != "cpu" {
            return None;
        }
        let ticks: Vec<u64> = fields.map(|f| f.parse().unwrap_or(0)).collect();
        let at = |i: usize| ticks.get(i).copied().unwrap_or(0);
        let to_ns = |t: u64| t * 1_000_000_000 / hz;
        Some(CpuTimes { busy_ns: to_ns(at(0) + at(1) + at(2) + at(5) + at(6)), steal_ns: to_ns(at(7)) })
    }
}

#[cfg(target_os = "macos")]
mod os {
    use super::CpuTimes;

    /// `host_statistics(HOST_CPU_LOAD_INFO)`: ticks per state, all CPUs together; macOS reports no steal.
    #[allow(deprecated)] // libc points to the mach2 crate for mach_host_self; the call is the same.
    pub(super) fn cpu_times() -> Option<CpuTimes> {
        let mut info = libc::host_cpu_load_info { cpu_ticks: [0; libc::CPU_STATE_MAX as usize] };
        let mut count = libc::HOST_CPU_LOAD_INFO_COUNT;
        // SAFETY: the buffer is a host_cpu_load_info, and count says how many integers it holds.
        let status = unsafe {
            libc::host_statistics(
                libc::mach_host_self(),
                libc::HOST_CPU_LOAD_INFO,
                (&mut info as *mut libc::host_cpu_load_info).cast(),
                &mut count,
            )
        };
        if status != libc::KERN_SUCCESS {
            return None;
        }
        let ticks = |state: libc::c_int| info.cpu_ticks[state as usize] as u64;
        let busy = ticks(libc::CPU_STATE_USER) + ticks(libc::CPU_STATE_SYSTEM) + ticks(libc::CPU_STATE_NICE);
        Some(CpuTimes { busy_ns: busy * 1_000_000_000 / super::ticks_per_second(), steal_ns: 0 })
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod os {
    pub(super) fn cpu_times() -> Option<super::CpuTimes> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_stat_counts_busy_and_stolen_time() {
        let line = "cpu  100 20 30 5000 40 5 6 7 0 0";
        let times = os::parse(line, 100).unwrap();
        assert_eq!(times, CpuTimes { busy_ns: 1_610_000_000, steal_ns: 70_000_000 });
        assert_eq!(os::parse("cpu0 1 2 3", 100), None);
    }

    #[test]
    fn others_are_the_machines_busy_time_less_the_builds() {
        let load = BuildLoad {
            build_id: "b".into(),
            wall_ns: 10_000_000_000,
            cpus: 2,
            machine_busy_ns: 19_000_000_000,
            steal_ns: 500_000_000,
            build_cpu_ns: 10_000_000_000,
        };
        assert_eq!(load.outside_ns(), 9_000_000_000);
        assert!((load.others_cores() - 0.95).abs() < 1e-9);
        assert!((load.free_cores() - 1.05).abs() < 1e-9);
        assert!(load.shared());
        assert_eq!(
            load.describe(),
            "other work kept 0.95 of the 2 CPUs busy on average while it ran, 0.05 of them stolen by the hypervisor"
        );
    }
}
