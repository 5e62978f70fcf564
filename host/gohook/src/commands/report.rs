//! Turning one build's records into a summary: per stage count/total/p50/p95/max, the slowest packages, gohook's
//! own overhead, failures. Rendered as a table or JSON; [`crate::commands::trace`] renders the same records as a Chrome trace.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use serde::Serialize;

use gohook_records::{
    BuildContext, BuildEnd, BuildFile, BuildStart, CheckRun, CheckStatus, Exit, Labels, PackageImports, Phase, Record,
    RecordedFinding, Stage, Store, ToolRun, ToolSelfReport,
};

use crate::calibration::{self, ProcessCost};
use crate::commands::critical_path::CriticalPath;

/// Everything recorded for one build (and what an export carries per build).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct BuildRecords {
    pub id: String,
    pub start: Option<BuildStart>,
    pub end: Option<BuildEnd>,
    pub runs: Vec<ToolRun>,
    /// The run and target the build was labelled with, if any.
    pub label: Option<Labels>,
    /// The machine and go command the build ran on (recorded at go's probes; absent in records of older gohooks).
    #[serde(default)]
    pub context: Option<BuildContext>,
    /// Every package of the build and its imports (`gohook build` only).
    #[serde(default)]
    pub packages: Option<Vec<PackageImports>>,
    /// What compiles and links measured about themselves (`--phases`, `--cpuprofile`).
    #[serde(default)]
    pub self_reports: Vec<ToolSelfReport>,
    pub corrupt: usize,
    pub unsupported: usize,
}

impl BuildRecords {
    pub fn load(store: &Store, file: &BuildFile) -> io::Result<BuildRecords> {
        let decoded = store.load(file)?;
        let mut build = BuildRecords {
            id: file.id.clone(),
            start: None,
            end: None,
            runs: Vec::new(),
            label: None,
            context: None,
            packages: None,
            self_reports: Vec::new(),
            corrupt: decoded.corrupt,
            unsupported: decoded.unsupported,
        };
        for record in decoded.records {
            match record {
                Record::BuildStart(start) => build.start = Some(start),
                Record::BuildEnd(end) => build.end = Some(end),
                Record::Tool(run) => build.runs.push(run),
                Record::Label(label) => {
                    build.label.get_or_insert(Labels { run: label.run, target: label.target });
                }
                Record::Context(context) => {
                    build.context.get_or_insert(context);
                }
                Record::Packages(listed) => build.packages = Some(listed.packages),
                Record::SelfReport(report) => build.self_reports.push(report),
                // Check records live in run files, not build files.
                Record::Check(_) => build.unsupported += 1,
            }
        }
        build.runs.sort_by_key(|r| r.start_unix_ns);
        Ok(build)
    }

    /// The build named by `id` (or a unique prefix of it).
    pub fn find(store: &Store, id: &str) -> anyhow::Result<BuildRecords> {
        let file = store.find(id)?;
        BuildRecords::load(store, &file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.path.display()))
    }

    /// Every build labelled with run `run`, oldest first.
    pub fn of_run(store: &Store, run: &str) -> io::Result<Vec<BuildRecords>> {
        let mut builds = Vec::new();
        for file in store.list()? {
            let build = BuildRecords::load(store, &file)?;
            if build.label.as_ref().is_some_and(|l| l.run == run) {
                builds.push(build);
            }
        }
        builds.sort_by_key(BuildRecords::start_unix_ns);
        Ok(builds)
    }

    /// The origin of the build's time axis: the driver's stamp, else the go process's start, else the first run.
    pub fn start_unix_ns(&self) -> u64 {
        self.start
            .as_ref()
            .map(|s| s.start_unix_ns)
            .or_else(|| self.runs.iter().map(|r| r.build_start_unix_ns.min(r.start_unix_ns)).min())
            .unwrap_or(0)
    }

    pub fn end_unix_ns(&self) -> u64 {
        let last_run = self.runs.iter().map(ToolRun::end_unix_ns).max().unwrap_or(0);
        self.end.as_ref().map_or(last_run, |e| e.end_unix_ns.max(last_run))
    }

    /// The go command line: as `gohook build` ran it, else as the go process was started (bare `-toolexec`).
    pub fn command(&self) -> Vec<String> {
        match (&self.start, &self.context) {
            (Some(start), _) => start.command.clone(),
            (None, Some(context)) => context.go.command.clone(),
            (None, None) => Vec::new(),
        }
    }

    /// The runs that did the build's work: everything but go's probes (`-V=full`, the C compiler's `-###`).
    pub fn work(&self) -> impl Iterator<Item = &ToolRun> {
        self.runs.iter().filter(|r| !r.stage.is_probe())
    }

    /// The whole build (its wall time, its runs' CPU and peak RSS) and each stage (its runs' wall and CPU summed,
    /// their peak RSS); probes left out.
    pub fn totals(&self) -> (Totals, BTreeMap<Stage, Totals>) {
        let mut whole =
            Totals { wall_ns: self.end_unix_ns().saturating_sub(self.start_unix_ns()), ..Totals::default() };
        let mut stages: BTreeMap<Stage, Totals> = BTreeMap::new();
        for run in self.work() {
            whole.cpu_ns += run.user_ns + run.sys_ns;
            whole.peak_rss_bytes = whole.peak_rss_bytes.max(run.max_rss_bytes);
            stages.entry(run.stage).or_default().add(run);
        }
        (whole, stages)
    }

    /// What each run measured about itself, by the run's (pid, start).
    pub fn self_reports(&self) -> std::collections::HashMap<(u32, u64), &ToolSelfReport> {
        self.self_reports.iter().map(|r| ((r.pid, r.start_unix_ns), r)).collect()
    }

    /// The phases `run` reported (`--phases`), empty when it was not asked to.
    pub fn phases_of<'a>(
        reports: &std::collections::HashMap<(u32, u64), &'a ToolSelfReport>,
        run: &ToolRun,
    ) -> &'a [Phase] {
        reports.get(&(run.pid, run.start_unix_ns)).map_or(&[], |r| &r.phases)
    }
}

