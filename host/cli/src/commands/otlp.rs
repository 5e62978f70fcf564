//! `gohook export otlp`: builds as OpenTelemetry traces (`gohook_otlp`), sent where the OpenTelemetry variables or
//! `[export.otlp]` say, each build once per endpoint (the export at the end of a build is `crate::after_build`'s).

use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail};

use gohook_analysis::BuildRecords;
use gohook_otlp::{Config, Exporter, Ledger};
use gohook_policy::Policy;
use gohook_records::Store;

use crate::args::OtlpArgs;
use crate::commands::CommandContext;

/// `gohook export otlp`.
pub fn export(args: OtlpArgs, context: CommandContext) -> Result<u8> {
    let OtlpArgs { builds: ids, run, since, again, endpoint } = args;
    let policy = Policy::find(context.config.as_deref(), &std::env::current_dir()?)?;
    let Some(config) = Config::from_env(policy.export.otlp.as_ref(), endpoint.as_deref())? else {
        bail!(
            "no OpenTelemetry endpoint: set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://localhost:4318), pass \
             --endpoint, or add [export.otlp] endpoint = \"…\" to gohook.toml (and leave OTEL_SDK_DISABLED unset)"
        );
    };
    let store = &context.store;
    let since = since.as_deref().map(parse_since).transpose()?;
    let builds = if !ids.is_empty() {
        BuildRecords::selected(store, &ids)?
    } else if let Some(run) = &run {
        BuildRecords::of_run(store, run)?
    } else {
        every_build(store)?
    };
    let builds: Vec<BuildRecords> =
        builds.into_iter().filter(|b| since.is_none_or(|since| b.start_unix_ns() >= since)).collect();

    let exporter = Exporter::new(config);
    let url = exporter.config().traces_url.clone();
    let mut ledger = Ledger::open(store.root(), &url).with_context(|| format!("cannot read what was sent to {url}"))?;
    let (mut before, mut unfinished, mut to_send) = (0, 0, Vec::new());
    for build in builds {
        if !again && ledger.contains(&build.id) {
            before += 1;
        } else if build.end.is_none() && gohook_records::writer_running(&build.id) {
            unfinished += 1;
        } else {
            to_send.push(build);
        }
    }
    let mut notes = Vec::new();
    if before > 0 {
        notes.push(format!("{before} sent before (--again sends them anew)"));
    }
    if unfinished > 0 {
        notes.push(format!("{unfinished} still being written (a later export sends them)"));
    }
    if to_send.is_empty() {
        let why = if notes.is_empty() { "no builds recorded".to_owned() } else { notes.join("; ") };
        eprintln!("gohook: nothing to send to {url}: {why}");
        return Ok(0);
    }
    if to_send.len() > 1 {
        eprintln!("gohook: sending {} builds to {url} …", to_send.len());
    }
    let started = Instant::now();
    let host = gohook_otlp::host_name();
    let (mut sent, mut spans, mut requests) = (0, 0, 0);
    let mut failure = None;
    for build in &to_send {
        let trace = gohook_otlp::trace_of(build, exporter.config(), &host);
        match exporter.send(&trace, Instant::now() + exporter.config().timeout) {
            Ok(result) => {
                sent += 1;
                spans += result.spans;
                requests += result.requests;
                if let Err(e) = ledger.record(&build.id, &url) {
                    eprintln!(
                        "gohook: sent build {}, but cannot note it in {}: {e}",
                        build.id,
                        ledger.path().display()
                    );
                }
            }
            Err(e) => {
                failure = Some(format!("build {}: {e}", build.id));
                break;
            }
        }
    }
    let line = format!(
        "gohook: sent {} ({} in {}) to {url} in {:.1} s",
        gohook_analysis::count(sent, "build", "builds"),
        gohook_analysis::count(spans, "span", "spans"),
        gohook_analysis::count(requests, "request", "requests"),
        started.elapsed().as_secs_f64()
    );
    eprintln!("{}", std::iter::once(line).chain(notes).collect::<Vec<_>>().join("; "));
    match failure {
        Some(why) => {
            let left = to_send.len() - sent;
            eprintln!("gohook: could not send {why}; {left} left for the next `gohook export otlp`");
            Ok(1)
        }
        None => Ok(0),
    }
}

/// Every build in the record root, oldest first; one that cannot be read is said and skipped.
fn every_build(store: &Store) -> Result<Vec<BuildRecords>> {
    let files = store.list().with_context(|| format!("cannot list the builds in {}", store.builds_dir().display()))?;
    let mut builds: Vec<BuildRecords> = files
        .iter()
        .filter_map(|file| match BuildRecords::load(store, file) {
            Ok(build) => Some(build),
            Err(e) => {
                eprintln!("gohook: skipping {}: {e}", file.path.display());
                None
            }
        })
        .collect();
    builds.sort_by_key(BuildRecords::start_unix_ns);
    Ok(builds)
}

/// `--since`: a duration back from now, or a point in time; Unix ns.
fn parse_since(text: &str) -> Result<u64> {
    let at = match humantime::parse_duration(text) {
        Ok(ago) => SystemTime::now().checked_sub(ago).unwrap_or(SystemTime::UNIX_EPOCH),
        Err(_) => humantime::parse_rfc3339_weak(text).map_err(|_| {
            anyhow::anyhow!("--since {text}: neither a duration (2h, 7days) nor a time (2026-12-01T00:00:00Z)")
        })?,
    };
    Ok(at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos() as u64)
}
