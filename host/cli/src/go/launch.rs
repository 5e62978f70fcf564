//! Launching a go command under gohook: `-toolexec` on its command line or in GOFLAGS, a build id and time axis
//! shared with every shim, the package graph beside or after it, go's plan and cache keys, and the build's start, end
//! and load records around it. `gohook build`, `exec` and `bench` all run go through [`run_recorded`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use gohook_policy::Policy;
use gohook_process::env::{self, ShimEnvironment};
use gohook_process::signals;
use gohook_records::{
    BuildActions, BuildCacheInputs, BuildEnd, BuildStamp, BuildStart, Exit, LoadSample, Record, Store, now_unix_ns,
};

use crate::go::command::GoCommand;
use crate::go::list::{self as go_list, GoList, Listing, PackageGraph};
use crate::go::outside;
use crate::go::plan as go_plan;
use crate::progress::Progress;

/// The installed `gohook` next to this `gohook-commands`: what `-toolexec` names (never `gohook-commands` itself).
pub fn gohook_executable() -> Result<PathBuf> {
    gohook_process::executables::gohook().context("cannot find gohook's own executable to pass as -toolexec")
}

/// A go command line to launch under gohook.
pub struct GoLaunch {
    /// argv, `argv[0]` being the program.
    pub argv: Vec<OsString>,
    /// Where the go command will run from: the policy file is looked for here and above.
    pub dir: PathBuf,
    /// Extra environment for go, e.g. `GOFLAGS` carrying `-toolexec`, or a private `GOCACHE`.
    pub env: Vec<(String, String)>,
    /// What the shims are told beyond the build id, record root, policy and log, which [`run_recorded`] sets.
    pub shim: ShimEnvironment,
    /// For `go build`: the `go list -deps` arguments that name the same packages with the same flags, run beside the
    /// build to learn its package graph ([`Listing`]).
    pub list: Option<Vec<OsString>>,
    /// For `go build`: ask go for its plan and its cache keys' inputs, and record them (`go_plan`).
    pub plan: bool,
    /// For go commands that run the user's programs (`go test`, `go run`): `list` runs after go, with `-export`, and
    /// the cache keys' inputs come from it, not from go's own stderr (see [`go_list::list_with_cache_inputs`]).
    pub list_after: bool,
    /// The command may run go commands of its own (tests, programs, scripts): watch for go tools that run under it
    /// without gohook ([`outside`]).
    pub watch_outside: bool,
}

impl GoLaunch {
    /// `go build <args>` with `-toolexec` as its first flag (after `-C dir`, which go requires to come first).
    pub fn build(args: Vec<OsString>, gohook: &Path) -> Result<GoLaunch> {
        let toolexec = OsString::from(format!("-toolexec={}", quote_for_go(gohook)?));
        let mut argv = vec![env::go_program(), OsString::from("build")];
        argv.extend(args);
        let go = GoCommand::parse(&argv).context("go build is a go command gohook records")?;
        argv.insert(go.flags_at, toolexec);
        let list = go.list_arguments(&[go_list::FIELDS]);
        let dir = go.dir(&std::env::current_dir()?);
        Ok(GoLaunch {
            argv,
            dir,
            env: Vec::new(),
            shim: ShimEnvironment::default(),
            list: Some(list),
            plan: true,
            list_after: false,
            watch_outside: false,
        })
    }

