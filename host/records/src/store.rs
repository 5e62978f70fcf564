//! Where records live: `<root>/builds/<build id>.rec`, one append-only file per build, plus `<build id>.log` for
//! the warnings gohook logged during that build.
//!
//! The root is `GOHOOK_DIR`, or the user's cache directory (`~/.cache/gohook` on Linux,
//! `~/Library/Caches/gohook` on macOS). Directories are created private (0700), files 0600.
//!
//! Pruning rule: when a new build's record file is created, only the newest `keep` builds (by modification time)
//! stay; older record and log files are removed. The default is [`DEFAULT_KEEP_BUILDS`].

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::format::{self, Decoded, Record};

/// Why [`Store::find`] found no build.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("cannot list {}: {source}", dir.display())]
    Unreadable { dir: PathBuf, source: io::Error },
    #[error("no recorded build {id:?} in {}: `gohook builds` lists them", dir.display())]
    NoSuchBuild { id: String, dir: PathBuf },
    #[error("{id:?} matches {count} builds: give more of the id")]
    Ambiguous { id: String, count: usize },
}

pub const DEFAULT_KEEP_BUILDS: usize = 50;
const RECORD_EXT: &str = "rec";
const LOG_EXT: &str = "log";

/// The record root of one user (or one `GOHOOK_DIR`).
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A recorded build as `gohook builds` lists it.
#[derive(Debug, Clone)]
pub struct BuildFile {
    pub id: String,
    pub path: PathBuf,
    pub modified: SystemTime,
}

impl Store {
    pub fn new(root: PathBuf) -> Store {
        Store { root }
    }

