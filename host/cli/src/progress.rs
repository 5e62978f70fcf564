//! The live progress line of `gohook build` on a terminal: tool runs done, tools running, time elapsed.
//!
//! Drawn on stderr four times a second, and only when stderr is a terminal (never into a CI log or a pipe). Runs
//! done are the build's records so far; tools running are the go process's children (each one a gohook shim).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gohook_records::{Record, Store};

use gohook_analysis::format_duration;

const TICK: Duration = Duration::from_millis(250);

/// A running progress line; [`Progress::finish`] erases it.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing for build `build_id`, run by go process `go_pid`; does nothing unless stderr is a terminal.
    pub fn start(store: &Store, build_id: &str, go_pid: u32) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Progress { stop, thread: None };
        }
        let (store, build_id, flag) = (store.clone(), build_id.to_owned(), stop.clone());
        let started = Instant::now();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                let done = runs_done(&store, &build_id);
                let running = os::children(go_pid).map_or(String::new(), |n| format!(", {n} running"));
                let _ = write!(
                    std::io::stderr(),
                    "\r\x1b[2Kgohook: {done} tool runs done{running}, {}",
                    format_duration(started.elapsed().as_nanos() as u64)
                );
            }
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        });
        Progress { stop, thread: Some(thread) }
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn runs_done(store: &Store, build_id: &str) -> usize {
    let Ok(file) = store.find(build_id) else { return 0 };
    store.load(&file).map_or(0, |decoded| {
        decoded.records.iter().filter(|r| matches!(r, Record::Tool(run) if !run.stage.is_probe())).count()
    })
}

#[cfg(target_os = "linux")]
mod os {
    /// go's children, from each of its threads' `children` list.
    pub(super) fn children(pid: u32) -> Option<usize> {
        let mut count = 0;
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
            let text = std::fs::read_to_string(task.ok()?.path().join("children")).ok()?;
            count += text.split_whitespace().count();
        }
        Some(count)
    }
}

#[cfg(target_os = "macos")]
mod os {
    pub(super) fn children(pid: u32) -> Option<usize> {
        let mut pids = [0 as libc::pid_t; 1024];
        let size = std::mem::size_of_val(&pids) as libc::c_int;
        // SAFETY: the buffer is `size` bytes; proc_listchildpids writes at most that much and returns the count.
        let n = unsafe { libc::proc_listchildpids(pid as libc::pid_t, pids.as_mut_ptr().cast(), size) };
        (n >= 0).then_some(n as usize)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod os {
    pub(super) fn children(_pid: u32) -> Option<usize> {
        None
    }
}
