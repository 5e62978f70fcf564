//! Built-in `pie`: executables are position independent, so the OS can randomize where they load (ASLR).
//!
//! ELF: `ET_DYN` with `DF_1_PIE` or an interpreter (static-pie allowed unless `allow_static_pie = false`); Mach-O:
//! `MH_PIE` on an `MH_EXECUTE`; PE: `DYNAMIC_BASE`, relocations kept, and `HIGH_ENTROPY_VA` on 64-bit images.

use gohook_sdk::inspect::{Binary, Pie};
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};
use serde::Deserialize;

const RULE: &str = "pie/not-pie";
const FIX: &str = "build with -buildmode=pie";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    allow_static_pie: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { allow_static_pie: true }
    }
}

struct PieCheck;

impl Plugin for PieCheck {
    fn metadata() -> Metadata {
        Metadata::new("pie", env!("CARGO_PKG_VERSION"))
            .moments([Moment::AfterTool, Moment::Check])
            .tools(["link"])
            .setting("allow_static_pie", "accept static-pie ELF executables (default true)")
            .rule(RULE, "the executable is not position independent", FIX)
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let settings: Settings = match gohook_sdk::settings() {
            Ok(settings) => settings,
            Err(e) => return vec![Finding::error("pie/settings", e)],
        };
        let facts = match Binary::open(binary).and_then(|b| b.facts()) {
            Ok(facts) => facts,
            Err(e) => return vec![Finding::unreadable("pie", e)],
        };
        let mut findings = Vec::new();
        for image in facts {
            let why = match image.pie {
                Pie::Pie => continue,
                Pie::StaticPie if settings.allow_static_pie => continue,
                Pie::StaticPie => "a static-pie, and allow_static_pie = false".to_owned(),
                Pie::SharedObject => "a shared object, not an executable".to_owned(),
                Pie::NotPie(why) => why,
            };
            findings.push(Finding::error(RULE, format!("not PIE: {why}")).help(FIX));
        }
        findings
    }
}

export_plugin!(PieCheck);
