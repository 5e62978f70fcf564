//! A go target, `GOOS/GOARCH`, and go's names for the architectures `object` reads.

use std::fmt;
use std::str::FromStr;

use gohook_sdk::inspect::{Architecture, Binary, BuildInfo, Bytes};
use serde::{Serialize, Serializer};

/// `GOOS/GOARCH`, as go spells them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub goos: String,
    pub goarch: String,
}

impl Platform {
    pub fn new(goos: &str, goarch: &str) -> Platform {
        Platform { goos: goos.to_owned(), goarch: goarch.to_owned() }
    }

    /// go's directory name for it, as in `pkg/tool/darwin_arm64`.
    pub fn tool_dir(&self) -> String {
        format!("{}_{}", self.goos, self.goarch)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.goos, self.goarch)
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Platform, String> {
        match text.split_once('/') {
            Some((goos, goarch))
                if !goos.is_empty()
                    && !goarch.is_empty()
                    && !goarch.contains('/')
                    && is_name(goos)
                    && is_name(goarch) =>
            {
                Ok(Platform::new(goos, goarch))
            }
            _ => Err(format!("{text:?} is not GOOS/GOARCH, e.g. darwin/arm64 (`go tool dist list` lists them)")),
        }
    }
}

fn is_name(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl Serialize for Platform {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What one image of a binary was built for: from the Go build info it carries (`GOOS`, `GOARCH`, `GOAMD64`, …)
/// where it has one, else from its header (Mach-O is darwin, PE windows; an ELF file's OS goes unsaid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltFor {
    /// `None` for an ELF binary without build info: linux, the BSDs and others all write the same header.
    pub goos: Option<String>,
    pub goarch: String,
    /// The image's Go build info, when it has one (and every image of the file does).
    pub build_info: Option<BuildInfo>,
    /// Go's build ID of the image, when the linker wrote one.
    pub go_build_id: Option<String>,
}

impl BuiltFor {
    /// A setting of the build info (`GOAMD64`, …).
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.build_info.as_ref()?.setting(key)
    }
}

impl fmt::Display for BuiltFor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.goos.as_deref().unwrap_or("(an ELF OS)"), self.goarch)
    }
}

/// Every image of the binary at `path` (one, or one per slice of a universal Mach-O) and what it was built for.
pub fn built_for(path: &std::path::Path) -> Result<Vec<BuiltFor>, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name = path.to_string_lossy();
    let source = Bytes { name: &name, data: &data };
    let binary = Binary::open(&source)?;
    let images = binary.images()?;
    let infos = binary.build_info().unwrap_or_default();
    let facts = binary.facts().unwrap_or_default();
    // Build info is listed per image that has one: it pairs with the images only when every image has it.
    let paired = infos.len() == images.len();
    Ok(images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let info = paired.then(|| &infos[i]);
            let setting = |key: &str| info.and_then(|info| info.setting(key)).map(str::to_owned);
            let from_header = match image.file.format() {
                object::BinaryFormat::MachO => Some("darwin".to_owned()),
                object::BinaryFormat::Pe => Some("windows".to_owned()),
                _ => None,
            };
            BuiltFor {
                goos: setting("GOOS").or(from_header),
                goarch: setting("GOARCH").unwrap_or_else(|| goarch_name(image.architecture)),
                build_info: info.cloned(),
                go_build_id: facts.get(i).and_then(|f| f.go_build_id.clone()),
            }
        })
        .collect())
}

/// go's name for an architecture, or `object`'s when go has none (a 32-bit x86 `.o` is `386`, a SPARC one `Sparc64`).
pub fn goarch_name(architecture: Architecture) -> String {
    gohook_sdk::inspect::goarch(architecture).map_or_else(|| format!("{architecture:?}"), str::to_owned)
}

/// The machine names `uname -m` prints, as go names them.
pub fn goarch_of_uname(machine: &str) -> Option<&'static str> {
    Some(match machine {
        "x86_64" | "amd64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "i386" | "i486" | "i586" | "i686" => "386",
        "riscv64" => "riscv64",
        "ppc64le" => "ppc64le",
        "ppc64" => "ppc64",
        "s390x" => "s390x",
        "loongarch64" => "loong64",
        m if m.starts_with("armv") => "arm",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_as_go_spells_them() {
        assert_eq!("darwin/arm64".parse::<Platform>().unwrap(), Platform::new("darwin", "arm64"));
        assert_eq!(Platform::new("linux", "amd64").tool_dir(), "linux_amd64");
        for bad in ["darwin", "darwin/", "/arm64", "darwin/arm64/x", "Darwin/ARM64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }
}