    /// Any command line; go commands inside it get `-toolexec` through `GOFLAGS`.
    pub fn exec(argv: Vec<OsString>, gohook: &Path) -> Result<GoLaunch> {
        if argv.is_empty() {
            bail!("nothing to run: give a command, e.g. `gohook exec -- go test ./...`");
        }
        // GOFLAGS in the environment hides the one in go's env file (`go env -w GOFLAGS=…`) from every go command:
        // ours carries what go would have used, from either, plus -toolexec, so the build is the user's.
        let mut goflags = users_goflags();
        if !goflags.is_empty() {
            goflags.push(' ');
        }
        // GOFLAGS is split like -toolexec's value, so the whole flag is quoted as one word.
        goflags.push_str(&quote_for_go(Path::new(&format!("-toolexec={}", quote_for_go(gohook)?)))?);
        let env = vec![("GOFLAGS".into(), goflags)];
        let cwd = std::env::current_dir()?;
        // A go command gohook knows is recorded as `gohook build` records one: go's plan (its flag goes after the
        // subcommand) and the package graph; one that runs the user's programs gets nothing in its environment
        // but -toolexec, so its graph and cache inputs come from a listing after it.
        let go = Self::runs_go_in(&argv).then(|| GoCommand::parse(&argv)).flatten();
        let launch = match go {
            Some(go) => {
                let after = go.subcommand.runs_programs();
                let list = go.list_arguments(if after { &["-export", go_list::FIELDS] } else { &[go_list::FIELDS] });
                let dir = go.dir(&cwd);
                let shim = ShimEnvironment::default();
                GoLaunch { argv, dir, env, shim, list: Some(list), plan: true, list_after: after, watch_outside: after }
            }
            None => {
                let shim = ShimEnvironment::default();
                GoLaunch { argv, dir: cwd, env, shim, list: None, plan: false, list_after: false, watch_outside: true }
            }
        };
        Ok(launch)
    }

    /// Where in argv gohook's own go flags go: after `-toolexec` (`gohook build` puts it first), else where go takes
    /// flags (after the subcommand and its `-C dir`).
    fn own_flags_at(&self) -> usize {
        match self.argv.iter().position(|a| a.to_string_lossy().starts_with("-toolexec=")) {
            Some(i) => i + 1,
            None => GoCommand::parse(&self.argv).map_or(2, |go| go.flags_at),
        }
    }

    /// Whether a go command runs this command line directly (`go …`, `go1.27.3 …`, GOHOOK_GO), rather than a
    /// program that may or may not start one.
    pub fn runs_go(&self) -> bool {
        Self::runs_go_in(&self.argv)
    }

    fn runs_go_in(argv: &[OsString]) -> bool {
        let program = Path::new(&argv[0]);
        program == Path::new(&env::go_program())
            || program.file_name().and_then(|name| name.to_str()).is_some_and(|name| {
                name == "go" || name.strip_prefix("go").is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
            })
    }

    /// The `go list -deps` of the packages this `go build` builds, with its go and environment.
    pub fn go_list(&self) -> Option<GoList> {
        let args = self.list.clone()?;
        Some(GoList { go: self.argv[0].clone(), args, env: self.env.clone() })
    }

    /// Where this command's package graph comes from: a listing beside go, or after it for commands that run
    /// programs; none for a command that is not go.
    pub fn graph(&self) -> Graph<'static> {
        match self.go_list() {
            Some(list) if self.list_after => Graph::After(list),
            Some(list) => Listing::start(&list).map_or(Graph::None, |listing| Graph::Beside(listing, list)),
            None => Graph::None,
        }
    }

    /// Where `-o` is on the command line: (index in argv of its value, the value, whether it is written `-o=value`).
    pub fn output_flag(&self) -> Option<(usize, String, bool)> {
        let args: Vec<String> = self.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        args.iter().enumerate().find_map(|(i, arg)| match arg.as_str() {
            "-o" | "--o" => args.get(i + 1).map(|value| (i + 1, value.clone(), false)),
            _ => arg.strip_prefix("-o=").or_else(|| arg.strip_prefix("--o=")).map(|value| (i, value.to_owned(), true)),
        })
    }

    /// Labels every build of this command (`--label`), on top of those the environment already sets.
    pub fn with_labels(mut self, labels: &[(String, String)]) -> GoLaunch {
        if !labels.is_empty() {
            let inherited = env::labels();
            let mut all: std::collections::BTreeMap<String, String> =
                gohook_records::parse_labels(&inherited).unwrap_or_default().into_iter().collect();
            all.extend(labels.iter().cloned());
            let text: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
            self.shim.labels = Some(text.join(","));
        }
        self
    }
}

