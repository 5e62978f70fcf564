//! Forwarding SIGINT, SIGTERM, SIGHUP and SIGQUIT from gohook to the one child it waits for.
//!
//! gohook sits between go and a tool (or between the user and go): a signal meant for the work must reach the work,
//! and gohook must stay alive to record how it ended. A signal handler can only touch atomics, so the child's pid
//! lives in one; a signal that arrives before the child exists is kept and delivered right after spawning.

use std::sync::atomic::{AtomicI32, Ordering};

const FORWARDED: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

static CHILD: AtomicI32 = AtomicI32::new(0);
static PENDING: AtomicI32 = AtomicI32::new(0);
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Installs the forwarding handlers. Call once, before spawning the child.
///
/// Plain `sigaction`, one call per signal: this runs in every tool invocation, where a registry of handlers would
/// cost more (two calls per signal, allocations) than the one fixed handler needs.
pub fn install() {
    for signal in FORWARDED {
        // SAFETY: sigaction is plain data; the handler only touches atomics and calls kill(2), both async-signal-safe.
        let result = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if result != 0 {
            tracing::warn!("cannot forward signal {signal} to the child: {}", std::io::Error::last_os_error());
        }
    }
}

extern "C" fn forward(signal: libc::c_int) {
    RECEIVED.store(signal, Ordering::SeqCst);
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(child, signal) };
    } else {
        PENDING.store(signal, Ordering::SeqCst);
    }
}

/// Names the child that signals go to, and hands it any signal that arrived before it existed.
pub fn set_child(pid: u32) {
    CHILD.store(pid as i32, Ordering::SeqCst);
    let pending = PENDING.swap(0, Ordering::SeqCst);
    if pending != 0 {
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(pid as i32, pending) };
    }
}

/// The last forwarded signal gohook itself received, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Lets a write past `ulimit -f` fail with EFBIG instead of killing gohook with SIGXFSZ, so that a full record file
/// costs a warning, not the build. Call after the child was spawned: ignored signals are inherited.
pub fn survive_file_size_limit() {
    // SAFETY: setting a signal's disposition to SIG_IGN has no handler to be unsafe in.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
}
