//! The shim's side of the plugin host (`gohook-plugin-host`, installed next to `gohook`): wasmtime linked into the
//! shim would cost every tool invocation its loading and relocation, although few invocations run a plugin.
//!
//! [`PluginClient`] decides from the plugin catalog whether any plugin subscribes to a moment, and only then starts
//! the host for the policy's file (once per invocation: a plugin compiled or asked for its metadata at one moment is
//! loaded for the next), sends it each moment (a JSON line on its stdin) and reads back the [`Verdict`] (a JSON line
//! on its stdout). The host side lives in the `gohook` crate.

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use gohook_policy::{Catalog, MomentInput, PluginMeta, PluginSpec, Verdict};
use gohook_records::{FindingLevel, RecordedFinding};

/// The plugin host's file name, next to gohook's own executable.
pub const EXECUTABLE: &str = "gohook-plugin-host";
/// The hidden argument that makes the plugin host answer moments for a policy (`__moment POLICY_FILE`) instead of
/// running a command.
pub const SERVE: &str = "__moment";

/// The plugin host executable: next to this one (`cargo install` puts both in one directory).
pub fn executable() -> std::io::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(EXECUTABLE))
}

pub const REINSTALL: &str = "gohook: gohook runs its plugins in gohook-plugin-host, installed next to it; reinstall both \
                         with `cargo install --path host/gohook` (or build them with `cargo build --release`)";

/// The shim's side: runs the policy's plugins at a moment through the plugin host, when any of them wants it.
pub struct PluginClient<'a> {
    specs: &'a [PluginSpec],
    policy: Option<&'a Path>,
    catalog: Catalog,
    /// Each plugin's remembered metadata, once read: an invocation asks at two moments (before and after its tool),
    /// and reading the catalog again for the second would repeat the same file reads on every tool run.
    known: RefCell<Vec<Option<PluginMeta>>>,
    /// Started at the first moment a plugin wants, kept for the invocation's other moments.
    host: RefCell<Option<HostProcess>>,
}

impl<'a> PluginClient<'a> {
    pub fn new(specs: &'a [PluginSpec], policy: Option<&'a Path>, root: &Path) -> PluginClient<'a> {
        let known = RefCell::new(vec![None; specs.len()]);
        PluginClient { specs, policy, catalog: Catalog::new(root), known, host: RefCell::new(None) }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The verdict of the moment: empty, without starting anything, when no plugin subscribes.
    pub fn run(&self, input: &MomentInput) -> Verdict {
        let Some(policy) = self.policy else { return Verdict::default() };
        if !(0..self.specs.len()).any(|index| self.might_subscribe(index, input)) {
            return Verdict::default();
        }
        let mut host = self.host.borrow_mut();
        if host.is_none() {
            match HostProcess::start(policy) {
                Ok(process) => *host = Some(process),
                Err(why) => return Verdict { findings: vec![host_failed(why)], plugins: Vec::new() },
            }
        }
        let answer = host.as_mut().expect("started above").ask(input);
        answer.unwrap_or_else(|why| {
            // A host that failed is not asked again in this invocation.
            if let Some(process) = host.take() {
                process.finish();
            }
            Verdict { findings: vec![host_failed(why)], plugins: Vec::new() }
        })
    }

    /// Whether plugin `index` may want this moment: it does if its remembered metadata says so, and it may if
    /// gohook has not seen it yet (the plugin host asks it, and remembers; the next moment reads that).
    fn might_subscribe(&self, index: usize, input: &MomentInput) -> bool {
        let mut known = self.known.borrow_mut();
        if known[index].is_none() {
            let Ok(content_id) = self.catalog.content_id(&self.specs[index]) else { return true };
            known[index] = self.catalog.meta(&content_id);
        }
        known[index].as_ref().is_none_or(|meta| meta.subscribes(input.moment(), input.tool()))
    }
}

impl Drop for PluginClient<'_> {
    fn drop(&mut self) {
        if let Some(process) = self.host.get_mut().take() {
            process.finish();
        }
    }
}

/// A running plugin host and its pipes.
struct HostProcess {
    path: PathBuf,
    child: Child,
    requests: ChildStdin,
    answers: BufReader<ChildStdout>,
}

impl HostProcess {
    fn start(policy: &Path) -> Result<HostProcess, String> {
        let path = executable().map_err(|e| format!("cannot find gohook's own executable: {e}"))?;
        let mut child = Command::new(&path)
            .arg(SERVE)
            .arg(policy)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
        let requests = child.stdin.take().expect("piped");
        let answers = BufReader::new(child.stdout.take().expect("piped"));
        Ok(HostProcess { path, child, requests, answers })
    }

    fn ask(&mut self, input: &MomentInput) -> Result<Verdict, String> {
        let mut line = serde_json::to_vec(input).expect("moments serialize");
        line.push(b'\n');
        let mut answer = String::new();
        let asked = self.requests.write_all(&line).and_then(|()| self.requests.flush());
        let answered = asked.and_then(|()| self.answers.read_line(&mut answer));
        match answered {
            Ok(n) if n > 0 => {
                serde_json::from_str(&answer).map_err(|e| format!("{} answered nonsense: {e}", self.path.display()))
            }
            _ => Err(self.failure()),
        }
    }

    /// What went wrong with a host that stopped answering: its exit and what it said.
    fn failure(&mut self) -> String {
        let mut said = String::new();
        if let Some(stderr) = self.child.stderr.as_mut() {
            let _ = std::io::Read::read_to_string(stderr, &mut said);
        }
        let status = self.child.wait().map_or_else(|e| e.to_string(), |s| s.to_string());
        format!("{} stopped ({status}): {}", self.path.display(), said.trim())
    }

    /// Closes its stdin, which ends it, and reaps it.
    fn finish(self) {
        let HostProcess { mut child, requests, answers, .. } = self;
        drop(requests);
        drop(answers);
        let _ = child.wait();
    }
}

/// Without the plugin host nothing can be checked: fail closed, and say how to get it back.
fn host_failed(why: String) -> RecordedFinding {
    RecordedFinding {
        plugin: EXECUTABLE.to_owned(),
        rule: "gohook/plugin-host-failed".to_owned(),
        severity: FindingLevel::Error,
        message: format!("the policy's plugins could not run: {why}"),
        help: Some(REINSTALL.trim_start_matches("gohook: ").to_owned()),
    }
}
