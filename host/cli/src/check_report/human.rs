//! A check report for a terminal: one line per file, its findings and fixes, and the tally.

use std::collections::BTreeSet;

use gohook_analysis::count;
use gohook_records::{CheckStatus, FindingLevel};

use crate::check_report::{BUILD_INFO_PLUGIN, CheckReport, Selection};

/// The `hardening` check's one note per image: the format, then `COLUMN=value` as checksec, winchecksec or codesign
/// print them; its help says why a column reads `n/a`.
const HARDENING_SUMMARY: &str = "hardening/summary";

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
            for finding in file.findings.iter().filter(|f| f.rule != HARDENING_SUMMARY) {
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
        out += &self.hardening_table();
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

    /// The `hardening` notes as the tools users compare with print them: per format, one aligned row per binary (per
    /// slice of a universal one), and under a row why its `n/a` columns do not apply.
    fn hardening_table(&self) -> String {
        let mut tables: Vec<HardeningTable> = Vec::new();
        for file in &self.files {
            for finding in file.findings.iter().filter(|f| f.rule == HARDENING_SUMMARY) {
                let mut words = finding.message.split_whitespace();
                let Some(format) = words.next() else { continue };
                let columns: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
                let slice = finding.message.split_once(" (slice at offset ").map(|(_, at)| at.trim_end_matches(')'));
                let name = match slice {
                    Some(offset) => format!("{} @{offset}", file.path),
                    None => file.path.clone(),
                };
                let mut cells = vec![name];
                cells.extend(columns.iter().map(|(_, value)| value.to_string()));
                let header: Vec<String> =
                    std::iter::once(format).chain(columns.iter().map(|(key, _)| *key)).map(str::to_owned).collect();
                let row = (cells, finding.help.clone());
                match tables.iter_mut().find(|t| t.header == header) {
                    Some(table) => table.rows.push(row),
                    None => tables.push(HardeningTable { header, rows: vec![row] }),
                }
            }
        }
        tables.iter().map(HardeningTable::render).collect()
    }
}

/// One format's hardening columns: the header (the format, then the column names), and per image its cells and why
/// any reads `n/a`.
struct HardeningTable {
    header: Vec<String>,
    rows: Vec<(Vec<String>, Option<String>)>,
}

impl HardeningTable {
    fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                let cells = self.rows.iter().map(|(cells, _)| cells.get(i).map_or(0, String::len));
                cells.chain([self.header[i].len()]).max().unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            format!("  {}\n", padded.join("  ").trim_end())
        };
        let mut out = format!(
            "hardening, as checksec/winchecksec/codesign print it ({}; n/a: does not apply to this build):\n",
            self.header[0]
        );
        out += &line(&self.header);
        for (cells, not_applicable) in &self.rows {
            out += &line(cells);
            if let Some(why) = not_applicable {
                out += &format!("      n/a or info: {why}\n");
            }
        }
        out
    }
}
