//! Built-in `dwarf`: a released binary carries no DWARF debug information.
//!
//! Matches sections by prefix, so compressed `.zdebug_*` sections, Mach-O `__DWARF` sections and PE sections behind
//! COFF long names (`/4` → `.debug_info`) all count, not just `.debug_info`.

use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};

const RULE: &str = "dwarf/present";
const FIX: &str = "link with -ldflags=\"-w\" (or -s -w; since Go 1.22 -s implies -w)";

struct Dwarf;

impl Plugin for Dwarf {
    fn metadata() -> Metadata {
        Metadata::new("dwarf", env!("CARGO_PKG_VERSION"))
            .moments([Moment::AfterTool, Moment::Check])
            .tools(["link"])
            .rule(RULE, "the binary carries DWARF debug information", FIX)
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        match Binary::open(binary).and_then(|b| b.dwarf_sections()) {
            Ok(sections) if sections.is_empty() => vec![],
            Ok(sections) => vec![Finding::error(RULE, format!("DWARF sections: {}", sections.join(", "))).help(FIX)],
            Err(e) => vec![Finding::unreadable("dwarf", e)],
        }
    }
}

export_plugin!(Dwarf);
