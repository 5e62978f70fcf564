//! One tool invocation as go hands it to `-toolexec`: `<abs path to tool> args…`, plus the environment go sets.

use std::ffi::OsString;
use std::path::Path;

use gohook_policy::{PluginInvocation, Probe, go_environment};
use gohook_records::Stage;

/// What gohook needs to know about one invocation. `args` are passed to the tool exactly as received; the other
/// fields are read from them (after expanding `@file` response files) and from go's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub tool_path: OsString,
    pub args: Vec<OsString>,
    pub tool: String,
    pub stage: Stage,
    pub package: String,
    pub goos: String,
    pub goarch: String,
    /// `args` with response files expanded (lossy UTF-8), for plugins.
    pub expanded_args: Vec<String>,
    /// The file plugins inspect after the tool ran, as given (relative to the tool's working directory): the `-o`
    /// output, or for cgo's `-dynimport` step the object it reads, `_cgo_.o`: the package's C code linked by the C
    /// compiler, the only place a check sees what the C compiler made of it.
    pub output: Option<String>,
}

/// The environment variables go sets for a tool, passed in so that parsing stays a pure function.
pub trait Env {
    fn get(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Invocation {
    /// `argv` starts at the tool path.
    pub fn parse(argv: Vec<OsString>, env: &dyn Env) -> Invocation {
        let mut argv = argv.into_iter();
        let tool_path = argv.next().unwrap_or_default();
        let args: Vec<OsString> = argv.collect();
        let tool = tool_name(Path::new(&tool_path));
        let text_args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let expanded = expand_args(&text_args, |path| std::fs::read_to_string(path)).unwrap_or(text_args);
        let stage = stage_of(&tool, &expanded);
        let package = env
            .get("TOOLEXEC_IMPORTPATH")
            .or_else(|| (stage != Stage::Probe).then(|| flag_value(&expanded, "p")).flatten())
            .unwrap_or_default();
        Invocation {
            tool_path,
            args,
            tool,
            stage,
            package,
            goos: env.get("GOOS").unwrap_or_else(|| host_goos().to_owned()),
            goarch: env.get("GOARCH").unwrap_or_else(|| host_goarch().to_owned()),
            output: flag_value(&expanded, "o")
                .or_else(|| (stage == Stage::Cgo).then(|| flag_value(&expanded, "dynimport")).flatten()),
            expanded_args: expanded,
        }
    }

    /// `tool -V=full`: go asking for the tool's identity to key its build cache.
    pub fn is_version_probe(&self) -> bool {
        self.stage == Stage::Probe
    }

    /// The invocation as plugins see it.
    pub fn to_plugin(&self) -> PluginInvocation {
        PluginInvocation {
            tool: self.tool.clone(),
            stage: self.stage.name().to_owned(),
            import_path: self.package.clone(),
            goos: self.goos.clone(),
            goarch: self.goarch.clone(),
            args: self.expanded_args.clone(),
            output: self.output.clone(),
        }
    }

    /// The probe as plugins see it, with the go environment (GO* and CGO_* variables, gohook's own left out).
    pub fn to_probe(&self) -> Probe {
        let env = go_environment(std::env::vars());
        Probe { tool: self.tool.clone(), goos: self.goos.clone(), goarch: self.goarch.clone(), env }
    }
}

/// go names a tool by its file name without `.exe`.
fn tool_name(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.strip_suffix(".exe").map(str::to_owned).unwrap_or(name)
}

fn stage_of(tool: &str, args: &[String]) -> Stage {
    if args.len() == 1 && args[0] == "-V=full" {
        return Stage::Probe;
    }
    match tool {
        "compile" => Stage::Compile,
        "asm" => Stage::Asm,
        "cgo" => Stage::Cgo,
        "link" => Stage::Link,
        "vet" => Stage::Vet,
        "cover" => Stage::Cover,
        // go runs the C compiler through -toolexec only for `cc -### -x c -c -`, its version probe.
        _ if args.iter().any(|a| a == "-###") => Stage::Cc,
        _ => Stage::Other,
    }
}

/// The value of `-name value`, `-name=value` (or the `--` spellings, which go's flag package also accepts).
pub fn flag_value(args: &[String], name: &str) -> Option<String> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            continue;
        };
        if flag == name {
            return args.next().cloned();
        }
        if let Some(value) = flag.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')) {
            return Some(value.to_owned());
        }
    }
    None
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArgsError {
    #[error("cannot read response file {path}: {message}")]
    Read { path: String, message: String },
    #[error("response file {path} has a malformed escape in line {line}")]
    BadEscape { path: String, line: usize },
}

