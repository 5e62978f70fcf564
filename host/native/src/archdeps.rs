//! What a target builds that it should not, or builds worse than the reference architecture, read from go's own
//! package lists (`go list -e -deps -json`, one per platform, run by the caller with the fields in [`GO_LIST_FIELDS`]):
//!
//! - packages that do not build for the target (every Go file excluded by its build constraints), with the import
//!   chain from the listed packages that pulls them in;
//! - packages with assembly for the reference architecture and none for the target: the target runs their generic Go
//!   fallback, silently (the standard library is left out: nothing a module can change);
//! - cgo packages and the objects they link (`#cgo LDFLAGS` `-l`/`-L`, paths to `.a`/`.o`/`.so`/`.dylib`, `.syso`
//!   files), with each object's architectures;
//! - the packages one platform builds and the other does not, by module.
//!
//! go resolves `vendor/`, `replace` and build tags itself; this reads what it resolved.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::objects::{Slice, architectures};
use crate::platform::Platform;

/// The fields to ask `go list -json=` for: everything [`Listing`] reads, nothing more (go skips work for the rest).
pub const GO_LIST_FIELDS: &str =
    "ImportPath,Dir,Standard,DepOnly,Module,GoFiles,CgoFiles,IgnoredGoFiles,SFiles,SysoFiles,Imports,CgoLDFLAGS,Error";

/// One package as `go list -json` describes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Package {
    pub import_path: String,
    pub dir: Option<PathBuf>,
    pub standard: bool,
    /// Listed only as a dependency of the packages asked for.
    pub dep_only: bool,
    pub module: Option<Module>,
    pub go_files: Vec<String>,
    pub cgo_files: Vec<String>,
    pub ignored_go_files: Vec<String>,
    #[serde(rename = "SFiles")]
    pub s_files: Vec<String>,
    pub syso_files: Vec<String>,
    pub imports: Vec<String>,
    #[serde(rename = "CgoLDFLAGS")]
    pub cgo_ldflags: Vec<String>,
    pub error: Option<PackageError>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Module {
    pub path: String,
    pub version: Option<String>,
    pub main: bool,
    pub replace: Option<Box<Module>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PackageError {
    pub err: String,
}

impl Package {
    /// Every Go file excluded for this platform: the package does not exist there.
    fn excluded_everywhere(&self) -> bool {
        self.go_files.is_empty() && self.cgo_files.is_empty() && !self.ignored_go_files.is_empty()
    }

    /// Where it comes from: `std`, the main module's path, or `path@version` (with its replacement).
    fn module_name(&self) -> String {
        if self.standard {
            return "std".to_owned();
        }
        let Some(module) = &self.module else { return "(no module)".to_owned() };
        let mut name = module_version(module);
        if let Some(replace) = &module.replace {
            name += &format!(" => {}", module_version(replace));
        }
        name
    }
}

fn module_version(module: &Module) -> String {
    match &module.version {
        Some(version) if !module.main => format!("{}@{version}", module.path),
        _ => module.path.clone(),
    }
}

/// A go error that is not "this package does not exist on this platform": the listing cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error("go list for {platform} printed what gohook cannot read: {source}")]
    Json { platform: Platform, source: serde_json::Error },
    #[error("go list for {platform}: {package}: {message}")]
    Go { platform: Platform, package: String, message: String },
}

/// One platform's package list.
#[derive(Debug)]
pub struct Listing {
    pub platform: Platform,
    /// The CGO_ENABLED it was listed with, and why that one: cgo decides which packages and files there are.
    pub cgo: Cgo,
    pub packages: Vec<Package>,
    index: HashMap<String, usize>,
}

/// The CGO_ENABLED a platform was listed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cgo {
    pub enabled: bool,
    /// `--cgo`, `CGO_ENABLED in the environment`, or `a native build's default there`.
    pub from: String,
}

