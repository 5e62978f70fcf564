//! Logging through `tracing`: quiet unless something is wrong, `GOHOOK_LOG=debug` (any `tracing` filter) for more.
//!
//! The commands log to stderr. The toolexec shim must never write to stderr on success, because go caches a
//! compile's output and replays it on every later cache hit; it logs to a file instead (`GOHOOK_LOG_FILE`, set by
//! `gohook build` to the build's own log, else `<record root>/gohook.log`), opened only when there is something to say.
//!
//! Without `GOHOOK_LOG` the subscriber is [`Warnings`], a few lines that cost the shim nothing at start-up;
//! `tracing-subscriber`'s registry and filter parsing are set up only when someone asks for more.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, span};
use tracing_subscriber::EnvFilter;

pub const ENV_LOG: &str = "GOHOOK_LOG";
pub const ENV_LOG_FILE: &str = "GOHOOK_LOG_FILE";

pub enum Target {
    Stderr,
    /// Appended to, opened per event; `None` when there is nowhere to write.
    File(Option<PathBuf>),
}

impl Target {
    fn writer(&self) -> Box<dyn Write> {
        match self {
            Target::Stderr => Box::new(io::stderr()),
            Target::File(path) => {
                let file =
                    path.as_ref().and_then(|p| std::fs::OpenOptions::new().append(true).create(true).open(p).ok());
                match file {
                    Some(file) => Box::new(file),
                    None => Box::new(io::sink()),
                }
            }
        }
    }
}

pub fn init(target: Target) {
    // A second init (tests calling main twice) keeps the first subscriber, which is what we want.
    let Ok(spec) = std::env::var(ENV_LOG) else {
        let _ = tracing::subscriber::set_global_default(Warnings { target });
        return;
    };
    let filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match target {
        Target::Stderr => builder.with_writer(io::stderr).without_time().try_init(),
        Target::File(_) => builder.with_ansi(false).with_writer(move || target.writer()).try_init(),
    };
}

/// Warnings and errors, one line each (`WARN message key=value`), written where the target says; no spans.
struct Warnings {
    target: Target,
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::WARN)
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!("{:>5} ", event.metadata().level()));
        event.record(&mut line);
        line.0.push('\n');
        let _ = self.target.writer().write_all(line.0.as_bytes());
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}
