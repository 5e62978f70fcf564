//! What limited a build: its cores or its chain of packages, and the chain of tool runs that held the link back.
//!
//! A package's compile can start only when the packages it imports are compiled, and the link only when all are.
//! Two numbers bound the build's wall time from below: the longest chain of measured work through the package graph
//! (the *floor*: no number of cores finishes sooner), and the build's whole work spread over the tools go may run at
//! once (`-p`, else GOMAXPROCS). Whichever is larger is what limited the build: a core-bound build gets faster with
//! more cores (down to the floor), a path-bound one only with a shorter chain.
//!
//! The *path* shown is what actually happened: from the link back, each step is the dependency of the next that
//! finished last — the one the next step was waiting for. Each step says when it became ready (its own last
//! dependency done) and how long it then sat queued for a core before it started. The graph comes from `go list
//! -deps` after a `gohook build` (one `Packages` record); packages go served from its cache did no work and pass
//! their dependencies through.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use gohook_records::Stage;

use crate::model::BuildRecords;
use crate::units::{count, format_duration};

#[derive(Debug, Clone, Serialize)]
pub struct CriticalPath {
    /// What limited the build, when the number of CPUs it ran on is known.
    pub limit: Option<Limit>,
    /// From the first package that ran to the link: each the last-finishing dependency of the next.
    pub steps: Vec<Step>,
    /// The path's work: the sum of its steps' run times.
    pub total_ns: u64,
    /// The longest chain of work through the package graph (and the link): the wall time no number of cores beats.
    pub floor_ns: u64,
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
    /// Every tool run's wall time added up (probes left out).
    pub work_ns: u64,
    /// How many tools go ran at once: its `-p`, else GOMAXPROCS.
    pub cpus: u32,
    /// `work_ns / cpus`: the wall time the work needs on these cores, however it is ordered.
    pub work_per_cpu_ns: u64,
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

    /// The verdict first: `core-bound: 258s of work / 2 CPUs = 129s ≥ the 53s floor: more cores would help, down to
    /// ~53s`.
    pub fn verdict(&self) -> Option<String> {
        let limit = self.limit.as_ref()?;
        let spread = format!(
            "{} of work / {} = {}",
            format_duration(limit.work_ns),
            count(limit.cpus as usize, "CPU", "CPUs"),
            format_duration(limit.work_per_cpu_ns)
        );
        let floor = format_duration(self.floor_ns);
        Some(match limit.kind {
            LimitKind::CoreBound => {
                format!("core-bound: {spread} ≥ the {floor} longest chain: more cores would help, down to ~{floor}")
            }
            LimitKind::PathBound => format!(
                "path-bound: the longest chain, {floor}, outlasts {spread}: more cores would not help; only a \
                 shorter chain would (its steps below)"
            ),
        })
    }

