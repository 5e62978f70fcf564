//! What `gohook build` asks go itself to tell: its plan (`-debug-actiongraph`: every compile and link, run or served
//! from its cache, with action ids and ready/start/done times) and the inputs of its cache keys
//! (`GODEBUG=gocachehash=1`: the lines go hashes into each action id, printed on its stderr).
//!
//! Both are go's debugging aids, undocumented and free to change between go versions: anything missing or unreadable
//! is said once and the build goes on without it; `gohook report` and `gohook why` then say what they cannot tell.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use gohook_records::{ActionInputs, BuildCacheInputs, GoAction, go_unquote};

/// The `-debug-actiongraph` flag for `file`.
pub fn action_graph_flag(file: &Path) -> OsString {
    let mut flag = OsString::from("-debug-actiongraph=");
    flag.push(file);
    flag
}

/// `GODEBUG` with `gocachehash=1` added to what the caller's environment has.
pub fn godebug_with_cache_hashes() -> String {
    match std::env::var("GODEBUG") {
        Ok(existing) if !existing.is_empty() => format!("{existing},gocachehash=1"),
        _ => "gocachehash=1".to_owned(),
    }
}

/// One action of go's `-debug-actiongraph` file (the fields gohook reads).
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GraphAction {
    #[serde(rename = "ID")]
    id: usize,
    #[serde(default)]
    deps: Vec<usize>,
    mode: String,
    #[serde(default)]
    package: String,
    /// The commands it ran; none when go's cache served it (go 1.26 marks even served compiles `NeedBuild`).
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default, rename = "ActionID")]
    action_id: String,
    #[serde(default)]
    time_ready: Option<String>,
    #[serde(default)]
    time_start: Option<String>,
    #[serde(default)]
    time_done: Option<String>,
}

/// The compiles and links of go's action graph file.
///
/// When a compile became ready is when every input it waits for was done: its imports' compiles (or, for imports
/// go's cache served, their cache checks). Since go 1.26 a compile's `build` action waits on a `build check cache`
/// action of its own package, which waits on the imports: that check is what sits in go's queue for a worker, and
/// the `build` action behind it is ready the moment the check is done. So a compile's ready time is its check's,
/// where there is one; the time from there to the compile's start is its wait for a core (and for its own check).
/// An action that never ran because a dependency failed has no action id, like one that go never got to.
pub fn read_action_graph(path: &Path) -> Result<Vec<GoAction>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let graph: Vec<GraphAction> = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not the action graph gohook knows: {e}", path.display()))?;
    let unix_ns = |time: &Option<String>| time.as_deref().and_then(go_time_unix_ns).unwrap_or(0);
    let by_id: HashMap<usize, &GraphAction> = graph.iter().map(|a| (a.id, a)).collect();
    let inputs_done = |action: &GraphAction| {
        let check = action
            .deps
            .iter()
            .filter_map(|d| by_id.get(d))
            .find(|d| d.mode == "build check cache" && d.package == action.package);
        unix_ns(&check.unwrap_or(&action).time_ready)
    };
    Ok(graph
        .iter()
        .filter(|a| (a.mode == "build" || a.mode == "link") && !a.package.is_empty())
        .map(|a| GoAction {
            ready_unix_ns: inputs_done(a),
            start_unix_ns: unix_ns(&a.time_start),
            done_unix_ns: unix_ns(&a.time_done),
            mode: a.mode.clone(),
            package: a.package.clone(),
            ran: a.cmd.as_ref().is_some_and(|cmd| !cmd.is_empty()),
            action_id: a.action_id.clone(),
        })
        .collect())
}

/// A Go `time.Time` as JSON writes it (RFC 3339 with nanoseconds, in go's local zone: `Z` or `±hh:mm`), as Unix ns.
fn go_time_unix_ns(text: &str) -> Option<u64> {
    let (utc, offset_s) = match text.strip_suffix('Z') {
        Some(_) => (text.to_owned(), 0i64),
        None => {
            let at = text.rfind(['+', '-']).filter(|&at| at > text.find('T').unwrap_or(usize::MAX))?;
            let (hours, minutes) = text[at + 1..].split_once(':')?;
            let seconds = hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60;
            (format!("{}Z", &text[..at]), if text[at..].starts_with('-') { -seconds } else { seconds })
        }
    };
    let time = humantime::parse_rfc3339_weak(&utc).ok()?;
    let ns = gohook_records::unix_ns(time) as i64 - offset_s * 1_000_000_000;
    (ns > 0).then_some(ns as u64)
}

