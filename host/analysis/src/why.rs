//! Why a package compiled (or the binary linked) when go's cache could have served it: its cache key's inputs, as go
//! itself printed them (`GODEBUG=gocachehash=1`, recorded by `gohook build`), compared with those of the last build
//! that had the same action. The first difference found names the cause:
//!
//! - a source file changed, was added or removed (`file <name> <hash>` lines);
//! - a dependency changed (`import <path> <id>`, for a link `packagefile <path>=<id>`): a *cascade*, gathered under
//!   the root cause it comes from, so one edit and its N dependents read as one line;
//! - the toolchain (the first line: go's version), or gohook's own answer to `-V=full` (gohook's version, or the
//!   policy's plugins keyed on that tool, named from the builds' tool keys);
//! - a compiler or linker flag (`-gcflags`, `-ldflags`, …), or a setting that enters the key (`GOAMD64=v3`,
//!   `GOEXPERIMENT`, `CGO_CFLAGS`, the directory, `-trimpath`, …);
//! - nothing: the same inputs, not in the cache (trimmed, cleaned, or another GOCACHE).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use gohook_records::{ActionInputs, BuildCacheInputs, Store};

use crate::model::BuildRecords;
use crate::summary::{ProcessCost, Summary};
use crate::units::count;

/// Why one compile or link ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Cause {
    /// Files of the package: changed, added, removed (by name).
    Source { changed: Vec<String>, added: Vec<String>, removed: Vec<String> },
    /// Packages it depends on whose results changed (for a link: any package of the binary).
    Dependency { packages: Vec<String> },
    /// go itself: another version.
    Toolchain { old: String, new: String },
    /// gohook's answer to the tool's `-V=full` changed: its version, or the plugins keyed on that tool.
    Policy { tool: String, plugins: Vec<String> },
    /// A compiler or linker flag.
    Flags { tool: String, old: String, new: String },
    /// A setting that enters the key.
    Setting { name: String, old: String, new: String },
    /// The same inputs as before: the result was not in go's cache anymore.
    NotCached,
    /// No earlier build recorded this action's inputs.
    FirstSeen,
}

/// One action that ran, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuilt {
    /// `build` (compile and asm) or `link`.
    pub mode: String,
    pub package: String,
    pub cause: Cause,
    /// The build its inputs were compared with.
    pub against: Option<String>,
}

/// One root cause: the packages whose own inputs changed that way, and those that rebuilt only because of them.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub cause: Cause,
    /// The packages (`link of p` for a link) whose own inputs changed so.
    pub roots: Vec<String>,
    /// Packages (and links) that rebuilt because a root did, directly or through others.
    pub cascade: Vec<String>,
    /// The build the roots' inputs were compared with.
    pub against: Option<String>,
}

/// The answer of `gohook why`.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    pub build_id: String,
    /// What could not be told, and how to record it.
    pub missing: Option<String>,
    pub groups: Vec<Group>,
}

/// The recorded inputs of one action, as text lines.
struct Inputs<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Inputs<'a> {
    fn of(record: &'a BuildCacheInputs, action: &ActionInputs) -> Inputs<'a> {
        Inputs {
            lines: action.inputs.iter().filter_map(|&i| record.lines.get(i as usize).map(String::as_str)).collect(),
        }
    }

    /// `file`-lines by name, dependency lines by package (a link's `packagemain` is its own package's compile), and
    /// the rest by what they set.
    fn keyed(&self, package: &'a str) -> (BTreeMap<&'a str, &'a str>, BTreeMap<&'a str, &'a str>, Vec<&'a str>) {
        let (mut files, mut deps, mut other) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
        for line in &self.lines {
            if let Some(rest) = line.strip_prefix("file ") {
                let (name, hash) = rest.rsplit_once(' ').unwrap_or((rest, ""));
                files.insert(name, hash);
            } else if let Some(rest) = line.strip_prefix("import ").filter(|r| !r.starts_with('"')) {
                let (package, id) = rest.rsplit_once(' ').unwrap_or((rest, ""));
                deps.insert(package, id);
            } else if let Some(rest) = line.strip_prefix("packagefile ") {
                let (package, id) = rest.split_once('=').unwrap_or((rest, ""));
                deps.insert(package, id);
            } else if let Some(id) = line.strip_prefix("packagemain ") {
                deps.insert(package, id);
            } else {
                other.push(*line);
            }
        }
        (files, deps, other)
    }
}

