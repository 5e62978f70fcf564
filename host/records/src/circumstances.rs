//! What a build ran on and how it was asked for: the machine (CPU model, cores, memory, OS), the go command (version,
//! command line, directory, GOMAXPROCS, `-p`, the GO* settings that change what it builds) and free-form labels.
//!
//! Two builds can only be compared fairly when these are known: `gohook compare` says what differs between its two
//! sides, and an export carries them to another machine. The shim records them at go's `-V=full` probes (a few per go
//! command, never per tool run), so bare `-toolexec` builds have them too.

use serde::{Deserialize, Serialize};

use crate::processes;

/// Settings that do not change what go builds or how fast (paths, caches, gohook's own plumbing): left out of
/// [`GoCommand::env`] so that two benchmark runs with private caches do not differ by them.
const UNCOMPARED_ENV: &[&str] =
    &["GOCACHE", "GOMODCACHE", "GOPATH", "GOTMPDIR", "GOENV", "GOROOT", "GOTOOLDIR", "GOCOVERDIR", "GOTELEMETRY"];

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Machine {
    /// `/proc/cpuinfo`'s "model name" on Linux, `machdep.cpu.brand_string` on macOS ("Apple M3 Max").
    pub cpu: String,
    /// Performance and efficiency cores, where the OS tells (Apple Silicon; Intel hybrid on Linux).
    pub performance_cores: Option<u32>,
    pub efficiency_cores: Option<u32>,
    pub logical_cpus: u32,
    pub memory_bytes: u64,
    /// `linux`, `macos`.
    pub os: String,
    /// Kernel release on Linux, product version on macOS ("15.1").
    pub os_version: String,
    pub arch: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct GoCommand {
    /// `go1.26.8`, from the compiler's own `-V=full` answer.
    pub version: String,
    /// The go command line as the process was started (`go build -o x .`).
    pub command: Vec<String>,
    pub dir: String,
    /// `GOMAXPROCS` go ran with (its environment, else the CPUs it may use).
    pub gomaxprocs: u32,
    /// How many tools go ran at once: its `-p` flag, else GOMAXPROCS.
    pub parallelism: u32,
    /// GO* and CGO_* settings in go's environment, sorted, without paths and caches.
    pub env: Vec<(String, String)>,
}

/// One build's circumstances.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildContext {
    pub build_id: String,
    pub machine: Machine,
    pub go: GoCommand,
    pub gohook_version: String,
    /// Sorted by key.
    pub labels: Vec<(String, String)>,
}

impl BuildContext {
    /// The circumstances of the go process `go_pid`, whose compiler answered `-V=full` with `version_answer`.
    pub fn current(build_id: &str, go_pid: u32, version_answer: &str) -> BuildContext {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let command = processes::command_line(go_pid);
        BuildContext {
            build_id: build_id.to_owned(),
            machine: Machine::current(),
            go: GoCommand::from_parts(version_answer, command, processes::process_cwd(go_pid), &env),
            gohook_version: crate::VERSION.to_owned(),
            labels: parse_labels(&gohook_process::env::labels()).unwrap_or_default(),
        }
    }

    /// What differs between two builds' circumstances, as `what: this vs that` lines; empty when nothing does.
    pub fn differences(&self, other: &BuildContext) -> Vec<Difference> {
        let mut out = Vec::new();
        let mut differ = |what: &str, a: String, b: String| {
            if a != b {
                out.push(Difference { what: what.to_owned(), old: a, new: b });
            }
        };
        let (m, n) = (&self.machine, &other.machine);
        differ("cpu", m.cpu.clone(), n.cpu.clone());
        differ("cores", m.cores(), n.cores());
        differ("memory", format_gib(m.memory_bytes), format_gib(n.memory_bytes));
        differ("os", format!("{} {}", m.os, m.os_version), format!("{} {}", n.os, n.os_version));
        differ("arch", m.arch.clone(), n.arch.clone());
        differ("go", self.go.version.clone(), other.go.version.clone());
        differ("GOMAXPROCS", self.go.gomaxprocs.to_string(), other.go.gomaxprocs.to_string());
        differ("-p", self.go.parallelism.to_string(), other.go.parallelism.to_string());
        differ("go flags", self.go.flags().join(" "), other.go.flags().join(" "));
        differ("gohook", self.gohook_version.clone(), other.gohook_version.clone());
        for (what, a, b) in [("", &self.go.env, &other.go.env), ("label ", &self.labels, &other.labels)] {
            let keys: std::collections::BTreeSet<&String> = a.iter().chain(b).map(|(k, _)| k).collect();
            let value = |pairs: &[(String, String)], key: &str| {
                pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
            };
            for key in keys {
                differ(&format!("{what}{key}"), value(a, key), value(b, key));
            }
        }
        out
    }

