//! What each tool invocation costs for being wrapped, beyond what gohook can see of itself.
//!
//! Inside one invocation gohook measures its own CPU (`getrusage(RUSAGE_SELF)`, which includes exec, the loader and
//! start-up). What it cannot see is the price of being one more process: the kernel's work to tear it down, and the
//! hand-offs between go, gohook and the tool when one waits for the other. That price depends on the machine, not on
//! the build, so gohook measures it once per gohook executable and machine, the way a benchmark would from outside:
//! `true` run directly and through gohook, interleaved, medians. A run's overhead in the report is then its own CPU
//! plus this constant, which agrees with what a benchmark measures from outside.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use gohook_analysis::ProcessCost;
use gohook_process::env::ShimEnvironment;
use gohook_records::{Record, Store, now_unix_ns};

/// Rounds of each (direct, through gohook), after some not counted (a new executable's pages come into the page
/// cache first): about 0.2 s in all.
const ROUNDS: usize = 101;
const WARMUP: usize = 10;

/// The saved calibration and the executable it belongs to: a rebuilt gohook is measured again.
#[derive(Serialize, Deserialize)]
struct Saved {
    executable: PathBuf,
    size: u64,
    modified_ns: u128,
    cost: ProcessCost,
}

/// The calibration of this machine's gohook, measured now if it was not yet (about 0.2 s, once).
pub fn process_cost(store: &Store) -> Option<ProcessCost> {
    let gohook = gohook_process::executables::gohook().ok()?;
    let (size, modified_ns) = identity(&gohook)?;
    let path = store.root().join("calibration.json");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(saved) = serde_json::from_str::<Saved>(&text)
        && saved.executable == gohook
        && saved.size == size
        && saved.modified_ns == modified_ns
    {
        return Some(saved.cost);
    }
    let cost = match measure(&gohook) {
        Ok(cost) => cost,
        Err(e) => {
            tracing::warn!("cannot calibrate gohook's per-invocation cost: {e}; overheads count gohook's own CPU only");
            return None;
        }
    };
    let saved = Saved { executable: gohook, size, modified_ns, cost };
    let written = gohook_records::create_private_dir(store.root())
        .and_then(|()| gohook_records::write_atomically(&path, &serde_json::to_vec(&saved).expect("serializes")));
    if let Err(e) = written {
        tracing::warn!("cannot save the calibration to {}: {e}", path.display());
    }
    Some(cost)
}

fn identity(path: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some((meta.len(), modified.as_nanos()))
}

/// `true` directly and through gohook in turn, with gohook's records going to a scratch store.
fn measure(gohook: &Path) -> std::io::Result<ProcessCost> {
    let tool = ["/usr/bin/true", "/bin/true"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .ok_or_else(|| std::io::Error::other("no /usr/bin/true or /bin/true to time"))?;
    let scratch = tempfile::tempdir()?;
    let time = |command: &mut Command| -> std::io::Result<u64> {
        let started = Instant::now();
        let status = command.status()?;
        let ns = started.elapsed().as_nanos() as u64;
        if !status.success() {
            return Err(std::io::Error::other(format!("{command:?} failed: {status}")));
        }
        Ok(ns)
    };
    let direct = || {
        let mut command = Command::new(tool);
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        command
    };
    // As `gohook build` runs the shim, with no policy and none of the caller's labels.
    let shim = ShimEnvironment {
        build: Some(("calibration".to_owned(), 1)),
        record_root: Some(scratch.path().to_owned()),
        policy: Some(None),
        run: Some(String::new()),
        target: Some(String::new()),
        ..ShimEnvironment::default()
    };
    let wrapped = || {
        let mut command = Command::new(gohook);
        command.arg(tool).current_dir(scratch.path()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        shim.apply(&mut command);
        command
    };
    let mut extra = Vec::with_capacity(ROUNDS);
    for round in 0..WARMUP + ROUNDS {
        let direct_ns = time(&mut direct())?;
        let wrapped_ns = time(&mut wrapped())?;
        if round >= WARMUP {
            extra.push(wrapped_ns as i64 - direct_ns as i64);
        }
    }
    let store = Store::new(scratch.path().to_owned());
    let build = store.find("calibration").map_err(std::io::Error::other)?;
    let own_cpu: Vec<i64> = store
        .load(&build)?
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Tool(run) => Some(run.gohook_cpu_ns as i64),
            _ => None,
        })
        .skip(WARMUP)
        .collect();
    if own_cpu.len() != ROUNDS {
        return Err(std::io::Error::other(format!("gohook wrote {} of {ROUNDS} records", own_cpu.len())));
    }
    // Per round, what gohook cost from outside beyond its own CPU; the median of those is robust against the
    // machine's speed drifting during the calibration.
    let mut process: Vec<i64> = extra.iter().zip(&own_cpu).map(|(extra, cpu)| extra - cpu).collect();
    let outside_ns = median(&mut extra).max(0) as u64;
    Ok(ProcessCost {
        process_ns: median(&mut process).max(0) as u64,
        outside_ns,
        rounds: ROUNDS as u32,
        measured_unix_ns: now_unix_ns(),
    })
}

fn median(values: &mut [i64]) -> i64 {
    values.sort_unstable();
    values[values.len() / 2]
}