/// Expands `@file` arguments the way the go tools do (cmd/internal/objabi expandArgs): the file holds one argument
/// per line, `\\` stands for a backslash and `\n` for a newline; carriage returns and surrounding space are dropped.
pub fn expand_args(args: &[String], read: impl Fn(&str) -> std::io::Result<String>) -> Result<Vec<String>, ArgsError> {
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        let Some(path) = arg.strip_prefix('@') else {
            out.push(arg.clone());
            continue;
        };
        let text = read(path).map_err(|e| ArgsError::Read { path: path.to_owned(), message: e.to_string() })?;
        let text = text.replace('\r', "");
        for (index, line) in text.trim().split('\n').enumerate() {
            let decoded = decode_arg(line).ok_or(ArgsError::BadEscape { path: path.to_owned(), line: index + 1 })?;
            out.push(decoded);
        }
    }
    Ok(out)
}

fn decode_arg(line: &str) -> Option<String> {
    if !line.contains('\\') {
        return Some(line.to_owned());
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            _ => return None,
        }
    }
    Some(out)
}

/// go's name for the OS gohook runs on, used when go did not say (it always does under -toolexec).
fn host_goos() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    }
}

fn host_goarch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        "riscv64" => "riscv64",
        arch => arch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, &'static str>);

    impl Env for MapEnv {
        fn get(&self, key: &str) -> Option<String> {
            self.0.get(key).map(|v| v.to_string())
        }
    }

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn compile_takes_package_from_toolexec_importpath() {
        let env = MapEnv(HashMap::from([
            ("TOOLEXEC_IMPORTPATH", "example.com/a [example.com/a.test]"),
            ("GOOS", "darwin"),
            ("GOARCH", "arm64"),
        ]));
        let inv = Invocation::parse(argv(&["/go/pkg/tool/linux_amd64/compile", "-o", "x.a", "-p", "a"]), &env);
        assert_eq!(inv.tool, "compile");
        assert_eq!(inv.stage, Stage::Compile);
        assert_eq!(inv.package, "example.com/a [example.com/a.test]");
        assert_eq!((inv.goos.as_str(), inv.goarch.as_str()), ("darwin", "arm64"));
    }

    #[test]
    fn falls_back_to_the_p_flag_and_strips_exe() {
        let inv = Invocation::parse(
            argv(&["C:/go/pkg/tool/windows_amd64/asm.exe", "-p=runtime", "x.s"]),
            &MapEnv(HashMap::new()),
        );
        assert_eq!((inv.tool.as_str(), inv.stage, inv.package.as_str()), ("asm", Stage::Asm, "runtime"));
    }

    #[test]
    fn version_probe_and_cc_probe() {
        let none = MapEnv(HashMap::new());
        assert!(Invocation::parse(argv(&["/t/link", "-V=full"]), &none).is_version_probe());
        assert_eq!(Invocation::parse(argv(&["gcc", "-###", "-x", "c", "-c", "-"]), &none).stage, Stage::Cc);
        assert_eq!(Invocation::parse(argv(&["/t/buildid", "-w", "x"]), &none).stage, Stage::Other);
    }

    #[test]
    fn cgo_dynimport_hands_plugins_the_packages_c_object() {
        let env = MapEnv(HashMap::from([("TOOLEXEC_IMPORTPATH", "example.com/c")]));
        let dynimport = ["/t/cgo", "-dynpackage", "c", "-dynimport", "/w/b002/_cgo_.o", "-dynout", "/w/b002/i.go"];
        assert_eq!(Invocation::parse(argv(&dynimport), &env).output.as_deref(), Some("/w/b002/_cgo_.o"));
        let first = ["/t/cgo", "-objdir", "/w/b002/", "-importpath", "example.com/c", "--", "-O2", "c.go"];
        assert_eq!(Invocation::parse(argv(&first), &env).output, None);
    }

    #[test]
    fn response_files_decode_like_objabi() {
        let files = HashMap::from([("args.txt", "-p\r\nexample.com/x\\\\y\nline\\nbreak\n")]);
        let read = |p: &str| files.get(p).map(|s| s.to_string()).ok_or(std::io::ErrorKind::NotFound.into());
        let args = vec!["-o".to_owned(), "@args.txt".to_owned(), "f.go".to_owned()];
        assert_eq!(expand_args(&args, read).unwrap(), ["-o", "-p", "example.com/x\\y", "line\nbreak", "f.go"]);
        let bad = |_: &str| Ok("a\\q".to_owned());
        assert_eq!(expand_args(&["@f".to_owned()], bad), Err(ArgsError::BadEscape { path: "f".into(), line: 1 }));
        assert!(matches!(expand_args(&["@missing".to_owned()], read), Err(ArgsError::Read { .. })));
    }

    #[test]
    fn flag_value_spellings() {
        let args: Vec<String> = ["-o", "out", "--p=pkg", "-lang=go1.22"].iter().map(|s| s.to_string()).collect();
        assert_eq!(flag_value(&args, "o").as_deref(), Some("out"));
        assert_eq!(flag_value(&args, "p").as_deref(), Some("pkg"));
        assert_eq!(flag_value(&args, "l"), None);
        assert_eq!(flag_value(&args, "missing"), None);
    }
}
