//! The evidence of how a binary was built and judged — what `gohook attest`, `gohook build --attest` and goreleaser's
//! post hook write — gathered from the build's records (the command, the tools that ran, when), the binary itself (its digest, Go build info and build
//! id), the toolchain on disk (the executables that ran, by digest) and the policy (its plugins, which judge the
//! binary once more here), then written by `gohook_attest` as signed statements.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use gohook_analysis::BuildRecords;
use gohook_attest::{
    ExternalParameters, GoBuild, InternalParameters, Kind, MainModule, ROLE, ResourceDescriptor, Role, Signer, Vcs,
    Verdict, digest, sha256_hex,
};
use gohook_native::{BuildInfo, ModuleDep};
use gohook_policy::{PluginSpec, Policy, Source};
use gohook_records::{CheckStatus, FindingLevel, Stage, Store};

use crate::check_report::{check_files, select_checks};

/// The toolchain executables whose digests the provenance lists, when the build ran or probed them.
const TOOLCHAIN: [&str; 4] = ["compile", "asm", "link", "cgo"];

/// At the end of `gohook build --attest[=DIR]` or a build under `[attest]`: the build's -o, signed when a key is
/// configured. Said on stderr either way; an error exits 2 after go's exit code is known.
pub(crate) fn after_build(store: &Store, policy: &Policy, records: &BuildRecords, dir: Option<PathBuf>) -> Result<()> {
    let binary = output_of(records)?;
    let signer = default_key(policy).map(|key| Signer::from_file(&key, None)).transpose()?;
    let source_files = policy.attest.as_ref().is_some_and(|a| a.materials.is_some());
    let dir = dir.or_else(|| policy.attest.as_ref().and_then(|a| a.dir.clone()));
    let written = Written { stem: file_name(&binary), dir, signer: signer.as_ref(), source_files };
    let written = write_attestations(store, policy, records, &binary, written)?;
    report_written(&written, signer.is_some());
    Ok(())
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

pub(crate) fn report_written(written: &[PathBuf], signed: bool) {
    let list: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    eprintln!("gohook: {} attestations: {}", if signed { "signed" } else { "unsigned" }, list.join(", "));
}

/// The key from the environment, else gohook.toml's `[attest] key`.
pub(crate) fn default_key(policy: &Policy) -> Option<PathBuf> {
    std::env::var_os(gohook_process::env::ATTEST_KEY)
        .filter(|k| !k.is_empty())
        .map(PathBuf::from)
        .or_else(|| policy.attest.as_ref()?.key.clone())
}

/// The build named, else the latest one; under `GOHOOK_RUN` (a goreleaser post hook), the latest of that run built
/// for `target` (default `GOHOOK_TARGET`).
pub(crate) fn chosen_build(store: &Store, id: Option<&str>, target: Option<&str>) -> Result<BuildRecords> {
    if let Some(id) = id {
        return Ok(BuildRecords::find(store, id)?);
    }
    let run = std::env::var(gohook_process::env::RUN).unwrap_or_default();
    if run.is_empty() {
        return Ok(BuildRecords::latest(store)?);
    }
    let target = target.map(str::to_owned).or_else(|| std::env::var(gohook_process::env::TARGET).ok());
    let builds = BuildRecords::of_run(store, &run)?;
    let matching = builds.into_iter().rev().find(|b| {
        let linked = b.runs.iter().any(|r| r.stage == Stage::Link);
        let label = b.label.as_ref().map_or("", |l| l.target.as_str());
        linked && target.as_deref().is_none_or(|t| t == label)
    });
    matching.with_context(|| {
        format!(
            "no build of run {run}{} linked a binary: is -toolexec=gohook in the goreleaser build's flags?",
            target.map_or(String::new(), |t| format!(" for target {t}"))
        )
    })
}

/// The binary at the build's `-o`, relative to the go command's directory.
pub(crate) fn output_of(records: &BuildRecords) -> Result<PathBuf> {
    let command = records.command();
    let output = command.iter().enumerate().find_map(|(i, arg)| match arg.as_str() {
        "-o" | "--o" => command.get(i + 1).cloned(),
        _ => arg.strip_prefix("-o=").or_else(|| arg.strip_prefix("--o=")).map(str::to_owned),
    });
    let Some(output) = output else {
        bail!("build {} has no -o ({}): name the binary with --binary FILE", records.id, command.join(" "));
    };
    let path = PathBuf::from(records.dir()).join(output);
    if path.is_dir() {
        bail!("build {}'s -o is the directory {}: name the binary with --binary FILE", records.id, path.display());
    }
    Ok(path)
}

/// How the attestations of one binary are written.
pub(crate) struct Written<'a> {
    /// Their files are named `STEM.KIND.…`.
    pub stem: String,
    /// Where they go; `None`: beside the binary.
    pub dir: Option<PathBuf>,
    /// `None`: unsigned.
    pub signer: Option<&'a Signer>,
    /// List every compiled source file in the provenance.
    pub source_files: bool,
}

