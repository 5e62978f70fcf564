//! Used by build scripts (host/policy/build.rs embeds the built-in plugins; tests/build.rs builds the test plugins) to run
//! `cargo build --release --target wasm32-wasip2` on crates of another workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where every build script of the repository at `repo` builds its components: one directory for the built-ins,
/// the test plugins, the benchmark and the fuzz workspace, so that the SDK and its dependencies are compiled for
/// wasm once, not once per build script. Its own (not the outer build's), so the nested cargo never waits on the
/// lock of the build running the script; concurrent build scripts take turns on its lock.
pub fn target_dir(repo: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), PathBuf::from).join("wasm-components")
}

/// Builds `crates` of the workspace at `manifest` into `target_dir` (see [`target_dir`]) and returns the directory
/// holding the `.wasm` files. Asks cargo to
/// rerun the calling build script when any of `watched` changes.
pub fn build_components(manifest: &Path, crates: &[&str], target_dir: &Path, watched: &[PathBuf]) -> PathBuf {
    for path in watched {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    for krate in crates {
        command.args(["-p", krate]);
    }
    // The outer build's flags and target are for the host, not for wasm.
    for var in
        ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "RUSTC_WORKSPACE_WRAPPER"]
    {
        command.env_remove(var);
    }
    let status = command.status().expect("cargo runs");
    assert!(
        status.success(),
        "building wasm components from {} failed (see above); if the wasm32-wasip2 target is missing: \
         rustup target add wasm32-wasip2",
        manifest.display()
    );
    target_dir.join("wasm32-wasip2/release")
}

/// The `.wasm` file cargo writes for a crate.
pub fn wasm_file(dir: &Path, krate: &str) -> PathBuf {
    dir.join(format!("{}.wasm", krate.replace('-', "_")))
}
