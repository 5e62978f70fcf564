//! The house holds its shape: no import cycles between crates or between the source files of a crate, the
//! executable go runs thousands of times per build carries nothing but the shim, and gohook's environment is read
//! in one place. Each is what a reader of the README's architecture section is promised.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use gohook_tests::*;
use object::{Object, ObjectSection, ObjectSymbol};

/// The workspace's packages and, for each, the workspace packages it depends on (normal and build dependencies),
/// from `cargo metadata --no-deps`: what the manifests declare, read without the network.
fn workspace_graph() -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(repo_root().join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", text(&out.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let members: BTreeSet<&str> = packages.iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut graph = BTreeMap::new();
    for package in packages {
        let deps: BTreeSet<String> = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"] != "dev" && members.contains(d["name"].as_str().unwrap()))
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect();
        graph.insert(package["name"].as_str().unwrap().to_owned(), deps);
    }
    graph
}

/// Every package `from` reaches through the graph, itself excluded.
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = graph[from].iter().map(String::as_str).collect();
    while let Some(next) = todo.pop() {
        if seen.insert(next.to_owned()) {
            todo.extend(graph.get(next).into_iter().flatten().map(String::as_str));
        }
    }
    seen
}

/// The cycles of a directed graph (Tarjan's strongly connected components of more than one node, or a self-loop).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, node: &'a str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                loop {
                    let top = self.stack.pop().unwrap();
                    self.on_stack.remove(top);
                    component.push(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                let self_loop = self.graph.get(node).is_some_and(|deps| deps.contains(node));
                if component.len() > 1 || self_loop {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !tarjan.index.contains_key(node.as_str()) {
            tarjan.visit(node);
        }
    }
    tarjan.found
}

#[test]
fn crates_form_the_documented_layers() {
    let graph = workspace_graph();
    assert_eq!(cycles(&graph), Vec::<Vec<String>>::new());
    // What each host crate may build on: the README's architecture table, as the compiler sees it.
    let allowed: &[(&str, &[&str])] = &[
        ("gohook-process", &[]),
        ("gohook-stats", &[]),
        ("gohook-goreleaser", &[]),
        ("gohook-records", &["gohook-process"]),
        ("gohook-policy", &["gohook-process", "gohook-records", "gohook-wasm-build"]),
        ("gohook-runtime", &["gohook-policy", "gohook-process", "gohook-records", "gohook-wasm-build"]),
        ("gohook-shim", &["gohook-policy", "gohook-process", "gohook-records", "gohook-wasm-build"]),
        ("gohook-analysis", &["gohook-process", "gohook-records", "gohook-stats"]),
        ("gohook-native", &["gohook-sdk"]),
        ("gohook-authoring", &[]),
        (
            "gohook-otlp",
            &[
                "gohook-analysis",
                "gohook-policy",
                "gohook-process",
                "gohook-records",
                "gohook-stats",
                "gohook-wasm-build",
            ],
        ),
    ];
    for (package, deps) in allowed {
        let reached: Vec<String> = reachable(&graph, package).into_iter().collect();
        assert_eq!(reached, *deps, "{package} builds on exactly these gohook crates");
    }
}

/// A source file's code as a reader sees it: comments left out (doc links such as [`crate::trace`] are not
/// imports), and every item under `#[cfg(test)]` — a test module, wherever it is in the file — cut out whole.
fn code_outside_tests(source: &str) -> String {
    let code: String = source
        .lines()
        .map(|l| match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut kept = String::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        kept.push_str(&rest[..at]);
        rest = &rest[at + "#[cfg(test)]".len()..];
        rest = &rest[end_of_item(rest)..];
    }
    kept + rest
}

