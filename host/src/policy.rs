//! `gohook.toml`, the project's policy: found by walking up from the go command's working directory, or named by
//! `--config` / `GOHOOK_CONFIG`.
//!
//! ```toml
//! [records]
//! keep_builds = 50          # recorded builds kept on disk
//!
//! [plugins.NAME]            # one table per plugin, with that plugin's settings
//! ```
//!
//! Only the parts that can change what a build produces (the plugins and their settings) go into
//! [`Policy::fingerprint`], which gohook folds into its `-V=full` answer so that go's build cache is keyed on them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::DEFAULT_KEEP_BUILDS;

pub const FILE_NAME: &str = "gohook.toml";
/// Path of the policy file; set but empty means "no policy file" (how `gohook build` tells the shim it looked).
pub const ENV_CONFIG: &str = "GOHOOK_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    records: RecordsSettings,
    #[serde(default)]
    plugins: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordsSettings {
    /// How many recorded builds stay on disk; older ones are removed when a new build starts.
    #[serde(default = "default_keep_builds")]
    pub keep_builds: usize,
}

impl Default for RecordsSettings {
    fn default() -> Self {
        RecordsSettings {
            keep_builds: DEFAULT_KEEP_BUILDS,
        }
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
    pub plugins: BTreeMap<String, toml::Table>,
}

impl Policy {
    /// Which policy file applies: `explicit` (a `--config` flag), else `GOHOOK_CONFIG`, else the nearest
    /// `gohook.toml` in `search_from` or one of its parents.
    pub fn locate(explicit: Option<&Path>, search_from: &Path) -> Option<PathBuf> {
        if let Some(path) = explicit {
            return Some(path.to_owned());
        }
        if let Some(value) = std::env::var_os(ENV_CONFIG) {
            return (!value.is_empty()).then(|| PathBuf::from(value));
        }
        search_from
            .ancestors()
            .map(|dir| dir.join(FILE_NAME))
            .find(|candidate| candidate.is_file())
    }

    pub fn load(path: Option<&Path>) -> Result<Policy, PolicyError> {
        let Some(path) = path else {
            return Ok(Policy::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Policy::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| PolicyError::Invalid {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        Ok(Policy {
            source: Some(path.to_owned()),
            records: file.records,
            plugins: file.plugins,
        })
    }

    /// A short hash of everything in the policy that can change a build's outcome.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::to_vec(&self.plugins).expect("TOML tables serialize as JSON");
        hex(&Sha256::digest(&canonical)[..8])
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_follows_plugin_settings_not_records_or_layout() {
        let path = Path::new("gohook.toml");
        let a = Policy::parse("[plugins.arch]\nallow = [\"arm64\"]\n", path).unwrap();
        let same = Policy::parse(
            "[records]\nkeep_builds = 3\n\n[plugins.arch]\n  allow = [ \"arm64\" ]\n",
            path,
        )
        .unwrap();
        let other = Policy::parse("[plugins.arch]\nallow = [\"amd64\"]\n", path).unwrap();
        assert_eq!(a.fingerprint(), same.fingerprint());
        assert_ne!(a.fingerprint(), other.fingerprint());
        assert_ne!(a.fingerprint(), Policy::default().fingerprint());
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let err = Policy::parse(
            "[records]\nkeep_builds = 3\nkeep_forever = true\n",
            Path::new("/p/gohook.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("/p/gohook.toml: "), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("keep_forever"), "{err}");
    }

    #[test]
    fn wrong_types_are_errors() {
        let err = Policy::parse("[records]\nkeep_builds = \"many\"\n", Path::new("g.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("keep_builds"),
            "{err}"
        );
    }
}
