//! The plugins a policy configures, the built-in ones carried inside the gohook binary, and what gohook remembers
//! about each between invocations.
//!
//! Every plugin has a content id (the SHA-256 of its wasm). gohook keeps the plugin's metadata under
//! `<root>/plugins/meta/<content id>.json`, so deciding that no plugin wants an invocation costs a file read, not a
//! wasm engine. File plugins are hashed once per (path, size, mtime, inode); built-ins are hashed at build time.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use gohook_records::{create_private_dir, write_atomically};

use crate::config::{OnFailure, Policy, PolicyError, RuleLevel};
use crate::moment::Moment;

/// A plugin compiled into gohook: its name and content id. Its wasm is embedded by the runtime, which runs it.
pub struct Builtin {
    pub name: &'static str,
    pub sha256: &'static str,
}

// `pub static BUILTINS: &[Builtin]`, written by build.rs from the components it built in `plugins/`.
include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

#[derive(Clone)]
pub enum Source {
    Builtin(&'static Builtin),
    File(PathBuf),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Builtin(_) => "built-in".to_owned(),
            Source::File(path) => path.display().to_string(),
        }
    }
}

/// Per-plugin resource limits from the policy.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(5), memory_bytes: 64 << 20 }
    }
}

/// One configured plugin, ready to run.
#[derive(Clone)]
pub struct PluginSpec {
    /// The name of its `[plugins.NAME]` table.
    pub name: String,
    pub source: Source,
    pub settings_json: String,
    pub rules: BTreeMap<String, RuleLevel>,
    pub on_failure: OnFailure,
    pub limits: Limits,
}

impl PluginSpec {
    /// The plugins of a policy, in name order. A name without `path` must be a built-in.
    pub fn from_policy(policy: &Policy) -> Result<Vec<PluginSpec>, PolicyError> {
        let mut specs = Vec::new();
        for (name, config) in &policy.plugins {
            let source = match &config.path {
                Some(path) => Source::File(path.clone()),
                None => Source::Builtin(builtin(name).ok_or_else(|| {
                    let names: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
                    PolicyError::Invalid {
                        path: policy.source.clone().unwrap_or_default(),
                        message: format!(
                            "[plugins.{name}] has no path and there is no built-in plugin {name:?} (built-ins: {}); \
                             set path = \"….wasm\"",
                            names.join(", ")
                        ),
                    }
                })?),
            };
            let defaults = Limits::default();
            specs.push(PluginSpec {
                name: name.clone(),
                source,
                settings_json: serde_json::to_string(&config.settings).expect("TOML tables serialize as JSON"),
                rules: config.rules.clone(),
                on_failure: config.on_failure,
                limits: Limits {
                    timeout: config
                        .timeout_ms
                        .as_ref()
                        .map_or(defaults.timeout, |ms| Duration::from_millis(*ms.get_ref())),
                    memory_bytes: config
                        .memory_mib
                        .as_ref()
                        .map_or(defaults.memory_bytes, |mib| (*mib.get_ref() as usize) << 20),
                },
            });
        }
        Ok(specs)
    }
}

/// A file plugin's wasm, read now (a built-in's is embedded by the runtime, which runs it).
pub fn read_plugin_file(path: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io::Error::new(e.kind(), format!("cannot read plugin {}: {e}", path.display())))
}

/// What a plugin said about itself, kept on disk by content id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginMeta {
    pub name: String,
    pub version: String,
    pub moments: Vec<String>,
    pub tools: Vec<String>,
    pub settings: Vec<SettingMeta>,
    pub rules: Vec<RuleMeta>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingMeta {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    pub id: String,
    pub summary: String,
    pub help: String,
}

impl PluginMeta {
    /// Settings in the policy that the plugin does not declare: typos that would otherwise be silently ignored.
    pub fn undeclared_settings(&self, settings_json: &str) -> Vec<String> {
        let Ok(serde_json::Value::Object(given)) = serde_json::from_str(settings_json) else { return Vec::new() };
        given.keys().filter(|key| !self.settings.iter().any(|s| &s.name == *key)).cloned().collect()
    }

