//! A build's records as Chrome Trace Event JSON, the format of `go build -debug-trace=FILE`.
//!
//! Timestamps are microseconds since the Unix epoch, as go writes them, so the two files share a time base: their
//! arrays can be concatenated (or merged with `--merge`) and opened together in Perfetto or chrome://tracing.
//! go uses pid 0; gohook uses pid 1 and puts overlapping tool runs on separate lanes (tids), and the critical path
//! (when the build recorded its package graph) on a track of its own, pid 2.

use serde_json::{Value, json};

use crate::critical_path::CriticalPath;
use crate::model::BuildRecords;
use gohook_records::ToolRun;

const PID: u32 = 1;
const CRITICAL_PATH_PID: u32 = 2;

fn micros(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

/// The events of one build: the build span on lane 0, each tool run as a complete ("X") event on lanes 1 and up.
pub fn events(build: &BuildRecords) -> Vec<Value> {
    let mut events = vec![
        json!({"name": "process_name", "ph": "M", "pid": PID, "args": {"name": format!("gohook build {}", build.id)}}),
        json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": 0, "args": {"name": "build"}}),
    ];
    let command = build.start.as_ref().map_or_else(|| "go (bare -toolexec)".to_owned(), |s| s.command.join(" "));
    events.push(json!({
        "name": command,
        "cat": "build",
        "ph": "X",
        "ts": micros(build.start_unix_ns()),
        "dur": micros(build.end_unix_ns().saturating_sub(build.start_unix_ns())),
        "pid": PID,
        "tid": 0,
        "args": {"build_id": build.id},
    }));

    let lanes = lanes(&build.runs);
    for lane in 1..=lanes.iter().max().map_or(0, |max| max + 1) {
        events.push(json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": lane,
                           "args": {"name": format!("lane {lane}")}}));
    }
    for (run, lane) in build.runs.iter().zip(lanes) {
        events.push(run_event(run, lane + 1));
    }
    if let Some(path) = CriticalPath::of(build, None) {
        events.push(
            json!({"name": "process_name", "ph": "M", "pid": CRITICAL_PATH_PID, "args": {"name": "critical path"}}),
        );
        for step in &path.steps {
            events.push(json!({
                "name": step.name,
                "cat": "critical-path",
                "ph": "X",
                "ts": micros(step.start_unix_ns),
                "dur": micros(step.end_unix_ns.saturating_sub(step.start_unix_ns)),
                "pid": CRITICAL_PATH_PID,
                "tid": 0,
                "args": {"work_ms": step.work_ns as f64 / 1e6, "share": step.share, "queued_ms": step.queued_ns as f64 / 1e6},
            }));
        }
    }
    events
}

/// A lane per run (runs in start order): the first lane free when it starts, so runs on one lane never overlap and
/// the number of lanes is the build's peak concurrency.
pub fn lanes<'a>(runs: impl IntoIterator<Item = &'a ToolRun>) -> Vec<usize> {
    let mut lane_ends: Vec<u64> = Vec::new();
    let mut lanes = Vec::new();
    for run in runs {
        let lane = lane_ends.iter().position(|&end| end <= run.start_unix_ns).unwrap_or_else(|| {
            lane_ends.push(0);
            lane_ends.len() - 1
        });
        lane_ends[lane] = run.end_unix_ns();
        lanes.push(lane);
    }
    lanes
}

fn run_event(run: &ToolRun, tid: usize) -> Value {
    let name = if run.package.is_empty() { run.tool.clone() } else { format!("{} {}", run.tool, run.package) };
    json!({
        "name": name,
        "cat": run.stage.name(),
        "ph": "X",
        "ts": micros(run.start_unix_ns),
        "dur": micros(run.duration_ns),
        "pid": PID,
        "tid": tid,
        "args": {
            "package": run.package,
            "goos": run.goos,
            "goarch": run.goarch,
            "exit": run.exit.to_string(),
            "user_ms": run.user_ns as f64 / 1e6,
            "sys_ms": run.sys_ns as f64 / 1e6,
            "max_rss_bytes": run.max_rss_bytes,
            "gohook_us": micros(run.gohook_ns),
            "plugin_us": micros(run.plugin_ns),
        },
    })
}

/// Reads a `-debug-trace` file. go writes `]` only when it exits cleanly, so a missing one is tolerated.
pub fn parse_go_trace(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::from_str(text).or_else(|first_error| {
        let closed = format!("{}]", text.trim_end().trim_end_matches(','));
        serde_json::from_str(&closed).map_err(|_| first_error)
    })
}
