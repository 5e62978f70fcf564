//! The `gohook` executable: what go runs for every tool invocation. It holds the shim and nothing else — no command
//! line parser, reports or wasm runtime — so that each of the thousands of execs per build maps and runs little.
//! Any first argument that is one of gohook's commands (or a flag) hands the whole command line to
//! `gohook-commands`, installed next to it, with `exec`.
//!
//! It skips Rust's runtime set-up (`#![no_main]`): the main thread's stack guard (which parses `/proc/self/maps`) and
//! the stack-overflow handler cost each invocation more than the rest of gohook's start-up. `std::env::args_os`
//! still works: std reads the arguments from the C runtime on the platforms gohook supports.
#![no_main]

use std::ffi::OsString;

#[unsafe(no_mangle)]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // What Rust's runtime would have done: a closed pipe is an error to handle, not a signal that kills gohook
    // before it records the tool's run. Children get the default back (std's spawn resets it).
    // SAFETY: setting a signal's disposition to SIG_IGN has no handler to be unsafe in.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let argv: Vec<OsString> = std::env::args_os().collect();
    let code = match gohook_shim::tool_argv(&argv) {
        Some(tool_argv) => gohook_shim::main(tool_argv),
        None => gohook_process::executables::exec_commands(&argv),
    };
    // `exit` flushes stdout as returning from Rust's `main` would.
    std::process::exit(code.into())
}
