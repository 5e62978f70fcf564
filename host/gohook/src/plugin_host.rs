//! The plugin host: the one process that runs wasm. The shim that go starts for every tool invocation must stay lean
//! (wasmtime linked into it cost every invocation ~0.4 ms of loading and relocation, although few of them run a
//! plugin), so plugins run in `gohook-plugin-host`, an executable installed next to `gohook`, started only when a
//! configured plugin subscribes to the moment at hand — typically go's `-V=full` probes and the link.
//!
//! The shim's side is `gohook_shim::plugin_client`; this is the host's side: [`serve`] loads the policy once and
//! answers moments until its stdin closes. gohook's commands that run plugins (`check`, `goreleaser lint`,
//! `plugins`, `doctor`) are executed by the plugin host too: `gohook` hands them over with `exec`.

use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::Command;

use gohook_policy::{MomentInput, PluginSpec, Policy};
use gohook_records::Store;
use gohook_runtime::Checker;
use gohook_shim::logging;
use gohook_shim::plugin_client::{REINSTALL, SERVE, executable};

/// `gohook-plugin-host`'s entry point: moments when the shim asks, otherwise a gohook command.
pub fn main(argv: Vec<OsString>) -> u8 {
    match argv.get(1..) {
        Some([serve_flag, policy]) if serve_flag == SERVE => serve(Path::new(policy)),
        _ => crate::cli::main(argv),
    }
}

/// Hands a gohook command over to the plugin host, which runs it in this same process (`exec`).
pub fn exec_command(argv: &[OsString]) -> u8 {
    use std::os::unix::process::CommandExt;
    let host = match executable() {
        Ok(host) => host,
        Err(e) => {
            eprintln!("gohook: cannot find gohook's own executable: {e}");
            return crate::EXIT_USAGE;
        }
    };
    let error = Command::new(&host).arg0("gohook").args(&argv[1..]).exec();
    eprintln!("gohook: cannot start {}: {error}\n{}", host.display(), REINSTALL);
    crate::EXIT_USAGE
}

/// Answers the moments of `policy`'s plugins until stdin closes: a moment per line on stdin, a verdict per line on
/// stdout. Logs go where the shim's go (never stderr, which go would cache with a compile's output).
fn serve(policy: &Path) -> u8 {
    let store = Store::locate();
    let log = std::env::var_os(logging::ENV_LOG_FILE)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| store.root().join("gohook.log"));
    logging::init(logging::Target::File(Some(log)));
    let specs = match Policy::load(Some(policy)).and_then(|policy| PluginSpec::from_policy(&policy)) {
        Ok(specs) => specs,
        Err(e) => {
            eprintln!("gohook-plugin-host: {e}");
            return crate::EXIT_USAGE;
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
                return crate::EXIT_USAGE;
            }
        };
        let mut answer = serde_json::to_vec(&checker.run(&input)).expect("verdicts serialize");
        answer.push(b'\n');
        if stdout.write_all(&answer).and_then(|()| stdout.flush()).is_err() {
            return crate::EXIT_USAGE;
        }
    }
    0
}