/// Where the item at the start of `code` ends: after its `;`, or after the brace that closes its body. Braces in
/// string and character literals do not count.
fn end_of_item(code: &str) -> usize {
    let bytes = code.as_bytes();
    let (mut depth, mut at) = (0usize, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if bytes.get(at + 2) == Some(&b'\'') => at += 2,
            b';' if depth == 0 => return at + 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    bytes.len()
}

/// The paths a `crate::`/`super::` path names, brace groups expanded: `a::{b, c::{d, e}}` is `a::b`, `a::c::d`
/// and `a::c::e`.
fn expand_path(text: &str) -> Vec<String> {
    fn tree(text: &str, at: &mut usize, prefix: &str, out: &mut Vec<String>) {
        let mut path = prefix.to_owned();
        let bytes = text.as_bytes();
        loop {
            while *at < bytes.len() && bytes[*at].is_ascii_whitespace() {
                *at += 1;
            }
            let start = *at;
            while *at < bytes.len() && (bytes[*at].is_ascii_alphanumeric() || bytes[*at] == b'_') {
                *at += 1;
            }
            if *at > start {
                path = if path.is_empty() {
                    text[start..*at].to_owned()
                } else {
                    format!("{path}::{}", &text[start..*at])
                };
            }
            if text[*at..].starts_with("::") {
                *at += 2;
                continue;
            }
            if text[*at..].starts_with('{') {
                *at += 1;
                loop {
                    tree(text, at, &path, out);
                    while *at < bytes.len() && bytes[*at].is_ascii_whitespace() {
                        *at += 1;
                    }
                    match bytes.get(*at) {
                        Some(b',') => *at += 1,
                        Some(b'}') => {
                            *at += 1;
                            break;
                        }
                        _ => break,
                    }
                    // A trailing comma before the closing brace.
                    while *at < bytes.len() && bytes[*at].is_ascii_whitespace() {
                        *at += 1;
                    }
                    if bytes.get(*at) == Some(&b'}') {
                        *at += 1;
                        break;
                    }
                }
                return;
            }
            // `x as y`: the alias names nothing new.
            if text[*at..].trim_start().starts_with("as ") {
                let skip = text[*at..].len() - text[*at..].trim_start().len() + 3;
                *at += skip;
                while *at < bytes.len() && bytes[*at].is_ascii_whitespace() {
                    *at += 1;
                }
                while *at < bytes.len() && (bytes[*at].is_ascii_alphanumeric() || bytes[*at] == b'_') {
                    *at += 1;
                }
            }
            out.push(path);
            return;
        }
    }
    let mut out = Vec::new();
    tree(text, &mut 0, "", &mut out);
    out
}

/// The source files of one crate and the files each imports from (`use crate::…`, `crate::…::` paths, `super::`,
/// brace groups expanded), the whole file read but its test items left out.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    files(src, &mut paths);
    // `a/b.rs` and `a/b/mod.rs` are module `a::b`; lib.rs and main.rs are the crate root.
    let module_of = |path: &Path| -> String {
        let relative = path.strip_prefix(src).unwrap().with_extension("");
        let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            parts.pop();
        }
        parts.join("::")
    };
    let modules: BTreeSet<String> = paths.iter().map(|p| module_of(p)).collect();
    let mut graph = BTreeMap::new();
    for path in &paths {
        let module = module_of(path);
        let code = code_outside_tests(&std::fs::read_to_string(path).unwrap());
        let mut imports = BTreeSet::new();
        let parent = module.rsplit_once("::").map_or(String::new(), |(p, _)| p.to_owned());
        for (marker, base) in [("crate::", String::new()), ("super::", parent)] {
            for (at, _) in code.match_indices(marker) {
                // Not the tail of another path (`gohook_records::crate::` never occurs; `a::super::` would).
                if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                for named in expand_path(&code[at + marker.len()..]) {
                    // `crate::a::b::X` names module a::b (the longest prefix that is a module of this crate).
                    let mut target = base.clone();
                    let mut best = None;
                    for part in named.split("::").filter(|p| !p.is_empty()) {
                        target = if target.is_empty() { part.to_owned() } else { format!("{target}::{part}") };
                        if modules.contains(&target) {
                            best = Some(target.clone());
                        }
                    }
                    if let Some(target) = best.filter(|t| *t != module && !module.starts_with(&format!("{t}::"))) {
                        imports.insert(target);
                    }
                }
            }
        }
        graph.insert(module, imports);
    }
    graph
}

