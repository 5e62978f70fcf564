//! goreleaser's build matrix, expanded the way goreleaser v2 expands it: every target a config builds, with the
//! environment its build gets, so `gohook goreleaser lint` can put each to the plugins before anything builds.
//!
//! The expansion follows goreleaser's `internal/builders/golang` (v2.15–2.17): defaults when fields are absent
//! (`WithDefaults`), goos × goarch × the one variant list that goarch uses, invalid pairs dropped, `ignore` applied
//! (`listTargets`); `targets` replaces all of that, with default variants appended (`fixTarget`).
//!
//! The YAML is read by serde-saphyr, which resolves anchors, aliases and merge keys (`<<: *defaults`) as goreleaser's
//! YAML library does and keeps the line and column of every value, so each error points into the file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::Serialize;
use serde::de::IgnoredAny;
use serde_saphyr::{Location, Spanned};

/// A YAML scalar as goreleaser reads it into a string (`goarm: [7]` and `goarm: ["7"]` are the same).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Text(s) => f.write_str(s),
        }
    }
}

/// The parts of `.goreleaser.yaml` the matrix depends on; the rest of the file is goreleaser's business.
#[derive(Deserialize, Debug, Default)]
#[serde(default)]
struct ConfigFile {
    version: Option<Spanned<Scalar>>,
    project_name: Option<String>,
    builds: Vec<Spanned<Build>>,
    /// goreleaser Pro: parts of the config, builds among them, come from other files or URLs.
    includes: Option<Spanned<IgnoredAny>>,
    release: Release,
    /// The environment of every build (`GOFLAGS=-toolexec=gohook` may be set here).
    env: Vec<Spanned<String>>,
}

/// goreleaser takes a string or a list of strings for `flags`, `ldflags` and a hook list.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Words {
    One(String),
    Many(Vec<String>),
}

impl Words {
    fn all(&self) -> Vec<String> {
        match self {
            Words::One(one) => vec![one.clone()],
            Words::Many(many) => many.clone(),
        }
    }
}

/// A hook: a command line, or `{cmd: …, dir: …, output: …}`.
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Hook {
    Line(String),
    Full { cmd: String },
}

#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Hooks {
    One(String),
    Many(Vec<Hook>),
}

#[derive(Deserialize, Debug, Default)]
#[serde(default)]
struct BuildHooks {
    post: Option<Hooks>,
    pre: Option<IgnoredAny>,
}

/// Where goreleaser publishes; its repository name is the project name when `project_name` is absent.
#[derive(Deserialize, Debug, Default)]
#[serde(default)]
struct Release {
    github: Repository,
    gitlab: Repository,
    gitea: Repository,
}

#[derive(Deserialize, Debug, Default)]
#[serde(default)]
struct Repository {
    name: Option<String>,
}

/// A list of scalars, each with where it was written.
type Values = Vec<Spanned<Scalar>>;

/// One `builds[]` entry. Unknown fields are errors, as they are to goreleaser (a misspelt `goarhc` would otherwise
/// silently build the default matrix).
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields, default)]
struct Build {
    id: Option<String>,
    builder: Option<String>,
    skip: Option<Scalar>,
    goos: Values,
    goarch: Values,
    goamd64: Values,
    go386: Values,
    goarm: Values,
    goarm64: Values,
    gomips: Values,
    goppc64: Values,
    goriscv64: Values,
    targets: Vec<String>,
    ignore: Vec<Ignore>,
    env: Vec<Spanned<String>>,
    // Fields that do not change which targets are built.
    hooks: BuildHooks,
    buildmode: Option<Spanned<String>>,
    ldflags: Option<Spanned<Words>>,
    flags: Option<Spanned<Words>>,
    dir: Option<IgnoredAny>,
    main: Option<IgnoredAny>,
    binary: Option<IgnoredAny>,
    mod_timestamp: Option<IgnoredAny>,
    tool: Option<IgnoredAny>,
    gobinary: Option<IgnoredAny>,
    command: Option<IgnoredAny>,
    no_unique_dist_dir: Option<IgnoredAny>,
    no_main_check: Option<IgnoredAny>,
    overrides: Option<IgnoredAny>,
    tags: Option<IgnoredAny>,
    asmflags: Option<IgnoredAny>,
    gcflags: Option<IgnoredAny>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields, default)]