/// A build's summary with what go's cache saved it, and why each package that ran did (the page's tooltips): both
/// read the builds recorded before it, so only a build that recorded go's plan or its cache keys pays for that.
pub fn summary_and_reasons(
    store: &Store,
    build: &BuildRecords,
    process_cost: Option<ProcessCost>,
) -> (Summary, BTreeMap<String, String>) {
    let mut summary = Summary::of(build, process_cost);
    if build.actions.is_none() && build.cache_inputs.is_none() {
        return (summary, BTreeMap::new());
    }
    let earlier = build.earlier_builds(store).unwrap_or_default();
    let earlier: Vec<&BuildRecords> = earlier.iter().collect();
    summary.count_savings(build, &earlier);
    let reasons = explain(build, &earlier, &[]).reasons();
    (summary, reasons)
}

/// Why the actions of `build` that ran did, each against the newest of `earlier` (newest first) that recorded the
/// same action — or, with `vs`, against that one build only. `packages` narrows the answer to those packages (and
/// the link of one of them); empty means every action that ran.
pub fn explain(build: &BuildRecords, earlier: &[&BuildRecords], packages: &[String]) -> Why {
    let Some(inputs) = &build.cache_inputs else {
        return Why {
            build_id: build.id.clone(),
            missing: Some(format!(
                "build {} was recorded without go's cache-key inputs (a bare -toolexec build, `gohook exec`, or an \
                 older gohook's build or bench): build with `gohook build …` or `gohook bench` to ask why it rebuilt",
                build.id
            )),
            groups: Vec::new(),
        };
    };
    let ran: BTreeSet<(&str, &str)> = match &build.actions {
        Some(actions) => actions.iter().filter(|a| a.ran).map(|a| (a.mode.as_str(), a.package.as_str())).collect(),
        // Without go's plan, what ran is what the shim recorded.
        None => build
            .work()
            .filter_map(|r| match r.stage {
                gohook_records::Stage::Compile => Some(("build", r.package.as_str())),
                gohook_records::Stage::Link => Some(("link", r.package.as_str())),
                _ => None,
            })
            .collect(),
    };
    // Each earlier build's actions by name, the last inputs of each (as below): one lookup per action and build.
    let earlier: Vec<(&BuildRecords, &BuildCacheInputs, HashMap<&str, &ActionInputs>)> = earlier
        .iter()
        .filter_map(|old| {
            let record = old.cache_inputs.as_ref()?;
            Some((*old, record, record.actions.iter().map(|a| (a.name.as_str(), a)).collect()))
        })
        .collect();
    let mut rebuilt: Vec<Rebuilt> = Vec::new();
    let mut seen = BTreeSet::new();
    // The last inputs go hashed for each action are the ones it keyed it on.
    for action in inputs.actions.iter().rev() {
        let Some((mode, package)) = action.name.split_once(' ') else { continue };
        if !ran.contains(&(mode, package)) || !seen.insert(action.name.as_str()) {
            continue;
        }
        let before = earlier
            .iter()
            .find_map(|(old, record, by_name)| Some((*old, *record, *by_name.get(action.name.as_str())?)));
        let (cause, against) = match before {
            None => (Cause::FirstSeen, None),
            Some((old, record, found)) => {
                let cause =
                    compare((mode, package), &Inputs::of(record, found), &Inputs::of(inputs, action), old, build);
                (cause, Some(old.id.clone()))
            }
        };
        rebuilt.push(Rebuilt { mode: mode.to_owned(), package: package.to_owned(), cause, against });
    }
    let mut groups = group(rebuilt);
    if !packages.is_empty() {
        let wanted = |name: &String| packages.iter().any(|p| p == name.trim_start_matches("link of "));
        groups.retain(|g| g.roots.iter().any(wanted) || g.cascade.iter().any(wanted));
    }
    Why { build_id: build.id.clone(), missing: None, groups }
}

