//! A go command line as `gohook exec` finds it (`go test -run X ./...`): which subcommand, where go's own flags may be
//! added, and the `go list` that names the same packages with the same build flags.
//!
//! go's flag grammar is per subcommand: `go test` mixes build flags, its own flags and the test binary's, and `go run`
//! ends its packages at the first argument that is not a `.go` file. Only flags that take a value consume the next
//! word, so the tables below are those; any other flag is taken as a switch, as go takes an unknown test flag.

use std::ffi::OsString;

/// The go subcommands gohook records a build of, with a plan and a package graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subcommand {
    Build,
    Install,
    Test,
    Vet,
    Run,
}

impl Subcommand {
    fn of(name: &str) -> Option<Subcommand> {
        Some(match name {
            "build" => Subcommand::Build,
            "install" => Subcommand::Install,
            "test" => Subcommand::Test,
            "vet" => Subcommand::Vet,
            "run" => Subcommand::Run,
            _ => return None,
        })
    }

    /// Whether the command runs programs of the user's (tests, `go run`'s binary): they inherit go's environment, so
    /// gohook adds nothing to it beyond `-toolexec` (`GODEBUG=gocachehash=1` would reach them, their own go
    /// commands, and go's test-result cache key).
    pub fn runs_programs(self) -> bool {
        matches!(self, Subcommand::Test | Subcommand::Run)
    }
}

/// Build flags that take a value (`go help build`).
const BUILD_VALUE_FLAGS: &[&str] = &[
    "C",
    "p",
    "covermode",
    "coverpkg",
    "asmflags",
    "buildmode",
    "compiler",
    "gccgoflags",
    "gcflags",
    "installsuffix",
    "ldflags",
    "mod",
    "modfile",
    "overlay",
    "pgo",
    "pkgdir",
    "tags",
    "toolexec",
    "o",
    "debug-actiongraph",
    "debug-deprecated-uses",
    "debug-runtime-trace",
    "debug-trace",
];

/// Build switches (`go help build`): with the value flags, what `go list` accepts of a build's flags.
const BUILD_SWITCHES: &[&str] = &[
    "a",
    "n",
    "race",
    "msan",
    "asan",
    "cover",
    "v",
    "work",
    "x",
    "linkshared",
    "modcacherw",
    "trimpath",
    "json",
    // A switch that may take `=value` (`-buildvcs=false`), never the next word.
    "buildvcs",
];

/// `go test`'s and the test binary's flags that take a value (`go help testflag`), and `go vet`'s.
const TEST_VALUE_FLAGS: &[&str] = &[
    "bench",
    "benchtime",
    "blockprofile",
    "blockprofilerate",
    "count",
    "coverprofile",
    "cpu",
    "cpuprofile",
    "exec",
    "fuzz",
    "fuzzcachedir",
    "fuzzminimizetime",
    "fuzztime",
    "list",
    "memprofile",
    "memprofilerate",
    "mutexprofile",
    "mutexprofilefraction",
    "outputdir",
    "parallel",
    "run",
    "shuffle",
    "skip",
    "timeout",
    "trace",
    "vet",
    "vettool",
];

/// Flags of a build that `go list` must not get: outputs and debug files of the build's own, `-json` (list's is
/// another), `-toolexec` (it comes from GOFLAGS).
const NOT_FOR_LIST: &[&str] =
    &["o", "toolexec", "debug-trace", "debug-actiongraph", "debug-runtime-trace", "json", "n", "x", "v", "work", "a"];

/// A go command line `gohook exec` runs: `go <subcommand> [-C dir] args…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoCommand {
    pub subcommand: Subcommand,
    /// Where in argv go's own flags may go: after the subcommand, and after `-C dir`, which go wants first.
    pub flags_at: usize,
    /// `-C dir`, as written.
    pub chdir: Vec<OsString>,
    /// The build flags `go list` takes too (`-tags x`, `-trimpath`, `-cover`, …).
    pub build_flags: Vec<OsString>,
    /// The packages (or `.go` files) named.
    pub packages: Vec<OsString>,
}

