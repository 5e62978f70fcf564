//! The plugin contracts this host speaks: one module per frozen WIT version in `wit/since_vX.Y.Z/`.
//!
//! A shipped version never changes (a test holds each folder to its recorded hash). Adding a moment, a field or a
//! host function is a new folder, a new module here with its own bindings and converters, and one arm in each match
//! of this file — the compiler points at every one. The host keeps every version it ever shipped, so a plugin built
//! against an older contract keeps running after the SDK moves on. A plugin imports gohook's interfaces at its
//! contract version; [`Version::of`] reads that from the component and picks the module that serves it.

mod v0_1_0;

use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Engine, Store};

use crate::sandbox::Sandbox;
use crate::{Answer, Call};

/// A contract version this host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V0_1_0,
}

impl Version {
    /// Every version, oldest first. The last is the newest, the one the SDK builds against.
    pub const ALL: [Version; 1] = [Version::V0_1_0];

    /// `0.1.0`: the WIT package's version, and the folder `wit/since_v0.1.0/`.
    pub fn number(self) -> &'static str {
        match self {
            Version::V0_1_0 => "0.1.0",
        }
    }

    pub fn newest() -> Version {
        Version::ALL[Version::ALL.len() - 1]
    }

    /// The version that serves a plugin built against `plugin_version`: the oldest of the same line (same major;
    /// for 0.x the same minor) that is no older than the plugin. A plugin built for a newer line, or a newer
    /// version of the line than any here, is refused with what to upgrade.
    pub fn serving(plugin_version: &str) -> Result<Version, String> {
        let newest = Version::newest().number();
        let Some(plugin) = semver_triple(plugin_version) else {
            return Err(format!(
                "imports gohook's interfaces without a version this gohook understands: rebuild the plugin with \
                 gohook-sdk (contract {newest})"
            ));
        };
        let same_line = |host: (u64, u64, u64)| plugin.0 == host.0 && (host.0 > 0 || plugin.1 == host.1);
        let serving = Version::ALL.into_iter().find(|v| {
            let host = semver_triple(v.number()).expect("versions are x.y.z");
            same_line(host) && plugin <= host
        });
        serving.ok_or_else(|| {
            let upgrade = if plugin > semver_triple(newest).expect("x.y.z") {
                format!("upgrade gohook to one that supports contract {plugin_version}")
            } else {
                format!("rebuild the plugin with gohook-sdk (contract {newest})")
            };
            let spoken: Vec<&str> = Version::ALL.iter().map(|v| v.number()).collect();
            format!(
                "was built for plugin contract {plugin_version}, and this gohook speaks {}: {upgrade}",
                spoken.join(", ")
            )
        })
    }

    /// The contract `component` was built against, from the version of the gohook interfaces it imports. wasmtime
    /// would refuse a mismatch too, but with a message about link names; this one says which side to upgrade.
    pub fn of(engine: &Engine, component: &Component) -> Result<Version, String> {
        let mut found = None;
        for (name, _) in component.component_type().imports(engine) {
            if let Some(rest) = name.strip_prefix("gohook:plugin/") {
                let version = rest.split_once('@').map(|(_, v)| v).unwrap_or("");
                found = Some(Version::serving(version)?);
            }
        }
        // A plugin that imports nothing of gohook's (it logs nothing, reads no artifact) is served by the newest.
        Ok(found.unwrap_or_else(Version::newest))
    }
}

fn semver_triple(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split(['.', '-', '+']).map(|p| p.parse::<u64>());
    Some((parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?))
}

/// Every version's host functions, in one linker: each is its own versioned interface name.
pub fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    for version in Version::ALL {
        match version {
            Version::V0_1_0 => v0_1_0::add_to_linker(linker)?,
        }
    }
    Ok(())
}

/// A component linked and checked against the exports of its contract version, ready to instantiate per call.
pub enum Pre {
    V0_1_0(v0_1_0::PluginPre<Sandbox>),
}

impl Pre {
    pub fn new(version: Version, pre: InstancePre<Sandbox>) -> wasmtime::Result<Pre> {
        Ok(match version {
            Version::V0_1_0 => Pre::V0_1_0(v0_1_0::PluginPre::new(pre)?),
        })
    }

