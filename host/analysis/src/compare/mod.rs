//! `gohook compare OLD NEW`: is one set of builds faster than another, and is the difference real.
//!
//! Each side is a run name, a build id or an exported file; each build on a side gives one sample per row (the whole
//! build's wall time, each stage's summed run time, CPU and peak RSS, and the packages that take longest). Rows are
//! compared with `gohook-stats` (median ± 95% CI, Mann-Whitney U, benchstat's verdict words), and the circumstances
//! of the two sides (machine, go version, flags, settings) are compared too, so a "faster" that comes from another
//! machine says so.

mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use gohook_records::{BuildContext, Difference, Stage, Store};
use gohook_stats::{Comparison, Verdict, geomean};

use crate::Error;
use crate::export;
use crate::model::BuildRecords;
use crate::sample::{Dropped, samples};
use crate::units::{count, format_bytes, format_duration};

/// How many packages get their own rows: the slowest by median on either side.
const PACKAGE_ROWS: usize = 5;

/// One side of a comparison: the builds a name stands for that are samples ([`crate::sample`]).
pub struct Side {
    /// What the user typed (run name, build id or file).
    pub name: String,
    /// `run`, `build` or `file`.
    pub kind: &'static str,
    pub builds: Vec<BuildRecords>,
    /// The builds of the name that are not samples: failed, or built something else.
    pub dropped: Vec<Dropped>,
}

impl Side {
    /// The side `name` stands for: `builds` less those that are not samples.
    pub fn new(name: &str, kind: &'static str, builds: Vec<BuildRecords>) -> Side {
        let (builds, dropped) = samples(builds);
        Side { name: name.to_owned(), kind, builds, dropped }
    }

    /// An exported file if `name` is one, else a build id (or unique prefix), else a run name.
    pub fn resolve(store: &Store, name: &str) -> Result<Side, Error> {
        let path = Path::new(name);
        if path.is_file() {
            return Ok(Side::new(name, "file", export::read(path)?));
        }
        if let Ok(file) = store.find(name) {
            let build = BuildRecords::load(store, &file).map_err(|source| Error::Read { path: file.path, source })?;
            return Ok(Side::new(name, "build", vec![build]));
        }
        let builds = BuildRecords::of_run(store, name)?;
        if builds.is_empty() {
            return Err(Error::NoSuchSide { name: name.to_owned(), root: store.root().to_owned() });
        }
        Ok(Side::new(name, "run", builds))
    }

    fn contexts(&self) -> Vec<&BuildContext> {
        self.builds.iter().filter_map(|b| b.context.as_ref()).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Wall,
    Cpu,
    PeakRss,
}

impl Metric {
    fn title(self) -> &'static str {
        match self {
            Metric::Wall => "wall time",
            Metric::Cpu => "CPU time",
            Metric::PeakRss => "peak RSS",
        }
    }

    /// How the rows of this metric are made, said once under its table.
    fn meaning(self) -> &'static str {
        match self {
            Metric::Wall => "build: go's start to end; a stage or package: the sum of its tool runs' wall times",
            Metric::Cpu => "user + system CPU of the tools, summed",
            Metric::PeakRss => "the largest tool's peak resident memory",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Metric::Wall => "wall",
            Metric::Cpu => "cpu",
            Metric::PeakRss => "peak-rss",
        }
    }

    pub fn format(self, value: f64) -> String {
        match self {
            Metric::Wall | Metric::Cpu => format_duration(value.max(0.0) as u64),
            Metric::PeakRss => format_bytes(value.max(0.0) as u64),
        }
    }

    /// Time rows decide the exit code; memory is shown, not gated.
    fn gates(self) -> bool {
        matches!(self, Metric::Wall | Metric::Cpu)
    }
}

/// What a row measures: the whole build, one stage (its runs summed), or one package (its runs summed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Subject {
    Build,
    Stage(Stage),
    Package(String),
}