impl Listing {
    /// Reads `go list -e -deps -json` output. Fails on the first package whose error is anything but every file
    /// excluded by build constraints (a pattern that matches nothing, a module not in the cache, a syntax error).
    pub fn parse(platform: Platform, cgo: Cgo, json: &[u8]) -> Result<Listing, ListingError> {
        let packages: Vec<Package> = serde_json::Deserializer::from_slice(json)
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|source| ListingError::Json { platform: platform.clone(), source })?;
        if let Some(broken) = packages.iter().find(|p| p.error.is_some() && !p.excluded_everywhere()) {
            let message = broken.error.as_ref().map(|e| e.err.clone()).unwrap_or_default();
            return Err(ListingError::Go { platform, package: broken.import_path.clone(), message });
        }
        let index = packages.iter().enumerate().map(|(i, p)| (p.import_path.clone(), i)).collect();
        Ok(Listing { platform, cgo, packages, index })
    }

    fn get(&self, path: &str) -> Option<&Package> {
        self.index.get(path).map(|&i| &self.packages[i])
    }

    /// The packages that build here.
    fn buildable(&self) -> impl Iterator<Item = &Package> {
        self.packages.iter().filter(|p| !p.excluded_everywhere())
    }

    /// For each package, the package that imports it on a shortest path from the top: the packages asked for that
    /// no other listed package imports (with `./...`, the commands), then any other package asked for.
    fn importers(&self) -> HashMap<&str, &str> {
        let imported: std::collections::HashSet<&str> =
            self.packages.iter().flat_map(|p| p.imports.iter().map(String::as_str)).collect();
        let asked = || self.packages.iter().filter(|p| !p.dep_only);
        let tops = asked().filter(|p| !imported.contains(p.import_path.as_str()));
        let mut importer: HashMap<&str, &str> = HashMap::new();
        let mut queue: VecDeque<&str> = VecDeque::new();
        for root in tops.chain(asked()) {
            if importer.contains_key(root.import_path.as_str()) {
                continue;
            }
            importer.insert(&root.import_path, "");
            queue.push_back(&root.import_path);
            self.walk(&mut importer, &mut queue);
        }
        importer
    }

    /// Breadth first from what `queue` holds, recording each newly reached package's importer.
    fn walk<'a>(&'a self, importer: &mut HashMap<&'a str, &'a str>, queue: &mut VecDeque<&'a str>) {
        while let Some(path) = queue.pop_front() {
            let Some(package) = self.get(path) else { continue };
            for import in &package.imports {
                if !importer.contains_key(import.as_str()) {
                    importer.insert(import, path);
                    queue.push_back(import);
                }
            }
        }
    }
}

/// The import chain from a package asked for down to `path`.
fn chain(importers: &HashMap<&str, &str>, path: &str) -> Vec<String> {
    let mut chain = vec![path.to_owned()];
    let mut at = path;
    while let Some(&up) = importers.get(at).filter(|up| !up.is_empty()) {
        if chain.iter().any(|p| p == up) {
            break;
        }
        chain.push(up.to_owned());
        at = up;
    }
    chain.reverse();
    chain
}

/// The whole answer: one section per target, each against the reference platform.
#[derive(Debug, Serialize)]
pub struct Report {
    pub vs: Platform,
    pub targets: Vec<TargetReport>,
    /// Packages that do not build for a target, over all targets.
    pub missing: usize,
    /// Linked objects with an architecture other than their target's, over all targets.
    pub foreign_objects: usize,
}

#[derive(Debug, Serialize)]
pub struct TargetReport {
    pub target: Platform,
    /// The CGO_ENABLED the target was listed with.
    pub cgo_enabled: Cgo,
    /// Packages that build for the target, and for the reference.
    pub packages: usize,
    pub vs_packages: usize,
    pub missing: Vec<Missing>,
    pub generic_fallback: Vec<Fallback>,
    pub cgo: Vec<CgoPackage>,
    /// Packages that build only for the target, by module; then only for the reference.
    pub only_in_target: Vec<ModulePackages>,
    pub only_in_vs: Vec<ModulePackages>,
}