/// Gathers the evidence about `binary` and writes both statements as `written` says; the files written.
pub(crate) fn write_attestations(
    store: &Store,
    policy: &Policy,
    records: &BuildRecords,
    binary: &Path,
    written: Written<'_>,
) -> Result<Vec<PathBuf>> {
    let Written { stem, dir, signer, source_files } = written;
    let bytes = std::fs::read(binary).with_context(|| format!("cannot read the binary {}", binary.display()))?;
    let subject = ResourceDescriptor::file(&file_name(binary), &sha256_hex(&bytes));
    drop(bytes);
    let (info, go_build_id) = linked_by(records, binary)?;
    let (specs, verdict) = judge(store, policy, binary, &subject)?;
    let mut build = provenance(records, &info, subject, policy, &specs)?;
    if let Some(id) = go_build_id {
        build
            .byproducts
            .push(ResourceDescriptor { name: "go-build-id".to_owned(), ..Default::default() }.annotated("value", id));
    }
    if source_files {
        build.byproducts.extend(compiled_files(records, &info)?);
    }
    let dir = dir.unwrap_or_else(|| binary.parent().unwrap_or(Path::new(".")).to_owned());
    let mut written = gohook_attest::write(&dir, &stem, Kind::Provenance, &build.statement(), signer)?;
    written.extend(gohook_attest::write(&dir, &stem, Kind::Verdict, &verdict.statement(), signer)?);
    Ok(written)
}

/// The binary's Go build info, once it is clear the build linked it: its main package is what the build linked and
/// its Go version the build's. Its Go build id too, when it has one.
fn linked_by(records: &BuildRecords, binary: &Path) -> Result<(BuildInfo, Option<String>)> {
    let images = gohook_native::built_for(binary).map_err(|e| anyhow::anyhow!("{}: {e}", binary.display()))?;
    let [image] = images.as_slice() else {
        bail!(
            "{} holds {} images (a universal binary made after the build): attest each slice's binary, as its build \
             linked it",
            binary.display(),
            images.len()
        );
    };
    let Some(info) = image.build_info.clone() else {
        bail!("{} has no Go build info: not a binary go linked", binary.display());
    };
    let main = info.main_package.clone().unwrap_or_default();
    let linked: Vec<&str> = records
        .runs
        .iter()
        .filter(|r| r.stage == Stage::Link && r.exit.success())
        .map(|r| r.package.as_str())
        .collect();
    if !linked.is_empty() && !linked.contains(&main.as_str()) {
        bail!(
            "{} is {main}'s binary, but build {} linked {}: name the build that linked it (gohook builds)",
            binary.display(),
            records.id,
            linked.join(", ")
        );
    }
    if let Some(context) = &records.context
        && !context.go.version.is_empty()
        && context.go.version != info.go_version
    {
        bail!(
            "{} was built by {}, build {} ran {}: not this build's binary",
            binary.display(),
            info.go_version,
            records.id,
            context.go.version
        );
    }
    Ok((info, image.go_build_id.clone()))
}

