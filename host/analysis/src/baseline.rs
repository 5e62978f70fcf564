//! Baselines keyed by machine: exported builds in a directory a CI cache or artifact store carries, one folder per
//! kind of machine, so that a change is judged against the last baseline of the same chip and never another's.
//!
//! A key is a few named parts — by default the CPU model, its logical CPUs, the OS, the target platform and the go
//! version — each of which the user can set or drop (`--key runner=macos-14`, `--key cpu=`). A folder holds
//! `key.json` (the parts, for listing) and one export file per save, named by when it was saved, so the newest sorts
//! last.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::export;
use crate::model::BuildRecords;

/// What a baseline is keyed on, by part name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key(pub BTreeMap<String, String>);

const KEY_FILE: &str = "key.json";

impl Key {
    /// The key of the machine and go that ran `builds` (the first that recorded them), with `overrides` applied:
    /// a part set to a value replaces or adds it, a part set to nothing drops it.
    pub fn of(builds: &[BuildRecords], overrides: &[(String, String)]) -> Key {
        let mut parts = BTreeMap::new();
        if let Some(build) = builds.iter().find(|b| b.context.is_some()) {
            let context = build.context.as_ref().expect("found with a context");
            parts.insert("cpu".to_owned(), context.machine.cpu.clone());
            parts.insert("cpus".to_owned(), context.machine.logical_cpus.to_string());
            parts.insert("os".to_owned(), context.machine.os.clone());
            parts.insert("go".to_owned(), context.go.version.clone());
        }
        // The target of the first tool run, else of go's first probe (which every go command asks, failed or not).
        let work = builds.iter().flat_map(BuildRecords::work).next();
        if let Some(run) = work.or_else(|| builds.iter().flat_map(|b| &b.runs).next()) {
            parts.insert("platform".to_owned(), format!("{}/{}", run.goos, run.goarch));
        }
        for (name, value) in overrides {
            if value.is_empty() {
                parts.remove(name);
            } else {
                parts.insert(name.clone(), value.clone());
            }
        }
        Key(parts)
    }

    /// `cpu=Apple M3 Max, cpus=14, go=go1.26.8, os=macos, platform=darwin/arm64`.
    pub fn describe(&self) -> String {
        if self.0.is_empty() {
            return "(empty)".to_owned();
        }
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    }

    /// The key's folder name: its values, readable, then a digest of the whole key so that no two keys share one.
    fn folder(&self) -> String {
        let readable: String = self
            .0
            .values()
            .flat_map(|v| v.chars().chain(['_']))
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
            .take(80)
            .collect();
        let digest = Sha256::digest(self.describe().as_bytes());
        let hex = hex::encode(&digest[..4]);
        format!("{}_{hex}", readable.trim_end_matches('_'))
    }
}

/// A baseline file, and the key it was saved under.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub path: PathBuf,
    pub key: Key,
}

/// What a save did.
#[derive(Debug, Clone)]
pub struct Saved {
    pub path: PathBuf,
    /// Older baselines of the same key removed to keep `keep`.
    pub removed: Vec<PathBuf>,
}

/// Saves `builds` into `dir` under `key` as `<when>-<name>.json`, and keeps the newest `keep` of that key.
pub fn save(dir: &Path, key: &Key, builds: Vec<BuildRecords>, name: &str, keep: usize) -> Result<Saved, Error> {
    let folder = dir.join(key.folder());
    std::fs::create_dir_all(&folder).map_err(|source| Error::Write { path: folder.clone(), source })?;
    let key_path = folder.join(KEY_FILE);
    let key_text = serde_json::to_string_pretty(key).expect("a key serializes") + "\n";
    gohook_records::write_atomically(&key_path, key_text.as_bytes())
        .map_err(|source| Error::Write { path: key_path, source })?;
    let when = humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string().replace(['-', ':'], "");
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let path = folder.join(format!("{when}-{name}.json"));
    export::write(&path, builds)?;
    let mut files = saved_files(&folder)?;
    let mut removed = Vec::new();
    while files.len() > keep.max(1) {
        let oldest = files.remove(0);
        std::fs::remove_file(&oldest).map_err(|source| Error::Write { path: oldest.clone(), source })?;
        removed.push(oldest);
    }
    Ok(Saved { path, removed })
}

/// The newest baseline in `dir` saved under `key`; when there is none, the error names the keys `dir` has.
pub fn newest(dir: &Path, key: &Key) -> Result<Baseline, Error> {
    let keys = keys(dir)?;
    let no_baseline = |present: Vec<Key>| Error::NoBaseline {
        dir: dir.to_owned(),
        key: key.describe(),
        present: present.iter().map(Key::describe).collect(),
    };
    let Some((folder, _)) = keys.iter().find(|(_, k)| k == key) else {
        return Err(no_baseline(keys.into_iter().map(|(_, k)| k).collect()));
    };
    match saved_files(folder)?.pop() {
        Some(path) => Ok(Baseline { path, key: key.clone() }),
        None => Err(no_baseline(keys.into_iter().map(|(_, k)| k).collect())),
    }
}

/// Every key folder in `dir` and its key, sorted by key.
pub fn keys(dir: &Path) -> Result<Vec<(PathBuf, Key)>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Read { path: dir.to_owned(), source }),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let key_path = entry.path().join(KEY_FILE);
        if let Ok(text) = std::fs::read_to_string(&key_path)
            && let Ok(key) = serde_json::from_str::<Key>(&text)
        {
            found.push((entry.path(), key));
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

/// The baseline files of one key folder, oldest first (their names start with when they were saved).
fn saved_files(folder: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(folder).map_err(|source| Error::Read { path: folder.to_owned(), source })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && p.file_name().is_some_and(|n| n != KEY_FILE))
        .collect();
    files.sort();
    Ok(files)
}