#[derive(Debug, Serialize)]
pub struct Missing {
    pub package: String,
    pub module: String,
    /// The Go files there are, every one excluded for the target.
    pub excluded_files: Vec<String>,
    pub chain: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Fallback {
    pub package: String,
    pub module: String,
    /// The reference platform's assembly files.
    pub vs_assembly: Vec<String>,
    pub chain: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CgoPackage {
    pub package: String,
    pub module: String,
    pub chain: Vec<String>,
    pub objects: Vec<LinkedObject>,
    /// `-l` libraries on none of the `-L` paths: the system's, found by the C linker's own search.
    pub unresolved: Vec<String>,
    /// `-framework` names (Apple's): the system's frameworks it links.
    pub frameworks: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LinkedObject {
    pub path: PathBuf,
    /// What names it: `-lfoo`, the path as written, or `syso`.
    pub from: String,
    pub slices: Vec<Slice>,
    /// An architecture other than the target's is in it (or it could not be read).
    pub foreign: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ModulePackages {
    pub module: String,
    pub packages: Vec<String>,
}

impl Report {
    /// Each target's listing against the reference's.
    pub fn new(targets: &[&Listing], vs: &Listing) -> Report {
        let targets: Vec<TargetReport> = targets.iter().map(|target| TargetReport::new(target, vs)).collect();
        let missing = targets.iter().map(|t| t.missing.len()).sum();
        let foreign_objects =
            targets.iter().flat_map(|t| &t.cgo).flat_map(|c| &c.objects).filter(|o| o.foreign).count();
        Report { vs: vs.platform.clone(), targets, missing, foreign_objects }
    }

    /// 1 when a target misses a package or links a foreign object, else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.missing > 0 || self.foreign_objects > 0)
    }
}

impl TargetReport {
    fn new(target: &Listing, vs: &Listing) -> TargetReport {
        let importers = target.importers();
        let chain_to = |path: &str| chain(&importers, path);
        let mut missing: Vec<Missing> = target
            .packages
            .iter()
            .filter(|p| p.excluded_everywhere())
            .map(|p| Missing {
                package: p.import_path.clone(),
                module: p.module_name(),
                excluded_files: p.ignored_go_files.clone(),
                chain: chain_to(&p.import_path),
            })
            .collect();
        let mut generic_fallback: Vec<Fallback> = target
            .buildable()
            .filter(|p| !p.standard && p.s_files.is_empty())
            .filter_map(|p| {
                let reference = vs.get(&p.import_path).filter(|r| !r.s_files.is_empty())?;
                Some(Fallback {
                    package: p.import_path.clone(),
                    module: p.module_name(),
                    vs_assembly: reference.s_files.clone(),
                    chain: chain_to(&p.import_path),
                })
            })
            .collect();
        let mut cgo: Vec<CgoPackage> = target
            .buildable()
            .filter(|p| !p.standard && (!p.cgo_files.is_empty() || !p.syso_files.is_empty()))
            .map(|p| {
                let linked = linked_objects(p, &target.platform);
                CgoPackage {
                    package: p.import_path.clone(),
                    module: p.module_name(),
                    chain: chain_to(&p.import_path),
                    objects: linked.objects,
                    unresolved: linked.unresolved,
                    frameworks: linked.frameworks,
                }
            })
            .collect();
        let in_target: BTreeMap<&str, &Package> = target.buildable().map(|p| (p.import_path.as_str(), p)).collect();
        let in_vs: BTreeMap<&str, &Package> = vs.buildable().map(|p| (p.import_path.as_str(), p)).collect();
        missing.sort_by(|a, b| (&a.module, &a.package).cmp(&(&b.module, &b.package)));
        generic_fallback.sort_by(|a, b| (&a.module, &a.package).cmp(&(&b.module, &b.package)));
        cgo.sort_by(|a, b| (&a.module, &a.package).cmp(&(&b.module, &b.package)));
        TargetReport {
            target: target.platform.clone(),
            cgo_enabled: target.cgo.clone(),
            packages: in_target.len(),
            vs_packages: in_vs.len(),
            missing,
            generic_fallback,
            cgo,
            only_in_target: by_module(in_target.iter().filter(|(path, _)| !in_vs.contains_key(*path))),
            only_in_vs: by_module(in_vs.iter().filter(|(path, _)| !in_target.contains_key(*path))),
        }
    }
}

fn by_module<'a>(packages: impl Iterator<Item = (&'a &'a str, &'a &'a Package)>) -> Vec<ModulePackages> {
    let mut modules: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, package) in packages {
        modules.entry(package.module_name()).or_default().push(path.to_string());
    }
    modules.into_iter().map(|(module, packages)| ModulePackages { module, packages }).collect()
}

/// What a cgo package links, from its LDFLAGS (as go resolved them, `${SRCDIR}` expanded) and its `.syso` files.
struct Linked {
    objects: Vec<LinkedObject>,
    /// `-l` names found on no `-L` path.
    unresolved: Vec<String>,
    frameworks: Vec<String>,
}

fn linked_objects(package: &Package, target: &Platform) -> Linked {
    let dir = package.dir.clone().unwrap_or_default();
    let mut search: Vec<PathBuf> = Vec::new();
    let mut named: Vec<(String, PathBuf)> = Vec::new();
    let mut libraries: Vec<String> = Vec::new();
    let mut frameworks: Vec<String> = Vec::new();
    let mut flags = package.cgo_ldflags.iter();
    while let Some(flag) = flags.next() {
        if let Some(rest) = flag.strip_prefix("-L") {
            let path = if rest.is_empty() { flags.next().cloned().unwrap_or_default() } else { rest.to_owned() };
            search.push(dir.join(path));
        } else if let Some(rest) = flag.strip_prefix("-l") {
            libraries.push(if rest.is_empty() { flags.next().cloned().unwrap_or_default() } else { rest.to_owned() });
        } else if flag == "-framework" {
            frameworks.extend(flags.next().cloned());
        } else if let Some(framework) = flag.strip_prefix("-Wl,-framework,") {
            frameworks.push(framework.to_owned());
        } else if !flag.starts_with('-') && is_object_path(flag) {
            named.push((flag.clone(), dir.join(flag)));
        }
    }
    let mut unresolved = Vec::new();
    for library in libraries {
        let found = search.iter().find_map(|d| {
            ["dylib", "so", "a"].iter().map(|ext| d.join(format!("lib{library}.{ext}"))).find(|p| p.is_file())
        });
        match found {
            Some(path) => named.push((format!("-l{library}"), path)),
            None => unresolved.push(format!("-l{library}")),
        }
    }
    named.extend(package.syso_files.iter().map(|f| ("syso".to_owned(), dir.join(f))));
    let objects = named.into_iter().map(|(from, path)| linked_object(from, path, target)).collect();
    Linked { objects, unresolved, frameworks }
}

fn is_object_path(flag: &str) -> bool {
    [".a", ".o", ".so", ".dylib", ".syso"].iter().any(|ext| flag.ends_with(ext)) || flag.contains(".so.")
}

fn linked_object(from: String, path: PathBuf, target: &Platform) -> LinkedObject {
    match architectures(&path) {
        Ok(slices) => {
            let foreign = slices.is_empty() || slices.iter().any(|s| s.arch != target.goarch);
            LinkedObject { path, from, slices, foreign, error: None }
        }
        Err(e) => LinkedObject { path, from, slices: Vec::new(), foreign: true, error: Some(e.to_string()) },
    }
}

impl Report {
    /// The human table: per target, each kind of finding with its chain, then the package sets' difference.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        for target in &self.targets {
            target.write_table(&self.vs, &mut out);
        }
        out += &match (self.missing, self.foreign_objects) {
            (0, 0) => "native: every package builds for its target, every linked object is the target's\n".to_owned(),
            (missing, foreign) => format!(
                "not native: {} not building for its target, {} of a foreign architecture\n",
                count(missing, "package"),
                count(foreign, "linked object")
            ),
        };
        out
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// The first few names of a list a table line must keep short; the JSON has them all.
fn some_of(names: &[String]) -> String {
    const SHOWN: usize = 3;
    match names.len() {
        n if n <= SHOWN => names.join(", "),
        n => format!("{}, … ({n} files)", names[..SHOWN].join(", ")),
    }
}

fn chain_line(chain: &[String]) -> String {
    format!("      pulled in by: {}\n", chain.join(" → "))
}

impl TargetReport {
    fn write_table(&self, vs: &Platform, out: &mut String) {
        let target = &self.target;
        *out += &format!(
            "{target} against {vs}: {} (vs {}), listed with CGO_ENABLED={} ({})\n",
            count(self.packages, "package"),
            self.vs_packages,
            u8::from(self.cgo_enabled.enabled),
            self.cgo_enabled.from
        );
        if !self.missing.is_empty() {
            *out += &format!("  MISSING: does not build for {target} ({}):\n", self.missing.len());
            for m in &self.missing {
                *out += &format!(
                    "    {}  [{}]  every file excluded: {}\n",
                    m.package,
                    m.module,
                    some_of(&m.excluded_files)
                );
                *out += &chain_line(&m.chain);
            }
        }
        if !self.generic_fallback.is_empty() {
            *out += &format!("  generic Go on {target} where {vs} has assembly ({}):\n", self.generic_fallback.len());
            for f in &self.generic_fallback {
                *out += &format!("    {}  [{}]  {}: {}\n", f.package, f.module, vs.goarch, some_of(&f.vs_assembly));
                *out += &chain_line(&f.chain);
            }
        }
        if !self.cgo.is_empty() {
            *out += &format!("  cgo ({}):\n", self.cgo.len());
            for c in &self.cgo {
                *out += &format!("    {}  [{}]\n", c.package, c.module);
                for o in &c.objects {
                    let tag = if o.foreign { "FOREIGN" } else { "ok     " };
                    let what = match &o.error {
                        Some(e) => e.clone(),
                        None => describe_slices(&o.slices),
                    };
                    *out += &format!("      {tag} {} ({}): {what}\n", o.path.display(), o.from);
                }
                if c.objects.is_empty() && c.unresolved.is_empty() && c.frameworks.is_empty() {
                    *out += "      links no library of its own\n";
                }
                if !c.unresolved.is_empty() {
                    *out += &format!("      links the system's (on no -L path): {}\n", c.unresolved.join(" "));
                }
                if !c.frameworks.is_empty() {
                    *out += &format!("      links frameworks: {}\n", c.frameworks.join(" "));
                }
                *out += &chain_line(&c.chain);
            }
        }
        for (side, groups) in [(target, &self.only_in_target), (vs, &self.only_in_vs)] {
            if groups.is_empty() {
                continue;
            }
            let n: usize = groups.iter().map(|g| g.packages.len()).sum();
            *out += &format!("  only for {side}: {} in {}\n", count(n, "package"), count(groups.len(), "module"));
            for group in groups {
                *out += &format!("    {}: {}\n", group.module, group.packages.join(" "));
            }
        }
    }
}

/// `ELF amd64`, `Mach-O arm64+amd64`, or an archive's members by architecture: `amd64 (3 members)`.
fn describe_slices(slices: &[Slice]) -> String {
    if slices.is_empty() {
        return "no object code in it".to_owned();
    }
    let mut by_arch: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for slice in slices {
        *by_arch.entry((slice.format, slice.arch.as_str())).or_default() += 1;
    }
    let members = slices.iter().any(|s| s.member.is_some());
    by_arch
        .iter()
        .map(|((format, arch), n)| match members {
            true => format!("{format} {arch} ({})", count(*n, "member")),
            false => format!("{format} {arch}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
