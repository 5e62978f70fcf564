//! A large real module: Jaeger v1.75.0's `cmd/jaeger` from the Go module proxy (~1,000 packages, ~2,500 tool runs),
//! which `tools/test` builds through `gohook build` (it needs the binary for the OTLP tests anyway) with go's own
//! action graph asked for, into `target/large-module`. What a user reads at that size must agree with what go itself
//! says: the header's queue percentiles and every queue time on the critical path, computed here from go's plan.

use gohook_tests::*;
use serde_json::Value;

#[test]
fn at_a_thousand_packages_the_queue_times_are_gos_plans() {
    let root = repo_root().join("target/large-module");
    let plan = root.join("plan.json");
    assert!(
        plan.is_file(),
        "{} is missing: tools/test builds Jaeger through gohook into target/large-module (remove target/go-tools/jaeger \
         and run tools/test)",
        plan.display()
    );
    let report = World::new()
        .gohook()
        .env("GOHOOK_DIR", root.join("records"))
        .args(["report", "--format", "json"])
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", text(&report.stderr));
    let summary: Value = serde_json::from_slice(&report.stdout).unwrap();
    let runs = u64_of(&summary, "invocations");
    let packages = summary["packages_in_build"].as_u64().unwrap();
    assert!(
        runs > 1_000 && packages > 500,
        "{} holds a build of {runs} tool runs over {packages} packages, not a large module compiled: was it served \
         from go's cache? tools/test builds it with a GOCACHE of its own (remove target/large-module and run tools/test)",
        root.join("records").display()
    );

    // ~1,000 packages on a few cores wait for them: the header says so, in go's plan's figures, and nothing on the
    // critical path waited longer.
    let (_, p95, _) = assert_queues_are_gos_plans(&summary, &plan, "github.com/jaegertracing/jaeger/cmd/jaeger");
    assert!(p95 > 0, "{}", summary["go_cache"]);
    let path = &summary["critical_path"];
    // One floor: the verdict's is the what-if's.
    assert_eq!(path["limit"]["floor_ns"], summary["what_if"]["floor_ns"]);
}
