//! What limited a build: its cores or its chain of packages, and the chain of tool runs that held the link back.
//!
//! A package's compile can start only when the packages it imports are compiled, and the link only when all are.
//! Two numbers bound the build's wall time from below: the *floor*, what no number of cores beats (the what-if's:
//! the longest chain of runs at their time alone, with go's start, end and own time per run), and the tools' CPU
//! time spread over the cores go may use (`-p`, else GOMAXPROCS). Whichever is larger is what limited the build: a
//! core-bound build gets faster with more cores (down to the floor), a path-bound one only with a shorter chain.
//! CPU, not wall time: on a machine shared with other work a run's wall time grows while it waits, its CPU does not.
//!
//! The *path* shown is what actually happened: from the link back, each step is the dependency of the next that
//! finished last — the one the next step was waiting for. Each step says when it became ready and how long it then
//! sat queued for a core before it started: from go's plan when the build recorded it (every input done → go
//! started it, [`crate::Wait`], the same figure as the report's queue percentiles), else from the tool runs (its
//! last dependency's end → its first run's start). The graph comes from `go list -deps` (one `Packages` record);
//! packages go served from its cache did no work and pass their dependencies through.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use gohook_records::Stage;

use crate::model::{BuildRecords, Wait};
use crate::units::{count, format_duration};

#[derive(Debug, Clone, Serialize)]
pub struct CriticalPath {
    /// What limited the build, when the number of CPUs it ran on is known.
    pub limit: Option<Limit>,
    /// From the first package that ran to the link: each the last-finishing dependency of the next.
    pub steps: Vec<Step>,
    /// The path's work: the sum of its steps' run times.
    pub total_ns: u64,
    /// Whether the steps' ready and queued times come from go's plan (else from the tool runs).
    pub queued_from_plan: bool,
    /// The build's wall time, to set the path against.
    pub wall_ns: u64,
    /// From the build's start to its first tool run: go loading packages and planning.
    pub startup_ns: u64,
    /// Packages of the build that go served from its cache: they did no work, so the path covers what ran.
    pub cached_packages: usize,
}

/// Cores or the chain: which one bounded the build's wall time.
#[derive(Debug, Clone, Serialize)]
pub struct Limit {
    #[serde(rename = "bound")]
    pub kind: LimitKind,
    /// Every tool run's CPU time (user + system) added up, probes left out: the work, however it is ordered.
    pub cpu_ns: u64,
    /// How many tools go ran at once: its `-p`, else GOMAXPROCS.
    pub cpus: u32,
    /// `cpu_ns / cpus`: the wall time the work needs on these cores at the least.
    pub cpu_per_core_ns: u64,
    /// What no number of cores beats: the what-if's floor ([`crate::WhatIf::floor_ns`]).
    pub floor_ns: u64,
    /// Other work shared the machine: the floor counts each run at its CPU time on one core.
    pub machine_shared: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitKind {
    /// More cores would have helped, down to the floor.
    CoreBound,
    /// More cores would not have helped: the chain of packages is longer than the work per core.
    PathBound,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The package, or `link` for the final link.
    pub name: String,
    pub work_ns: u64,
    /// This step's share of the path's work.
    pub share: f64,
    /// When it could have started: its last dependency done (for the first step, go's first tool run).
    pub ready_unix_ns: u64,
    /// From ready to its start: waiting for a core.
    pub queued_ns: u64,
    pub start_unix_ns: u64,
    pub end_unix_ns: u64,
}

/// A package's measured work: its compile and asm runs together.
#[derive(Debug, Clone, Copy)]
struct Work {
    ns: u64,
    start: u64,
    end: u64,
}

/// Packages go never compiles (the compiler knows them): never counted as served from its cache.
const NEVER_COMPILED: &[&str] = &["unsafe"];

impl CriticalPath {
    /// The runs on the path, by (pid, start): every compile-side run of a package on it, and its link (not the
    /// build's other links).
    pub fn runs(&self, build: &BuildRecords) -> BTreeSet<(u32, u64)> {
        let packages: BTreeSet<&str> =
            self.steps.iter().filter(|s| s.name != "link").map(|s| s.name.as_str()).collect();
        let links: BTreeSet<u64> = self.steps.iter().filter(|s| s.name == "link").map(|s| s.start_unix_ns).collect();
        build
            .work()
            .filter(|run| match run.stage {
                Stage::Link => links.contains(&run.start_unix_ns),
                _ => packages.contains(run.package.as_str()),
            })
            .map(|run| (run.pid, run.start_unix_ns))
            .collect()
    }

