//! Built-in `buildid`: Go's build ID is absent (the default, for reproducible, unlinkable releases) or present.
//!
//! `-ldflags=-buildid=` removes the note or marker entirely (it is not left empty). `go tool buildid` falls back to
//! the GNU build-id on ELF; this check does not.

use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};
use serde::Deserialize;

#[derive(Deserialize, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Require {
    #[default]
    Absent,
    Present,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    require: Require,
}

struct BuildId;

impl Plugin for BuildId {
    fn metadata() -> Metadata {
        Metadata::new("buildid", env!("CARGO_PKG_VERSION"))
            .moments([Moment::AfterTool, Moment::Check])
            .tools(["link"])
            .setting("require", "\"absent\" (default) or \"present\"")
            .rule("buildid/present", "the binary carries a Go build ID", "link with -ldflags=-buildid=")
            .rule("buildid/absent", "the binary has no Go build ID", "drop -buildid= from -ldflags")
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let settings: Settings = match gohook_sdk::settings() {
            Ok(settings) => settings,
            Err(e) => return vec![Finding::error("buildid/settings", e)],
        };
        let facts = match Binary::open(binary).and_then(|b| b.facts()) {
            Ok(facts) => facts,
            Err(e) => return vec![Finding::unreadable("buildid", e)],
        };
        facts
            .into_iter()
            .filter_map(|image| match (&settings.require, image.go_build_id) {
                (Require::Absent, Some(id)) => Some(
                    Finding::error("buildid/present", format!("Go build ID present: {id}"))
                        .help("link with -ldflags=-buildid= (on darwin also -B 0x<32 hex digits>, to keep LC_UUID)"),
                ),
                (Require::Present, None) => {
                    Some(Finding::error("buildid/absent", "no Go build ID").help("drop -buildid= from -ldflags"))
                }
                _ => None,
            })
            .collect()
    }
}

export_plugin!(BuildId);
