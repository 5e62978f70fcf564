//! The plugin benchmark loads the documented example plugin; its directory reaches the bench as BENCH_WASM_DIR.

use std::path::PathBuf;

fn main() {
    let repo = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).parent().unwrap().to_owned();
    let target_dir = gohook_wasm_build::target_dir(&repo);
    let watched = ["plugins", "sdk", "wit"].map(|dir| repo.join(dir));
    let dir = gohook_wasm_build::build_components(
        &repo.join("plugins/Cargo.toml"),
        &["gohook-plugin-example"],
        &target_dir,
        &watched,
    );
    println!("cargo:rustc-env=BENCH_WASM_DIR={}", dir.display());
}
