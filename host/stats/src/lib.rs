//! Statistics for "is the difference real": what benchstat (golang.org/x/perf) does for Go benchmarks, for builds.
//!
//! Each side of a comparison is a handful of measurements of one thing (a stage's time over N builds). A side is
//! summarized by its median and a distribution-free confidence interval of the median (order statistics, from the
//! binomial distribution; no normality assumed). Two sides are compared with the two-sided Mann-Whitney U test: a
//! difference counts only when its p-value is at most alpha, and when the sample sizes cannot reach alpha at all
//! (2 against 2 never can) the answer is "need more samples", not a guess. The test and the binomial come from
//! `statrs`; this crate words the verdict.
//!
//! The p-value is the normal approximation with tie and continuity corrections: statrs 0.19's exact method returns
//! wrong values (1.0 for two fully separated samples of five, where the exact answer is 2/252). For five against
//! five, the sizes `gohook bench` defaults to, the approximation and benchstat's exact test agree on every verdict
//! at alpha 0.05 (they differ only in the third decimal of p).

use serde::Serialize;
use statrs::distribution::{Binomial, DiscreteCDF};
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

/// Two-sided p-value of the Mann-Whitney U test (normal approximation, tie and continuity corrections).
pub fn mann_whitney_p(old: &[f64], new: &[f64]) -> Option<f64> {
    if old.is_empty() || new.is_empty() || old.iter().chain(new).any(|v| !v.is_finite()) {
        return None;
    }
    mannwhitneyu(old, new, MannWhitneyUMethod::AsymptoticInclContinuityCorrection, Alternative::TwoSided)
        .ok()
        .map(|(_, p)| p)
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
fn can_reach(n1: usize, n2: usize, alpha: f64) -> bool {
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
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(p)
}

/// The smallest relative change (a fraction of the mean) that samples of these sizes and coefficients of variation
/// detect with [`POWER`] at two-sided `alpha`: (z₁₋α/₂ + z_power) · √(cv_a²/n_a + cv_b²/n_b), corrected for the
/// Mann-Whitney test's efficiency. The normal approximation: with 5 builds a side it is a floor, not a promise.
pub fn detectable_change(cv_a: f64, n_a: usize, cv_b: f64, n_b: usize, alpha: f64) -> f64 {
    let spread = (cv_a.powi(2) / n_a as f64 + cv_b.powi(2) / n_b as f64) / MANN_WHITNEY_EFFICIENCY;
    (z(1.0 - alpha / 2.0) + z(POWER)) * spread.sqrt()
}

/// The samples per side that detect a relative `change` when both sides vary by `cv` (the inverse of
/// [`detectable_change`]), never fewer than alpha itself needs.
pub fn samples_to_detect(cv: f64, change: f64, alpha: f64) -> usize {
    let n = 2.0 * ((z(1.0 - alpha / 2.0) + z(POWER)) * cv / change).powi(2) / MANN_WHITNEY_EFFICIENCY;
    (n.ceil() as usize).max(samples_needed(alpha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_samples_can_see() {
        // CodSpeed's 2.66% CV of GitHub-hosted runners, 5 builds a side, alpha 0.05: (1.95996 + 0.84162) ·
        // √(2 · 0.0266² / 5) / √(3/π) = 0.04826.
        let seen = detectable_change(0.0266, 5, 0.0266, 5, DEFAULT_ALPHA);
        assert!((seen - 0.04826).abs() < 1e-4, "{seen}");
        // And the samples a 2% gate needs at that noise: 2 · (2.80158 · 1.33)² / 1.04720 = 29.1 → 30.
        assert_eq!(samples_to_detect(0.0266, 0.02, DEFAULT_ALPHA), 30);
        assert_eq!(samples_to_detect(0.001, 0.5, DEFAULT_ALPHA), samples_needed(DEFAULT_ALPHA));
        let cv = coefficient_of_variation(&[10.0, 12.0, 14.0]).unwrap();
        assert!((cv - 2.0 / 12.0).abs() < 1e-12);
        assert_eq!(coefficient_of_variation(&[1.0]), None);
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
        // U = 25 of 25: z = (25 − 12.5 − 0.5) / √(25·11/12) = 2.5067, p = 2·(1 − Φ(z)) = 0.01219 (exact: 2/252).
        assert!((c.p_value.unwrap() - 0.012186).abs() < 1e-5, "{:?}", c.p_value);
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