/// The policy's checks on the binary, as `gohook check` runs them (the built-ins with their defaults when there is
/// no gohook.toml), and the plugins that ran.
fn judge(
    store: &Store,
    policy: &Policy,
    binary: &Path,
    subject: &ResourceDescriptor,
) -> Result<(Vec<PluginSpec>, Verdict)> {
    let (selected, _) = select_checks(policy.clone(), &[])?;
    let specs = PluginSpec::from_policy(&selected)?;
    let report = check_files(&specs, store.root(), &[binary.to_owned()]);
    let file = &report.files[0];
    if file.status == CheckStatus::Error {
        bail!("cannot check {}: {}", binary.display(), file.error.clone().unwrap_or_default());
    }
    let rules_of = |level: FindingLevel| -> Vec<String> {
        file.findings.iter().filter(|f| f.severity == level).map(|f| f.rule.clone()).collect()
    };
    let mut configuration: Vec<ResourceDescriptor> = policy_descriptor(policy)?.into_iter().collect();
    configuration.extend(specs.iter().map(plugin_descriptor).collect::<Result<Vec<_>>>()?);
    let verdict = Verdict {
        subject: subject.clone(),
        rules: report.rules.iter().map(|r| r.id.clone()).collect(),
        warned: rules_of(FindingLevel::Warning),
        failed: rules_of(FindingLevel::Error),
        configuration,
    };
    Ok((specs, verdict))
}

fn policy_descriptor(policy: &Policy) -> Result<Option<ResourceDescriptor>> {
    let Some(path) = &policy.source else { return Ok(None) };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(ResourceDescriptor::file("gohook.toml", &sha256_hex(&bytes)).annotated("path", path.display().to_string())))
}

fn plugin_descriptor(spec: &PluginSpec) -> Result<ResourceDescriptor> {
    let (uri, sha256) = match &spec.source {
        Source::Builtin(builtin) => (format!("gohook:builtin/{}", builtin.name), builtin.sha256.to_owned()),
        Source::File(path) => {
            let bytes = gohook_policy::read_plugin_file(path)?;
            (path.display().to_string(), sha256_hex(&bytes))
        }
    };
    Ok(ResourceDescriptor { name: spec.name.clone(), uri, digest: digest("sha256", &sha256), ..Default::default() }
        .annotated(ROLE, Role::Plugin.name()))
}

/// The SLSA provenance of the binary: what was asked, what else keyed go's cache, everything resolved.
fn provenance(
    records: &BuildRecords,
    info: &BuildInfo,
    subject: ResourceDescriptor,
    policy: &Policy,
    plugins: &[PluginSpec],
) -> Result<GoBuild> {
    let dir = PathBuf::from(records.dir());
    let setting = |key: &str| info.setting(key).unwrap_or_default().to_owned();
    let vcs = (!setting("vcs.revision").is_empty()).then(|| Vcs {
        system: setting("vcs"),
        revision: setting("vcs.revision"),
        time: setting("vcs.time"),
        modified: setting("vcs.modified") == "true",
        remote: git_remote(&dir),
    });
    let main_module = MainModule {
        path: info.main_module.clone().unwrap_or_default(),
        version: info.main_version.clone().unwrap_or_default(),
        vcs,
    };
    let command = without_toolexec(&records.command());
    let (flags, settings): (Vec<_>, Vec<_>) = info
        .settings
        .iter()
        .filter(|(k, _)| !k.starts_with("vcs") && k != "GOOS" && k != "GOARCH")
        .cloned()
        .partition(|(k, _)| k.starts_with('-'));
    let environment = records.context.as_ref().map(|c| go_environment(&c.go.env)).unwrap_or_default();
    let mut dependencies = Vec::new();
    dependencies.push(main_module_descriptor(&main_module));
    let module_root = module_root(&dir);
    for dep in &info.deps {
        dependencies.push(module_descriptor(dep, module_root.as_deref())?);
    }
    dependencies.extend(toolchain(records, &dir, &info.go_version)?);
    dependencies.extend(plugins.iter().map(plugin_descriptor).collect::<Result<Vec<_>>>()?);
    Ok(GoBuild {
        external: ExternalParameters {
            command,
            package: info.main_package.clone().unwrap_or_default(),
            goos: setting("GOOS"),
            goarch: setting("GOARCH"),
            flags: flags.into_iter().collect(),
            main_module,
        },
        internal: InternalParameters {
            go_version: info.go_version.clone(),
            settings: settings.into_iter().collect(),
            environment,
            policy: policy_descriptor(policy)?,
        },
        subject,
        dependencies,
        byproducts: Vec::new(),
        build_id: records.id.clone(),
        started_unix_ns: records.start_unix_ns(),
        finished_unix_ns: records.end_unix_ns(),
        gohook_version: gohook_records::VERSION.to_owned(),
    })
}