    /// One line for listings: `AMD EPYC 7B13, 2 CPUs, 23.4 GiB, linux 6.18.44, go1.26.8, -p 2`.
    pub fn describe(&self) -> String {
        let m = &self.machine;
        let mut line = format!(
            "{}, {}, {}, {} {}, {}, -p {}",
            if m.cpu.is_empty() { "unknown CPU" } else { &m.cpu },
            m.cores(),
            format_gib(m.memory_bytes),
            m.os,
            m.os_version,
            if self.go.version.is_empty() { "go ?" } else { &self.go.version },
            self.go.parallelism
        );
        if !self.labels.is_empty() {
            line.push_str(&format!(", labels {}", join_pairs(&self.labels)));
        }
        line
    }
}

/// One way two builds' circumstances differ.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub what: String,
    pub old: String,
    pub new: String,
}

impl Machine {
    pub fn current() -> Machine {
        let (performance_cores, efficiency_cores) = os::core_kinds();
        Machine {
            cpu: os::cpu_model().unwrap_or_default(),
            performance_cores,
            efficiency_cores,
            logical_cpus: logical_cpus(),
            memory_bytes: os::memory_bytes().unwrap_or(0),
            os: std::env::consts::OS.to_owned(),
            os_version: os::version().unwrap_or_default(),
            arch: std::env::consts::ARCH.to_owned(),
        }
    }

    /// `10 CPUs (8P+2E)` or `2 CPUs`.
    pub fn cores(&self) -> String {
        match (self.performance_cores, self.efficiency_cores) {
            (Some(p), Some(e)) if e > 0 => format!("{} CPUs ({p}P+{e}E)", self.logical_cpus),
            _ => format!("{} CPUs", self.logical_cpus),
        }
    }
}

impl GoCommand {
    fn from_parts(
        version_answer: &str,
        command: Vec<String>,
        dir: Option<std::path::PathBuf>,
        env: &[(String, String)],
    ) -> GoCommand {
        let gomaxprocs = env
            .iter()
            .find(|(k, _)| k == "GOMAXPROCS")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32));
        let parallelism = flag_after(&command, "-p").and_then(|p| p.parse().ok()).unwrap_or(gomaxprocs);
        let mut env: Vec<(String, String)> = env
            .iter()
            .filter(|(k, _)| {
                (k.starts_with("GO") || k.starts_with("CGO_")) && !k.starts_with(gohook_process::env::PREFIX)
            })
            .filter(|(k, _)| !UNCOMPARED_ENV.contains(&k.as_str()))
            .cloned()
            .collect();
        env.sort();
        GoCommand {
            version: go_version(version_answer),
            command,
            dir: dir.map(|d| d.display().to_string()).unwrap_or_default(),
            gomaxprocs,
            parallelism,
            env,
        }
    }

    /// The command line after `go build`/`go install`/…, without `-toolexec` (which every side has) and without
    /// the flags that only name where a file goes (`-o`, go's debug output files, which `gohook build` and `bench`
    /// add to every build with a scratch path): they do not change what is built.
    pub fn flags(&self) -> Vec<String> {
        const PLACES: &[&str] = &["o", "toolexec", "debug-actiongraph", "debug-trace", "debug-runtime-trace"];
        let mut flags = Vec::new();
        let mut args = self.command.iter().skip(2);
        while let Some(arg) = args.next() {
            let name = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'));
            match name.map(|n| n.split_once('=').map_or((n, false), |(n, _)| (n, true))) {
                Some((name, inline)) if PLACES.contains(&name) => {
                    if !inline {
                        args.next();
                    }
                }
                _ => flags.push(arg.clone()),
            }
        }
        flags
    }
}

/// `go1.26.8` out of `compile version go1.26.8` (plus `X:…` experiments, kept, as they change the compiler).
fn go_version(answer: &str) -> String {
    let line = answer.lines().next().unwrap_or("");
    line.split_once(" version ").map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

fn flag_after(command: &[String], flag: &str) -> Option<String> {
    let mut args = command.iter();
    while let Some(arg) = args.next() {
        if arg == flag {
            return args.next().cloned();
        }
        if let Some(value) = arg.strip_prefix(flag).and_then(|rest| rest.strip_prefix('=')) {
            return Some(value.to_owned());
        }
    }
    None
}

/// `key=value,key=value` into sorted pairs; an entry without `=` is an error naming it.
pub fn parse_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut labels = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                labels.push((key.trim().to_owned(), value.trim().to_owned()))
            }
            _ => return Err(format!("label {entry:?} is not key=value")),
        }
    }
    labels.sort();
    labels.dedup_by(|a, b| a.0 == b.0);
    Ok(labels)
}

