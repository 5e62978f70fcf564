//! The architectures inside a file the linker reads or the system runs: an executable, a `.o`/`.syso`, a shared
//! library, a universal (fat) Mach-O, a static archive (`.a`, member by member), or a universal static archive.

use std::path::{Path, PathBuf};

use object::read::archive::ArchiveFile;
use object::read::macho::{FatArch, MachOFatFile32, MachOFatFile64};
use object::{FileKind, Object};
use serde::Serialize;

use crate::platform::goarch_name;

/// One architecture found in a file: the whole file, one slice of a universal Mach-O, or one archive member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slice {
    /// `ELF`, `Mach-O`, `PE` or `COFF`.
    pub format: &'static str,
    /// go's name (`amd64`, `arm64`, …), or `object`'s for an architecture go has no name for.
    pub arch: String,
    /// The archive member it is, for a static archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not an object file, executable or archive gohook can read ({why})")]
    Format { path: PathBuf, why: String },
}

/// Every architecture in the file at `path`: one for a thin object, one per slice of a universal Mach-O, one per
/// object member of an archive (its symbol table and other non-object members skipped).
pub fn architectures(path: &Path) -> Result<Vec<Slice>, ObjectError> {
    let data = std::fs::read(path).map_err(|source| ObjectError::Read { path: path.to_owned(), source })?;
    architectures_in(path, &data)
}

/// [`architectures`] of a file already read.
pub(crate) fn architectures_in(path: &Path, data: &[u8]) -> Result<Vec<Slice>, ObjectError> {
    slices(data, None).map_err(|why| ObjectError::Format { path: path.to_owned(), why })
}

fn slices(data: &[u8], member: Option<&str>) -> Result<Vec<Slice>, String> {
    let kind = FileKind::parse(data).map_err(|e| e.to_string())?;
    match kind {
        FileKind::Archive => archive_slices(data),
        FileKind::MachOFat32 => {
            let fat = MachOFatFile32::parse(data).map_err(|e| e.to_string())?;
            fat_slices(data, fat.arches(), member)
        }
        FileKind::MachOFat64 => {
            let fat = MachOFatFile64::parse(data).map_err(|e| e.to_string())?;
            fat_slices(data, fat.arches(), member)
        }
        _ => {
            let file = object::File::parse(data).map_err(|e| e.to_string())?;
            let format = match file.format() {
                object::BinaryFormat::Elf => "ELF",
                object::BinaryFormat::MachO => "Mach-O",
                object::BinaryFormat::Pe => "PE",
                object::BinaryFormat::Coff => "COFF",
                _ => "object",
            };
            Ok(vec![Slice { format, arch: goarch_name(file.architecture()), member: member.map(str::to_owned) }])
        }
    }
}

fn fat_slices<A: FatArch>(data: &[u8], arches: &[A], member: Option<&str>) -> Result<Vec<Slice>, String> {
    let mut found = Vec::new();
    for arch in arches {
        let slice = arch.data(data).map_err(|e| e.to_string())?;
        found.extend(slices(slice, member)?);
    }
    Ok(found)
}

fn archive_slices(data: &[u8]) -> Result<Vec<Slice>, String> {
    let archive = ArchiveFile::parse(data).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    for member in archive.members() {
        let member = member.map_err(|e| e.to_string())?;
        let name = String::from_utf8_lossy(member.name()).into_owned();
        let Ok(bytes) = member.data(data) else { continue };
        // Symbol tables, string tables and LLVM bitcode are no machine code of any architecture.
        if let Ok(mut member_slices) = slices(bytes, Some(&name)) {
            found.append(&mut member_slices);
        }
    }
    Ok(found)
}
