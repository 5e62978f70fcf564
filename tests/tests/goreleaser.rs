//! gohook under a real goreleaser (`goreleaser build --snapshot --clean` on a fresh git repository): the sample
//! config of examples/goreleaser, as the README shows it, and violations of its policy.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gohook_tests::*;
use serde_json::Value;
use tempfile::TempDir;

const SIX_TARGETS: [&str; 6] = [
    "darwin_amd64_v1",
    "darwin_arm64_v8.0",
    "linux_amd64_v1",
    "linux_arm64_v8.0",
    "windows_amd64_v1",
    "windows_arm64_v8.0",
];

fn example(file: &str) -> String {
    std::fs::read_to_string(repo_root().join("examples/goreleaser").join(file)).unwrap()
}

/// The example project in a fresh git repository, with this config and policy.
fn project(config: &str, policy: &str) -> TempDir {
    project_with_main(config, policy, &example("main.go"))
}

/// The example project with another main.go.
fn project_with_main(config: &str, policy: &str, main_go: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("go.mod"), example("go.mod")).unwrap();
    std::fs::write(dir.path().join("main.go"), main_go).unwrap();
    std::fs::write(dir.path().join(".goreleaser.yaml"), config).unwrap();
    std::fs::write(dir.path().join("gohook.toml"), policy).unwrap();
    for args in [&["init", "-q"][..], &["add", "-A"], &["commit", "-q", "-m", "release"]] {
        let status = Command::new("git")
            .current_dir(dir.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "gohook tests")
            .env("GIT_AUTHOR_EMAIL", "tests@gohook.invalid")
            .env("GIT_COMMITTER_NAME", "gohook tests")
            .env("GIT_COMMITTER_EMAIL", "tests@gohook.invalid")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
    dir
}

/// `goreleaser build --snapshot --clean` with gohook on PATH, as a release engineer runs it.
fn goreleaser(world: &World, dir: &Path) -> Output {
    goreleaser_signing(world, dir, Path::new("unused.pem"))
}

