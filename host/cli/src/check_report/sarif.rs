//! SARIF 2.1.0 of a check report, as GitHub code scanning reads it.

use serde_json::json;

use gohook_policy::RuleMeta;
use gohook_records::{CheckStatus, FindingLevel};

use crate::check_report::CheckReport;

impl CheckReport {
    /// SARIF 2.1.0, as GitHub code scanning reads it: one run, the plugins' rules with their help, one result per
    /// finding located at the file, and files that could not be checked as error notifications.
    pub fn to_sarif(&self) -> serde_json::Value {
        let level = |severity: FindingLevel| severity.name();
        let location = |path: &str| json!([{ "physicalLocation": { "artifactLocation": { "uri": path } } }]);
        let mut rules: Vec<&RuleMeta> = self.rules.iter().chain(GOHOOK_RULES.iter()).collect();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        rules.dedup_by(|a, b| a.id == b.id);
        let results: Vec<serde_json::Value> = self
            .files
            .iter()
            .flat_map(|file| {
                file.findings.iter().map(move |finding| {
                    let mut text = finding.message.clone();
                    if let Some(help) = &finding.help {
                        text += &format!(" Fix: {help}.");
                    }
                    json!({
                        "ruleId": finding.rule,
                        "level": level(finding.severity),
                        "message": { "text": text },
                        "locations": location(&file.path),
                    })
                })
            })
            .collect();
        let notifications: Vec<serde_json::Value> = self
            .files
            .iter()
            .filter(|f| f.status == CheckStatus::Error)
            .map(|f| {
                json!({
                    "level": "error",
                    "message": { "text": format!("{}: {}", f.path, f.error.as_deref().unwrap_or("cannot be checked")) },
                    "locations": location(&f.path),
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "gohook",
                    "version": gohook_records::VERSION,
                    "rules": rules.iter().map(|r| json!({
                        "id": r.id,
                        "shortDescription": { "text": r.summary },
                        "help": { "text": r.help },
                    })).collect::<Vec<_>>(),
                }},
                "results": results,
                "invocations": [{
                    "executionSuccessful": notifications.is_empty(),
                    "toolExecutionNotifications": notifications,
                }],
            }],
        })
    }
}

/// Rules gohook itself reports about plugins.
static GOHOOK_RULES: std::sync::LazyLock<Vec<RuleMeta>> = std::sync::LazyLock::new(|| {
    vec![
        RuleMeta {
            id: "gohook/plugin-failed".into(),
            summary: "a plugin crashed, timed out, ran out of memory or could not be loaded".into(),
            help: "fix or remove the plugin; on_failure = \"warn\" lets builds pass meanwhile".into(),
        },
        RuleMeta {
            id: "gohook/unknown-setting".into(),
            summary: "gohook.toml gives a plugin a setting it does not declare".into(),
            help: "correct or remove the setting".into(),
        },
    ]
});
