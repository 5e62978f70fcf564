//! Built-in `strip`: a released binary carries no symbol table.
//!
//! "Stripped" means no symbol table and nothing more: `-s -w` keeps Go's build info and `.gopclntab`. The rules per
//! format are the SDK's (`Binary::symbol_tables`), which avoid the naive tests that misjudge Go binaries.

use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};

const RULE: &str = "strip/symbols";
const FIX: &str = "link with -ldflags=\"-s -w\"";

struct Strip;

impl Plugin for Strip {
    fn metadata() -> Metadata {
        Metadata::new("strip", env!("CARGO_PKG_VERSION"))
            .moments([Moment::AfterTool, Moment::Check])
            .tools(["link"])
            .rule(RULE, "the binary carries a symbol table", FIX)
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        match Binary::open(binary).and_then(|b| b.symbol_tables()) {
            Ok(tables) => tables
                .into_iter()
                .filter(|table| table.present)
                .map(|table| {
                    let at =
                        if table.offset == 0 { String::new() } else { format!(" (image at offset {})", table.offset) };
                    Finding::error(RULE, format!("not stripped: {}{at}", table.detail)).help(FIX)
                })
                .collect(),
            Err(e) => vec![Finding::unreadable("strip", e)],
        }
    }
}

export_plugin!(Strip);
