//! One run (`GOHOOK_RUN`, e.g. a goreleaser release): every build of it and what its post hooks' checks found.

use std::fmt::Write as _;

use serde::Serialize;

use gohook_records::{CheckRun, CheckStatus, FindingLevel, Record, Store};

use crate::Error;
use crate::model::BuildRecords;
use crate::summary::{ProcessCost, Summary};
use crate::units::format_duration;

/// Every build and check of one run (`GOHOOK_RUN`): what goreleaser built per target and what its post hooks found.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run: String,
    /// Ordered by target.
    pub builds: Vec<Summary>,
    /// In the order the checks ran.
    pub checks: Vec<CheckRun>,
    /// Damaged or foreign check records.
    pub skipped_records: usize,
}

impl RunSummary {
    /// The run's `builds` (as [`BuildRecords::of_run`] finds them) and the checks the store holds for it;
    /// `process_cost` as for [`Summary::of`].
    pub fn of(
        store: &Store,
        run: &str,
        builds: &[BuildRecords],
        process_cost: Option<ProcessCost>,
    ) -> Result<RunSummary, Error> {
        let mut builds: Vec<Summary> = builds.iter().map(|records| Summary::of(records, process_cost)).collect();
        builds.sort_by(|a, b| a.target.cmp(&b.target).then(a.start_unix_ns.cmp(&b.start_unix_ns)));
        let decoded =
            store.load_checks(run).map_err(|source| Error::Read { path: store.run_checks_path(run), source })?;
        let mut skipped_records = decoded.corrupt + decoded.unsupported;
        let mut checks = Vec::new();
        for record in decoded.records {
            match record {
                Record::Check(check) => checks.push(check),
                _ => skipped_records += 1,
            }
        }
        Ok(RunSummary { run: run.to_owned(), builds, checks, skipped_records })
    }

    pub fn to_table(&self) -> String {
        let passed = self.checks.iter().filter(|c| c.status == CheckStatus::Pass).count();
        let mut out = format!(
            "run {}: {}, {} checked ({passed} pass)\n",
            self.run,
            crate::units::count(self.builds.len(), "build", "builds"),
            crate::units::count(self.checks.len(), "binary", "binaries")
        );
        let _ = writeln!(
            out,
            "{:<22} {:<26} {:>9} {:>5} {:>6}  {:<5} BINARY",
            "TARGET", "BUILD", "WALL", "RUNS", "FAILED", "CHECK"
        );
        for build in &self.builds {
            let target = build.target.as_deref().unwrap_or("-");
            let check = self.checks.iter().rev().find(|c| c.target == target);
            let _ = writeln!(
                out,
                "{:<22} {:<26} {:>9} {:>5} {:>6}  {:<5} {}",
                target,
                build.build_id,
                format_duration(build.wall_ns),
                build.invocations,
                build.failures.len(),
                check.map_or("-", |c| c.status.name()),
                check.map_or("", |c| c.path.as_str()),
            );
            // Why a target failed, under it: the first error of its build (a tool run or go itself), so the run
            // view answers without `gohook report BUILD`.
            if let Some(why) = build.first_error() {
                let _ = writeln!(out, "  └ {why}");
            }
        }
        for check in self.checks.iter().filter(|c| !self.builds.iter().any(|b| b.target.as_deref() == Some(&c.target)))
        {
            let _ = writeln!(
                out,
                "{:<22} {:<26} {:>9} {:>5} {:>6}  {:<5} {}",
                check.target,
                "-",
                "-",
                "-",
                "-",
                check.status.name(),
                check.path
            );
        }
        for check in &self.checks {
            for finding in check.findings.iter().filter(|f| f.severity == FindingLevel::Error) {
                let _ = writeln!(out, "  {} error[{}] {}", check.path, finding.rule, finding.message);
            }
        }
        if self.skipped_records > 0 {
            let _ = writeln!(out, "{} damaged check records skipped", self.skipped_records);
        }
        out
    }
}