struct Ignore {
    goos: Option<Scalar>,
    goarch: Option<Scalar>,
    goamd64: Option<Scalar>,
    go386: Option<Scalar>,
    goarm: Option<Scalar>,
    goarm64: Option<Scalar>,
    gomips: Option<Scalar>,
    goppc64: Option<Scalar>,
    goriscv64: Option<Scalar>,
}

/// One target of the matrix, named as goreleaser names it (`linux_amd64_v1`, `darwin_arm64_v8.0`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Target {
    pub target: String,
    pub goos: String,
    pub goarch: String,
    /// The variant of goarch (GOAMD64, GOARM64, GOARM, …), empty when goarch has none.
    pub variant: String,
}

impl Target {
    fn new(goos: &str, goarch: &str, variant: &str) -> Target {
        let target = if variant.is_empty() { format!("{goos}_{goarch}") } else { format!("{goos}_{goarch}_{variant}") };
        Target { target, goos: goos.to_owned(), goarch: goarch.to_owned(), variant: variant.to_owned() }
    }

    /// goreleaser's target names: `goos_goarch[_variant]`; the variant may itself hold `_` (never does today).
    fn parse(name: &str) -> Target {
        let mut parts = name.splitn(3, '_');
        let goos = parts.next().unwrap_or_default();
        let goarch = parts.next().unwrap_or_default();
        Target::new(goos, goarch, parts.next().unwrap_or_default())
    }

    /// A target name as goreleaser writes it (`linux_amd64_v1`, `darwin_arm64`, `darwin_all` for a universal
    /// binary), checked as goreleaser checks a `targets:` entry; the default variant is added when none is given.
    pub fn named(name: &str) -> Result<Target, String> {
        let target = Target::parse(&fix_target(name));
        if !VALID_GOOS.contains(&target.goos.as_str()) {
            return Err(format!("unknown goos {:?}", target.goos));
        }
        if target.goos == "darwin" && target.goarch == "all" && target.variant.is_empty() {
            return Ok(target);
        }
        if !VALID_GOARCH.contains(&target.goarch.as_str()) {
            return Err(format!("unknown goarch {:?}", target.goarch));
        }
        if !VALID_PAIRS.contains(&format!("{}{}", target.goos, target.goarch).as_str()) {
            return Err(format!("go does not build {}/{}", target.goos, target.goarch));
        }
        let variant_ok = match target.variant_env() {
            Some(_) => valid_variant(&target.goarch, &target.variant),
            None => target.variant.is_empty(),
        };
        if !variant_ok {
            return Err(format!("invalid variant {:?} for goarch {}", target.variant, target.goarch));
        }
        Ok(target)
    }

    /// The variable go reads the variant from, if goarch has one.
    pub fn variant_env(&self) -> Option<&'static str> {
        Some(match self.goarch.as_str() {
            "amd64" => "GOAMD64",
            "386" => "GO386",
            "arm" => "GOARM",
            "arm64" => "GOARM64",
            "mips" | "mipsle" => "GOMIPS",
            "mips64" | "mips64le" => "GOMIPS64",
            "ppc64" | "ppc64le" => "GOPPC64",
            "riscv64" => "GORISCV64",
            _ => return None,
        })
    }
}

/// One build's expanded matrix.
#[derive(Debug, Clone)]
pub struct BuildMatrix {
    pub id: String,
    /// Why goreleaser builds nothing for it (`skip: true`, a non-Go builder).
    pub skipped: Option<String>,
    pub targets: Vec<Target>,
    /// The build's `env` entries go would see (templates left out: they need goreleaser to render).
    pub env: Vec<(String, String)>,
    pub wiring: Wiring,
}

