//! The shim: `gohook <abs path to tool> args…`, as `go build -toolexec=gohook` runs it.
//!
//! The tool's stdout, stderr and exit code come through unchanged (its streams are inherited, never copied);
//! signals sent to gohook reach the tool; one timing record is appended per invocation. On success gohook itself
//! prints nothing: go caches a compile's output and would replay anything we printed on every later cache hit.

mod invocation;
mod plugin_client;
mod self_report;
mod version;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use invocation::{ArgsError, expand_args};
use invocation::{Invocation, ProcessEnv};

use std::io::{Read, Write};

use gohook_policy::{MomentInput, PluginSpec, Policy, Verdict};
use gohook_records::{
    BuildContext, BuildLabel, BuildStamp, BuildTraceParent, Exit, GoProcess, Labels, NestedGo, Phase, Record, Store,
    ToolKey, ToolRun, ToolSelfReport, nested_go, now_unix_ns, signal_name,
};

use gohook_process::{EXIT_USAGE, env, executables, logging, signals};

use crate::plugin_client::PluginClient;
use crate::self_report::Requests;

/// The tool's argv when gohook was started as a toolexec shim, `None` when it was started as a command.
///
/// go passes the tool as an absolute path, except for the C compiler probe, which passes `$CC` as given (`gcc`).
/// Anything that is not one of gohook's commands or a flag is therefore taken as a tool.
pub fn tool_argv(argv: &[OsString]) -> Option<Vec<OsString>> {
    let first = argv.get(1)?.to_str().unwrap_or("/");
    (!executables::is_command(first)).then(|| argv[1..].to_vec())
}

/// Where this invocation's records, logs and policy come from.
struct Context {
    stamp: BuildStamp,
    store: Store,
    cwd: PathBuf,
    policy_dir: PathBuf,
    /// The go command that runs this tool, when bare mode already found it; under `gohook build` it is the parent,
    /// asked for only at the probes that need it.
    go_pid: Option<u32>,
    /// The build whose test or program started this tool's go command (a nested go command: a build of its own).
    nested_in: Option<String>,
    /// False under gohook's own `go list -export` after a test build: answer and run, record nothing.
    recorded: bool,
}

impl Context {
    fn from_env() -> Context {
        let store = Store::locate();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let recorded = !env::not_recorded();
        let bare = |stamp: BuildStamp, go: GoProcess, nested_in, cwd: PathBuf| Context {
            stamp,
            store: store.clone(),
            policy_dir: go.cwd.unwrap_or_else(|| cwd.clone()),
            cwd,
            go_pid: Some(go.pid),
            nested_in,
            recorded,
        };
        match BuildStamp::from_env() {
            Some(stamp) => match env::driver_pid().filter(|_| recorded).and_then(nested_go) {
                Some((nested, go)) => bare(nested, go, Some(stamp.id), cwd),
                None => Context { stamp, store, policy_dir: cwd.clone(), cwd, go_pid: None, nested_in: None, recorded },
            },
            None => {
                let (stamp, go) = BuildStamp::from_go_process();
                bare(stamp, go, None, cwd)
            }
        }
    }

    fn log_file(&self) -> PathBuf {
        env::log_file().unwrap_or_else(|| self.store.root().join("gohook.log"))
    }
}

/// How the tool ran (or that it did not).
struct Outcome {
    exit: Exit,
    start_unix_ns: u64,
    wall: Duration,
    usage: Usage,
    stdout: Vec<u8>,
    /// False when a plugin stopped the tool before it started.
    ran: bool,
    /// What the tool measured about itself, when gohook asked ([`Requests`]).
    phases: Vec<Phase>,
    cpu_profile: Option<String>,
}