/// One go command that ran under gohook.
pub struct Finished {
    pub build_id: String,
    pub exit: Exit,
    /// Where the shim logged during the build.
    pub log_path: PathBuf,
    /// False when a command that is not go ran no go tool: nothing was written, it is not a build.
    pub recorded: bool,
}

/// Where a build's package graph comes from.
pub enum Graph<'a> {
    /// Not recorded (`gohook exec`, a command that is not `go build`).
    None,
    /// A `go list` started beside the build: recorded when go succeeded.
    Beside(Listing, GoList),
    /// A `go list -export` run after the build when go succeeded: its graph, and the cache keys' inputs.
    After(GoList),
    /// Listed before the build (`gohook bench`, once per side).
    Known(&'a PackageGraph),
}

/// Runs `command` on a new build id, between a start and an end record, with the live progress line when `progress`
/// (and stderr is a terminal), and records its package graph and how busy the machine was meanwhile. The caller
/// installs signal forwarding.
pub fn run_recorded(
    command: &GoLaunch,
    store: &Store,
    policy: &Policy,
    progress: bool,
    graph: Graph,
) -> Result<Finished> {
    let stamp = BuildStamp::new_now();
    let log_path = store.log_path(&stamp.id);
    let printable: Vec<String> = command.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();

    let start = Record::BuildStart(BuildStart {
        build_id: stamp.id.clone(),
        start_unix_ns: stamp.start_unix_ns,
        command: printable.clone(),
        dir: command.dir.display().to_string(),
        gohook_version: gohook_records::VERSION.to_owned(),
    });
    // A command that is not go may build nothing: its build is written only once a shim wrote to it, so that it
    // never pushes a real build out of the retention limit.
    let deferred = !command.runs_go();
    let write_start = || {
        if let Err(e) = store.append(&stamp.id, &start, policy.records.keep_builds) {
            tracing::warn!("cannot write records under {}: {e}; the build runs without them", store.root().display());
        }
    };
    if !deferred {
        write_start();
    }

    let shim = ShimEnvironment {
        build: Some((stamp.id.clone(), stamp.start_unix_ns)),
        record_root: Some(store.root().to_owned()),
        // Looked up once here; the shims are told, so none of them walks the directories again.
        policy: Some(policy.source.clone()),
        log_file: Some(log_path.clone()),
        // Only a command that runs programs (tests, go run's, scripts) can start a go command of its own: for the
        // rest the shims are not told, and spare the look at their go's parent.
        driver_pid: command.watch_outside.then(std::process::id),
        ..command.shim.clone()
    };
    // go's cache-key inputs come from its stderr, unless they come from the listing after it.
    let hashes_from_go = command.plan && !command.list_after;
    // go's own account of its plan and of its cache keys' inputs (see go_plan), unless the user asked for the graph
    // themselves: then theirs is read and left where they wanted it.
    let mut argv = command.argv.clone();
    let mut plan_file = None;
    let mut scratch = None;
    if command.plan {
        plan_file = argv.iter().find_map(|a| a.to_str()?.strip_prefix("-debug-actiongraph=").map(PathBuf::from));
        if plan_file.is_none() {
            match go_plan::ScratchFile::new() {
                Ok(file) => {
                    argv.insert(command.own_flags_at(), go_plan::action_graph_flag(&file.0));
                    plan_file = Some(file.0.clone());
                    scratch = Some(file);
                }
                Err(e) => {
                    tracing::warn!("cannot make a file for go's action graph: {e}; the build is recorded without it")
                }
            }
        }
    }
    let mut go = Command::new(&argv[0]);
    go.args(&argv[1..]).envs(command.env.iter().map(|(k, v)| (k, v)));
    shim.apply(&mut go);
    if hashes_from_go {
        go.env("GODEBUG", go_plan::godebug_with_cache_hashes()).stderr(std::process::Stdio::piped());
    }
    let before = LoadSample::now();
    let mut child = match go.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = store.remove(&stamp.id);
            return Err(e).with_context(|| match command.runs_go() {
                true => format!(
                    "cannot run {:?}: is go installed and on PATH? (GOHOOK_GO names another go binary)",
                    printable[0]
                ),
                false => format!("cannot run {:?}: no such program on PATH, or not executable", printable[0]),
            });
        }
    };
    signals::set_child(child.id());
    let watch = command.watch_outside.then(|| outside::Watch::start(std::process::id()));
    let reader = child
        .stderr
        .take()
        .map(|stderr| std::thread::spawn(move || go_plan::pass_through_keeping_cache_inputs(stderr)));
    let line = progress.then(|| Progress::start(store, &stamp.id, child.id()));
    let status = child.wait().context("waiting for go")?;
    // The build ends when go does, whatever gohook does after it (the listing, the records).
    let ended = now_unix_ns();
    if let Some(line) = line {
        line.finish();
    }
    let mut cache_inputs = reader.and_then(|reader| reader.join().ok());
    let exit = Exit::from_status(status);
    let unrecorded = watch.and_then(|watch| watch.finish(&stamp.id));
    if deferred {
        if !store.record_path(&stamp.id).exists() {
            return Ok(Finished { build_id: stamp.id, exit, log_path, recorded: false });
        }
        write_start();
    }
    if let Some(unrecorded) = unrecorded
        && let Err(e) = store.append(&stamp.id, &Record::Unrecorded(unrecorded), policy.records.keep_builds)
    {
        tracing::warn!("cannot write the go tools that ran without gohook: {e}");
    }
    // The listing beside go is waited for before the machine's counters are read again: its CPU is the build's.
    let keep = policy.records.keep_builds;
    match graph {
        Graph::Beside(listing, list) if exit.success() && signals::received().is_none() => {
            match listing.finish(&list) {
                Ok(graph) => graph.record(store, &stamp.id, keep),
                Err(why) => tracing::warn!("{why}; the report cannot tell cached packages or the critical path"),
            }
        }
        Graph::Beside(listing, _) => listing.stop(),
        Graph::After(list) if exit.success() && signals::received().is_none() => {
            let quiet = ShimEnvironment { not_recorded: true, ..shim.clone() };
            let env: Vec<(String, String)> =
                quiet.vars().into_iter().map(|(k, v)| (k.to_owned(), v.to_string_lossy().into_owned())).collect();
            match go_list::list_with_cache_inputs(&list, &env) {
                Ok((graph, inputs)) => {
                    graph.record(store, &stamp.id, keep);
                    cache_inputs = Some(inputs);
                }
                Err(why) => tracing::warn!("{why}; the report cannot tell cached packages or the critical path"),
            }
        }
        Graph::After(_) => {}
        Graph::Known(graph) => graph.record(store, &stamp.id, keep),
        Graph::None => {}
    }
    if let Some(load) = before.until(&LoadSample::now(), &stamp.id)
        && let Err(e) = store.append(&stamp.id, &Record::Load(load), keep)
    {
        tracing::warn!("cannot write how busy the machine was: {e}");
    }

    signals::survive_file_size_limit();
    if command.plan {
        // A failed go command may have stopped before planning: then there is nothing to miss, and nothing to say.
        let quiet = !exit.success();
        record_plan(store, &stamp.id, plan_file.as_deref(), cache_inputs, quiet, policy.records.keep_builds);
    }
    drop(scratch);
    let end = Record::BuildEnd(BuildEnd { build_id: stamp.id.clone(), end_unix_ns: ended, exit });
    if let Err(e) = store.append(&stamp.id, &end, policy.records.keep_builds) {
        tracing::warn!("cannot write the end-of-build record: {e}");
    }
    Ok(Finished { build_id: stamp.id, exit, log_path, recorded: true })
}

