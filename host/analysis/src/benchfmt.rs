//! `gohook report --format benchfmt`: builds in the Go benchmark format, so `benchstat old.txt new.txt` (and every
//! other tool that reads `go test -bench` output) works on them unchanged.
//!
//! The machine goes into configuration lines (`goos:`, `goarch:`, `cpu:`, `pkg:`, `go:` and the build's labels);
//! each build gives one result line for the whole build, one per stage and one per compiled package:
//!
//! ```text
//! BenchmarkBuild/stage=build 1 10214000000 ns/op 15100000000 cpu-ns/op 190000000 peak-rss-B/op
//! BenchmarkBuild/stage=compile 1 8120000000 ns/op 14000000000 cpu-ns/op 190000000 peak-rss-B/op
//! BenchmarkBuild/stage=compile/pkg=example.com∕sample 1 120000000 ns/op 180000000 cpu-ns/op 60000000 peak-rss-B/op
//! ```
//!
//! A package path's `/` would split the name into sub-benchmarks, so it is written as `∕` (U+2215). The run name is
//! not a configuration line: benchstat keeps differing configurations apart, and two runs are what it compares.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use gohook_records::Stage;

use crate::model::{BuildRecords, Totals};

pub fn render(builds: &[BuildRecords]) -> String {
    let mut out = String::new();
    if let Some(first) = builds.first() {
        write_config(&mut out, first);
    }
    for build in builds {
        write_results(&mut out, build);
    }
    out
}

fn write_config(out: &mut String, build: &BuildRecords) {
    let target = build.work().next().map(|r| (r.goos.clone(), r.goarch.clone()));
    if let Some((goos, goarch)) = target {
        let _ = writeln!(out, "goos: {goos}\ngoarch: {goarch}");
    }
    if let Some(context) = &build.context {
        if !context.machine.cpu.is_empty() {
            let _ = writeln!(out, "cpu: {}", context.machine.cpu);
        }
        if !context.go.version.is_empty() {
            let _ = writeln!(out, "go: {}", context.go.version);
        }
        for (key, value) in &context.labels {
            let _ = writeln!(out, "{}: {value}", config_key(key));
        }
    }
    if let Some(link) = build.work().find(|r| r.stage == Stage::Link && !r.package.is_empty()) {
        let _ = writeln!(out, "pkg: {}", link.package);
    }
}

/// benchfmt keys are a lower-case letter then non-space, non-upper-case characters.
fn config_key(key: &str) -> String {
    let key: String =
        key.chars().map(|c| if c.is_whitespace() || c == ':' { '-' } else { c.to_ascii_lowercase() }).collect();
    if key.starts_with(|c: char| c.is_ascii_lowercase()) { key } else { format!("label-{key}") }
}

fn write_results(out: &mut String, build: &BuildRecords) {
    let (whole, stages) = build.totals();
    let mut packages: BTreeMap<&str, Totals> = BTreeMap::new();
    for run in build.work().filter(|r| r.stage == Stage::Compile && !r.package.is_empty()) {
        packages.entry(&run.package).or_default().add(run);
    }
    line(out, "stage=build", &whole);
    for (stage, totals) in &stages {
        line(out, &format!("stage={}", stage.name()), totals);
    }
    for (package, totals) in &packages {
        line(out, &format!("stage=compile/pkg={}", package.replace('/', "\u{2215}")), totals);
    }
}

fn line(out: &mut String, name: &str, totals: &Totals) {
    let _ = writeln!(
        out,
        "BenchmarkBuild/{name} 1 {} ns/op {} cpu-ns/op {} peak-rss-B/op",
        totals.wall_ns, totals.cpu_ns, totals.peak_rss_bytes
    );
}