    /// `4 packages + link, 1.67s of work in 1.75s of wall (95%)`, and whether cached packages shortened it.
    pub fn headline(&self) -> String {
        let packages = self.steps.iter().filter(|s| s.name != "link").count();
        format!(
            "{}{}, {} of work in {} of wall ({:.0}%){}",
            count(packages, "package", "packages"),
            if self.steps.iter().any(|s| s.name == "link") { " + link" } else { "" },
            format_duration(self.total_ns),
            format_duration(self.wall_ns),
            if self.wall_ns == 0 { 0.0 } else { self.total_ns as f64 / self.wall_ns as f64 * 100.0 },
            if self.cached_packages > 0 { "; cached packages did no work, so the path covers what ran" } else { "" }
        )
    }

    /// What the steps' queue times measure, said under them.
    pub fn queued_meaning(&self) -> &'static str {
        if self.queued_from_plan {
            "Each step is the dependency of the next that finished last; queued: from every input done (its \
             imports' compiles, or the cache checks of those go served) to go starting it, from go's plan, as the \
             queue figures above"
        } else {
            "Each step is the dependency of the next that finished last; queued: from its own last dependency's end, \
             or go's first tool for the first step, to its start (no plan of go's recorded: `gohook build` and `gohook \
             bench` record it)"
        }
    }

    /// The verdict first: `core-bound: 129s of CPU / 2 cores = 64.5s ≥ the 53s floor: more cores would help, down
    /// to ~53s`.
    pub fn verdict(&self) -> Option<String> {
        let limit = self.limit.as_ref()?;
        let spread = format!(
            "{} of CPU / {} = {}",
            format_duration(limit.cpu_ns),
            count(limit.cpus as usize, "core", "cores"),
            format_duration(limit.cpu_per_core_ns)
        );
        let floor = format_duration(limit.floor_ns);
        let shared = if limit.machine_shared {
            "; measured on a machine shared with other work: the floor counts each run at its CPU time on one core \
             and errs long"
        } else {
            ""
        };
        Some(match limit.kind {
            LimitKind::CoreBound => {
                format!("core-bound: {spread} ≥ the {floor} floor: more cores would help, down to ~{floor}{shared}")
            }
            LimitKind::PathBound => format!(
                "path-bound: the {floor} floor (the longest chain, with go's own time) outlasts {spread}: more cores \
                 would not help; only a shorter chain would (its steps below){shared}"
            ),
        })
    }

    /// `None` without a package graph (bare `-toolexec` builds, `gohook exec`) or without work. `floor_ns` is the
    /// what-if's floor ([`crate::WhatIf`]); without it the path has no verdict.
    pub fn of(build: &BuildRecords, floor_ns: Option<u64>) -> Option<CriticalPath> {
        let graph: BTreeMap<&str, &[String]> =
            build.packages.as_ref()?.iter().map(|p| (p.package.as_str(), p.imports.as_slice())).collect();
        let mut work: BTreeMap<&str, Work> = BTreeMap::new();
        for run in build.work().filter(|r| r.stage != Stage::Link && !r.package.is_empty()) {
            let entry = work.entry(&run.package).or_insert(Work { ns: 0, start: u64::MAX, end: 0 });
            entry.ns += run.duration_ns;
            entry.start = entry.start.min(run.start_unix_ns);
            entry.end = entry.end.max(run.end_unix_ns());
        }
        let link = build.work().filter(|r| r.stage == Stage::Link).max_by_key(|r| r.end_unix_ns());
        if work.is_empty() && link.is_none() {
            return None;
        }
        let build_start = build.start_unix_ns();
        let first_run = build.work().map(|r| r.start_unix_ns).min().unwrap_or(build_start);
        let mut graph_walk = Graph { graph: &graph, work: &work, last_done: BTreeMap::new() };

        // The path, from the end back: the link (or the end of the build) waits for the package that finished last;
        // a package for its imports.
        let mut chain: Vec<(&str, Work)> = Vec::new();
        let mut next = work.iter().max_by_key(|(name, w)| (w.end, *name)).map(|(name, _)| *name);
        while let Some(package) = next {
            chain.push((package, work[package]));
            next = graph_walk.last_done(package, &mut BTreeSet::new()).map(|(_, name)| name);
        }
        chain.reverse();
        let waits = build.waits();
        let queued_from_plan = !waits.is_empty();
        // From go's plan when it has the step, else from the tool runs: the previous step's end (go's first run for
        // the first step) to the step's start.
        let step = |name: &str, work: &Work, wait: Option<&Wait>, previous: Option<&Step>| {
            let ready = wait.map_or_else(|| previous.map_or(first_run, |p| p.end_unix_ns), |w| w.ready_unix_ns);
            let queued = wait.map_or(work.start.saturating_sub(ready), |w| w.queued_ns());
            Step {
                name: name.to_owned(),
                work_ns: work.ns,
                share: 0.0,
                ready_unix_ns: ready,
                queued_ns: queued,
                start_unix_ns: work.start,
                end_unix_ns: work.end,
            }
        };
        let mut steps: Vec<Step> = Vec::new();
        for (name, w) in &chain {
            let next = step(name, w, waits.get(&(Stage::Compile, *name)), steps.last());
            steps.push(next);
        }
        if let Some(link) = link {
            let w = Work { ns: link.duration_ns, start: link.start_unix_ns, end: link.end_unix_ns() };
            let next = step("link", &w, waits.get(&(Stage::Link, link.package.as_str())), steps.last());
            steps.push(next);
        }
        let total_ns: u64 = steps.iter().map(|s| s.work_ns).sum();
        for s in &mut steps {
            s.share = if total_ns == 0 { 0.0 } else { s.work_ns as f64 / total_ns as f64 };
        }
        let cached_packages = graph.keys().filter(|p| !work.contains_key(*p) && !NEVER_COMPILED.contains(p)).count();
        Some(CriticalPath {
            limit: floor_ns.and_then(|floor_ns| limit(build, floor_ns)),
            steps,
            total_ns,
            queued_from_plan,
            wall_ns: build.end_unix_ns().saturating_sub(build_start),
            startup_ns: first_run.saturating_sub(build_start),
            cached_packages,
        })
    }
}

