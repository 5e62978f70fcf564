//! What if this build ran on N cores: its action graph replayed on N workers the way go's scheduler runs it with
//! `-p N`, on a machine of N cores (or this one's, when it has more).
//!
//! The graph is the build's (`go list -deps`, recorded by `gohook build`): a package can start when the packages it
//! imports are done, a link when every package of its program is. A package's work is its tool runs (compile, asm,
//! cgo…); a package go's cache served does none. Ready work starts in go's order: its action list is a depth-first
//! post-order from the links, and the scheduler takes the ready action earliest in it.
//!
//! A run is not always one core's work: the compiler runs its backend on several threads (go lets each compile use
//! up to min(4, GOMAXPROCS), all of them at `-p 1`), so a compile alone can take less wall time than CPU. Each run is
//! replayed for its time alone keeping its CPU/wall cores busy; when the runs replayed at once ask for more cores than
//! there are, all of them slow down in proportion (processor sharing). A run that ran alone was measured alone. One
//! that shared the machine with others ran slower than it would alone, by an amount its record cannot tell: its time
//! alone is its CPU at the parallelism of the runs of its stage and nearest in CPU that did run alone (small compiles
//! spread over fewer threads than large ones), never longer than measured.
//! Between two runs go does its own work (hashing, cache writes, starting the next tool): the median gap between
//! consecutive runs on one lane of the measured build, added to each run. go's start (loading and planning) and its
//! end after the last run are taken as measured.
//!
//! What the model leaves out: memory bandwidth and caches shared by the cores, turbo clocks that drop when more
//! cores are busy, disk contention, and anything else that makes a run slower or faster beside others beyond the
//! sharing of cores — so it is best between neighbouring core counts, and optimistic far above the measured one.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use serde::Serialize;

use gohook_records::{Stage, ToolRun};

use crate::model::BuildRecords;
use crate::units::format_duration;

/// Adding cores beyond [`WhatIf::enough_cores`] gains less than this share of the wall time.
const ENOUGH: f64 = 0.05;

/// One prediction.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Point {
    pub cores: u32,
    pub wall_ns: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WhatIf {
    /// The predictions asked for (`--cores`).
    pub points: Vec<Point>,
    /// Predictions from 1 core to twice the measured (at least 16), for the page's curve.
    pub curve: Vec<Point>,
    /// The build as it ran: go's `-p`, and its wall time.
    pub measured: Point,
    /// The prediction with a core for every package: no number of cores beats it.
    pub floor_ns: u64,
    /// The longest chain of work through the graph, each run at its time alone: the floor without go's start, end
    /// and own time per run. Below the measured critical path's when runs on it shared the machine.
    pub longest_chain_ns: u64,
    /// The fewest cores within 5% of the floor: more gain less than that.
    pub enough_cores: u32,
    /// go's own time per tool run, from the measured build.
    pub overhead_per_run_ns: u64,
    /// The build's tool runs, and how many of them shared the machine with others (replayed at their time alone).
    pub runs: usize,
    pub runs_shared: usize,
    /// From the build's start to its first run, and from its last run to its end: taken as measured.
    pub startup_ns: u64,
    pub tail_ns: u64,
    /// The build replayed as it ran: at its `-p`, on the cores it had (the machine's, less what other work kept
    /// busy). The model's check against the measurement: within [`TRUSTED`] of it, or flagged.
    pub as_measured: Point,
    /// `(as_measured − measured) / measured`.
    pub off: f64,
    /// Other work kept the machine busy while the build ran ([`gohook_records::BuildLoad::shared`]): its runs are
    /// replayed at their CPU time on one core, and the predictions are for a machine to itself.
    pub machine_shared: Option<MachineShared>,
    /// Whether the build recorded how busy the machine was (`gohook build`, `exec`, `bench`).
    pub load_recorded: bool,
    pub leaves_out: &'static str,
}

/// How much of the machine other work took while the build ran.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MachineShared {
    /// Cores other work kept busy on average.
    pub others_cores: f64,
    /// The cores the build had: the machine's less the others'.
    pub free_cores: f64,
}

/// The replay of the build as it ran is trusted within this share of its measured wall time.
pub const TRUSTED: f64 = 0.15;

