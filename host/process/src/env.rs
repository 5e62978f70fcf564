//! gohook's environment contract: every `GOHOOK_*` variable, what it means, and how it is read.
//!
//! Three kinds of process read them: the shim (go starts it per tool run, and `gohook build` tells it the build id,
//! the record root and the policy), `gohook-commands` (its commands, and the moments the shim asks for), and `cargo
//! build` (one build-time switch). Every variable is read here and nowhere else; a test keeps `"GOHOOK_` out of every
//! other source file. The rule for an empty value is the same for all of them — empty is unset — but for
//! [`CONFIG`], where empty means "no policy at all".
//!
//! [`ShimEnvironment`] is the one place that writes them: what `gohook build`, `exec` and `bench` hand every shim of
//! their go command, and what the calibration hands the shims it times.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The record root (records, logs, the plugin cache); default: the user cache directory + `/gohook`.
pub const DIR: &str = "GOHOOK_DIR";
/// The policy file; empty: no policy. Default: the nearest `gohook.toml` above the go command's directory.
pub const CONFIG: &str = "GOHOOK_CONFIG";
/// A `tracing` filter, e.g. `debug`; default: warnings only.
pub const LOG: &str = "GOHOOK_LOG";
/// Where the shim and `gohook-commands` log; default `<record root>/gohook.log`. `gohook build` sets the build's own.
pub const LOG_FILE: &str = "GOHOOK_LOG_FILE";
/// The go binary `gohook build`, `exec`, `bench` and `doctor` run; default `go` from PATH.
pub const GO: &str = "GOHOOK_GO";
/// Groups builds (and `gohook check` results) into one run, e.g. one goreleaser release: a file name.
pub const RUN: &str = "GOHOOK_RUN";
/// Names the build's target within its run (goreleaser's `{{ .Target }}`).
pub const TARGET: &str = "GOHOOK_TARGET";
/// Free-form labels of a build, `key=value,key=value`.
pub const LABELS: &str = "GOHOOK_LABELS";
/// The build id `gohook build` chose for every tool run of its go command.
pub const BUILD_ID: &str = "GOHOOK_BUILD_ID";
/// The build's start, Unix nanoseconds: the origin of its time axis.
pub const BUILD_START_NS: &str = "GOHOOK_BUILD_START_NS";
/// `1`: record the compiler's and linker's phases (`gohook build --phases`).
pub const PHASES: &str = "GOHOOK_PHASES";
/// The directory the compiler's and linker's CPU profiles go to (`gohook build --cpuprofile`).
pub const CPUPROFILE_DIR: &str = "GOHOOK_CPUPROFILE_DIR";
/// In GitHub Actions, the job's check run id (`${{ job.check_run_id }}`, which GitHub does not put in the
/// environment itself): exported builds then hang under the job's span as the OpenTelemetry collector's GitHub
/// receiver makes it, instead of under the workflow run's.
pub const GITHUB_CHECK_RUN_ID: &str = "GOHOOK_GITHUB_CHECK_RUN_ID";
/// The key `gohook attest` and `gohook build --attest` sign with (wins over gohook.toml's `[attest] key`).
pub const ATTEST_KEY: &str = "GOHOOK_ATTEST_KEY";
/// `1`: the shim answers and runs tools but records nothing: gohook's own `go list -export` after a test build,
/// which must see the build's cache keys (so the same `-toolexec`) without being a build of its own.
pub const NOT_RECORDED: &str = "GOHOOK_NOT_RECORDED";
/// The pid of the gohook that started the build's go command: a go command further down (a test that runs
/// `go build`) is a nested build of its own, linked to this one.
pub const DRIVER_PID: &str = "GOHOOK_DRIVER_PID";
/// At build time (`cargo build`): link `gohook` dynamically on Linux (default: static; `host/gohook/build.rs`).
pub const DYNAMIC: &str = "GOHOOK_DYNAMIC";
/// At build time: leave the shim's function layout to the linker (default: `host/gohook/shim-order.txt` first).
pub const NO_ORDER: &str = "GOHOOK_NO_ORDER";

/// A variable of gohook's environment.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    /// What `gohook --help` says of it, for the variables a user sets; `None` for those gohook sets for its own go
    /// commands and shims, or that only cargo reads when building gohook.
    pub help: Option<&'static str>,
}

