//! Statistics for "is the difference real": what benchstat (golang.org/x/perf) does for Go benchmarks, for builds.
//!
//! Each side of a comparison is a handful of measurements of one thing (a stage's time over N builds). A side is
//! summarized by its median and a distribution-free confidence interval of the median (order statistics, from the
//! binomial distribution; no normality assumed). Two sides are compared with the two-sided Mann-Whitney U test: a
//! difference counts only when its p-value is below alpha, and when the sample sizes cannot reach alpha at all
//! (2 against 2 never can: the smallest two-sided p is 1/3) the answer is "need more samples", not a guess.
//!
//! The p-value is exact for the sizes builds come in (up to [`EXACT_UP_TO`] builds in all): the rank sum's own
//! distribution, ties included (conditional on them, as benchstat's exact test), counted out rather than
//! approximated; above that, the normal approximation with tie and continuity corrections from `statrs` (whose
//! exact method returns wrong values: 1.0 for two fully separated samples of five, where the answer is 2/252).
//!
//! What a comparison of this many builds can detect is simulated for those very sizes: the smallest slowdown the
//! exact test finds in [`POWER`] of [`SIMULATIONS`] seeded trials of normally varying builds. The usual formula
//! (normal approximation, Mann-Whitney's 3/π efficiency) promises too much for a few builds a side and something
//! for two, where nothing can be seen.

use rand::{RngExt, SeedableRng};
use serde::Serialize;
use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Normal};
use statrs::stats_tests::Alternative;
use statrs::stats_tests::mannwhitneyu::{MannWhitneyUMethod, mannwhitneyu};

/// benchstat's defaults.
pub const DEFAULT_ALPHA: f64 = 0.05;
pub const CONFIDENCE: f64 = 0.95;

/// One side's measurements, summarized.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    /// The confidence interval of the median; `None` when there are too few samples for [`CONFIDENCE`].
    pub ci: Option<(f64, f64)>,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        Summary { n: sorted.len(), median: median_of_sorted(&sorted), ci: median_ci(&sorted, CONFIDENCE) }
    }

    /// The interval's larger half-width as a share of the median (benchstat's `± 3%`).
    pub fn ci_relative(&self) -> Option<f64> {
        let (lo, hi) = self.ci?;
        (self.median != 0.0).then(|| (hi - self.median).max(self.median - lo) / self.median.abs())
    }
}

/// How two sides compare.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Verdict {
    /// p < alpha (as benchstat): NEW's values are larger (slower, bigger).
    Larger,
    /// p < alpha (as benchstat): NEW's values are smaller.
    Smaller,
    /// p ≥ alpha: `~`.
    NotSignificant,
    /// These sample sizes cannot reach alpha whatever the data; `per_side` samples each could.
    NeedSamples { per_side: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    pub old: Summary,
    pub new: Summary,
    /// (new − old) / old of the medians, in percent; `None` when old's median is 0.
    pub delta_percent: Option<f64>,
    /// Two-sided Mann-Whitney U p-value; `None` when a side is empty.
    pub p_value: Option<f64>,
    pub verdict: Verdict,
}

impl Comparison {
    pub fn of(old: &[f64], new: &[f64], alpha: f64) -> Comparison {
        let (old_summary, new_summary) = (Summary::of(old), Summary::of(new));
        let delta_percent = (old_summary.median != 0.0)
            .then(|| (new_summary.median - old_summary.median) / old_summary.median.abs() * 100.0);
        let p_value = mann_whitney_p(old, new);
        let verdict = if !can_reach(old.len(), new.len(), alpha) {
            Verdict::NeedSamples { per_side: samples_needed(alpha) }
        } else {
            match p_value {
                Some(p) if p < alpha && new_summary.median > old_summary.median => Verdict::Larger,
                Some(p) if p < alpha && new_summary.median < old_summary.median => Verdict::Smaller,
                _ => Verdict::NotSignificant,
            }
        };
        Comparison { old: old_summary, new: new_summary, delta_percent, p_value, verdict }
    }

    pub fn significant(&self) -> bool {
        matches!(self.verdict, Verdict::Larger | Verdict::Smaller)
    }
}

/// The most builds, both sides together, whose p-value is counted out exactly; above, the normal approximation.
pub const EXACT_UP_TO: usize = 60;

