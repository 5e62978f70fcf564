//! Builds the built-in plugins in `plugins/` for wasm32-wasip2. The policy crate keeps each one's name and content id
//! (`builtins.rs`); the wasm itself is embedded by the runtime crate (`builtin_wasm.rs`, whose path reaches its build
//! script through this crate's `links` metadata), so that the shim, which needs the ids and never runs a plugin,
//! carries none of it, and `cargo install --path host/gohook` still gives a complete gohook with no other files.

use std::path::PathBuf;

use gohook_wasm_build::{build_components, target_dir, wasm_file};
use sha2::{Digest, Sha256};

/// The members of plugins/ that are not built in: the documented example a plugin author starts from.
const NOT_BUILT_IN: &[&str] = &["example"];

/// The built-ins, from the one list of them, the plugins workspace's members (`plugins/Cargo.toml`): (plugin name,
/// its crate, `gohook-plugin-NAME`).
fn builtins(plugins_manifest: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(plugins_manifest).unwrap();
    let manifest: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", plugins_manifest.display()));
    let members = manifest["workspace"]["members"].as_array().expect("plugins/Cargo.toml lists its members");
    members
        .iter()
        .map(|m| m.as_str().expect("a member is a directory name").to_owned())
        .filter(|name| !NOT_BUILT_IN.contains(&name.as_str()))
        .map(|name| (name.clone(), format!("gohook-plugin-{name}")))
        .collect()
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let repo = manifest_dir.ancestors().nth(2).unwrap().to_owned();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let manifest = repo.join("plugins/Cargo.toml");
    let builtins = builtins(&manifest);
    let crates: Vec<&str> = builtins.iter().map(|(_, krate)| krate.as_str()).collect();
    let watched = ["plugins", "sdk", "wit"].map(|dir| repo.join(dir));
    let wasm_dir = build_components(&manifest, &crates, &target_dir(&repo), &watched);

    let mut ids = String::from("pub static BUILTINS: &[Builtin] = &[\n");
    let mut wasm_table = String::from("&[\n");
    for (name, krate) in &builtins {
        let wasm = wasm_file(&wasm_dir, krate);
        let bytes = std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
        let sha = hex::encode(Sha256::digest(&bytes));
        ids += &format!("    Builtin {{ name: {name:?}, sha256: {sha:?} }},\n");
        wasm_table += &format!("    ({name:?}, include_bytes!({:?})),\n", wasm.display().to_string());
    }
    ids += "];\n";
    wasm_table += "]\n";
    std::fs::write(out_dir.join("builtins.rs"), ids).unwrap();
    let table = out_dir.join("builtin_wasm.rs");
    std::fs::write(&table, wasm_table).unwrap();
    println!("cargo:table={}", table.display());
}
