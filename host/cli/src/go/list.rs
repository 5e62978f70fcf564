//! What `go list -deps` tells of the packages a `go build` builds: every package with its imports and module (the
//! graph the critical path, the what-if and the cache counts run through), and whether the packages named on the
//! command line are programs (`gohook bench` links only those, into a place of its own).
//!
//! `gohook build` lists beside the build ([`Listing`]); `gohook bench` lists once per side before its timed builds
//! ([`list`]) and records the same graph with each of them.

use std::ffi::OsString;
use std::process::Command;

use gohook_records::{BuildModules, BuildPackages, PackageImports, PackageModule, Record, Store};

/// A `go list` to run: the go program, its arguments (`GoCommand::list_arguments`) and the extra environment of the build it
/// lists for.
pub struct GoList {
    pub go: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(String, String)>,
}

impl GoList {
    fn command(&self) -> Command {
        let mut go = Command::new(&self.go);
        go.args(&self.args).envs(self.env.iter().map(|(k, v)| (k, v))).stdin(std::process::Stdio::null());
        go
    }
}

/// The package graph of a build, as `go list -deps` printed it.
pub struct PackageGraph {
    pub packages: Vec<PackageImports>,
    pub modules: Vec<PackageModule>,
    /// The packages named on the command line (not only dependencies), and how many of them are `main`.
    pub named: usize,
    pub named_main: usize,
}

impl PackageGraph {
    /// Reads `go list -deps -json` output.
    fn parse(stdout: &[u8]) -> Result<PackageGraph, String> {
        let mut graph = PackageGraph { packages: Vec::new(), modules: Vec::new(), named: 0, named_main: 0 };
        for listed in serde_json::Deserializer::from_slice(stdout).into_iter::<Listed>() {
            let listed = listed.map_err(|e| format!("go list -deps printed something that is not its JSON: {e}"))?;
            if !listed.dep_only {
                graph.named += 1;
                graph.named_main += usize::from(listed.name == "main");
            }
            if let Some(module) = listed.module_name() {
                graph.modules.push(PackageModule { package: listed.import_path.clone(), module });
            }
            let imports = listed.imports.iter().map(|i| listed.import_map.get(i).unwrap_or(i).clone()).collect();
            graph.packages.push(PackageImports { package: listed.import_path, imports });
        }
        Ok(graph)
    }

    /// Appends the graph to build `build_id`'s records. Best effort: a build without it still has its timings.
    pub fn record(&self, store: &Store, build_id: &str, keep: usize) {
        let records = [
            Record::Packages(BuildPackages { build_id: build_id.to_owned(), packages: self.packages.clone() }),
            Record::Modules(BuildModules { build_id: build_id.to_owned(), modules: self.modules.clone() }),
        ];
        for record in &records {
            if let Err(e) = store.append(build_id, record, keep) {
                return tracing::warn!("cannot write the package graph: {e}");
            }
        }
    }
}