pub fn main(tool_argv: Vec<OsString>) -> u8 {
    let process_start = Instant::now();
    let context = Context::from_env();
    logging::init_plain(logging::Target::File(Some(context.log_file())));
    let invocation = Invocation::parse(tool_argv, &ProcessEnv);

    // A broken policy must stop the build, at the -V=full probe before anything compiles.
    let loaded = Policy::find(None, &context.policy_dir)
        .and_then(|policy| PluginSpec::from_policy(&policy).map(|specs| (policy, specs)));
    let (policy, specs) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("gohook: {e}\ngohook: fix the policy file, or set GOHOOK_CONFIG to another one");
            return EXIT_USAGE;
        }
    };
    let plugins = PluginClient::new(&specs, policy.source.as_deref(), context.store.root());
    signals::install();

    let mut verdict = Verdict::default();
    if !invocation.is_version_probe() && !specs.is_empty() {
        verdict.extend(plugins.run(&MomentInput::BeforeTool(invocation.to_plugin())));
    }
    let outcome = if verdict.has_errors() {
        eprint!("{}", verdict.render_errors(&format!("{} (not run)", describe(&invocation)), policy.source.as_deref()));
        Outcome::not_run()
    } else {
        run_tool(&invocation, &Requests::for_invocation(&invocation, policy.records.phases || env::phases()))
    };
    let mut exit = outcome.exit;

    let mut tool_key = None;
    if invocation.is_version_probe() {
        if exit.success() {
            let answered = answer_probe(&invocation, &outcome, &policy, &specs, &plugins, &mut verdict);
            exit = answered.0;
            tool_key = answered.1;
        } else {
            let _ = std::io::stdout().write_all(&outcome.stdout);
        }
    } else if outcome.ran && !specs.is_empty() {
        let output = invocation.output.as_ref().map(|o| context.cwd.join(o));
        let exit_code = match outcome.exit {
            Exit::Code(code) => code,
            _ => -1,
        };
        let after = plugins.run(&MomentInput::AfterTool {
            invocation: invocation.to_plugin(),
            exit_code,
            output: output.clone(),
        });
        if after.has_errors() {
            eprint!("{}", after.render_errors(&describe(&invocation), policy.source.as_deref()));
            if exit.success() {
                // go must not pick up an output the policy rejected.
                if let Some(output) = &output {
                    let _ = std::fs::remove_file(output);
                }
                exit = Exit::Code(1);
            }
        }
        verdict.extend(after);
    }
    if let Exit::Signal(signal) = outcome.exit {
        eprintln!("gohook: {} was killed by signal {signal} ({})", invocation.tool, signal_name(signal));
    }

    signals::survive_file_size_limit();
    let record = Record::Tool(ToolRun {
        build_id: context.stamp.id.clone(),
        build_start_unix_ns: context.stamp.start_unix_ns,
        tool: invocation.tool.clone(),
        stage: invocation.stage,
        package: invocation.package.clone(),
        goos: invocation.goos.clone(),
        goarch: invocation.goarch.clone(),
        start_unix_ns: outcome.start_unix_ns,
        duration_ns: outcome.wall.as_nanos() as u64,
        user_ns: outcome.usage.user_ns,
        sys_ns: outcome.usage.sys_ns,
        max_rss_bytes: outcome.usage.max_rss_bytes,
        exit,
        gohook_ns: process_start.elapsed().saturating_sub(outcome.wall).as_nanos() as u64,
        gohook_cpu_ns: Usage::of(libc::RUSAGE_SELF).cpu_ns(),
        plugin_ns: verdict.plugin_ns(),
        pid: std::process::id(),
        findings: verdict.findings,
        plugins: verdict.plugins,
    });
    let self_report = (!outcome.phases.is_empty() || outcome.cpu_profile.is_some()).then(|| {
        Record::SelfReport(ToolSelfReport {
            build_id: context.stamp.id.clone(),
            pid: std::process::id(),
            start_unix_ns: outcome.start_unix_ns,
            phases: outcome.phases,
            cpu_profile: outcome.cpu_profile,
        })
    });
    if context.recorded {
        for record in std::iter::once(record).chain(self_report) {
            if let Err(e) = context.store.append(&context.stamp.id, &record, policy.records.keep_builds) {
                tracing::warn!(
                    "cannot write the timing record to {}: {e}; the build goes on without it (set GOHOOK_DIR to a writable directory)",
                    context.store.record_path(&context.stamp.id).display()
                );
                break;
            }
        }
        if invocation.is_version_probe() {
            record_circumstances(&context, &outcome.stdout, tool_key, policy.records.keep_builds);
        }
    }
    exit.shell_code()
}