/// Two-sided p-value of the Mann-Whitney U test: exact up to [`EXACT_UP_TO`] values in all, else the normal
/// approximation with tie and continuity corrections. `None` when a side is empty or holds a non-finite value.
pub fn mann_whitney_p(old: &[f64], new: &[f64]) -> Option<f64> {
    if old.is_empty() || new.is_empty() || old.iter().chain(new).any(|v| !v.is_finite()) {
        return None;
    }
    if old.len() + new.len() <= EXACT_UP_TO {
        let (doubled_ranks, old_sum) = doubled_ranks(old, new);
        return Some(RankSums::of(&doubled_ranks, old.len()).two_sided_p(old_sum));
    }
    mannwhitneyu(old, new, MannWhitneyUMethod::AsymptoticInclContinuityCorrection, Alternative::TwoSided)
        .ok()
        .map(|(_, p)| p)
}

/// Every value's rank among both sides, doubled so that a tie's mid-rank stays a whole number, and the sum of
/// `old`'s.
fn doubled_ranks(old: &[f64], new: &[f64]) -> (Vec<u64>, u64) {
    let mut all: Vec<(f64, bool)> = old.iter().map(|&v| (v, true)).chain(new.iter().map(|&v| (v, false))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = Vec::with_capacity(all.len());
    let mut old_sum = 0;
    let mut i = 0;
    while i < all.len() {
        let tied = all[i..].iter().take_while(|(v, _)| *v == all[i].0).count();
        // Positions i+1 ..= i+tied share the mid-rank (2i + tied + 1) / 2.
        let doubled = (2 * i + tied + 1) as u64;
        for (_, is_old) in &all[i..i + tied] {
            ranks.push(doubled);
            if *is_old {
                old_sum += doubled;
            }
        }
        i += tied;
    }
    (ranks, old_sum)
}

/// The distribution of the (doubled) rank sum of `n` values drawn at random from the given ranks: what the sum of
/// OLD's ranks would be if OLD and NEW were alike.
struct RankSums {
    /// Ways to reach each doubled rank sum, by sum.
    ways: Vec<f64>,
    total: f64,
}

impl RankSums {
    fn of(doubled_ranks: &[u64], n: usize) -> RankSums {
        let top: u64 = doubled_ranks.iter().sum();
        // ways[k][s]: ways to choose k of the ranks seen so far summing to s.
        let mut ways = vec![vec![0.0f64; top as usize + 1]; n + 1];
        ways[0][0] = 1.0;
        for (seen, &rank) in doubled_ranks.iter().enumerate() {
            for k in (1..=n.min(seen + 1)).rev() {
                let (below, at) = ways.split_at_mut(k);
                for s in (rank as usize..=top as usize).rev() {
                    at[0][s] += below[k - 1][s - rank as usize];
                }
            }
        }
        let ways = ways.swap_remove(n);
        RankSums { total: ways.iter().sum(), ways }
    }

    /// `2 · min(P(S ≤ sum), P(S ≥ sum))`, at most 1.
    fn two_sided_p(&self, sum: u64) -> f64 {
        let at = sum as usize;
        let below: f64 = self.ways[..=at.min(self.ways.len() - 1)].iter().sum();
        let above: f64 = self.ways[at.min(self.ways.len())..].iter().sum();
        (2.0 * below.min(above) / self.total).min(1.0)
    }
}

/// The geometric mean of positive values (benchstat's geomean row); `None` when there are none.
pub fn geomean(values: &[f64]) -> Option<f64> {
    let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0 && v.is_finite()).collect();
    if positive.is_empty() {
        return None;
    }
    Some((positive.iter().map(|v| v.ln()).sum::<f64>() / positive.len() as f64).exp())
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The narrowest order-statistic interval `[x(k), x(n+1-k)]` that holds the true median with at least `confidence`:
/// its coverage is `1 − 2·P(B ≤ k−1)` for `B ~ Binomial(n, ½)`.
fn median_ci(sorted: &[f64], confidence: f64) -> Option<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let binomial = Binomial::new(0.5, n as u64).ok()?;
    let coverage = |k: usize| if k == 0 { 1.0 } else { 1.0 - 2.0 * binomial.cdf(k as u64 - 1) };
    let mut best = None;
    for k in 1..=n.div_ceil(2) {
        if coverage(k) >= confidence {
            best = Some(k);
        } else {
            break;
        }
    }
    best.map(|k| (sorted[k - 1], sorted[n - k]))
}

