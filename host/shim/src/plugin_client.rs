//! The shim's side of the moment server (`gohook-commands`, installed next to `gohook`): wasmtime linked into the
//! shim would cost every tool invocation its loading and relocation, although few invocations run a plugin.
//!
//! [`PluginClient`] decides from the plugin catalog whether any plugin subscribes to a moment, and only then starts
//! the host for the policy's file (once per invocation: a plugin compiled or asked for its metadata at one moment is
//! loaded for the next), and exchanges each moment for a [`Verdict`] as `gohook_policy::protocol` says. The host's
//! side is the `gohook-cli` crate's `serve`.

use std::cell::RefCell;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use gohook_policy::{Catalog, Moment, MomentInput, PluginMeta, PluginSpec, Verdict};
use gohook_policy::{MOMENT_SERVER, ProtocolError, read_verdict, write_moment};
use gohook_process::executables::{self, COMMANDS_EXECUTABLE, REINSTALL};
use gohook_records::{FindingLevel, RecordedFinding};

/// Why `gohook-commands` gave no verdict.
#[derive(Debug, thiserror::Error)]
enum HostError {
    #[error("cannot find gohook's own executable: {0}")]
    NoExecutable(std::io::Error),
    #[error("cannot start {}: {source}", path.display())]
    Start { path: PathBuf, source: std::io::Error },
    #[error("{} answered nonsense: {source}", path.display())]
    Nonsense { path: PathBuf, source: serde_json::Error },
    #[error("{} stopped ({status}): {said}", path.display())]
    Stopped { path: PathBuf, status: String, said: String },
}

/// The shim's side: runs the policy's plugins at a moment through `gohook-commands`, when any of them wants it.
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
                Err(why) => return Verdict { findings: vec![host_failed(&why)], plugins: Vec::new() },
            }
        }
        let answer = host.as_mut().expect("started above").ask(input);
        answer.unwrap_or_else(|why| {
            // A host that failed is not asked again in this invocation.
            if let Some(process) = host.take() {
                process.finish();
            }
            Verdict { findings: vec![host_failed(&why)], plugins: Vec::new() }
        })
    }

    /// Whether plugin `index` may want this moment: it does if its remembered metadata says so, and it may if
    /// gohook has not seen it yet (`gohook-commands` asks it, and remembers; the next moment reads that).
    fn might_subscribe(&self, index: usize, input: &MomentInput) -> bool {
        self.unknown_or(index, |meta| meta.subscribes(input.moment(), input.tool()))
    }

    /// Whether plugin `index` runs at `tool`'s before-tool or after-tool moment — the only moments at which it can
    /// change what go builds with that tool, and so what go's cache must be keyed on. A plugin not seen yet counts.
    pub fn runs_at(&self, index: usize, tool: &str) -> bool {
        self.unknown_or(index, |meta| {
            meta.subscribes(Moment::BeforeTool, tool) || meta.subscribes(Moment::AfterTool, tool)
        })
    }

    /// `true` for a plugin gohook has not seen yet, else what `ask` says of its remembered metadata: read from the
    /// catalog the first time (and again while it is unknown: `gohook-commands` may have remembered it since). Asked
    /// in place, not cloned: this runs for every plugin at every moment of every tool run.
    fn unknown_or(&self, index: usize, ask: impl FnOnce(&PluginMeta) -> bool) -> bool {
        let mut known = self.known.borrow_mut();
        if known[index].is_none()
            && let Ok(content_id) = self.catalog.content_id(&self.specs[index])
        {
            known[index] = self.catalog.meta(&content_id);
        }
        known[index].as_ref().is_none_or(ask)
    }
}

impl Drop for PluginClient<'_> {
    fn drop(&mut self) {
        if let Some(process) = self.host.get_mut().take() {
            process.finish();
        }
    }
}

/// A running moment server and its pipes.
struct HostProcess {
    path: PathBuf,
    child: Child,
    requests: ChildStdin,
    answers: BufReader<ChildStdout>,
}

impl HostProcess {
    fn start(policy: &Path) -> Result<HostProcess, HostError> {
        let path = executables::commands_executable().map_err(HostError::NoExecutable)?;
        let spawned = Command::new(&path)
            .arg(MOMENT_SERVER)
            .arg(policy)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(source) => return Err(HostError::Start { path, source }),
        };
        let requests = child.stdin.take().expect("piped");
        let answers = BufReader::new(child.stdout.take().expect("piped"));
        Ok(HostProcess { path, child, requests, answers })
    }

    fn ask(&mut self, input: &MomentInput) -> Result<Verdict, HostError> {
        let answered = write_moment(&mut self.requests, input)
            .map_err(ProtocolError::Io)
            .and_then(|()| read_verdict(&mut self.answers));
        match answered {
            Ok(verdict) => Ok(verdict),
            Err(ProtocolError::Malformed(source)) => Err(HostError::Nonsense { path: self.path.clone(), source }),
            Err(ProtocolError::Io(_) | ProtocolError::Closed) => Err(self.failure()),
        }
    }

    /// What went wrong with a host that stopped answering: its exit and what it said.
    fn failure(&mut self) -> HostError {
        let mut said = String::new();
        if let Some(stderr) = self.child.stderr.as_mut() {
            let _ = std::io::Read::read_to_string(stderr, &mut said);
        }
        let status = self.child.wait().map_or_else(|e| e.to_string(), |s| s.to_string());
        HostError::Stopped { path: self.path.clone(), status, said: said.trim().to_owned() }
    }

    /// Closes its stdin, which ends it, and reaps it.
    fn finish(self) {
        let HostProcess { mut child, requests, answers, .. } = self;
        drop(requests);
        drop(answers);
        let _ = child.wait();
    }
}

/// Without `gohook-commands` nothing can be checked: fail closed, and say how to get it back.
fn host_failed(why: &HostError) -> RecordedFinding {
    RecordedFinding {
        plugin: COMMANDS_EXECUTABLE.to_owned(),
        rule: "gohook/plugin-host-failed".to_owned(),
        severity: FindingLevel::Error,
        message: format!("the policy's plugins could not run: {why}"),
        help: Some(REINSTALL.to_owned()),
    }
}