/// How a build is wired to gohook and the policy: what `go build` gets besides the target.
#[derive(Debug, Clone, Default)]
pub struct Wiring {
    /// The `-toolexec=…` go gets, from `flags` or a `GOFLAGS` entry of the build's or the config's `env`, with
    /// the line it is written on.
    pub toolexec: Option<(String, u64)>,
    /// A post hook runs `gohook check` on each binary.
    pub checked_after: bool,
    /// `buildmode`, with its line.
    pub buildmode: Option<(String, u64)>,
    /// Every `ldflags` word (`-s`, `-w`, `-X=…`), and the line of the list.
    pub ldflags: Option<(Vec<String>, u64)>,
    /// Where the build starts (its `- id:` or first field), for findings about what it lacks.
    pub line: u64,
}

/// Why a goreleaser file — a config, or the artifacts list goreleaser wrote — yields nothing.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // `why` is not a `source`: said once in the message, not again by an error chain.
    #[error("cannot read {}: {why}", path.display())]
    Unreadable { path: PathBuf, why: std::io::Error },
    /// `message` says where in the file (line and column) and what is wrong.
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// The names goreleaser v2 looks for when given no `--config`, in its order (cmd/config.go).
pub const DEFAULT_CONFIGS: [&str; 6] = [
    ".config/goreleaser.yml",
    ".config/goreleaser.yaml",
    ".goreleaser.yml",
    ".goreleaser.yaml",
    "goreleaser.yml",
    "goreleaser.yaml",
];

/// The config goreleaser would read in `dir` when given none.
pub fn find_config(dir: &Path) -> Option<PathBuf> {
    DEFAULT_CONFIGS.iter().map(|name| dir.join(name)).find(|path| path.is_file())
}

/// The binaries goreleaser lists in `dist/artifacts.json` (entries of type `Binary`). Their paths are relative to
/// where goreleaser ran: the directory above `dist/`.
pub fn binaries(artifacts_json: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    #[derive(Deserialize)]
    struct Artifact {
        path: PathBuf,
        #[serde(rename = "type")]
        kind: String,
    }
    let path = artifacts_json;
    let text = std::fs::read_to_string(path).map_err(|why| ConfigError::Unreadable { path: path.to_owned(), why })?;
    let list: Vec<Artifact> = serde_json::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.to_owned(),
        message: format!("not a goreleaser artifacts list ({e})"),
    })?;
    let project = path.parent().and_then(Path::parent).unwrap_or(Path::new("."));
    Ok(list.into_iter().filter(|a| a.kind == "Binary").map(|a| project.join(a.path)).collect())
}

/// Reads a goreleaser config and expands every build's matrix.
pub fn matrix(path: &Path) -> Result<Vec<BuildMatrix>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|why| ConfigError::Unreadable { path: path.to_owned(), why })?;
    let module = path.parent().and_then(module_name);
    matrix_of(&text, module.as_deref()).map_err(|message| ConfigError::Invalid { path: path.to_owned(), message })
}

/// The matrix of a config's text, for a project whose go.mod is unknown.
pub fn matrix_from_str(text: &str) -> Result<Vec<BuildMatrix>, String> {
    matrix_of(text, None)
}

/// The last element of the module path in `dir/go.mod`, which goreleaser takes as the project name when the config
/// gives none.
fn module_name(dir: &Path) -> Option<String> {
    let go_mod = std::fs::read_to_string(dir.join("go.mod")).ok()?;
    let path = go_mod.lines().find_map(|line| line.trim().strip_prefix("module "))?;
    let path = path.trim().trim_matches('"');
    path.rsplit('/').next().filter(|name| !name.is_empty()).map(str::to_owned)
}

