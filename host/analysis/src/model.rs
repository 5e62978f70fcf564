//! The build model: everything recorded for one build, read back from the store (or an export), and the sums that
//! every report starts from. Nothing here renders; the other modules of this crate do.

use std::collections::{BTreeMap, HashMap};
use std::io;

use serde::Serialize;

use gohook_records::{
    BuildActions, BuildCacheInputs, BuildContext, BuildEnd, BuildFile, BuildLabel, BuildLoad, BuildModules,
    BuildPackages, BuildStart, BuildTraceParent, GoAction, Labels, NestedGo, PackageImports, PackageModule, Phase,
    Record, Stage, Store, ToolKey, ToolRun, ToolSelfReport, UnrecordedTools,
};

use crate::Error;

/// Everything recorded for one build (and what an export carries per build).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BuildRecords {
    pub id: String,
    pub start: Option<BuildStart>,
    pub end: Option<BuildEnd>,
    pub runs: Vec<ToolRun>,
    /// The run and target the build was labelled with, if any.
    pub label: Option<Labels>,
    /// The machine and go command the build ran on (recorded at go's probes; absent in records of older gohooks).
    #[serde(default)]
    pub context: Option<BuildContext>,
    /// Every package of the build and its imports (`gohook build` only).
    #[serde(default)]
    pub packages: Option<Vec<PackageImports>>,
    /// What compiles and links measured about themselves (`--phases`, `--cpuprofile`).
    #[serde(default)]
    pub self_reports: Vec<ToolSelfReport>,
    /// Each package's module (`gohook build` only).
    #[serde(default)]
    pub modules: Option<Vec<PackageModule>>,
    /// go's plan: every compile and link, run or served from its cache (`gohook build` only).
    #[serde(default)]
    pub actions: Option<Vec<GoAction>>,
    /// What go keyed each compile and link on (`gohook build` only).
    #[serde(default)]
    pub cache_inputs: Option<BuildCacheInputs>,
    /// What each tool's `-V=full` answer was keyed on, one per tool.
    #[serde(default)]
    pub tool_keys: Vec<ToolKey>,
    /// The build this one's go command ran inside, when a test or program of that build started it.
    #[serde(default)]
    pub nested_in: Option<NestedGo>,
    /// The go commands that ran inside this build (its tests' `go build`s), each a build of its own.
    #[serde(default)]
    pub nested: Vec<NestedGo>,
    /// Go tools that ran under the build without gohook, as the driver saw them (`gohook exec` of tests and programs).
    #[serde(default)]
    pub unrecorded: Option<UnrecordedTools>,
    /// The trace the build belongs to, when its environment named one (`TRACEPARENT`, a GitHub Actions run).
    #[serde(default)]
    pub trace_parent: Option<BuildTraceParent>,
    /// How busy the machine was with other work meanwhile (`gohook build`, `exec`, `bench`).
    #[serde(default)]
    pub load: Option<BuildLoad>,
    pub corrupt: usize,
    pub unsupported: usize,
}

impl BuildRecords {
    pub fn load(store: &Store, file: &BuildFile) -> io::Result<BuildRecords> {
        let decoded = store.load(file)?;
        let mut build = BuildRecords::of_records(&file.id, decoded.records);
        build.corrupt += decoded.corrupt;
        build.unsupported += decoded.unsupported;
        Ok(build)
    }

    /// The build `id` from its records, as a build file holds them; a new kind of [`Record`] does not compile
    /// until it says where it goes here.
    pub fn of_records(id: &str, records: Vec<Record>) -> BuildRecords {
        let mut build = BuildRecords {
            id: id.to_owned(),
            start: None,
            end: None,
            runs: Vec::new(),
            label: None,
            context: None,
            packages: None,
            self_reports: Vec::new(),
            modules: None,
            actions: None,
            cache_inputs: None,
            tool_keys: Vec::new(),
            trace_parent: None,
            load: None,
            nested_in: None,
            nested: Vec::new(),
            unrecorded: None,
            corrupt: 0,
            unsupported: 0,
        };
        for record in records {
            match record {
                Record::BuildStart(start) => build.start = Some(start),
                Record::BuildEnd(end) => build.end = Some(end),
                Record::Tool(run) => build.runs.push(run),
                Record::Label(label) => {
                    build.label.get_or_insert(Labels { run: label.run, target: label.target });
                }
                Record::Context(context) => {
                    build.context.get_or_insert(context);
                }
                Record::Packages(listed) => build.packages = Some(listed.packages),
                Record::SelfReport(report) => build.self_reports.push(report),
                Record::Modules(listed) => build.modules = Some(listed.modules),
                Record::Actions(listed) => build.actions = Some(listed.actions),
                Record::CacheInputs(inputs) => build.cache_inputs = Some(inputs),
                // go probes each tool once per go command; the first answer stands for the build.
                Record::ToolKey(key) => {
                    if !build.tool_keys.iter().any(|k| k.tool == key.tool) {
                        build.tool_keys.push(key);
                    }
                }
                Record::TraceParent(parent) => {
                    build.trace_parent.get_or_insert(parent);
                }
                Record::Load(load) => build.load = Some(load),
                // Written at every probe of the nested go command: the first stands.
                Record::Nested(nested) if nested.build_id == build.id => {
                    build.nested_in.get_or_insert(nested);
                }
                Record::Nested(nested) => {
                    if !build.nested.iter().any(|n| n.build_id == nested.build_id) {
                        build.nested.push(nested);
                    }
                }
                Record::Unrecorded(unrecorded) => build.unrecorded = Some(unrecorded),
                // Check records live in run files, not build files.
                Record::Check(_) => build.unsupported += 1,
            }
        }
        build.runs.sort_by_key(|r| r.start_unix_ns);
        build
    }

