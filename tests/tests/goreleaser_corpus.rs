//! `gohook goreleaser lint` on the goreleaser configs of 40 well-known Go projects (`../shared/corpus/goreleaser/`,
//! read in place): every config goreleaser reads, gohook reads; the goreleaser Pro ones whose builds come from
//! `includes:` get a clear refusal, never a silently linted default matrix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gohook_tests::*;
use serde_json::Value;

fn corpus() -> PathBuf {
    let dir = repo_root().join("../shared/corpus/goreleaser");
    assert!(dir.is_dir(), "the corpus is read in place from {}", dir.display());
    dir
}

/// Configs whose builds come from goreleaser Pro's `includes:`.
const INCLUDES: [&str; 3] = ["charmbracelet__glow.yaml", "charmbracelet__gum.yaml", "charmbracelet__vhs.yaml"];

fn lint(world: &World, dir: &Path, config: &Path) -> std::process::Output {
    world.gohook().current_dir(dir).args(["goreleaser", "lint", "--format", "json"]).arg(config).output().unwrap()
}

/// build id → its targets, from a lint report.
fn targets(report: &Value) -> BTreeMap<String, Vec<String>> {
    report["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let targets = b["targets"].as_array().unwrap().iter().map(|t| t["target"].as_str().unwrap().to_owned());
            (b["id"].as_str().unwrap().to_owned(), targets.collect())
        })
        .collect()
}

#[test]
fn every_corpus_config_is_read() {
    let world = World::new();
    // A policy that allows two architectures, so some configs pass (exit 0) and some fail (exit 1).
    let policy_dir = tempfile::tempdir().unwrap();
    std::fs::write(
        policy_dir.path().join("gohook.toml"),
        "[plugins.arch]\nsettings = { allow = [\"amd64\", \"arm64\"] }\n",
    )
    .unwrap();
    let mut configs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    configs.sort();
    assert_eq!(configs.len(), 40);
    let (mut passed, mut failed) = (0, 0);
    let mut versionless = Vec::new();
    for config in &configs {
        let name = config.file_name().unwrap().to_str().unwrap();
        let out = world
            .gohook()
            .current_dir(policy_dir.path())
            .args(["--config", "gohook.toml", "goreleaser", "lint", "--format", "json"])
            .arg(config)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        if INCLUDES.contains(&name) {
            assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
            assert!(
                stderr.contains("`includes:` (goreleaser Pro) brings in config from other files or URLs")
                    && stderr.contains("the included builds cannot be linted"),
                "{name}: {stderr}"
            );
            // Located at the first entry of `includes:`.
            let yaml = std::fs::read_to_string(config).unwrap();
            let line = yaml.lines().position(|l| l.starts_with("includes:")).unwrap() + 2;
            assert!(stderr.contains(&format!("{}: line {line}, column 3: ", config.display())), "{name}: {stderr}");
            continue;
        }
        let yaml = std::fs::read_to_string(config).unwrap();
        if !yaml.lines().any(|line| line.trim_end() == "version: 2") {
            versionless.push(config.clone());
            assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
            assert!(stderr.contains(&format!("{VERSION_REFUSAL}, yours is version: 0")), "{name}: {stderr}");
            continue;
        }
        // None of these projects runs gohook: with a policy, every build is named as not wired (exit 1).
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name}: {e}: {stderr}"));
        let builds = targets(&report);
        assert!(!builds.is_empty(), "{name}: no builds");
        let linted: usize = builds.values().map(Vec::len).sum();
        let skipped = report["builds"].as_array().unwrap().iter().filter(|b| !b["skipped"].is_null()).count();
        assert!(linted > 0 || skipped > 0, "{name}: neither targets nor skipped builds: {report}");
        for build in report["builds"].as_array().unwrap().iter().filter(|b| b["skipped"].is_null()) {
            assert_eq!(build["wiring"][0]["rule"], "gohook/toolexec", "{name}: {build}");
        }
        let all_pass = report["builds"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|b| b["targets"].as_array().unwrap())
            .all(|t| t["status"] == "pass");
        if all_pass { passed += 1 } else { failed += 1 }
    }
    println!(
        "{passed} configs' targets pass an amd64/arm64 policy, {failed} fail it, {} refused (includes), {} refused \
         (no version: 2)",
        INCLUDES.len(),
        versionless.len()
    );
    assert_eq!((passed, failed, versionless.len()), (2, 26, 9));

    // goreleaser v2.15.1 says the same of each config without `version: 2`, and refuses 6 of the 9 (they use fields
    // v2 removed); the other 3 it builds with that warning. lint refuses all 9: it cannot check goreleaser's whole
    // schema, and the fix is one line.
    let mut refused = Vec::new();
    for config in &versionless {
        let out = world
            .command(go_tool("goreleaser"))
            .current_dir(policy_dir.path())
            .args(["check", "-f"])
            .arg(config)
            .output()
            .unwrap();
        let output = plain_text(&out.stdout) + &plain_text(&out.stderr);
        assert!(output.contains(&format!("{VERSION_REFUSAL}, yours is version: 0")), "{}: {output}", config.display());
        if output.contains(&format!("error={VERSION_REFUSAL}")) {
            assert_eq!(out.status.code(), Some(1), "{output}");
            refused.push(config.file_name().unwrap().to_str().unwrap().trim_end_matches(".yaml").to_owned());
        }
    }
    assert_eq!(
        refused,
        [
            "cli__cli",
            "gitleaks__gitleaks",
            "golang-migrate__migrate",
            "jesseduffield__lazydocker",
            "minio__mc",
            "schollz__croc"
        ]
    );
}

