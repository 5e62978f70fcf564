//! What came of one moment: the plugins' findings judged under the policy, and what each plugin cost.
//!
//! Plugins speak for themselves only: a finding's rule id must lie in the plugin's own namespace, and the policy's
//! rule overrides decide its final level. The runtime hands its answers here as plain [`Finding`]s.

use std::path::Path;

use gohook_records::{FindingLevel, PluginTime, RecordedFinding};

use crate::config::{RuleLevel, valid_plugin_name, valid_rule_id};
use crate::plugins::{PluginMeta, PluginSpec, Source, builtin};

/// A finding as a plugin reported it, before the policy: its text already cleaned at the runtime's edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: String,
    pub severity: FindingLevel,
    pub message: String,
    pub help: Option<String>,
}

/// The findings of one moment, after the policy, and what each plugin cost.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub findings: Vec<RecordedFinding>,
    pub plugins: Vec<PluginTime>,
}

impl Verdict {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == FindingLevel::Error)
    }

    pub fn plugin_ns(&self) -> u64 {
        self.plugins.iter().map(|p| p.ns).sum()
    }

    pub fn extend(&mut self, other: Verdict) {
        self.findings.extend(other.findings);
        self.plugins.extend(other.plugins);
    }

    /// The error findings as gohook prints them when it fails a tool, the probe or a check.
    pub fn render_errors(&self, subject: &str, policy: Option<&Path>) -> String {
        let errors: Vec<&RecordedFinding> =
            self.findings.iter().filter(|f| f.severity == FindingLevel::Error).collect();
        let mut out = match policy {
            Some(path) => format!("gohook: {subject} fails the policy in {}:\n", path.display()),
            None => format!("gohook: {subject} fails the policy:\n"),
        };
        for finding in errors {
            out += &format!("  error[{}] {}\n", finding.rule, finding.message);
            if let Some(help) = &finding.help {
                out += &format!("      fix: {help}\n");
            }
            if finding.rule.starts_with("gohook/") {
                out += &format!("      plugin: {}\n", finding.plugin);
            } else {
                out += &format!(
                    "      plugin: {}; to let this pass, set rules = {{ \"{}\" = \"warn\" }} in [plugins.{}]\n",
                    finding.plugin, finding.rule, finding.plugin
                );
            }
        }
        out
    }
}

/// The findings of one plugin's answer as the policy sees them: settings the plugin does not declare, then each
/// finding checked against the plugin's namespace and given the level the policy's rules say.
pub fn judge(
    spec: &PluginSpec,
    meta: &PluginMeta,
    specs: &[PluginSpec],
    findings: Vec<Finding>,
) -> Vec<RecordedFinding> {
    let namespace = namespace(spec, meta, specs);
    undeclared_settings(spec, meta)
        .into_iter()
        .chain(findings.into_iter().filter_map(|f| apply_policy(spec, &namespace, f)))
        .collect()
}

/// A setting the plugin does not know is a mistake in the policy, whatever the plugin then did.
fn undeclared_settings(spec: &PluginSpec, meta: &PluginMeta) -> Option<RecordedFinding> {
    let unknown = meta.undeclared_settings(&spec.settings_json);
    if unknown.is_empty() {
        return None;
    }
    let known: Vec<&str> = meta.settings.iter().map(|s| s.name.as_str()).collect();
    Some(RecordedFinding {
        plugin: spec.name.clone(),
        rule: "gohook/unknown-setting".to_owned(),
        severity: FindingLevel::Error,
        message: format!(
            "[plugins.{}] settings has {} that plugin {} {} does not know",
            spec.name,
            unknown.join(", "),
            meta.name,
            meta.version
        ),
        help: Some(if known.is_empty() {
            "this plugin takes no settings: remove them".to_owned()
        } else {
            format!("its settings are: {}", known.join(", "))
        }),
    })
}

/// The rule namespace of a plugin: the name it declares in its metadata, so several tables can configure one plugin
/// (`[plugins.strict]` and `[plugins.lenient]` both reporting `mine/…`). A plugin has no namespace — and so no valid
/// finding — when that name is `gohook`'s, malformed, or belongs to another plugin of the policy or to a built-in it
/// is not: no plugin speaks for another.
fn namespace<'m>(spec: &PluginSpec, meta: &'m PluginMeta, specs: &[PluginSpec]) -> Result<&'m str, String> {
    let name = meta.name.as_str();
    if !valid_plugin_name(name) || name == "gohook" {
        return Err(format!("its declared name {name:?} is not a plugin name (letters, digits, '-' and '_')"));
    }
    if name == spec.name {
        return Ok(name);
    }
    let is_builtin = builtin(name).is_some_and(|b| !matches!(spec.source, Source::Builtin(own) if own.name == b.name));
    if is_builtin || specs.iter().any(|other| other.name == name) {
        return Err(format!("it calls itself {name:?}, the name of another plugin"));
    }
    Ok(name)
}

/// Rule overrides from `[plugins.NAME] rules`; `off` drops the finding. A finding whose rule id is malformed or lies
/// outside the plugin's namespace becomes an error of gohook's own, so no plugin reports under another's rules.
fn apply_policy(spec: &PluginSpec, namespace: &Result<&str, String>, finding: Finding) -> Option<RecordedFinding> {
    let problem = match namespace {
        Err(why) => Some(why.clone()),
        Ok(ns) if !valid_rule_id(&finding.rule) => {
            Some(format!("its rule id `{}` is malformed (rule ids are `{ns}/<rule>`)", finding.rule))
        }
        Ok(ns) if finding.rule.split_once('/').map(|(owner, _)| owner) != Some(ns) => {
            Some(format!("its rule id `{}` is outside its namespace `{ns}/`", finding.rule))
        }
        Ok(_) => None,
    };
    if let Some(problem) = problem {
        return Some(RecordedFinding {
            plugin: spec.name.clone(),
            rule: "gohook/invalid-finding".to_owned(),
            severity: FindingLevel::Error,
            message: format!(
                "plugin {} reported a finding gohook refuses: {problem}; it said: {}",
                spec.name, finding.message
            ),
            help: Some(format!(
                "a plugin reports rules `<its name>/<rule>` (letters, digits, '-', '_', '.'), never another plugin's: \
                 fix the plugin ({})",
                spec.source.describe()
            )),
        });
    }
    let severity = match spec.rules.get(&finding.rule) {
        Some(RuleLevel::Off) => return None,
        Some(RuleLevel::Deny) => FindingLevel::Error,
        Some(RuleLevel::Warn) => FindingLevel::Warning,
        None => finding.severity,
    };
    Some(RecordedFinding {
        plugin: spec.name.clone(),
        rule: finding.rule,
        severity,
        message: finding.message,
        help: finding.help,
    })
}
