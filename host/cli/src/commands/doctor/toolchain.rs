//! Is the Go toolchain native to this machine: the go that gohook runs, its compiler and linker, every other go a
//! shell or `GOTOOLCHAIN` might run, and go settings that make every build a cross-build.

use std::path::PathBuf;

use gohook_native::{Executable, Found, Installation, Places, installations};
use gohook_native::{Machine, Platform};
use gohook_process::env;

use super::{Finding, Level};

/// The toolchain findings for `machine` (detected, or declared with --host).
pub fn findings(host: Option<Platform>) -> Vec<Finding> {
    let machine = host.map_or_else(Machine::detect, Machine::declared);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let installations = installations(&path, &Places::from_env(), &env::go_program());
    let mut findings = vec![machine_finding(&machine)];
    if let Some(used) = installations.iter().find(|i| i.used) {
        let native = installations.iter().find(|i| i.go.runs_natively_on(&machine.platform.goarch));
        findings.extend(used_toolchain(&machine, used, native));
    }
    findings.extend(installations.iter().enumerate().map(|(i, found)| installation(&machine, i + 1, found)));
    findings.extend(settings(&machine));
    findings
}

fn machine_finding(machine: &Machine) -> Finding {
    let mut message = format!("{} ({})", machine.platform, machine.source);
    if !machine.emulators.is_empty() {
        message += &format!("; foreign executables run through binfmt_misc: {}", machine.emulators.join(", "));
    }
    match machine.translated {
        false => Finding::ok("machine", message),
        true => Finding::problem(
            "machine",
            Level::Warn,
            format!("{message}; gohook itself runs translated by Rosetta (an x86-64 build)"),
            "install gohook built for arm64 (cargo install on an arm64 Rust)",
        ),
    }
}

/// One failure per executable of the used toolchain that is not native, or one ok for all of them. The fix names
/// `native`, a native installation already on the disk, when there is one.
fn used_toolchain(machine: &Machine, used: &Installation, native_one: Option<&Installation>) -> Vec<Finding> {
    let native = &machine.platform.goarch;
    let version = used.version.as_deref().unwrap_or("go");
    let executables: Vec<Executable> = std::iter::once(used.go.clone()).chain(used.tools()).collect();
    let foreign: Vec<&Executable> = executables.iter().filter(|e| !e.runs_natively_on(native)).collect();
    if foreign.is_empty() {
        let names: Vec<String> = executables.iter().map(|e| file_name(&e.path)).collect();
        return vec![Finding::ok(
            "toolchain",
            format!("{version} at {}: {} native ({native})", used.root.display(), names.join(", ")),
        )];
    }
    foreign
        .into_iter()
        .map(|e| {
            let what = match &e.error {
                Some(error) => format!("{} cannot be read ({error})", e.path.display()),
                None => {
                    format!("{} is {}, not {native}: {}", e.path.display(), e.arches.join("+"), consequence(machine))
                }
            };
            let fix = match native_one {
                Some(native) => format!(
                    "{} {} is installed: put {} first on PATH (or set GOHOOK_GO to it)",
                    native.version.as_deref().unwrap_or("a native go"),
                    native_arch_of(native),
                    parent(&native.go.path).display()
                ),
                None => install_native(machine, version),
            };
            Finding::problem("toolchain", Level::Fail, what, fix)
        })
        .collect()
}

