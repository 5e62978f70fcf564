//! Every Go installation a user may be running without knowing: the `go` on PATH, its GOROOT's compiler and linker,
//! and the other installations in the places installers put them, each with its version and its executables'
//! architectures — read from the files, since a foreign `go` may not run here at all.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use gohook_sdk::inspect::{Binary, Bytes};
use serde::Serialize;

use crate::objects::{ObjectError, Slice, architectures, architectures_in};

/// One executable of a toolchain and the architectures it holds.
#[derive(Debug, Clone, Serialize)]
pub struct Executable {
    pub path: PathBuf,
    /// go's names, one per slice for a universal binary; empty when it could not be read.
    pub arches: Vec<String>,
    /// Why the architectures are unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Executable {
    pub fn read(path: &Path) -> Executable {
        Executable::of(path, architectures(path))
    }

    fn of(path: &Path, slices: Result<Vec<Slice>, ObjectError>) -> Executable {
        match slices {
            Ok(slices) => {
                let mut arches: Vec<String> = slices.into_iter().map(|s| s.arch).collect();
                arches.dedup();
                Executable { path: path.to_owned(), arches, error: None }
            }
            Err(e) => Executable { path: path.to_owned(), arches: Vec::new(), error: Some(e.to_string()) },
        }
    }

    /// Whether it runs natively on a machine of `goarch` (a universal binary with that slice does).
    pub fn runs_natively_on(&self, goarch: &str) -> bool {
        self.arches.iter().any(|a| a == goarch)
    }
}

/// Where an installation was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    /// The n-th `go` on PATH (1-based): the first is the one a shell runs.
    Path { position: usize },
    /// A usual place (Homebrew, /usr/local/go, ~/sdk, gvm, asdf, mise).
    Place { place: String },
    /// A toolchain go downloaded into the module cache, run when `GOTOOLCHAIN` (or a go.mod `toolchain` line)
    /// names its version and the go that starts has its platform.
    ToolchainModule { gotoolchain: String },
}

/// One Go installation.
#[derive(Debug, Clone, Serialize)]
pub struct Installation {
    /// The `go` executable as found (a symlink, for Homebrew's bin/go).
    pub go: Executable,
    /// Its GOROOT: the directory above the resolved executable's `bin`, as go itself finds it.
    pub root: PathBuf,
    /// As `go version` reports it (the executable's build info), else the GOROOT's VERSION file.
    pub version: Option<String>,
    pub found: Found,
    /// This is the go a shell (and gohook) runs.
    pub used: bool,
}

impl Installation {
    /// The installation of `go`, its GOROOT `root` (from [`root_of`]): the executable read once for both its
    /// architectures and its build info.
    fn at(go: &Path, root: PathBuf, found: Found) -> Installation {
        let (executable, version) = match std::fs::read(go) {
            Ok(data) => (Executable::of(go, architectures_in(go, &data)), build_info_version(go, &data)),
            Err(source) => (Executable::of(go, Err(ObjectError::Read { path: go.to_owned(), source })), None),
        };
        let version = version.or_else(|| version_file(&root));
        Installation { go: executable, root, version, found, used: false }
    }

    /// The compiler and linker of every `pkg/tool/GOOS_GOARCH` directory of the GOROOT; go runs those of its own
    /// platform.
    pub fn tools(&self) -> Vec<Executable> {
        let mut dirs: Vec<PathBuf> = match std::fs::read_dir(self.root.join("pkg/tool")) {
            Ok(entries) => entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect(),
            Err(_) => return Vec::new(),
        };
        dirs.sort();
        dirs.iter()
            .flat_map(|dir| ["compile", "link"].map(|tool| dir.join(tool)))
            .filter(|path| path.is_file())
            .map(|path| Executable::read(&path))
            .collect()
    }
}

/// A go executable's GOROOT: the directory above its resolved path's `bin`, as go itself finds it.
fn root_of(go: &Path) -> PathBuf {
    let resolved = std::fs::canonicalize(go).unwrap_or_else(|_| go.to_owned());
    resolved.parent().and_then(Path::parent).map(Path::to_owned).unwrap_or_default()
}

fn build_info_version(go: &Path, data: &[u8]) -> Option<String> {
    let name = go.to_string_lossy();
    let source = Bytes { name: &name, data };
    let binary = Binary::open(&source).ok()?;
    binary.build_info().ok()?.into_iter().next().map(|info| info.go_version)
}

fn version_file(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join("VERSION")).ok()?;
    text.lines().next().map(|line| line.trim().to_owned()).filter(|v| v.starts_with("go"))
}

/// What to search besides PATH: the user's home and the module cache.
pub struct Places {
    pub home: Option<PathBuf>,
    pub module_cache: Option<PathBuf>,
}

