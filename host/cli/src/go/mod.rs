//! Running go under gohook, for the commands that build: go's command line as go reads it (`command`), the launch on
//! one build id with its records around it (`launch`), the package graph from `go list` (`list`), go's own plan and
//! cache keys (`plan`), and the go tools that ran without gohook under a command (`outside`).

mod command;
mod launch;
mod list;
mod outside;
mod plan;

pub use launch::{GoLaunch, Graph, gohook_executable, run_recorded};
pub use list::{PackageGraph, list as list_packages};
