//! Example gohook plugin: a linked binary must not carry DWARF debug sections.
//!
//! Build: cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml -p gohook-plugin-example
//! Use:   [plugins.no-debug] path = "…/wasm32-wasip2/release/gohook_plugin_example.wasm" in gohook.toml
use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};

const RULE: &str = "no-debug/dwarf";
const FIX: &str = "link with -ldflags=\"-w\" (or -s -w) to leave DWARF out";

struct NoDebug;

impl Plugin for NoDebug {
    fn metadata() -> Metadata {
        // After link (the SDK then calls `check` on the binary) and in `gohook check`.
        Metadata::new("no-debug", "0.1.0").moments([Moment::AfterTool, Moment::Check]).tools(["link"]).rule(
            RULE,
            "the binary carries DWARF debug information",
            FIX,
        )
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let names = match Binary::open(binary).and_then(|b| b.section_names()) {
            Ok(names) => names,
            Err(e) => return vec![Finding::error("no-debug/unreadable", e)],
        };
        let dwarf: Vec<String> = names.into_iter().filter(|n| n.contains("debug_")).collect();
        if dwarf.is_empty() {
            return vec![];
        }
        vec![Finding::error(RULE, format!("DWARF sections present: {}", dwarf.join(", "))).help(FIX)]
    }
}

export_plugin!(NoDebug);