const LEAVES_OUT: &str = "memory bandwidth, turbo clocks, disk and cache contention that change with the number of \
                          busy cores";

/// A unit of go's schedule: a package's compile-side runs, or a link.
struct Job {
    /// How long its runs take alone, with the cores they can use.
    alone_ns: f64,
    /// go's own time around its runs.
    overhead_ns: f64,
    /// How many cores it keeps busy meanwhile.
    cores: f64,
    deps: Vec<usize>,
}

impl Job {
    /// How long it holds a worker: its runs and go's time around them.
    fn length(&self) -> f64 {
        if self.alone_ns > 0.0 { self.alone_ns + self.overhead_ns } else { 0.0 }
    }

    /// The cores its runs' `cpu` keeps busy over its length.
    fn cores_busy(&self, cpu: f64) -> f64 {
        if self.length() > 0.0 { (cpu / self.length()).max(0.05) } else { 0.0 }
    }
}

impl WhatIf {
    /// The predictions for `cores`; `None` without the package graph (bare `-toolexec` builds, `gohook exec`) or
    /// without work.
    pub fn of(build: &BuildRecords, cores: &[u32]) -> Option<WhatIf> {
        let runs: Vec<&ToolRun> = build.work().collect();
        let overhead = overhead_per_run(&runs);
        let machine_shared = build
            .load
            .as_ref()
            .filter(|load| load.shared())
            .map(|load| MachineShared { others_cores: load.others_cores(), free_cores: load.free_cores() });
        let alone = match machine_shared {
            Some(_) => TimesAlone::from_cpu(&runs),
            None => TimesAlone::of(&runs),
        };
        let (jobs, order) = jobs(build, &runs, &alone.ns, overhead)?;
        let first = runs.iter().map(|r| r.start_unix_ns).min()?;
        let last = runs.iter().map(|r| r.end_unix_ns()).max()?;
        let startup_ns = first.saturating_sub(build.start_unix_ns());
        let tail_ns = build.end_unix_ns().saturating_sub(last);
        let machine_cores = build.context.as_ref().map_or(1, |c| c.machine.logical_cpus.max(1));
        let predict = |n: u32| {
            let capacity = n.max(machine_cores) as f64;
            Point { cores: n, wall_ns: startup_ns + makespan(&jobs, &order, n, capacity) + tail_ns }
        };
        let measured_cores = build.context.as_ref().map_or(1, |c| c.go.parallelism.max(1));
        let floor_ns = predict(jobs.len().max(1) as u32).wall_ns;
        let top = (2 * measured_cores).max(16);
        let curve: Vec<Point> = (1..=top).map(predict).collect();
        let enough_cores = (1..=jobs.len().max(1) as u32)
            .find(|&n| predict(n).wall_ns as f64 <= floor_ns as f64 * (1.0 + ENOUGH))
            .unwrap_or(1);
        let measured_wall = build.end_unix_ns().saturating_sub(build.start_unix_ns());
        let had = machine_shared.map_or(machine_cores as f64, |shared| shared.free_cores.max(0.1));
        let as_measured = Point {
            cores: measured_cores,
            wall_ns: startup_ns + makespan(&jobs, &order, measured_cores, had) + tail_ns,
        };
        Some(WhatIf {
            points: cores.iter().map(|&n| predict(n.max(1))).collect(),
            curve,
            measured: Point { cores: measured_cores, wall_ns: measured_wall },
            floor_ns,
            longest_chain_ns: longest_chain(&jobs, &order).round() as u64,
            enough_cores,
            overhead_per_run_ns: overhead,
            runs: runs.len(),
            runs_shared: alone.shared,
            startup_ns,
            tail_ns,
            off: (as_measured.wall_ns as f64 - measured_wall as f64) / measured_wall.max(1) as f64,
            as_measured,
            machine_shared,
            load_recorded: build.load.is_some(),
            leaves_out: LEAVES_OUT,
        })
    }
}