/// What `go list -deps` prints per package (the fields asked for).
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listed {
    import_path: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    dep_only: bool,
    #[serde(default)]
    imports: Vec<String>,
    #[serde(default)]
    import_map: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    module: Option<ListedModule>,
    #[serde(default)]
    standard: bool,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedModule {
    path: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    replace: Option<Box<ListedModule>>,
    #[serde(default)]
    main: bool,
}

impl Listed {
    /// The package's module as reports name it: `std`, the main module's path, `path@version`, or with a
    /// `replace`, `path => replacement` (`@version` when the replacement has one).
    fn module_name(&self) -> Option<String> {
        if self.standard {
            return Some("std".to_owned());
        }
        let module = self.module.as_ref()?;
        let with_version = |m: &ListedModule| {
            if m.version.is_empty() { m.path.clone() } else { format!("{}@{}", m.path, m.version) }
        };
        Some(match (&module.replace, module.main) {
            (_, true) => module.path.clone(),
            (Some(replacement), false) => format!("{} => {}", module.path, with_version(replacement)),
            (None, false) => with_version(module),
        })
    }
}

/// The JSON fields the graph is read from.
pub const FIELDS: &str = "-json=ImportPath,Name,DepOnly,Imports,ImportMap,Module,Standard";

/// `go list -deps -export` of what a build that ran the user's programs built (`go test`, `go run`), after it: its
/// package graph, and the inputs of its compiles' cache keys, which go prints for the listing's own (cached)
/// compiles under `GODEBUG=gocachehash=1` — given to this listing alone, never to the build, whose tests would inherit
/// it. `env` is the build's shim environment: the same `-toolexec` answers, so the same keys, and nothing recorded.
pub fn list_with_cache_inputs(
    list: &GoList,
    env: &[(String, String)],
) -> Result<(PackageGraph, gohook_records::BuildCacheInputs), String> {
    let godebug = crate::go::plan::godebug_with_cache_hashes();
    let out = list
        .command()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("GODEBUG", godebug)
        .output()
        .map_err(|e| format!("cannot run go list: {e}"))?;
    let (inputs, stderr) = crate::go::plan::cache_inputs_in(&out.stderr);
    let graph = graph_of(std::process::Output { stderr, ..out })?;
    Ok((graph, inputs))
}

/// `go list -deps` of what the build builds, now; the error says why there is no graph.
pub fn list(list: &GoList) -> Result<PackageGraph, String> {
    let out = list.command().output().map_err(|e| format!("cannot run go list: {e}"))?;
    graph_of(out)
}

fn graph_of(out: std::process::Output) -> Result<PackageGraph, String> {
    if !out.status.success() {
        return Err(format!("go list -deps failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    PackageGraph::parse(&out.stdout)
}

/// `go list -deps` of what the build builds, started beside it: it needs only go.mod and the sources, and on a large
/// module it takes most of a second (Jaeger: ~0.45 s) that a no-op build would otherwise wait after go. Its output
/// goes to unnamed files, so it never waits for gohook to read a pipe.
pub struct Listing {
    child: std::process::Child,
    stdout: std::fs::File,
    stderr: std::fs::File,
}

impl Listing {
    pub fn start(list: &GoList) -> Option<Listing> {
        let files = tempfile::tempfile().and_then(|out| Ok((out.try_clone()?, out, tempfile::tempfile()?)));
        let started = files.and_then(|(out, stdout, stderr)| {
            let child = list.command().stdout(out).stderr(stderr.try_clone()?).spawn()?;
            Ok(Listing { child, stdout, stderr })
        });
        started.map_err(|e| tracing::warn!("cannot run go list: {e}")).ok()
    }

    /// The graph, once go is done. A listing that ran beside a build which changed go.mod (`-mod=mod` adding a
    /// requirement) may have failed on the half-written file: then it lists again.
    pub fn finish(mut self, list: &GoList) -> Result<PackageGraph, String> {
        use std::io::{Read, Seek};
        let read = |file: &mut std::fs::File| -> std::io::Result<Vec<u8>> {
            let mut bytes = Vec::new();
            file.rewind()?;
            file.read_to_end(&mut bytes)?;
            Ok(bytes)
        };
        let beside = self.child.wait().and_then(|status| {
            Ok(std::process::Output { status, stdout: read(&mut self.stdout)?, stderr: read(&mut self.stderr)? })
        });
        match beside {
            Ok(out) if out.status.success() => graph_of(out),
            _ => self::list(list),
        }
    }

    /// The build failed or was interrupted: its graph is not recorded.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_packages_and_programs_are_counted() {
        let stdout = br#"{"ImportPath":"errors","Name":"errors","DepOnly":true,"Standard":true}
{"ImportPath":"example.com/m/lib","Name":"lib","Imports":["errors"],"Module":{"Path":"example.com/m","Main":true}}
{"ImportPath":"example.com/m/cmd/app","Name":"main","Imports":["example.com/m/lib"],"Module":{"Path":"example.com/m","Main":true}}"#;
        let graph = PackageGraph::parse(stdout).unwrap();
        assert_eq!((graph.named, graph.named_main, graph.packages.len()), (2, 1, 3));
        assert_eq!(graph.modules[0].module, "std");
    }
}
