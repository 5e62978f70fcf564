//! Why it rebuilt: go's plan and cache-key inputs recorded by `gohook build`, and `gohook why` naming the root cause
//! of each rebuild, on real go builds of a module whose dependency chain is known (main → a → b → c, d beside).

use std::path::Path;

use gohook_tests::*;
use serde_json::Value;

/// main imports a and d, a imports b, b imports c; each package is one small file.
fn chain(dir: &Path) {
    let write = |path: &str, text: &str| {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    };
    write("go.mod", "module example.com/m\n\ngo 1.26\n");
    write("c/c.go", "package c\n\nfunc F(x int) int { return x }\n");
    write("b/b.go", "package b\n\nimport \"example.com/m/c\"\n\nfunc F(x int) int { return c.F(x) + 1 }\n");
    write("a/a.go", "package a\n\nimport \"example.com/m/b\"\n\nfunc F(x int) int { return b.F(x) + 1 }\n");
    write("d/d.go", "package d\n\nfunc F(x int) int { return x * 2 }\n");
    write(
        "main.go",
        "package main\n\nimport (\n\t\"example.com/m/a\"\n\t\"example.com/m/d\"\n)\n\nfunc main() { println(a.F(1) + d.F(2)) }\n",
    );
}

fn build(world: &World, dir: &Path, env: &[(&str, &str)], flags: &[&str]) -> String {
    let out = world
        .gohook()
        .current_dir(dir)
        .envs(env.iter().copied())
        .arg("build")
        .args(flags)
        .args(["-o", "bin", "."])
        .output()
        .unwrap();
    assert!(out.status.success(), "gohook build {flags:?}: {}", text(&out.stderr));
    world.builds().pop().unwrap()
}