    /// Every record of the build, as the store held them (what `gohook report --format records` prints): the
    /// inverse of [`BuildRecords::of_records`]. The destructuring makes a new field here a compile error until it is
    /// written out too.
    pub fn records(&self) -> Vec<Record> {
        let BuildRecords {
            id,
            start,
            end,
            runs,
            label,
            context,
            packages,
            self_reports,
            modules,
            actions,
            cache_inputs,
            tool_keys,
            trace_parent,
            load,
            nested_in,
            nested,
            unrecorded,
            corrupt: _,
            unsupported: _,
        } = self;
        let mut records: Vec<Record> = Vec::new();
        records.extend(start.iter().cloned().map(Record::BuildStart));
        records.extend(
            label.iter().map(|l| {
                Record::Label(BuildLabel { build_id: id.clone(), run: l.run.clone(), target: l.target.clone() })
            }),
        );
        records.extend(context.iter().cloned().map(Record::Context));
        records.extend(runs.iter().cloned().map(Record::Tool));
        records.extend(self_reports.iter().cloned().map(Record::SelfReport));
        records.extend(end.iter().cloned().map(Record::BuildEnd));
        records.extend(
            packages
                .iter()
                .map(|packages| Record::Packages(BuildPackages { build_id: id.clone(), packages: packages.clone() })),
        );
        records.extend(
            modules
                .iter()
                .map(|modules| Record::Modules(BuildModules { build_id: id.clone(), modules: modules.clone() })),
        );
        records.extend(tool_keys.iter().cloned().map(Record::ToolKey));
        records.extend(trace_parent.iter().cloned().map(Record::TraceParent));
        records.extend(
            actions
                .iter()
                .map(|actions| Record::Actions(BuildActions { build_id: id.clone(), actions: actions.clone() })),
        );
        records.extend(cache_inputs.iter().cloned().map(Record::CacheInputs));
        records.extend(load.iter().cloned().map(Record::Load));
        records.extend(nested_in.iter().chain(nested).cloned().map(Record::Nested));
        records.extend(unrecorded.iter().cloned().map(Record::Unrecorded));
        records
    }

    /// The build named by `id` (or a unique prefix of it).
    pub fn find(store: &Store, id: &str) -> Result<BuildRecords, Error> {
        let file = store.find(id)?;
        BuildRecords::load(store, &file).map_err(|source| Error::Read { path: file.path, source })
    }

    /// The latest recorded build.
    pub fn latest(store: &Store) -> Result<BuildRecords, Error> {
        let file = store
            .latest()
            .map_err(|source| Error::Read { path: store.builds_dir(), source })?
            .ok_or_else(|| Error::NoBuilds { dir: store.builds_dir() })?;
        BuildRecords::load(store, &file).map_err(|source| Error::Read { path: file.path, source })
    }

    /// The builds named by id (or unique prefix); the latest when none is named (never empty).
    pub fn selected(store: &Store, ids: &[String]) -> Result<Vec<BuildRecords>, Error> {
        if ids.is_empty() {
            return Ok(vec![BuildRecords::latest(store)?]);
        }
        ids.iter().map(|id| BuildRecords::find(store, id)).collect()
    }

    /// Every recorded build that started before this one and recorded go's cache keys, newest first: what `why`
    /// compares a build with. A build that cannot be read is skipped with a warning.
    pub fn earlier_builds(&self, store: &Store) -> Result<Vec<BuildRecords>, Error> {
        let start = self.start_unix_ns();
        let mut earlier = Vec::new();
        for file in store.list().map_err(|source| Error::Read { path: store.builds_dir(), source })? {
            if file.id == self.id {
                continue;
            }
            match BuildRecords::load(store, &file) {
                Ok(old) if old.cache_inputs.is_some() && old.start_unix_ns() < start => earlier.push(old),
                Ok(_) => {}
                Err(e) => tracing::warn!("skipping {}: {e}", file.path.display()),
            }
        }
        earlier.sort_by_key(|b| std::cmp::Reverse(b.start_unix_ns()));
        Ok(earlier)
    }

