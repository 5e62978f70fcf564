//! One build's records summed up: per stage count/total/p50/p95/max, the slowest packages, gohook's own overhead,
//! failures. Rendered as a table or JSON; [`crate::trace`] renders the same records as a Chrome trace.

mod table;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use gohook_records::{ActionOutcome, BuildContext, BuildLoad, Exit, Phase, RecordedFinding, Stage, ToolRun};

use crate::critical_path::CriticalPath;
use crate::model::BuildRecords;
use crate::units::percentile;
use crate::what_if::WhatIf;

/// Packages named in the table and the JSON, slowest first.
const SLOWEST_PACKAGES: usize = 10;

/// The per-invocation price of being a separate process, calibrated on this machine for one gohook executable (the
/// CLI's `calibration` measures it; a report takes it as given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessCost {
    /// Median wall time one invocation costs from outside beyond running the tool directly, minus gohook's own CPU.
    pub process_ns: u64,
    /// What the same calibration measured from outside, for comparison with gohook's own figure.
    pub outside_ns: u64,
    pub rounds: u32,
    pub measured_unix_ns: u64,
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
    /// How busy the machine was with other work while the build ran (`gohook build`, `exec`, `bench`).
    pub load: Option<BuildLoad>,
    /// The build whose test or program started this build's go command.
    pub nested_in: Option<String>,
    /// The go commands that this build's tests or programs started: each a build of its own, by id, with its command.
    pub nested: Vec<(String, String)>,
    /// Go tools that ran under the build without gohook (`go tool nm` in a test), when any were seen.
    pub unrecorded: Option<gohook_records::UnrecordedTools>,
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
    /// The build's packages that go compiles (`go list -deps`, recorded by `gohook build`; `unsafe`, which the
    /// compiler knows itself, left out), and how many of them ran a compile; the rest came from go's build cache.
    pub packages_in_build: Option<usize>,
    pub packages_compiled: usize,
    /// go's own plan (`gohook build`): what ran and what its cache served, per stage, and how long runs waited.
    pub go_cache: Option<GoCache>,
    /// The packages' run times rolled up per module (`gohook build` only), slowest first.
    pub modules: Vec<Rollup>,
    /// The same per import path prefix (the first element of a standard library path, the first two of others).
    pub prefixes: Vec<Rollup>,
    /// The longest chain of measured work through the package graph (`gohook build` only).
    pub critical_path: Option<CriticalPath>,
    /// The build replayed on other numbers of cores (`gohook build` only); `points` as `--cores` asked.
    pub what_if: Option<WhatIf>,
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

/// go's plan of a build (`-debug-actiongraph`): exact cache hits and misses, and queue waits.
#[derive(Debug, Clone, Serialize)]
pub struct GoCache {
    pub stages: Vec<CachedStage>,
    /// From ready (every input done) to start, over the actions that ran: waiting for a core ([`crate::Wait`]).
    pub queued_p50_ns: u64,
    pub queued_p95_ns: u64,
    pub queued_max_ns: u64,
    /// What the served actions took the last time a recorded build ran them, summed (see
    /// [`Summary::count_savings`]); `None` until counted.
    pub saved_ns: Option<u64>,
    /// How many of the served actions an earlier recorded build had run.
    pub saved_known: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct CachedStage {
    /// `compile` or `link`.
    pub stage: &'static str,
    pub ran: usize,
    pub served: usize,
    /// Never ran because something it needed failed (no action id: go never got as far as its cache).
    pub not_run: usize,
}

/// Packages summed up under one name: a module, or an import path prefix.
#[derive(Debug, Clone, Serialize)]
pub struct Rollup {
    pub name: String,
    /// Packages of the build under it, and how many of them ran (the rest came from go's cache).
    pub packages: usize,
    pub compiled: usize,
    /// Its packages' compile and asm runs: wall time added up, and CPU.
    pub wall_ns: u64,
    pub cpu_ns: u64,
    /// `wall_ns` as a share of all packages' wall time.
    pub share: f64,
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

impl Summary {
    /// `process_cost`: the per-invocation price of being a process, calibrated on this machine; without it each
    /// run's overhead is its own CPU only.
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
        let what_if = WhatIf::of(build, &[]);
        let critical_path = CriticalPath::of(build, what_if.as_ref().map(|w| w.floor_ns));