fn matrix_of(text: &str, module: Option<&str>) -> Result<Vec<BuildMatrix>, String> {
    let config: ConfigFile = serde_saphyr::from_str(text).map_err(|e| {
        let message = e.without_snippet().to_string();
        match e.location() {
            // serde-saphyr puts the location into its message too; say it once, first.
            Some(at) => format!("{}: {}", place(at), strip_location(&message)),
            None => message,
        }
    })?;
    // goreleaser v2 says this of every config that is not `version: 2`, and refuses those that use a field v2
    // removed (`archives.rlcp`, …): gohook cannot tell those apart without goreleaser's whole schema, so it refuses
    // them all, in goreleaser's words, with the fix.
    let version = config.version.as_ref().map_or("0".to_owned(), |v| v.value.to_string());
    if version != "2" {
        let at = config.version.as_ref().map_or("line 1, column 1".to_owned(), |v| place(v.referenced));
        return Err(format!(
            "{at}: only version: 2 configuration files are supported, yours is version: {version}, please update your \
             configuration (goreleaser v2's words): {} `version: 2` and move off the fields v2 removed \
             (`goreleaser check` names them)",
            if config.version.is_some() { "write" } else { "add the line" }
        ));
    }
    if let Some(includes) = &config.includes {
        return Err(format!(
            "{}: `includes:` (goreleaser Pro) brings in config from other files or URLs, which gohook does not \
             fetch: the included builds cannot be linted. To lint them, lint a copy of this config with the included \
             `builds:` written into it",
            place(includes.referenced)
        ));
    }
    let builds = if config.builds.is_empty() {
        vec![Spanned { value: Build::default(), referenced: Location::UNKNOWN, defined: Location::UNKNOWN }]
    } else {
        config.builds
    };
    let shared_env = config.env;
    // goreleaser names a build without `id` after the project; without `project_name` it guesses the project from the
    // release repository, then from go.mod's module path (internal/pipe/project).
    let release = config.release;
    let default_id = [config.project_name, release.github.name, release.gitlab.name, release.gitea.name]
        .into_iter()
        .flatten()
        .find(|name| !name.is_empty())
        .or(module.map(str::to_owned))
        .unwrap_or_else(|| "default".to_owned());
    builds
        .into_iter()
        .map(|build| {
            let wiring = wiring(&build, &shared_env);
            expand(build.value, &default_id).map(|matrix| BuildMatrix { wiring, ..matrix })
        })
        .collect()
}