impl WhatIf {
    /// What the predictions rest on, a line each: the replay of the build as it ran against the measurement, a
    /// warning when they are further apart than [`TRUSTED`], and how runs were replayed.
    pub fn caveats(&self) -> Vec<String> {
        let had = match self.machine_shared {
            Some(shared) => format!("the {:.2} cores it had", shared.free_cores),
            None => "this machine's cores".to_owned(),
        };
        let mut lines = vec![format!(
            "check: replayed as it ran (-p {} on {had}) {} against the {} measured ({:+.0}%)",
            self.as_measured.cores,
            format_duration(self.as_measured.wall_ns),
            format_duration(self.measured.wall_ns),
            self.off * 100.0
        )];
        if self.off.abs() > TRUSTED {
            let why = if self.load_recorded {
                "the run times do not explain the build's wall time"
            } else {
                "the machine may have been busy with other work, which this build did not record (gohook build, exec \
                 and bench do)"
            };
            lines.push(format!(
                "warning: that is more than {:.0}% off the measurement: {why}; the predictions cannot be trusted",
                TRUSTED * 100.0
            ));
        }
        match self.machine_shared {
            Some(shared) => lines.push(format!(
                "the machine was shared: other work kept {:.2} cores busy on average while the build ran; no run's \
                 time alone can be read from that, so each is replayed at its CPU time on one core: the predictions \
                 are for a machine to itself, and err long for compiles that spread over several cores",
                shared.others_cores
            )),
            None if self.runs_shared > 0 => {
                // A build at -p N on N cores leaves few runs alone, and none of its largest compiles: their time
                // alone is then read from smaller ones, which spread over fewer threads.
                let few = self.runs_shared * 10 > self.runs * 9;
                lines.push(format!(
                    "({} of the {} runs shared the machine with others of the build: each is replayed at the \
                     parallelism runs its size had alone{})",
                    self.runs_shared,
                    self.runs,
                    if few { "; with so few alone, fewer cores than measured are predicted long" } else { "" }
                ));
            }
            None => {}
        }
        lines
    }
}

/// go's own time per tool run: the median gap between a run's end and the next run's start on one lane (a lane
/// being one of the `-p` slots the runs were laid out on).
fn overhead_per_run(runs: &[&ToolRun]) -> u64 {
    let lanes = crate::trace::lanes(runs.iter().copied());
    let mut last_end: BTreeMap<usize, u64> = BTreeMap::new();
    let mut gaps = Vec::new();
    for (run, lane) in runs.iter().zip(lanes) {
        if let Some(end) = last_end.insert(lane, run.end_unix_ns()) {
            gaps.push(run.start_unix_ns.saturating_sub(end));
        }
    }
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied().unwrap_or(0)
}

/// The build's jobs (packages with their measured work and imports, then links), and go's order of them.
fn jobs(build: &BuildRecords, runs: &[&ToolRun], alone: &[f64], overhead: u64) -> Option<(Vec<Job>, Vec<usize>)> {
    let packages = build.packages.as_ref()?;
    let index: BTreeMap<&str, usize> = packages.iter().enumerate().map(|(i, p)| (p.package.as_str(), i)).collect();
    let mut jobs: Vec<Job> = packages
        .iter()
        .map(|p| Job {
            alone_ns: 0.0,
            overhead_ns: 0.0,
            cores: 0.0,
            deps: p.imports.iter().filter_map(|i| index.get(i.as_str()).copied()).collect(),
        })
        .collect();
    // Per job: its CPU and its time alone, summed over its runs; the cores it keeps busy are their ratio.
    let mut cpu = vec![0.0; jobs.len()];
    let mut links = Vec::new();
    for (run, &alone_ns) in runs.iter().zip(alone) {
        let run_cpu = (run.user_ns + run.sys_ns) as f64;
        match (run.stage, index.get(run.package.as_str())) {
            (Stage::Link, Some(&main)) => links.push((main, alone_ns, run_cpu)),
            (Stage::Link, None) => {}
            (_, Some(&i)) => {
                jobs[i].alone_ns += alone_ns;
                jobs[i].overhead_ns += overhead as f64;
                cpu[i] += run_cpu;
            }
            (_, None) => {}
        }
    }
    for (job, cpu) in jobs.iter_mut().zip(cpu) {
        job.cores = job.cores_busy(cpu);
    }
    // A link waits for every package of its program: its main package and all that imports, transitively.
    let mut roots = Vec::new();
    for (main, alone_ns, cpu) in links {
        let mut program = BTreeSet::new();
        let mut stack = vec![main];
        while let Some(i) = stack.pop() {
            if program.insert(i) {
                stack.extend(&jobs[i].deps);
            }
        }
        roots.push(jobs.len());
        let mut link = Job { alone_ns, overhead_ns: overhead as f64, cores: 0.0, deps: program.into_iter().collect() };
        link.cores = link.cores_busy(cpu);
        jobs.push(link);
    }
    // go's action list: depth-first post-order from the links (then any package no link reached), imports in path
    // order; the scheduler takes the ready action that comes first in it.
    let mut order = vec![usize::MAX; jobs.len()];
    let mut next = 0;
    let mut visit_order: Vec<usize> = roots;
    let mut by_path: Vec<usize> = (0..packages.len()).collect();
    by_path.sort_by(|&a, &b| packages[a].package.cmp(&packages[b].package));
    visit_order.extend(by_path);
    for root in visit_order {
        let mut stack = vec![(root, false)];
        while let Some((job, expanded)) = stack.pop() {
            if order[job] != usize::MAX {
                continue;
            }
            if expanded {
                order[job] = next;
                next += 1;
                continue;
            }
            stack.push((job, true));
            let mut deps: Vec<usize> = jobs[job].deps.iter().copied().filter(|&d| d < packages.len()).collect();
            deps.sort_by(|&a, &b| packages[b].package.cmp(&packages[a].package));
            stack.extend(deps.into_iter().filter(|&d| order[d] == usize::MAX).map(|d| (d, false)));
        }
    }
    (!jobs.is_empty()).then_some((jobs, order))
}

