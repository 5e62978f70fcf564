//! Built-in `macho`: what Apple platforms require of an executable.
//!
//! darwin/arm64 code must be signed (`LC_CODE_SIGNATURE`; Apple Silicon kills unsigned arm64 code, and an external
//! `strip` breaks Go's ad-hoc signature), and every executable needs `LC_UUID` (recent dyld refuses executables
//! without one, which `-ldflags=-buildid=` alone causes). Other formats pass untouched.

use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};

struct MachO;

impl Plugin for MachO {
    fn metadata() -> Metadata {
        Metadata::new("macho", env!("CARGO_PKG_VERSION"))
            .moments([Moment::AfterTool, Moment::Check])
            .tools(["link"])
            .rule(
                "macho/signature",
                "an arm64 Mach-O executable has no code signature",
                "do not run an external strip after go build; re-sign with codesign -s - if you must",
            )
            .rule("macho/uuid", "the Mach-O executable has no LC_UUID", "with -buildid= also pass -B 0x<32 hex digits>")
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let facts = match Binary::open(binary).and_then(|b| b.facts()) {
            Ok(facts) => facts,
            Err(e) => return vec![Finding::unreadable("macho", e)],
        };
        let mut findings = Vec::new();
        for image in facts {
            let at = if image.offset == 0 { String::new() } else { format!(" (slice at offset {})", image.offset) };
            if image.code_signature == Some(false) && image.goarch == Some("arm64") {
                findings.push(
                    Finding::error("macho/signature", format!("arm64 executable without LC_CODE_SIGNATURE{at}"))
                        .help("do not strip the binary after go build; re-sign with codesign -s - if you must"),
                );
            }
            if image.uuid == Some(false) {
                findings.push(
                    Finding::error("macho/uuid", format!("no LC_UUID{at}: recent dyld refuses to load it"))
                        .help("-ldflags=-buildid= drops LC_UUID: also pass -B 0x<32 hex digits> (a fixed UUID keeps builds reproducible)"),
                );
            }
        }
        findings
    }
}

export_plugin!(MachO);
