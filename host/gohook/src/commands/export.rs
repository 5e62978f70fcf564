//! `gohook export`: builds and their machine identity in one portable, versioned JSON file, which `gohook compare`
//! reads on any machine (a result from a CI runner compares with one from a laptop).

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::commands::report::BuildRecords;

const FORMAT: &str = "gohook-export";
/// Bump when the file's shape changes in a way older readers cannot take; they then refuse it by name.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ExportFile {
    format: String,
    version: u32,
    gohook_version: String,
    exported_unix_ns: u64,
    builds: Vec<BuildRecords>,
}

pub fn write(path: &Path, builds: Vec<BuildRecords>) -> Result<()> {
    let file = ExportFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        gohook_version: gohook_records::VERSION.to_owned(),
        exported_unix_ns: gohook_records::now_unix_ns(),
        builds,
    };
    let text = serde_json::to_string(&file)? + "\n";
    gohook_records::write_atomically(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

pub fn read(path: &Path) -> Result<Vec<BuildRecords>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // The header first: a newer file must be refused for its version, not for a field this gohook does not know.
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
        version: Option<u32>,
        gohook_version: Option<String>,
    }
    let header: Header = serde_json::from_str(&text).with_context(|| {
        format!("{} is not a gohook export (not JSON): write one with `gohook export`", path.display())
    })?;
    if header.format.as_deref() != Some(FORMAT) {
        bail!(
            "{} is not a gohook export (no \"format\": \"{FORMAT}\"): write one with `gohook export`",
            path.display()
        );
    }
    match header.version {
        Some(version) if version > VERSION => bail!(
            "{} was written by gohook {} in export format {version}; this gohook ({}) reads format {VERSION} and \
             older: upgrade gohook to compare it",
            path.display(),
            header.gohook_version.as_deref().unwrap_or("?"),
            gohook_records::VERSION
        ),
        Some(_) => {}
        None => bail!("{} has no export format version: write it again with `gohook export`", path.display()),
    }
    let file: ExportFile =
        serde_json::from_str(&text).with_context(|| format!("{} is a damaged gohook export", path.display()))?;
    Ok(file.builds)
}
