//! What gohook asks the compiler and linker to measure about themselves: their phases (`gohook build --phases`,
//! `[records] phases = true`) and their CPU profiles (`gohook build --cpuprofile`).
//!
//! The flags added here change nothing go builds or caches: go computed its cache keys before it started the tool,
//! and none of them changes what the tool writes. The linker prints its phases on stdout, which go would show and
//! cache as the link's output, so gohook takes those lines out and passes the rest on.

use std::ffi::OsString;
use std::path::PathBuf;

use gohook_records::{Phase, Stage};

use crate::Invocation;

/// What one tool run is asked to report, and where it will be.
#[derive(Debug, Default)]
pub struct Requests {
    /// The compiler's `-bench` file.
    compile_phases: Option<PathBuf>,
    /// The linker's `-benchmark=cpu`, printed on its stdout.
    link_phases: bool,
    cpu_profile: Option<PathBuf>,
}

impl Requests {
    /// The requests for `invocation`: none for anything but a compile or a link, and none unless asked for
    /// (`phases`: by the policy or `gohook build --phases`; a CPU profile: by `gohook build --cpuprofile`).
    pub fn for_invocation(invocation: &Invocation, phases: bool) -> Requests {
        if !matches!(invocation.stage, Stage::Compile | Stage::Link) {
            return Requests::default();
        }
        let profile_dir = gohook_process::env::cpuprofile_dir();
        if !phases && profile_dir.is_none() {
            return Requests::default();
        }
        // Unique among the files of concurrent and later runs: the pid is unique while this process lives, the
        // clock tells apart a recycled pid.
        let unique = format!("{}-{}", std::process::id(), gohook_records::now_unix_ns());
        let is_compile = invocation.stage == Stage::Compile;
        Requests {
            compile_phases: (phases && is_compile)
                .then(|| std::env::temp_dir().join(format!("gohook-phases-{unique}.txt"))),
            link_phases: phases && !is_compile,
            cpu_profile: profile_dir.map(|dir| dir.join(format!("{}-{unique}.pprof", invocation.tool))),
        }
    }

    /// Flags to put before the tool's own arguments (both tools take flags in any order before their inputs); none,
    /// and no allocation, when nothing is asked.
    pub fn flags(&self) -> Vec<OsString> {
        let mut flags = Vec::new();
        if let Some(file) = &self.compile_phases {
            flags.push(flag("-bench=", file));
        }
        if self.link_phases {
            flags.push("-benchmark=cpu".into());
        }
        if let Some(file) = &self.cpu_profile {
            flags.push(flag("-cpuprofile=", file));
        }
        flags
    }

    /// Whether gohook must read the tool's stdout (to take the linker's phase lines out of it).
    pub fn reads_stdout(&self) -> bool {
        self.link_phases
    }

    /// The phases and profile the tool reported; `stdout` keeps only what go should see. The compiler's phase file
    /// is removed once read. Nothing asked, nothing read.
    pub fn collect(&self, stdout: &mut Vec<u8>) -> (Vec<Phase>, Option<String>) {
        let mut phases = Vec::new();
        if let Some(file) = &self.compile_phases {
            if let Ok(text) = std::fs::read_to_string(file) {
                phases = compiler_phases(&text);
            }
            let _ = std::fs::remove_file(file);
        }
        if self.link_phases {
            let (found, rest) = linker_phases(stdout);
            phases = found;
            *stdout = rest;
        }
        let profile = self.cpu_profile.as_ref().filter(|p| p.is_file()).map(|p| p.to_string_lossy().into_owned());
        (phases, profile)
    }
}

fn flag(name: &str, path: &std::path::Path) -> OsString {
    let mut flag = OsString::from(name);
    flag.push(path);
    flag
}

