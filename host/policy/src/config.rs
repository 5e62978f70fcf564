//! `gohook.toml`, the project's policy: found by walking up from the go command's working directory, or named by
//! `--config` / `GOHOOK_CONFIG`.
//!
//! ```toml
//! [records]
//! keep_builds = 50          # recorded builds kept on disk
//!
//! [plugins.NAME]            # one table per plugin
//! path = "checks/mine.wasm"  # a component, relative to this file; absent: the built-in plugin NAME
//! on_failure = "error"       # what a crash, timeout or memory overrun of the plugin counts as: error | warn
//! timeout_ms = 5000          # per call
//! memory_mib = 64
//! settings = { allow = ["arm64"] }   # handed to the plugin as JSON
//! rules = { "NAME/rule" = "warn" }   # deny | warn | off, per rule id
//! ```
//!
//! Only the parts that can change what a build produces (the plugins and their settings) go into
//! [`Policy::fingerprint`], which gohook folds into its `-V=full` answer so that go's build cache is keyed on them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use gohook_process::env::ConfigChoice;
use gohook_records::DEFAULT_KEEP_BUILDS;

pub const FILE_NAME: &str = "gohook.toml";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    records: RecordsSettings,
    #[serde(default)]
    plugins: BTreeMap<String, PluginConfig>,
    #[serde(default)]
    export: ExportSettings,
    #[serde(default)]
    attest: Option<AttestSettings>,
}

/// `[attest]`: every `gohook build` writes signed provenance and the policy's verdict for the binaries it linked.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AttestSettings {
    /// Where the attestations go (relative to gohook.toml's directory); default `attestations`.
    pub dir: Option<PathBuf>,
    /// The signing key (relative to gohook.toml's directory); `GOHOOK_ATTEST_KEY` wins over it. Without either, the
    /// statements are written unsigned, for a CI step that signs them.
    pub key: Option<PathBuf>,
    /// `"files"`: also list the sha256 of every source file compiled into the binary (`--materials files`).
    pub materials: Option<Materials>,
}

/// What `[attest] materials` adds to the provenance.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Materials {
    /// Every source file compiled into the binary, by sha256, per package.
    Files,
}

/// `[export]`: where builds go besides the record root.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSettings {
    /// `[export.otlp]`: an OpenTelemetry endpoint every build is sent to.
    pub otlp: Option<OtlpSettings>,
}

/// `[export.otlp]`, the OpenTelemetry exporter's settings; the `OTEL_*` variables win over each of them, as the
/// OpenTelemetry specification has it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OtlpSettings {
    /// The collector's base URL (`http://collector:4318`: traces go to `/v1/traces`), like
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: Option<String>,
    /// The traces URL as is, like `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
    pub traces_endpoint: Option<String>,
    /// Extra request headers (an API key), like `OTEL_EXPORTER_OTLP_HEADERS`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub timeout_ms: Option<u64>,
    /// `http/protobuf` (default) or `http/json`.
    pub protocol: Option<String>,
    pub service_name: Option<String>,
    #[serde(default)]
    pub resource_attributes: BTreeMap<String, String>,
}

/// One `[plugins.NAME]` table.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// A `.wasm` component, relative to the policy file; `None`: the built-in plugin of this name.
    pub path: Option<PathBuf>,
    /// Handed to the plugin as a JSON object.
    #[serde(default)]
    pub settings: toml::Table,
    /// Severity per rule id, overriding what the plugin says.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleLevel>,
    /// What a plugin failure (trap, timeout, memory overrun, bad answer) counts as.
    #[serde(default)]
    pub on_failure: OnFailure,
    pub timeout_ms: Option<toml::Spanned<u64>>,
    pub memory_mib: Option<toml::Spanned<u64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    /// An error: fails the link, the probe, or `gohook check`.
    Deny,
    /// A warning: recorded and reported, the build goes on.
    Warn,
    /// Dropped.
    Off,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Fail closed: a plugin that cannot answer fails what it was checking.
    #[default]
    Error,
    Warn,
}

const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1..=600_000;
const MEMORY_MIB: std::ops::RangeInclusive<u64> = 1..=4096;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsSettings {
    /// How many recorded builds stay on disk; older ones are removed when a new build starts.
    #[serde(default = "default_keep_builds")]
    pub keep_builds: usize,
    /// Record the compiler's and linker's phases for every build (what `gohook build --phases` does for one).
    #[serde(default)]
    pub phases: bool,
}