impl GoCommand {
    /// The go command in `argv` (`argv[0]` being go), if it is one gohook records a build of.
    pub fn parse(argv: &[OsString]) -> Option<GoCommand> {
        let subcommand = Subcommand::of(argv.get(1)?.to_str()?)?;
        let mut command =
            GoCommand { subcommand, flags_at: 2, chdir: Vec::new(), build_flags: Vec::new(), packages: Vec::new() };
        let mut args = argv[2..].iter().peekable();
        while let Some(arg) = args.next() {
            let text = arg.to_string_lossy();
            if text == "-args" || text == "--args" || (text == "--" && subcommand != Subcommand::Run) {
                break;
            }
            let Some(flag) = text.strip_prefix("--").or_else(|| text.strip_prefix('-')).filter(|f| !f.is_empty())
            else {
                // go run: the packages end at the first argument after them; the rest is the program's.
                if subcommand == Subcommand::Run
                    && !command.packages.is_empty()
                    && !(text.ends_with(".go") && command.packages.iter().all(|p| p.to_string_lossy().ends_with(".go")))
                {
                    break;
                }
                command.packages.push(arg.clone());
                continue;
            };
            let (name, inline_value) = match flag.split_once('=') {
                Some((name, _)) => (name, true),
                None => (flag, false),
            };
            let takes_value = BUILD_VALUE_FLAGS.contains(&name)
                || (matches!(subcommand, Subcommand::Test | Subcommand::Vet)
                    && TEST_VALUE_FLAGS.contains(&name.strip_prefix("test.").unwrap_or(name)));
            let mut words = vec![arg.clone()];
            if takes_value && !inline_value {
                words.extend(args.next().cloned());
            }
            if name == "C" {
                command.flags_at = 2 + words.len();
                command.chdir = words;
            } else if (BUILD_VALUE_FLAGS.contains(&name) || BUILD_SWITCHES.contains(&name))
                && !NOT_FOR_LIST.contains(&name)
            {
                command.build_flags.extend(words);
            }
        }
        Some(command)
    }

    /// Where go runs: `-C dir` from `cwd`.
    pub fn dir(&self, cwd: &std::path::Path) -> std::path::PathBuf {
        let to = match self.chdir.as_slice() {
            [_, dir] => Some(dir.clone()),
            [flag] => flag.to_str().and_then(|f| f.split_once('=')).map(|(_, dir)| OsString::from(dir)),
            _ => None,
        };
        to.map_or_else(|| cwd.to_owned(), |to| cwd.join(to))
    }

    /// `go list -deps` of what the command builds (`-test` for tests and vet, whose packages include their test
    /// variants), with `extra` list flags.
    pub fn list_arguments(&self, extra: &[&str]) -> Vec<OsString> {
        let mut list: Vec<OsString> = vec!["list".into()];
        list.extend(self.chdir.iter().cloned());
        list.push("-deps".into());
        if matches!(self.subcommand, Subcommand::Test | Subcommand::Vet) {
            list.push("-test".into());
        }
        list.extend(extra.iter().map(OsString::from));
        list.extend(self.build_flags.iter().cloned());
        list.extend(self.packages.iter().cloned());
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> GoCommand {
        let argv: Vec<OsString> = line.split(' ').map(OsString::from).collect();
        GoCommand::parse(&argv).unwrap()
    }

    fn strings(words: &[OsString]) -> Vec<&str> {
        words.iter().map(|w| w.to_str().unwrap()).collect()
    }

    #[test]
    fn test_flags_and_their_values_are_not_packages() {
        let test = parse("go test -C sub -run TestX -count=1 -tags x -v -cover ./a ./b -args -run y");
        assert_eq!(test.subcommand, Subcommand::Test);
        assert_eq!((test.flags_at, strings(&test.chdir)), (4, vec!["-C", "sub"]));
        assert_eq!(strings(&test.build_flags), ["-tags", "x", "-cover"]);
        assert_eq!(strings(&test.packages), ["./a", "./b"]);
        assert_eq!(
            strings(&test.list_arguments(&["-export"])),
            ["list", "-C", "sub", "-deps", "-test", "-export", "-tags", "x", "-cover", "./a", "./b"]
        );
    }

    #[test]
    fn a_builds_listing_names_the_same_packages_without_build_only_flags() {
        let build = parse("go build -C sub -o bin -debug-trace=t.json -tags x -trimpath -buildvcs=false -v ./cmd/...");
        assert_eq!(build.dir(std::path::Path::new("/m")), std::path::Path::new("/m/sub"));
        assert_eq!(
            strings(&build.list_arguments(&["-json=ImportPath"])),
            [
                "list",
                "-C",
                "sub",
                "-deps",
                "-json=ImportPath",
                "-tags",
                "x",
                "-trimpath",
                "-buildvcs=false",
                "./cmd/..."
            ]
        );
        assert_eq!(parse("go build -C=sub .").dir(std::path::Path::new("/m")), std::path::Path::new("/m/sub"));
        assert_eq!(parse("go build -C=sub .").flags_at, 3);
    }

    #[test]
    fn go_run_packages_end_where_the_programs_arguments_begin() {
        assert_eq!(strings(&parse("go run -trimpath . -v x").packages), ["."]);
        assert_eq!(strings(&parse("go run main.go util.go arg").packages), ["main.go", "util.go"]);
        assert_eq!(strings(&parse("go run ./cmd/app main.go").packages), ["./cmd/app"]);
        assert_eq!(parse("go vet ./...").subcommand, Subcommand::Vet);
        assert!(GoCommand::parse(&["go".into(), "env".into()]).is_none());
    }
}