/// `BenchmarkCompile:<pkg>:fe:parse  1  2011359 ns/op  2.38 % …` lines of the compiler's `-bench` file.
pub fn compiler_phases(text: &str) -> Vec<Phase> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?.strip_prefix("BenchmarkCompile:")?;
            let ns = nanoseconds(fields)?;
            // The package path may hold colons in theory; the phase is the last two parts.
            let mut parts = name.rsplitn(3, ':');
            let (step, part) = (parts.next()?, parts.next()?);
            let is_sum = step == "subtotal" || part == "total" || step == "total";
            (!is_sum).then(|| Phase { name: format!("{part}:{step}"), ns })
        })
        .collect()
}

/// Splits the linker's stdout into its `-benchmark=cpu` lines (`BenchmarkLoadlib 1 45920881 ns/op …`) and the rest.
pub fn linker_phases(stdout: &[u8]) -> (Vec<Phase>, Vec<u8>) {
    let mut phases = Vec::new();
    let mut rest = Vec::with_capacity(stdout.len());
    for line in stdout.split_inclusive(|&b| b == b'\n') {
        match std::str::from_utf8(line).ok().and_then(linker_phase) {
            Some(Some(phase)) => phases.push(phase),
            Some(None) => {}
            None => rest.extend_from_slice(line),
        }
    }
    (phases, rest)
}

/// `Some(Some(phase))` for a phase line, `Some(None)` for the total line, `None` for anything else.
fn linker_phase(line: &str) -> Option<Option<Phase>> {
    let mut fields = line.split_whitespace();
    let name = fields.next()?.strip_prefix("Benchmark")?;
    let ns = nanoseconds(fields)?;
    if name == "TotalTime" {
        return Some(None);
    }
    let mut chars = name.chars();
    let first = chars.next()?.to_ascii_lowercase();
    Some(Some(Phase { name: std::iter::once(first).chain(chars).collect(), ns }))
}

/// `1 <N> ns/op` after a benchmark name.
fn nanoseconds<'a>(mut fields: impl Iterator<Item = &'a str>) -> Option<u64> {
    let (iterations, ns, unit) = (fields.next()?, fields.next()?, fields.next()?);
    (iterations == "1" && unit == "ns/op").then_some(())?;
    ns.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_phases_leave_out_subtotals_and_total() {
        let text = "commit: go1.26.8\ngoos: linux\n\
            BenchmarkCompile:main:fe:init                       1      632767 ns/op      0.75 %\n\
            BenchmarkCompile:main:fe:parse                      1     2011359 ns/op      2.38 %    4 lines    1989 lines/s\n\
            BenchmarkCompile:main:fe:subtotal                   1    81391857 ns/op     96.47 %\n\
            BenchmarkCompile:a/b:c:be:compilefuncs              1     2377681 ns/op      2.82 %    2 funcs     841 funcs/s\n\
            BenchmarkCompile:main:be:subtotal                   1     2980504 ns/op      3.53 %\n\
            BenchmarkCompile:main:total                         1    84372361 ns/op    100.00 %\n";
        let names: Vec<(String, u64)> = compiler_phases(text).into_iter().map(|p| (p.name, p.ns)).collect();
        assert_eq!(
            names,
            [("fe:init".into(), 632767), ("fe:parse".into(), 2011359), ("be:compilefuncs".into(), 2377681)]
        );
    }

    #[test]
    fn linker_phase_lines_are_taken_out_of_stdout() {
        let stdout = b"BenchmarkLoadlib 1 45920881 ns/op\t15472088 B/op\t4386 allocs/op\t13101776 heap-B\n\
            a line of the linker's own\n\
            BenchmarkDwarfGenerateDebugInfo 1 22964556 ns/op\t3768408 B/op\t46513 allocs/op\t13443912 heap-B\n\
            BenchmarkTotalTime 1 168051334 ns/op\n\
            no newline at the end";
        let (phases, rest) = linker_phases(stdout);
        let names: Vec<(String, u64)> = phases.into_iter().map(|p| (p.name, p.ns)).collect();
        assert_eq!(names, [("loadlib".into(), 45920881), ("dwarfGenerateDebugInfo".into(), 22964556)]);
        assert_eq!(rest, b"a line of the linker's own\nno newline at the end");
    }
}
