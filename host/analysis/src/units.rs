//! How reports write times, sizes and counts, the same in every format.

/// Nearest-rank percentile of sorted values.
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

/// `1 tool run`, `2 tool runs`: a count and its noun, singular or plural.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}