/// Records go's plan and its cache keys' inputs; says once what go did not tell (both are go's undocumented
/// debugging output: a go that changed them leaves `gohook why` and the cache counts without, never the build).
fn record_plan(
    store: &Store,
    build_id: &str,
    plan_file: Option<&Path>,
    inputs: Option<BuildCacheInputs>,
    quiet: bool,
    keep: usize,
) {
    let mut records = Vec::new();
    match plan_file.map(go_plan::read_action_graph) {
        Some(Ok(actions)) => records.push(Record::Actions(BuildActions { build_id: build_id.to_owned(), actions })),
        Some(Err(_)) if quiet => {}
        Some(Err(why)) => eprintln!(
            "gohook: go wrote no action graph gohook can read ({why}); the report counts go's cache from `go list` \
             instead, and shows no queue times"
        ),
        None => {}
    }
    match inputs {
        Some(inputs) if !inputs.actions.is_empty() => {
            records.push(Record::CacheInputs(BuildCacheInputs { build_id: build_id.to_owned(), ..inputs }))
        }
        _ if quiet => {}
        _ => eprintln!(
            "gohook: go printed no cache-key inputs for GODEBUG=gocachehash=1; `gohook why` cannot explain this \
             build's rebuilds"
        ),
    }
    for record in &records {
        if let Err(e) = store.append(build_id, record, keep) {
            return tracing::warn!("cannot write go's plan: {e}");
        }
    }
}