    /// `None` without a package graph (bare `-toolexec` builds, `gohook exec`) or without work.
    pub fn of(build: &BuildRecords) -> Option<CriticalPath> {
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
        let mut graph_walk = Graph { graph: &graph, work: &work, longest: BTreeMap::new(), last_done: BTreeMap::new() };

        // The path, from the end back: the link (or the end of the build) waits for the package that finished last;
        // a package for its imports.
        let mut chain: Vec<(&str, Work)> = Vec::new();
        let mut next = work.iter().max_by_key(|(name, w)| (w.end, *name)).map(|(name, _)| *name);
        while let Some(package) = next {
            chain.push((package, work[package]));
            next = graph_walk.last_done(package, &mut BTreeSet::new()).map(|(_, name)| name);
        }
        chain.reverse();
        let mut steps: Vec<Step> = Vec::new();
        for (name, w) in &chain {
            let ready = match steps.last() {
                Some(previous) => previous.end_unix_ns,
                None => first_run,
            };
            steps.push(step(name, w, ready));
        }
        let mut floor_ns = graph.keys().chain(work.keys()).map(|p| graph_walk.longest(p, &mut BTreeSet::new())).max();
        if let Some(link) = link {
            let w = Work { ns: link.duration_ns, start: link.start_unix_ns, end: link.end_unix_ns() };
            let ready = steps.last().map_or(first_run, |s| s.end_unix_ns);
            steps.push(step("link", &w, ready));
            floor_ns = Some(floor_ns.unwrap_or(0) + link.duration_ns);
        }
        let total_ns: u64 = steps.iter().map(|s| s.work_ns).sum();
        for s in &mut steps {
            s.share = if total_ns == 0 { 0.0 } else { s.work_ns as f64 / total_ns as f64 };
        }
        let floor_ns = floor_ns.unwrap_or(0);
        let cached_packages = graph.keys().filter(|p| !work.contains_key(*p) && !NEVER_COMPILED.contains(p)).count();
        Some(CriticalPath {
            limit: limit(build, floor_ns),
            steps,
            total_ns,
            floor_ns,
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
    let work_ns: u64 = build.work().map(|r| r.duration_ns).sum();
    let work_per_cpu_ns = work_ns / cpus as u64;
    let kind = if work_per_cpu_ns >= floor_ns { LimitKind::CoreBound } else { LimitKind::PathBound };
    Some(Limit { kind, work_ns, cpus, work_per_cpu_ns })
}

fn step(name: &str, work: &Work, ready: u64) -> Step {
    Step {
        name: name.to_owned(),
        work_ns: work.ns,
        share: 0.0,
        ready_unix_ns: ready,
        queued_ns: work.start.saturating_sub(ready),
        start_unix_ns: work.start,
        end_unix_ns: work.end,
    }
}

/// Walks of the package graph, memoized.
struct Graph<'a> {
    graph: &'a BTreeMap<&'a str, &'a [String]>,
    work: &'a BTreeMap<&'a str, Work>,
    /// Per package: the longest chain of work ending with it.
    longest: BTreeMap<&'a str, u64>,
    /// Per package: the dependency that ran and finished last among those it waited for, and when.
    last_done: BTreeMap<&'a str, Option<(u64, &'a str)>>,
}

impl<'a> Graph<'a> {
    fn longest(&mut self, package: &'a str, visiting: &mut BTreeSet<&'a str>) -> u64 {
        if let Some(&known) = self.longest.get(package) {
            return known;
        }
        // go refuses import cycles; a record that has one anyway must not loop.
        if !visiting.insert(package) {
            return 0;
        }
        let mut below = 0;
        for import in self.graph.get(package).copied().unwrap_or_default() {
            below = below.max(self.longest(import, visiting));
        }
        visiting.remove(package);
        let chain = self.work.get(package).map_or(0, |w| w.ns) + below;
        self.longest.insert(package, chain);
        chain
    }

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
        let path = CriticalPath::of(&build(runs, graph, 2)).unwrap();
        let names: Vec<&str> = path.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "main", "link"]);
        let queued: Vec<u64> = path.steps.iter().map(|s| s.queued_ns).collect();
        assert_eq!(queued, [0, 50, 10, 10]);
        assert_eq!(path.cached_packages, 0, "unsafe is never compiled, so never cached");
        // Floor: c (100) + b (200) + main (10) + link (40).
        assert_eq!((path.total_ns, path.floor_ns), (350, 350));
        let limit = path.limit.unwrap();
        assert_eq!((limit.work_ns, limit.work_per_cpu_ns, limit.kind), (380, 190, LimitKind::PathBound));
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
        let path = CriticalPath::of(&build).unwrap();
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
        let path = CriticalPath::of(&build(runs, &graph, 2)).unwrap();
        let limit = path.limit.as_ref().unwrap();
        assert_eq!(limit.kind, LimitKind::CoreBound);
        assert_eq!((limit.work_ns, limit.work_per_cpu_ns, path.floor_ns), (830 * MS, 415 * MS, 130 * MS));
        assert_eq!(
            path.verdict().unwrap(),
            "core-bound: 830ms of work / 2 CPUs = 415ms ≥ the 130ms longest chain: more cores would help, down to ~130ms"
        );
    }
}