/// What of the build wires it to gohook, with where it is written.
fn wiring(build: &Spanned<Build>, shared_env: &[Spanned<String>]) -> Wiring {
    let line = |s: &Location| s.line();
    let value = &build.value;
    let from_flags = value.flags.iter().flat_map(|flags| {
        flags
            .value
            .all()
            .into_iter()
            .flat_map(|f| f.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .filter(|f| f.starts_with("-toolexec=") || f.starts_with("--toolexec="))
            .map(|f| (f, line(&flags.referenced)))
            .collect::<Vec<_>>()
    });
    let from_env = value.env.iter().chain(shared_env).filter_map(|entry| {
        let goflags = entry.value.strip_prefix("GOFLAGS=")?;
        let flag = goflags.split_whitespace().find(|f| f.starts_with("-toolexec=") || f.starts_with("--toolexec="))?;
        Some((flag.trim_matches(['\'', '"']).to_owned(), line(&entry.referenced)))
    });
    let toolexec = from_flags.chain(from_env).next();
    let post = match &value.hooks.post {
        Some(Hooks::One(line)) => vec![line.clone()],
        Some(Hooks::Many(hooks)) => hooks
            .iter()
            .map(|hook| match hook {
                Hook::Line(line) => line.clone(),
                Hook::Full { cmd } => cmd.clone(),
            })
            .collect(),
        None => Vec::new(),
    };
    let checked_after = post.iter().any(|cmd| {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        words.windows(2).any(|w| w[0].rsplit('/').next() == Some("gohook") && w[1] == "check")
    });
    Wiring {
        toolexec,
        checked_after,
        buildmode: value.buildmode.as_ref().map(|b| (b.value.clone(), line(&b.referenced))),
        ldflags: value.ldflags.as_ref().map(|l| {
            let words = l
                .value
                .all()
                .iter()
                .flat_map(|w| w.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                .collect();
            (words, line(&l.referenced))
        }),
        line: line(&build.referenced),
    }
}

/// `line L, column C`, as every error of this module says where it is.
fn place(at: Location) -> String {
    format!("line {}, column {}", at.line(), at.column())
}

/// serde-saphyr's messages end with ` at line L column C`; the location is said once, up front.
fn strip_location(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains("column") => &message[..at],
        _ => message,
    }
}

/// The values as strings with where each was written; goreleaser's defaults (no location) when the list is empty.
fn strings(values: &[Spanned<Scalar>], default: &[&str]) -> Vec<(String, Option<Location>)> {
    if values.is_empty() {
        default.iter().map(|s| (s.to_string(), None)).collect()
    } else {
        values.iter().map(|v| (v.value.to_string(), Some(v.referenced))).collect()
    }
}

/// `line L, column C: ` for a written value, nothing for a default.
fn at(location: Option<Location>) -> String {
    location.map(|l| format!("{}: ", place(l))).unwrap_or_default()
}

fn expand(build: Build, default_id: &str) -> Result<BuildMatrix, String> {
    let id = build.id.clone().unwrap_or_else(|| default_id.to_owned());
    let env = build
        .env
        .iter()
        .map(|e| &e.value)
        .filter(|e| !e.contains("{{"))
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let skipped = match (&build.skip, build.builder.as_deref()) {
        (Some(skip), _) if skip.to_string() == "true" => Some("skip: true".to_owned()),
        (_, Some(builder)) if builder != "go" => Some(format!("builder {builder}: not a Go build")),
        _ => None,
    };
    if skipped.is_some() {
        return Ok(BuildMatrix { id, skipped, targets: Vec::new(), env, wiring: Wiring::default() });
    }
    let targets = if build.targets.is_empty() {
        listed_targets(&build, &id)?
    } else {
        let mut names = BTreeSet::new();
        for target in &build.targets {
            if target == "go_first_class" || target == "go_118_first_class" {
                names.extend(FIRST_CLASS.iter().map(|t| fix_target(t)));
            } else {
                names.insert(fix_target(target));
            }
        }
        names.iter().map(|name| Target::parse(name)).collect()
    };
    Ok(BuildMatrix { id, skipped: None, targets, env, wiring: Wiring::default() })
}

/// goos × goarch × variants, invalid pairs dropped, `ignore` applied, in goreleaser's order.
fn listed_targets(build: &Build, id: &str) -> Result<Vec<Target>, String> {
    let goos = strings(&build.goos, &["linux", "darwin", "windows"]);
    let goarch = strings(&build.goarch, &["amd64", "arm64", "386"]);
    let variants = |arch: &str| match arch {
        "amd64" => strings(&build.goamd64, &["v1"]),
        "386" => strings(&build.go386, &["sse2"]),
        "arm" => strings(&build.goarm, &["6"]),
        "arm64" => strings(&build.goarm64, &["v8.0"]),
        "mips" | "mipsle" | "mips64" | "mips64le" => strings(&build.gomips, &["hardfloat"]),
        "ppc64" | "ppc64le" => strings(&build.goppc64, &["power8"]),
        "riscv64" => strings(&build.goriscv64, &["rva20u64"]),
        _ => vec![(String::new(), None)],
    };
    let mut targets = Vec::new();
    for (os, os_at) in &goos {
        if !VALID_GOOS.contains(&os.as_str()) {
            return Err(format!("{}invalid goos: {os} (build {id:?})", at(*os_at)));
        }
        for (arch, arch_at) in &goarch {
            if !VALID_GOARCH.contains(&arch.as_str()) {
                return Err(format!("{}invalid goarch: {arch} (build {id:?})", at(*arch_at)));
            }
            for (variant, variant_at) in variants(arch) {
                if !valid_variant(arch, &variant) {
                    return Err(format!(
                        "{}invalid variant {variant:?} for goarch {arch} (build {id:?})",
                        at(variant_at)
                    ));
                }
                let target = Target::new(os, arch, &variant);
                if VALID_PAIRS.contains(&format!("{os}{arch}").as_str()) && !ignored(&build.ignore, &target) {
                    targets.push(target);
                }
            }
        }
    }
    Ok(targets)
}

fn ignored(rules: &[Ignore], target: &Target) -> bool {
    let differs = |rule: &Option<Scalar>, value: &str| rule.as_ref().is_some_and(|r| r.to_string() != value);
    let variant = |env: &str| if target.variant_env() == Some(env) { target.variant.as_str() } else { "" };
    rules.iter().any(|rule| {
        !(differs(&rule.goos, &target.goos)
            || differs(&rule.goarch, &target.goarch)
            || differs(&rule.goamd64, variant("GOAMD64"))
            || differs(&rule.go386, variant("GO386"))
            || differs(&rule.goarm, variant("GOARM"))
            || differs(&rule.goarm64, variant("GOARM64"))
            || differs(&rule.gomips, if target.goarch.starts_with("mips") { target.variant.as_str() } else { "" })
            || differs(&rule.goppc64, variant("GOPPC64"))
            || differs(&rule.goriscv64, variant("GORISCV64")))
    })
}

/// goreleaser appends the default variant to a target named without one.
fn fix_target(target: &str) -> String {
    let default = [
        ("_amd64", "v1"),
        ("_386", "sse2"),
        ("_arm", "6"),
        ("_arm64", "v8.0"),
        ("_mips", "hardfloat"),
        ("_mips64", "hardfloat"),
        ("_mipsle", "hardfloat"),
        ("_mips64le", "hardfloat"),
        ("_ppc64", "power8"),
        ("_ppc64le", "power8"),
        ("_riscv64", "rva20u64"),
    ]
    .iter()
    .find(|(suffix, _)| target.ends_with(suffix));
    match default {
        Some((_, variant)) => format!("{target}_{variant}"),
        None => target.to_owned(),
    }
}

/// Whether go accepts `variant` for `arch` (the values goreleaser's newest v2 lets through).
fn valid_variant(arch: &str, variant: &str) -> bool {
    match arch {
        "amd64" => matches!(variant, "v1" | "v2" | "v3" | "v4"),
        "386" => matches!(variant, "sse2" | "softfloat"),
        // GOARM=5,softfloat / 7,hardfloat: the float mode after a comma (go 1.22, goreleaser v2.17).
        "arm" => match variant.split_once(',') {
            Some((version, float)) => matches!(version, "5" | "6" | "7") && matches!(float, "softfloat" | "hardfloat"),
            None => matches!(variant, "5" | "6" | "7"),
        },
        "arm64" => valid_goarm64(variant),
        "mips" | "mipsle" | "mips64" | "mips64le" => matches!(variant, "hardfloat" | "softfloat"),
        "ppc64" | "ppc64le" => matches!(variant, "power8" | "power9" | "power10"),
        "riscv64" => matches!(variant, "rva20u64" | "rva22u64" | "rva23u64"),
        _ => true,
    }
}

/// `v8.0`…`v8.9`, `v9.0`…`v9.5`, each optionally followed by `,lse` and/or `,crypto`.
fn valid_goarm64(value: &str) -> bool {
    let mut parts = value.split(',');
    let base = parts.next().unwrap_or_default();
    let base_ok = match base.strip_prefix('v').and_then(|v| v.split_once('.')) {
        Some(("8", minor)) => minor.len() == 1 && minor.as_bytes()[0].is_ascii_digit(),
        Some(("9", minor)) => matches!(minor, "0" | "1" | "2" | "3" | "4" | "5"),
        _ => false,
    };
    base_ok && parts.all(|p| p == "lse" || p == "crypto")
}

const FIRST_CLASS: &[&str] = &[
    "darwin_amd64",
    "darwin_arm64",
    "linux_386",
    "linux_amd64",
    "linux_arm",
    "linux_arm64",
    "windows_386",
    "windows_amd64",
];

const VALID_GOOS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "illumos",
    "ios",
    "js",
    "linux",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "wasip1",
];

