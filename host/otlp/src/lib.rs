//! Recorded builds as OpenTelemetry traces, sent over OTLP/HTTP to the collector or backend a company already runs
//! (Jaeger, Tempo, Honeycomb, Datadog): every build of a fleet next to the CI pipeline's own spans.
//!
//! Data flows one way: a build's records ([`gohook_analysis::BuildRecords`]) become a [`Trace`] ([`trace_of`]),
//! which an [`Exporter`] sends where the [`Config`] says; a [`Ledger`] per endpoint remembers what went out. Ids are
//! derived from the records (`ids`), never random, so a build sent twice is the same trace. Nothing here runs in
//! the per-invocation shim: the shim only records the `TRACEPARENT` it saw.

mod config;
mod ids;
mod ledger;
mod send;
mod spans;

pub use config::{Config, ConfigError, DEFAULT_TIMEOUT, Protocol};
pub use ids::Parent;
pub use ledger::Ledger;
pub use send::{Exporter, SPANS_PER_REQUEST, SendError, Sent};
pub use spans::{Trace, trace_of};

/// This machine's name, for `host.name` (the records are read where they were written).
pub fn host_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most the buffer's length.
    let ok = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) } == 0;
    let len = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    if ok { String::from_utf8_lossy(&buffer[..len]).into_owned() } else { String::new() }
}