/// The first difference between an action's inputs then and now, as a cause.
fn compare(
    (mode, package): (&str, &str),
    old: &Inputs<'_>,
    new: &Inputs<'_>,
    old_build: &BuildRecords,
    build: &BuildRecords,
) -> Cause {
    // The first line is go's salt: its version.
    if let (Some(a), Some(b)) = (old.lines.first(), new.lines.first())
        && a != b
    {
        return Cause::Toolchain { old: (*a).to_owned(), new: (*b).to_owned() };
    }
    let (old_files, old_deps, old_other) = old.keyed(package);
    let (new_files, new_deps, new_other) = new.keyed(package);
    // The tool and its flags: `compile <tool id> "<forced flags>" "<flags>"`, `link <tool id> …`, `linkflags …`.
    let tool = if mode == "link" { "link" } else { "compile" };
    let tool_line = |lines: &[&str]| lines.iter().find(|l| l.starts_with(&format!("{tool} "))).map(|l| l.to_string());
    if let (Some(a), Some(b)) = (tool_line(&old_other), tool_line(&new_other))
        && a != b
    {
        let (old_id, old_flags) = split_tool_line(&a);
        let (new_id, new_flags) = split_tool_line(&b);
        if old_id != new_id {
            let go = |id: &str| id.split(" +gohook@").next().unwrap_or(id).to_owned();
            if go(&old_id) != go(&new_id) {
                return Cause::Toolchain { old: go(&old_id), new: go(&new_id) };
            }
            return Cause::Policy { tool: tool.to_owned(), plugins: changed_plugins(old_build, build, tool) };
        }
        return Cause::Flags {
            tool: tool.to_owned(),
            old: readable_flags(&old_flags),
            new: readable_flags(&new_flags),
        };
    }
    let changed: Vec<String> = new_files
        .iter()
        .filter(|(f, h)| old_files.get(*f).is_some_and(|o| o != *h))
        .map(|(f, _)| f.to_string())
        .collect();
    let added: Vec<String> = new_files.keys().filter(|f| !old_files.contains_key(*f)).map(|f| f.to_string()).collect();
    let removed: Vec<String> =
        old_files.keys().filter(|f| !new_files.contains_key(*f)).map(|f| f.to_string()).collect();
    if !(changed.is_empty() && added.is_empty() && removed.is_empty()) {
        return Cause::Source { changed, added, removed };
    }
    // Other settings, by their name (`GOAMD64=…`, `linkflags …`, `dir …`).
    let setting = |line: &str| -> (String, String) {
        match line.split_once(['=', ' ']) {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => (line.to_owned(), String::new()),
        }
    };
    let old_settings: BTreeMap<String, String> = old_other.iter().map(|l| setting(l)).collect();
    let new_settings: BTreeMap<String, String> = new_other.iter().map(|l| setting(l)).collect();
    let names: BTreeSet<&String> = old_settings.keys().chain(new_settings.keys()).collect();
    for name in names {
        let (a, b) = (old_settings.get(name), new_settings.get(name));
        if a != b {
            let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "(unset)".to_owned());
            if name == "linkflags" {
                let flags = |v: Option<&String>| v.map_or_else(|| "(unset)".to_owned(), |v| readable_flags(v));
                return Cause::Flags { tool: "link".to_owned(), old: flags(a), new: flags(b) };
            }
            let (old, new) = (show(a), show(b));
            if name == "dir" {
                // A module that moved (a replace, another GOPATH) moves all its packages: named by the move of the
                // module's directory, they are one cause.
                let (old, new) = without_common_tail(&old, &new);
                return Cause::Setting { name: name.clone(), old, new };
            }
            if old.len() + new.len() > 120 {
                let (gone, came) = changed_lines(&old, &new);
                return Cause::Setting { name: name.clone(), old: gone, new: came };
            }
            return Cause::Setting { name: name.clone(), old, new };
        }
    }
    let deps: Vec<String> =
        new_deps.iter().filter(|(p, id)| old_deps.get(*p) != Some(*id)).map(|(p, _)| p.to_string()).collect();
    if !deps.is_empty() {
        return Cause::Dependency { packages: deps };
    }
    Cause::NotCached
}

