//! Builds the built-in plugins in `plugins/` for wasm32-wasip2. The policy crate keeps each one's name and content id
//! (`builtins.rs`); the wasm itself is embedded by the runtime crate (`builtin_wasm.rs`, whose path reaches its build
//! script through this crate's `links` metadata), so that the shim, which needs the ids and never runs a plugin,
//! carries none of it, and `cargo install --path host/gohook` still gives a complete gohook with no other files.

use std::path::PathBuf;

use gohook_wasm_build::{build_components, target_dir, wasm_file};
use sha2::{Digest, Sha256};

/// (plugin name, crate in plugins/).
const BUILTINS: &[(&str, &str)] = &[
    ("arch", "gohook-plugin-arch"),
    ("buildid", "gohook-plugin-buildid"),
    ("buildinfo", "gohook-plugin-buildinfo"),
    ("dwarf", "gohook-plugin-dwarf"),
    ("macho", "gohook-plugin-macho"),
    ("pie", "gohook-plugin-pie"),
    ("strip", "gohook-plugin-strip"),
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let repo = manifest_dir.ancestors().nth(2).unwrap().to_owned();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let crates: Vec<&str> = BUILTINS.iter().map(|(_, krate)| *krate).collect();
    let watched = ["plugins", "sdk", "wit"].map(|dir| repo.join(dir));
    let wasm_dir = build_components(&repo.join("plugins/Cargo.toml"), &crates, &target_dir(&repo), &watched);

    let mut ids = String::from("pub static BUILTINS: &[Builtin] = &[\n");
    let mut wasm_table = String::from("&[\n");
    for (name, krate) in BUILTINS {
        let wasm = wasm_file(&wasm_dir, krate);
        let bytes = std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
        let sha: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
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