/// Every variable above, once: `gohook --help` shows those a user sets ([`help`]), and a test holds every
/// `GOHOOK_` constant of this module to the list.
pub const ALL: [Variable; 18] = [
    Variable { name: DIR, help: Some("record root (default: the user cache directory, e.g. ~/.cache/gohook)") },
    Variable {
        name: CONFIG,
        help: Some("policy file (default: the nearest gohook.toml above the go command's directory; empty: none)"),
    },
    Variable {
        name: LOG,
        help: Some("log filter, e.g. debug (default: warn); the shim logs to GOHOOK_LOG_FILE or <root>/gohook.log"),
    },
    Variable { name: LOG_FILE, help: Some("where the shim and `gohook-commands` log (default: <root>/gohook.log)") },
    Variable { name: GO, help: Some("the go binary gohook build/exec/bench run (default: go from PATH)") },
    Variable {
        name: RUN,
        help: Some(
            "labels every build (and `gohook check`) with a run, e.g. one goreleaser release; `gohook report --run NAME` shows them together",
        ),
    },
    Variable { name: TARGET, help: Some("labels the build with its target within the run (goreleaser's .Target)") },
    Variable { name: LABELS, help: Some("free-form labels, key=value,key=value (gohook build/bench --label adds)") },
    Variable { name: BUILD_ID, help: None },
    Variable { name: BUILD_START_NS, help: None },
    Variable { name: PHASES, help: None },
    Variable { name: CPUPROFILE_DIR, help: None },
    Variable {
        name: GITHUB_CHECK_RUN_ID,
        help: Some(
            "in GitHub Actions, the job's check run id (${{job.check_run_id}}): exported builds hang under the job's span",
        ),
    },
    Variable {
        name: ATTEST_KEY,
        help: Some("the P-256 key attestations are signed with (PKCS#8 PEM or a cosign key; COSIGN_PASSWORD decrypts)"),
    },
    Variable { name: NOT_RECORDED, help: None },
    Variable { name: DRIVER_PID, help: None },
    Variable { name: DYNAMIC, help: None },
    Variable { name: NO_ORDER, help: None },
];

/// The Environment section of `gohook --help`: each variable a user sets, its help wrapped at `width` columns under
/// the others' names.
pub fn help(width: usize) -> String {
    let users: Vec<&Variable> = ALL.iter().filter(|v| v.help.is_some()).collect();
    let column = users.iter().map(|v| v.name.len()).max().unwrap_or(0) + 4;
    let mut out = String::new();
    for variable in users {
        let mut line = format!("  {:<1$}", variable.name, column - 2);
        for word in variable.help.unwrap_or_default().split(' ') {
            if line.len() + 1 + word.len() > width && line.len() > column {
                out += line.trim_end();
                out.push('\n');
                line = " ".repeat(column);
            } else if line.len() > column {
                line.push(' ');
            }
            line += word;
        }
        out += &line;
        out.push('\n');
    }
    out
}

/// The common prefix: go's own settings (GO*) seen by plugins and machine records leave these out.
pub const PREFIX: &str = "GOHOOK_";

/// A set, non-empty value.
fn value(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// [`DIR`] as an absolute path, when set.
pub fn record_root() -> Option<PathBuf> {
    let dir = PathBuf::from(value(DIR)?);
    Some(std::path::absolute(&dir).unwrap_or(dir))
}

/// What [`CONFIG`] says about the policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChoice {
    /// Unset: look for `gohook.toml`.
    Search,
    /// Set to the empty string: no policy.
    NoPolicy,
    File(PathBuf),
}

pub fn config() -> ConfigChoice {
    match std::env::var_os(CONFIG) {
        None => ConfigChoice::Search,
        Some(value) if value.is_empty() => ConfigChoice::NoPolicy,
        Some(value) => ConfigChoice::File(PathBuf::from(value)),
    }
}

/// [`NOT_RECORDED`] is set.
pub fn not_recorded() -> bool {
    value(NOT_RECORDED).is_some()
}

/// [`DRIVER_PID`], when set and a number.
pub fn driver_pid() -> Option<u32> {
    text(DRIVER_PID)?.parse().ok()
}

/// [`LOG`], the `tracing` filter someone asked for.
pub fn log_filter() -> Option<String> {
    text(LOG)
}

/// [`LOG_FILE`].
pub fn log_file() -> Option<PathBuf> {
    value(LOG_FILE).map(PathBuf::from)
}

/// The go program to run: [`GO`], else `go` (looked up in PATH).
pub fn go_program() -> OsString {
    value(GO).unwrap_or_else(|| "go".into())
}

/// [`RUN`] and [`TARGET`], each empty when unset.
pub fn run_and_target() -> (String, String) {
    (text(RUN).unwrap_or_default(), text(TARGET).unwrap_or_default())
}

/// [`LABELS`], unparsed; empty when unset.
pub fn labels() -> String {
    text(LABELS).unwrap_or_default()
}

/// [`BUILD_ID`] and [`BUILD_START_NS`], unchecked, when both are set.
pub fn build_stamp() -> Option<(String, String)> {
    Some((text(BUILD_ID)?, text(BUILD_START_NS)?))
}

/// [`GITHUB_CHECK_RUN_ID`], empty when unset.
pub fn github_check_run_id() -> String {
    text(GITHUB_CHECK_RUN_ID).unwrap_or_default()
}

