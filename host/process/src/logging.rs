//! Logging through `tracing`: quiet unless something is wrong, [`LOG`](crate::env::LOG)`=debug` (any `tracing` filter)
//! for more.
//!
//! The commands log to stderr. The toolexec shim must never write to stderr on success, because go caches a
//! compile's output and replays it on every later cache hit; it logs to a file instead ([`LOG_FILE`](crate::env::LOG_FILE), set by
//! `gohook build` to the build's own log, else `<record root>/gohook.log`), opened only when there is something to say.
//!
//! Without a filter the subscriber is [`Lines`] at warnings, a few lines that cost nothing at start-up. The commands
//! ([`init`]) set up `tracing-subscriber`'s registry and filter when someone asks for more; the shim ([`init_plain`])
//! never does, so none of it is in the executable go runs for every tool.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, span};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

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

/// The commands' logging: `tracing-subscriber`'s, filtered by the directives of [`LOG`](crate::env::LOG).
pub fn init(target: Target) {
    init_at(target, Level::WARN)
}

/// [`init`] with another level than warnings when `GOHOOK_LOG` says nothing (`gohook plugin test` shows a plugin's
/// logs, at info).
pub fn init_at(target: Target, default: Level) {
    // A second init (tests calling main twice) keeps the first subscriber, which is what we want.
    let Some(spec) = crate::env::log_filter() else {
        let _ = tracing::subscriber::set_global_default(Lines { target, max: default });
        return;
    };
    // `debug`, or per target `gohook_runtime=debug,warn`: tracing's directive syntax without its regex engine,
    // which would double the shim's code.
    let filter: Targets =
        spec.parse().unwrap_or_else(|_| Targets::new().with_default(LevelFilter::from_level(default)));
    let layer = tracing_subscriber::fmt::layer().with_target(false);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match target {
        Target::Stderr => registry.with(layer.with_writer(io::stderr).without_time()).try_init(),
        Target::File(_) => registry.with(layer.with_ansi(false).with_writer(move || target.writer())).try_init(),
    };
}

/// The shim's logging: plain lines up to the most verbose level [`LOG`](crate::env::LOG) names (`debug`, or
/// `gohook_shim=debug` read as debug), warnings without it.
pub fn init_plain(target: Target) {
    let spec = crate::env::log_filter().unwrap_or_default();
    let max = [Level::TRACE, Level::DEBUG, Level::INFO, Level::WARN, Level::ERROR]
        .into_iter()
        .find(|level| spec.to_ascii_lowercase().contains(&level.as_str().to_ascii_lowercase()))
        .unwrap_or(Level::WARN);
    let _ = tracing::subscriber::set_global_default(Lines { target, max });
}

/// Events up to `max`, one line each (`WARN message key=value`), written where the target says; no spans.
struct Lines {
    target: Target,
    max: Level,
}

impl tracing::Subscriber for Lines {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::from_level(self.max))
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
