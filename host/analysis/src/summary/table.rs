//! The summary as text: the table `gohook report` prints and the lines `gohook build` and the page reuse (the
//! stages, the plan, the load, the cache, the first error). The model is computed in the parent module; this only
//! reads it.

use std::fmt::Write as _;

use super::{Overhead, Rollup, StageStats, Summary};
use crate::units::{count, format_bytes, format_duration, format_unix_ns};
use crate::what_if::WhatIf;

/// Modules and prefixes named in the table (the JSON has all).
const ROLLUPS_SHOWN: usize = 10;
/// Phases named per stage and per package in the table (the JSON has all).
const PHASES_SHOWN: usize = 5;

impl Summary {
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let command = if self.command.is_empty() { "(bare -toolexec)".to_owned() } else { self.command.join(" ") };
        let _ = writeln!(out, "build {}  {}", self.build_id, command);
        if self.run.is_some() || self.target.is_some() {
            let _ = writeln!(
                out,
                "run {}, target {}",
                self.run.as_deref().unwrap_or("-"),
                self.target.as_deref().unwrap_or("-")
            );
        }
        if let Some(context) = &self.context {
            let _ = writeln!(out, "machine {}", context.describe());
        }
        if let Some(line) = self.load_line() {
            let _ = writeln!(out, "{line}");
        }
        if let Some(parent) = &self.nested_in {
            let _ = writeln!(
                out,
                "nested: a go command that build {parent}'s tests or programs ran, recorded apart (gohook report {parent})"
            );
        }
        if !self.nested.is_empty() {
            let _ = writeln!(
                out,
                "nested go commands: {} that this build's tests or programs ran, each a build of its own:",
                self.nested.len()
            );
            for (id, command) in &self.nested {
                let _ = writeln!(out, "  {id}  {command}");
            }
        }
        if let Some(line) = self.unrecorded_line() {
            let _ = writeln!(out, "{line}");
        }
        let exit = self.exit.map_or("exit unknown".to_owned(), |e| e.to_string());
        let _ = writeln!(
            out,
            "started {}, {} wall, {} + {}, {}, targets {}",
            format_unix_ns(self.start_unix_ns),
            format_duration(self.wall_ns),
            count(self.invocations, "tool run", "tool runs"),
            count(self.probes, "probe", "probes"),
            exit,
            if self.targets.is_empty() { "-".to_owned() } else { self.targets.join(" ") },
        );
        if let Some(line) = self.cache_line().or_else(|| self.no_graph_line()) {
            let _ = writeln!(out, "{line}");
        }
        for line in self.plan_lines() {
            let _ = writeln!(out, "{line}");
        }
        if self.invocations == 0 {
            // A no-op build: no table of nothing, no shares of nothing.
            let _ = writeln!(out, "\nnothing to do: {}", self.nothing_done());
            self.write_findings(&mut out);
            let _ = writeln!(
                out,
                "\ngohook overhead: {} over {}",
                format_duration(self.gohook.whole_ns),
                count(self.probes, "probe", "probes")
            );
            self.write_skipped(&mut out);
            return out;
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<8} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}",
            "stage", "count", "sum", "p50", "p95", "max", "cpu", "max rss"
        );
        for s in &self.stages {
            let [stage, count, sum, p50, p95, max, cpu, rss, of] = s.cells();
            // The package is the max rss's: written against it, so it does not read as the slowest run's.
            let _ = writeln!(
                out,
                "{stage:<8} {count:>6} {sum:>10} {p50:>10} {p95:>10} {max:>10} {cpu:>10} {rss:>9} in {of}"
            );
        }
        if self.invocations > 1 {
            let _ = writeln!(
                out,
                "(sum: the runs' wall times added up; runs overlap, the build took {} of wall time)",
                format_duration(self.wall_ns)
            );
        }
        if !self.phases.is_empty() {
            let _ = writeln!(out, "\nphases (the compiler's and linker's own timers, summed over their runs)");
            for stage in ["compile", "link"] {
                let of_stage: Vec<String> = self
                    .phases
                    .iter()
                    .filter(|p| p.stage == stage)
                    .take(PHASES_SHOWN)
                    .map(|p| format!("{} {}", p.phase, format_duration(p.total_ns)))
                    .collect();
                if !of_stage.is_empty() {
                    let _ = writeln!(out, "  {stage:<8} {}", of_stage.join(", "));
                }
            }
        }
        if !self.slowest_packages.is_empty() {
            let _ = writeln!(out, "\nslowest packages");
            for p in &self.slowest_packages {
                let parts: Vec<String> =
                    p.stages.iter().map(|(stage, ns)| format!("{stage} {}", format_duration(*ns))).collect();
                let _ = writeln!(
                    out,
                    "  {:>10} wall {:>10} cpu  {}  ({})",
                    format_duration(p.total_ns),
                    format_duration(p.cpu_ns),
                    p.package,
                    parts.join(", ")
                );
                if !p.phases.is_empty() {
                    let top: Vec<String> = p
                        .phases
                        .iter()
                        .take(PHASES_SHOWN)
                        .map(|ph| format!("{} {}", ph.name, format_duration(ph.ns)))
                        .collect();
                    let _ = writeln!(out, "  {:>10}      {:>10}       {}", "", "", top.join(", "));
                }
            }
        }
        for (title, rollups) in [("by module", &self.modules), ("by import path prefix", &self.prefixes)] {
            // Groups that ran something; one such group says nothing a reader does not know.
            let worked: Vec<&Rollup> = rollups.iter().filter(|r| r.compiled > 0).collect();
            if worked.len() < 2 {
                continue;
            }
            let _ = writeln!(out, "\n{title} (compile and asm runs added up)");
            for r in worked.iter().take(ROLLUPS_SHOWN) {
                let _ = writeln!(
                    out,
                    "  {:>10} wall {:>10} cpu {:>4.0}%  {}  ({} of {} compiled)",
                    format_duration(r.wall_ns),
                    format_duration(r.cpu_ns),
                    r.share * 100.0,
                    r.name,
                    r.compiled,
                    count(r.packages, "package", "packages")
                );
            }
            if worked.len() > ROLLUPS_SHOWN {
                let _ = writeln!(out, "  … {} more in the JSON (--format json)", worked.len() - ROLLUPS_SHOWN);
            }
        }
        if let Some(path) = &self.critical_path {
            let _ = writeln!(out);
            if let Some(verdict) = path.verdict() {
                let _ = writeln!(out, "{verdict}");
            }
            let _ = writeln!(out, "critical path: {}", path.headline());
            for step in &path.steps {
                let _ = writeln!(
                    out,
                    "  {:>10} {:>4.0}%  {}  (queued {} for a core)",
                    format_duration(step.work_ns),
                    step.share * 100.0,
                    step.name,
                    format_duration(step.queued_ns)
                );
            }
            let _ = writeln!(
                out,
                "  ({}; go's start-up before its first tool: {})",
                path.queued_meaning(),
                format_duration(path.startup_ns)
            );
        }
        if let Some(what_if) = self.what_if.as_ref().filter(|w| !w.points.is_empty()) {
            write_what_if(&mut out, what_if);
        }
        if !self.failures.is_empty() {
            let _ = writeln!(out, "\nfailed tool runs");
            for f in &self.failures {
                let _ = writeln!(out, "  {} {}: {}", f.tool, f.package, f.exit);
            }
        }
        self.write_findings(&mut out);
        if !self.plugins.is_empty() {
            let _ = writeln!(out, "\nplugins");
            for p in &self.plugins {
                let _ = writeln!(
                    out,
                    "  {:<20} {:>10}  {:>10} total  {:>10} max",
                    p.plugin,
                    count(p.runs, "run", "runs"),
                    format_duration(p.total_ns),
                    format_duration(p.max_ns)
                );
            }
        }
        let _ = writeln!(out, "\ngohook overhead: {}", self.gohook.describe());
        self.write_skipped(&mut out);
        out
    }

    /// What ran under the build without gohook, and what it cost: `None` when nothing was seen.
    pub fn unrecorded_line(&self) -> Option<String> {
        let unrecorded = self.unrecorded.as_ref()?;
        let tools: Vec<String> =
            unrecorded.tools.iter().map(|(tool, n)| count(*n as usize, tool, &format!("{tool}s"))).collect();
        let commands: Vec<&str> = unrecorded.go_commands.iter().map(String::as_str).take(3).collect();
        Some(format!(
            "outside gohook: at least {} ran (seen for {}) under go commands without -toolexec=gohook ({}): gohook \
             could not time them, and go's cache could not serve them from this build's entries, which -toolexec \
             keys apart; see the README, \"Go commands inside a build\"",
            tools.join(", "),
            format_duration(unrecorded.seen_ns),
            commands.join("; ")
        ))
    }

    /// `FAILED (exit 1)` when go failed: what a one-line summary puts after the build's name.
    pub fn failure(&self) -> Option<String> {
        self.exit.filter(|exit| !exit.success()).map(|exit| format!("FAILED ({exit})"))
    }

    /// Why the build failed, in one line: the first error a plugin found (with its tool and package), else the
    /// first tool run that failed, else go's own exit; `None` for a build that did not fail.
    pub fn first_error(&self) -> Option<String> {
        let finding = self.findings.iter().find(|f| f.finding.severity == gohook_records::FindingLevel::Error);
        if let Some(f) = finding {
            return Some(format!("error[{}] {} ({} {})", f.finding.rule, f.finding.message, f.tool, f.package));
        }
        if let Some(failure) = self.failures.first() {
            return Some(format!("{} {} failed ({})", failure.tool, failure.package, failure.exit));
        }
        self.failure().map(|failed| format!("go {failed}"))
    }

    /// The build's stages in a few words: `64 compile 8.79s, 1 link 107ms`; `all cached` when go's cache served
    /// everything, `go failed before running any tool` when nothing ran because go failed.
    pub fn stages_line(&self) -> String {
        if self.stages.is_empty() {
            return if self.failure().is_some() { "go failed before running any tool" } else { "all cached" }
                .to_owned();
        }
        let stages: Vec<String> =
            self.stages.iter().map(|s| format!("{} {} {}", s.count, s.stage, format_duration(s.total_ns))).collect();
        stages.join(", ")
    }

    /// What a build that ran no tool did: go's cache served everything (or it failed before).
    fn nothing_done(&self) -> String {
        match (self.exit, self.packages_in_build) {
            (Some(exit), _) if !exit.success() => format!("go ran no tool ({exit})"),
            (_, Some(packages)) => {
                format!("every package came from go's build cache ({})", count(packages, "package", "packages"))
            }
            (_, None) => "every package came from go's build cache".to_owned(),
        }
    }

    fn write_findings(&self, out: &mut String) {
        if self.findings.is_empty() {
            return;
        }
        let _ = writeln!(out, "\nplugin findings");
        for f in &self.findings {
            let _ = writeln!(
                out,
                "  {}[{}] {} ({} {})",
                f.finding.severity.name(),
                f.finding.rule,
                f.finding.message,
                f.tool,
                f.package
            );
        }
    }

    fn write_skipped(&self, out: &mut String) {
        let skipped = self.skipped_records;
        if skipped.corrupt + skipped.unsupported_version > 0 {
            let _ = writeln!(
                out,
                "skipped records: {} damaged, {} from another gohook record format",
                skipped.corrupt, skipped.unsupported_version
            );
        }
    }

    /// go's plan in one or two lines: what ran and what its cache served, the queue waits, what the cache saved.
    pub fn plan_lines(&self) -> Vec<String> {
        let Some(cache) = &self.go_cache else { return Vec::new() };
        let stages: Vec<String> = cache
            .stages
            .iter()
            .filter(|s| s.ran + s.served + s.not_run > 0)
            .map(|s| {
                let not_run = if s.not_run > 0 {
                    format!(", {} not run (a dependency failed)", s.not_run)
                } else {
                    String::new()
                };
                format!("{} {} ran, {} served{not_run}", s.stage, s.ran, s.served)
            })
            .collect();
        let ran: usize = cache.stages.iter().map(|s| s.ran).sum();
        let queued = if ran == 0 {
            String::new()
        } else {
            format!(
                "; queued for a core (inputs done → start) p50 {}, p95 {}, max {}",
                format_duration(cache.queued_p50_ns),
                format_duration(cache.queued_p95_ns),
                format_duration(cache.queued_max_ns)
            )
        };
        let mut lines = vec![format!("go's cache (its plan): {}{queued}", stages.join("; "))];
        let served: usize = cache.stages.iter().map(|s| s.served).sum();
        if let Some(saved) = cache.saved_ns.filter(|_| served > 0) {
            lines.push(format!(
                "go's cache saved ~{} of tool time: what {} of the {served} served actions took when an earlier \
                 recorded build ran them",
                format_duration(saved),
                cache.saved_known
            ));
        }
        lines
    }

    /// `load: other work kept 0.93 of the 2 CPUs busy …`, with what that does to the times when it is much.
    pub fn load_line(&self) -> Option<String> {
        let load = self.load.as_ref()?;
        let effect = if load.shared() {
            ": the machine was shared, so the runs' wall times are longer than they would be alone (their CPU times \
             are not)"
        } else {
            ""
        };
        Some(format!("load: {}{effect}", load.describe()))
    }

    /// Why a build has no package graph (so no cache counts, critical path or what-if), when it has none.
    pub fn no_graph_line(&self) -> Option<String> {
        if self.packages_in_build.is_some() {
            return None;
        }
        let program = self.command.first().map(|p| p.rsplit('/').next().unwrap_or(p));
        let why = if let Some(parent) = &self.nested_in {
            format!("a go command nested in build {parent}: gohook did not start it, so could not ask go for them")
        } else if self.command.is_empty() {
            "a bare -toolexec build: gohook did not start go, so could not ask it".to_owned()
        } else if !program.is_some_and(|p| p == "go" || p.starts_with("go1")) {
            format!(
                "`{}` is not go: the go commands inside it get -toolexec only (run go through `gohook exec` itself)",
                self.command.join(" ")
            )
        } else if self.exit.is_some_and(|e| !e.success()) {
            "go failed: they are recorded when it succeeds".to_owned()
        } else {
            format!(
                "not recorded for `{}`: gohook asks go for them on go build, install, test, vet and run (not with \
                 --no-plan)",
                self.command.iter().take(2).cloned().collect::<Vec<_>>().join(" ")
            )
        };
        Some(format!("no package graph or plan: {why}"))
    }

    /// How many of the build's packages compiled and how many go's cache served, when the package set is known.
    pub fn cache_line(&self) -> Option<String> {
        let total = self.packages_in_build?;
        Some(format!(
            "{} of {} compiled, {} from go's build cache",
            self.packages_compiled,
            count(total, "package", "packages"),
            total.saturating_sub(self.packages_compiled)
        ))
    }
}

