//! `gohook export`: builds and their machine identity in one portable, versioned JSON file, which `gohook compare`
//! reads on any machine (a result from a CI runner compares with one from a laptop).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::BuildRecords;
use crate::{Error, Remedy};

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

pub fn write(path: &Path, builds: Vec<BuildRecords>) -> Result<(), Error> {
    let file = ExportFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        gohook_version: gohook_records::VERSION.to_owned(),
        exported_unix_ns: gohook_records::now_unix_ns(),
        builds,
    };
    let text = serde_json::to_string(&file).expect("records serialize") + "\n";
    gohook_records::write_atomically(path, text.as_bytes())
        .map_err(|source| Error::Write { path: path.to_owned(), source })
}

pub fn read(path: &Path) -> Result<Vec<BuildRecords>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
    let refuse = |why: String| Error::Export { path: path.to_owned(), why, remedy: None };
    let write = |why: String, again: bool| Error::Export {
        path: path.to_owned(),
        why,
        remedy: Some(Remedy::WriteAnExport { again }),
    };
    // The header first: a newer file must be refused for its version, not for a field this gohook does not know.
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
        version: Option<u32>,
        gohook_version: Option<String>,
    }
    let header: Header =
        serde_json::from_str(&text).map_err(|e| write(format!("not a gohook export (not JSON: {e})"), false))?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(write(format!("not a gohook export (no \"format\": \"{FORMAT}\")"), false));
    }
    match header.version {
        Some(version) if version > VERSION => {
            return Err(refuse(format!(
                "was written by gohook {} in export format {version}; this gohook ({}) reads format {VERSION} and \
                 older: upgrade gohook to compare it",
                header.gohook_version.as_deref().unwrap_or("?"),
                gohook_records::VERSION
            )));
        }
        Some(_) => {}
        None => return Err(write("has no export format version".into(), true)),
    }
    let file: ExportFile = serde_json::from_str(&text).map_err(|e| refuse(format!("a damaged gohook export ({e})")))?;
    Ok(file.builds)
}
