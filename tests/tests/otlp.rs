//! Builds sent to a real Jaeger over OTLP/HTTP and read back through its query API: the trace's shape, times and
//! attributes, a parent from TRACEPARENT or a GitHub Actions run, endpoints that are down, refuse or hang, the
//! builds a failed export left for later, and a 10,000-run build in batches.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gohook_records::{Stage, Store};
use gohook_tests::jaeger::{Jaeger, free_port, sha256_hex, tag};
use gohook_tests::{BuildRecords, World, fresh_sample, gohook_bin, synthetic_build, text};
use serde_json::Value;

/// The span without a parent in the trace (the go command), and the others.
fn root_and_children(trace: &Value) -> (&Value, Vec<&Value>) {
    let spans = trace["spans"].as_array().unwrap();
    let ids: Vec<&str> = spans.iter().map(|s| s["spanID"].as_str().unwrap()).collect();
    let is_root =
        |s: &&Value| s["references"].as_array().unwrap().iter().all(|r| !ids.contains(&r["spanID"].as_str().unwrap()));
    let roots: Vec<&Value> = spans.iter().filter(is_root).collect();
    assert_eq!(roots.len(), 1, "one root span");
    (roots[0], spans.iter().filter(|s| !is_root(s)).collect())
}

fn parent_of(span: &Value) -> (&str, &str) {
    let reference = &span["references"][0];
    assert_eq!(reference["refType"], "CHILD_OF");
    (reference["traceID"].as_str().unwrap(), reference["spanID"].as_str().unwrap())
}

/// `gohook export otlp ARGS` of `world`'s builds to `jaeger`, as service `service`, with `env` besides.
fn export_otlp(world: &World, jaeger: &Jaeger, service: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    world
        .gohook()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &jaeger.otlp_endpoint)
        .env("OTEL_SERVICE_NAME", service)
        .envs(env.iter().copied())
        .args(["export", "otlp"])
        .args(args)
        .output()
        .unwrap()
}

/// The one line a build that could not be sent prints, from a build that still exited 0.
fn the_one_warning(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("not sent")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    lines[0].to_owned()
}

fn micros(ns: u64) -> u64 {
    ns / 1000
}