        Summary {
            build_id: build.id.clone(),
            run: build.label.as_ref().map(|l| l.run.clone()).filter(|r| !r.is_empty()),
            target: build.label.as_ref().map(|l| l.target.clone()).filter(|t| !t.is_empty()),
            command: build.command(),
            dir: build.dir(),
            context: build.context.clone(),
            load: build.load.clone(),
            nested_in: build.nested_in.as_ref().map(|n| n.parent_build_id.clone()),
            nested: build.nested.iter().map(|n| (n.build_id.clone(), n.command.join(" "))).collect(),
            unrecorded: build.unrecorded.clone(),
            start_unix_ns: build.start_unix_ns(),
            end_unix_ns: build.end_unix_ns(),
            wall_ns: build.end_unix_ns().saturating_sub(build.start_unix_ns()),
            exit: build.end.as_ref().map(|e| e.exit),
            invocations: build.work().count(),
            packages_in_build: build
                .packages
                .as_ref()
                .map(|packages| packages.iter().filter(|p| BuildRecords::go_compiles(&p.package)).count()),
            go_cache: go_cache(build),
            modules: rollup(build, |package| {
                let modules = build.modules.as_ref()?;
                modules.iter().find(|m| m.package == package).map(|m| m.module.clone())
            }),
            prefixes: rollup(build, |package| Some(prefix(package))),
            packages_compiled: build
                .work()
                .filter(|r| r.stage == Stage::Compile)
                .map(|r| r.package.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            what_if,
            critical_path,
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
}

impl Summary {
    /// What go's cache saved this build: for each action it served, the time it took the last time one of `earlier`
    /// (newest first) ran it — go keys both by the same action id.
    pub fn count_savings(&mut self, build: &BuildRecords, earlier: &[&BuildRecords]) {
        let (Some(cache), Some(actions)) = (&mut self.go_cache, &build.actions) else { return };
        let mut took: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for old in earlier.iter().rev() {
            for a in old.actions.iter().flatten().filter(|a| a.ran && a.done_unix_ns > a.start_unix_ns) {
                took.insert(&a.action_id, a.done_unix_ns - a.start_unix_ns);
            }
        }
        let served: Vec<u64> =
            actions.iter().filter(|a| !a.ran).filter_map(|a| took.get(a.action_id.as_str()).copied()).collect();
        cache.saved_known = served.len();
        cache.saved_ns = Some(served.iter().sum());
    }
}

/// Cache hits and misses per stage and queue waits, from go's plan.
fn go_cache(build: &BuildRecords) -> Option<GoCache> {
    let actions = build.actions.as_ref()?;
    let stages = [("build", "compile"), ("link", "link")]
        .into_iter()
        .map(|(mode, stage)| {
            let mut counts = CachedStage { stage, ran: 0, served: 0, not_run: 0 };
            for action in actions.iter().filter(|a| a.mode == mode && BuildRecords::go_compiles(&a.package)) {
                match action.outcome() {
                    ActionOutcome::Ran => counts.ran += 1,
                    ActionOutcome::Served => counts.served += 1,
                    ActionOutcome::NotRun => counts.not_run += 1,
                }
            }
            counts
        })
        .collect();
    let mut queued: Vec<u64> = build.waits().values().map(|w| w.queued_ns()).collect();
    queued.sort_unstable();
    Some(GoCache {
        stages,
        queued_p50_ns: percentile(&queued, 50),
        queued_p95_ns: percentile(&queued, 95),
        queued_max_ns: queued.last().copied().unwrap_or(0),
        saved_ns: None,
        saved_known: 0,
    })
}

/// The build's packages (the recorded graph, else those that ran) summed up under the name `group` gives each; a
/// package `group` has no name for is left out.
fn rollup(build: &BuildRecords, group: impl Fn(&str) -> Option<String>) -> Vec<Rollup> {
    let mut sums: BTreeMap<String, Rollup> = BTreeMap::new();
    let mut ran: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for run in build.work().filter(|r| matches!(r.stage, Stage::Compile | Stage::Asm) && !r.package.is_empty()) {
        let entry = ran.entry(&run.package).or_default();
        entry.0 += run.duration_ns;
        entry.1 += run.user_ns + run.sys_ns;
    }
    let listed: Vec<&str> = match &build.packages {
        Some(packages) => {
            packages.iter().map(|p| p.package.as_str()).filter(|p| BuildRecords::go_compiles(p)).collect()
        }
        None => ran.keys().copied().collect(),
    };
    for package in listed {
        let Some(name) = group(package) else { continue };
        let sum = sums.entry(name.clone()).or_insert_with(|| Rollup {
            name,
            packages: 0,
            compiled: 0,
            wall_ns: 0,
            cpu_ns: 0,
            share: 0.0,
        });
        sum.packages += 1;
        if let Some((wall, cpu)) = ran.get(package) {
            sum.compiled += 1;
            sum.wall_ns += wall;
            sum.cpu_ns += cpu;
        }
    }
    let total: u64 = ran.values().map(|(wall, _)| wall).sum();
    let mut rollups: Vec<Rollup> = sums.into_values().collect();
    for r in &mut rollups {
        r.share = ratio(r.wall_ns, total);
    }
    rollups.sort_by(|a, b| b.wall_ns.cmp(&a.wall_ns).then_with(|| a.name.cmp(&b.name)));
    rollups
}

/// `net/http` → `net`; `golang.org/x/net/http2` → `golang.org/x`; a test variant `p [p.test]` as `p`.
fn prefix(package: &str) -> String {
    let path = package.split(' ').next().unwrap_or(package);
    let elements: Vec<&str> = path.split('/').collect();
    let standard = !elements[0].contains('.');
    elements[..elements.len().min(if standard { 1 } else { 2 })].join("/")
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
            modules: None,
            actions: None,
            cache_inputs: None,
            tool_keys: Vec::new(),
            trace_parent: None,
            load: None,
            nested_in: None,
            nested: Vec::new(),
            unrecorded: None,
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

    #[test]
    fn counts_are_singular_or_plural_and_a_no_op_build_reports_no_shares_of_nothing() {
        let one = BuildRecords::of_records(
            "b",
            vec![
                gohook_records::Record::Tool(run(Stage::Probe, "", 1_100, 5)),
                gohook_records::Record::Tool(run(Stage::Compile, "a", 1_200, 100)),
            ],
        );
        let table = Summary::of(&one, None).to_table();
        assert!(table.contains(" wall, 1 tool run + 1 probe, "), "{table}");
        assert!(!table.contains("runs overlap"), "one run overlaps nothing: {table}");

        let mut nothing =
            BuildRecords::of_records("b", vec![gohook_records::Record::Tool(run(Stage::Probe, "", 1_100, 5))]);
        nothing.packages = Some(
            ["a", "b", "unsafe"]
                .iter()
                .map(|p| gohook_records::PackageImports { package: (*p).into(), imports: vec![] })
                .collect(),
        );
        let table = Summary::of(&nothing, None).to_table();
        assert!(table.contains(" wall, 0 tool runs + 1 probe, "), "{table}");
        assert!(table.contains("0 of 2 packages compiled, 2 from go's build cache\n"), "{table}");
        assert!(table.contains("\nnothing to do: every package came from go's build cache (2 packages)\n"), "{table}");
        assert!(table.ends_with("\ngohook overhead: 0.00ms over 1 probe\n"), "{table}");
        assert!(!table.contains('%') && !table.contains("stage "), "{table}");
    }
}
