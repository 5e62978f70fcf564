//! Everything gohook computes or renders from records: the build model ([`BuildRecords`]), the summary table and
//! JSON, the critical path, the Chrome trace, the timeline page, pprof profiles, the Go benchmark format, the
//! comparison of two sets of builds, the portable export file, and why a build rebuilt what it did.
//!
//! It depends on the records and the statistics only: no command line, no plugins, no processes started. What a
//! report needs from outside — the calibrated cost of a process, a go `-debug-trace` to merge — is passed in.

mod baseline;
mod benchfmt;
mod compare;
mod critical_path;
mod export;
mod model;
mod pprof;
mod run_summary;
mod sample;
mod summary;
mod timeline;
mod trace;
mod units;
mod what_if;
mod why;

/// Baselines keyed by machine, in a directory CI carries.
pub use baseline::{
    Baseline, Key as BaselineKey, Saved as SavedBaseline, keys as baseline_keys, newest as newest_baseline,
    save as save_baseline,
};
pub use compare::{Metric, Options as CompareOptions, Report as Comparison, Side, Subject};
pub use critical_path::CriticalPath;
pub use model::{BuildRecords, Totals, Wait};
pub use pprof::{Merged, ToolProfile, merge as merge_profiles, render as pprof_profile};
pub use run_summary::RunSummary;
pub use sample::{Dropped, describe as describe_dropped, samples};
pub use summary::{ProcessCost, Summary};
pub use units::{count, format_duration, format_unix_ns};
pub use what_if::{MachineShared, Point as WhatIfPoint, TRUSTED as WHAT_IF_TRUSTED, WhatIf};
pub use why::{Cause, Group as WhyGroup, Why, explain as why, summary_and_reasons};

/// The Go benchmark format (`benchstat` reads it): one line per build, stage and compiled package.
pub use benchfmt::render as benchfmt;
/// The portable export file.
pub use export::{read as read_export, write as write_export};
/// The build as a self-contained HTML page.
pub use timeline::render as timeline_page;
/// The Chrome trace events of a build, and go's own `-debug-trace` read for merging.
pub use trace::{events as trace_events, parse_go_trace};

use std::path::PathBuf;

/// What can go wrong reading builds for a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Find(#[from] gohook_records::FindError),
    #[error("no recorded builds in {}", dir.display())]
    NoBuilds { dir: PathBuf },
    #[error("{}: {why}", path.display())]
    Export { path: PathBuf, why: String, remedy: Option<Remedy> },
    #[error("{name:?} is neither a file, a build id nor a run name here ({})", root.display())]
    NoSuchSide { name: String, root: PathBuf },
    #[error(
        "no baseline in {} for this machine's key ({key}); it has {}",
        dir.display(),
        if present.is_empty() { "none".to_owned() } else { present.iter().map(|k| format!("({k})")).collect::<Vec<_>>().join(", ") }
    )]
    NoBaseline { dir: PathBuf, key: String, present: Vec<String> },
}

/// What the user can do about an [`Error`]: the command line says it in its own words, since only it knows gohook's
/// commands and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Record a build.
    RecordABuild,
    /// See which builds and runs are recorded, or record run `name`.
    NameABuildOrRun { name: String },
    /// Save a baseline into `dir` on this kind of machine, or choose another machine's key.
    SaveABaseline { dir: PathBuf },
    /// Write the export file, or write it again with this gohook (`again`).
    WriteAnExport { again: bool },
}

impl Error {
    /// What to do about it, when there is something to do.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::NoBuilds { .. } => Some(Remedy::RecordABuild),
            Error::NoSuchSide { name, .. } => Some(Remedy::NameABuildOrRun { name: name.clone() }),
            Error::NoBaseline { dir, .. } => Some(Remedy::SaveABaseline { dir: dir.clone() }),
            Error::Export { remedy, .. } => remedy.clone(),
            Error::Read { .. } | Error::Write { .. } | Error::Find(_) => None,
        }
    }
}
