//! Concurrency stress, bounded: four `gohook build -a -x -p 8` at once into one record root while sixteen shims
//! make the first use of an uncached plugin in that same root. Nothing may be lost, torn, or fail.

use gohook_tests::*;

#[test]
fn four_parallel_builds_and_sixteen_first_plugin_uses_lose_nothing() {
    let world = World::new();
    let samples: Vec<_> = (0..4).map(|_| fresh_sample()).collect();
    let plugin_dir = tempfile::tempdir().unwrap();
    let policy = format!("[plugins.no-debug]\npath = {:?}\n", example_plugin().display().to_string());
    std::fs::write(plugin_dir.path().join("gohook.toml"), policy).unwrap();

    let builds: Vec<_> = samples
        .iter()
        .map(|sample| world.spawn_gohook(sample.path(), &["build", "-a", "-x", "-p", "8", "-o", "bin", "."]))
        .collect();
    let first_uses: Vec<_> = (0..16).map(|_| world.spawn_fake_link(plugin_dir.path(), "first-uses")).collect();

    for shim in first_uses {
        let out = shim.wait_with_output().unwrap();
        assert_eq!(text(&out.stdout), "", "{}", text(&out.stderr));
    }
    let mut x_lines = Vec::new();
    for build in builds {
        let out = build.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let summary = stderr.lines().find(|l| l.starts_with("gohook: build ")).expect("gohook's summary line");
        let build_id = summary.split_whitespace().nth(2).unwrap().trim_end_matches(':').to_owned();
        x_lines.push((build_id, toolexec_lines(&stderr, gohook_bin())));
    }

    // Every tool run go reported is recorded once, and no frame is torn.
    for (build, expected) in &x_lines {
        assert!(*expected > 100, "a -a build runs many tools: {expected}");
        let summary = world.summary(build);
        assert_eq!(summary["skipped_records"], serde_json::json!({"corrupt": 0, "unsupported_version": 0}));
        assert_eq!(world.records(build).work().count(), *expected, "{build}");
    }
    // Every plugin run succeeded; exactly one compiled the plugin, the rest loaded its result.
    let mut states = world.plugin_cache_states("first-uses");
    states.sort();
    let mut expected = vec!["compiled".to_owned()];
    expected.extend(std::iter::repeat_n("hit".to_owned(), 15));
    assert_eq!(states, expected);
    // And the cache is left valid: the next use is a hit.
    world.spawn_fake_link(plugin_dir.path(), "after").wait().unwrap();
    assert_eq!(world.plugin_cache_states("after"), ["hit"]);
}