impl Subject {
    pub fn label(&self) -> String {
        match self {
            Subject::Build => "build".to_owned(),
            Subject::Stage(stage) => stage.name().to_owned(),
            Subject::Package(package) => format!("pkg {package}"),
        }
    }
}

/// One build's measurements, by (metric, subject).
pub fn measure(build: &BuildRecords) -> BTreeMap<(Metric, Subject), f64> {
    let mut values: BTreeMap<(Metric, Subject), f64> = BTreeMap::new();
    let (whole, stages) = build.totals();
    let subjects =
        std::iter::once((Subject::Build, whole)).chain(stages.into_iter().map(|(s, t)| (Subject::Stage(s), t)));
    for (subject, totals) in subjects {
        values.insert((Metric::Wall, subject.clone()), totals.wall_ns as f64);
        values.insert((Metric::Cpu, subject.clone()), totals.cpu_ns as f64);
        values.insert((Metric::PeakRss, subject), totals.peak_rss_bytes as f64);
    }
    // A package's compile and asm (its link is the build's).
    for run in build.work().filter(|r| !r.package.is_empty() && r.stage != Stage::Link) {
        *values.entry((Metric::Wall, Subject::Package(run.package.clone()))).or_default() += run.duration_ns as f64;
    }
    values
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub metric: Metric,
    pub subject: Subject,
    #[serde(flatten)]
    pub comparison: Comparison,
    /// The change of the medians as a share of OLD's whole build — for the build row its own change, for a stage
    /// the build's summed run times (wall) or CPU: what `--threshold` weighs, so that a tiny stage's large relative
    /// noise does not fail a build.
    pub cost_of_build_percent: Option<f64>,
    /// A significant increase that costs more than the threshold of the build, in a time row: what makes the exit
    /// code 1.
    pub regression: bool,
}

/// One build's stage rows of `metric` added up.
fn summed_work(values: &BTreeMap<(Metric, Subject), f64>, metric: Metric) -> f64 {
    values.iter().filter(|((m, s), _)| *m == metric && matches!(s, Subject::Stage(_))).map(|(_, v)| v).sum()
}

/// (new − old) of the medians as a percentage of `build` (OLD's median of the whole build, same metric).
fn build_share(comparison: &Comparison, build: f64) -> Option<f64> {
    (build > 0.0 && comparison.old.n > 0 && comparison.new.n > 0)
        .then(|| (comparison.new.median - comparison.old.median) / build * 100.0)
}

#[derive(Debug, Clone, Serialize)]
pub struct GeomeanRow {
    pub metric: Metric,
    pub old: Option<f64>,
    pub new: Option<f64>,
    pub delta_percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SideInfo {
    pub name: String,
    pub kind: &'static str,
    /// The samples: builds that did what was asked.
    pub builds: usize,
    /// Builds of the side left out of the comparison, and why.
    pub dropped: Vec<Dropped>,
    /// The first build's circumstances (what `differences` compares).
    pub context: Option<BuildContext>,
    /// True when the side's own builds ran under different circumstances (e.g. two machines in one run).
    pub mixed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub old: SideInfo,
    pub new: SideInfo,
    pub alpha: f64,
    pub threshold_percent: Option<f64>,
    /// What differs between the two sides' machines, go and settings; empty when they ran alike.
    pub differences: Vec<Difference>,
    pub rows: Vec<Row>,
    pub geomean: Vec<GeomeanRow>,
    /// The rows that make the exit code 1, as `metric subject`.
    pub regressions: Vec<String>,
    /// What the gate decided, and so the exit code.
    pub decision: Decision,
    pub exit_code: u8,
    /// How much the whole build's wall time varies on each side, and what that lets a gate see.
    pub noise: Noise,
}

/// Whether the gate can see what it is asked to: each side's run-to-run variation, and the smallest slowdown that
/// many samples detect. Shared CI runners vary by a few percent; a threshold below what the samples can detect
/// passes most real slowdowns of that size, and fails clean builds by chance as often as alpha says.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Noise {
    /// Coefficient of variation of each side's whole-build wall time, in percent (`None` under two builds).
    pub old_cv_percent: Option<f64>,
    pub new_cv_percent: Option<f64>,
    /// The smallest slowdown of the whole build these samples detect at alpha with 80% power, in percent.
    pub detectable_percent: Option<f64>,
    /// When `--threshold` is below `detectable_percent`: the builds per side that would detect the threshold.
    pub builds_needed: Option<usize>,
    /// How busy other work kept each side's machine while its builds ran.
    pub old_load: SideLoad,
    pub new_load: SideLoad,
}

