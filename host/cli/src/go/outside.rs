//! Go tools that run under a build without going through gohook: a test's `go tool nm` builds the tool (and the
//! packages it needs) with no `-toolexec`, and so does a go command whose GOFLAGS a test cleared. Their keys in go's
//! cache differ from the build's (`-toolexec` is part of every key), so they compile again what the build had
//! compiled, and no shim times them. They can only be seen from outside: the driver samples the process table while
//! the build runs, and counts the compiles, links and assemblies whose parent is a go command (a shim's are the
//! shim's children) below the driver.
//!
//! Only commands that run the user's programs are watched (`gohook exec -- go test`, `go run`, a script): `go build`
//! starts nothing but its tools. Each sample reads every process's status line (a few ms on a few hundred
//! processes), so the interval stays coarse; a run shorter than it may go unseen, and the counts are lower bounds.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gohook_records::{ProcessEntry, UnrecordedTools, command_line, processes};

const INTERVAL: Duration = Duration::from_millis(100);
const TOOLS: [&str; 4] = ["compile", "link", "asm", "cgo"];

/// The sampling thread, running until [`Watch::finish`].
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Seen>,
}

/// Each unrecorded tool run seen, by (pid, start): its tool and how long it was seen running; the go commands above.
#[derive(Default)]
struct Seen {
    runs: HashMap<(u32, u64), (String, Instant, Instant)>,
    go_commands: BTreeSet<String>,
    go_seen: HashSet<(u32, u64)>,
}

impl Watch {
    /// Starts sampling for tools below process `driver` (this gohook).
    pub fn start(driver: u32) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = Seen::default();
            while !flag.load(Ordering::Relaxed) {
                seen.sample(&processes(), driver, Instant::now());
                std::thread::sleep(INTERVAL);
            }
            seen
        });
        Watch { stop, thread }
    }

    /// Stops sampling; what was seen, as a record for `build_id`, when anything was.
    pub fn finish(self, build_id: &str) -> Option<UnrecordedTools> {
        self.stop.store(true, Ordering::Relaxed);
        let seen = self.thread.join().ok()?;
        if seen.runs.is_empty() {
            return None;
        }
        let mut tools: BTreeMap<String, u32> = BTreeMap::new();
        let mut seen_ns = 0;
        for (tool, first, last) in seen.runs.values() {
            *tools.entry(tool.clone()).or_default() += 1;
            seen_ns += last.duration_since(*first).as_nanos() as u64;
        }
        Some(UnrecordedTools {
            build_id: build_id.to_owned(),
            tools: tools.into_iter().collect(),
            seen_ns,
            go_commands: seen.go_commands.into_iter().collect(),
        })
    }
}

impl Seen {
    fn sample(&mut self, table: &[ProcessEntry], driver: u32, now: Instant) {
        let by_pid: HashMap<u32, &ProcessEntry> = table.iter().map(|p| (p.pid, p)).collect();
        for process in table.iter().filter(|p| TOOLS.contains(&p.comm.as_str())) {
            let Some(parent) = by_pid.get(&process.ppid).filter(|parent| parent.comm == "go") else { continue };
            if !descends_from(parent, driver, &by_pid) {
                continue;
            }
            let run = self.runs.entry((process.pid, process.start)).or_insert((process.comm.clone(), now, now));
            run.2 = now;
            if self.go_seen.insert((parent.pid, parent.start)) {
                let line = command_line(parent.pid).join(" ");
                self.go_commands.insert(if line.is_empty() { format!("go (pid {})", parent.pid) } else { line });
            }
        }
    }
}

/// Whether `process` is below `driver` in the process tree.
fn descends_from(process: &ProcessEntry, driver: u32, by_pid: &HashMap<u32, &ProcessEntry>) -> bool {
    let mut pid = process.ppid;
    for _ in 0..32 {
        if pid == driver {
            return true;
        }
        match by_pid.get(&pid) {
            Some(parent) if parent.ppid > 1 => pid = parent.ppid,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pid: u32, ppid: u32, comm: &str) -> ProcessEntry {
        ProcessEntry { pid, ppid, comm: comm.to_owned(), start: u64::from(pid) }
    }

    #[test]
    fn only_tools_that_go_ran_itself_below_the_driver_count() {
        let table = [
            entry(10, 1, "gohook"),
            entry(11, 10, "go"),
            // The build's own compile: the shim's child.
            entry(12, 11, "gohook"),
            entry(13, 12, "compile"),
            // A test binary's `go tool nm`, building without gohook.
            entry(20, 11, "lib.test"),
            entry(21, 20, "go"),
            entry(22, 21, "compile"),
            entry(23, 21, "link"),
            // Someone else's go build on the machine.
            entry(30, 1, "go"),
            entry(31, 30, "compile"),
        ];
        let mut seen = Seen::default();
        let start = Instant::now();
        seen.sample(&table, 10, start);
        seen.sample(&table[..7], 10, start + INTERVAL);
        let mut runs: Vec<(u32, &str, Duration)> =
            seen.runs.iter().map(|((pid, _), (tool, first, last))| (*pid, tool.as_str(), *last - *first)).collect();
        runs.sort();
        assert_eq!(runs, [(22, "compile", INTERVAL), (23, "link", Duration::ZERO)]);
    }
}