fn why(world: &World, dir: &Path, args: &[&str]) -> Value {
    let out = world.gohook().current_dir(dir).arg("why").args(args).args(["--format", "json"]).output().unwrap();
    assert!(out.status.success(), "gohook why {args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

const CASCADE_OF_C: [&str; 4] = ["example.com/m", "example.com/m/a", "example.com/m/b", "link of example.com/m"];

#[test]
fn why_names_each_root_cause_and_its_cascade() {
    // A private go cache: the test empties it (`go clean -cache`).
    let world = World::with_cold_go_cache();
    let module = tempfile::tempdir().unwrap();
    let dir = module.path();
    chain(dir);
    let first = build(&world, dir, &[], &[]);

    // A no-op build: go's plan says every compile and the link came from its cache.
    let noop = build(&world, dir, &[], &[]);
    let summary = world.summary(&noop);
    assert_eq!(summary["packages_compiled"], 0, "{summary}");
    let stages = &summary["go_cache"]["stages"];
    assert_eq!((stages[0]["stage"].as_str(), stages[0]["ran"].as_u64()), (Some("compile"), Some(0)));
    assert_eq!(stages[0]["served"], summary["packages_in_build"], "every package served: {summary}");
    assert_eq!(
        (stages[1]["stage"].as_str(), stages[1]["ran"].as_u64(), stages[1]["served"].as_u64()),
        (Some("link"), Some(0), Some(1))
    );
    assert!(
        summary["go_cache"]["saved_ns"].as_u64().unwrap() > 0,
        "the cache saved what the first build ran: {summary}"
    );
    // The first build's runs waited for cores: queue times from go's own ready and start times.
    let first_summary = world.summary(&first);
    assert!(first_summary["go_cache"]["queued_max_ns"].as_u64().unwrap() > 0, "{first_summary}");
    let first_records = world.records(&first);
    let actions = first_records.actions.as_ref().expect("go's plan recorded");
    let c = actions.iter().find(|a| a.package == "example.com/m/c" && a.mode == "build").unwrap();
    assert!(c.ran && c.ready_unix_ns > 0 && c.ready_unix_ns <= c.start_unix_ns && c.start_unix_ns < c.done_unix_ns);
    let answer = why(&world, dir, &[&noop]);
    assert_eq!(answer["groups"], serde_json::json!([]), "nothing rebuilt");

    // One file of c changes: c is the root, a, b, main and the link its cascade, d not mentioned.
    std::fs::write(dir.join("c/c.go"), "package c\n\nfunc F(x int) int { return x + 1 }\n").unwrap();
    let edited = build(&world, dir, &[], &[]);
    let answer = why(&world, dir, &[]);
    assert_eq!(answer["build_id"], edited.as_str());
    let groups = answer["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{answer}");
    assert_eq!(
        groups[0]["cause"],
        serde_json::json!({"kind": "source", "changed": ["c.go"], "added": [], "removed": []})
    );
    assert_eq!(strings(&groups[0]["roots"]), ["example.com/m/c"]);
    assert_eq!(strings(&groups[0]["cascade"]), CASCADE_OF_C);
    assert_eq!(groups[0]["against"], noop.as_str());
    let table = text(&world.gohook().current_dir(dir).arg("why").output().unwrap().stdout);
    assert!(table.contains("  example.com/m/c: source: c.go changed (vs "), "{table}");
    assert!(table.contains("    and 4 more rebuilt because of it: example.com/m, example.com/m/a"), "{table}");
    assert!(!table.contains("example.com/m/d"), "{table}");
    // Asked about one package of the cascade: the same root.
    let about_a = why(&world, dir, &[&edited, "example.com/m/a"]);
    assert_eq!(about_a["groups"], answer["groups"]);

    // A file added to d.
    std::fs::write(dir.join("d/d2.go"), "package d\n\nfunc G() {}\n").unwrap();
    build(&world, dir, &[], &[]);
    let answer = why(&world, dir, &[]);
    assert_eq!(
        answer["groups"][0]["cause"],
        serde_json::json!({"kind": "source", "changed": [], "added": ["d2.go"], "removed": []})
    );
    assert_eq!(strings(&answer["groups"][0]["roots"]), ["example.com/m/d"]);

    // A compiler flag for b alone: b is the root, a and the link follow.
    build(&world, dir, &[], &["-gcflags=example.com/m/b=-N"]);
    let answer = why(&world, dir, &[]);
    let flags =
        answer["groups"].as_array().unwrap().iter().find(|g| g["cause"]["kind"] == "flags").expect("a flags cause");
    assert_eq!(strings(&flags["roots"]), ["example.com/m/b"]);
    assert_eq!(flags["cause"]["tool"], "compile");
    assert_eq!(
        (flags["cause"]["old"].as_str(), flags["cause"]["new"].as_str()),
        (Some("(none)"), Some("-N")),
        "{flags}"
    );
    assert!(strings(&flags["cascade"]).contains(&"example.com/m/a".to_owned()), "{flags}");

    // A setting that enters every key: one group, named by the variable.
    build(&world, dir, &[], &[]);
    let (_, goarch) = host_target();
    let (variable, value) = if goarch == "arm64" { ("GOARM64", "v8.2") } else { ("GOAMD64", "v3") };
    build(&world, dir, &[(variable, value)], &[]);
    let answer = why(&world, dir, &[]);
    let groups = answer["groups"].as_array().unwrap();
    assert_eq!(groups[0]["cause"]["kind"], "setting", "{answer}");
    assert_eq!(groups[0]["cause"]["name"], variable);
    assert_eq!(groups[0]["cause"]["new"], value);
    assert!(groups[0]["roots"].as_array().unwrap().len() > 5, "std keys on it too: {answer}");

    // The cache emptied, the same build again: the same inputs, not in the cache, for every package and the link.
    build(&world, dir, &[(variable, value)], &[]);
    let out = world.command("go").current_dir(dir).args(["clean", "-cache"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cleaned = build(&world, dir, &[(variable, value)], &[]);
    let answer = why(&world, dir, &[]);
    let groups = answer["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{answer}");
    assert_eq!(groups[0]["cause"]["kind"], "not-cached");
    let ran = world.records(&cleaned).actions.unwrap().iter().filter(|a| a.ran).count();
    assert!(ran > 5, "std compiled again: {ran}");
    assert_eq!(groups[0]["roots"].as_array().unwrap().len(), ran, "every compile and link that ran: {answer}");
}

#[test]
fn why_names_the_plugin_when_the_policy_relinked_and_says_what_it_cannot_tell() {
    let world = World::new();
    let sample = fresh_sample();
    let dir = sample.path();
    std::fs::write(dir.join("gohook.toml"), "[plugins.pie]\nrules = { \"pie/not-pie\" = \"warn\" }\n").unwrap();
    build(&world, dir, &[], &[]);
    std::fs::write(
        dir.join("gohook.toml"),
        "[plugins.pie]\nrules = { \"pie/not-pie\" = \"warn\" }\nsettings = { allow_static_pie = false }\n",
    )
    .unwrap();
    build(&world, dir, &[], &[]);
    let answer = why(&world, dir, &[]);
    let groups = answer["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{answer}");
    assert_eq!(groups[0]["cause"], serde_json::json!({"kind": "policy", "tool": "link", "plugins": ["pie"]}));
    assert_eq!(strings(&groups[0]["roots"]), ["link of example.com/sample"]);
    let table = text(&world.gohook().current_dir(dir).arg("why").output().unwrap().stdout);
    assert!(
        table.contains("link of example.com/sample: gohook's policy for link: pie changed in gohook.toml"),
        "{table}"
    );

    // A bare -toolexec build records no cache keys: said, with how to record them, and not an error.
    let toolexec = format!("-toolexec={}", gohook_bin().display());
    let out = world.command("go").current_dir(dir).args(["build", &toolexec, "-o", "bare", "."]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bare = world.builds().into_iter().find(|b| b.starts_with("go-")).unwrap();
    let out = world.gohook().current_dir(dir).args(["why", &bare]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "build {bare} was recorded without go's cache-key inputs (a bare -toolexec build, `gohook exec`, or an \
             older gohook's build or bench): build with `gohook build …` or `gohook bench` to ask why it rebuilt\n"
        )
    );
    // Neither a build nor a package of the latest one: exit 2, with what to do.
    let out = world.gohook().current_dir(dir).args(["why", "no-such-build"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("\"no-such-build\" is neither a recorded build nor a package of build"));
}
