//! Built-in `buildinfo`: says what Go recorded about a binary's build, as notes (`gohook check --explain`).
//!
//! The build info explains verdicts; it never decides them (`-ldflags` is left out under `-trimpath`).

use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};

const SHOWN: [&str; 6] = ["GOOS", "GOARCH", "-buildmode", "-ldflags", "-trimpath", "CGO_ENABLED"];

struct BuildInfo;

impl Plugin for BuildInfo {
    fn metadata() -> Metadata {
        Metadata::new("buildinfo", env!("CARGO_PKG_VERSION"))
            .moments([Moment::Check])
            .rule("buildinfo/summary", "the Go build info of the binary", "informational")
            .rule("buildinfo/absent", "the binary has no Go build info", "not a Go binary, or packed (UPX hides it)")
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let infos = match Binary::open(binary).and_then(|b| b.build_info()) {
            Ok(infos) => infos,
            Err(e) => return vec![Finding::unreadable("buildinfo", e)],
        };
        if infos.is_empty() {
            return vec![Finding::note("buildinfo/absent", "no Go build info")];
        }
        infos
            .iter()
            .map(|info| {
                let mut parts = vec![info.go_version.clone()];
                parts.extend(SHOWN.iter().filter_map(|key| info.setting(key).map(|value| format!("{key}={value}"))));
                Finding::note("buildinfo/summary", parts.join(" "))
            })
            .collect()
    }
}

export_plugin!(BuildInfo);
