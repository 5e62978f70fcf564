//! SLSA provenance v1 for one Go binary, in gohook's build type: what was asked of go, what else went into its cache
//! keys, and everything resolved on the way — modules, the main module's commit, the toolchain executables that ran,
//! the C compiler, the plugins that judged the binary. The README's "Build type" section documents every field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::statement::{
    BuildDefinition, BuildMetadata, Builder, PROVENANCE_TYPE, Provenance, ResourceDescriptor, RunDetails, Statement,
    digest,
};

/// gohook's build type; a new field that changes meaning gets a new version.
pub const BUILD_TYPE: &str = "https://gohook.dev/attestation/go-build/v1";
/// The builder id: gohook, recording inside the build; the version goes in `builder.version`.
pub const BUILDER_ID: &str = "https://gohook.dev/recorder";

/// The annotation every resolved dependency carries, saying which kind of input it is.
pub const ROLE: &str = "role";

/// What kind of input a resolved dependency is: the value of its [`ROLE`] annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A module linked into the binary (`pkg:golang/PATH@VERSION`).
    Module,
    /// The main module at its commit.
    MainModule,
    /// A toolchain executable that ran (`compile`, `asm`, `link`, `cgo`).
    Toolchain,
    /// The C compiler cgo ran.
    CCompiler,
    /// A plugin that judged the binary.
    Plugin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Module => "module",
            Role::MainModule => "main-module",
            Role::Toolchain => "toolchain",
            Role::CCompiler => "c-compiler",
            Role::Plugin => "plugin",
        }
    }

    pub fn of(descriptor: &ResourceDescriptor) -> Option<Role> {
        let role = descriptor.annotations.get(ROLE)?.as_str()?;
        [Role::Module, Role::MainModule, Role::Toolchain, Role::CCompiler, Role::Plugin]
            .into_iter()
            .find(|r| r.name() == role)
    }
}

/// `externalParameters`: what was asked of go.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalParameters {
    /// The go command line, `-toolexec` left out (it names gohook, which `runDetails.builder` says).
    pub command: Vec<String>,
    /// The main package's import path.
    pub package: String,
    pub goos: String,
    pub goarch: String,
    /// The build flags go recorded in the binary (`-buildmode`, `-compiler`, `-gcflags`, `-ldflags`, `-tags`,
    /// `-trimpath`, …), as `go version -m` shows them.
    pub flags: BTreeMap<String, String>,
    pub main_module: MainModule,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MainModule {
    pub path: String,
    /// `(devel)` for a working tree, else the version go stamped.
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcs: Option<Vcs>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vcs {
    /// `git`, `hg`, …
    pub system: String,
    pub revision: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time: String,
    /// Uncommitted changes in the working tree at build time (`vcs.modified`).
    pub modified: bool,
    /// The remote the commit can be fetched from, when the repository names one (`origin`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remote: String,
}

/// `internalParameters`: what else entered go's cache keys, and the policy.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InternalParameters {
    pub go_version: String,
    /// The other settings go recorded in the binary: `CGO_ENABLED`, `CGO_CFLAGS`…, `GOAMD64`/`GOARM64`…,
    /// `GOEXPERIMENT`, `DefaultGODEBUG`.
    pub settings: BTreeMap<String, String>,
    /// go's `GO*` and `CGO_*` environment as the build ran (`GOFLAGS`, `GODEBUG`, `GOTOOLCHAIN`, …), paths left out.
    pub environment: BTreeMap<String, String>,
    /// gohook.toml, by sha256; absent when the build had none (the built-in checks with their defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ResourceDescriptor>,
}

/// Everything a provenance states about one binary.
#[derive(Debug, Clone, Default)]
pub struct GoBuild {
    /// The binary: its file name and sha256.
    pub subject: ResourceDescriptor,
    pub external: ExternalParameters,
    pub internal: InternalParameters,
    /// Modules, main module, toolchain, C compiler and plugins, each with its [`ROLE`].
    pub dependencies: Vec<ResourceDescriptor>,
    /// The Go build id of the binary, and on request every source file compiled into it.
    pub byproducts: Vec<ResourceDescriptor>,
    /// gohook's id of the build.
    pub build_id: String,
    pub started_unix_ns: u64,
    pub finished_unix_ns: u64,
    pub gohook_version: String,
}

impl GoBuild {
    pub fn statement(&self) -> Statement {
        let provenance = Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE.to_owned(),
                external_parameters: serde_json::to_value(&self.external).expect("plain data"),
                internal_parameters: serde_json::to_value(&self.internal).expect("plain data"),
                resolved_dependencies: self.dependencies.clone(),
            },
            run_details: RunDetails {
                builder: Builder {
                    id: BUILDER_ID.to_owned(),
                    version: BTreeMap::from([("gohook".to_owned(), self.gohook_version.clone())]),
                },
                metadata: BuildMetadata {
                    invocation_id: self.build_id.clone(),
                    started_on: rfc3339(self.started_unix_ns),
                    finished_on: rfc3339(self.finished_unix_ns),
                },
                byproducts: self.byproducts.clone(),
            },
        };
        Statement::new(self.subject.clone(), PROVENANCE_TYPE, serde_json::to_value(provenance).expect("plain data"))
    }
}

/// A module the binary links, as go's build info lists it: `pkg:golang/PATH@VERSION` with go.sum's `h1:` hash as
/// in-toto's `dirHash1` (the hash of the module's file tree that go.sum and the checksum database hold).
pub fn module(path: &str, version: &str, h1: Option<&str>) -> ResourceDescriptor {
    let mut descriptor =
        ResourceDescriptor { name: path.to_owned(), uri: format!("pkg:golang/{path}@{version}"), ..Default::default() }
            .annotated(ROLE, Role::Module.name());
    if let Some(hash) = h1.and_then(|h| h.strip_prefix("h1:")) {
        descriptor.digest = digest("dirHash1", hash);
    }
    descriptor
}

/// UTC with nanoseconds: RFC 3339 as protobuf's Timestamp JSON reads it.
pub fn rfc3339(unix_ns: u64) -> String {
    humantime::format_rfc3339_nanos(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(unix_ns)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_796_688_000_000_000_000), "2026-12-08T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400_000_000_001), "2000-02-29T00:00:00.000000001Z");
    }
}