impl Default for RecordsSettings {
    fn default() -> Self {
        RecordsSettings { keep_builds: DEFAULT_KEEP_BUILDS, phases: false }
    }
}

fn default_keep_builds() -> usize {
    DEFAULT_KEEP_BUILDS
}

/// The policy in force for one gohook process.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// The file it came from; `None` when the project has no `gohook.toml`.
    pub source: Option<PathBuf>,
    pub records: RecordsSettings,
    pub plugins: BTreeMap<String, PluginConfig>,
    pub export: ExportSettings,
    /// `[attest]`, its paths made absolute; `None` when the policy has no such table.
    pub attest: Option<AttestSettings>,
}

impl Policy {
    /// Which policy file applies: `explicit` (a `--config` flag), else [`CONFIG`](gohook_process::env::CONFIG), else the nearest
    /// `gohook.toml` in `search_from` or one of its parents.
    pub fn locate(explicit: Option<&Path>, search_from: &Path) -> Option<PathBuf> {
        if let Some(path) = explicit {
            return Some(path.to_owned());
        }
        match gohook_process::env::config() {
            ConfigChoice::File(path) => return Some(path),
            // How `gohook build` tells the shims that it looked and found none.
            ConfigChoice::NoPolicy => return None,
            ConfigChoice::Search => {}
        }
        search_from.ancestors().map(|dir| dir.join(FILE_NAME)).find(|candidate| candidate.is_file())
    }

    /// The policy in force for a command run in `search_from`: [`Policy::locate`]d, then loaded. The one way the shim
    /// and every command get their policy.
    pub fn find(explicit: Option<&Path>, search_from: &Path) -> Result<Policy, PolicyError> {
        Policy::load(Policy::locate(explicit, search_from).as_deref())
    }

    pub fn load(path: Option<&Path>) -> Result<Policy, PolicyError> {
        let Some(path) = path else {
            return Ok(Policy::default());
        };
        let text =
            std::fs::read_to_string(path).map_err(|source| PolicyError::Read { path: path.to_owned(), source })?;
        Policy::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid { path: path.to_owned(), message };
        let mut file: PolicyFile = toml::from_str(text).map_err(|e| invalid(e.to_string().trim_end().to_owned()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let path_spans = path_spans(text);
        for (name, plugin) in &mut file.plugins {
            if !valid_plugin_name(name) || name == "gohook" {
                // The table's header, else wherever the name first stands.
                let header =
                    text.lines().position(|l| l.trim_start().starts_with("[plugins.") && l.contains(name.as_str()));
                let line = header.map(|at| at + 1).or_else(|| text.find(name.as_str()).map(|at| line_of(text, at)));
                let line = line.unwrap_or(0);
                return Err(invalid(format!(
                    "line {line}: [plugins.{name}]: a plugin name is 1 to {MAX_PLUGIN_NAME} letters, digits, '-' or '_', \
                     and not `gohook`; e.g. [plugins.my-check]"
                )));
            }
            let in_range =
                |key: &str, value: &Option<toml::Spanned<u64>>, range: std::ops::RangeInclusive<u64>| match value {
                    Some(v) if !range.contains(v.get_ref()) => Err(invalid(format!(
                        "line {}: plugins.{name}.{key} = {} is out of range ({}..={})",
                        line_of(text, v.span().start),
                        v.get_ref(),
                        range.start(),
                        range.end()
                    ))),
                    _ => Ok(()),
                };
            in_range("timeout_ms", &plugin.timeout_ms, TIMEOUT_MS)?;
            in_range("memory_mib", &plugin.memory_mib, MEMORY_MIB)?;
            if let Some(wasm) = &plugin.path {
                let wasm = base.join(wasm);
                if let Err(why) = check_component(&wasm) {
                    let line = path_spans.get(name).map_or(0, |span| line_of(text, span.start));
                    return Err(invalid(format!("line {line}: plugins.{name}.path: {} {why}", wasm.display())));
                }
                plugin.path = Some(wasm);
            }
        }
        let attest = file.attest.map(|attest| AttestSettings {
            dir: Some(base.join(attest.dir.unwrap_or_else(|| PathBuf::from("attestations")))),
            key: attest.key.map(|key| base.join(key)),
            ..attest
        });
        Ok(Policy {
            source: Some(path.to_owned()),
            records: file.records,
            plugins: file.plugins,
            export: file.export,
            attest,
        })
    }

    /// What in the policy can change what go builds with one tool, plugin by plugin: the name and a short digest of
    /// the table and content id of each plugin that runs at that tool's before-tool or after-tool moment (`keyed`:
    /// name and content id, since a new plugin can fail a link the old one passed). Nothing else enters go's cache
    /// key: not `[records]`, not a probe-only plugin (it runs on every go command, cached or not), not a check on
    /// another tool. [`fingerprint`] folds the digests into the answer.
    pub fn keyed_digests(&self, keyed: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut digests: Vec<(String, String)> = keyed
            .iter()
            .map(|(name, id)| {
                let canonical =
                    serde_json::to_vec(&(self.plugins.get(*name), *id)).expect("TOML tables serialize as JSON");
                ((*name).to_owned(), hex::encode(&Sha256::digest(&canonical)[..8]))
            })
            .collect();
        digests.sort();
        digests
    }
}

/// A short hash of a tool's keyed plugins ([`Policy::keyed_digests`]): what gohook folds into its `-V=full` answer.
pub fn fingerprint(digests: &[(String, String)]) -> String {
    let canonical = serde_json::to_vec(digests).expect("strings serialize");
    hex::encode(&Sha256::digest(&canonical)[..8])
}

/// Where each `[plugins.NAME] path` is written, for errors that name its line.
fn path_spans(text: &str) -> BTreeMap<String, std::ops::Range<usize>> {
    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        plugins: BTreeMap<String, Plugin>,
    }
    #[derive(Deserialize)]
    struct Plugin {
        path: Option<toml::Spanned<toml::Value>>,
    }
    let file: File = toml::from_str(text).unwrap_or(File { plugins: BTreeMap::new() });
    file.plugins.into_iter().filter_map(|(name, plugin)| Some((name, plugin.path?.span()))).collect()
}

/// A plugin path must name a WebAssembly component: said here, with the line, rather than as a load failure at the
/// first build.
fn check_component(wasm: &Path) -> Result<(), String> {
    let mut header = [0u8; 8];
    let read = std::fs::File::open(wasm).and_then(|mut file| std::io::Read::read_exact(&mut file, &mut header));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("does not exist".to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err("is not a WebAssembly component (shorter than a wasm header)".to_owned())
        }
        Err(e) => Err(format!("cannot be read: {e}")),
        Ok(()) if &header[..4] != b"\0asm" => {
            Err("is not a WebAssembly component (no \\0asm header); build it with --target wasm32-wasip2".to_owned())
        }
        // Core modules are version 1; components carry layer 1 in the upper half of the version field.
        Ok(()) if header[6..8] != [1, 0] => {
            Err("is a core WebAssembly module, not a component; build it with --target wasm32-wasip2".to_owned())
        }
        Ok(()) => Ok(()),
    }
}

