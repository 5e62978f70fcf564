//! `gohook doctor`: is this installation able to run builds, and if not, what to fix.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use anyhow::Result;
use serde::Serialize;

use gohook_policy::{PluginSpec, Policy};
use gohook_process::env;
use gohook_records::{Store, create_private_dir};
use gohook_runtime::PluginRunner;

use crate::args::{DoctorArgs, ListFormat};
use crate::commands::CommandContext;
use crate::output::write_output;

mod toolchain;

/// `gohook doctor`.
pub fn doctor(args: DoctorArgs, context: CommandContext) -> Result<u8> {
    let mut findings = diagnose(&context.store, context.config.as_deref(), &std::env::current_dir()?);
    findings.extend(toolchain::findings(args.host));
    let text = match args.format {
        ListFormat::Table => to_human(&findings),
        ListFormat::Json => serde_json::to_string_pretty(&findings)? + "\n",
    };
    write_output(None, &text)?;
    Ok(exit_code(&findings))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    /// Works, but something a user would want to know.
    Warn,
    /// Builds through gohook will fail or lose data until it is fixed.
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub level: Level,
    pub message: String,
    pub fix: Option<String>,
}

impl Finding {
    fn ok(check: &'static str, message: impl Into<String>) -> Finding {
        Finding { check, level: Level::Ok, message: message.into(), fix: None }
    }

    fn problem(check: &'static str, level: Level, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { check, level, message: message.into(), fix: Some(fix.into()) }
    }
}

/// Runs every check; `cwd` is where the policy is looked for, as a go command started there would.
fn diagnose(store: &Store, config: Option<&Path>, cwd: &Path) -> Vec<Finding> {
    let mut findings = vec![go(), toolexec_path(), records_dir(store)];
    findings.extend(policy(store, config, cwd));
    findings.push(wasm_target());
    findings
}

fn go() -> Finding {
    let go = env::go_program();
    match Command::new(&go).args(["env", "GOVERSION", "GOROOT"]).output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let mut lines = text.lines();
            let (version, root) = (lines.next().unwrap_or("?"), lines.next().unwrap_or("?"));
            Finding::ok("go", format!("{version} ({root})"))
        }
        Ok(out) => Finding::problem(
            "go",
            Level::Fail,
            format!("`{} env` failed: {}", go.to_string_lossy(), String::from_utf8_lossy(&out.stderr).trim()),
            "fix the Go installation, or point GOHOOK_GO at a working go",
        ),
        Err(e) if e.raw_os_error() == Some(libc::ENOEXEC) => Finding::problem(
            "go",
            Level::Fail,
            format!("cannot run {}: it is an executable for another machine ({e})", go.to_string_lossy()),
            "see the toolchain findings below",
        ),
        Err(e) => Finding::problem(
            "go",
            Level::Fail,
            format!("cannot run {}: {e}", go.to_string_lossy()),
            "install Go and put it on PATH, or set GOHOOK_GO to the go binary",
        ),
    }
}

/// go runs -toolexec from each package's directory: a relative path there points nowhere.
fn toolexec_path() -> Finding {
    let flags = std::env::var("GOFLAGS").unwrap_or_default();
    let relative = flags
        .split_whitespace()
        .filter_map(|flag| flag.strip_prefix("-toolexec=").or_else(|| flag.strip_prefix("--toolexec=")))
        .find(|path| path.contains('/') && !path.starts_with('/'));
    if let Some(path) = relative {
        return Finding::problem(
            "toolexec",
            Level::Fail,
            format!("GOFLAGS has -toolexec={path}, a relative path: go runs tools from each package's directory"),
            "use an absolute path, a bare name on PATH, or `gohook build` / `gohook exec`",
        );
    }
    // The commands run in `gohook-commands`; what go must run is the `gohook` next to it.
    match gohook_process::executables::gohook() {
        Ok(gohook) if gohook.is_file() => {
            Finding::ok("toolexec", format!("gohook build/exec pass -toolexec={}", gohook.display()))
        }
        Ok(gohook) => Finding::problem(
            "toolexec",
            Level::Fail,
            format!("{} is missing: go would have no gohook to run", gohook.display()),
            gohook_process::executables::REINSTALL,
        ),
        Err(e) => Finding::problem(
            "toolexec",
            Level::Fail,
            format!("cannot find gohook's own executable ({e})"),
            "run gohook from a normal file system path",
        ),
    }
}

