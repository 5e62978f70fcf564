//! One module per gohook command; `cli` parses the command line and calls into them.

pub mod bench;
pub mod benchfmt;
pub mod build;
pub mod check;
pub mod compare;
pub mod critical_path;
pub mod doctor;
pub mod export;
pub mod goreleaser;
pub mod pprof;
pub mod progress;
pub mod report;
pub mod trace;