/// C(n1 + n2, n1): how many ways the ranks can fall.
fn arrangements(n1: usize, n2: usize) -> f64 {
    let k = n1.min(n2);
    (0..k).fold(1.0, |acc, i| acc * (n1 + n2 - i) as f64 / (i + 1) as f64)
}

/// Whether samples of these sizes can give a two-sided p-value at or below alpha at all: the smallest possible one
/// is `2 / C(n1 + n2, n1)`, when every value of one side lies beyond every value of the other.
pub fn can_reach(n1: usize, n2: usize, alpha: f64) -> bool {
    n1 > 0 && n2 > 0 && 2.0 / arrangements(n1, n2) <= alpha
}

/// The samples per side that can reach alpha.
pub fn samples_needed(alpha: f64) -> usize {
    (1..1000).find(|&n| can_reach(n, n, alpha)).unwrap_or(1000)
}

/// The samples one side needs for a [`CONFIDENCE`] interval of its median.
pub fn samples_needed_for_ci() -> usize {
    (1..1000).find(|&n| median_ci(&vec![0.0; n], CONFIDENCE).is_some()).unwrap_or(1000)
}

/// The power the detectable change is computed for: the chance that a real change of that size is found.
pub const POWER: f64 = 0.8;
/// The Mann-Whitney test's asymptotic efficiency relative to the t test on normal data (3/π): it needs ~5% more
/// samples for the same power.
const MANN_WHITNEY_EFFICIENCY: f64 = 3.0 / std::f64::consts::PI;