/// Records and the plugin cache live under the record root; the cache holds native code, so it must be private.
fn records_dir(store: &Store) -> Finding {
    let root = store.root();
    if let Err(e) = create_private_dir(root) {
        return Finding::problem(
            "records",
            Level::Fail,
            format!("cannot create {}: {e}", root.display()),
            "set GOHOOK_DIR to a directory you can write",
        );
    }
    let probe = root.join(format!(".doctor-{}", std::process::id()));
    if let Err(e) = std::fs::write(&probe, b"ok") {
        return Finding::problem(
            "records",
            Level::Fail,
            format!("cannot write in {}: {e}; builds go on, unrecorded", root.display()),
            "free space there, or set GOHOOK_DIR to a writable directory",
        );
    }
    let _ = std::fs::remove_file(&probe);
    let unsafe_dirs: Vec<String> = [root.to_owned(), root.join("plugins/native")]
        .iter()
        .filter_map(|dir| not_private(dir).map(|why| format!("{}: {why}", dir.display())))
        .collect();
    if !unsafe_dirs.is_empty() {
        return Finding::problem(
            "records",
            Level::Fail,
            format!("not private to you: {} (compiled plugins there would not be trusted)", unsafe_dirs.join("; ")),
            format!("chmod 700 {}", root.display()),
        );
    }
    let builds = store.list().map(|b| b.len()).unwrap_or(0);
    Finding::ok("records", format!("{} (private, writable, {builds} builds recorded)", root.display()))
}

fn not_private(dir: &Path) -> Option<String> {
    let meta = std::fs::metadata(dir).ok()?;
    let uid = unsafe { libc::getuid() };
    if meta.uid() != uid {
        return Some(format!("owned by uid {}, not you ({uid})", meta.uid()));
    }
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o022 != 0).then(|| format!("mode {mode:o} lets others write"))
}

/// The policy parses, and every plugin it names loads and answers for its metadata.
fn policy(store: &Store, config: Option<&Path>, cwd: &Path) -> Vec<Finding> {
    let policy = match Policy::find(config, cwd) {
        Ok(policy) => policy,
        Err(e) => {
            return vec![Finding::problem(
                "policy",
                Level::Fail,
                e.to_string(),
                "fix the file: go builds through gohook fail at their first probe until then",
            )];
        }
    };
    let Some(source) = &policy.source else {
        return vec![Finding::ok("policy", "no gohook.toml here or above: builds are timed, nothing is checked")];
    };
    let specs = match PluginSpec::from_policy(&policy) {
        Ok(specs) => specs,
        Err(e) => {
            return vec![Finding::problem("policy", Level::Fail, e.to_string(), format!("fix {}", source.display()))];
        }
    };
    let mut checker = PluginRunner::new(&specs, store.root());
    let mut findings = vec![Finding::ok("policy", format!("{} ({} plugins)", source.display(), specs.len()))];
    for spec in &specs {
        findings.push(match checker.metadata(spec) {
            Ok(meta) => Finding::ok("plugin", format!("{} {} ({})", spec.name, meta.version, spec.source.describe())),
            Err(failure) => Finding::problem(
                "plugin",
                Level::Fail,
                format!("plugin {} {failure}", spec.name),
                format!("fix [plugins.{}] in {}", spec.name, source.display()),
            ),
        });
    }
    findings
}

/// Only plugin authors need the target; gohook itself carries its built-ins compiled.
fn wasm_target() -> Finding {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).lines().any(|l| l.trim() == "wasm32-wasip2") => {
            Finding::ok("wasm-target", "wasm32-wasip2 installed (for writing plugins)")
        }
        _ => Finding::problem(
            "wasm-target",
            Level::Warn,
            "wasm32-wasip2 is not installed: needed only to write plugins",
            "rustup target add wasm32-wasip2",
        ),
    }
}

fn to_human(findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in findings {
        let tag = match finding.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        out += &format!("{tag} {:<12} {}\n", finding.check, finding.message);
        if let Some(fix) = &finding.fix {
            out += &format!("     {:<12} fix: {fix}\n", "");
        }
    }
    let failed = findings.iter().filter(|f| f.level == Level::Fail).count();
    out += &match failed {
        0 => "gohook is ready\n".to_owned(),
        n => format!("{n} problem(s) to fix before building through gohook\n"),
    };
    out
}

fn exit_code(findings: &[Finding]) -> u8 {
    if findings.iter().any(|f| f.level == Level::Fail) { 1 } else { 0 }
}