impl Overhead {
    /// `73ms in all (1.01% of tool time), median 0.62ms per run (…); …`: the text report's overhead line, also on
    /// the page.
    pub fn describe(&self) -> String {
        let how = match self.process_ns {
            Some(process) => format!("own CPU + {} per process, calibrated on this machine", format_duration(process)),
            None => "own CPU only: calibration failed, see the log".to_owned(),
        };
        format!(
            "{} in all ({:.2}% of tool time), median {} per run ({how}); {} cpu ({:.2}% of tool cpu); in-process wall \
             {}, max {} per run; plugins {}",
            format_duration(self.whole_ns),
            self.share_of_tool_time * 100.0,
            format_duration(self.whole_p50_ns),
            format_duration(self.cpu_ns),
            self.share_of_tool_cpu * 100.0,
            format_duration(self.total_ns),
            format_duration(self.max_ns),
            format_duration(self.plugin_ns),
        )
    }
}

impl StageStats {
    /// The stage table's cells: stage, runs, sum, p50, p95, max, cpu, peak RSS and the package that had it.
    pub fn cells(&self) -> [String; 9] {
        [
            self.stage.to_owned(),
            self.count.to_string(),
            format_duration(self.total_ns),
            format_duration(self.p50_ns),
            format_duration(self.p95_ns),
            format_duration(self.max_ns),
            format_duration(self.cpu_ns),
            format_bytes(self.max_rss_bytes),
            self.max_rss_package.clone(),
        ]
    }
}

/// The what-if block of the table: the predictions asked for, the floor, and what the predictions rest on.
fn write_what_if(out: &mut String, what_if: &WhatIf) {
    let _ = writeln!(out, "\nwhat if: go's scheduler replayed on N cores with the measured run times");
    for point in &what_if.points {
        let measured = if point.cores == what_if.measured.cores {
            format!("   (measured on {}: {})", point.cores, format_duration(what_if.measured.wall_ns))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {:>4} {}  {:>10}{measured}",
            point.cores,
            if point.cores == 1 { "core " } else { "cores" },
            format_duration(point.wall_ns)
        );
    }
    let _ = writeln!(
        out,
        "  floor {}: no number of cores beats it (the longest chain of runs at their time alone, {}, plus go's start, \
         end and own time per run); beyond {} the gain is under 5%",
        format_duration(what_if.floor_ns),
        format_duration(what_if.longest_chain_ns),
        count(what_if.enough_cores as usize, "core", "cores")
    );
    for line in what_if.caveats() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "  (go's own time per run, {}, from this build; the model leaves out {})",
        format_duration(what_if.overhead_per_run_ns),
        what_if.leaves_out
    );
}
