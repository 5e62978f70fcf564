//! `gohook plugin build`: a plugin directory into the component `[plugins.NAME] path =` takes, with the standard
//! toolchains only. Go: `GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`, then [`componentize`] in-process.
//! Rust: `cargo build --release --target wasm32-wasip2`, which links a component itself.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::componentize::componentize;
use crate::starters::{Lang, sdk_of, write_sdk};
use crate::{AuthoringError, CONTRACT_WIT, io_error};

/// What a build wrote.
#[derive(Debug)]
pub struct Built {
    pub lang: Lang,
    /// `DIR/NAME.wasm`.
    pub component: PathBuf,
    pub bytes: u64,
}

/// Builds the plugin in `dir` with `go` (the go program to run) or cargo; refreshes its SDK first.
pub fn build(dir: &Path, go: &OsStr) -> Result<Built, AuthoringError> {
    let (lang, name) = if dir.join("go.mod").is_file() {
        (Lang::Go, go_module_name(dir)?)
    } else if dir.join("Cargo.toml").is_file() {
        (Lang::Rust, cargo_package_name(dir)?)
    } else {
        return Err(AuthoringError::NotAPlugin(dir.to_owned()));
    };
    write_sdk(dir, sdk_of(lang))?;
    let component = dir.join(format!("{name}.wasm"));
    match lang {
        Lang::Go => build_go(dir, go, &component)?,
        Lang::Rust => build_rust(dir, &name, &component)?,
    }
    let bytes = std::fs::metadata(&component).map_err(io_error(&component))?.len();
    Ok(Built { lang, component, bytes })
}

/// `//go:wasmexport` arrived in Go 1.24.
const GO_MINOR_NEEDED: u32 = 24;

fn build_go(dir: &Path, go: &OsStr, component: &Path) -> Result<(), AuthoringError> {
    let version = run(Command::new(go).args(["env", "GOVERSION"]).current_dir(dir), "go env", dir, GO_FIX)?;
    let version = version.trim();
    let minor = version.strip_prefix("go1.").and_then(|v| v.split(['.', 'r', 'b']).next()?.parse::<u32>().ok());
    if minor.is_some_and(|m| m < GO_MINOR_NEEDED) {
        return Err(AuthoringError::Toolchain(format!(
            "{version} cannot build a plugin: //go:wasmexport needs go1.{GO_MINOR_NEEDED} or newer; install a newer \
             Go (https://go.dev/dl/) or run with GOTOOLCHAIN=go1.{GO_MINOR_NEEDED}.0"
        )));
    }
    let scratch = tempfile::tempdir().map_err(io_error(dir))?;
    let module = scratch.path().join("plugin.core.wasm");
    let mut go_build = Command::new(go);
    go_build
        .args(["build", "-trimpath", "-buildmode=c-shared", "-o"])
        .arg(&module)
        .arg(".")
        .current_dir(dir)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .env("CGO_ENABLED", "0");
    run(&mut go_build, "go build", dir, GO_FIX)?;
    let core = std::fs::read(&module).map_err(io_error(&module))?;
    let bytes = componentize(&core, CONTRACT_WIT)?;
    std::fs::write(component, bytes).map_err(io_error(component))
}

const GO_FIX: &str = "install Go (https://go.dev/dl/), or set GOHOOK_GO to the go binary";
const CARGO_FIX: &str = "install Rust (https://rustup.rs)";

fn build_rust(dir: &Path, name: &str, component: &Path) -> Result<(), AuthoringError> {
    let libdir = run(
        Command::new("rustc").args(["--print", "target-libdir", "--target", "wasm32-wasip2"]).current_dir(dir),
        "rustc",
        dir,
        CARGO_FIX,
    )?;
    if !Path::new(libdir.trim()).is_dir() {
        return Err(AuthoringError::Toolchain(
            "the Rust target wasm32-wasip2 is not installed: rustup target add wasm32-wasip2".to_owned(),
        ));
    }
    let mut cargo = Command::new("cargo");
    cargo.args(["build", "--release", "--target", "wasm32-wasip2"]).current_dir(dir);
    run(&mut cargo, "cargo build", dir, CARGO_FIX)?;
    // cargo's own rule: CARGO_TARGET_DIR (relative to where cargo runs), else the package's target/.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| dir.join("target"), |d| dir.join(d));
    let built = target.join(format!("wasm32-wasip2/release/{}.wasm", name.replace('-', "_")));
    std::fs::copy(&built, component).map_err(io_error(&built))?;
    Ok(())
}

/// The command's stdout; its stderr in the error when it fails.
fn run(command: &mut Command, tool: &str, dir: &Path, fix: &'static str) -> Result<String, AuthoringError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let out = command.output().map_err(|source| AuthoringError::Missing { program, source, fix })?;
    if !out.status.success() {
        let output = String::from_utf8_lossy(&out.stderr).trim_end().to_owned();
        return Err(AuthoringError::Failed { tool: tool.to_owned(), dir: dir.to_owned(), output });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The last element of go.mod's module path: the component's file name.
fn go_module_name(dir: &Path) -> Result<String, AuthoringError> {
    let path = dir.join("go.mod");
    let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
    let module = text.lines().find_map(|l| l.trim().strip_prefix("module ")).map(|m| m.trim().trim_matches('"'));
    let name = module.and_then(|m| m.rsplit('/').next()).filter(|n| !n.is_empty());
    name.map(str::to_owned).ok_or_else(|| AuthoringError::NotAPlugin(dir.to_owned()))
}

fn cargo_package_name(dir: &Path) -> Result<String, AuthoringError> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
    let manifest: toml::Table =
        text.parse().map_err(|e: toml::de::Error| AuthoringError::Toolchain(format!("{}: {e}", path.display())))?;
    let name = manifest.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
    name.map(str::to_owned).ok_or_else(|| AuthoringError::NotAPlugin(dir.to_owned()))
}
