//! Builds the wasm components the end-to-end tests load: the documented example plugin and the test plugins. Their
//! directory reaches the tests as `GOHOOK_TEST_WASM_DIR`.

use std::path::PathBuf;

use gohook_wasm_build::build_components;

fn main() {
    let repo = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).parent().unwrap().to_owned();
    let target_dir = gohook_wasm_build::target_dir(&repo);
    let watched = ["plugins", "sdk", "wit", "tests/plugins"].map(|dir| repo.join(dir));
    build_components(&repo.join("plugins/Cargo.toml"), &["gohook-plugin-example"], &target_dir, &watched);
    let dir = build_components(
        &repo.join("tests/plugins/Cargo.toml"),
        &["hostile", "future", "pinned", "compile-watch"],
        &target_dir,
        &[],
    );
    println!("cargo:rustc-env=GOHOOK_TEST_WASM_DIR={}", dir.display());
}