/// The longest chain of the jobs' runs alone through the graph (go's own time left out).
fn longest_chain(jobs: &[Job], order: &[usize]) -> f64 {
    // go's order is a post-order: every job comes after what it waits for.
    let mut by_order: Vec<usize> = (0..jobs.len()).collect();
    by_order.sort_by_key(|&j| order[j]);
    let mut ends = vec![0.0f64; jobs.len()];
    for j in by_order {
        let ready = jobs[j].deps.iter().map(|&d| ends[d]).fold(0.0, f64::max);
        ends[j] = ready + jobs[j].alone_ns;
    }
    ends.into_iter().fold(0.0, f64::max)
}

/// A run whose time beside others was under this share of its own ran alone.
const ALONE: f64 = 0.1;

/// How many runs of its stage that ran alone a shared run's parallelism is read from.
const NEIGHBOURS: usize = 5;

/// Each run's wall time had it run alone: as measured for a run that did; for one that shared the machine, its CPU
/// at the median parallelism (CPU / wall) of the [`NEIGHBOURS`] runs of its stage nearest to it in CPU (on a log
/// scale) that ran alone, at most as measured. Without runs of its stage alone, as measured.
struct TimesAlone {
    /// Per run, in the order given.
    ns: Vec<f64>,
    /// How many runs shared the machine.
    shared: usize,
}

impl TimesAlone {
    /// On a machine other work shared, no run's parallelism alone can be read from it (a run that had the build to
    /// itself still waited for cores the others held): each run needs at least its CPU time on one core, never more
    /// than it took.
    fn from_cpu(runs: &[&ToolRun]) -> TimesAlone {
        let ns = runs
            .iter()
            .map(|run| {
                let cpu = (run.user_ns + run.sys_ns) as f64;
                if cpu > 0.0 { cpu.min(run.duration_ns as f64) } else { run.duration_ns as f64 }
            })
            .collect();
        TimesAlone { ns, shared: runs.len() }
    }

