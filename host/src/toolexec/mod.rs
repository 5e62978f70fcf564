//! The shim: `gohook <abs path to tool> args…`, as `go build -toolexec=gohook` runs it.
//!
//! The tool's stdout, stderr and exit code come through unchanged (its streams are inherited, never copied);
//! signals sent to gohook reach the tool; one timing record is appended per invocation. On success gohook itself
//! prints nothing: go caches a compile's output and would replay anything we printed on every later cache hit.

mod invocation;
mod version;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

pub use invocation::{ArgsError, Env, Invocation, ProcessEnv, expand_args, flag_value};

use crate::logging::{self, ENV_LOG_FILE};
use crate::policy::Policy;
use crate::records::{Exit, Record, ToolRun, signal_name};
use crate::stamp::{BuildStamp, now_unix_ns};
use crate::store::Store;
use crate::{EXIT_USAGE, signals};

/// The tool's argv when gohook was started as a toolexec shim, `None` when it was started as a command.
///
/// go passes the tool as an absolute path, except for the C compiler probe, which passes `$CC` as given (`gcc`).
/// Anything that is not one of gohook's commands or a flag is therefore taken as a tool.
pub fn tool_argv(argv: &[OsString]) -> Option<Vec<OsString>> {
    let first = argv.get(1)?.to_str().unwrap_or("/");
    let is_command = crate::cli::COMMANDS.contains(&first) || first.starts_with('-');
    (!is_command).then(|| argv[1..].to_vec())
}

/// Where this invocation's records, logs and policy come from.
struct Context {
    stamp: BuildStamp,
    store: Option<Store>,
    policy_dir: PathBuf,
}

impl Context {
    fn from_env() -> Context {
        let store = Store::locate().ok();
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        match BuildStamp::from_env() {
            Some(stamp) => Context {
                stamp,
                store,
                policy_dir: cwd,
            },
            None => {
                let (stamp, go) = BuildStamp::from_go_process();
                Context {
                    stamp,
                    store,
                    policy_dir: go.cwd.unwrap_or(cwd),
                }
            }
        }
    }

    fn log_file(&self) -> Option<PathBuf> {
        std::env::var_os(ENV_LOG_FILE)
            .map(PathBuf::from)
            .or_else(|| self.store.as_ref().map(|s| s.root().join("gohook.log")))
    }
}

/// How the tool ran.
struct Outcome {
    exit: Exit,
    start_unix_ns: u64,
    wall: Duration,
    usage: Usage,
    stdout: Vec<u8>,
    spawned: Instant,
    exited: Instant,
}

pub fn main(tool_argv: Vec<OsString>) -> ExitCode {
    let process_start = Instant::now();
    let context = Context::from_env();
    logging::init(logging::Target::File(context.log_file()));
    let invocation = Invocation::parse(tool_argv, &ProcessEnv);

    let policy = match Policy::load(Policy::locate(None, &context.policy_dir).as_deref()) {
        Ok(policy) => policy,
        Err(e) => {
            // A broken policy must stop the build, at the -V=full probe before anything compiles.
            eprintln!(
                "gohook: {e}\ngohook: fix the policy file, or set GOHOOK_CONFIG to another one"
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };

    signals::install();
    let outcome = run_tool(&invocation);
    if invocation.is_version_probe() && outcome.exit.success() {
        print!(
            "{}",
            version::answer(&outcome.stdout, &policy.fingerprint())
        );
    } else {
        use std::io::Write;
        let _ = std::io::stdout().write_all(&outcome.stdout);
    }
    if let Exit::Signal(signal) = outcome.exit {
        eprintln!(
            "gohook: {} was killed by signal {signal} ({})",
            invocation.tool,
            signal_name(signal)
        );
    }

    let gohook_time = (outcome.spawned - process_start) + outcome.exited.elapsed();
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
        exit: outcome.exit,
        gohook_ns: gohook_time.as_nanos() as u64,
        gohook_cpu_ns: Usage::of(libc::RUSAGE_SELF).cpu_ns(),
        plugin_ns: 0,
        pid: std::process::id(),
    });
    match &context.store {
        Some(store) => {
            if let Err(e) = store.append(&context.stamp.id, &record, policy.records.keep_builds) {
                tracing::warn!(
                    "cannot write the timing record to {}: {e}; the build goes on without it (set GOHOOK_DIR to a writable directory)",
                    store.record_path(&context.stamp.id).display()
                );
            }
        }
        None => tracing::warn!(
            "no record directory (no cache directory and GOHOOK_DIR unset); timing not recorded"
        ),
    }
    ExitCode::from(outcome.exit.shell_code())
}

fn run_tool(invocation: &Invocation) -> Outcome {
    let mut command = Command::new(&invocation.tool_path);
    command.args(&invocation.args);
    if invocation.is_version_probe() {
        command.stdout(Stdio::piped());
    }
    let start_unix_ns = now_unix_ns();
    let spawned = Instant::now();
    let result = command.spawn().and_then(|child| {
        signals::set_child(child.id());
        child.wait_with_output()
    });
    let exited = Instant::now();
    let (exit, stdout) = match result {
        Ok(output) => (Exit::from_status(output.status), output.stdout),
        Err(e) => {
            eprintln!(
                "gohook: cannot run {}: {e}\ngohook: gohook runs the tool named in its first argument; for gohook's own commands see `gohook --help`",
                invocation.tool_path.to_string_lossy()
            );
            (Exit::NotStarted, Vec::new())
        }
    };
    Outcome {
        exit,
        start_unix_ns,
        wall: exited - spawned,
        usage: Usage::of(libc::RUSAGE_CHILDREN),
        stdout,
        spawned,
        exited,
    }
}

/// CPU time and peak RSS from getrusage: of gohook itself (`RUSAGE_SELF`), or of the children it waited for
/// (`RUSAGE_CHILDREN`; here exactly the one tool).
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
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
        let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
        // Linux reports ru_maxrss in KiB, macOS in bytes.
        let rss_unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
        Usage {
            user_ns: ns(usage.ru_utime),
            sys_ns: ns(usage.ru_stime),
            max_rss_bytes: usage.ru_maxrss as u64 * rss_unit,
        }
    }

    fn cpu_ns(self) -> u64 {
        self.user_ns + self.sys_ns
    }
}
