//! One recorded build as an OpenTelemetry trace: a root span for the go command, a child per tool run at its
//! recorded start and end, the compiler's and linker's phases (when recorded) as grandchildren laid end to end inside
//! their run, findings as events, the critical path marked; the machine as the resource.
//!
//! Names follow OpenTelemetry's semantic conventions where one fits — the CI/CD task span (`cicd.pipeline.task.*`),
//! `host.*`, `os.*`, `process.*` — and are `gohook.*` where none does.

use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{Span, Status, status::StatusCode};

use gohook_analysis::{BuildRecords, CriticalPath, Wait, WhatIf};
use gohook_records::{ActionOutcome, Exit, ToolRun};

use crate::config::Config;
use crate::ids::{self, Parent, SpanId, TraceId};

/// A build's trace: its resource (the machine) and its spans, root first.
#[derive(Debug, Clone)]
pub struct Trace {
    pub build_id: String,
    pub trace_id: TraceId,
    pub resource: Resource,
    pub scope: InstrumentationScope,
    pub spans: Vec<Span>,
    /// Where its root hangs, when the build ran inside a trace.
    pub parent: Option<Parent>,
}

/// Span flags: sampled (the W3C trace flag).
const SAMPLED: u32 = 1;

/// The trace of `build`, recorded on the machine called `host_name`.
pub fn trace_of(build: &BuildRecords, config: &Config, host_name: &str) -> Trace {
    let parent = build.trace_parent.as_ref().and_then(Parent::of);
    let trace_id = parent.as_ref().map_or_else(|| ids::trace_of_build(&build.id), |p| p.trace_id);
    let root_id = ids::span(&build.id, "go");
    // Read once: the root carries the floor (the what-if's, as the report's verdict), the runs on the path are
    // marked, and each run carries its wait for a core from go's plan.
    let path = CriticalPath::of(build, None);
    let floor_ns = WhatIf::of(build, &[]).map(|w| w.floor_ns);
    let mut spans = vec![root_span(build, floor_ns, trace_id, root_id, parent.as_ref())];
    let waits = build.waits();

    let on_path = path.as_ref().map(|path| path.runs(build)).unwrap_or_default();
    let reports = build.self_reports();
    for run in &build.runs {
        let what = format!("run/{}/{}", run.pid, run.start_unix_ns);
        let span_id = ids::span(&build.id, &what);
        let critical = on_path.contains(&(run.pid, run.start_unix_ns));
        let wait = waits.get(&(run.stage, run.package.as_str()));
        spans.push(run_span(run, trace_id, span_id, root_id, critical, wait));
        let mut cursor = run.start_unix_ns;
        for (i, phase) in BuildRecords::phases_of(&reports, run).iter().enumerate() {
            let end = (cursor + phase.ns).min(run.end_unix_ns());
            spans.push(Span {
                trace_id: trace_id.to_vec(),
                span_id: ids::span(&build.id, &format!("{what}/phase/{i}")).to_vec(),
                parent_span_id: span_id.to_vec(),
                flags: SAMPLED,
                name: phase.name.clone(),
                kind: SpanKind::Internal as i32,
                start_time_unix_nano: cursor,
                end_time_unix_nano: end,
                // The package too: a phase found by its duration says whose it is.
                attributes: vec![
                    text("gohook.phase", &phase.name),
                    int("gohook.phase.ns", phase.ns),
                    text("gohook.package", &run.package),
                    text("gohook.stage", run.stage.name()),
                ],
                ..Default::default()
            });
            cursor = end;
        }
    }
    Trace {
        build_id: build.id.clone(),
        trace_id,
        resource: resource(build, config, host_name),
        scope: InstrumentationScope {
            name: "gohook".to_owned(),
            version: gohook_records::VERSION.to_owned(),
            ..Default::default()
        },
        spans,
        parent,
    }
}

/// `go build`: the go command and its subcommand, low-cardinality as a span name should be.
fn task_name(build: &BuildRecords) -> String {
    let command = build.command();
    let go = command.first().map(|c| c.rsplit('/').next().unwrap_or(c).to_owned()).unwrap_or_else(|| "go".into());
    match command.get(1).filter(|sub| !sub.starts_with('-')) {
        Some(sub) => format!("{go} {sub}"),
        None => go,
    }
}

