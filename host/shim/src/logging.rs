//! Logging through `tracing`: quiet unless something is wrong, `GOHOOK_LOG=debug` (any `tracing` filter) for more.
//!
//! The commands log to stderr. The toolexec shim must never write to stderr on success, because go caches a
//! compile's output and replays it on every later cache hit; it logs to a file instead (`GOHOOK_LOG_FILE`, set by
//! `gohook build` to the build's own log, else `<record root>/gohook.log`), opened only when there is something to say.

use std::io::{self, Write};
use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

pub const ENV_LOG: &str = "GOHOOK_LOG";
pub const ENV_LOG_FILE: &str = "GOHOOK_LOG_FILE";

pub enum Target {
    Stderr,
    /// Appended to, opened per event; `None` when there is nowhere to write.
    File(Option<PathBuf>),
}

pub fn init(target: Target) {
    let filter = std::env::var(ENV_LOG)
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let result = match target {
        Target::Stderr => builder.with_writer(io::stderr).without_time().try_init(),
        Target::File(path) => builder.with_ansi(false).with_writer(move || append_to(path.as_ref())).try_init(),
    };
    // A second init (tests calling main twice) keeps the first subscriber, which is what we want.
    drop(result);
}

fn append_to(path: Option<&PathBuf>) -> Box<dyn Write> {
    let file = path.and_then(|p| std::fs::OpenOptions::new().append(true).create(true).open(p).ok());
    match file {
        Some(file) => Box::new(file),
        None => Box::new(io::sink()),
    }
}