/// [`PHASES`] is `1`.
pub fn phases() -> bool {
    std::env::var_os(PHASES).is_some_and(|v| v == "1")
}

/// [`CPUPROFILE_DIR`].
pub fn cpuprofile_dir() -> Option<PathBuf> {
    value(CPUPROFILE_DIR).map(PathBuf::from)
}

/// What one go command's shims are told, set on that go command by [`ShimEnvironment::apply`]. Variables left
/// `None` keep what the caller's environment has (a goreleaser release's `GOHOOK_RUN`, say).
#[derive(Debug, Clone, Default)]
pub struct ShimEnvironment {
    /// The build id and its start stamp (Unix ns): every tool run of the go command records into one build.
    pub build: Option<(String, u64)>,
    pub record_root: Option<PathBuf>,
    /// `Some(None)`: no policy; `Some(Some(file))`: that file.
    pub policy: Option<Option<PathBuf>>,
    pub log_file: Option<PathBuf>,
    pub phases: bool,
    pub cpuprofile_dir: Option<PathBuf>,
    /// `Some("")` clears the caller's.
    pub run: Option<String>,
    pub target: Option<String>,
    pub labels: Option<String>,
    /// The gohook that starts the go command (its own pid), so shims under a nested go command can tell.
    pub driver_pid: Option<u32>,
    /// Shims answer and run, recording nothing.
    pub not_recorded: bool,
}

impl ShimEnvironment {
    /// The variables to set, in order.
    pub fn vars(&self) -> Vec<(&'static str, OsString)> {
        let mut vars: Vec<(&'static str, OsString)> = Vec::new();
        if let Some((id, start_ns)) = &self.build {
            vars.push((BUILD_ID, id.into()));
            vars.push((BUILD_START_NS, start_ns.to_string().into()));
        }
        if let Some(root) = &self.record_root {
            vars.push((DIR, root.into()));
        }
        if let Some(policy) = &self.policy {
            vars.push((CONFIG, policy.as_deref().map(Path::as_os_str).unwrap_or_default().into()));
        }
        if let Some(file) = &self.log_file {
            vars.push((LOG_FILE, file.into()));
        }
        if self.phases {
            vars.push((PHASES, "1".into()));
        }
        if let Some(dir) = &self.cpuprofile_dir {
            vars.push((CPUPROFILE_DIR, dir.into()));
        }
        for (name, value) in [(RUN, &self.run), (TARGET, &self.target), (LABELS, &self.labels)] {
            if let Some(value) = value {
                vars.push((name, value.into()));
            }
        }
        if let Some(pid) = self.driver_pid {
            vars.push((DRIVER_PID, pid.to_string().into()));
        }
        if self.not_recorded {
            vars.push((NOT_RECORDED, "1".into()));
        }
        vars
    }

    pub fn apply(&self, command: &mut Command) {
        command.envs(self.vars());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_the_prefix_and_appears_once() {
        let mut names: Vec<&str> = ALL.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert!(ALL.iter().all(|v| v.name.starts_with(PREFIX)));
        // Every constant this module declares is in the list: the source is the list of record.
        let source = include_str!("env.rs");
        let declared: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub const ")?.split_once(": &str = \"GOHOOK_").map(|(_, rest)| rest))
            .map(|rest| rest.trim_end_matches("\";"))
            .filter(|name| !name.is_empty())
            .collect();
        assert_eq!(declared.len(), ALL.len(), "{declared:?}");
        for name in declared {
            assert!(names.contains(&format!("GOHOOK_{name}").as_str()), "GOHOOK_{name} is not in ALL");
        }
    }

    #[test]
    fn the_help_shows_what_users_set_wrapped_under_the_names() {
        let help = help(88);
        assert!(
            help.starts_with("  GOHOOK_DIR                  record root (default: the user cache directory"),
            "{help}"
        );
        assert_eq!(help.lines().filter(|l| l.starts_with("  GOHOOK_")).count(), 10, "{help}");
        assert!(help.lines().all(|l| l.len() <= 88), "{help}");
        assert!(!help.contains("GOHOOK_BUILD_ID"), "{help}");
    }

    #[test]
    fn the_shim_environment_sets_what_it_holds_and_nothing_else() {
        let env = ShimEnvironment {
            build: Some(("b1".into(), 42)),
            policy: Some(None),
            phases: true,
            run: Some(String::new()),
            ..ShimEnvironment::default()
        };
        let vars: Vec<(&str, String)> =
            env.vars().into_iter().map(|(k, v)| (k, v.to_string_lossy().into_owned())).collect();
        assert_eq!(
            vars,
            [
                (BUILD_ID, "b1".to_owned()),
                (BUILD_START_NS, "42".to_owned()),
                (CONFIG, String::new()),
                (PHASES, "1".to_owned()),
                (RUN, String::new())
            ]
        );
    }
}