fn root_span(
    build: &BuildRecords,
    floor_ns: Option<u64>,
    trace_id: TraceId,
    root_id: SpanId,
    parent: Option<&Parent>,
) -> Span {
    let name = task_name(build);
    let mut attributes = vec![
        text("cicd.pipeline.task.name", &name),
        text("cicd.pipeline.task.type", "build"),
        text("cicd.pipeline.task.run.id", &build.id),
        strings("process.command_args", &build.command()),
        text("gohook.build.id", &build.id),
        int("gohook.tool_runs", build.runs.len() as u64),
    ];
    let mut status = None;
    if let Some(end) = &build.end {
        let success = end.exit.success();
        attributes.push(text("cicd.pipeline.task.run.result", if success { "success" } else { "failure" }));
        if !success {
            attributes.push(text("error.type", &exit_text(end.exit)));
            status = Some(Status { code: StatusCode::Error as i32, message: format!("go {}", exit_text(end.exit)) });
        }
    }
    if let Some(context) = &build.context {
        attributes.push(text("gohook.go.version", &context.go.version));
        attributes.push(int("gohook.go.parallelism", context.go.parallelism.into()));
        attributes.push(int("gohook.go.gomaxprocs", context.go.gomaxprocs.into()));
    }
    if let Some(actions) = &build.actions {
        let count = |outcome: ActionOutcome| actions.iter().filter(|a| a.outcome() == outcome).count() as u64;
        attributes.push(int("gohook.actions.ran", count(ActionOutcome::Ran)));
        attributes.push(int("gohook.actions.cached", count(ActionOutcome::Served)));
        attributes.push(int("gohook.actions.not_run", count(ActionOutcome::NotRun)));
    }
    if let Some(packages) = &build.packages {
        attributes.push(int("gohook.packages", packages.len() as u64));
    }
    if let Some(floor_ns) = floor_ns {
        attributes.push(int("gohook.critical_path.floor_ns", floor_ns));
    }
    if let Some(parent) = parent {
        attributes.push(text("gohook.parent", &parent.source));
    }
    Span {
        trace_id: trace_id.to_vec(),
        span_id: root_id.to_vec(),
        trace_state: parent.map(|p| p.trace_state.clone()).unwrap_or_default(),
        parent_span_id: parent.map(|p| p.span_id.to_vec()).unwrap_or_default(),
        flags: SAMPLED,
        name,
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: build.start_unix_ns(),
        end_time_unix_nano: build.end_unix_ns(),
        attributes,
        status,
        ..Default::default()
    }
}

fn run_span(
    run: &ToolRun,
    trace_id: TraceId,
    span_id: SpanId,
    root_id: SpanId,
    critical: bool,
    wait: Option<&Wait>,
) -> Span {
    let name = match (run.stage, run.package.is_empty()) {
        (stage, _) if stage.is_probe() => format!("{} -V=full", run.tool),
        (_, true) => run.tool.clone(),
        (_, false) => format!("{} {}", run.tool, run.package),
    };
    let mut attributes = vec![
        text("gohook.stage", run.stage.name()),
        text("gohook.tool", &run.tool),
        text("gohook.goos", &run.goos),
        text("gohook.goarch", &run.goarch),
        int("process.pid", run.pid.into()),
        int("gohook.cpu.user_ns", run.user_ns),
        int("gohook.cpu.sys_ns", run.sys_ns),
        int("gohook.memory.peak_rss_bytes", run.max_rss_bytes),
        int("gohook.overhead_ns", run.gohook_ns),
        int("gohook.plugin_ns", run.plugin_ns),
    ];
    if !run.package.is_empty() {
        attributes.push(text("gohook.package", &run.package));
    }
    match run.exit {
        Exit::Code(code) => attributes.push(attribute("process.exit.code", any_value::Value::IntValue(code.into()))),
        Exit::Signal(signal) => {
            attributes.push(attribute("gohook.exit.signal", any_value::Value::IntValue(signal.into())))
        }
        Exit::NotStarted => {}
    }
    if critical {
        attributes.push(attribute("gohook.critical_path", any_value::Value::BoolValue(true)));
    }
    if let Some(wait) = wait {
        attributes.push(int("gohook.queued_ns", wait.queued_ns()));
    }
    if !run.plugins.is_empty() {
        let names: Vec<String> = run.plugins.iter().map(|p| p.plugin.clone()).collect();
        attributes.push(strings("gohook.plugins", &names));
    }
    let events = run
        .findings
        .iter()
        .map(|finding| {
            let mut attributes = vec![
                text("gohook.finding.rule", &finding.rule),
                text("gohook.finding.severity", finding.severity.name()),
                text("gohook.finding.message", &finding.message),
                text("gohook.finding.plugin", &finding.plugin),
            ];
            if let Some(help) = &finding.help {
                attributes.push(text("gohook.finding.help", help));
            }
            Event { time_unix_nano: run.end_unix_ns(), name: "gohook.finding".into(), attributes, ..Default::default() }
        })
        .collect();
    let status = (!run.exit.success())
        .then(|| Status { code: StatusCode::Error as i32, message: format!("{} {}", run.tool, exit_text(run.exit)) });
    Span {
        trace_id: trace_id.to_vec(),
        span_id: span_id.to_vec(),
        parent_span_id: root_id.to_vec(),
        flags: SAMPLED,
        name,
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: run.start_unix_ns,
        end_time_unix_nano: run.end_unix_ns(),
        attributes,
        events,
        status,
        ..Default::default()
    }
}