/// `compile compile version go1.26.8 +gohook@0.1.0 buildID=_/_/_/ab [] ["-N"]` → (the tool id, the flags): go
/// writes the flags Go-quoted (`[…]` lists, `"…"` strings) after the id, which has neither.
fn split_tool_line(line: &str) -> (String, String) {
    let rest = line.split_once(' ').map_or("", |(_, rest)| rest);
    match [rest.find(" ["), rest.find(" \"")].into_iter().flatten().min() {
        Some(at) => (rest[..at].to_owned(), rest[at + 1..].to_owned()),
        None => (rest.to_owned(), String::new()),
    }
}

/// Go's `%q` of the forced and the given flags (`[] ["-N" "-l"]`) as a command line would show them (`-N -l`);
/// `(none)` when both lists are empty.
fn readable_flags(quoted: &str) -> String {
    let mut words = Vec::new();
    let mut chars = quoted.chars();
    let mut word = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => word.extend(chars.next()),
                        '"' => break,
                        c => word.push(c),
                    }
                }
                words.push(std::mem::take(&mut word));
            }
            '[' | ']' | ' ' => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    if words.is_empty() { "(none)".to_owned() } else { words.join(" ") }
}

/// Two paths without the trailing components they share: `/a/m@v1/sub`, `/b/m/sub` → `/a/m@v1`, `/b/m`.
fn without_common_tail(old: &str, new: &str) -> (String, String) {
    let (mut a, mut b): (Vec<&str>, Vec<&str>) = (old.split('/').collect(), new.split('/').collect());
    while a.len() > 1 && b.len() > 1 && a.last() == b.last() {
        a.pop();
        b.pop();
    }
    (a.join("/"), b.join("/"))
}

/// A long setting's change as the lines that came and went (go's build info is one setting of many lines, which go
/// hashed Go-quoted).
fn changed_lines(old: &str, new: &str) -> (String, String) {
    let lines = |text: &str| -> Vec<String> {
        let text = gohook_records::go_unquote(text.trim_start_matches('"').trim_end_matches('"'));
        text.split('\n').map(|l| l.replace('\t', " ")).collect()
    };
    let (a, b) = (lines(old), lines(new));
    let gone: Vec<&String> = a.iter().filter(|l| !b.contains(l)).collect();
    let came: Vec<&String> = b.iter().filter(|l| !a.contains(l)).collect();
    let join = |ls: Vec<&String>| {
        if ls.is_empty() { "(nothing)".to_owned() } else { ls.iter().map(|l| l.trim()).collect::<Vec<_>>().join("; ") }
    };
    (join(gone), join(came))
}

/// The plugins whose tables or content changed between the two builds' keys of `tool`.
fn changed_plugins(old: &BuildRecords, new: &BuildRecords, tool: &str) -> Vec<String> {
    let key = |build: &BuildRecords| -> BTreeMap<String, String> {
        build.tool_keys.iter().find(|k| k.tool == tool).map(|k| k.plugins.iter().cloned().collect()).unwrap_or_default()
    };
    let (a, b) = (key(old), key(new));
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names.into_iter().filter(|n| a.get(*n) != b.get(*n)).cloned().collect()
}