const VALID_GOARCH: &[&str] = &[
    "386", "amd64", "arm", "arm64", "mips", "mips64", "mips64le", "mipsle", "ppc64", "ppc64le", "s390x", "wasm",
    "riscv64", "loong64", "sparc", "sparc64",
];

/// goos+goarch pairs goreleaser builds (valid, experimental and broken lists together); others are dropped silently.
const VALID_PAIRS: &[&str] = &[
    "aixppc64",
    "android386",
    "androidamd64",
    "androidarm",
    "androidarm64",
    "darwinamd64",
    "darwinarm64",
    "dragonflyamd64",
    "freebsd386",
    "freebsdamd64",
    "freebsdarm",
    "freebsdarm64",
    "illumosamd64",
    "iosarm64",
    "jswasm",
    "wasip1wasm",
    "linux386",
    "linuxamd64",
    "linuxarm",
    "linuxarm64",
    "linuxppc64",
    "linuxppc64le",
    "linuxmips",
    "linuxmipsle",
    "linuxmips64",
    "linuxmips64le",
    "linuxs390x",
    "linuxriscv64",
    "linuxloong64",
    "netbsd386",
    "netbsdamd64",
    "netbsdarm",
    "netbsdarm64",
    "openbsd386",
    "openbsdamd64",
    "openbsdarm",
    "openbsdarm64",
    "plan9386",
    "plan9amd64",
    "plan9arm",
    "solarisamd64",
    "solarissparc",
    "solarissparc64",
    "windowsarm64",
    "windows386",
    "windowsamd64",
    "openbsdriscv64",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_are_listed_relative_to_the_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        let list = dir.path().join("dist/artifacts.json");
        std::fs::write(
            &list,
            r#"[{"name":"app","path":"dist/app_linux_amd64_v1/app","goos":"linux","goarch":"amd64","type":"Binary"},
                {"name":"app.tar.gz","path":"dist/app.tar.gz","type":"Archive"},
                {"name":"app","path":"/abs/app","type":"Binary"}]"#,
        )
        .unwrap();
        assert_eq!(
            binaries(&list).unwrap(),
            [dir.path().join("dist/app_linux_amd64_v1/app"), PathBuf::from("/abs/app")]
        );
        std::fs::write(&list, "{}").unwrap();
        assert!(binaries(&list).unwrap_err().to_string().contains("not a goreleaser artifacts list"));
    }

    /// A config's matrix; `version: 2` is added when the text has no version line, as every config here needs.
    fn v2(yaml: &str) -> Result<Vec<BuildMatrix>, String> {
        if yaml.starts_with("version:") {
            matrix_from_str(yaml)
        } else {
            matrix_from_str(&format!("version: 2\n{yaml}"))
        }
    }

    fn names(yaml: &str) -> Vec<Vec<String>> {
        v2(yaml).unwrap().into_iter().map(|b| b.targets.into_iter().map(|t| t.target).collect()).collect()
    }

    #[test]
    fn defaults_match_goreleaser() {
        // linux, darwin, windows × amd64, arm64, 386; darwin/386 is not a valid pair.
        assert_eq!(
            names("version: 2\nbuilds:\n  - main: .\n"),
            [[
                "linux_amd64_v1",
                "linux_arm64_v8.0",
                "linux_386_sse2",
                "darwin_amd64_v1",
                "darwin_arm64_v8.0",
                "windows_amd64_v1",
                "windows_arm64_v8.0",
                "windows_386_sse2",
            ]]
        );
        assert_eq!(names("project_name: x\n").len(), 1, "no builds: goreleaser's one default build");
    }

    #[test]
    fn ignore_variants_and_targets() {
        let yaml = "builds:\n  - goos: [linux, windows]\n    goarch: [arm, arm64]\n    goarm: [6, \"7\"]\n    ignore:\n      - goos: windows\n        goarch: arm\n      - goarm: 6\n";
        assert_eq!(names(yaml), [["linux_arm_7", "linux_arm64_v8.0", "windows_arm64_v8.0"]]);
        let yaml = "builds:\n  - targets: [linux_amd64, darwin_arm64, linux_amd64_v3, go_first_class]\n";
        assert_eq!(
            names(yaml),
            [[
                "darwin_amd64_v1",
                "darwin_arm64_v8.0",
                "linux_386_sse2",
                "linux_amd64_v1",
                "linux_amd64_v3",
                "linux_arm64_v8.0",
                "linux_arm_6",
                "windows_386_sse2",
                "windows_amd64_v1",
            ]]
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = matrix_from_str("version: 2\nbuilds:\n  - goos: [linux]\n    goarhc: [arm64]\n").unwrap_err();
        let text = format!("{e:#}");
        assert!(text.contains("unknown field `goarhc`") && text.contains("line 4"), "{text}");
        // Malformed YAML: where the unclosed bracket opens.
        let e = v2("builds:\n  - goos: [linux\n").unwrap_err();
        assert_eq!(format!("{e:#}"), "line 3, column 11: unclosed bracket '['");
        let e = v2("builds:\n  - goos: [plan10]\n").unwrap_err();
        assert_eq!(format!("{e:#}"), "line 3, column 12: invalid goos: plan10 (build \"default\")");
        let e = matrix_from_str("version: 1\n").unwrap_err();
        assert!(
            format!("{e:#}").starts_with(
                "line 1, column 10: only version: 2 configuration files are supported, yours is version: 1, please \
                 update your configuration"
            ),
            "{e:#}"
        );
        let e = matrix_from_str("builds: []\n").unwrap_err();
        assert!(
            format!("{e:#}").starts_with(
                "line 1, column 1: only version: 2 configuration files are supported, yours is version: 0"
            ),
            "{e:#}"
        );
    }

    #[test]
    fn merge_keys_and_float_variants() {
        let yaml = "builds:\n  - <<: &d\n      goos: [linux]\n      goarch: [arm]\n      goarm: ['5,softfloat', '7,hardfloat', 6]\n    id: a\n  - <<: *d\n    id: b\n    goarm: [7]\n";
        assert_eq!(
            names(yaml),
            [vec!["linux_arm_5,softfloat", "linux_arm_7,hardfloat", "linux_arm_6"], vec!["linux_arm_7"]]
        );
        let e = v2("builds:\n  - goarch: [arm]\n    goarm: ['5,fastfloat']\n").unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "line 4, column 13: invalid variant \"5,fastfloat\" for goarch arm (build \"default\")"
        );
    }

    #[test]
    fn unnamed_builds_take_the_project_name_as_goreleaser_guesses_it() {
        let ids = |yaml: &str, module: Option<&str>| -> Vec<String> {
            matrix_of(&format!("version: 2\n{yaml}"), module).unwrap().into_iter().map(|b| b.id).collect()
        };
        assert_eq!(ids("project_name: p\nrelease:\n  github:\n    name: r\n", Some("m")), ["p"]);
        assert_eq!(ids("release:\n  github:\n    owner: o\n    name: r\n", Some("m")), ["r"]);
        assert_eq!(ids("builds:\n  - goos: [linux]\n  - id: x\n", Some("m")), ["m", "x"]);
        assert_eq!(ids("", None), ["default"]);
    }

    #[test]
    fn pro_includes_are_refused_not_ignored() {
        let e = matrix_from_str("version: 2\nincludes:\n  - from_url:\n      url: x.yaml\n").unwrap_err();
        assert!(format!("{e:#}").starts_with("line 3, column 3: `includes:` (goreleaser Pro)"), "{e:#}");
    }

    #[test]
    fn skipped_builds_have_no_targets() {
        let matrix = v2("builds:\n  - id: a\n    skip: true\n  - id: b\n    builder: rust\n").unwrap();
        assert_eq!(matrix[0].skipped.as_deref(), Some("skip: true"));
        assert_eq!(matrix[1].skipped.as_deref(), Some("builder rust: not a Go build"));
        assert!(matrix.iter().all(|b| b.targets.is_empty()));
    }

    #[test]
    fn goarm64_values() {
        assert!(valid_goarm64("v8.0") && valid_goarm64("v9.5,lse,crypto"));
        assert!(!valid_goarm64("v9.6") && !valid_goarm64("8.0") && !valid_goarm64("v8.0,sve"));
    }
}
