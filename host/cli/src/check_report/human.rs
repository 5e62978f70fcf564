//! A check report for a terminal: one line per file, its findings and fixes, and the tally.

use std::collections::BTreeSet;

use gohook_analysis::count;
use gohook_records::{CheckStatus, FindingLevel};

use crate::check_report::{BUILD_INFO_PLUGIN, CheckReport, Selection};

impl CheckReport {
    /// The report for a terminal; `explain` adds, per file, the checks that passed.
    pub fn to_human(&self, explain: bool) -> String {
        let mut out = String::new();
        let mut failing_checks = BTreeSet::new();
        for file in &self.files {
            let failed: BTreeSet<&str> =
                file.findings.iter().filter(|f| f.severity == FindingLevel::Error).map(|f| f.plugin.as_str()).collect();
            match file.status {
                CheckStatus::Pass => out += &format!("{}: ok ({})\n", file.path, file.plugins.join(", ")),
                CheckStatus::Fail => {
                    let names: Vec<&str> = failed.iter().copied().collect();
                    // The build info explains and never decides: not one of the checks.
                    let checks = file.plugins.iter().filter(|p| *p != BUILD_INFO_PLUGIN).count();
                    out += &format!(
                        "{}: FAIL ({} of {} failed: {})\n",
                        file.path,
                        failed.len(),
                        count(checks, "check", "checks"),
                        names.join(", ")
                    );
                }
                CheckStatus::Error => {
                    out += &format!("{}: error: {}\n", file.path, file.error.as_deref().unwrap_or("unknown"))
                }
            }
            failing_checks.extend(failed.iter().map(|name| name.to_string()));
            for finding in &file.findings {
                out += &format!("  {}[{}] {}\n", finding.severity.name(), finding.rule, finding.message);
                if let Some(help) = &finding.help {
                    out += &format!("      fix: {help}\n");
                }
            }
            if explain && file.status != CheckStatus::Error {
                let passed: Vec<&str> = file
                    .plugins
                    .iter()
                    .map(String::as_str)
                    .filter(|p| {
                        *p != BUILD_INFO_PLUGIN
                            && !file.findings.iter().any(|f| f.plugin == *p && f.severity != FindingLevel::Note)
                    })
                    .collect();
                if !passed.is_empty() {
                    out += &format!("  passed: {}\n", passed.join(", "));
                }
            }
        }
        let tally = |status| self.files.iter().filter(|f| f.status == status).count();
        out += &format!(
            "{}: {} passed, {} failed, {} could not be checked\n",
            count(self.files.len(), "file", "files"),
            tally(CheckStatus::Pass),
            tally(CheckStatus::Fail),
            tally(CheckStatus::Error)
        );
        if self.selection == Selection::BuiltinDefaults && !failing_checks.is_empty() {
            let names: Vec<&str> = failing_checks.iter().map(String::as_str).collect();
            let tables: Vec<String> = names.iter().map(|n| format!("[plugins.{n}]")).collect();
            out += &format!(
                "no gohook.toml, so every built-in check ran with its defaults; not every one fits every binary: keep \
                 the checks you want in gohook.toml ({} …) or name them with --rules {}\n",
                tables.join(" "),
                names.join(",")
            );
        }
        out
    }
}
