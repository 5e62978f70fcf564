//! The gohook plugin PLUGIN_NAME: release binaries must not carry DWARF debug sections. Build it with
//! `gohook plugin build`, try it with `gohook plugin test PLUGIN_NAME.wasm BINARY`, and use it from gohook.toml
//! (see gohook.toml.example).
use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};

const RULE: &str = "PLUGIN_NAME/dwarf";
const FIX: &str = "link with -ldflags=\"-w\" (or -s -w) to leave DWARF out";

struct Starter;

impl Plugin for Starter {
    fn metadata() -> Metadata {
        // After each link (the SDK then calls `check` on the binary) and in `gohook check FILE`.
        Metadata::new("PLUGIN_NAME", "0.1.0").moments([Moment::AfterTool, Moment::Check]).tools(["link"]).rule(
            RULE,
            "the binary carries DWARF debug information",
            FIX,
        )
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let names = match Binary::open(binary).and_then(|b| b.section_names()) {
            Ok(names) => names,
            Err(e) => return vec![Finding::error("PLUGIN_NAME/unreadable", e)],
        };
        let dwarf: Vec<String> = names.into_iter().filter(|n| gohook_sdk::inspect::is_dwarf_section(n)).collect();
        if dwarf.is_empty() {
            return vec![];
        }
        vec![Finding::error(RULE, format!("DWARF sections present: {}", dwarf.join(", "))).help(FIX)]
    }
}

export_plugin!(Starter);

#[cfg(test)]
mod tests {
    use gohook_sdk::inspect::is_dwarf_section;

    #[test]
    fn dwarf_sections_are_recognized_in_every_format() {
        assert!(is_dwarf_section(".debug_info") && is_dwarf_section("__debug_line") && is_dwarf_section(".zdebug_str"));
        assert!(!is_dwarf_section(".text"));
    }
}