#[test]
fn a_build_is_one_trace_with_every_tool_run_and_phase_inside_its_root() {
    let jaeger = Jaeger::start();
    let world = World::new();
    let sample = fresh_sample();
    // Not stripped: the strip check's finding, as a warning, lands on the link.
    std::fs::write(sample.path().join("gohook.toml"), "[plugins.strip]\nrules = { \"strip/symbols\" = \"warn\" }\n")
        .unwrap();
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &jaeger.otlp_endpoint)
        .env("OTEL_SERVICE_NAME", "sample-builds")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci,team=go%20platform")
        .args(["build", "--phases", "-o", "bin", "."])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("not sent"), "{stderr}");

    let build = world.records(&world.only_build());
    let reports = build.self_reports();
    let phases: usize = build.runs.iter().map(|r| BuildRecords::phases_of(&reports, r).len()).sum();
    assert!(phases > 0, "--phases records the compiler's and linker's phases");
    let expected = build.runs.len() + 1 + phases;
    let traces = jaeger.traces("sample-builds", expected);
    assert_eq!(traces.len(), 1, "one build, one trace");
    let trace = &traces[0];
    assert_eq!(trace["spans"].as_array().unwrap().len(), expected, "tool runs + 1 + phases");

    let (root, children) = root_and_children(trace);
    assert_eq!(root["operationName"], "go build");
    assert_eq!(root["startTime"], micros(build.start_unix_ns()));
    let root_start = root["startTime"].as_u64().unwrap();
    let root_end = root_start + root["duration"].as_u64().unwrap();
    assert_eq!(tag(&root["tags"], "cicd.pipeline.task.run.id"), Some(&Value::from(build.id.clone())));
    assert_eq!(tag(&root["tags"], "cicd.pipeline.task.run.result"), Some(&Value::from("success")));
    assert_eq!(tag(&root["tags"], "gohook.tool_runs"), Some(&Value::from(build.runs.len())));
    for child in &children {
        let start = child["startTime"].as_u64().unwrap();
        let end = start + child["duration"].as_u64().unwrap();
        assert!(root_start <= start && end <= root_end + 1, "{} lies inside the build", child["operationName"]);
    }

    // Every tool run is a child of the root at its recorded start, to the microsecond.
    let root_id = root["spanID"].as_str().unwrap();
    for run in &build.runs {
        let name = if run.stage.is_probe() {
            format!("{} -V=full", run.tool)
        } else {
            format!("{} {}", run.tool, run.package)
        };
        let span = children
            .iter()
            .find(|s| s["operationName"] == name.as_str() && s["startTime"] == micros(run.start_unix_ns))
            .unwrap_or_else(|| panic!("no span {name} at {}", micros(run.start_unix_ns)));
        assert_eq!(parent_of(span).1, root_id);
        assert_eq!(span["duration"], micros(run.duration_ns));
        let ran = BuildRecords::phases_of(&reports, run).len();
        let span_id = span["spanID"].as_str().unwrap();
        assert_eq!(children.iter().filter(|s| parent_of(s).1 == span_id).count(), ran, "{name}: its phases");
    }

    // The link: its attributes, on the critical path, and the strip check's finding as an event.
    let link_run = build.runs.iter().find(|r| r.stage == Stage::Link).unwrap();
    let link = children.iter().find(|s| s["operationName"] == "link example.com/sample").unwrap();
    for (key, value) in [
        ("gohook.stage", Value::from("link")),
        ("gohook.tool", Value::from("link")),
        ("gohook.package", Value::from("example.com/sample")),
        ("gohook.goos", Value::from(link_run.goos.clone())),
        ("gohook.goarch", Value::from(link_run.goarch.clone())),
        ("process.exit.code", Value::from(0)),
        ("process.pid", Value::from(link_run.pid)),
        ("gohook.cpu.user_ns", Value::from(link_run.user_ns)),
        ("gohook.memory.peak_rss_bytes", Value::from(link_run.max_rss_bytes)),
        ("gohook.plugin_ns", Value::from(link_run.plugin_ns)),
        ("gohook.critical_path", Value::from(true)),
    ] {
        assert_eq!(tag(&link["tags"], key), Some(&value), "{key}");
    }
    // Its wait for a core and the build's floor are the report's: one model of waiting, one floor.
    let summary = world.summary(&build.id);
    let link_step = summary["critical_path"]["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(link_step["name"], "link");
    assert_eq!(tag(&link["tags"], "gohook.queued_ns"), Some(&link_step["queued_ns"]));
    assert_eq!(tag(&root["tags"], "gohook.critical_path.floor_ns"), Some(&summary["what_if"]["floor_ns"]));
    let finding = &link_run.findings[0];
    assert_eq!(finding.rule, "strip/symbols");
    let logs = link["logs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "one finding, one event");
    assert_eq!(logs[0]["timestamp"], micros(link_run.end_unix_ns()));
    for (key, value) in [
        ("event", "gohook.finding"),
        ("gohook.finding.rule", "strip/symbols"),
        ("gohook.finding.severity", "warning"),
        ("gohook.finding.message", finding.message.as_str()),
        ("gohook.finding.plugin", "strip"),
    ] {
        assert_eq!(tag(&logs[0]["fields"], key), Some(&Value::from(value)), "{key}");
    }

    // The machine, as the resource.
    let process = &trace["processes"][root["processID"].as_str().unwrap()];
    assert_eq!(process["serviceName"], "sample-builds");
    let machine = &build.context.as_ref().unwrap().machine;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    for (key, value) in [
        ("host.arch", Value::from(arch)),
        ("host.cpu.model.name", Value::from(machine.cpu.clone())),
        ("os.type", Value::from("linux")),
        ("os.version", Value::from(machine.os_version.clone())),
        ("gohook.host.logical_cpus", Value::from(machine.logical_cpus)),
        ("gohook.host.memory_bytes", Value::from(machine.memory_bytes)),
        ("deployment.environment", Value::from("ci")),
        ("team", Value::from("go platform")),
        ("telemetry.sdk.name", Value::from("gohook")),
    ] {
        assert_eq!(tag(&process["tags"], key), Some(&value), "{key}");
    }
    let host = text(&std::process::Command::new("uname").arg("-n").output().unwrap().stdout).trim().to_owned();
    assert_eq!(tag(&process["tags"], "host.name"), Some(&Value::from(host)));
}

/// A bare `go build -toolexec=gohook` of the sample in `dir` with `env`; asserts it succeeded.
fn bare_build(world: &World, dir: &Path, env: &[(&str, &str)]) {
    let out = world
        .command("go")
        .current_dir(dir)
        .envs(env.iter().copied())
        .args(["build", &format!("-toolexec={}", gohook_bin().display()), "-o", "bin", "."])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "toolexec mode is silent: {}", text(&out.stderr));
}