    /// Whether the plugin wants this moment (and, for tool moments, this tool).
    pub fn subscribes(&self, moment: Moment, tool: &str) -> bool {
        let wants_moment = self.moments.iter().any(|m| m == moment.name());
        let tool_moment = matches!(moment, Moment::BeforeTool | Moment::AfterTool);
        wants_moment && (!tool_moment || self.tools.is_empty() || self.tools.iter().any(|t| t == tool))
    }
}

/// gohook's memory of plugins: `<root>/plugins/{ids,meta,native}`.
pub struct Catalog {
    dir: PathBuf,
}

impl Catalog {
    pub fn new(root: &Path) -> Catalog {
        Catalog { dir: root.join("plugins") }
    }

    /// Where compiled native code goes.
    pub fn native_dir(&self) -> PathBuf {
        self.dir.join("native")
    }

    /// The SHA-256 of the plugin's wasm.
    pub fn content_id(&self, spec: &PluginSpec) -> io::Result<String> {
        let path = match &spec.source {
            Source::Builtin(builtin) => return Ok(builtin.sha256.to_owned()),
            Source::File(path) => path,
        };
        let stat = std::fs::metadata(path)
            .map_err(|e| io::Error::new(e.kind(), format!("plugin {}: {}: {e}", spec.name, path.display())))?;
        let stat_key =
            format!("{}\0{}\0{}\0{}\0{}", path.display(), stat.len(), stat.mtime(), stat.mtime_nsec(), stat.ino());
        let index = self.dir.join("ids").join(hex::encode(&Sha256::digest(stat_key.as_bytes())[..16]));
        if let Ok(id) = std::fs::read_to_string(&index)
            && id.len() == 64
            && id.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Ok(id);
        }
        let id = hex::encode(Sha256::digest(read_plugin_file(path)?));
        if create_private_dir(&self.dir.join("ids")).is_ok() {
            let _ = write_atomically(&index, id.as_bytes());
        }
        Ok(id)
    }

    pub fn meta(&self, content_id: &str) -> Option<PluginMeta> {
        let text = std::fs::read_to_string(self.meta_path(content_id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn remember(&self, content_id: &str, meta: &PluginMeta) {
        let path = self.meta_path(content_id);
        let written = create_private_dir(&self.dir.join("meta"))
            .and_then(|()| write_atomically(&path, &serde_json::to_vec(meta).expect("metadata serializes")));
        if let Err(e) = written {
            tracing::warn!("cannot remember plugin metadata in {}: {e}", path.display());
        }
    }

    fn meta_path(&self, content_id: &str) -> PathBuf {
        self.dir.join("meta").join(format!("{content_id}.json"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(moments: &[&str], tools: &[&str]) -> PluginMeta {
        PluginMeta {
            name: "p".into(),
            version: "1".into(),
            moments: moments.iter().map(|m| m.to_string()).collect(),
            tools: tools.iter().map(|t| t.to_string()).collect(),
            settings: vec![SettingMeta { name: "allow".into(), description: String::new() }],
            rules: vec![],
        }
    }

    #[test]
    fn subscription_follows_moments_and_tools() {
        let link_only = meta(&["after-tool", "probe"], &["link"]);
        assert!(link_only.subscribes(Moment::AfterTool, "link"));
        assert!(!link_only.subscribes(Moment::AfterTool, "compile"));
        assert!(!link_only.subscribes(Moment::BeforeTool, "link"));
        // Tool filters apply to tool moments only: the probe of any tool counts.
        assert!(link_only.subscribes(Moment::Probe, "compile"));
        assert!(meta(&["before-tool"], &[]).subscribes(Moment::BeforeTool, "asm"));
    }

    #[test]
    fn undeclared_settings_are_named() {
        let m = meta(&[], &[]);
        assert_eq!(m.undeclared_settings(r#"{"allow":["arm64"]}"#), Vec::<String>::new());
        assert_eq!(m.undeclared_settings(r#"{"allow":[],"alow":[]}"#), ["alow"]);
    }
}
