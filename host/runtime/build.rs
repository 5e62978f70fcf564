//! The built-in plugins' wasm, embedded here: the policy crate's build script builds them and passes the table of
//! their files through its `links` metadata (`DEP_GOHOOK_BUILTINS_TABLE`).

fn main() {
    let table = std::env::var("DEP_GOHOOK_BUILTINS_TABLE").expect("gohook-policy's build script names the table");
    println!("cargo:rerun-if-env-changed=DEP_GOHOOK_BUILTINS_TABLE");
    println!("cargo:rustc-env=BUILTIN_WASM_TABLE={table}");
}