impl Places {
    /// From the environment, as go finds them: `GOMODCACHE`, else the first `GOPATH` entry's `pkg/mod`, else
    /// `~/go/pkg/mod`.
    pub fn from_env() -> Places {
        let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        let module_cache = std::env::var_os("GOMODCACHE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                let gopath = std::env::var_os("GOPATH").filter(|v| !v.is_empty())?;
                std::env::split_paths(&gopath).next().map(|p| p.join("pkg/mod"))
            })
            .or_else(|| home.as_ref().map(|h| h.join("go/pkg/mod")));
        Places { home, module_cache }
    }
}

/// Every installation: the `go`s on `path` in order, then those in the usual places, each GOROOT once. `program` is
/// the go that runs (a path, or a name looked up on `path`); its installation is marked used.
pub fn installations(path: &OsStr, places: &Places, program: &OsStr) -> Vec<Installation> {
    let used = match Path::new(program).components().count() > 1 {
        true => Some(PathBuf::from(program)),
        false => std::env::split_paths(path).map(|dir| dir.join(program)).find(|go| is_executable(go)),
    };
    let mut found: Vec<Installation> = Vec::new();
    // An installation reached twice (PATH and a usual place, a symlink and its target) is read once.
    let mut add = |go: PathBuf, how: Found| {
        let root = root_of(&go);
        if !found.iter().any(|other| other.root == root) {
            found.push(Installation::at(&go, root, how));
        }
    };
    for (i, dir) in std::env::split_paths(path).enumerate().filter(|(_, d)| !d.as_os_str().is_empty()) {
        let go = dir.join("go");
        if is_executable(&go) {
            add(go, Found::Path { position: i + 1 });
        }
    }
    for (go, place) in usual_places(places) {
        if is_executable(&go) {
            add(go, place);
        }
    }
    let Some(used) = used else { return found };
    let root = root_of(&used);
    match found.iter_mut().find(|i| i.root == root) {
        Some(listed) => listed.used = true,
        None => {
            let mut installation =
                Installation::at(&used, root, Found::Place { place: "the go gohook runs".to_owned() });
            installation.used = true;
            found.insert(0, installation);
        }
    }
    found
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Candidate `go` executables in the places installers and version managers put them.
fn usual_places(places: &Places) -> Vec<(PathBuf, Found)> {
    let place = |what: &str| Found::Place { place: what.to_owned() };
    let mut candidates: Vec<(PathBuf, Found)> = vec![
        (PathBuf::from("/opt/homebrew/bin/go"), place("Homebrew (Apple Silicon)")),
        (PathBuf::from("/usr/local/bin/go"), place("/usr/local/bin (Intel Homebrew)")),
        (PathBuf::from("/usr/local/go/bin/go"), place("go.dev installer")),
    ];
    let mut each = |dir: PathBuf, bin: &str, what: &str| {
        for sub in sorted_dirs(&dir) {
            candidates.push((sub.join(bin), place(what)));
        }
    };
    each(PathBuf::from("/opt/homebrew/Cellar/go"), "libexec/bin/go", "Homebrew (Apple Silicon)");
    each(PathBuf::from("/usr/local/Cellar/go"), "libexec/bin/go", "Intel Homebrew (/usr/local)");
    if let Some(home) = &places.home {
        each(home.join("sdk"), "bin/go", "~/sdk (golang.org/dl)");
        each(home.join(".gvm/gos"), "bin/go", "gvm");
        each(home.join(".asdf/installs/golang"), "go/bin/go", "asdf");
        each(home.join(".local/share/mise/installs/go"), "bin/go", "mise");
    }
    if let Some(cache) = &places.module_cache {
        for dir in sorted_dirs(&cache.join("golang.org")) {
            let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
            if let Some(version) = toolchain_module_version(&name) {
                candidates.push((dir.join("bin/go"), Found::ToolchainModule { gotoolchain: version }));
            }
        }
    }
    candidates
}

/// `toolchain@v0.0.1-go1.27.3.darwin-arm64` → `go1.27.3`.
fn toolchain_module_version(name: &str) -> Option<String> {
    let rest = name.strip_prefix("toolchain@v0.0.1-")?;
    let (version, _platform) = rest.rsplit_once('.')?;
    Some(version.to_owned())
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    dirs.sort();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_module_names_give_their_gotoolchain() {
        assert_eq!(toolchain_module_version("toolchain@v0.0.1-go1.27.3.darwin-arm64").as_deref(), Some("go1.27.3"));
        assert_eq!(toolchain_module_version("toolchain@v0.0.1-go1.22rc1.linux-amd64").as_deref(), Some("go1.22rc1"));
        assert_eq!(toolchain_module_version("x@v0.1.0"), None);
    }
}