/// Ties the build to its run and target, and records the machine and go command it ran on. go probes each tool once
/// per go command, so a build gets a few identical records of each; readers take the first.
fn record_circumstances(context: &Context, version_answer: &[u8], tool_key: Option<ToolKey>, keep: usize) {
    let id = &context.stamp.id;
    if let Some(key) = tool_key
        && let Err(e) = context.store.append(id, &Record::ToolKey(ToolKey { build_id: id.clone(), ..key }), keep)
    {
        tracing::warn!("cannot write what the tool's answer was keyed on: {e}");
    }
    match Labels::from_env() {
        Ok(Some(labels)) => {
            let record = Record::Label(BuildLabel { build_id: id.clone(), run: labels.run, target: labels.target });
            if let Err(e) = context.store.append(id, &record, keep) {
                tracing::warn!("cannot write the label record: {e}");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("{e}; the build is recorded without labels"),
    }
    let answer = String::from_utf8_lossy(version_answer);
    let go_pid = context.go_pid.unwrap_or_else(std::os::unix::process::parent_id);
    let record = Record::Context(BuildContext::current(id, go_pid, &answer));
    if let Err(e) = context.store.append(id, &record, keep) {
        tracing::warn!("cannot write the build's machine record: {e}");
    }
    if let Some(parent) = BuildTraceParent::from_env(id)
        && let Err(e) = context.store.append(id, &Record::TraceParent(parent), keep)
    {
        tracing::warn!("cannot write the build's trace parent: {e}");
    }
    if let Some(parent) = &context.nested_in {
        let nested = NestedGo {
            build_id: id.clone(),
            parent_build_id: parent.clone(),
            command: gohook_records::command_line(go_pid),
            dir: context.policy_dir.display().to_string(),
            start_unix_ns: context.stamp.start_unix_ns,
        };
        for build in [id, parent] {
            if let Err(e) = context.store.append(build, &Record::Nested(nested.clone()), keep) {
                tracing::warn!("cannot write that go command {go_pid} ran inside build {parent}: {e}");
            }
        }
    }
}

/// The -V=full answer, after the probe-moment plugins had their say, and what it was keyed on.
fn answer_probe(
    invocation: &Invocation,
    outcome: &Outcome,
    policy: &Policy,
    specs: &[PluginSpec],
    plugins: &PluginClient<'_>,
    verdict: &mut Verdict,
) -> (Exit, Option<ToolKey>) {
    let mut plugin_ids = Vec::new();
    for spec in specs {
        match plugins.catalog().content_id(spec) {
            Ok(id) => plugin_ids.push(id),
            Err(e) => {
                eprintln!("gohook: {e}\ngohook: fix [plugins.{}] in the policy file", spec.name);
                return (Exit::Code(EXIT_USAGE as i32), None);
            }
        }
    }
    if !specs.is_empty() {
        verdict.extend(plugins.run(&MomentInput::Probe(invocation.to_probe())));
    }
    if verdict.has_errors() {
        let subject = format!("building for {}/{}", invocation.goos, invocation.goarch);
        eprint!("{}", verdict.render_errors(&subject, policy.source.as_deref()));
        return (Exit::Code(1), None);
    }
    // go keys its cache for this tool on the answer: only the plugins that run at the tool's own moments can change
    // what it builds with it. A probe-only plugin (`arch`) or a link check changes no compile's key.
    let keyed: Vec<(&str, &str)> = specs
        .iter()
        .zip(&plugin_ids)
        .enumerate()
        .filter(|(index, _)| plugins.runs_at(*index, &invocation.tool))
        .map(|(_, (spec, id))| (spec.name.as_str(), id.as_str()))
        .collect();
    let digests = policy.keyed_digests(&keyed);
    print!("{}", version::answer(&outcome.stdout, &gohook_policy::fingerprint(&digests)));
    let key = ToolKey { build_id: String::new(), tool: invocation.tool.clone(), plugins: digests };
    (Exit::Code(0), Some(key))
}

/// The tool run as error messages name it; built only when there is an error to print.
fn describe(invocation: &Invocation) -> String {
    if invocation.package.is_empty() {
        invocation.tool.clone()
    } else {
        format!("{} of {} ({}/{})", invocation.tool, invocation.package, invocation.goos, invocation.goarch)
    }
}

impl Outcome {
    fn not_run() -> Outcome {
        Outcome {
            exit: Exit::Code(1),
            start_unix_ns: now_unix_ns(),
            wall: Duration::ZERO,
            usage: Usage::default(),
            stdout: Vec::new(),
            ran: false,
            phases: Vec::new(),
            cpu_profile: None,
        }
    }
}

fn run_tool(invocation: &Invocation, requests: &Requests) -> Outcome {
    let mut command = Command::new(&invocation.tool_path);
    command.args(requests.flags());
    command.args(&invocation.args);
    if invocation.is_version_probe() || requests.reads_stdout() {
        command.stdout(Stdio::piped());
    }
    let start_unix_ns = now_unix_ns();
    let spawned = Instant::now();
    let result = command.spawn().and_then(|mut child| {
        signals::set_child(child.id());
        let mut stdout = Vec::new();
        if let Some(mut pipe) = child.stdout.take() {
            pipe.read_to_end(&mut stdout)?;
        }
        // wait4, not getrusage(RUSAGE_CHILDREN): the usage of exactly this tool, whatever else gohook started.
        let (status, usage) = wait4(child.id())?;
        Ok((status, stdout, usage))
    });
    let exited = Instant::now();
    let (exit, mut stdout, usage) = match result {
        Ok((status, stdout, usage)) => (Exit::from_status(status), stdout, usage),
        Err(e) => {
            eprintln!(
                "gohook: cannot run {}: {e}\ngohook: gohook runs the tool named in its first argument; for gohook's own commands see `gohook --help`",
                invocation.tool_path.to_string_lossy()
            );
            (Exit::NotStarted, Vec::new(), Usage::default())
        }
    };
    let (phases, cpu_profile) = requests.collect(&mut stdout);
    if requests.reads_stdout() {
        let _ = std::io::stdout().write_all(&stdout);
    }
    Outcome {
        exit,
        start_unix_ns,
        wall: exited - spawned,
        usage,
        stdout,
        ran: exit != Exit::NotStarted,
        phases,
        cpu_profile,
    }
}

/// Waits for the child `pid` and returns how it ended and what it used.
fn wait4(pid: u32) -> std::io::Result<(std::process::ExitStatus, Usage)> {
    use std::os::unix::process::ExitStatusExt;
    let mut status = 0;
    // SAFETY: rusage is plain data, written by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 writes only into `status` and `usage`, which we own.
        if unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) } >= 0 {
            return Ok((std::process::ExitStatus::from_raw(status), Usage::from(&usage)));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// CPU time and peak RSS: of gohook itself (`getrusage(RUSAGE_SELF)`), or of the tool (`wait4`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Usage {
    user_ns: u64,
    sys_ns: u64,
    max_rss_bytes: u64,
}

impl Usage {
    fn of(who: libc::c_int) -> Usage {
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage only writes into the struct we own.
        if unsafe { libc::getrusage(who, &mut usage) } != 0 {
            return Usage::default();
        }
        Usage::from(&usage)
    }

    fn cpu_ns(self) -> u64 {
        self.user_ns + self.sys_ns
    }
}

impl From<&libc::rusage> for Usage {
    fn from(usage: &libc::rusage) -> Usage {
        let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
        // Linux reports ru_maxrss in KiB, macOS in bytes.
        let rss_unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
        Usage {
            user_ns: ns(usage.ru_utime),
            sys_ns: ns(usage.ru_stime),
            max_rss_bytes: usage.ru_maxrss as u64 * rss_unit,
        }
    }
}