    /// [`env::DIR`](gohook_process::env::DIR), else the platform cache directory, else (no home directory)
    /// `$TMPDIR/gohook-<uid>`.
    pub fn locate() -> Store {
        if let Some(dir) = gohook_process::env::record_root() {
            return Store::new(dir);
        }
        match dirs::cache_dir() {
            Some(cache) => Store::new(cache.join("gohook")),
            // SAFETY: geteuid has no preconditions.
            None => Store::new(std::env::temp_dir().join(format!("gohook-{}", unsafe { libc::geteuid() }))),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn builds_dir(&self) -> PathBuf {
        self.root.join("builds")
    }

    pub fn record_path(&self, build_id: &str) -> PathBuf {
        self.builds_dir().join(format!("{build_id}.{RECORD_EXT}"))
    }

    pub fn log_path(&self, build_id: &str) -> PathBuf {
        self.builds_dir().join(format!("{build_id}.{LOG_EXT}"))
    }

    /// Where `gohook check` keeps what it checked under a run label (goreleaser's post hooks).
    pub fn run_checks_path(&self, run: &str) -> PathBuf {
        self.root.join("runs").join(format!("{run}.{RECORD_EXT}"))
    }

    /// Appends one record to the build's file in a single write, creating the file (and pruning old builds) when
    /// this is the build's first record.
    pub fn append(&self, build_id: &str, record: &Record, keep: usize) -> io::Result<()> {
        if append_frame(&self.record_path(build_id), record)? {
            self.prune(keep, build_id);
        }
        Ok(())
    }

    /// Forgets a build: its records and its log (a command that turned out to run no go build).
    pub fn remove(&self, build_id: &str) -> io::Result<()> {
        for path in [self.record_path(build_id), self.log_path(build_id)] {
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Appends one check record to the run's file.
    pub fn append_check(&self, run: &str, record: &Record) -> io::Result<()> {
        append_frame(&self.run_checks_path(run), record).map(drop)
    }

    /// The check records of a run, oldest first; none when the run checked nothing.
    pub fn load_checks(&self, run: &str) -> io::Result<Decoded> {
        match fs::read(self.run_checks_path(run)) {
            Ok(bytes) => Ok(format::decode(&bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Decoded::default()),
            Err(e) => Err(e),
        }
    }

    /// Recorded builds, oldest first.
    pub fn list(&self) -> io::Result<Vec<BuildFile>> {
        let entries = match fs::read_dir(self.builds_dir()) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut builds = Vec::new();
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some(RECORD_EXT) {
                continue;
            }
            let Some(id) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
                continue;
            };
            builds.push(BuildFile { id: id.to_owned(), path: path.clone(), modified });
        }
        builds.sort_by(|a, b| a.modified.cmp(&b.modified).then_with(|| a.id.cmp(&b.id)));
        Ok(builds)
    }

    /// The most recently written build.
    pub fn latest(&self) -> io::Result<Option<BuildFile>> {
        Ok(self.list()?.pop())
    }

    /// Finds a build by id or by a unique prefix of its id.
    pub fn find(&self, id: &str) -> Result<BuildFile, FindError> {
        let builds = self.list().map_err(|source| FindError::Unreadable { dir: self.builds_dir(), source })?;
        if let Some(exact) = builds.iter().find(|b| b.id == id) {
            return Ok(exact.clone());
        }
        let matches: Vec<_> = builds.iter().filter(|b| b.id.starts_with(id)).collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(FindError::NoSuchBuild { id: id.to_owned(), dir: self.builds_dir() }),
            _ => Err(FindError::Ambiguous { id: id.to_owned(), count: matches.len() }),
        }
    }

    pub fn load(&self, build: &BuildFile) -> io::Result<Decoded> {
        Ok(format::decode(&fs::read(&build.path)?))
    }

    fn prune(&self, keep: usize, current: &str) {
        let Ok(builds) = self.list() else { return };
        let excess = builds.len().saturating_sub(keep.max(1));
        for old in builds.iter().filter(|b| b.id != current).take(excess) {
            // Another gohook may be pruning the same file right now; losing that race is fine.
            let _ = fs::remove_file(&old.path);
            let _ = fs::remove_file(self.log_path(&old.id));
        }
    }
}

/// One frame in one write, creating the file (and its private directory) if needed; true when this call created it.
fn append_frame(path: &Path, record: &Record) -> io::Result<bool> {
    let frame = format::encode(record);
    let (mut file, created) = match open_append(path, false) {
        Ok(file) => (file, false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_private_dir(path.parent().expect("record files live in a directory"))?;
            match open_append(path, true) {
                Ok(file) => (file, true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => (open_append(path, false)?, false),
                Err(e) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    // One write_all of the whole frame: on an O_APPEND file the kernel places it as one piece.
    file.write_all(&frame)?;
    Ok(created)
}

fn open_append(path: &Path, create: bool) -> io::Result<File> {
    OpenOptions::new().append(true).create_new(create).mode(0o600).open(path)
}

pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Build ids become file names: keep them to a safe alphabet so an environment variable cannot point elsewhere.
pub fn valid_build_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Temp file in the same directory, then rename: readers see the old entry or the whole new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{BuildEnd, Exit};

    fn end(id: &str) -> Record {
        Record::BuildEnd(BuildEnd { build_id: id.into(), end_unix_ns: 1, exit: Exit::Code(0) })
    }

    #[test]
    fn keeps_only_the_newest_builds() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_owned());
        for i in 0..5 {
            store.append(&format!("b{i}"), &end("x"), 3).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let ids: Vec<_> = store.list().unwrap().into_iter().map(|b| b.id).collect();
        assert_eq!(ids, ["b2", "b3", "b4"]);
    }

    #[test]
    fn appends_accumulate_in_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_owned());
        store.append("b", &end("b"), 10).unwrap();
        store.append("b", &end("b"), 10).unwrap();
        let build = store.find("b").unwrap();
        assert_eq!(store.load(&build).unwrap().records, vec![end("b"), end("b")]);
    }

    #[test]
    fn build_ids_cannot_escape_the_directory() {
        assert!(valid_build_id("20261124T174623.123Z-4f2a"));
        assert!(valid_build_id("go-4211-778812"));
        assert!(!valid_build_id("../etc/passwd"));
        assert!(!valid_build_id("a/b"));
        assert!(!valid_build_id(""));
    }
}