/// Root causes with the packages that rebuilt because of them: roots with the same cause (a setting every package
/// keys on, an emptied cache) read as one group, and a rebuild whose cause is a dependency belongs to the roots its
/// changed dependencies lead to.
fn group(rebuilt: Vec<Rebuilt>) -> Vec<Group> {
    let name = |r: &Rebuilt| if r.mode == "link" { format!("link of {}", r.package) } else { r.package.clone() };
    let by_package: BTreeMap<&str, &Rebuilt> =
        rebuilt.iter().filter(|r| r.mode == "build").map(|r| (r.package.as_str(), r)).collect();
    // The roots a rebuild comes from, following dependency causes down.
    fn roots<'a>(r: &'a Rebuilt, by_package: &BTreeMap<&str, &'a Rebuilt>, seen: &mut BTreeSet<String>) -> Vec<String> {
        match &r.cause {
            Cause::Dependency { packages } => {
                // Dependencies that ran explain it; one that changed without running here (its result served from
                // go's cache under a new id) is named only when nothing that ran does.
                let (ran, served): (Vec<&String>, Vec<&String>) =
                    packages.iter().partition(|p| by_package.contains_key(p.as_str()));
                if ran.is_empty() {
                    return served.into_iter().cloned().collect();
                }
                let mut out = Vec::new();
                for p in ran {
                    if seen.insert(p.clone()) {
                        out.extend(roots(by_package[p.as_str()], by_package, seen));
                    }
                }
                out
            }
            _ => vec![r.package.clone()],
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for r in rebuilt.iter().filter(|r| !matches!(r.cause, Cause::Dependency { .. })) {
        match groups.iter_mut().find(|g| g.cause == r.cause) {
            Some(group) => group.roots.push(name(r)),
            None => groups.push(Group {
                cause: r.cause.clone(),
                roots: vec![name(r)],
                cascade: Vec::new(),
                against: r.against.clone(),
            }),
        }
    }
    for r in rebuilt.iter().filter(|r| matches!(r.cause, Cause::Dependency { .. })) {
        let mut unexplained = Vec::new();
        for root in roots(r, &by_package, &mut BTreeSet::new()) {
            match groups.iter_mut().find(|g| g.roots.contains(&root)) {
                Some(group) => group.cascade.push(name(r)),
                None => unexplained.push(root),
            }
        }
        // Dependencies that changed without rebuilding here: together, the cause of a root of its own.
        if !unexplained.is_empty() {
            let cause = Cause::Dependency { packages: unexplained };
            match groups.iter_mut().find(|g| g.cause == cause) {
                Some(group) => group.roots.push(name(r)),
                None => {
                    groups.push(Group { cause, roots: vec![name(r)], cascade: Vec::new(), against: r.against.clone() })
                }
            }
        }
    }
    for g in &mut groups {
        g.roots.sort();
        g.cascade.sort();
        g.cascade.dedup();
        g.cascade.retain(|c| !g.roots.contains(c));
    }
    groups.sort_by(|a, b| {
        (b.roots.len() + b.cascade.len()).cmp(&(a.roots.len() + a.cascade.len())).then_with(|| a.roots.cmp(&b.roots))
    });
    groups
}

/// Up to eight names, then how many more (the JSON has them all).
fn some_of(names: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut text = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text += &format!(" and {} more", names.len() - SHOWN);
    }
    text
}