    /// Every build labelled with run `run`, oldest first.
    pub fn of_run(store: &Store, run: &str) -> Result<Vec<BuildRecords>, Error> {
        let read = |path: std::path::PathBuf| move |source| Error::Read { path, source };
        let mut builds = Vec::new();
        for file in store.list().map_err(read(store.builds_dir()))? {
            let build = BuildRecords::load(store, &file).map_err(read(file.path.clone()))?;
            if build.label.as_ref().is_some_and(|l| l.run == run) {
                builds.push(build);
            }
        }
        builds.sort_by_key(BuildRecords::start_unix_ns);
        Ok(builds)
    }

    /// The origin of the build's time axis: the driver's stamp, else the go process's start, else the first run.
    pub fn start_unix_ns(&self) -> u64 {
        self.start
            .as_ref()
            .map(|s| s.start_unix_ns)
            .or_else(|| self.runs.iter().map(|r| r.build_start_unix_ns.min(r.start_unix_ns)).min())
            .unwrap_or(0)
    }

    pub fn end_unix_ns(&self) -> u64 {
        let last_run = self.runs.iter().map(ToolRun::end_unix_ns).max().unwrap_or(0);
        self.end.as_ref().map_or(last_run, |e| e.end_unix_ns.max(last_run))
    }

    /// The go command line: as `gohook build` ran it, else as the go process was started (bare `-toolexec`).
    pub fn command(&self) -> Vec<String> {
        match (&self.start, &self.context) {
            (Some(start), _) => start.command.clone(),
            (None, Some(context)) => context.go.command.clone(),
            (None, None) => Vec::new(),
        }
    }

    /// The directory the go command ran in: as `gohook build` ran it, else the go process's (bare `-toolexec`).
    pub fn dir(&self) -> String {
        match (&self.start, &self.context) {
            (Some(start), _) => start.dir.clone(),
            (None, Some(context)) => context.go.dir.clone(),
            (None, None) => String::new(),
        }
    }

    /// Whether go compiles `package` at all: the compiler knows `unsafe` itself, so go never runs a compile for it,
    /// and it is never served from go's cache either.
    pub fn go_compiles(package: &str) -> bool {
        package != "unsafe"
    }

    /// The runs that did the build's work: everything but go's probes (`-V=full`, the C compiler's `-###`).
    pub fn work(&self) -> impl Iterator<Item = &ToolRun> {
        self.runs.iter().filter(|r| !r.stage.is_probe())
    }

    /// The whole build (its wall time, its runs' CPU and peak RSS) and each stage (its runs' wall and CPU summed,
    /// their peak RSS); probes left out.
    pub fn totals(&self) -> (Totals, BTreeMap<Stage, Totals>) {
        let mut whole =
            Totals { wall_ns: self.end_unix_ns().saturating_sub(self.start_unix_ns()), ..Totals::default() };
        let mut stages: BTreeMap<Stage, Totals> = BTreeMap::new();
        for run in self.work() {
            whole.cpu_ns += run.user_ns + run.sys_ns;
            whole.peak_rss_bytes = whole.peak_rss_bytes.max(run.max_rss_bytes);
            stages.entry(run.stage).or_default().add(run);
        }
        (whole, stages)
    }

    /// What each run measured about itself, by the run's (pid, start).
    pub fn self_reports(&self) -> HashMap<(u32, u64), &ToolSelfReport> {
        self.self_reports.iter().map(|r| ((r.pid, r.start_unix_ns), r)).collect()
    }

    /// The phases `run` reported (`--phases`), empty when it was not asked to.
    pub fn phases_of<'a>(reports: &HashMap<(u32, u64), &'a ToolSelfReport>, run: &ToolRun) -> &'a [Phase] {
        reports.get(&(run.pid, run.start_unix_ns)).map_or(&[], |r| &r.phases)
    }
}

/// When go could have started one of its compiles or links (every input done: its imports' compiles, or the cache
/// checks of those it served) and when it did, from go's plan: the time between is the wait for a core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Wait {
    pub ready_unix_ns: u64,
    pub start_unix_ns: u64,
}

impl Wait {
    pub fn queued_ns(self) -> u64 {
        self.start_unix_ns.saturating_sub(self.ready_unix_ns)
    }
}

