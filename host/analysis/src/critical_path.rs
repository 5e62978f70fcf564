//! The critical path of a build: the longest chain of measured work through the package graph, ending at the link.
//!
//! A package's compile can start only when the packages it imports are compiled, and the link only when all are.
//! The chain of packages whose times add up to the most is what bounds the build's wall time however many cores
//! there are; a slow package off that chain costs nothing on a machine with cores to spare. The graph comes from
//! `go list -deps` after a `gohook build` (one `Packages` record); packages go served from its cache did no work
//! and pass their dependencies' chains through. Each step also says how long it waited after its last dependency
//! finished: queueing for a core on a busy machine.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use gohook_records::Stage;

use crate::model::BuildRecords;
use crate::units::format_duration;

#[derive(Debug, Clone, Serialize)]
pub struct CriticalPath {
    /// From the first package compiled to the link.
    pub steps: Vec<Step>,
    /// The chain's work: the sum of its steps' run times.
    pub total_ns: u64,
    /// The build's wall time, to set the chain against.
    pub wall_ns: u64,
    /// True when some of the build's packages came from go's cache: the path covers what ran.
    pub cached_packages: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The package, or `link` for the final link.
    pub name: String,
    pub work_ns: u64,
    /// This step's share of the chain's work.
    pub share: f64,
    /// From the end of its last dependency on the chain (or the build's start) to its own start.
    pub waited_ns: u64,
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

impl CriticalPath {
    /// `4 packages + link, 1.67s of work in 1.75s of wall (95%)`, and whether cached packages shortened it.
    pub fn headline(&self) -> String {
        let packages = self.steps.iter().filter(|s| s.name != "link").count();
        format!(
            "{packages} packages{}, {} of work in {} of wall ({:.0}%){}",
            if self.steps.iter().any(|s| s.name == "link") { " + link" } else { "" },
            format_duration(self.total_ns),
            format_duration(self.wall_ns),
            if self.wall_ns == 0 { 0.0 } else { self.total_ns as f64 / self.wall_ns as f64 * 100.0 },
            if self.cached_packages { "; cached packages did no work, so the path covers what ran" } else { "" }
        )
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

        let mut chains = Chains { graph: &graph, work: &work, best: BTreeMap::new(), done: BTreeMap::new() };
        // The chain's end: the link, which needs every package; without one, the package whose chain is longest.
        let mut names: Vec<&str> = graph.keys().copied().chain(work.keys().copied()).collect();
        names.sort_unstable();
        names.dedup();
        let heaviest = names.iter().map(|p| (chains.best(p, &mut BTreeSet::new()), *p)).max();
        let mut steps = Vec::new();
        let mut next = heaviest.and_then(|((ns, _), p)| (ns > 0).then_some(p));
        let build_start = build.start_unix_ns();
        let mut chain: Vec<(&str, Work)> = Vec::new();
        while let Some(package) = next {
            if let Some(w) = work.get(package) {
                chain.push((package, *w));
            }
            next = chains.best(package, &mut BTreeSet::new()).1;
        }
        chain.reverse();
        for (name, w) in &chain {
            let ready = chains.dependencies_done(name, &mut BTreeSet::new()).max(build_start);
            steps.push(step(name, w, ready));
        }
        if let Some(link) = link {
            let w = Work { ns: link.duration_ns, start: link.start_unix_ns, end: link.end_unix_ns() };
            let all_done = work.values().map(|w| w.end).max().unwrap_or(build_start);
            steps.push(step("link", &w, all_done));
        }
        let total_ns: u64 = steps.iter().map(|s| s.work_ns).sum();
        for s in &mut steps {
            s.share = if total_ns == 0 { 0.0 } else { s.work_ns as f64 / total_ns as f64 };
        }
        Some(CriticalPath {
            steps,
            total_ns,
            wall_ns: build.end_unix_ns().saturating_sub(build_start),
            cached_packages: graph.keys().any(|p| !work.contains_key(p)),
        })
    }
}

fn step(name: &str, work: &Work, ready: u64) -> Step {
    Step {
        name: name.to_owned(),
        work_ns: work.ns,
        share: 0.0,
        waited_ns: work.start.saturating_sub(ready),
        start_unix_ns: work.start,
        end_unix_ns: work.end,
    }
}

/// The longest chain below each package, memoized.
struct Chains<'a> {
    graph: &'a BTreeMap<&'a str, &'a [String]>,
    work: &'a BTreeMap<&'a str, Work>,
    /// Per package: its chain's work, and the import the chain continues through.
    best: BTreeMap<&'a str, (u64, Option<&'a str>)>,
    /// Per package: when the last package it waited for finished (cached imports pass their own imports through).
    done: BTreeMap<&'a str, u64>,
}

impl<'a> Chains<'a> {
    fn best(&mut self, package: &'a str, visiting: &mut BTreeSet<&'a str>) -> (u64, Option<&'a str>) {
        if let Some(&known) = self.best.get(package) {
            return known;
        }
        // go refuses import cycles; a record that has one anyway must not loop.
        if !visiting.insert(package) {
            return (0, None);
        }
        let mut longest: (u64, Option<&'a str>) = (0, None);
        for import in self.graph.get(package).copied().unwrap_or_default() {
            let (ns, _) = self.best(import, visiting);
            if ns > longest.0 {
                longest = (ns, Some(import.as_str()));
            }
        }
        visiting.remove(package);
        let own = self.work.get(package).map_or(0, |w| w.ns);
        let result = (own + longest.0, longest.1);
        self.best.insert(package, result);
        result
    }

    fn dependencies_done(&mut self, package: &'a str, visiting: &mut BTreeSet<&'a str>) -> u64 {
        if let Some(&known) = self.done.get(package) {
            return known;
        }
        if !visiting.insert(package) {
            return 0;
        }
        let mut latest = 0;
        for import in self.graph.get(package).copied().unwrap_or_default() {
            let end = match self.work.get(import.as_str()) {
                Some(w) => w.end,
                None => self.dependencies_done(import, visiting),
            };
            latest = latest.max(end);
        }
        visiting.remove(package);
        self.done.insert(package, latest);
        latest
    }
}
