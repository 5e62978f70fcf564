//! Where a command's output goes: stdout, or the file `-o` names.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Text to `output`, or to stdout (where a closed pipe, as in `gohook report | head`, is fine).
pub fn write_output(output: Option<PathBuf>, text: &str) -> Result<()> {
    match output {
        Some(path) => write_file(&path, text.as_bytes()),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("cannot write to stdout"),
            }
        }
    }
}

/// Binary output: to `output`, or to stdout when that is not a terminal; `hint` says what to do on a terminal.
pub fn write_binary(output: Option<PathBuf>, bytes: &[u8], hint: &str) -> Result<()> {
    use std::io::IsTerminal;
    match output {
        Some(path) => write_file(&path, bytes),
        None if std::io::stdout().is_terminal() => anyhow::bail!("{hint}"),
        None => std::io::stdout().lock().write_all(bytes).context("cannot write to stdout"),
    }
}

/// A report file, its directory created.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