/// go's environment as the build ran, less what `gohook build` added for its own records (`GODEBUG=gocachehash=1`,
/// which prints cache keys and changes nothing built).
fn go_environment(env: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (key, value) in env {
        let value = match key.as_str() {
            "GODEBUG" => value.split(',').filter(|item| *item != "gocachehash=1").collect::<Vec<_>>().join(","),
            _ => value.clone(),
        };
        if !(key == "GODEBUG" && value.is_empty()) {
            out.insert(key.clone(), value);
        }
    }
    out
}

/// The go command line without `-toolexec` (which names gohook's path, said by the builder instead).
fn without_toolexec(command: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for arg in command {
        if std::mem::take(&mut skip_next) {
            continue;
        }
        match arg.trim_start_matches('-') {
            "toolexec" if arg.starts_with('-') => skip_next = true,
            flag if arg.starts_with('-') && flag.starts_with("toolexec=") => {}
            _ => out.push(arg.clone()),
        }
    }
    out
}

fn main_module_descriptor(main: &MainModule) -> ResourceDescriptor {
    let mut descriptor = ResourceDescriptor { name: main.path.clone(), ..Default::default() };
    if let Some(vcs) = &main.vcs {
        let remote = if vcs.remote.is_empty() { format!("https://{}", main.path) } else { vcs.remote.clone() };
        descriptor.uri = format!("{}+{remote}@{}", vcs.system, vcs.revision);
        descriptor.digest = digest(if vcs.system == "git" { "gitCommit" } else { "commit" }, &vcs.revision);
    }
    descriptor.annotated(ROLE, Role::MainModule.name()).annotated("version", main.version.clone())
}

/// A module of the build info: go.sum's hash as `dirHash1`; a module replaced by a directory, the digest of the
/// directory's files (sha256 of their `sha256  path` lines sorted by path, as go's dirhash builds its summary;
/// hidden directories and nested modules left out, as go leaves them out of a module).
fn module_descriptor(dep: &ModuleDep, module_root: Option<&Path>) -> Result<ResourceDescriptor> {
    let Some(replace) = &dep.replace else {
        return Ok(gohook_attest::module(&dep.path, &dep.version, Some(&dep.sum)));
    };
    let replaces = format!("{}@{}", dep.path, dep.version);
    if !replace.is_directory() {
        return Ok(
            gohook_attest::module(&replace.path, &replace.version, Some(&replace.sum)).annotated("replaces", replaces)
        );
    }
    let dir = module_root.unwrap_or(Path::new(".")).join(&replace.path);
    let files = directory_digest(&dir).with_context(|| format!("the local replacement of {}", dep.path))?;
    Ok(ResourceDescriptor {
        name: dep.path.clone(),
        uri: format!("pkg:golang/{}@{}", dep.path, dep.version),
        digest: digest("sha256", &files),
        ..Default::default()
    }
    .annotated(ROLE, Role::Module.name())
    .annotated("replacedBy", replace.path.clone()))
}

fn directory_digest(dir: &Path) -> Result<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).with_context(|| format!("cannot read {}", at.display()))? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && !path.join("go.mod").is_file() {
                    stack.push(path);
                }
            } else {
                let relative = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
                files.push((relative, sha256_hex(&std::fs::read(&path)?)));
            }
        }
    }
    files.sort();
    let lines: String = files.iter().map(|(path, sha256)| format!("{sha256}  {path}\n")).collect();
    Ok(sha256_hex(lines.as_bytes()))
}

/// The directory of the go.mod governing `dir`.
fn module_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.join("go.mod").is_file()).map(Path::to_owned)
}

