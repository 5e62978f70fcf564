//! go starts `gohook` for every tool invocation, so on Linux with glibc it is linked static and non-PIE: no dynamic loader
//! runs before `main` (loading libc and libgcc_s and relocating against them was most of gohook's own cost per
//! invocation). `GOHOOK_DYNAMIC=1` at build time links it like any other Rust program.
//!
//! Rust's std is built to link glibc dynamically: it asks for `-lc -lm -lgcc_s …` under `-Bdynamic`, and `-C
//! target-feature=+crt-static` would also apply to proc-macros unless every build names `--target`. So this
//! executable's link alone (`-L` is a link argument of the `gohook` binary only) finds a stand-in `libX.so` for each
//! of those libraries: a linker script naming the static archive. `gohook-commands` links as usual.
//!
//! On x86-64, where Rust links with lld, the functions the shim runs are also laid out side by side at the start of
//! the text (`shim-order.txt`, made by `tools/shim-order`): an exec of a binary that came into the page cache by
//! readahead maps each page it touches, and packed together they are a few dozen pages instead of hundreds. The names
//! carry crate hashes, so a toolchain or dependency bump renames some: `tests/tests/architecture.rs` fails when the
//! linked shim lacks more than a tenth of them, saying to run `tools/shim-order`. `GOHOOK_NO_ORDER=1` leaves the
//! layout to the linker (for a linker other than lld or mold, which know no `--symbol-ordering-file`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The libraries std links on linux-gnu, and the static archives that replace them.
const LIBRARIES: &[(&str, &[&str])] = &[
    ("c", &["libc.a"]),
    ("m", &["libm.a"]),
    ("rt", &["librt.a"]),
    ("pthread", &["libpthread.a"]),
    ("dl", &["libdl.a"]),
    ("util", &["libutil.a"]),
    ("gcc_s", &["libgcc_eh.a", "libgcc.a"]),
];

fn main() {
    println!("cargo:rerun-if-env-changed=GOHOOK_DYNAMIC");
    println!("cargo:rerun-if-env-changed=GOHOOK_NO_ORDER");
    println!("cargo:rerun-if-changed=shim-order.txt");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    if !linux_gnu || std::env::var_os("GOHOOK_DYNAMIC").is_some() {
        return;
    }
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let dir = PathBuf::from(var("OUT_DIR")).join("static-glibc");
    std::fs::create_dir_all(&dir).expect("OUT_DIR is writable");
    for (name, archives) in LIBRARIES {
        let mut paths = Vec::new();
        for archive in *archives {
            match archive_path(&compiler, archive) {
                Some(path) => paths.push(path),
                None => {
                    println!(
                        "cargo:warning=no static {archive} (install libc6-dev): gohook is linked dynamically, \
                         which costs each tool invocation the dynamic loader"
                    );
                    return;
                }
            }
        }
        let inputs: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        std::fs::write(dir.join(format!("lib{name}.so")), format!("GROUP({})\n", inputs.join(" ")))
            .expect("OUT_DIR is writable");
    }
    println!("cargo:rustc-link-arg-bin=gohook=-L{}", dir.display());
    println!("cargo:rustc-link-arg-bin=gohook=-no-pie");
    println!("cargo:rustc-link-arg-bin=gohook=-static");
    if var("CARGO_CFG_TARGET_ARCH") == "x86_64" && std::env::var_os("GOHOOK_NO_ORDER").is_none() {
        let order = Path::new(&var("CARGO_MANIFEST_DIR")).join("shim-order.txt");
        println!("cargo:rustc-link-arg-bin=gohook=-Wl,--symbol-ordering-file={}", order.display());
        // Names the binary no longer has are skipped here; tests/tests/architecture.rs fails when too many are.
        println!("cargo:rustc-link-arg-bin=gohook=-Wl,--no-warn-symbol-ordering");
    }
}

/// Where the C compiler finds `archive`, if it has it.
fn archive_path(compiler: &str, archive: &str) -> Option<PathBuf> {
    let out = Command::new(compiler).arg(format!("-print-file-name={archive}")).output().ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    // Without it, the compiler prints the bare name back.
    (path.is_absolute() && Path::new(&path).is_file()).then_some(path)
}