/// The machine the build ran on, its labels, and the service the user named.
fn resource(build: &BuildRecords, config: &Config, host_name: &str) -> Resource {
    let mut attributes = vec![
        text("service.name", &config.service_name),
        text("telemetry.sdk.name", "gohook"),
        text("telemetry.sdk.language", "rust"),
        text("telemetry.sdk.version", gohook_records::VERSION),
        text("host.name", host_name),
    ];
    if let Some(context) = &build.context {
        let machine = &context.machine;
        let arch = match machine.arch.as_str() {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "x86",
            other => other,
        };
        let os = if machine.os == "macos" { "darwin" } else { machine.os.as_str() };
        attributes.extend([
            text("host.arch", arch),
            text("host.cpu.model.name", &machine.cpu),
            text("os.type", os),
            text("os.version", &machine.os_version),
            int("gohook.host.logical_cpus", machine.logical_cpus.into()),
            int("gohook.host.memory_bytes", machine.memory_bytes),
        ]);
        if let (Some(p), Some(e)) = (machine.performance_cores, machine.efficiency_cores) {
            attributes.push(int("gohook.host.performance_cores", p.into()));
            attributes.push(int("gohook.host.efficiency_cores", e.into()));
        }
        for (key, value) in &context.labels {
            attributes.push(text(&format!("gohook.label.{key}"), value));
        }
    }
    if let Some(label) = &build.label {
        if !label.run.is_empty() {
            attributes.push(text("gohook.run", &label.run));
        }
        if !label.target.is_empty() {
            attributes.push(text("gohook.target", &label.target));
        }
    }
    for (key, value) in &config.resource_attributes {
        attributes.retain(|kv| kv.key != *key);
        attributes.push(text(key, value));
    }
    Resource { attributes, ..Default::default() }
}

fn exit_text(exit: Exit) -> String {
    match exit {
        Exit::Code(code) => format!("exit status {code}"),
        Exit::Signal(signal) => format!("killed by {}", gohook_records::signal_name(signal)),
        Exit::NotStarted => "could not be started".to_owned(),
    }
}

fn value(value: any_value::Value) -> AnyValue {
    AnyValue { value: Some(value) }
}

fn attribute(key: &str, v: any_value::Value) -> KeyValue {
    KeyValue { key: key.to_owned(), value: Some(value(v)), ..Default::default() }
}

fn text(key: &str, text: &str) -> KeyValue {
    attribute(key, any_value::Value::StringValue(text.to_owned()))
}

fn int(key: &str, n: u64) -> KeyValue {
    attribute(key, any_value::Value::IntValue(n.min(i64::MAX as u64) as i64))
}

fn strings(key: &str, items: &[String]) -> KeyValue {
    let values = items.iter().map(|s| value(any_value::Value::StringValue(s.clone()))).collect();
    attribute(key, any_value::Value::ArrayValue(ArrayValue { values }))
}