/// The same with the attestations' signing key in `GOHOOK_ATTEST_KEY`.
fn goreleaser_signing(world: &World, dir: &Path, key: &Path) -> Output {
    let gohook_dir = gohook_bin().parent().unwrap().to_owned();
    let path = std::env::join_paths(
        std::iter::once(gohook_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    world
        .command(go_tool("goreleaser"))
        .current_dir(dir)
        .env("PATH", path)
        .env("GOHOOK_ATTEST_KEY", key)
        .args(["build", "--snapshot", "--clean"])
        .output()
        .expect("goreleaser runs")
}

/// goreleaser's own list of what it built: target → absolute path.
fn built_binaries(dir: &Path) -> Vec<(String, PathBuf)> {
    let list: Vec<Value> = serde_json::from_slice(&std::fs::read(dir.join("dist/artifacts.json")).unwrap()).unwrap();
    let mut binaries: Vec<(String, PathBuf)> = list
        .iter()
        .filter(|a| a["type"] == "Binary")
        .map(|a| (a["target"].as_str().unwrap().to_owned(), dir.join(a["path"].as_str().unwrap())))
        .collect();
    binaries.sort();
    binaries
}

fn builds_json(world: &World) -> Vec<Value> {
    let out = world.gohook().args(["builds", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn lint_json(world: &World, dir: &Path) -> (Option<i32>, Value) {
    let out = world.gohook().current_dir(dir).args(["goreleaser", "lint", "--format", "json"]).output().unwrap();
    (out.status.code(), serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr))))
}

fn lint_targets(report: &Value) -> BTreeSet<String> {
    report["builds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["targets"].as_array().unwrap())
        .map(|t| t["target"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn readme_shows_the_example_verbatim() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    for file in [".goreleaser.yaml", "gohook.toml"] {
        assert!(readme.contains(&example(file)), "README's \"Use with goreleaser\" must hold {file} verbatim");
    }
}

#[test]
fn compliant_release_builds_and_checks_six_targets() {
    // Cold: the test shows std compiled under gohook for every target.
    let world = World::with_cold_go_cache();
    let dir = project(&example(".goreleaser.yaml"), &example("gohook.toml"));
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = (keys.path().join("release.pem"), keys.path().join("release.pub"));
    for args in [
        vec!["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.to_str().unwrap()],
        vec!["pkey", "-in", key.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()],
    ] {
        assert!(Command::new("openssl").args(&args).status().unwrap().success(), "openssl {args:?}");
    }
    let out = goreleaser_signing(&world, dir.path(), &key);
    let output = plain_text(&out.stdout) + &plain_text(&out.stderr);
    assert!(out.status.success(), "goreleaser failed:\n{output}");

    let binaries = built_binaries(dir.path());
    let targets: Vec<&str> = binaries.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(targets, SIX_TARGETS);
    // Each post hook ran gohook check on its binary, with every configured check.
    for (_, path) in &binaries {
        let line = format!("{}: ok (arch, dwarf, macho, pie, strip)", path.display());
        assert_eq!(output.matches(&line).count(), 1, "post hook output for {}:\n{output}", path.display());
    }

    // One build per target, all under one run label, each with its compiles and exactly one link.
    let builds = builds_json(&world);
    assert_eq!(builds.len(), 6, "{builds:?}");
    let run = builds[0]["run"].as_str().unwrap().to_owned();
    assert!(run.starts_with("hello-"), "{run}");
    let mut labelled: Vec<&str> = builds.iter().map(|b| b["target"].as_str().unwrap()).collect();
    labelled.sort();
    assert_eq!(labelled, SIX_TARGETS);
    for build in &builds {
        assert_eq!(build["run"], run.as_str());
        let stages = build["stages"].as_array().unwrap();
        let count = |name: &str| stages.iter().find(|s| s["stage"] == name).map_or(0, |s| u64_of(s, "count"));
        assert_eq!(count("link"), 1, "{}", build["target"]);
        assert!(count("compile") > 10, "{}: std and main compiled under gohook", build["target"]);
        assert_eq!(build["failures"].as_array().unwrap().len(), 0);
    }

    // The run report joins each build with its post-hook check.
    let out = world.gohook().args(["report", "--run", &run, "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut checks: Vec<(String, PathBuf, String)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["target"].as_str().unwrap().into(),
                c["path"].as_str().unwrap().into(),
                c["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    checks.sort();
    let expected: Vec<(String, PathBuf, String)> =
        binaries.iter().map(|(t, p)| (t.clone(), p.clone(), "pass".to_owned())).collect();
    assert_eq!(checks, expected);
    let table = text(&world.gohook().args(["report", "--run", &run]).output().unwrap().stdout);
    assert!(table.starts_with(&format!("run {run}: 6 builds, 6 binaries checked (6 pass)\n")), "{table}");
    // Each post hook's output says where the whole run reads.
    for target in SIX_TARGETS {
        let line = format!("gohook: recorded with run {run} (target {target}): gohook report --run {run}\n");
        assert_eq!(output.matches(&line).count(), 1, "{line}{output}");
    }

    // gohook check --artifacts checks exactly what goreleaser listed.
    let out = world
        .gohook()
        .current_dir(dir.path())
        .args(["check", "--artifacts", "dist/artifacts.json", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut checked: Vec<PathBuf> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["status"], "pass");
            dir.path().join(f["path"].as_str().unwrap())
        })
        .collect();
    checked.sort();
    let listed_binaries = binaries.clone();
    let mut listed: Vec<PathBuf> = binaries.into_iter().map(|(_, p)| p).collect();
    listed.sort();
    assert_eq!(checked, listed);

    let (code, lint) = lint_json(&world, dir.path());
    assert_eq!(code, Some(0));
    assert_eq!(lint_targets(&lint), SIX_TARGETS.iter().map(|t| t.to_string()).collect());

    // One signed provenance per artifact in dist/attestations, each verified by cosign against its binary, and
    // each verdict PASSED under the release policy.
    let attestations = dir.path().join("dist/attestations");
    let mut bundles: Vec<String> = std::fs::read_dir(&attestations)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".provenance.sigstore.json"))
        .collect();
    bundles.sort();
    // goreleaser names every binary `hello` (`hello.exe` on windows): the files of two targets would collide, so
    // their names carry the target.
    assert_eq!(bundles.len(), 6, "{bundles:?}");
    for (target, binary) in &listed_binaries {
        let name = binary.file_name().unwrap().to_string_lossy();
        let bundle = attestations.join(format!("{name}.{target}.provenance.sigstore.json"));
        let out = Command::new(go_tool("cosign"))
            .args(["verify-blob-attestation", "--key"])
            .arg(&public)
            .args(["--insecure-ignore-tlog", "--type", "slsaprovenance1", "--bundle"])
            .arg(&bundle)
            .arg(binary)
            .output()
            .unwrap();
        assert!(out.status.success() && text(&out.stderr).contains("Verified OK"), "{target}: {}", text(&out.stderr));
        let verdict = attestations.join(format!("{name}.{target}.verdict.sigstore.json"));
        let out = world
            .gohook()
            .arg("verify")
            .arg(binary)
            .arg("--attestation")
            .arg(&bundle)
            .arg("--attestation")
            .arg(&verdict)
            .arg("--key")
            .arg(&public)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{target}: {}", text(&out.stdout));
        assert!(text(&out.stdout).contains(": the policy's verdict: PASSED ("), "{}", text(&out.stdout));
    }
}

#[test]
fn amd64_under_an_arm64_only_policy_fails_at_the_probe() {
    let world = World::new();
    let policy = example("gohook.toml").replace(r#"allow = ["amd64", "arm64"]"#, r#"allow = ["arm64"]"#);
    assert!(policy.contains(r#"allow = ["arm64"]"#));
    let dir = project(&example(".goreleaser.yaml"), &policy);

    // The lint says so before anything builds.
    let (code, lint) = lint_json(&world, dir.path());
    assert_eq!(code, Some(1));
    let failing: BTreeSet<&str> = lint["builds"][0]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "fail")
        .map(|t| {
            assert_eq!(t["findings"][0]["rule"], "arch/not-allowed");
            t["target"].as_str().unwrap()
        })
        .collect();
    assert_eq!(failing, BTreeSet::from(["darwin_amd64_v1", "linux_amd64_v1", "windows_amd64_v1"]));

    let out = goreleaser(&world, dir.path());
    let output = plain_text(&out.stdout) + &plain_text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(output.contains("error[arch/not-allowed] GOARCH=amd64 is not allowed (allowed: arm64)"), "{output}");
    // Refused at go's probe: the amd64 builds that started compiled nothing.
    let amd64: Vec<Value> =
        builds_json(&world).into_iter().filter(|b| b["target"].as_str().unwrap_or("").contains("_amd64")).collect();
    assert!(!amd64.is_empty(), "the failing target's build is recorded");
    for build in amd64 {
        assert_eq!(u64_of(&build, "invocations"), 0, "{build}");
        assert!(u64_of(&build, "probes") >= 1);
    }
}

#[test]
fn unstripped_binary_fails_the_link() {
    let world = World::new();
    let config = example(".goreleaser.yaml")
        .replace("goos: [linux, darwin, windows]", "goos: [linux]")
        .replace("goarch: [amd64, arm64]", "goarch: [amd64]")
        .replace("- -s -w -X main.version", "- -X main.version");
    assert!(config.contains("goos: [linux]") && !config.contains("-s -w"));
    let dir = project(&config, &example("gohook.toml"));
    let out = goreleaser(&world, dir.path());
    let output = plain_text(&out.stdout) + &plain_text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(output.contains("error[strip/symbols] not stripped: symbol table .symtab with"), "{output}");
    assert!(output.contains(r#"fix: link with -ldflags="-s -w""#), "{output}");
    assert!(!dir.path().join("dist/hello_linux_amd64_v1/hello").exists(), "the rejected binary never lands");
    // The run view says why the target failed, under its row: the first error of its link (the dwarf plugin's, as
    // the plugins run in name order; strip's follows in `gohook report BUILD`).
    let run = builds_json(&world)[0]["run"].as_str().unwrap().to_owned();
    let table = text(&world.gohook().args(["report", "--run", &run]).output().unwrap().stdout);
    assert!(table.contains("\n  └ error[dwarf/present] DWARF sections: .debug_"), "{table}");
}

#[test]
fn lint_agrees_with_what_goreleaser_builds() {
    let world = World::new();
    let configs = [
        // Defaults only: goreleaser's linux, darwin, windows × amd64, arm64, 386 (no darwin/386).
        "version: 2\nproject_name: hello\nbuilds:\n  - env: [CGO_ENABLED=0]\nrelease:\n  disable: true\n",
        // ignore, with goarm variants.
        "version: 2\nproject_name: hello\nbuilds:\n  - env: [CGO_ENABLED=0]\n    goos: [linux, windows, darwin]\n    \
         goarch: [amd64, arm64, arm]\n    goarm: [6, 7]\n    ignore:\n      - goos: windows\n        goarch: arm\n      \
         - goos: darwin\n        goarch: amd64\n      - goarm: 6\nrelease:\n  disable: true\n",
        // targets, which override the matrix.
        "version: 2\nproject_name: hello\nbuilds:\n  - env: [CGO_ENABLED=0]\n    goos: [freebsd]\n    \
         targets: [linux_amd64_v3, darwin_arm64, windows_arm64, linux_riscv64]\nrelease:\n  disable: true\n",
        // YAML anchors and merge keys (as fluxcd/flux2 writes its builds): explicit keys override merged ones.
        "version: 2\nproject_name: hello\nbuilds:\n  - <<: &defaults\n      env: [CGO_ENABLED=0]\n      goos: [windows]\n      \
         goarch: [arm64]\n    id: linux\n    goos: [linux]\n  - <<: *defaults\n    id: darwin\n    goos: [darwin]\n\
         release:\n  disable: true\n",
    ];
    let expected_counts = [8, 6, 4, 2];
    // The test is about which targets goreleaser builds, not what: each of the 20 targets' first compile of std is
    // only the runtime's.
    for (config, count) in configs.iter().zip(expected_counts) {
        let dir = project_with_main(config, "", RUNTIME_ONLY_MAIN);
        let (code, lint) = lint_json(&world, dir.path());
        assert_eq!(code, Some(0), "no policy: every target passes");
        let out = goreleaser(&world, dir.path());
        assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
        let built: BTreeSet<String> = built_binaries(dir.path()).into_iter().map(|(t, _)| t).collect();
        assert_eq!(lint_targets(&lint), built, "lint vs goreleaser for:\n{config}");
        assert_eq!(built.len(), count, "{built:?}");
    }
}

#[test]
fn lint_reads_what_goreleaser_reads_and_names_the_wiring_to_fix() {
    let world = World::new();
    let policy = example("gohook.toml");

    // No `version: 2`, and a field goreleaser v2 removed: goreleaser refuses it, and so does lint, in its words.
    let versionless =
        "project_name: hello\nbuilds:\n  - goos: [linux]\n    goarch: [amd64]\narchives:\n  - rlcp: true\n";
    let dir = project(versionless, &policy);
    let refusal =
        "only version: 2 configuration files are supported, yours is version: 0, please update your configuration";
    let released = goreleaser(&world, dir.path());
    let output = plain_text(&released.stdout) + &plain_text(&released.stderr);
    assert_eq!(released.status.code(), Some(1), "{output}");
    assert!(output.contains(&format!("error={refusal}")), "{output}");
    let out = world.run_gohook(dir.path(), &["goreleaser", "lint"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let config = dir.path().join(".goreleaser.yaml");
    assert!(
        text(&out.stderr).starts_with(&format!("gohook: {}: line 1, column 1: {refusal}", config.display())),
        "{}",
        text(&out.stderr)
    );

    // With no argument, lint reads the first of goreleaser's names that exists (here `.goreleaser.yml`); with none,
    // it lists them, once.
    std::fs::rename(&config, dir.path().join(".goreleaser.yml")).unwrap();
    let out = world.run_gohook(dir.path(), &["goreleaser", "lint"]);
    assert!(text(&out.stderr).contains(".goreleaser.yml: line 1, column 1: only version: 2"), "{}", text(&out.stderr));
    std::fs::remove_file(dir.path().join(".goreleaser.yml")).unwrap();
    let out = world.run_gohook(dir.path(), &["goreleaser", "lint"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "gohook: no goreleaser config here: goreleaser looks for .config/goreleaser.yml, .config/goreleaser.yaml, \
         .goreleaser.yml, .goreleaser.yaml, goreleaser.yml, goreleaser.yaml; name yours: gohook goreleaser lint PATH\n"
    );

    // The README's config is wired for its policy: nothing to fix.
    let readme = project(&example(".goreleaser.yaml"), &policy);
    let (code, report) = lint_json(&world, readme.path());
    assert_eq!(code, Some(0), "{report}");
    assert!(report["builds"].as_array().unwrap().iter().all(|b| b["wiring"] == serde_json::json!([])), "{report}");

    // Each piece of wiring the policy needs, missing, is named with its build and line.
    let unwired = "version: 2\nproject_name: hello\nbuilds:\n  - id: bare\n    goos: [linux, darwin]\n    goarch: [amd64]\n    \
                   ldflags: -X main.version=1\n  - id: wired\n    goos: [linux]\n    goarch: [arm64]\n    buildmode: pie\n    \
                   flags:\n      - -trimpath\n      - -toolexec=gohook\n    ldflags:\n      - -s -w\n  - id: timed\n    \
                   goos: [darwin]\n    goarch: [arm64]\n    flags: [-toolexec=/usr/bin/time]\n    ldflags: [-w]\n    \
                   hooks:\n      post:\n        - cmd: gohook check {{ .Path }}\n";
    let dir = project(unwired, &policy);
    let (code, report) = lint_json(&world, dir.path());
    assert_eq!(code, Some(1), "{report}");
    let wiring: Vec<(String, String, u64)> = report["builds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| {
            b["wiring"].as_array().unwrap().iter().map(move |f| {
                (
                    b["id"].as_str().unwrap().to_owned(),
                    f["rule"].as_str().unwrap().to_owned(),
                    f["line"].as_u64().unwrap(),
                )
            })
        })
        .collect();
    let expected = [
        ("bare", "gohook/toolexec", 4),
        ("bare", "gohook/buildmode", 4),
        ("bare", "gohook/ldflags", 7),
        ("timed", "gohook/toolexec", 20),
        ("timed", "gohook/ldflags", 21),
    ];
    let expected: Vec<(String, String, u64)> =
        expected.iter().map(|(b, r, l)| (b.to_string(), r.to_string(), *l)).collect();
    assert_eq!(wiring, expected, "{report}");
    // Every target's arch verdict is still the probe's: all pass the amd64/arm64 allow-list.
    let statuses: BTreeSet<&str> = report["builds"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["targets"].as_array().unwrap())
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, BTreeSet::from(["pass"]));
    let human = world.run_gohook(dir.path(), &["goreleaser", "lint"]);
    let human = text(&human.stdout);
    assert!(
        human.contains(
            "  error[gohook/buildmode] line 4: build bare: the pie plugin is on, but 1 target is not PIE without \
             -buildmode=pie (linux_amd64_v1): every link would fail\n        fix: add `buildmode: pie` to the build\n"
        ),
        "{human}"
    );
    assert!(
        human.ends_with("2 of 3 builds are not wired for the policy (bare, timed): fix the lines above\n"),
        "{human}"
    );
}