impl Cause {
    /// `c.go changed`, `compile flags: (none) → -N`, …
    pub fn describe(&self) -> String {
        match self {
            Cause::Source { changed, added, removed } => {
                let mut parts = Vec::new();
                for (files, what) in [(changed, "changed"), (added, "added"), (removed, "removed")] {
                    if !files.is_empty() {
                        parts.push(format!("{} {what}", files.join(", ")));
                    }
                }
                format!("source: {}", parts.join("; "))
            }
            Cause::Dependency { packages } => format!(
                "{} {} changed; go's cache served {}",
                if packages.len() == 1 { "dependency" } else { "dependencies" },
                some_of(packages),
                if packages.len() == 1 { "it" } else { "them" }
            ),
            Cause::Toolchain { old, new } => format!("the toolchain: {old} → {new}"),
            Cause::Policy { tool, plugins } if plugins.is_empty() => {
                format!("gohook's answer for {tool} changed (another gohook version, or its policy)")
            }
            Cause::Policy { tool, plugins } => {
                format!("gohook's policy for {tool}: {} changed in gohook.toml", plugins.join(", "))
            }
            Cause::Flags { tool, old, new } => format!("{tool} flags: {old} → {new}"),
            Cause::Setting { name, old, new } if name == "modinfo" => {
                format!("the build info go stamps into the binary: {old} → {new}")
            }
            Cause::Setting { name, old, new } if name == "dir" => format!("the source moved: {old} → {new}"),
            Cause::Setting { name, old, new } => format!("{name}: {old} → {new}"),
            Cause::NotCached => "same inputs, not in the cache (trimmed, cleaned, or another GOCACHE)".to_owned(),
            Cause::FirstSeen => "no earlier build recorded it".to_owned(),
        }
    }
}

impl Why {
    pub fn to_table(&self) -> String {
        if let Some(missing) = &self.missing {
            return format!("{missing}\n");
        }
        if self.groups.is_empty() {
            return format!("build {}: nothing rebuilt that go's cache could have served\n", self.build_id);
        }
        let mut out = format!("build {}: why it rebuilt\n", self.build_id);
        for g in &self.groups {
            let against = g.against.as_deref().map_or(String::new(), |b| format!(" (vs {b})"));
            let what = match g.roots.as_slice() {
                [one] => one.clone(),
                many => format!("{} ({})", count(many.len(), "package", "packages"), some_of(many)),
            };
            out += &format!("  {what}: {}{against}\n", g.cause.describe());
            if !g.cascade.is_empty() {
                out += &format!(
                    "    and {} because of it: {}\n",
                    count(g.cascade.len(), "more rebuilt", "more rebuilt"),
                    some_of(&g.cascade)
                );
            }
        }
        out
    }

    /// The cause of each action that ran, by package (`link of p` for a link), for the page's tooltips.
    pub fn reasons(&self) -> BTreeMap<String, String> {
        let mut reasons = BTreeMap::new();
        for g in &self.groups {
            for root in &g.roots {
                reasons.insert(root.clone(), g.cause.describe());
            }
            for c in &g.cascade {
                reasons.insert(c.clone(), format!("rebuilt because of {}: {}", g.roots.join(", "), g.cause.describe()));
            }
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::{changed_lines, readable_flags, without_common_tail};

    #[test]
    fn build_info_lines_read_as_go_stamps_them() {
        let old = r#""path\texample.com/sample\nbuild\tCGO_ENABLED=0\n""#;
        let new = r#""path\texample.com/sample\nbuild\t-ldflags=\"-s -w\"\nbuild\tCGO_ENABLED=0\n""#;
        assert_eq!(changed_lines(old, new), ("(nothing)".to_owned(), r#"build -ldflags="-s -w""#.to_owned()));
    }

    #[test]
    fn go_quoted_flags_read_as_a_command_line() {
        assert_eq!(readable_flags("[] []"), "(none)");
        assert_eq!(readable_flags(r#"[] ["-N" "-l"]"#), "-N -l");
        assert_eq!(readable_flags(r#"["-shared"] ["-d=\"x y\""]"#), r#"-shared -d="x y""#);
        assert_eq!(readable_flags("[-s -w]"), "-s -w");
    }

    #[test]
    fn a_moved_module_is_named_by_its_directory() {
        let moved = without_common_tail("/root/go/pkg/mod/go.uber.org/zap@v1.27.0/zapcore", "/tmp/zap/zapcore");
        assert_eq!(moved, ("/root/go/pkg/mod/go.uber.org/zap@v1.27.0".to_owned(), "/tmp/zap".to_owned()));
        assert_eq!(without_common_tail("/a/x", "/b/x"), ("/a".to_owned(), "/b".to_owned()));
        assert_eq!(without_common_tail("/same", "/same"), ("".to_owned(), "".to_owned()));
    }
}
