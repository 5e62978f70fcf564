//! One module per gohook command; `cli` parses the command line and calls into them.

pub mod bench;
pub mod benchfmt;
pub mod build;
pub mod check;
pub mod compare;
pub mod critical_path;
pub mod doctor;
pub mod export;
pub mod goreleaser;
pub mod pprof;
pub mod progress;
pub mod report;
pub mod timeline;
pub mod trace;

/// Writes a report file, creating its directory.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