/// Every crate of the workspace under host/ (and the Rust SDK): the source directories the module checks read.
fn crate_sources() -> Vec<PathBuf> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(repo_root().join("host"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("src"))
        .filter(|src| src.is_dir())
        .collect();
    sources.push(repo_root().join("sdk/src"));
    sources.sort();
    sources
}

#[test]
fn no_source_file_imports_one_that_imports_it_back() {
    let mut found = Vec::new();
    let sources = crate_sources();
    assert!(sources.len() >= 14, "every crate under host/ and the SDK: {sources:?}");
    for src in &sources {
        let krate = src.parent().unwrap().strip_prefix(repo_root()).unwrap().display().to_string();
        let graph = module_graph(src);
        assert!(!graph.is_empty(), "{krate} has source files");
        for cycle in cycles(&graph) {
            found.push(format!("{krate}: {}", cycle.join(" <-> ")));
        }
    }
    assert_eq!(found, Vec::<String>::new(), "import cycles between files");
}

#[test]
fn the_module_check_sees_a_cycle_when_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(dir.path().join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap();
    std::fs::write(dir.path().join("b.rs"), "pub struct B(crate::a::A);\n").unwrap();
    assert_eq!(cycles(&module_graph(dir.path())), [["a".to_owned(), "b".to_owned()]]);

    // As the commands wrote it before they stopped importing each other: a brace group after the module's
    // `Context`, and the import back after a test module.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("commands")).unwrap();
    std::fs::write(dir.path().join("lib.rs"), "mod commands;\n").unwrap();
    std::fs::write(dir.path().join("commands/mod.rs"), "mod export;\nmod otlp;\npub struct Context;\n").unwrap();
    std::fs::write(
        dir.path().join("commands/export.rs"),
        "use crate::commands::{Context, otlp};\npub fn export(c: Context) { otlp::export(c) }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("commands/otlp.rs"),
        "use crate::commands::Context;\n#[cfg(test)]\nmod tests {\n    fn f() { let _ = \"}\"; }\n}\n\
         pub fn export(c: Context) { crate::commands::export::selected(c) }\n",
    )
    .unwrap();
    let graph = module_graph(dir.path());
    assert_eq!(cycles(&graph), [["commands::export".to_owned(), "commands::otlp".to_owned()]]);
    assert_eq!(
        commands_importing_commands(&graph),
        ["commands::export imports commands::otlp", "commands::otlp imports commands::export"]
    );
}

/// Where one command module of the CLI imports another: what they share belongs in a module of its own (`go`,
/// `check_report`, `after_build`) or in the analysis crate. The commands' own module (its `Context`) is not one.
fn commands_importing_commands(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let command =
        |module: &str| module.strip_prefix("commands::").map(|rest| rest.split("::").next().unwrap().to_owned());
    let mut found = Vec::new();
    for (module, imports) in graph {
        let Some(from) = command(module) else { continue };
        for import in imports {
            if command(import).is_some_and(|to| to != from) {
                found.push(format!("{module} imports {import}"));
            }
        }
    }
    found
}

#[test]
fn no_command_imports_another() {
    let graph = module_graph(&repo_root().join("host/cli/src"));
    assert!(graph.contains_key("commands::build") && graph.contains_key("go::launch"), "{:?}", graph.keys());
    assert_eq!(commands_importing_commands(&graph), Vec::<String>::new());
}

#[test]
fn the_import_reader_reads_as_a_reader_does() {
    assert_eq!(expand_path("commands::{Context, otlp};"), ["commands::Context", "commands::otlp"]);
    assert_eq!(
        expand_path("go::{list::{self as go_list, GoList}, plan as go_plan, launch::X};"),
        ["go::list::self", "go::list::GoList", "go::plan", "go::launch::X"]
    );
    assert_eq!(expand_path("a::b::c(x)"), ["a::b::c"]);
    let code = code_outside_tests("use crate::a; // crate::b\n#[cfg(test)]\nmod tests { '}'; }\nuse crate::c;\n");
    assert!(code.contains("crate::a") && !code.contains("crate::b") && code.contains("crate::c"), "{code}");
}

