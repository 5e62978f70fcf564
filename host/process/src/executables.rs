//! gohook's two executables and how each finds the other.
//!
//! `gohook` is what go starts for every tool run, so it holds the shim and nothing else; a first argument that names
//! one of gohook's commands makes it hand the whole command line to `gohook-commands` (with `exec`, keeping its
//! pid and its name `gohook` in `ps`), which holds the commands, the reports and the wasm runtime. The shim starts
//! the same executable, as the moment server, for the plugin moments of a tool run. `cargo install` puts both in one
//! directory, and each finds the other there: never by PATH, which may hold another gohook.

use std::ffi::OsString;
use std::path::PathBuf;

/// The executable go runs as `-toolexec`, and the one users type.
pub const GOHOOK: &str = "gohook";
/// The executable that runs gohook's commands and its plugins, installed next to [`GOHOOK`].
pub const COMMANDS_EXECUTABLE: &str = "gohook-commands";

/// The first arguments that are gohook commands; anything else (a tool path, or the C compiler go probes by its bare
/// name) is a tool to run. The command line parser's test keeps this list equal to its commands.
pub const COMMANDS: &[&str] = &[
    "build",
    "bench",
    "compare",
    "baseline",
    "export",
    "exec",
    "report",
    "why",
    "builds",
    "attest",
    "verify",
    "plugins",
    "plugin",
    "check",
    "goreleaser",
    "doctor",
    "archdeps",
    "help",
];

/// Whether `gohook`'s first argument asks for a command (or gohook's own flags, `--help`, `--version`) rather than a
/// tool run.
pub fn is_command(first: &str) -> bool {
    COMMANDS.contains(&first) || first.starts_with('-')
}

/// The installed `gohook`, next to whichever of the two is running: what `-toolexec` must name.
pub fn gohook() -> std::io::Result<PathBuf> {
    sibling(GOHOOK)
}

/// The installed `gohook-commands`, next to whichever of the two is running.
pub fn commands_executable() -> std::io::Result<PathBuf> {
    sibling(COMMANDS_EXECUTABLE)
}

fn sibling(name: &str) -> std::io::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(name))
}

/// Hands gohook's command line to `gohook-commands` with `exec`: it keeps this pid (go, a shell or a CI runner waiting
/// for `gohook build` waits for it) and shows as `gohook` in `ps`. Returns only if the exec failed.
pub fn exec_commands(argv: &[OsString]) -> u8 {
    use std::os::unix::process::CommandExt;
    let host = match commands_executable() {
        Ok(host) => host,
        Err(e) => {
            eprintln!("gohook: cannot find gohook's own executable: {e}");
            return crate::EXIT_USAGE;
        }
    };
    let error = std::process::Command::new(&host).arg0(GOHOOK).args(argv.get(1..).unwrap_or_default()).exec();
    eprintln!("gohook: cannot start {}: {error}\ngohook: {REINSTALL}", host.display());
    crate::EXIT_USAGE
}

/// What to do when one of the pair is missing.
pub const REINSTALL: &str = "gohook runs its commands and plugins in gohook-commands, installed next to it; \
                             reinstall both with `cargo install --path host/gohook` (or build them with `cargo build \
                             --release`)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_not_commands() {
        assert!(is_command("report") && is_command("--version") && is_command("-h"));
        assert!(!is_command("/usr/lib/go/pkg/tool/linux_amd64/compile") && !is_command("gcc"));
    }
}