#[test]
fn a_traceparent_or_a_github_actions_run_becomes_the_parent_of_the_build() {
    let jaeger = Jaeger::start();
    let world = World::new();
    let sample = fresh_sample();
    let (bare_trace, bare_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    bare_build(&world, sample.path(), &[("TRACEPARENT", &format!("00-{bare_trace}-{bare_span}-01"))]);
    let export = |service: &str| export_otlp(&world, &jaeger, service, &[], &[]);
    let out = export("parents");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("gohook: sent 1 build ("), "{stderr}");

    // gohook build, with another trace: sent when the build ends.
    let (built_trace, built_span) = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    let out = world
        .gohook()
        .current_dir(sample.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &jaeger.otlp_endpoint)
        .env("OTEL_SERVICE_NAME", "parents")
        .env("TRACEPARENT", format!("00-{built_trace}-{built_span}-01"))
        .env("TRACESTATE", "vendor=abc")
        .args(["build", "-o", "bin", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // In GitHub Actions, no TRACEPARENT: the ids of the collector's GitHub receiver, computed here by sha256sum. The
    // workflow run's root span, then with the check run id the job's span; sent as OTLP/JSON.
    bare_build(
        &world,
        sample.path(),
        &[("GITHUB_ACTIONS", "true"), ("GITHUB_RUN_ID", "9753949763"), ("GITHUB_RUN_ATTEMPT", "2")],
    );
    bare_build(
        &world,
        sample.path(),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "9753949764"),
            ("GITHUB_RUN_ATTEMPT", "1"),
            ("GOHOOK_GITHUB_CHECK_RUN_ID", "26920038674"),
        ],
    );
    let out = export_otlp(&world, &jaeger, "parents", &[], &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("gohook: sending 2 builds to "), "{stderr}");
    assert!(stderr.contains("\ngohook: sent 2 builds ("), "{stderr}");
    assert!(stderr.ends_with("; 2 sent before (--again sends them anew)\n"), "{stderr}");

    let run_trace = &sha256_hex("97539497632t")[..32];
    let run_span = &sha256_hex("97539497632s")[16..32];
    let job_trace = &sha256_hex("97539497641t")[..32];
    let job_span = &sha256_hex("26920038674-j")[16..32];
    let builds = world.builds();
    assert_eq!(builds.len(), 4);
    let traces = jaeger.traces("parents", 4);
    let mut parents: Vec<(String, String, String)> = traces
        .iter()
        .map(|trace| {
            let (root, _) = root_and_children(trace);
            let (trace_id, span_id) = parent_of(root);
            assert_eq!(root["traceID"], trace_id, "the trace id is kept");
            let build = tag(&root["tags"], "gohook.build.id").unwrap().as_str().unwrap().to_owned();
            (build, trace_id.to_owned(), span_id.to_owned())
        })
        .collect();
    parents.sort();
    let expected: Vec<(String, String, String)> = builds
        .iter()
        .zip([(bare_trace, bare_span), (built_trace, built_span), (run_trace, run_span), (job_trace, job_span)])
        .map(|(build, (t, s))| (build.clone(), t.to_owned(), s.to_owned()))
        .collect();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(parents, sorted);

    // Nothing new: nothing sent.
    let out = export("parents");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        format!(
            "gohook: nothing to send to {}/v1/traces: 4 sent before (--again sends them anew)\n",
            jaeger.otlp_endpoint
        )
    );
}

