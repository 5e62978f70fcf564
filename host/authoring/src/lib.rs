//! Writing gohook plugins: the starters `gohook plugin new` writes (Go and Rust), the SDKs it carries (written into
//! each plugin, matched to this gohook's contract: nothing downloaded), building one into a component (for Go, the
//! standard toolchain's wasip1 module made a `gohook:plugin` component in-process).

mod build;
mod componentize;
mod starters;

pub use build::{Built, build};
pub use componentize::{ComponentizeError, componentize};
pub use starters::{Lang, new_plugin};

use std::path::PathBuf;

/// The newest plugin contract, the one new plugins are built against.
pub const CONTRACT_WIT: &str = include_str!("../../../wit/since_v0.1.0/plugin.wit");

#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    #[error("{0:?} is not a plugin name: use letters, digits, '-' and '_', starting with a letter")]
    BadName(String),
    #[error("{} exists and is not empty: choose another name or --into", .0.display())]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} holds neither go.mod nor Cargo.toml: run gohook plugin build in a plugin's directory (gohook plugin new writes one)", .0.display())]
    NotAPlugin(PathBuf),
    #[error("cannot run {program}: {source}; {fix}")]
    Missing { program: String, source: std::io::Error, fix: &'static str },
    #[error("{0}")]
    Toolchain(String),
    #[error("{tool} failed in {}:\n{output}", .dir.display())]
    Failed { tool: String, dir: PathBuf, output: String },
    #[error(transparent)]
    Componentize(#[from] ComponentizeError),
}

fn io_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> AuthoringError + '_ {
    move |source| AuthoringError::Io { path: path.to_owned(), source }
}
