//! What `gohook build`, `exec` and `bench` do with their builds once recorded: send them to the OpenTelemetry
//! endpoint the environment or `[export.otlp]` names, each once, as `gohook export otlp` would.

use std::time::Instant;

use gohook_analysis::BuildRecords;
use gohook_otlp::{Config, Exporter, Ledger};
use gohook_policy::Policy;
use gohook_records::Store;

/// At the end of `gohook build`, `exec` or `bench`: the builds go to the configured endpoint, if any, within its
/// timeout altogether. Whatever happens, one line at most, and the build's exit code stays go's: what was not sent
/// is sent by the next `gohook export otlp`.
pub fn send_to_otlp(store: &Store, policy: &Policy, builds: &[&BuildRecords]) {
    let config = match Config::from_env(policy.export.otlp.as_ref(), None) {
        Ok(Some(config)) => config,
        Ok(None) => return,
        Err(e) => return eprintln!("gohook: builds not sent to OpenTelemetry: {e:#}"),
    };
    let deadline = Instant::now() + config.timeout;
    let exporter = Exporter::new(config);
    let url = exporter.config().traces_url.clone();
    let mut ledger = match Ledger::open(store.root(), &url) {
        Ok(ledger) => ledger,
        Err(e) => return eprintln!("gohook: builds not sent to {url}: cannot read what was sent before: {e}"),
    };
    let host = gohook_otlp::host_name();
    for build in builds {
        let trace = gohook_otlp::trace_of(build, exporter.config(), &host);
        match exporter.send(&trace, deadline) {
            Ok(sent) => {
                tracing::info!("sent build {} to {url}: {} spans in {} requests", build.id, sent.spans, sent.requests);
                if let Err(e) = ledger.record(&build.id, &url) {
                    tracing::warn!("cannot note build {} as sent in {}: {e}", build.id, ledger.path().display());
                }
            }
            Err(e) => {
                return eprintln!("gohook: build {} not sent: {e}; `gohook export otlp` sends it later", build.id);
            }
        }
    }
}
