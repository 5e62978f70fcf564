//! One source per list: where a list is spelled in more than one place (the built-in plugins; the commands), the
//! places agree, so that a new built-in or command that misses one fails here. The contract version's spellings are
//! held to the newest `wit/` folder by the runtime crate's `every_sdk_speaks_the_newest_contract`, the environment's
//! help is generated from `gohook_process::env::ALL`.

use std::collections::BTreeSet;

use gohook_tests::*;

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).unwrap()
}

/// The built-ins as gohook was built with them: its own error for an unknown `--rules` name lists them.
fn builtins_compiled_in() -> BTreeSet<String> {
    let world = World::new();
    let out = world.gohook().args(["check", "--rules", "no-such-plugin", "/dev/null"]).output().unwrap();
    let stderr = text(&out.stderr);
    let list = stderr
        .split_once("(built-ins: ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .unwrap_or_else(|| panic!("gohook names its built-ins: {stderr}"))
        .0;
    list.split(", ").map(str::to_owned).collect()
}

#[test]
fn the_builtins_are_the_plugin_workspaces_members_and_the_readme_names_each() {
    // The one list: plugins/Cargo.toml's members, but the documented example.
    let manifest = std::fs::read_to_string(repo_root().join("plugins/Cargo.toml")).unwrap();
    let members_line = manifest.lines().find(|l| l.starts_with("members = [")).unwrap();
    let members: BTreeSet<String> = members_line
        .trim_start_matches("members = [")
        .trim_end_matches(']')
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| m != "example")
        .collect();
    assert_eq!(builtins_compiled_in(), members, "the build script derives the built-ins from the members");

    // The README's table of built-ins: one row each.
    let readme = readme();
    let table = readme.split_once("Built-in plugins so far").unwrap().1;
    let rows: BTreeSet<String> = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(name, _)| name.to_owned()))
        .collect();
    assert_eq!(rows, members, "README: a row of the built-in table per built-in");
    // And its layout line for plugins/.
    let layout = readme.lines().find(|l| l.starts_with("| `plugins/` |")).unwrap();
    for name in &members {
        assert!(layout.contains(&format!("`{name}`")), "README's layout names {name}: {layout}");
    }
}

#[test]
fn every_command_is_taught_in_the_readme() {
    let world = World::new();
    let help = text(&world.gohook().arg("--help").output().unwrap().stdout);
    let commands: Vec<&str> = help
        .split_once("Commands:\n")
        .unwrap()
        .1
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(commands.len() >= 15, "{commands:?}");
    let readme = readme();
    // `gohook NAME` as a whole word: `gohook plugin` is not `gohook plugins`.
    let taught = |name: &str| {
        let spelled = format!("gohook {name}");
        readme.match_indices(&spelled).any(|(at, _)| {
            readme[at + spelled.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '-' && c != '_')
        })
    };
    let untaught: Vec<&&str> = commands.iter().filter(|name| !taught(name)).collect();
    assert_eq!(untaught, Vec::<&&str>::new(), "commands the README never shows in use");
}
