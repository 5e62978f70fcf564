//! The plugin host: the one process that runs wasm. The shim that go starts for every tool invocation must stay lean
//! (wasmtime linked into it cost every invocation ~0.4 ms of loading and relocation, although few of them run a
//! plugin), so plugins run in `gohook-plugin-host`, an executable installed next to `gohook`, started only when a
//! configured plugin subscribes to the moment at hand — typically go's `-V=full` probes and the link.
//!
//! The shim side is [`PluginClient`]: it decides from the plugin catalog whether anyone subscribes, and if so starts
//! the host for the policy's file (once per invocation: a plugin compiled or asked for its metadata at one moment is
//! loaded for the next), sends it each moment (a JSON line on its stdin) and reads back the [`Verdict`] (a JSON line on
//! its stdout). The host side is [`serve`], which loads the policy once and answers until its stdin closes. gohook's commands that run plugins (`check`, `goreleaser lint`, `plugins`, `doctor`) are executed by the
//! plugin host too: `gohook` hands them over with `exec`.

use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};

use crate::check::{Checker, Verdict};
use crate::moment::MomentInput;
use crate::plugins::{Catalog, PluginSpec};
use crate::policy::Policy;
use crate::records::{FindingLevel, RecordedFinding};

/// The plugin host's file name, next to gohook's own executable.
pub const EXECUTABLE: &str = "gohook-plugin-host";
/// The hidden argument that makes the plugin host answer moments for a policy (`__moment POLICY_FILE`) instead of
/// running a command.
const SERVE: &str = "__moment";

/// The plugin host executable: next to this one (`cargo install` puts both in one directory).
pub fn executable() -> std::io::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(EXECUTABLE))
}

/// `gohook-plugin-host`'s entry point: moments when the shim asks, otherwise a gohook command.
pub fn main(argv: Vec<OsString>) -> ExitCode {
    match argv.get(1..) {
        Some([serve_flag, policy]) if serve_flag == SERVE => serve(Path::new(policy)),
        _ => crate::cli::main(argv),
    }
}

/// Hands a gohook command over to the plugin host, which runs it in this same process (`exec`).
pub fn exec_command(argv: &[OsString]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let host = match executable() {
        Ok(host) => host,
        Err(e) => {
            eprintln!("gohook: cannot find gohook's own executable: {e}");
            return ExitCode::from(crate::EXIT_USAGE);
        }
    };
    let error = Command::new(&host).arg0("gohook").args(&argv[1..]).exec();
    eprintln!("gohook: cannot start {}: {error}\n{}", host.display(), REINSTALL);
    ExitCode::from(crate::EXIT_USAGE)
}

const REINSTALL: &str = "gohook: gohook runs its plugins in gohook-plugin-host, installed next to it; reinstall both \
                         with `cargo install --path host` (or build them with `cargo build --release`)";

/// Answers the moments of `policy`'s plugins until stdin closes: a moment per line on stdin, a verdict per line on
/// stdout. Logs go where the shim's go (never stderr, which go would cache with a compile's output).
fn serve(policy: &Path) -> ExitCode {
    let store = crate::store::Store::locate();
    let log = std::env::var_os(crate::logging::ENV_LOG_FILE)
        .map(PathBuf::from)
        .unwrap_or_else(|| store.root().join("gohook.log"));
    crate::logging::init(crate::logging::Target::File(Some(log)));
    let specs = match Policy::load(Some(policy)).and_then(|policy| PluginSpec::from_policy(&policy)) {
        Ok(specs) => specs,
        Err(e) => {
            eprintln!("gohook-plugin-host: {e}");
            return ExitCode::from(crate::EXIT_USAGE);
        }
    };
    // One checker for all moments: each plugin is loaded once.
    let mut checker = Checker::new(&specs, store.root());
    let mut stdout = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let input: MomentInput = match serde_json::from_str(&line) {
            Ok(input) => input,
            Err(e) => {
                eprintln!("gohook-plugin-host: not a moment from this gohook version ({e})");
                return ExitCode::from(crate::EXIT_USAGE);
            }
        };
        let mut answer = serde_json::to_vec(&checker.run(&input)).expect("verdicts serialize");
        answer.push(b'\n');
        if stdout.write_all(&answer).and_then(|()| stdout.flush()).is_err() {
            return ExitCode::from(crate::EXIT_USAGE);
        }
    }
    ExitCode::SUCCESS
}

/// The shim's side: runs the policy's plugins at a moment through the plugin host, when any of them wants it.
pub struct PluginClient<'a> {
    specs: &'a [PluginSpec],
    policy: Option<&'a Path>,
    catalog: Catalog,
    /// Started at the first moment a plugin wants, kept for the invocation's other moments.
    host: RefCell<Option<HostProcess>>,
}

impl<'a> PluginClient<'a> {
    pub fn new(specs: &'a [PluginSpec], policy: Option<&'a Path>, root: &Path) -> PluginClient<'a> {
        PluginClient { specs, policy, catalog: Catalog::new(root), host: RefCell::new(None) }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The verdict of the moment: empty, without starting anything, when no plugin subscribes.
    pub fn run(&self, input: &MomentInput) -> Verdict {
        let Some(policy) = self.policy else { return Verdict::default() };
        if !self.specs.iter().any(|spec| self.might_subscribe(spec, input)) {
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

    /// Whether the plugin may want this moment: it does if its remembered metadata says so, and it may if gohook
    /// has not seen it yet (the plugin host asks it, and remembers).
    fn might_subscribe(&self, spec: &PluginSpec, input: &MomentInput) -> bool {
        let Ok(content_id) = self.catalog.content_id(spec) else { return true };
        self.catalog.meta(&content_id).is_none_or(|meta| meta.subscribes(input.moment(), input.tool()))
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