    fn of(runs: &[&ToolRun]) -> TimesAlone {
        let beside = time_beside_others(runs);
        let cpu = |run: &ToolRun| (run.user_ns + run.sys_ns) as f64;
        let alone = |i: usize| (beside[i] as f64) < ALONE * runs[i].duration_ns as f64;
        // Per stage: (ln CPU, parallelism) of the runs that ran alone.
        let mut measured_alone: BTreeMap<Stage, Vec<(f64, f64)>> = BTreeMap::new();
        for (i, run) in runs.iter().enumerate() {
            if alone(i) && run.duration_ns > 0 && cpu(run) > 0.0 {
                measured_alone.entry(run.stage).or_default().push((cpu(run).ln(), cpu(run) / run.duration_ns as f64));
            }
        }
        let ns = runs
            .iter()
            .enumerate()
            .map(|(i, run)| {
                let wall = run.duration_ns as f64;
                let peers = measured_alone.get(&run.stage).filter(|_| !alone(i) && cpu(run) > 0.0);
                let Some(peers) = peers else { return wall };
                let size = cpu(run).ln();
                let mut nearest: Vec<&(f64, f64)> = peers.iter().collect();
                nearest.sort_by(|a, b| (a.0 - size).abs().total_cmp(&(b.0 - size).abs()));
                let mut parallelism: Vec<f64> = nearest.iter().take(NEIGHBOURS).map(|p| p.1).collect();
                parallelism.sort_by(f64::total_cmp);
                (cpu(run) / parallelism[parallelism.len() / 2]).min(wall)
            })
            .collect();
        TimesAlone { ns, shared: (0..runs.len()).filter(|&i| !alone(i)).count() }
    }
}

/// Per run: how long other runs ran beside it, summed over them (two others for a second count two seconds).
fn time_beside_others(runs: &[&ToolRun]) -> Vec<u64> {
    // Sweep the runs' starts and ends in time order, crediting each running run with the others' time.
    let mut edges: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * runs.len());
    for (i, run) in runs.iter().enumerate() {
        edges.push((run.start_unix_ns, true, i));
        edges.push((run.end_unix_ns(), false, i));
    }
    // Ends before starts at the same instant: a run that starts as another ends did not run beside it.
    edges.sort_by_key(|&(at, starts, i)| (at, starts, i));
    let mut beside = vec![0u64; runs.len()];
    let mut running: Vec<usize> = Vec::new();
    let mut last = 0u64;
    for (at, starts, i) in edges {
        let others = running.len().saturating_sub(1) as u64;
        for &r in &running {
            beside[r] += others * (at - last);
        }
        last = at;
        if starts {
            running.push(i);
        } else if let Some(at) = running.iter().position(|&r| r == i) {
            running.swap_remove(at);
        }
    }
    beside
}