/// Tool runs added up: wall and CPU summed, the peak of their peak RSS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub wall_ns: u64,
    pub cpu_ns: u64,
    pub peak_rss_bytes: u64,
}

impl Totals {
    pub fn add(&mut self, run: &ToolRun) {
        self.wall_ns += run.duration_ns;
        self.cpu_ns += run.user_ns + run.sys_ns;
        self.peak_rss_bytes = self.peak_rss_bytes.max(run.max_rss_bytes);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub build_id: String,
    /// `GOHOOK_RUN` of the build, if set.
    pub run: Option<String>,
    /// `GOHOOK_TARGET` of the build, if set.
    pub target: Option<String>,
    pub command: Vec<String>,
    /// Where go ran (its working directory).
    pub dir: String,
    /// The machine, go version and settings, and labels of the build, when recorded.
    pub context: Option<BuildContext>,
    pub start_unix_ns: u64,
    pub end_unix_ns: u64,
    pub wall_ns: u64,
    /// go's exit, when the build ran under `gohook build`/`gohook exec`.
    pub exit: Option<Exit>,
    /// Tool runs that did work (probes excluded).
    pub invocations: usize,
    /// go's probes (`-V=full` of each tool, the C compiler's `-###`): asked on every go command, even a fully
    /// cached one.
    pub probes: usize,
    /// The build's packages (`go list -deps`, recorded by `gohook build`), and how many of them ran a compile; the
    /// rest came from go's build cache.
    pub packages_in_build: Option<usize>,
    pub packages_compiled: usize,
    /// The longest chain of measured work through the package graph (`gohook build` only).
    pub critical_path: Option<CriticalPath>,
    /// GOOS/GOARCH pairs the tools ran for.
    pub targets: Vec<String>,
    pub stages: Vec<StageStats>,
    /// Compiler and linker phases summed over the build, per stage, slowest first; empty without `--phases`.
    pub phases: Vec<PhaseTotal>,
    pub slowest_packages: Vec<PackageTime>,
    pub failures: Vec<Failure>,
    /// What plugins found, in record order.
    pub findings: Vec<FindingAt>,
    /// Time per plugin over the build.
    pub plugins: Vec<PluginTotal>,
    pub gohook: Overhead,
    /// Records that could not be read: damaged, or written by another record format.
    pub skipped_records: Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageStats {
    pub stage: &'static str,
    pub count: usize,
    pub total_ns: u64,
    pub p50_ns: u64,
    pub p95_ns: u64,
    pub max_ns: u64,
    /// User + system CPU of the tools.
    pub cpu_ns: u64,
    pub max_rss_bytes: u64,
    /// The package whose run had that peak.
    pub max_rss_package: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageTime {
    pub package: String,
    /// The sum of its runs' wall times.
    pub total_ns: u64,
    /// User + system CPU of its runs: below the wall time when it waited for a core.
    pub cpu_ns: u64,
    /// Time per stage for this package, e.g. compile and asm.
    pub stages: BTreeMap<&'static str, u64>,
    /// Its compile's and link's phases (`--phases`), slowest first.
    pub phases: Vec<Phase>,
}

/// One compiler or linker phase summed over the build's runs (`--phases`).
#[derive(Debug, Clone, Serialize)]
pub struct PhaseTotal {
    /// `compile` or `link`.
    pub stage: &'static str,
    pub phase: String,
    pub total_ns: u64,
    /// Runs that reported it.
    pub runs: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub tool: String,
    pub package: String,
    pub exit: Exit,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingAt {
    pub tool: String,
    pub package: String,
    #[serde(flatten)]
    pub finding: RecordedFinding,
}

#[derive(Debug, Clone, Serialize)]
pub struct PluginTotal {
    pub plugin: String,
    pub runs: usize,
    pub total_ns: u64,
    pub max_ns: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overhead {
    /// What gohook cost the build in all: each run's own CPU (exec and start-up included) plus the calibrated price
    /// of being a process ([`ProcessCost`]); what a benchmark measures from outside.
    pub whole_ns: u64,
    /// The median run's `own CPU + process_ns`.
    pub whole_p50_ns: u64,
    /// The calibrated price of being a process, per run; `None` when calibration failed (then `whole_*` count CPU only).
    pub process_ns: Option<u64>,
    /// Wall time gohook measured inside its `main` around all tool runs, probes included (no exec, loader or exit).
    pub total_ns: u64,
    pub p50_ns: u64,
    pub max_ns: u64,
    pub plugin_ns: u64,
    /// `whole_ns` as a share of the tools' own wall time.
    pub share_of_tool_time: f64,
    /// CPU of the gohook processes themselves (exec and start-up included).
    pub cpu_ns: u64,
    /// CPU of the tools gohook ran.
    pub tool_cpu_ns: u64,
    /// `cpu_ns` as a share of `tool_cpu_ns`: what gohook adds to a build's total CPU.
    pub share_of_tool_cpu: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Skipped {
    pub corrupt: usize,
    pub unsupported_version: usize,
}

const SLOWEST_PACKAGES: usize = 10;
/// Phases named per stage and per package in the table (the JSON has all).
const PHASES_SHOWN: usize = 5;

impl Summary {
    /// `process_cost`: the per-invocation price of being a process, calibrated on this machine
    /// ([`calibration::process_cost`]); without it each run's overhead is its own CPU only.
    pub fn of(build: &BuildRecords, process_cost: Option<ProcessCost>) -> Summary {
        let mut by_stage: BTreeMap<Stage, Vec<&ToolRun>> = BTreeMap::new();
        for run in build.work() {
            by_stage.entry(run.stage).or_default().push(run);
        }
        let stages = by_stage.into_iter().map(|(stage, runs)| stage_stats(stage, &runs)).collect();

        let reports = build.self_reports();
        let mut packages: BTreeMap<&str, PackageTime> = BTreeMap::new();
        let mut phases: BTreeMap<(&'static str, &str), PhaseTotal> = BTreeMap::new();
        for run in build.work() {
            let run_phases = BuildRecords::phases_of(&reports, run);
            for phase in run_phases {
                let total = phases.entry((run.stage.name(), &phase.name)).or_insert_with(|| PhaseTotal {
                    stage: run.stage.name(),
                    phase: phase.name.clone(),
                    total_ns: 0,
                    runs: 0,
                });
                total.total_ns += phase.ns;
                total.runs += 1;
            }
            if run.package.is_empty() {
                continue;
            }
            let entry = packages.entry(&run.package).or_insert_with(|| PackageTime {
                package: run.package.clone(),
                total_ns: 0,
                cpu_ns: 0,
                stages: BTreeMap::new(),
                phases: Vec::new(),
            });
            entry.total_ns += run.duration_ns;
            entry.cpu_ns += run.user_ns + run.sys_ns;
            *entry.stages.entry(run.stage.name()).or_default() += run.duration_ns;
            entry.phases.extend(run_phases.iter().cloned());
        }
        let mut slowest_packages: Vec<PackageTime> = packages.into_values().collect();
        slowest_packages.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then_with(|| a.package.cmp(&b.package)));
        slowest_packages.truncate(SLOWEST_PACKAGES);
        for package in &mut slowest_packages {
            package.phases.sort_by(|a, b| b.ns.cmp(&a.ns).then_with(|| a.name.cmp(&b.name)));
        }
        let mut phases: Vec<PhaseTotal> = phases.into_values().collect();
        phases.sort_by(|a, b| a.stage.cmp(b.stage).then(b.total_ns.cmp(&a.total_ns)));

        let mut overheads: Vec<u64> = build.runs.iter().map(|r| r.gohook_ns).collect();
        overheads.sort_unstable();
        let overhead_total: u64 = overheads.iter().sum();
        let tool_total: u64 = build.runs.iter().map(|r| r.duration_ns).sum();
        let gohook_cpu: u64 = build.runs.iter().map(|r| r.gohook_cpu_ns).sum();
        let process_ns = process_cost.map(|cost| cost.process_ns);
        let mut whole: Vec<u64> = build.runs.iter().map(|r| r.gohook_cpu_ns + process_ns.unwrap_or(0)).collect();
        whole.sort_unstable();
        let whole_ns: u64 = whole.iter().sum();
        let tool_cpu: u64 = build.runs.iter().map(|r| r.user_ns + r.sys_ns).sum();

        let mut plugins: BTreeMap<&str, PluginTotal> = BTreeMap::new();
        for time in build.runs.iter().flat_map(|r| &r.plugins) {
            let total = plugins.entry(&time.plugin).or_insert_with(|| PluginTotal {
                plugin: time.plugin.clone(),
                runs: 0,
                total_ns: 0,
                max_ns: 0,
            });
            total.runs += 1;
            total.total_ns += time.ns;
            total.max_ns = total.max_ns.max(time.ns);
        }

        let mut targets: Vec<String> = build.work().map(|r| format!("{}/{}", r.goos, r.goarch)).collect();
        targets.sort();
        targets.dedup();

        Summary {
            build_id: build.id.clone(),
            run: build.label.as_ref().map(|l| l.run.clone()).filter(|r| !r.is_empty()),
            target: build.label.as_ref().map(|l| l.target.clone()).filter(|t| !t.is_empty()),
            command: build.command(),
            dir: build
                .start
                .as_ref()
                .map(|s| s.dir.clone())
                .or_else(|| build.context.as_ref().map(|c| c.go.dir.clone()))
                .unwrap_or_default(),
            context: build.context.clone(),
            start_unix_ns: build.start_unix_ns(),
            end_unix_ns: build.end_unix_ns(),
            wall_ns: build.end_unix_ns().saturating_sub(build.start_unix_ns()),
            exit: build.end.as_ref().map(|e| e.exit),
            invocations: build.work().count(),
            packages_in_build: build.packages.as_ref().map(Vec::len),
            packages_compiled: build
                .work()
                .filter(|r| r.stage == Stage::Compile)
                .map(|r| r.package.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            critical_path: CriticalPath::of(build),
            probes: build.runs.len() - build.work().count(),
            targets,
            stages,
            phases,
            slowest_packages,
            failures: build
                .runs
                .iter()
                .filter(|r| !r.exit.success())
                .map(|r| Failure { tool: r.tool.clone(), package: r.package.clone(), exit: r.exit })
                .collect(),
            findings: build
                .runs
                .iter()
                .flat_map(|r| {
                    r.findings.iter().map(|f| FindingAt {
                        tool: r.tool.clone(),
                        package: r.package.clone(),
                        finding: f.clone(),
                    })
                })
                .collect(),
            plugins: plugins.into_values().collect(),
            gohook: Overhead {
                whole_ns,
                whole_p50_ns: percentile(&whole, 50),
                process_ns,
                total_ns: overhead_total,
                p50_ns: percentile(&overheads, 50),
                max_ns: overheads.last().copied().unwrap_or(0),
                plugin_ns: build.runs.iter().map(|r| r.plugin_ns).sum(),
                share_of_tool_time: ratio(whole_ns, tool_total),
                cpu_ns: gohook_cpu,
                tool_cpu_ns: tool_cpu,
                share_of_tool_cpu: ratio(gohook_cpu, tool_cpu),
            },
            skipped_records: Skipped { corrupt: build.corrupt, unsupported_version: build.unsupported },
        }
    }

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
        let exit = self.exit.map_or("exit unknown".to_owned(), |e| e.to_string());
        let _ = writeln!(
            out,
            "started {}, {} wall, {} tool runs + {} probes, {}, targets {}",
            format_unix_ns(self.start_unix_ns),
            format_duration(self.wall_ns),
            self.invocations,
            self.probes,
            exit,
            if self.targets.is_empty() { "-".to_owned() } else { self.targets.join(" ") },
        );
        if let Some(line) = self.cache_line() {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<8} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}  (of)",
            "stage", "count", "sum", "p50", "p95", "max", "cpu", "max rss"
        );
        for s in &self.stages {
            let [stage, count, sum, p50, p95, max, cpu, rss, of] = s.cells();
            let _ =
                writeln!(out, "{stage:<8} {count:>6} {sum:>10} {p50:>10} {p95:>10} {max:>10} {cpu:>10} {rss:>9}  {of}");
        }
        let _ = writeln!(
            out,
            "(sum: the runs' wall times added up; runs overlap, the build took {} of wall time)",
            format_duration(self.wall_ns)
        );
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
        if let Some(path) = &self.critical_path {
            let _ = writeln!(out, "\ncritical path: {}", path.headline());
            for step in &path.steps {
                let _ = writeln!(
                    out,
                    "  {:>10} {:>4.0}%  {}  (waited {})",
                    format_duration(step.work_ns),
                    step.share * 100.0,
                    step.name,
                    format_duration(step.waited_ns)
                );
            }
        }
        if !self.failures.is_empty() {
            let _ = writeln!(out, "\nfailed tool runs");
            for f in &self.failures {
                let _ = writeln!(out, "  {} {}: {}", f.tool, f.package, f.exit);
            }
        }
        if !self.findings.is_empty() {
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
        if !self.plugins.is_empty() {
            let _ = writeln!(out, "\nplugins");
            for p in &self.plugins {
                let _ = writeln!(
                    out,
                    "  {:<20} {:>4} runs  {:>10} total  {:>10} max",
                    p.plugin,
                    p.runs,
                    format_duration(p.total_ns),
                    format_duration(p.max_ns)
                );
            }
        }
        let g = &self.gohook;
        let how = match g.process_ns {
            Some(process) => format!("own CPU + {} per process, calibrated on this machine", format_duration(process)),
            None => "own CPU only: calibration failed, see the log".to_owned(),
        };
        let _ = writeln!(
            out,
            "\ngohook overhead: {} in all ({:.2}% of tool time), median {} per run ({how}); {} cpu ({:.2}% of tool cpu); \
             in-process wall {}, max {} per run; plugins {}",
            format_duration(g.whole_ns),
            g.share_of_tool_time * 100.0,
            format_duration(g.whole_p50_ns),
            format_duration(g.cpu_ns),
            g.share_of_tool_cpu * 100.0,
            format_duration(g.total_ns),
            format_duration(g.max_ns),
            format_duration(g.plugin_ns),
        );
        let skipped = self.skipped_records;
        if skipped.corrupt + skipped.unsupported_version > 0 {
            let _ = writeln!(
                out,
                "skipped records: {} damaged, {} from another gohook record format",
                skipped.corrupt, skipped.unsupported_version
            );
        }
        out
    }
}

impl Summary {
    /// How many of the build's packages compiled and how many go's cache served, when the package set is known.
    pub fn cache_line(&self) -> Option<String> {
        let total = self.packages_in_build?;
        Some(format!(
            "{} of {total} packages compiled, {} from go's build cache",
            self.packages_compiled,
            total.saturating_sub(self.packages_compiled)
        ))
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

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

fn stage_stats(stage: Stage, runs: &[&ToolRun]) -> StageStats {
    let mut durations: Vec<u64> = runs.iter().map(|r| r.duration_ns).collect();
    durations.sort_unstable();
    StageStats {
        stage: stage.name(),
        count: runs.len(),
        total_ns: durations.iter().sum(),
        p50_ns: percentile(&durations, 50),
        p95_ns: percentile(&durations, 95),
        max_ns: durations.last().copied().unwrap_or(0),
        cpu_ns: runs.iter().map(|r| r.user_ns + r.sys_ns).sum(),
        max_rss_bytes: runs.iter().map(|r| r.max_rss_bytes).max().unwrap_or(0),
        max_rss_package: runs.iter().max_by_key(|r| r.max_rss_bytes).map(|r| r.package.clone()).unwrap_or_default(),
    }
}

/// Nearest-rank percentile of sorted values.
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
    pub fn load(store: &Store, run: &str) -> io::Result<RunSummary> {
        let process_cost = calibration::process_cost(store);
        let mut builds: Vec<Summary> =
            BuildRecords::of_run(store, run)?.iter().map(|records| Summary::of(records, process_cost)).collect();
        builds.sort_by(|a, b| a.target.cmp(&b.target).then(a.start_unix_ns.cmp(&b.start_unix_ns)));
        let decoded = store.load_checks(run)?;
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
            "run {}: {} builds, {} binaries checked ({passed} pass)\n",
            self.run,
            self.builds.len(),
            self.checks.len()
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
            for finding in check.findings.iter().filter(|f| f.severity == gohook_records::FindingLevel::Error) {
                let _ = writeln!(out, "  {} error[{}] {}", check.path, finding.rule, finding.message);
            }
        }
        if self.skipped_records > 0 {
            let _ = writeln!(out, "{} damaged check records skipped", self.skipped_records);
        }
        out
    }
}

pub fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

pub fn format_duration(ns: u64) -> String {
    match ns {
        0 => "0".to_owned(),
        ns if ns < 1_000_000 => format!("{:.2}ms", ns as f64 / 1e6),
        ns if ns < 1_000_000_000 => format!("{:.0}ms", ns as f64 / 1e6),
        ns => format!("{:.2}s", ns as f64 / 1e9),
    }
}

pub fn format_bytes(bytes: u64) -> String {
    format!("{:.0}MB", bytes as f64 / 1e6)
}

pub fn format_unix_ns(ns: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns);
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gohook_records::Exit;

    pub(crate) fn run(stage: Stage, package: &str, start: u64, duration: u64) -> ToolRun {
        ToolRun {
            build_id: "b".into(),
            build_start_unix_ns: 1_000,
            tool: stage.name().into(),
            stage,
            package: package.into(),
            goos: "linux".into(),
            goarch: "amd64".into(),
            start_unix_ns: start,
            duration_ns: duration,
            user_ns: duration / 2,
            sys_ns: 0,
            max_rss_bytes: 10,
            exit: Exit::Code(0),
            gohook_ns: 7,
            gohook_cpu_ns: 5,
            plugin_ns: 0,
            pid: 1,
            findings: Vec::new(),
            plugins: Vec::new(),
        }
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let values: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&values, 50), 10);
        assert_eq!(percentile(&values, 95), 19);
        assert_eq!(percentile(&[5], 95), 5);
        assert_eq!(percentile(&[], 50), 0);
    }

    #[test]
    fn summary_groups_by_stage_and_package() {
        let build = BuildRecords {
            id: "b".into(),
            start: None,
            end: None,
            label: None,
            context: None,
            packages: None,
            self_reports: Vec::new(),
            runs: vec![
                run(Stage::Probe, "", 1_100, 5),
                run(Stage::Compile, "a", 1_200, 100),
                run(Stage::Asm, "a", 1_300, 30),
                run(Stage::Compile, "b", 1_250, 300),
                run(Stage::Link, "main", 1_600, 50),
            ],
            corrupt: 0,
            unsupported: 0,
        };
        let cost = ProcessCost { process_ns: 1_000, outside_ns: 0, rounds: 1, measured_unix_ns: 0 };
        let s = Summary::of(&build, Some(cost));
        assert_eq!((s.invocations, s.probes), (4, 1));
        assert_eq!((s.start_unix_ns, s.end_unix_ns, s.wall_ns), (1_000, 1_650, 650));
        let compile = s.stages.iter().find(|x| x.stage == "compile").unwrap();
        assert_eq!((compile.count, compile.total_ns, compile.p50_ns, compile.max_ns), (2, 400, 100, 300));
        assert_eq!(s.slowest_packages[0].package, "b");
        assert_eq!(s.slowest_packages[1].stages, BTreeMap::from([("asm", 30), ("compile", 100)]));
        assert_eq!(s.gohook.total_ns, 35);
        assert_eq!((s.gohook.cpu_ns, s.gohook.tool_cpu_ns), (25, 2 + 50 + 15 + 150 + 25));
        // Each run: its own CPU (5) plus the calibrated price of a process (1,000).
        assert_eq!((s.gohook.whole_ns, s.gohook.whole_p50_ns, s.gohook.process_ns), (5_025, 1_005, Some(1_000)));
        assert_eq!(s.targets, ["linux/amd64"]);
    }
}