/// Every `"GOHOOK_…"` string literal outside the environment module, test code left out. Build scripts (cargo runs
/// them, not gohook) may name a build-time variable the module declares.
#[test]
fn gohooks_environment_is_read_in_one_module() {
    let env_module = repo_root().join("host/process/src/env.rs");
    let declared = std::fs::read_to_string(&env_module).unwrap();
    let mut strays = Vec::new();
    for src in crate_sources() {
        let mut files = Vec::new();
        let mut dirs = vec![src.parent().unwrap().to_owned()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && path != env_module {
                    files.push(path);
                }
            }
        }
        for file in files {
            let code = code_outside_tests(&std::fs::read_to_string(&file).unwrap());
            for (at, _) in code.match_indices("\"GOHOOK_") {
                let name: String = code[at + 1..].chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
                let build_script = file.file_name().is_some_and(|n| n == "build.rs");
                if !(build_script && declared.contains(&format!("\"{name}\""))) {
                    strays.push(format!("{}: {name}", file.strip_prefix(repo_root()).unwrap().display()));
                }
            }
        }
    }
    assert_eq!(strays, Vec::<String>::new(), "read GOHOOK_* through gohook_process::env");
}

/// The executable go runs for every tool invocation: the shim, and nothing of the command line, the reports or the
/// wasm runtime; its code small enough that an exec maps little of it, with no ordering file to keep it so.
#[test]
fn the_shim_executable_is_the_shim_alone() {
    let size_and_symbols = |path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let text = file.section_by_name(".text").map_or(0, |s| s.size());
        let names: Vec<String> = file.symbols().filter_map(|s| s.name().ok().map(str::to_owned)).collect();
        (text, names)
    };
    let (shim_text, shim) = size_and_symbols(gohook_bin());
    let (host_text, host) = size_and_symbols(&gohook_bin().with_file_name("gohook-commands"));
    assert!(shim.len() > 1000, "the shim's symbol table is there to read: {}", shim.len());
    assert!(shim_text <= 1_500_000, "gohook's .text is {shim_text} bytes");
    assert!(host_text > shim_text, "{host_text} > {shim_text}");
    let count = |names: &[String], marker: &str| names.iter().filter(|n| n.contains(marker)).count();
    for marker in ["wasmtime", "cranelift", "clap", "gohook_analysis", "gohook_cli", "gohook_runtime", "prost"] {
        assert_eq!(count(&shim, marker), 0, "{marker} in gohook");
        assert!(count(&host, marker) > 0, "{marker} in gohook-commands");
    }
}

/// `host/gohook/shim-order.txt` names the functions the shim runs; the linker puts them first so an exec maps few
/// pages. Their names carry crate hashes, so a toolchain or dependency bump renames some and the layout silently
/// falls apart: this fails instead, and says how to make the list again.
#[cfg(target_arch = "x86_64")]
#[test]
fn the_shims_function_order_is_current_and_applied() {
    let order = std::fs::read_to_string(repo_root().join("host/gohook/shim-order.txt")).unwrap();
    let listed: Vec<&str> = order.lines().filter(|l| !l.is_empty()).collect();
    let bytes = std::fs::read(gohook_bin()).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let text = file.section_by_name(".text").unwrap();
    let symbols: BTreeMap<&str, (u64, u64)> =
        file.symbols().filter_map(|s| Some((s.name().ok()?, (s.address(), s.size())))).collect();
    let present: Vec<(u64, u64)> = listed.iter().filter_map(|name| symbols.get(name).copied()).collect();
    assert!(
        present.len() * 10 >= listed.len() * 9,
        "only {} of the {} functions in host/gohook/shim-order.txt are in the shim: the toolchain, a dependency or the \
         shim changed; run tools/shim-order and commit the new list",
        present.len(),
        listed.len()
    );
    // Side by side at the start of the text (with the C library's objects they pull along, whole): the span they
    // occupy is within twice their own size, where the linker's own layout spreads them over all of it.
    let size: u64 = present.iter().map(|(_, size)| size).sum();
    let end = present.iter().map(|(address, size)| address + size).max().unwrap();
    let span = end - text.address();
    assert!(span <= 2 * size, "the ordered functions span {span} bytes for {size} bytes of code");
}