/// How busy other work kept a side's machine while its builds ran (builds that recorded it).
#[derive(Debug, Clone, Serialize, Default)]
pub struct SideLoad {
    /// Builds that recorded the machine's load, and how many of them shared it ([`gohook_records::BuildLoad::shared`]).
    pub recorded: usize,
    pub shared: usize,
    /// The median of the cores other work kept busy, over the builds that recorded it.
    pub median_others_cores: Option<f64>,
}

impl SideLoad {
    fn of(builds: &[BuildRecords]) -> SideLoad {
        let loads: Vec<_> = builds.iter().filter_map(|b| b.load.as_ref()).collect();
        let others: Vec<f64> = loads.iter().map(|l| l.others_cores()).collect();
        SideLoad {
            recorded: loads.len(),
            shared: loads.iter().filter(|l| l.shared()).count(),
            median_others_cores: (!others.is_empty()).then(|| gohook_stats::Summary::of(&others).median),
        }
    }

    /// `OLD: 2 of 5 builds shared the machine …`, when any did.
    fn describe(&self, side: &str) -> Option<String> {
        (self.shared > 0).then(|| {
            format!(
                "{side}: {} of {} shared the machine with other work (a median {:.2} cores busy with it): their wall \
                 times include waiting for it, their CPU times do not",
                self.shared,
                count(self.recorded, "build", "builds"),
                self.median_others_cores.unwrap_or(0.0)
            )
        })
    }
}

impl Noise {
    fn of(
        (old, new): (&[f64], &[f64]),
        loads: (SideLoad, SideLoad),
        alpha: f64,
        threshold_percent: Option<f64>,
    ) -> Noise {
        let (old_cv, new_cv) =
            (gohook_stats::coefficient_of_variation(old), gohook_stats::coefficient_of_variation(new));
        let detectable = old_cv
            .zip(new_cv)
            .and_then(|(a, b)| gohook_stats::detectable_change(a, old.len(), b, new.len(), alpha))
            .map(|change| change * 100.0);
        let sees_threshold = detectable.zip(threshold_percent).is_some_and(|(seen, limit)| limit >= seen);
        let builds_needed = threshold_percent.filter(|_| !sees_threshold).and_then(|limit| {
            let cv = old_cv.into_iter().chain(new_cv).reduce(f64::max)?;
            Some(gohook_stats::samples_to_detect(cv, limit / 100.0, alpha))
        });
        Noise {
            old_cv_percent: old_cv.map(|cv| cv * 100.0),
            new_cv_percent: new_cv.map(|cv| cv * 100.0),
            detectable_percent: detectable,
            builds_needed,
            old_load: loads.0,
            new_load: loads.1,
        }
    }