/// How long `jobs` take on `workers` workers sharing `capacity` cores, each worker taking the ready job first in
/// `order`. Running jobs progress at the speed they had alone while their cores add up to at most the capacity, all
/// slower in proportion beyond it; jobs without work pass through at once.
fn makespan(jobs: &[Job], order: &[usize], workers: u32, capacity: f64) -> u64 {
    let mut pending: Vec<usize> = jobs.iter().map(|j| j.deps.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); jobs.len()];
    for (i, job) in jobs.iter().enumerate() {
        for &d in &job.deps {
            dependents[d].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<(usize, usize)>> =
        (0..jobs.len()).filter(|&i| pending[i] == 0).map(|i| Reverse((order[i], i))).collect();
    // Running jobs and the time alone each still needs.
    let mut running: Vec<(usize, f64)> = Vec::new();
    let mut now = 0.0f64;
    let finish = |job: usize, pending: &mut Vec<usize>, ready: &mut BinaryHeap<Reverse<(usize, usize)>>| {
        for &next in &dependents[job] {
            pending[next] -= 1;
            if pending[next] == 0 {
                ready.push(Reverse((order[next], next)));
            }
        }
    };
    loop {
        while let Some(Reverse((_, job))) = ready.peek().copied() {
            if jobs[job].length() > 0.0 && running.len() >= workers as usize {
                break;
            }
            ready.pop();
            if jobs[job].length() > 0.0 {
                running.push((job, jobs[job].length()));
            } else {
                finish(job, &mut pending, &mut ready);
            }
        }
        if running.is_empty() {
            return now.round() as u64;
        }
        let demand: f64 = running.iter().map(|(job, _)| jobs[*job].cores).sum();
        let speed = if demand > capacity { capacity / demand } else { 1.0 };
        let (first, left) =
            running.iter().enumerate().map(|(i, (_, left))| (i, *left)).min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
        now += left / speed;
        for (_, remaining) in running.iter_mut() {
            *remaining -= left;
        }
        let (done, _) = running.swap_remove(first);
        finish(done, &mut pending, &mut ready);
        // Others that ended at the same moment.
        while let Some(i) = running.iter().position(|(_, left)| *left <= 1e-6) {
            let (done, _) = running.swap_remove(i);
            finish(done, &mut pending, &mut ready);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(alone_ns: f64, cores: f64, deps: &[usize]) -> Job {
        Job { alone_ns, overhead_ns: 0.0, cores, deps: deps.to_vec() }
    }

    #[test]
    fn workers_share_independent_work_and_wait_for_dependencies() {
        // Four independent single-threaded packages of 10, then a link of 5 after all of them; cores to spare.
        let jobs = vec![
            job(10.0, 1.0, &[]),
            job(10.0, 1.0, &[]),
            job(10.0, 1.0, &[]),
            job(10.0, 1.0, &[]),
            job(5.0, 1.0, &[0, 1, 2, 3]),
        ];
        let order = vec![0, 1, 2, 3, 4];
        assert_eq!(makespan(&jobs, &order, 1, 8.0), 45);
        assert_eq!(makespan(&jobs, &order, 2, 8.0), 25);
        assert_eq!(makespan(&jobs, &order, 4, 8.0), 15);
        assert_eq!(makespan(&jobs, &order, 8, 8.0), 15, "the chain is the floor");
        // A chain passes through a package without work at once.
        let chain = vec![job(10.0, 1.0, &[]), job(0.0, 0.0, &[0]), job(10.0, 1.0, &[1])];
        assert_eq!(makespan(&chain, &[0, 1, 2], 4, 4.0), 20);
    }

    #[test]
    fn runs_that_want_more_cores_than_there_are_share_them() {
        // Two compiles that each keep 1.5 cores busy for 10 alone: on 2 cores together they share, 15 each.
        let jobs = vec![job(10.0, 1.5, &[]), job(10.0, 1.5, &[])];
        assert_eq!(makespan(&jobs, &[0, 1], 2, 2.0), 15);
        assert_eq!(makespan(&jobs, &[0, 1], 1, 2.0), 20);
        assert_eq!(makespan(&jobs, &[0, 1], 2, 4.0), 10);
    }

    #[test]
    fn a_run_that_shared_the_machine_is_replayed_at_the_parallelism_of_runs_its_size_alone() {
        use crate::summary::tests::run;
        let compile =
            |start: u64, wall: u64, cpu: u64| ToolRun { user_ns: cpu, ..run(Stage::Compile, "p", start, wall) };
        // One after another, alone: four small compiles on 1.2 cores, three large ones on 1.6.
        let mut runs: Vec<ToolRun> = (0..4).map(|i| compile(i * 100, 100, 120)).collect();
        runs.extend((0..3).map(|i| compile(400 + i * 1_000, 1_000, 1_600)));
        // Two large ones side by side, each on 1 core: alone they would have run on 1.6, like the large ones did
        // (not on the 1.2 of the whole set's median), in 2,000 rather than 3,200.
        runs.extend([compile(4_000, 3_200, 3_200), compile(4_000, 3_200, 3_200)]);
        // A small one overlapping them for under a tenth of its time: alone.
        runs.push(compile(7_198, 100, 120));
        let runs: Vec<&ToolRun> = runs.iter().collect();
        let beside = time_beside_others(&runs);
        assert_eq!(beside[7..], [3_202, 3_202, 4]);
        assert!(beside[..7].iter().all(|&b| b == 0));
        let alone = TimesAlone::of(&runs);
        assert_eq!(alone.ns[7..], [2_000.0, 2_000.0, 100.0]);
        assert_eq!(alone.shared, 2);
        // Never slower alone than measured, whatever its peers say.
        let slow_peer = [compile(0, 1_000, 500), compile(2_000, 1_000, 1_000), compile(2_000, 1_000, 1_000)];
        let slow_peer: Vec<&ToolRun> = slow_peer.iter().collect();
        assert_eq!(TimesAlone::of(&slow_peer).ns, vec![1_000.0, 1_000.0, 1_000.0]);
    }

    #[test]
    fn the_ready_job_first_in_go_order_starts_first() {
        // Two ready packages, one worker: the long one first makes the dependent link wait less.
        let jobs = vec![job(1.0, 1.0, &[]), job(10.0, 1.0, &[]), job(1.0, 1.0, &[1])];
        assert_eq!(makespan(&jobs, &[1, 0, 2], 2, 2.0), 11);
        assert_eq!(makespan(&jobs, &[1, 0, 2], 1, 2.0), 12);
    }
}