fn native_arch_of(installation: &Installation) -> String {
    installation.go.arches.join("+")
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// What a foreign executable means on this machine.
fn consequence(machine: &Machine) -> String {
    if machine.platform.goos == "darwin" && machine.platform.goarch == "arm64" {
        "it runs under Rosetta 2, builds 2-3x slower, and builds darwin/amd64 binaries by default".to_owned()
    } else if !machine.emulators.is_empty() {
        format!("it runs under emulation ({}), many times slower", machine.emulators.join(", "))
    } else {
        "it cannot run on this machine".to_owned()
    }
}

fn install_native(machine: &Machine, version: &str) -> String {
    let Platform { goos, goarch } = &machine.platform;
    let package = if goos == "darwin" { "pkg" } else { "tar.gz" };
    let brew = if goos == "darwin" { " (or `brew install go` with Homebrew in /opt/homebrew)" } else { "" };
    format!(
        "install the {goos}/{goarch} Go: https://go.dev/dl/{version}.{goos}-{goarch}.{package}{brew}, and put its bin \
         first on PATH"
    )
}

/// One line per installation found, in the order a shell searches, the used one marked.
fn installation(machine: &Machine, position: usize, found: &Installation) -> Finding {
    let native = &machine.platform.goarch;
    let arches = match (&found.go.error, found.go.arches.is_empty()) {
        (Some(_), _) | (None, true) => "unreadable".to_owned(),
        (None, false) => found.go.arches.join("+"),
    };
    let version = found.version.as_deref().unwrap_or("version unknown");
    let how = match &found.found {
        Found::Path { position } => format!("PATH entry {position}"),
        Found::Place { place } => place.clone(),
        Found::ToolchainModule { gotoolchain } => format!("toolchain module, run for GOTOOLCHAIN={gotoolchain}"),
    };
    let used = if found.used { ", used" } else { "" };
    let message = format!("{position}. {} {version} {arches} ({how}{used})", found.go.path.display());
    if found.go.runs_natively_on(native) || found.go.error.is_some() {
        return Finding::ok("go-found", message);
    }
    let fix = match &found.found {
        Found::ToolchainModule { gotoolchain } => format!(
            "fetched by an {arches} go; once a native go is first on PATH, remove {} and GOTOOLCHAIN={gotoolchain} \
             fetches the {} one",
            found.root.display(),
            machine.platform
        ),
        _ if found.used => "see the toolchain finding above".to_owned(),
        _ => format!("remove it, or keep {} off PATH ahead of a native go", parent(&found.go.path).display()),
    };
    Finding::problem("go-found", Level::Warn, format!("{message}: not {native}"), fix)
}

fn parent(path: &std::path::Path) -> PathBuf {
    path.parent().map(PathBuf::from).unwrap_or_default()
}

/// GOOS and GOARCH set to something else than the machine (in the environment or by `go env -w`): every build is a
/// cross-build, and `go test` runs its binaries translated or not at all. GOAMD64 above what this CPU supports:
/// every binary built here exits at start.
fn settings(machine: &Machine) -> Vec<Finding> {
    let settings = GoSettings::read();
    let mut findings = Vec::new();
    for (name, native) in [("GOOS", &machine.platform.goos), ("GOARCH", &machine.platform.goarch)] {
        if let Some((value, fix)) = settings.get(name)
            && &value != native
        {
            let message =
                format!("{name}={value} on a {} machine: every go build here is a cross-build", machine.platform);
            findings.push(Finding::problem("go-env", Level::Warn, message, fix));
        }
    }
    let level = |value: &str| value.strip_prefix('v').and_then(|n| n.parse::<u8>().ok());
    if let (Some((value, fix)), Some(cpu)) = (settings.get("GOAMD64"), machine.amd64_level)
        && let Some(wanted) = level(&value).filter(|wanted| *wanted > cpu)
    {
        let message = format!(
            "GOAMD64={value}: binaries built here need x86-64-v{wanted} instructions this CPU lacks (it is v{cpu}), \
             and exit at start when run here"
        );
        findings.push(Finding::problem("go-env", Level::Warn, message, fix));
    }
    findings
}

/// go settings as the user set them: the environment first, then go's settings file (`go env -w`).
struct GoSettings {
    file: Option<PathBuf>,
    file_text: String,
}

impl GoSettings {
    fn read() -> GoSettings {
        let file = go_env_file();
        let file_text = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()).unwrap_or_default();
        GoSettings { file, file_text }
    }

    /// The value of `name` and how to unset it, when the user set it.
    fn get(&self, name: &str) -> Option<(String, String)> {
        if let Some(value) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
            return Some((value, format!("unset {name} (set in the environment)")));
        }
        let value = self.file_text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix('='))?.trim();
        let file = self.file.as_ref()?;
        (!value.is_empty())
            .then(|| (value.to_owned(), format!("go env -u {name} (set by go env -w in {})", file.display())))
    }
}

/// go's own settings file: GOENV, else the user configuration directory's go/env.
fn go_env_file() -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("GOENV").filter(|v| !v.is_empty()) {
        return (file != "off").then(|| PathBuf::from(file));
    }
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let config = match std::env::consts::OS {
        "macos" => home.join("Library/Application Support"),
        _ => std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from).unwrap_or_else(|| home.join(".config")),
    };
    Some(config.join("go/env"))
}
