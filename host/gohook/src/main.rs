//! The `gohook` executable. go starts it for every tool invocation, so it skips Rust's runtime set-up
//! (`#![no_main]`): the main thread's stack guard (which parses `/proc/self/maps`) and the stack-overflow handler
//! cost each invocation more than the rest of gohook's start-up. `std::env::args_os` still works: std reads the
//! arguments from the C runtime on the platforms gohook supports.
#![no_main]

#[unsafe(no_mangle)]
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // What Rust's runtime would have done: a closed pipe is an error to handle, not a signal that kills gohook
    // before it records the tool's run. Children get the default back (std's spawn resets it).
    // SAFETY: setting a signal's disposition to SIG_IGN has no handler to be unsafe in.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    // `exit` flushes stdout as returning from Rust's `main` would.
    std::process::exit(gohook::main(std::env::args_os().collect()).into())
}