/// Reads go's stderr: `HASH[…]` lines (its cache-key inputs) are kept, everything else goes on to gohook's stderr as
/// it comes, so go's errors and `-x` lines read as they always do.
pub fn pass_through_keeping_cache_inputs(stderr: impl Read) -> BuildCacheInputs {
    let mut inputs = HashLog::default();
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut out = std::io::stderr();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if line.starts_with(b"HASH") {
                    inputs.line(&String::from_utf8_lossy(&line));
                } else {
                    let _ = out.write_all(&line);
                }
            }
        }
    }
    inputs.finish()
}

/// What a go command with `GODEBUG=gocachehash=1` wrote on its stderr, apart: the cache-key inputs, and its other
/// lines (its complaints, should it fail).
pub fn cache_inputs_in(stderr: &[u8]) -> (BuildCacheInputs, Vec<u8>) {
    let mut inputs = HashLog::default();
    let mut rest = Vec::new();
    for line in stderr.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"HASH") {
            inputs.line(&String::from_utf8_lossy(line));
        } else {
            rest.extend_from_slice(line);
        }
    }
    (inputs.finish(), rest)
}

/// The hash lines of `GODEBUG=gocachehash=1`, gathered per action: `HASH[build p]` opens, `HASH[build p]: "…"` is
/// one write (Go-quoted), `HASH[build p]: <hex>` closes with the action id. Only compile (`build …`) and link hashes
/// are kept; the lines of one hash may come between another's, each carries its name.
#[derive(Default)]
struct HashLog {
    lines: Vec<String>,
    index: HashMap<String, u32>,
    open: HashMap<String, Vec<u32>>,
    done: Vec<ActionInputs>,
}

impl HashLog {
    fn line(&mut self, text: &str) {
        let Some(rest) = text.trim_end().strip_prefix("HASH[") else { return };
        let Some((name, rest)) = rest.split_once(']') else { return };
        if !(name.starts_with("build ") || name.starts_with("link ")) {
            return;
        }
        let Some(value) = rest.strip_prefix(": ") else {
            self.open.insert(name.to_owned(), Vec::new());
            return;
        };
        if let Some(quoted) = value.strip_prefix('"') {
            let written = go_unquote(quoted.strip_suffix('"').unwrap_or(quoted));
            for part in written.split('\n').filter(|p| !p.is_empty()) {
                let id = self.intern(part);
                self.open.entry(name.to_owned()).or_default().push(id);
            }
        } else if let Some(inputs) = self.open.remove(name) {
            // go computes some ids twice (a link's, for one): the same inputs are kept once.
            if !self.done.iter().any(|d| d.name == name && d.inputs == inputs) {
                self.done.push(ActionInputs { name: name.to_owned(), id: value.to_owned(), inputs });
            }
        }
    }

    fn intern(&mut self, line: &str) -> u32 {
        if let Some(&id) = self.index.get(line) {
            return id;
        }
        let id = self.lines.len() as u32;
        self.lines.push(line.to_owned());
        self.index.insert(line.to_owned(), id);
        id
    }

    fn finish(self) -> BuildCacheInputs {
        BuildCacheInputs { build_id: String::new(), lines: self.lines, actions: self.done }
    }
}

/// A scratch file for go's action graph, removed when dropped.
pub struct ScratchFile(pub PathBuf);