/// The coefficient of variation of `values` (sample standard deviation over mean), as a fraction; `None` for fewer
/// than two values or a zero mean.
pub fn coefficient_of_variation(values: &[f64]) -> Option<f64> {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 || mean == 0.0 {
        return None;
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some(variance.sqrt() / mean.abs())
}

fn z(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// Seeded trials per simulated power: the detectable change comes out the same on every run, to ~1%.
pub const SIMULATIONS: usize = 2_000;

/// The smallest relative slowdown (a fraction of the mean) that `n_a` builds against `n_b` detect at `alpha` with
/// [`POWER`], when each side's builds vary normally by its coefficient of variation; `None` when samples of these
/// sizes cannot reach alpha at all. Simulated with the exact test up to [`EXACT_UP_TO`] builds; above, the normal
/// approximation (z₁₋α/₂ + z_power) · √(cv_a²/n_a + cv_b²/n_b), corrected for the Mann-Whitney test's efficiency.
pub fn detectable_change(cv_a: f64, n_a: usize, cv_b: f64, n_b: usize, alpha: f64) -> Option<f64> {
    if !can_reach(n_a, n_b, alpha) {
        return None;
    }
    if n_a + n_b > EXACT_UP_TO {
        let spread = (cv_a.powi(2) / n_a as f64 + cv_b.powi(2) / n_b as f64) / MANN_WHITNEY_EFFICIENCY;
        return Some((z(1.0 - alpha / 2.0) + z(POWER)) * spread.sqrt());
    }
    let trials = Trials::new(n_a, n_b, alpha);
    // Power grows with the change (the same draws shifted further apart): bisect between nothing and a change
    // certainly found.
    let mut high = 10.0 * (cv_a.max(cv_b)).max(1e-6);
    while trials.power(cv_a, cv_b, high) < POWER {
        high *= 2.0;
        if high > 1e6 {
            return None;
        }
    }
    let mut low = 0.0;
    for _ in 0..40 {
        let middle = (low + high) / 2.0;
        if trials.power(cv_a, cv_b, middle) >= POWER { high = middle } else { low = middle }
    }
    Some(high)
}

/// The builds per side that detect a relative `change` when both sides vary by `cv` (the inverse of
/// [`detectable_change`]), never fewer than alpha itself needs.
pub fn samples_to_detect(cv: f64, change: f64, alpha: f64) -> usize {
    let asymptotic = 2.0 * ((z(1.0 - alpha / 2.0) + z(POWER)) * cv / change).powi(2) / MANN_WHITNEY_EFFICIENCY;
    let asymptotic = (asymptotic.ceil() as usize).max(samples_needed(alpha));
    (samples_needed(alpha)..=EXACT_UP_TO / 2)
        .find(|&n| Trials::new(n, n, alpha).power(cv, cv, change) >= POWER)
        .unwrap_or(asymptotic.max(EXACT_UP_TO / 2 + 1))
}

/// Seeded draws of two sides of standard normal noise, and the exact test's critical rank sums for their sizes.
struct Trials {
    draws: Vec<(Vec<f64>, Vec<f64>)>,
    /// `old`'s doubled rank sums at or below which the difference is significant with NEW larger.
    significant_up_to: Option<u64>,
}

impl Trials {
    fn new(n_a: usize, n_b: usize, alpha: f64) -> Trials {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x006f_686f_6f6b);
        let normal = Normal::standard();
        let mut draw = |n: usize| -> Vec<f64> {
            (0..n).map(|_| normal.inverse_cdf(rng.random::<f64>().clamp(1e-12, 1.0 - 1e-12))).collect()
        };
        let draws = (0..SIMULATIONS).map(|_| (draw(n_a), draw(n_b))).collect();
        // Continuous draws never tie: the ranks are 1..=n, doubled.
        let ranks: Vec<u64> = (1..=(n_a + n_b) as u64).map(|r| 2 * r).collect();
        let sums = RankSums::of(&ranks, n_a);
        let smallest: u64 = ranks[..n_a].iter().sum();
        let significant_up_to = (smallest..).step_by(2).take_while(|&s| sums.two_sided_p(s) < alpha).last();
        Trials { draws, significant_up_to }
    }

    /// The share of the draws in which NEW, slower by `change` of the mean, is found significantly larger.
    fn power(&self, cv_a: f64, cv_b: f64, change: f64) -> f64 {
        let Some(limit) = self.significant_up_to else { return 0.0 };
        let found = self
            .draws
            .iter()
            .filter(|(old, new)| {
                let old: Vec<f64> = old.iter().map(|z| 1.0 + cv_a * z).collect();
                let new: Vec<f64> = new.iter().map(|z| 1.0 + change + cv_b * z).collect();
                doubled_ranks(&old, &new).1 <= limit
            })
            .count();
        found as f64 / self.draws.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_samples_can_see_is_simulated_for_their_sizes() {
        // CodSpeed's 2.66% CV of GitHub-hosted runners, 5 builds a side, alpha 0.05. The normal approximation
        // promises (1.95996 + 0.84162) · √(2 · 0.0266² / 5) / √(3/π) = 4.83%; the exact test on five a side finds
        // a change that size in fewer than 80% of trials, so the simulated figure is larger.
        let seen = detectable_change(0.0266, 5, 0.0266, 5, DEFAULT_ALPHA).unwrap();
        assert!((seen - SEEN_5_5).abs() < 1e-6, "{seen}");
        assert!(seen > 0.04826);
        // The figure is what it says: a slowdown of that size is found in 80% of fresh trials.
        assert!((Trials::new(5, 5, DEFAULT_ALPHA).power(0.0266, 0.0266, seen) - POWER).abs() < 0.01);
        // Two or three a side can never reach 0.05: nothing is detectable, whatever the noise.
        assert_eq!(detectable_change(0.001, 2, 0.001, 2, DEFAULT_ALPHA), None);
        assert_eq!(detectable_change(0.001, 3, 0.001, 3, DEFAULT_ALPHA), None);
        // The samples a 2% gate needs at that noise (the approximation says 30).
        assert_eq!(samples_to_detect(0.0266, 0.02, DEFAULT_ALPHA), SAMPLES_FOR_2_PERCENT);
        assert_eq!(samples_to_detect(0.001, 0.5, DEFAULT_ALPHA), samples_needed(DEFAULT_ALPHA));
        let cv = coefficient_of_variation(&[10.0, 12.0, 14.0]).unwrap();
        assert!((cv - 2.0 / 12.0).abs() < 1e-12);
        assert_eq!(coefficient_of_variation(&[1.0]), None);
    }

    const SEEN_5_5: f64 = 0.061249062072463875;
    const SAMPLES_FOR_2_PERCENT: usize = 30;

    /// Every way of splitting the pooled values into an OLD of its size, counted: the exact p-value by definition.
    fn p_by_enumeration(old: &[f64], new: &[f64]) -> f64 {
        let (ranks, observed) = doubled_ranks(old, new);
        let n = ranks.len();
        let (mut below, mut above, mut all) = (0u64, 0u64, 0u64);
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != old.len() {
                continue;
            }
            let sum: u64 = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| ranks[i]).sum();
            all += 1;
            below += u64::from(sum <= observed);
            above += u64::from(sum >= observed);
        }
        (2.0 * below.min(above) as f64 / all as f64).min(1.0)
    }

    #[test]
    fn exact_p_values_count_every_arrangement_ties_included() {
        let old = [10.0, 10.2, 9.9, 10.1, 10.05];
        let slower = [12.0, 12.3, 11.9, 12.1, 12.2];
        // Fully separated five against five: 2 of the 252 arrangements are as extreme (benchstat's exact p).
        assert!((mann_whitney_p(&old, &slower).unwrap() - 2.0 / 252.0).abs() < 1e-12);
        // Two against two: at best 2 of 6.
        assert!((mann_whitney_p(&[1.0, 1.1], &[5.0, 5.1]).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        for (a, b) in [
            (vec![1.0, 2.0, 2.0], vec![2.0, 3.0, 4.0]),
            (vec![5.0, 5.0, 5.0, 6.0], vec![5.0, 6.0, 6.0, 7.0, 7.0]),
            (vec![3.0, 1.0, 4.0, 1.0, 5.0, 9.0], vec![2.0, 6.0, 5.0, 3.0, 5.0, 8.0, 9.0]),
        ] {
            let p = mann_whitney_p(&a, &b).unwrap();
            assert!((p - p_by_enumeration(&a, &b)).abs() < 1e-12, "{a:?} {b:?}: {p}");
        }
        // Identical sides: p = 1.
        assert_eq!(mann_whitney_p(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]), Some(1.0));
    }

    #[test]
    fn medians_and_their_intervals() {
        let five = Summary::of(&[5.0, 1.0, 4.0, 2.0, 3.0]);
        assert_eq!((five.n, five.median, five.ci), (5, 3.0, None));
        // n = 6: [x(1), x(6)] covers 1 − 2/64 = 96.9%; [x(2), x(5)] only 1 − 14/64.
        let six = Summary::of(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!((six.median, six.ci), (3.5, Some((1.0, 6.0))));
        // n = 20: k = 6 (coverage 95.86%), k = 7 falls below (88.47%).
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(Summary::of(&twenty).ci, Some((6.0, 15.0)));
        assert_eq!(samples_needed_for_ci(), 6);
    }

    #[test]
    fn separated_samples_are_significant_and_say_which_way() {
        let old = [10.0, 10.2, 9.9, 10.1, 10.05];
        let slower = [12.0, 12.3, 11.9, 12.1, 12.2];
        let c = Comparison::of(&old, &slower, DEFAULT_ALPHA);
        assert_eq!(c.verdict, Verdict::Larger);
        assert!((c.delta_percent.unwrap() - 20.39801).abs() < 1e-3);
        assert_eq!(Comparison::of(&slower, &old, DEFAULT_ALPHA).verdict, Verdict::Smaller);
    }

    #[test]
    fn overlapping_samples_are_not_significant() {
        let a = [10.0, 10.4, 9.8, 10.1, 10.3];
        let b = [10.2, 9.9, 10.35, 10.05, 10.15];
        let c = Comparison::of(&a, &b, DEFAULT_ALPHA);
        assert_eq!(c.verdict, Verdict::NotSignificant);
        assert!(c.p_value.unwrap() > 0.5);
    }

    #[test]
    fn too_few_samples_never_guess() {
        let c = Comparison::of(&[1.0, 1.1], &[5.0, 5.1], DEFAULT_ALPHA);
        assert_eq!(c.verdict, Verdict::NeedSamples { per_side: 4 });
        assert_eq!(samples_needed(DEFAULT_ALPHA), 4);
        assert!(can_reach(4, 4, 0.05) && !can_reach(3, 3, 0.05) && can_reach(3, 5, 0.05));
    }

    #[test]
    fn large_samples_use_the_normal_approximation_quickly() {
        let old: Vec<f64> = (0..8).map(f64::from).collect();
        let new: Vec<f64> = (0..400).map(|i| f64::from(i) + 100.0).collect();
        let p = mann_whitney_p(&old, &new).unwrap();
        assert!(p < 1e-5, "{p}");
    }

    #[test]
    fn geomean_of_positive_values() {
        assert!((geomean(&[2.0, 8.0]).unwrap() - 4.0).abs() < 1e-12);
        assert_eq!(geomean(&[0.0]), None);
    }
}
