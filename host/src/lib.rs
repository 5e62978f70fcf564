//! gohook: a `-toolexec` shim for `go build`.
//!
//! Data flows one way: a tool invocation is parsed ([`toolexec`]), the tool runs, one timing record is appended to
//! the build's record file ([`records`], [`store`]), and later [`report`] turns a build's records into tables, JSON or
//! a Chrome trace. [`driver`] runs whole go commands with gohook as `-toolexec`; [`stamp`] gives every invocation of
//! one go command the same build id and start stamp; [`policy`] reads `gohook.toml`.

pub mod binaries;
pub mod check;
pub mod cli;
pub mod doctor;
pub mod driver;
pub mod goreleaser;
pub mod logging;
pub mod moment;
pub mod plugin_host;
pub mod plugins;
pub mod policy;
pub mod records;
pub mod report;
pub mod runtime;
pub mod signals;
pub mod stamp;
pub mod store;
pub mod toolexec;
pub mod trace;

use std::ffi::OsString;
use std::process::ExitCode;

/// gohook's version as it goes into the `-V=full` answer and into records.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Exit code for usage and I/O errors of gohook's own commands (1 is kept for "the thing checked failed").
pub const EXIT_USAGE: u8 = 2;

/// The `gohook` executable: toolexec mode when go hands it a tool, otherwise one of gohook's commands. It never
/// links the wasm runtime: commands that run plugins are handed to the plugin host ([`plugin_host`]).
pub fn main(argv: Vec<OsString>) -> ExitCode {
    match toolexec::tool_argv(&argv) {
        Some(tool_argv) => toolexec::main(tool_argv),
        None => cli::main_without_plugins(argv),
    }
}