/// Cores or chain, from the tools go may run at once (`-p`, else GOMAXPROCS, else the machine's CPUs).
fn limit(build: &BuildRecords, floor_ns: u64) -> Option<Limit> {
    let context = build.context.as_ref()?;
    let cpus =
        [context.go.parallelism, context.go.gomaxprocs, context.machine.logical_cpus].into_iter().find(|&n| n > 0)?;
    let cpu_ns: u64 = build.work().map(|r| r.user_ns + r.sys_ns).sum();
    let cpu_per_core_ns = cpu_ns / cpus as u64;
    let kind = if cpu_per_core_ns >= floor_ns { LimitKind::CoreBound } else { LimitKind::PathBound };
    let machine_shared = build.load.as_ref().is_some_and(|load| load.shared());
    Some(Limit { kind, cpu_ns, cpus, cpu_per_core_ns, floor_ns, machine_shared })
}

/// Walks of the package graph, memoized.
struct Graph<'a> {
    graph: &'a BTreeMap<&'a str, &'a [String]>,
    work: &'a BTreeMap<&'a str, Work>,
    /// Per package: the dependency that ran and finished last among those it waited for, and when.
    last_done: BTreeMap<&'a str, Option<(u64, &'a str)>>,
}

impl<'a> Graph<'a> {
    /// The package `package` waited for last: of its imports that ran, the one that finished last; a cached import
    /// passes its own imports through (it was ready when they were).
    fn last_done(&mut self, package: &'a str, visiting: &mut BTreeSet<&'a str>) -> Option<(u64, &'a str)> {
        if let Some(&known) = self.last_done.get(package) {
            return known;
        }
        if !visiting.insert(package) {
            return None;
        }
        let mut latest: Option<(u64, &'a str)> = None;
        for import in self.graph.get(package).copied().unwrap_or_default() {
            let done = match self.work.get(import.as_str()) {
                Some(w) => Some((w.end, import.as_str())),
                None => self.last_done(import, visiting),
            };
            latest = latest.max(done);
        }
        visiting.remove(package);
        self.last_done.insert(package, latest);
        latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::run;
    use gohook_records::{BuildContext, PackageImports};

    fn build(runs: Vec<gohook_records::ToolRun>, graph: &[(&str, &[&str])], cpus: u32) -> BuildRecords {
        let mut context = BuildContext::default();
        context.go.parallelism = cpus;
        BuildRecords {
            id: "b".into(),
            start: None,
            end: None,
            runs,
            label: None,
            context: Some(context),
            packages: Some(
                graph
                    .iter()
                    .map(|(p, imports)| PackageImports {
                        package: (*p).into(),
                        imports: imports.iter().map(|i| (*i).into()).collect(),
                    })
                    .collect(),
            ),
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
            corrupt: 0,
            unsupported: 0,
        }
    }

    #[test]
    fn each_step_is_the_dependency_of_the_next_that_finished_last() {
        // main imports a and b; a is quick, b slow; b waited 50 for a core after c finished.
        let runs = vec![
            run(Stage::Compile, "c", 1_000, 100),
            run(Stage::Compile, "a", 1_000, 30),
            run(Stage::Compile, "b", 1_150, 200),
            run(Stage::Compile, "main", 1_360, 10),
            run(Stage::Link, "main", 1_380, 40),
        ];
        let graph: &[(&str, &[&str])] =
            &[("main", &["a", "b", "unsafe"]), ("a", &[]), ("b", &["c"]), ("c", &[]), ("unsafe", &[])];
        let build = build(runs, graph, 2);
        let path = CriticalPath::of(&build, Some(360)).unwrap();
        let names: Vec<&str> = path.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "main", "link"]);
        let queued: Vec<u64> = path.steps.iter().map(|s| s.queued_ns).collect();
        assert_eq!(queued, [0, 50, 10, 10]);
        assert!(!path.queued_from_plan);
        assert_eq!(path.cached_packages, 0, "unsafe is never compiled, so never cached");
        // c (100) + b (200) + main (10) + link (40).
        assert_eq!(path.total_ns, 350);
        // CPU: half of each run's wall (190) over 2 cores is below the 360 floor.
        let limit = path.limit.unwrap();
        assert_eq!((limit.cpu_ns, limit.cpu_per_core_ns, limit.floor_ns), (190, 95, 360));
        assert_eq!(limit.kind, LimitKind::PathBound);
        assert!(CriticalPath::of(&build, None).unwrap().limit.is_none(), "no floor, no verdict");
    }

