//! The `gohook` executable and its plugin host: the command line ([`cli`]), one module per command
//! ([`commands`]), and the plugin host's side of the moment protocol ([`plugin_host`]).
//!
//! Data flows one way: go runs the shim (`gohook_shim`) for a tool invocation; the tool runs; one record is
//! appended to the build's record file (`gohook_records`); plugins subscribed to the moment run in the plugin host
//! (`gohook_runtime`) and their verdict (`gohook_policy`) is recorded with it; the commands here turn a build's
//! records into reports. `gohook` itself never links the wasm runtime: commands that run plugins are handed to the
//! plugin host.

mod calibration;
mod cli;
mod commands;
mod plugin_host;

use std::ffi::OsString;

pub use gohook_shim::EXIT_USAGE;

/// The `gohook` executable's exit status: toolexec mode when go hands it a tool, otherwise one of gohook's commands.
pub fn main(argv: Vec<OsString>) -> u8 {
    match gohook_shim::tool_argv(&argv, cli::COMMANDS) {
        Some(tool_argv) => gohook_shim::main(tool_argv),
        None => cli::main_without_plugins(argv),
    }
}

/// The `gohook-plugin-host` executable: moments when the shim asks, otherwise a gohook command that runs plugins.
pub fn plugin_host_main(argv: Vec<OsString>) -> u8 {
    plugin_host::main(argv)
}