/// The toolchain executables the build ran (or asked `-V=full` of, when go's cache served their work), by digest,
/// from the go that built the binary; and the C compiler when cgo ran.
fn toolchain(records: &BuildRecords, dir: &Path, go_version: &str) -> Result<Vec<ResourceDescriptor>> {
    let go = PathBuf::from(gohook_process::env::go_program());
    let output = Command::new(&go)
        .args(["env", "GOVERSION", "GOTOOLDIR", "CC"])
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run {} env", go.display()))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut lines = text.lines();
    let (Some(version), Some(tooldir), cc) = (lines.next(), lines.next(), lines.next()) else {
        bail!("{} env in {} failed: {}", go.display(), dir.display(), String::from_utf8_lossy(&output.stderr).trim());
    };
    if version != go_version {
        bail!(
            "the binary was built by {go_version}, but go here ({}) is {version}: attest where the build ran, with its \
             go (GOHOOK_GO)",
            go.display()
        );
    }
    let mut out = Vec::new();
    for tool in TOOLCHAIN.iter().filter(|tool| records.runs.iter().any(|r| r.tool == **tool)) {
        let path = Path::new(tooldir).join(tool);
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read the toolchain's {}", path.display()))?;
        out.push(
            ResourceDescriptor::file(tool, &sha256_hex(&bytes))
                .annotated(ROLE, Role::Toolchain.name())
                .annotated("goVersion", go_version)
                .annotated("path", path.display().to_string()),
        );
    }
    let cgo_ran = records.runs.iter().any(|r| r.stage == Stage::Cgo);
    if let Some(cc) = cc.filter(|cc| cgo_ran && !cc.is_empty())
        && let Some(path) = executable_on_path(cc.split_whitespace().next().unwrap_or(cc))
    {
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read the C compiler {}", path.display()))?;
        out.push(
            ResourceDescriptor::file(cc, &sha256_hex(&bytes))
                .annotated(ROLE, Role::CCompiler.name())
                .annotated("path", path.display().to_string()),
        );
    }
    Ok(out)
}

fn executable_on_path(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return std::fs::canonicalize(name).ok();
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
}

/// Every file go compiled into the binary, per package, by sha256: `go list -deps` of the main package with the
/// binary's GOOS, GOARCH, tags and CGO_ENABLED.
fn compiled_files(records: &BuildRecords, info: &BuildInfo) -> Result<Vec<ResourceDescriptor>> {
    let dir = PathBuf::from(records.dir());
    let go = PathBuf::from(gohook_process::env::go_program());
    let mut command = Command::new(&go);
    command.current_dir(&dir).args([
        "list",
        "-deps",
        "-f",
        "{{.ImportPath}}{{range .GoFiles}}\t{{$.Dir}}/{{.}}{{end}}{{range .CgoFiles}}\t{{$.Dir}}/{{.}}{{end}}\
         {{range .SFiles}}\t{{$.Dir}}/{{.}}{{end}}{{range .CFiles}}\t{{$.Dir}}/{{.}}{{end}}\
         {{range .HFiles}}\t{{$.Dir}}/{{.}}{{end}}{{range .EmbedFiles}}\t{{$.Dir}}/{{.}}{{end}}",
    ]);
    if let Some(tags) = info.setting("-tags") {
        command.arg(format!("-tags={tags}"));
    }
    command.arg(info.main_package.clone().unwrap_or_else(|| ".".to_owned()));
    for key in ["GOOS", "GOARCH", "CGO_ENABLED"] {
        if let Some(value) = info.setting(key) {
            command.env(key, value);
        }
    }
    let output = command.output().with_context(|| format!("cannot run {} list", go.display()))?;
    if !output.status.success() {
        bail!("go list -deps in {} failed: {}", dir.display(), String::from_utf8_lossy(&output.stderr).trim());
    }
    let mut out = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let mut fields = line.split('\t');
        let package = fields.next().unwrap_or_default();
        for file in fields {
            let bytes = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
            out.push(ResourceDescriptor::file(file, &sha256_hex(&bytes)).annotated("package", package));
        }
    }
    Ok(out)
}

fn git_remote(dir: &Path) -> String {
    let output = Command::new("git").args(["remote", "get-url", "origin"]).current_dir(dir).output();
    match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => String::new(),
    }
}