/// The GOFLAGS go would use here: the environment's when set and not empty, else the one `go env -w` wrote (go env
/// resolves both, and GOENV). Without a go to ask, the environment's alone.
fn users_goflags() -> String {
    let from_env = std::env::var("GOFLAGS").unwrap_or_default();
    if !from_env.is_empty() {
        return from_env;
    }
    match Command::new(env::go_program()).args(["env", "GOFLAGS"]).stderr(std::process::Stdio::null()).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => {
            tracing::debug!("go env GOFLAGS failed ({}); GOFLAGS from go's env file, if any, is not kept", out.status);
            from_env
        }
        Err(e) => {
            tracing::debug!("cannot run go env GOFLAGS ({e}); GOFLAGS from go's env file, if any, is not kept");
            from_env
        }
    }
}

/// go splits `-toolexec` and `GOFLAGS` values into words (cmd/internal/quoted): quote a path that has spaces.
pub fn quote_for_go(path: &Path) -> Result<String> {
    let Some(text) = path.to_str() else {
        bail!("{} is not valid UTF-8, which go cannot pass through -toolexec", path.display())
    };
    if !text.contains([' ', '\t', '\n', '\r', '\'', '"']) {
        return Ok(text.to_owned());
    }
    for quote in ['\'', '"'] {
        if !text.contains(quote) {
            return Ok(format!("{quote}{text}{quote}"));
        }
    }
    bail!("{text} contains both kinds of quote, which go cannot pass through -toolexec: install gohook elsewhere")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(argv: &[OsString]) -> Vec<&str> {
        argv.iter().map(|a| a.to_str().unwrap()).collect()
    }

    #[test]
    fn toolexec_goes_after_dash_c() {
        let gohook = Path::new("/opt/gohook");
        let plain = GoLaunch::build(vec!["-o".into(), "x".into(), "./...".into()], gohook).unwrap();
        assert_eq!(strings(&plain.argv)[1..], ["build", "-toolexec=/opt/gohook", "-o", "x", "./..."]);
        let chdir = GoLaunch::build(vec!["-C".into(), "sub".into(), ".".into()], gohook).unwrap();
        assert_eq!(strings(&chdir.argv)[1..], ["build", "-C", "sub", "-toolexec=/opt/gohook", "."]);
        assert!(chdir.dir.ends_with("sub"));
    }

    #[test]
    fn paths_with_spaces_are_quoted_as_go_splits_them() {
        assert_eq!(quote_for_go(Path::new("/a b/gohook")).unwrap(), "'/a b/gohook'");
        assert_eq!(quote_for_go(Path::new("/it's here/gohook")).unwrap(), "\"/it's here/gohook\"");
        assert!(quote_for_go(Path::new("/'\" /gohook")).is_err());
    }
}