    /// One line on the noise, and one more when the threshold is below what the samples can see.
    fn describe(&self, old: &SideInfo, new: &SideInfo, alpha: f64, threshold: Option<f64>) -> Vec<String> {
        let cv = |v: Option<f64>| v.map_or("unknown".to_owned(), |v| format!("{v:.1}%"));
        let reachable = gohook_stats::can_reach(old.builds, new.builds, alpha);
        let seen = match self.detectable_percent {
            Some(d) => format!("; these samples detect a slowdown of {d:.1}% or more (alpha {alpha}, power 80%)"),
            None if !reachable => format!(
                "; these samples cannot detect any slowdown: {} against {} never reach alpha {alpha}",
                count(old.builds, "build", "builds"),
                new.builds
            ),
            None => String::new(),
        };
        let mut lines = vec![format!(
            "noise: the build's wall time varies by {} on OLD ({}) and {} on NEW ({}){seen}",
            cv(self.old_cv_percent),
            count(old.builds, "build", "builds"),
            cv(self.new_cv_percent),
            count(new.builds, "build", "builds"),
        )];
        lines.extend(self.old_load.describe("OLD"));
        lines.extend(self.new_load.describe("NEW"));
        if let (Some(needed), Some(limit)) = (self.builds_needed, threshold) {
            let below = match self.detectable_percent {
                Some(seen) => format!("is below the {seen:.1}% these samples can detect"),
                None => "cannot be seen with these samples".to_owned(),
            };
            lines.push(format!(
                "warning: --threshold {limit}% {below}: a real {limit}% slowdown would mostly pass unseen; {needed} \
                 builds per side would detect it"
            ));
        }
        lines
    }
}

/// What a comparison decides: the first line of its report and its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Decision {
    /// A significant slowdown above the threshold: exit 1.
    Regression,
    /// No significant slowdown above the threshold, with samples that could have shown one: exit 0.
    Pass,
    /// The samples cannot show a difference at alpha whatever they hold (too few builds, or none on a side): exit
    /// 2 when a threshold asked for a decision.
    Undecided { per_side: usize },
    /// Nothing was gated (no `--threshold`): exit 0.
    NotGated,
}

impl Decision {
    fn exit_code(self, threshold: Option<f64>) -> u8 {
        match self {
            Decision::Regression => 1,
            Decision::Undecided { .. } if threshold.is_some() => 2,
            _ => 0,
        }
    }

    /// The pull-request comment's mark: ✅ only where ❌ could have been.
    fn mark(self) -> &'static str {
        match self {
            Decision::Regression => "❌",
            Decision::Pass => "✅",
            Decision::Undecided { .. } => "❔",
            Decision::NotGated => "ℹ️",
        }
    }
}

pub struct Options {
    pub alpha: f64,
    /// In percent.
    pub threshold: Option<f64>,
}