    /// One call into a fresh instance, its answer in gohook's types (not yet cleaned).
    pub async fn call(&self, store: &mut Store<Sandbox>, call: Call<'_>) -> wasmtime::Result<Answer> {
        match self {
            Pre::V0_1_0(pre) => v0_1_0::call(pre, store, call).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::path::{Path, PathBuf};

    /// The hash of each shipped contract's WIT files. A change to one of them fails here: add a new version folder
    /// (`wit/since_vX.Y.Z/`) and a module for it instead, and record its hash when it ships.
    const FROZEN: &[(&str, &str)] = &[("0.1.0", "b6283be8e317542b0017023eaf26e3c42e3f2044238a4349747c1acac1e8c686")];

    fn wit_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit")
    }

    fn folder_hash(dir: &Path) -> String {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let mut hash = Sha256::new();
        for file in files {
            hash.update(file.file_name().unwrap().as_encoded_bytes());
            hash.update([0]);
            hash.update(std::fs::read(&file).unwrap());
            hash.update([0]);
        }
        hex::encode(hash.finalize())
    }

    #[test]
    fn every_version_folder_has_a_module_and_every_shipped_one_is_frozen() {
        let mut folders: Vec<String> = std::fs::read_dir(wit_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        let served: Vec<String> = Version::ALL.iter().map(|v| format!("since_v{}", v.number())).collect();
        assert_eq!(folders, served, "one host module per folder of wit/");
        for (version, recorded) in FROZEN {
            let dir = wit_dir().join(format!("since_v{version}"));
            let wit = std::fs::read_to_string(dir.join("plugin.wit")).unwrap();
            assert!(wit.contains(&format!("package gohook:plugin@{version};")), "{version}: its package line");
            assert_eq!(
                &folder_hash(&dir),
                recorded,
                "wit/since_v{version} shipped and is frozen: put the change in a new version folder"
            );
        }
    }

    /// Every place that spells the contract a new plugin is built for — the Rust SDK's bindings, the Go SDK's
    /// hand-written imports, the WIT `gohook plugin build` embeds and the starters' copy of it — names the newest
    /// folder: a new contract that leaves one behind (Go plugins silently on the old one) fails here.
    #[test]
    fn every_sdk_speaks_the_newest_contract() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let read = |path: &str| std::fs::read_to_string(repo.join(path)).unwrap();
        let newest = Version::newest().number();
        assert!(read("sdk/src/lib.rs").contains(&format!("\"../wit/since_v{newest}\"")), "the Rust SDK");
        assert!(
            read("host/authoring/src/lib.rs")
                .contains(&format!("include_str!(\"../../../wit/since_v{newest}/plugin.wit\")")),
            "the WIT gohook plugin build embeds"
        );
        assert!(read("host/authoring/src/starters.rs").contains(&format!("\"wit/since_v{newest}/plugin.wit\"")));
        let mut go_spellings = 0;
        for entry in std::fs::read_dir(repo.join("sdk/go")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "go") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for (at, _) in source.match_indices("gohook:plugin") {
                let rest = &source[at..];
                let Some(version) = rest.split_whitespace().next().and_then(|word| word.split_once('@')) else {
                    continue;
                };
                let version: String =
                    version.1.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect::<String>();
                let version = version.trim_end_matches('.');
                assert_eq!(version, newest, "{}: {}", path.display(), rest.lines().next().unwrap());
                go_spellings += 1;
            }
        }
        assert!(go_spellings >= 6, "the Go SDK's imports name their contract: {go_spellings}");
    }

    #[test]
    fn plugins_are_served_by_the_version_of_their_line() {
        assert_eq!(Version::serving("0.1.0"), Ok(Version::V0_1_0));
        let newer = Version::serving("0.1.7").unwrap_err();
        assert!(newer.ends_with("upgrade gohook to one that supports contract 0.1.7"), "{newer}");
        let next_line = Version::serving("0.2.0").unwrap_err();
        assert!(next_line.ends_with("upgrade gohook to one that supports contract 0.2.0"), "{next_line}");
        assert!(next_line.contains("this gohook speaks 0.1.0"), "{next_line}");
        let old_line = Version::serving("0.0.3").unwrap_err();
        assert!(old_line.ends_with("rebuild the plugin with gohook-sdk (contract 0.1.0)"), "{old_line}");
        assert!(Version::serving("").unwrap_err().contains("without a version"));
    }

    #[test]
    fn semver_parsing() {
        assert_eq!(semver_triple("0.1.0"), Some((0, 1, 0)));
        assert_eq!(semver_triple("1.2.3-pre"), Some((1, 2, 3)));
        assert_eq!(semver_triple("x"), None);
    }
}
