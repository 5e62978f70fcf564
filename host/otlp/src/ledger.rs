//! Which builds went to which endpoint: one file per endpoint in the record root, one build id per line, appended
//! once every span of the build was accepted. `gohook export otlp` sends what is not in it, so a build that a dead
//! endpoint missed goes out the next time, and none goes twice.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub struct Ledger {
    path: PathBuf,
    sent: HashSet<String>,
}

impl Ledger {
    /// The ledger of `traces_url` under the record root `root` (empty when nothing was sent there yet).
    pub fn open(root: &Path, traces_url: &str) -> std::io::Result<Ledger> {
        let digest = hex::encode(&Sha256::digest(traces_url.as_bytes())[..6]);
        let path = root.join("otlp").join(format!("sent-{digest}.txt"));
        let sent = match std::fs::read_to_string(&path) {
            Ok(text) => text.lines().filter(|l| !l.starts_with('#')).map(str::to_owned).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
            Err(e) => return Err(e),
        };
        Ok(Ledger { path, sent })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn contains(&self, build_id: &str) -> bool {
        self.sent.contains(build_id)
    }

    /// Notes `build_id` as sent. One short line appended: concurrent gohooks finishing builds do not interleave.
    pub fn record(&mut self, build_id: &str, traces_url: &str) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let new = !self.path.exists();
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        let header = if new { format!("# builds sent to {traces_url}\n") } else { String::new() };
        file.write_all(format!("{header}{build_id}\n").as_bytes())?;
        self.sent.insert(build_id.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_sent_is_remembered_per_endpoint() {
        let root = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(root.path(), "http://a/v1/traces").unwrap();
        assert!(!ledger.contains("b1"));
        ledger.record("b1", "http://a/v1/traces").unwrap();
        ledger.record("b2", "http://a/v1/traces").unwrap();
        let again = Ledger::open(root.path(), "http://a/v1/traces").unwrap();
        assert!(again.contains("b1") && again.contains("b2") && !again.contains("b3"));
        assert!(!Ledger::open(root.path(), "http://b/v1/traces").unwrap().contains("b1"));
        let text = std::fs::read_to_string(again.path()).unwrap();
        assert_eq!(text, "# builds sent to http://a/v1/traces\nb1\nb2\n");
    }
}