impl ScratchFile {
    pub fn new() -> std::io::Result<ScratchFile> {
        let file = tempfile::Builder::new().prefix("gohook-actiongraph-").suffix(".json").tempfile()?;
        let (_, path) = file.keep().map_err(|e| e.error)?;
        Ok(ScratchFile(path))
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_lines_become_each_actions_inputs() {
        let stderr = "HASH[build example.com/m/c]\n\
                      HASH[build example.com/m/c]: \"go1.26.8\"\n\
                      HASH[moduleIndex]: \"ignored\"\n\
                      HASH[link example.com/m]\n\
                      HASH[build example.com/m/c]: \"compile\\n\"\n\
                      HASH[link example.com/m]: \"link\\n\"\n\
                      HASH[build example.com/m/c]: \"file c.go 3f2a\\n\"\n\
                      HASH /src/c.go: 3f2a\n\
                      HASH[build example.com/m/c]: 0a1b\n\
                      HASH[link example.com/m]: \"packagefile example.com/m/c=zz\\n\"\n\
                      HASH[link example.com/m]: 9f9f\n";
        let inputs = HashLog::default();
        let mut inputs = inputs;
        for line in stderr.lines() {
            inputs.line(line);
        }
        let inputs = inputs.finish();
        let lines = |name: &str| -> Vec<&str> {
            let action = inputs.actions.iter().find(|a| a.name == name).unwrap();
            action.inputs.iter().map(|&i| inputs.lines[i as usize].as_str()).collect()
        };
        assert_eq!(lines("build example.com/m/c"), ["go1.26.8", "compile", "file c.go 3f2a"]);
        assert_eq!(lines("link example.com/m"), ["link", "packagefile example.com/m/c=zz"]);
        assert_eq!(inputs.actions.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["0a1b", "9f9f"]);
    }

    /// go 1.26's shape: a compile waits on its own package's cache check, which waits on the imports.
    #[test]
    fn a_compile_is_ready_when_its_inputs_are_done_not_when_its_cache_check_is() {
        let graph = r#"[
          {"ID": 0, "Mode": "link", "Package": "example.com/m", "Deps": [1, 3],
           "TimeReady": "2026-12-07T10:00:09Z", "TimeStart": "2026-12-07T10:00:09Z", "TimeDone": "2026-12-07T10:00:09Z"},
          {"ID": 1, "Mode": "build", "Package": "example.com/m", "Deps": [3, 2], "NeedBuild": true,
           "TimeReady": "2026-12-07T10:00:08Z", "TimeStart": "2026-12-07T10:00:08Z", "TimeDone": "2026-12-07T10:00:08Z"},
          {"ID": 2, "Mode": "build check cache", "Package": "example.com/m", "Deps": [3],
           "TimeReady": "2026-12-07T10:00:08Z", "TimeStart": "2026-12-07T10:00:08Z", "TimeDone": "2026-12-07T10:00:08Z"},
          {"ID": 3, "Mode": "build", "Package": "example.com/m/p", "Deps": [4], "NeedBuild": true,
           "ActionID": "pid", "Cmd": ["compile -p example.com/m/p"],
           "TimeReady": "2026-12-07T10:00:05Z", "TimeStart": "2026-12-07T10:00:05.5Z", "TimeDone": "2026-12-07T10:00:07Z"},
          {"ID": 4, "Mode": "build check cache", "Package": "example.com/m/p",
           "TimeReady": "2026-12-07T10:00:01Z", "TimeStart": "2026-12-07T10:00:04.9Z", "TimeDone": "2026-12-07T10:00:05Z"}
        ]"#;
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), graph).unwrap();
        let actions = read_action_graph(file.path()).unwrap();
        let at = |s: u64| 1_796_637_600_000_000_000 + s * 1_000_000_000;
        let p = actions.iter().find(|a| a.package == "example.com/m/p").unwrap();
        // Ready at its check's ready (no imports: when go began), queued 4.5 s until it started.
        assert_eq!((p.ready_unix_ns, p.start_unix_ns), (at(1), at(5) + 500_000_000));
        assert!(p.ran);
        // main never ran (its import failed, say): no command, no action id.
        let main = actions.iter().find(|a| a.mode == "build" && a.package == "example.com/m").unwrap();
        assert_eq!((main.ran, main.action_id.as_str(), main.ready_unix_ns), (false, "", at(8)));
        assert_eq!(actions.iter().map(|a| a.mode.as_str()).collect::<Vec<_>>(), ["link", "build", "build"]);
    }

    #[test]
    fn go_times_in_any_zone_land_on_the_unix_axis() {
        let utc = go_time_unix_ns("2026-12-03T09:30:31.123456789Z").unwrap();
        assert_eq!(go_time_unix_ns("2026-12-03T10:30:31.123456789+01:00"), Some(utc));
        assert_eq!(go_time_unix_ns("2026-12-03T01:30:31.123456789-08:00"), Some(utc));
        assert_eq!(utc % 1_000_000_000, 123_456_789);
        assert_eq!(go_time_unix_ns("0001-01-01T00:00:00Z"), None, "go's zero time: never happened");
    }
}
