//! One module per gohook command; `cli` parses the command line and calls into them.

pub mod build;
pub mod check;
pub mod doctor;
pub mod goreleaser;
pub mod report;
pub mod trace;