impl BuildRecords {
    /// The wait of every compile (by package, [`Stage::Compile`]) and link (by its main package, [`Stage::Link`])
    /// that ran, from go's plan: one source for every queue time a report shows. Empty without a plan.
    pub fn waits(&self) -> HashMap<(Stage, &str), Wait> {
        let ran = self.actions.iter().flatten().filter(|a| a.ran && a.ready_unix_ns > 0 && a.start_unix_ns > 0);
        ran.filter_map(|a| {
            let stage = match a.mode.as_str() {
                "build" => Stage::Compile,
                "link" => Stage::Link,
                _ => return None,
            };
            Some(((stage, a.package.as_str()), Wait { ready_unix_ns: a.ready_unix_ns, start_unix_ns: a.start_unix_ns }))
        })
        .collect()
    }
}

/// Tool runs added up: wall and CPU summed, the peak of their peak RSS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub wall_ns: u64,
    pub cpu_ns: u64,
    pub peak_rss_bytes: u64,
}

impl Totals {
    pub fn add(&mut self, run: &ToolRun) {
        self.wall_ns += run.duration_ns;
        self.cpu_ns += run.user_ns + run.sys_ns;
        self.peak_rss_bytes = self.peak_rss_bytes.max(run.max_rss_bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gohook_records::{BuildLabel, Exit};

    /// A build with one record of every kind a build file holds.
    fn every_kind() -> BuildRecords {
        let run = crate::summary::tests::run(Stage::Compile, "a", 1_200, 100);
        let records = vec![
            Record::BuildStart(BuildStart {
                build_id: "b".into(),
                start_unix_ns: 1_000,
                command: vec!["go".into(), "build".into()],
                dir: "/src".into(),
                gohook_version: "0.1.0".into(),
            }),
            Record::Label(BuildLabel { build_id: "b".into(), run: "r".into(), target: "t".into() }),
            Record::Context(BuildContext { build_id: "b".into(), ..BuildContext::default() }),
            Record::Tool(run.clone()),
            Record::SelfReport(ToolSelfReport {
                build_id: "b".into(),
                pid: run.pid,
                start_unix_ns: run.start_unix_ns,
                phases: vec![Phase { name: "fe:parse".into(), ns: 7 }],
                cpu_profile: None,
            }),
            Record::BuildEnd(BuildEnd { build_id: "b".into(), end_unix_ns: 2_000, exit: Exit::Code(0) }),
            Record::Packages(BuildPackages {
                build_id: "b".into(),
                packages: vec![PackageImports { package: "a".into(), imports: vec![] }],
            }),
            Record::Modules(BuildModules {
                build_id: "b".into(),
                modules: vec![PackageModule { package: "a".into(), module: "example.com/m".into() }],
            }),
            Record::ToolKey(ToolKey {
                build_id: "b".into(),
                tool: "link".into(),
                plugins: vec![("strip".into(), "1234".into())],
            }),
            Record::Actions(BuildActions {
                build_id: "b".into(),
                actions: vec![GoAction {
                    mode: "build".into(),
                    package: "a".into(),
                    ran: true,
                    action_id: "ab".into(),
                    ready_unix_ns: 1_100,
                    start_unix_ns: 1_200,
                    done_unix_ns: 1_300,
                }],
            }),
            Record::CacheInputs(BuildCacheInputs {
                build_id: "b".into(),
                lines: vec!["compile".into()],
                actions: vec![gohook_records::ActionInputs {
                    name: "build a".into(),
                    id: "ab".into(),
                    inputs: vec![0],
                }],
            }),
            Record::TraceParent(BuildTraceParent {
                build_id: "b".into(),
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
                ..BuildTraceParent::default()
            }),
            Record::Load(BuildLoad { build_id: "b".into(), wall_ns: 1_000, cpus: 2, ..BuildLoad::default() }),
        ];
        BuildRecords::of_records("b", records)
    }

    #[test]
    fn records_written_back_read_as_the_same_build() {
        let build = every_kind();
        assert!(build.start.is_some() && build.end.is_some() && build.label.is_some() && build.context.is_some());
        assert!(build.packages.is_some() && build.modules.is_some());
        assert!(build.actions.is_some() && build.cache_inputs.is_some() && build.tool_keys.len() == 1);
        assert!(build.trace_parent.is_some() && build.load.is_some());
        assert_eq!((build.runs.len(), build.self_reports.len()), (1, 1));
        assert_eq!(BuildRecords::of_records("b", build.records()), build);
    }

    /// An export written by this gohook (format 1) must stay readable by every later one: a field added to the
    /// model needs `#[serde(default)]`, or this fails.
    #[test]
    fn an_export_of_format_1_still_reads() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/export-format-1.json");
        let builds = crate::export::read(&path).unwrap();
        assert_eq!(builds.len(), 1);
        let packages: Vec<&str> = builds[0].runs.iter().map(|r| r.package.as_str()).collect();
        assert_eq!(packages, ["", "example.com/a", "example.com/m"]);
        assert_eq!(builds[0].context.as_ref().unwrap().go.version, "go1.26.8");
    }
}
