//! Built-in `buildid`: Go's build ID is absent (the default, for reproducible, unlinkable releases), present, or
//! present and matching a pattern.
//!
//! `-ldflags=-buildid=` removes the note or marker entirely (it is not left empty). `go tool buildid` falls back to
//! the GNU build-id on ELF; this check does not.

use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, export_plugin};
use regex_lite::Regex;
use serde::Deserialize;

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Require {
    Absent,
    Present,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    require: Option<Require>,
    pattern: Option<String>,
}

/// What the settings ask for, once they are known to be consistent.
enum Policy {
    Absent,
    Present(Option<(Regex, String)>),
}

impl Settings {
    fn policy(self) -> Result<Policy, String> {
        let pattern = match &self.pattern {
            // Anchored: a policy pattern describes the whole ID, as users expect of an allow-list; an unanchored
            // match would let `v1` pass `xv1y`.
            Some(pattern) => Some((
                Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("buildid: pattern {pattern:?}: {e}"))?,
                pattern.clone(),
            )),
            None => None,
        };
        match (self.require, pattern) {
            (Some(Require::Absent), Some(_)) => {
                Err("buildid: `pattern` needs a build ID; drop `require = \"absent\"` or the pattern".to_owned())
            }
            (Some(Require::Absent), None) | (None, None) => Ok(Policy::Absent),
            (Some(Require::Present) | None, pattern) => Ok(Policy::Present(pattern)),
        }
    }
}

struct BuildId;

impl Plugin for BuildId {
    fn metadata() -> Metadata {
        Metadata::new("buildid", env!("CARGO_PKG_VERSION"))
            .moments([Moment::AfterTool, Moment::Check])
            .tools(["link"])
            .setting("require", "\"absent\" (default) or \"present\"")
            .setting("pattern", "a regular expression the whole build ID must match (implies require = \"present\")")
            .rule("buildid/present", "the binary carries a Go build ID", "link with -ldflags=-buildid=")
            .rule("buildid/absent", "the binary has no Go build ID", "drop -buildid= from -ldflags")
            .rule(
                "buildid/mismatch",
                "the Go build ID does not match the pattern",
                "set the ID with -ldflags=-buildid=…",
            )
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let policy = match gohook_sdk::settings::<Settings>().map_err(|e| e.to_string()).and_then(Settings::policy) {
            Ok(policy) => policy,
            Err(e) => return vec![Finding::error("buildid/settings", e)],
        };
        let facts = match Binary::open(binary).and_then(|b| b.facts()) {
            Ok(facts) => facts,
            Err(e) => return vec![Finding::unreadable("buildid", e)],
        };
        facts.into_iter().filter_map(|image| verdict(&policy, image.go_build_id)).collect()
    }
}

fn verdict(policy: &Policy, id: Option<String>) -> Option<Finding> {
    match (policy, id) {
        (Policy::Absent, Some(id)) => Some(
            Finding::error("buildid/present", format!("Go build ID present: {id}"))
                .help("link with -ldflags=-buildid= (on darwin also -B 0x<32 hex digits>, to keep LC_UUID)"),
        ),
        (Policy::Present(_), None) => {
            Some(Finding::error("buildid/absent", "no Go build ID").help("drop -buildid= from -ldflags"))
        }
        (Policy::Present(Some((regex, pattern))), Some(id)) if !regex.is_match(&id) => Some(
            Finding::error("buildid/mismatch", format!("Go build ID {id:?} does not match {pattern:?}"))
                .help("set the ID with -ldflags=-buildid=<id>, or change `pattern` in gohook.toml"),
        ),
        _ => None,
    }
}

export_plugin!(BuildId);
