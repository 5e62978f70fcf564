//! Built against `wit/since_v0.1.0` directly, as a third party's plugin from the 0.1.0 days would be, and never
//! moved on when the SDK does: gohook must keep running it. It reports what the host handed it, so the test can
//! assert exact values through the whole 0.1.0 surface (metadata, settings, log, the artifact's size and bytes).

wit_bindgen::generate!({
    path: "../../../wit/since_v0.1.0",
    world: "plugin",
});

// The world's `use` of the contract's types brings them (Artifact, Finding, Invocation, Metadata, Probe) into scope.
use gohook::plugin::host::{LogLevel, log, settings};
use gohook::plugin::types::{Moment, RuleInfo, Severity};

struct Pinned;

impl Guest for Pinned {
    fn metadata() -> Metadata {
        Metadata {
            name: "pinned".into(),
            version: "0.1.0".into(),
            moments: vec![Moment::Check],
            tools: vec![],
            settings: vec![],
            rules: vec![RuleInfo { id: "pinned/seen".into(), summary: "what 0.1.0 saw".into(), help: String::new() }],
        }
    }

    fn on_probe(_probe: Probe) -> Vec<Finding> {
        Vec::new()
    }

    fn before_tool(_invocation: Invocation) -> Vec<Finding> {
        Vec::new()
    }

    fn after_tool(_invocation: Invocation, _exit_code: i32, _output: Option<&Artifact>) -> Vec<Finding> {
        Vec::new()
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        log(LogLevel::Info, "contract 0.1.0 plugin checking");
        let magic = binary.read(0, 4).unwrap_or_default();
        vec![Finding {
            rule: "pinned/seen".into(),
            severity: Severity::Note,
            message: format!("size {} magic {magic:02x?} settings {}", binary.size(), settings()),
            help: None,
            location: None,
        }]
    }
}

export!(Pinned);