pub fn join_pairs(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

fn format_gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

pub(crate) fn logical_cpus() -> u32 {
    // SAFETY: sysconf only reads.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 { n as u32 } else { 1 }
}

#[cfg(target_os = "linux")]
mod os {
    use std::io::Read;

    /// The first "model name" of `/proc/cpuinfo` (x86, and some arm64 kernels); read only as far as needed, since
    /// the file has a block per CPU.
    pub(super) fn cpu_model() -> Option<String> {
        let mut text = String::new();
        std::fs::File::open("/proc/cpuinfo").ok()?.take(64 * 1024).read_to_string(&mut text).ok()?;
        let field = |name: &str| {
            text.lines()
                .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        field("model name").or_else(|| field("Hardware")).or_else(|| field("cpu model"))
    }

    /// Intel hybrid CPUs list their P- and E-cores under `/sys/devices/cpu_core` and `cpu_atom`.
    pub(super) fn core_kinds() -> (Option<u32>, Option<u32>) {
        let count = |kind: &str| {
            let list = std::fs::read_to_string(format!("/sys/devices/{kind}/cpus")).ok()?;
            Some(count_cpu_list(list.trim()))
        };
        (count("cpu_core"), count("cpu_atom"))
    }

    /// `0-3,8,10-11` → 7.
    fn count_cpu_list(list: &str) -> u32 {
        list.split(',')
            .filter_map(|part| match part.split_once('-') {
                Some((a, b)) => Some(b.parse::<u32>().ok()?.saturating_sub(a.parse().ok()?) + 1),
                None => part.parse::<u32>().ok().map(|_| 1),
            })
            .sum()
    }

    pub(super) fn memory_bytes() -> Option<u64> {
        // SAFETY: sysconf only reads.
        let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
        (pages > 0 && size > 0).then(|| pages as u64 * size as u64)
    }

    pub(super) fn version() -> Option<String> {
        Some(std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?.trim().to_owned())
    }

    #[cfg(test)]
    #[test]
    fn cpu_lists_count() {
        assert_eq!(count_cpu_list("0-3,8,10-11"), 7);
        assert_eq!(count_cpu_list("0"), 1);
    }
}

#[cfg(target_os = "macos")]
mod os {
    use std::ffi::CString;

    /// One sysctl value by name: a string (`T = String`) or a plain integer.
    fn sysctl_bytes(name: &str) -> Option<Vec<u8>> {
        let name = CString::new(name).ok()?;
        let mut len = 0usize;
        // SAFETY: a null buffer asks for the size only.
        if unsafe { libc::sysctlbyname(name.as_ptr(), std::ptr::null_mut(), &mut len, std::ptr::null_mut(), 0) } != 0 {
            return None;
        }
        let mut buffer = vec![0u8; len];
        // SAFETY: the buffer holds `len` bytes, and sysctlbyname writes at most that many.
        if unsafe { libc::sysctlbyname(name.as_ptr(), buffer.as_mut_ptr().cast(), &mut len, std::ptr::null_mut(), 0) }
            != 0
        {
            return None;
        }
        buffer.truncate(len);
        Some(buffer)
    }

    fn sysctl_string(name: &str) -> Option<String> {
        let bytes = sysctl_bytes(name)?;
        let text = bytes.split(|&b| b == 0).next()?;
        Some(String::from_utf8_lossy(text).trim().to_owned()).filter(|s| !s.is_empty())
    }

    fn sysctl_u64(name: &str) -> Option<u64> {
        let bytes = sysctl_bytes(name)?;
        match bytes.len() {
            4 => Some(u32::from_ne_bytes(bytes.try_into().ok()?) as u64),
            8 => Some(u64::from_ne_bytes(bytes.try_into().ok()?)),
            _ => None,
        }
    }

    pub(super) fn cpu_model() -> Option<String> {
        sysctl_string("machdep.cpu.brand_string")
    }

    /// Apple Silicon: perflevel0 is the performance cluster, perflevel1 the efficiency one.
    pub(super) fn core_kinds() -> (Option<u32>, Option<u32>) {
        let levels = sysctl_u64("hw.nperflevels").unwrap_or(1);
        if levels < 2 {
            return (None, None);
        }
        let cores = |level: u32| sysctl_u64(&format!("hw.perflevel{level}.physicalcpu")).map(|n| n as u32);
        (cores(0), cores(1))
    }

    pub(super) fn memory_bytes() -> Option<u64> {
        sysctl_u64("hw.memsize")
    }

    pub(super) fn version() -> Option<String> {
        sysctl_string("kern.osproductversion")
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod os {
    pub(super) fn cpu_model() -> Option<String> {
        None
    }

    pub(super) fn core_kinds() -> (Option<u32>, Option<u32>) {
        (None, None)
    }

    pub(super) fn memory_bytes() -> Option<u64> {
        None
    }

    pub(super) fn version() -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn go_settings_come_from_the_command_line_and_environment() {
        let env =
            strings(&["GOAMD64=v3", "GOCACHE=/tmp/x", "GOHOOK_DIR=/r", "CGO_ENABLED=0", "HOME=/root", "GOMAXPROCS=4"])
                .into_iter()
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (k.to_owned(), v.to_owned())
                })
                .collect::<Vec<_>>();
        let command = strings(&[
            "go",
            "build",
            "-p",
            "3",
            "-toolexec",
            "/bin/gohook",
            "-debug-actiongraph=/tmp/gohook-actiongraph-1.json",
            "-o",
            "/tmp/out",
            "-debug-trace",
            "/tmp/t.json",
            "-trimpath",
            ".",
        ]);
        let go = GoCommand::from_parts("compile version go1.26.8 X:nocoverageredesign\n", command, None, &env);
        assert_eq!(go.version, "go1.26.8 X:nocoverageredesign");
        assert_eq!(go.gomaxprocs, 4);
        assert_eq!(go.parallelism, 3);
        assert_eq!(go.flags(), strings(&["-p", "3", "-trimpath", "."]));
        assert_eq!(
            go.env,
            vec![
                ("CGO_ENABLED".to_owned(), "0".to_owned()),
                ("GOAMD64".to_owned(), "v3".to_owned()),
                ("GOMAXPROCS".to_owned(), "4".to_owned())
            ]
        );
    }

    #[test]
    fn labels_parse_sorted_and_reject_bare_words() {
        assert_eq!(
            parse_labels("machine=m3, branch=main").unwrap(),
            vec![("branch".to_owned(), "main".to_owned()), ("machine".to_owned(), "m3".to_owned())]
        );
        assert_eq!(parse_labels("").unwrap(), vec![]);
        assert_eq!(parse_labels("oops").unwrap_err(), "label \"oops\" is not key=value");
    }

    #[test]
    fn differences_name_what_changed() {
        let mut a = BuildContext::default();
        a.machine.cpu = "Apple M1 Pro".into();
        a.go.version = "go1.26.8".into();
        let mut b = a.clone();
        b.machine.cpu = "Apple M3 Max".into();
        let diffs = a.differences(&b);
        assert_eq!(
            diffs,
            vec![Difference { what: "cpu".into(), old: "Apple M1 Pro".into(), new: "Apple M3 Max".into() }]
        );
        assert!(a.differences(&a).is_empty());
    }
}

/// The trace context a build's environment carried, kept raw: what it means is decided when the build is exported.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildTraceParent {
    pub build_id: String,
    /// `TRACEPARENT` (`00-<trace id>-<parent id>-<flags>`), empty when unset.
    pub traceparent: String,
    /// `TRACESTATE`, empty when unset.
    pub tracestate: String,
    /// `GITHUB_RUN_ID` and `GITHUB_RUN_ATTEMPT` when the build ran in GitHub Actions, else empty.
    pub github_run_id: String,
    pub github_run_attempt: String,
    /// The job's check run id (`${{ job.check_run_id }}`, handed over as GOHOOK_GITHUB_CHECK_RUN_ID), else empty.
    pub github_check_run_id: String,
}

impl BuildTraceParent {
    /// The trace context of this process's environment (W3C `TRACEPARENT`/`TRACESTATE`, as CI systems and otel-cli
    /// set them; GitHub Actions' run), or `None` when it carries none.
    pub fn from_env(build_id: &str) -> Option<BuildTraceParent> {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let in_github = var("GITHUB_ACTIONS") == "true";
        let parent = BuildTraceParent {
            build_id: build_id.to_owned(),
            traceparent: var("TRACEPARENT"),
            tracestate: var("TRACESTATE"),
            github_run_id: if in_github { var("GITHUB_RUN_ID") } else { String::new() },
            github_run_attempt: if in_github { var("GITHUB_RUN_ATTEMPT") } else { String::new() },
            github_check_run_id: if in_github { gohook_process::env::github_check_run_id() } else { String::new() },
        };
        (!parent.traceparent.is_empty() || !parent.github_run_id.is_empty()).then_some(parent)
    }
}