impl Report {
    pub fn of(old: &Side, new: &Side, options: &Options) -> Report {
        let old_values: Vec<_> = old.builds.iter().map(measure).collect();
        let new_values: Vec<_> = new.builds.iter().map(measure).collect();
        let samples = |sides: &[BTreeMap<(Metric, Subject), f64>], key: &(Metric, Subject)| -> Vec<f64> {
            sides.iter().filter_map(|values| values.get(key).copied()).collect()
        };

        let mut keys: BTreeSet<(Metric, Subject)> = BTreeSet::new();
        for values in old_values.iter().chain(&new_values) {
            keys.extend(values.keys().filter(|(_, s)| !matches!(s, Subject::Package(_))).cloned());
        }
        keys.extend(slowest_packages(&old_values, &new_values));

        let mut rows = Vec::new();
        for key in keys {
            let comparison = Comparison::of(&samples(&old_values, &key), &samples(&new_values, &key), options.alpha);
            let (metric, subject) = key;
            // What a slowdown is weighed against, on the old side: for the build row its own wall or CPU; for a
            // stage, like with like: the build's summed run times (stages overlap, so their sums exceed the wall).
            let whole = match (&subject, metric) {
                (Subject::Build, _) | (_, Metric::Cpu) => samples(&old_values, &(metric, Subject::Build)),
                _ => old_values.iter().map(|values| summed_work(values, metric)).collect(),
            };
            let cost = build_share(&comparison, gohook_stats::Summary::of(&whole).median);
            let regression = metric.gates()
                && !matches!(subject, Subject::Package(_))
                && comparison.verdict == Verdict::Larger
                && cost.zip(options.threshold).is_some_and(|(cost, limit)| cost > limit);
            rows.push(Row { metric, subject, comparison, cost_of_build_percent: cost, regression });
        }
        let geomean = [Metric::Wall, Metric::Cpu, Metric::PeakRss]
            .into_iter()
            .map(|metric| {
                let medians = |new: bool| -> Vec<f64> {
                    rows.iter()
                        .filter(|r| r.metric == metric && !matches!(r.subject, Subject::Package(_)))
                        .filter(|r| r.comparison.old.n > 0 && r.comparison.new.n > 0)
                        .map(|r| if new { r.comparison.new.median } else { r.comparison.old.median })
                        .collect()
                };
                let (old, new) = (geomean(&medians(false)), geomean(&medians(true)));
                let delta_percent = old.zip(new).map(|(o, n)| (n - o) / o * 100.0);
                GeomeanRow { metric, old, new, delta_percent }
            })
            .collect();
        let regressions: Vec<String> =
            rows.iter().filter(|r| r.regression).map(|r| format!("{} {}", r.metric.key(), r.subject.label())).collect();
        let build_row = rows.iter().find(|r| r.metric == Metric::Wall && r.subject == Subject::Build);
        let decision = match build_row.map(|r| r.comparison.verdict) {
            _ if !regressions.is_empty() => Decision::Regression,
            Some(Verdict::NeedSamples { per_side }) => Decision::Undecided { per_side },
            None => Decision::Undecided { per_side: gohook_stats::samples_needed(options.alpha) },
            Some(_) if options.threshold.is_some() => Decision::Pass,
            Some(_) => Decision::NotGated,
        };
        let old_context = old.contexts().first().map(|c| (*c).clone());
        let new_context = new.contexts().first().map(|c| (*c).clone());
        let differences = match (&old_context, &new_context) {
            (Some(a), Some(b)) => a.differences(b),
            _ => Vec::new(),
        };
        let build_wall = (Metric::Wall, Subject::Build);
        let noise = Noise::of(
            (&samples(&old_values, &build_wall), &samples(&new_values, &build_wall)),
            (SideLoad::of(&old.builds), SideLoad::of(&new.builds)),
            options.alpha,
            options.threshold,
        );
        Report {
            noise,
            old: side_info(old, old_context),
            new: side_info(new, new_context),
            alpha: options.alpha,
            threshold_percent: options.threshold,
            differences,
            exit_code: decision.exit_code(options.threshold),
            decision,
            regressions,
            rows,
            geomean,
        }
    }
}

fn side_info(side: &Side, context: Option<BuildContext>) -> SideInfo {
    let contexts = side.contexts();
    let mixed = contexts.windows(2).any(|pair| !pair[0].differences(pair[1]).is_empty());
    SideInfo {
        name: side.name.clone(),
        kind: side.kind,
        builds: side.builds.len(),
        dropped: side.dropped.clone(),
        context,
        mixed,
    }
}

/// The packages whose median wall time is among the [`PACKAGE_ROWS`] largest on either side.
fn slowest_packages(
    old: &[BTreeMap<(Metric, Subject), f64>],
    new: &[BTreeMap<(Metric, Subject), f64>],
) -> BTreeSet<(Metric, Subject)> {
    let mut chosen = BTreeSet::new();
    for side in [old, new] {
        let mut by_package: BTreeMap<&Subject, Vec<f64>> = BTreeMap::new();
        for values in side {
            for ((metric, subject), value) in values {
                if *metric == Metric::Wall && matches!(subject, Subject::Package(_)) {
                    by_package.entry(subject).or_default().push(*value);
                }
            }
        }
        let mut medians: Vec<(f64, &Subject)> =
            by_package.into_iter().map(|(s, v)| (gohook_stats::Summary::of(&v).median, s)).collect();
        medians.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        chosen.extend(medians.into_iter().take(PACKAGE_ROWS).map(|(_, s)| (Metric::Wall, s.clone())));
    }
    chosen
}
