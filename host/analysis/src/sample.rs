//! Which builds are samples: a build that did what was asked. A build go failed (a compile error, a policy that
//! refused the link or the target) stopped early and measured nothing comparable; a build that ran far less than
//! the others of its set (a warm cache among cold builds) measured something else. Both are left out of every
//! comparison, benchmark summary and baseline, and said so.

use serde::Serialize;

use crate::model::BuildRecords;
use crate::units::count;

/// A build left out of a set of samples, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    pub build_id: String,
    pub why: String,
}

/// A build whose tool runs differ from the set's median count by more than this share ran something else.
const SAME_WORK: f64 = 0.1;

/// `builds` split into the samples and the builds left out (in their order), each with its reason.
pub fn samples(builds: Vec<BuildRecords>) -> (Vec<BuildRecords>, Vec<Dropped>) {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for build in builds {
        match failure(&build) {
            Some(why) => dropped.push(Dropped { build_id: build.id.clone(), why }),
            None => kept.push(build),
        }
    }
    let mut runs: Vec<usize> = kept.iter().map(|b| b.work().count()).collect();
    runs.sort_unstable();
    let Some(&median) = runs.get(runs.len() / 2) else { return (kept, dropped) };
    let (same, other): (Vec<BuildRecords>, Vec<BuildRecords>) = kept.into_iter().partition(|build| {
        let n = build.work().count();
        (n as f64 - median as f64).abs() <= SAME_WORK * median as f64
    });
    for build in other {
        let n = build.work().count();
        let why = if n == 0 {
            format!("ran no tool where the others ran a median of {median} (go's cache served it: not a cold build)")
        } else {
            format!(
                "ran {} where the others ran a median of {median}: it built something else",
                count(n, "tool run", "tool runs")
            )
        };
        dropped.push(Dropped { build_id: build.id.clone(), why });
    }
    (same, dropped)
}

/// Why `build` failed: go's exit when it ran under gohook, else a tool run that failed (a bare `-toolexec` build
/// records no exit of go's).
fn failure(build: &BuildRecords) -> Option<String> {
    match build.end.as_ref().map(|end| end.exit) {
        Some(exit) if !exit.success() => {
            let ran = build.work().count();
            Some(if ran == 0 { format!("failed before any tool ran ({exit})") } else { format!("failed ({exit})") })
        }
        Some(_) => None,
        None => build
            .work()
            .find(|run| !run.exit.success())
            .map(|run| format!("a tool run failed ({} {}: {})", run.tool, run.package, run.exit)),
    }
}

/// `1 build left out: 20261207T…-ab12 failed before any tool ran (exit 1)`, one line per build; empty when none was.
pub fn describe(dropped: &[Dropped], side: &str) -> Vec<String> {
    dropped.iter().map(|d| format!("{side}: left out build {} — {}", d.build_id, d.why)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::tests::run;
    use gohook_records::{BuildEnd, Exit, Record, Stage};

    fn build(id: &str, runs: usize, exit: Option<Exit>) -> BuildRecords {
        let mut records: Vec<Record> =
            (0..runs).map(|i| Record::Tool(run(Stage::Compile, &format!("p{i}"), 1_000 + i as u64, 10))).collect();
        records.extend(exit.map(|exit| Record::BuildEnd(BuildEnd { build_id: id.into(), end_unix_ns: 9_000, exit })));
        BuildRecords::of_records(id, records)
    }

    #[test]
    fn failed_builds_and_builds_that_ran_something_else_are_left_out() {
        let ok = Some(Exit::Code(0));
        let builds = vec![
            build("a", 100, ok),
            build("refused", 0, Some(Exit::Code(1))),
            build("b", 102, ok),
            build("broken", 40, Some(Exit::Code(2))),
            build("warm", 0, ok),
            build("c", 98, ok),
            build("bare", 100, None),
        ];
        let (kept, dropped) = samples(builds);
        let ids: Vec<&str> = kept.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "bare"]);
        assert_eq!(
            dropped,
            [
                Dropped { build_id: "refused".into(), why: "failed before any tool ran (exit 1)".into() },
                Dropped { build_id: "broken".into(), why: "failed (exit 2)".into() },
                Dropped {
                    build_id: "warm".into(),
                    why: "ran no tool where the others ran a median of 100 (go's cache served it: not a cold build)"
                        .into()
                },
            ]
        );
    }

    #[test]
    fn a_bare_build_with_a_failed_tool_run_is_left_out() {
        let mut bare = build("bare", 3, None);
        bare.runs[1].exit = Exit::Code(1);
        let (kept, dropped) = samples(vec![bare]);
        assert!(kept.is_empty());
        assert_eq!(dropped[0].why, "a tool run failed (compile p1: exit 1)");
    }
}