/// An endpoint that answers every request with 503 and `Retry-After: 0`, counting the requests.
fn refusing_endpoint() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            let mut stream = stream;
            let _ = stream.write_all(
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 9\r\nConnection: close\r\n\r\noverload\n",
            );
        }
    });
    (url, count)
}

#[test]
fn a_dead_refusing_or_silent_endpoint_never_fails_a_build_and_what_it_missed_goes_later() {
    let world = World::new();
    let sample = fresh_sample();
    let build = |endpoint: &str, timeout_ms: &str| {
        world
            .gohook()
            .current_dir(sample.path())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env("OTEL_EXPORTER_OTLP_TIMEOUT", timeout_ms)
            .args(["build", "-o", "bin", "."])
            .output()
            .unwrap()
    };

    // Down: nothing listens.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let line = the_one_warning(&build(&dead, "2000"));
    assert!(line.contains(&format!(": cannot reach {dead}/v1/traces: ")), "{line}");
    assert!(line.ends_with("; `gohook export otlp` sends it later"), "{line}");

    // A build that fails fails as go did, export or not.
    std::fs::write(sample.path().join("broken.go"), "package main\n\nfunc broken( {\n").unwrap();
    let out = build(&dead, "2000");
    assert_eq!(out.status.code(), Some(1), "go's exit status");
    assert_eq!(text(&out.stderr).lines().filter(|l| l.contains("not sent")).count(), 1);
    std::fs::remove_file(sample.path().join("broken.go")).unwrap();

    // Refusing: 503 with Retry-After, retried until the timeout, then one line.
    let (refusing, requests) = refusing_endpoint();
    let line = the_one_warning(&build(&refusing, "1000"));
    assert!(line.contains(&format!(": {refusing}/v1/traces answered 503: overload (retried ")), "{line}");
    assert!(requests.load(Ordering::SeqCst) >= 2, "503 is retried");

    // Silent: accepts and never answers; the timeout ends the wait.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let line = the_one_warning(&build(&silent_url, "700"));
    assert!(line.contains(&format!(": {silent_url}/v1/traces did not answer within 700 ms")), "{line}");
    drop(silent);

    // Later, a collector that works: every build missed goes, once.
    let jaeger = Jaeger::start();
    let export = || export_otlp(&world, &jaeger, "missed", &[], &[]);
    let out = export();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("gohook: sending 4 builds to "), "{stderr}");
    assert!(stderr.contains("\ngohook: sent 4 builds ("), "{stderr}");
    let expected: usize = world.builds().iter().map(|id| world.records(id).runs.len() + 1).sum();
    let traces = jaeger.traces("missed", expected);
    assert_eq!(traces.len(), 4);
    let out = export();
    assert_eq!(
        text(&out.stderr),
        format!(
            "gohook: nothing to send to {}/v1/traces: 4 sent before (--again sends them anew)\n",
            jaeger.otlp_endpoint
        )
    );
}

#[test]
fn a_build_of_ten_thousand_runs_goes_in_batches_and_arrives_whole() {
    let jaeger = Jaeger::start();
    let world = World::new();
    let id = "20261203T000000.000Z-synthetic";
    // An hour ago: inside the query API's default look-back.
    let start = gohook_tests::now_ns() - 3_600_000_000_000;
    synthetic_build(&Store::new(world.root.path().to_owned()), id, start, 10_000);
    let out = export_otlp(&world, &jaeger, "big", &[id], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("gohook: sent 1 build (10001 spans in 6 requests) to "), "{stderr}");
    let traces = jaeger.traces("big", 10_001);
    assert_eq!(traces.len(), 1);
    let spans = traces[0]["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 10_001, "every span of every batch");
    let (root, children) = root_and_children(&traces[0]);
    assert_eq!(root["operationName"], "go build");
    assert_eq!(root["startTime"], start / 1000);
    assert_eq!(children.len(), 10_000);
    assert!(children.iter().any(|s| s["operationName"] == "compile example.com/big/p9999"));
}
