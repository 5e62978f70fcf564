//! A go target, `GOOS/GOARCH`, and go's names for the architectures `object` reads.

use std::fmt;
use std::str::FromStr;

use gohook_sdk::inspect::Architecture;
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