    #[test]
    fn with_gos_plan_a_step_waited_from_its_inputs_done_to_its_start() {
        // b's imports (c) were done at 1,100, but go started b only at 1,150: b's cache check sat in the queue.
        let runs = vec![
            run(Stage::Compile, "c", 1_000, 100),
            run(Stage::Compile, "b", 1_152, 200),
            run(Stage::Link, "b", 1_360, 40),
        ];
        let mut build = build(runs, &[("b", &["c"]), ("c", &[])], 2);
        let action = |mode: &str, package: &str, ready: u64, start: u64| gohook_records::GoAction {
            mode: mode.into(),
            package: package.into(),
            ran: true,
            action_id: "id".into(),
            ready_unix_ns: ready,
            start_unix_ns: start,
            done_unix_ns: start + 1,
        };
        build.actions = Some(vec![
            action("build", "c", 990, 995),
            action("build", "b", 1_101, 1_150),
            action("link", "b", 1_353, 1_355),
        ]);
        let path = CriticalPath::of(&build, None).unwrap();
        assert!(path.queued_from_plan);
        let waited: Vec<(u64, u64)> = path.steps.iter().map(|s| (s.ready_unix_ns, s.queued_ns)).collect();
        assert_eq!(waited, [(990, 5), (1_101, 49), (1_353, 2)]);
    }

    #[test]
    fn the_paths_runs_are_its_packages_and_its_link_not_the_other_programs() {
        // Two programs: m1 (imports a) links first, m2 (imports the slow b) last; the path is m2's.
        let runs = vec![
            run(Stage::Compile, "b", 1_000, 300),
            run(Stage::Compile, "a", 1_001, 100),
            run(Stage::Compile, "m1", 1_101, 10),
            run(Stage::Link, "m1", 1_111, 40),
            run(Stage::Compile, "m2", 1_300, 10),
            run(Stage::Link, "m2", 1_310, 40),
        ];
        let graph: &[(&str, &[&str])] = &[("m1", &["a"]), ("m2", &["b"]), ("a", &[]), ("b", &[])];
        let build = build(runs, graph, 2);
        let path = CriticalPath::of(&build, None).unwrap();
        assert_eq!(path.runs(&build), BTreeSet::from([(1, 1_000), (1, 1_300), (1, 1_310)]));
    }

    #[test]
    fn equal_independent_packages_on_few_cores_are_core_bound() {
        const MS: u64 = 1_000_000;
        let mut runs: Vec<_> =
            (0..8).map(|i| run(Stage::Compile, &format!("p{i}"), (1_000 + (i / 2) * 100) * MS, 100 * MS)).collect();
        runs.push(run(Stage::Compile, "main", 1_400 * MS, 10 * MS));
        runs.push(run(Stage::Link, "main", 1_410 * MS, 20 * MS));
        let names: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
        let imports: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut graph: Vec<(&str, &[&str])> = vec![("main", &imports)];
        graph.extend(imports.iter().map(|p| (*p, &[][..])));
        let path = CriticalPath::of(&build(runs, &graph, 2), Some(140 * MS)).unwrap();
        let limit = path.limit.as_ref().unwrap();
        assert_eq!(limit.kind, LimitKind::CoreBound);
        assert_eq!((limit.cpu_ns, limit.cpu_per_core_ns, limit.floor_ns), (415 * MS, 207_500_000, 140 * MS));
        assert_eq!(
            path.verdict().unwrap(),
            "core-bound: 415ms of CPU / 2 cores = 208ms ≥ the 140ms floor: more cores would help, down to ~140ms"
        );
    }
}