/// goreleaser v2's words for a config that is not `version: 2`.
const VERSION_REFUSAL: &str = "only version: 2 configuration files are supported";

#[test]
fn flux2_merge_keys_expand_as_written_out() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    // flux2's config has no `version: 2` (goreleaser v2 warns, lint refuses): linted as it would be with one.
    let flux2 = dir.path().join("flux2.yaml");
    std::fs::write(
        &flux2,
        format!("version: 2\n{}", std::fs::read_to_string(corpus().join("fluxcd__flux2.yaml")).unwrap()),
    )
    .unwrap();
    let out = lint(&world, dir.path(), &flux2);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let merged = targets(&serde_json::from_slice(&out.stdout).unwrap());

    // The same builds with `<<: *build_defaults` written out by hand.
    let by_hand = dir.path().join("flux2-by-hand.yaml");
    let defaults = "    binary: flux\n    main: ./cmd/flux\n    ldflags:\n      - -s -w -X main.VERSION={{ .Version }}\n    \
                    env:\n      - CGO_ENABLED=0\n";
    std::fs::write(
        &by_hand,
        format!(
            "version: 2\nproject_name: flux\nbuilds:\n  - id: linux\n{defaults}    goos: [linux]\n    goarch: [amd64, arm64, arm]\n    \
             goarm: [\"7\"]\n  - id: darwin\n{defaults}    goos: [darwin]\n    goarch: [amd64, arm64]\n  - id: windows\n\
             {defaults}    goos: [windows]\n"
        ),
    )
    .unwrap();
    let out = lint(&world, dir.path(), &by_hand);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written_out = targets(&serde_json::from_slice(&out.stdout).unwrap());
    assert_eq!(merged, written_out);
    let expected: BTreeMap<String, Vec<String>> = [
        ("darwin", &["darwin_amd64_v1", "darwin_arm64_v8.0"][..]),
        ("linux", &["linux_amd64_v1", "linux_arm64_v8.0", "linux_arm_7"]),
        ("windows", &["windows_amd64_v1", "windows_arm64_v8.0", "windows_386_sse2"]),
    ]
    .into_iter()
    .map(|(id, t)| (id.to_owned(), t.iter().map(|s| s.to_string()).collect()))
    .collect();
    assert_eq!(merged, expected);
}

#[test]
fn chezmoi_float_variants_and_unnamed_builds() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let out = lint(&world, dir.path(), &corpus().join("twpayne__chezmoi.yaml"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let builds = targets(&serde_json::from_slice(&out.stdout).unwrap());
    let all: Vec<&String> = builds.values().flatten().collect();
    for target in ["linux_arm_5,softfloat", "linux_arm_6,hardfloat"] {
        assert!(all.iter().any(|t| *t == target), "{target} in {all:?}");
    }

    // A build without `id` is named after the project, as goreleaser names it.
    let config = dir.path().join("unnamed.yaml");
    std::fs::write(&config, "version: 2\nproject_name: tool\nbuilds:\n  - goos: [linux]\n    goarch: [arm64]\n")
        .unwrap();
    let out = lint(&world, dir.path(), &config);
    assert_eq!(
        targets(&serde_json::from_slice(&out.stdout).unwrap()),
        [("tool".to_owned(), vec!["linux_arm64_v8.0".to_owned()])].into()
    );
}

#[test]
fn lint_errors_name_file_line_and_column() {
    let world = World::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("version: 2\nbuilds:\n  - goos: [linux]\n    goarhc: [arm64]\n", "line 4, column 5: unknown field `goarhc`"),
        (
            "version: 2\nbuilds:\n  - goos: [linux]\n    goarch: [arm]\n    goarm: ['5,softfloat', '8']\n",
            "line 5, column 28: invalid variant \"8\" for goarch arm",
        ),
        ("version: 2\nbuilds:\n  - goos: [linux, plan10]\n", "line 3, column 19: invalid goos: plan10"),
        (
            "version: 1\n",
            "line 1, column 10: only version: 2 configuration files are supported, yours is version: 1, please update \
             your configuration (goreleaser v2's words): write `version: 2`",
        ),
    ];
    for (yaml, expected) in cases {
        let config = dir.path().join("bad.yaml");
        std::fs::write(&config, yaml).unwrap();
        let out = lint(&world, dir.path(), &config);
        assert_eq!(out.status.code(), Some(2), "{yaml}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("{}: {expected}", config.display())), "{yaml}\n{stderr}");
    }
}