const MAX_PLUGIN_NAME: usize = 64;
const MAX_RULE_NAME: usize = 63;

/// A `[plugins.NAME]` name: ASCII letters, digits, `-` and `_`.
pub fn valid_plugin_name(name: &str) -> bool {
    (1..=MAX_PLUGIN_NAME).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The rule id grammar: `<plugin-name>/<rule>`, the rule of ASCII letters, digits, `-`, `_` and `.`, starting with
/// a letter or digit. A plugin reports rules only in its own namespace (the name it declares).
pub fn valid_rule_id(id: &str) -> bool {
    let Some((plugin, rule)) = id.split_once('/') else { return false };
    valid_plugin_name(plugin)
        && (1..=MAX_RULE_NAME).contains(&rule.len())
        && rule.as_bytes()[0].is_ascii_alphanumeric()
        && rule.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_follows_the_keyed_plugins_settings_not_records_layout_or_others() {
        let path = Path::new("gohook.toml");
        let a = Policy::parse("[plugins.arch]\nsettings = { allow = [\"arm64\"] }\n\n[plugins.strip]\n", path).unwrap();
        let same = Policy::parse(
            "[records]\nkeep_builds = 3\n\n[plugins.arch.settings]\n  allow = [ \"arm64\" ]\n\n[plugins.strip]\n",
            path,
        )
        .unwrap();
        let other =
            Policy::parse("[plugins.arch]\nsettings = { allow = [\"amd64\"] }\n\n[plugins.strip]\n", path).unwrap();
        let print = |policy: &Policy, keyed: &[(&str, &str)]| fingerprint(&policy.keyed_digests(keyed));
        let arch = [("arch", "id-1")];
        assert_eq!(print(&a, &arch), print(&same, &arch));
        assert_ne!(print(&a, &arch), print(&other, &arch));
        assert_ne!(print(&a, &arch), print(&a, &[("arch", "a rebuilt plugin")]));
        // A plugin that does not run at the tool's moments is not keyed: its settings change nothing.
        let strip = [("strip", "id-2")];
        assert_eq!(print(&a, &strip), print(&other, &strip));
        assert_eq!(print(&a, &[]), print(&Policy::default(), &[]));
        assert_eq!(a.keyed_digests(&strip)[0].0, "strip");
    }

    #[test]
    fn plugin_tables_are_typed_and_paths_resolved() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join("checks")).unwrap();
        std::fs::write(repo.path().join("checks/mine.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
        let policy = Policy::parse(
            "[plugins.mine]\npath = \"checks/mine.wasm\"\non_failure = \"warn\"\ntimeout_ms = 250\nrules = { \"mine/x\" = \"off\" }\n",
            &repo.path().join("gohook.toml"),
        )
        .unwrap();
        let mine = &policy.plugins["mine"];
        assert_eq!(mine.path.as_deref(), Some(repo.path().join("checks/mine.wasm").as_path()));
        assert_eq!(mine.on_failure, OnFailure::Warn);
        assert_eq!(mine.rules["mine/x"], RuleLevel::Off);
        assert_eq!(*mine.timeout_ms.as_ref().unwrap().get_ref(), 250);
    }

    #[test]
    fn plugin_paths_must_name_components() {
        let repo = tempfile::tempdir().unwrap();
        let policy = repo.path().join("gohook.toml");
        std::fs::write(repo.path().join("core.wasm"), b"\0asm\x01\0\0\0").unwrap();
        let err = |text: &str| Policy::parse(text, &policy).unwrap_err().to_string();
        let at = repo.path().display();
        assert_eq!(
            err("[plugins.a]\n\npath = \"gone.wasm\"\n"),
            format!("{at}/gohook.toml: line 3: plugins.a.path: {at}/gone.wasm does not exist")
        );
        assert_eq!(
            err("[plugins.b]\npath = \"core.wasm\"\n"),
            format!(
                "{at}/gohook.toml: line 2: plugins.b.path: {at}/core.wasm is a core WebAssembly module, not a \
                 component; build it with --target wasm32-wasip2"
            )
        );
    }

    #[test]
    fn out_of_range_limits_and_bad_levels_name_the_line() {
        let err = Policy::parse("[plugins.a]\n\nmemory_mib = 0\n", Path::new("g.toml")).unwrap_err().to_string();
        assert_eq!(err, "g.toml: line 3: plugins.a.memory_mib = 0 is out of range (1..=4096)");
        let err = Policy::parse("[plugins.a]\nrules = { \"a/b\" = \"maybe\" }\n", Path::new("g.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("maybe"), "{err}");
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let err = Policy::parse("[records]\nkeep_builds = 3\nkeep_forever = true\n", Path::new("/p/gohook.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/p/gohook.toml: "), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("keep_forever"), "{err}");
    }

    #[test]
    fn rule_ids_follow_one_grammar() {
        for good in ["strip/symbols", "no-debug/dwarf", "my_check/v2.rule-1", "A/b"] {
            assert!(valid_rule_id(good), "{good}");
        }
        for bad in
            ["strip", "/x", "strip/", "a/b/c", "a b/c", "a/-x", "a/x\u{1b}", "é/x", &format!("a/{}", "x".repeat(64))]
        {
            assert!(!valid_rule_id(bad), "{bad}");
        }
    }

    #[test]
    fn plugin_names_are_namespaces() {
        let err = Policy::parse("[records]\n[plugins.\"my check\"]\n", Path::new("g.toml")).unwrap_err().to_string();
        assert!(err.starts_with("g.toml: line 2: [plugins.my check]: a plugin name is 1 to 64"), "{err}");
        // The table's header, not an earlier mention of the name.
        let err = Policy::parse("# my check runs last\n[plugins.\"my check\"]\n", Path::new("g.toml")).unwrap_err();
        assert!(err.to_string().starts_with("g.toml: line 2: [plugins.my check]"), "{err}");
        assert!(Policy::parse("[plugins.gohook]\n", Path::new("g.toml")).is_err());
    }

    #[test]
    fn wrong_types_are_errors() {
        let err = Policy::parse("[records]\nkeep_builds = \"many\"\n", Path::new("g.toml")).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("keep_builds"), "{err}");
    }
}
