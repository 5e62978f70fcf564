//! gohook's overhead, measured against baselines run in the same process, interleaved, as medians.
//!
//! 1. Per invocation: `/bin/true` run directly, through a `#!/bin/sh exec "$@"` wrapper, through the floors (a static
//!    C posix_spawn+wait4 wrapper built here with `cc -static`, a minimal Rust spawn+wait) and through gohook (with a
//!    build id in the environment as `gohook build` sets it, and bare, deriving it from /proc), with what gohook's
//!    own report says those runs cost beside what was measured from outside; and go's `-V=full` probe of compile,
//!    direct and through gohook with no policy and with the arch plugin (the moment server started).
//! 2. Whole build: total CPU (user + sys of go and every tool) of `go build -a cmd/go` (or `--go-build PKG` in
//!    `--go-build-dir DIR`, e.g. a large module) plain, through a `sh exec` wrapper and through gohook (bare).
//! 3. Plugins at link: cold (first compile) and warm (cached native code) plugin time for one and for five plugins
//!    checking a ~30 MB binary (cmd/compile with DWARF), and gohook's peak RSS while doing it; the Rust example
//!    beside the Go one (built by `gohook plugin build`), with each component's size. `--only-plugins`: just this.
//! 7. With --only-export: `gohook export otlp` of the sample's build and of a 10,000-run build to a real Jaeger on
//!    loopback, against `gohook report --format json` of the same build (reading the records, the part both share).
//!
//! 8. With --only-attest: `gohook attest --unsigned` and signed (a P-256 key) of the large module's build that
//!    tools/test records (Jaeger: ~2,300 packages, a ~100 MB binary), against `sha256sum` of the binary (the least any
//!    attestation of it costs) and `gohook check` of it with the same plugins (the verdict's part), interleaved.
//!
//! 4. `gohook check`: throughput on 100 copies of a ~20 MB binary, and the latency of checking one.
//! 5. What handing a command over costs: `gohook builds` (the shim `exec`s `gohook-commands`) against
//!    `gohook-commands builds` run directly.
//! 6. With --only-recording: what `gohook build` pays for go's plan and cache keys' inputs (`gohook why`), cold
//!    and as a no-op rebuild, against `gohook build --no-plan`.
//!
//! Usage: cargo build --release && cargo run --release -p gohook-bench -- [--rounds N] [--builds K]
//!        [--skip-go-build] [--skip-plugins] [--skip-check]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

struct Options {
    gohook: PathBuf,
    rounds: usize,
    builds: usize,
    /// What the whole-build measure builds, and from where (default: `cmd/go`, anywhere).
    go_build_package: String,
    go_build_dir: Option<PathBuf>,
    /// Only the whole-build measure.
    only_go_build: bool,
    /// Only what recording go's plan and cache keys costs.
    only_recording: bool,
    /// Only the plugins at link.
    only_plugins: bool,
    /// Only the OTLP export.
    only_export: bool,
    /// Only the attestations of the large module's build.
    only_attest: bool,
    skip_go_build: bool,
    skip_plugins: bool,
    skip_check: bool,
}

fn parse_options() -> Result<Options> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut options = Options {
        gohook: root.join("target/release/gohook"),
        rounds: 400,
        builds: 5,
        go_build_package: "cmd/go".to_owned(),
        go_build_dir: None,
        only_go_build: false,
        only_recording: false,
        only_plugins: false,
        only_export: false,
        only_attest: false,
        skip_go_build: false,
        skip_plugins: false,
        skip_check: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--gohook" => options.gohook = PathBuf::from(value("--gohook")?),
            "--rounds" => options.rounds = value("--rounds")?.parse()?,
            "--builds" => options.builds = value("--builds")?.parse()?,
            "--skip-go-build" => options.skip_go_build = true,
            "--only-go-build" => options.only_go_build = true,
            "--only-recording" => options.only_recording = true,
            "--go-build" => options.go_build_package = value("--go-build")?,
            "--go-build-dir" => options.go_build_dir = Some(PathBuf::from(value("--go-build-dir")?)),
            "--skip-plugins" => options.skip_plugins = true,
            "--only-plugins" => options.only_plugins = true,
            "--only-export" => options.only_export = true,
            "--only-attest" => options.only_attest = true,
            "--skip-check" => options.skip_check = true,
            "-h" | "--help" => {
                println!(
                    "gohook-bench [--gohook PATH] [--rounds N (400)] [--builds K (5)] [--skip-go-build]\n\
                     [--skip-plugins] [--skip-check] [--only-go-build] [--only-recording] [--only-plugins] [--only-export] [--only-attest] [--go-build PKG (cmd/go)]\n\
                     [--go-build-dir DIR]\n\
                     Reports medians of interleaved runs; build gohook first with `cargo build --release`."
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}; see --help"),
        }
    }
    if !options.gohook.is_file() {
        bail!("{} does not exist: run `cargo build --release` first, or pass --gohook", options.gohook.display());
    }
    Ok(options)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] }
}

fn wall_of(command: &mut Command) -> Result<Duration> {
    let start = Instant::now();
    let status = command.status()?;
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(elapsed)
}

/// CPU time of all waited-for descendants so far.
fn children_cpu() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// gohook and gohook-commands copied into `dir`, as `cargo install` puts them: what users run, and in the page
/// cache state of the C floor, which `cc` has just written too. How a binary's pages entered the page cache changes
/// its start-up: written by a large `write` (a copy), they sit in large page-cache folios, of which one page fault
/// maps many pages; read in by readahead when first executed (after linking by lld, or after the cache dropped
/// them), they sit in small ones, and the same exec takes ~10 more page faults (Linux 6.18, x86-64). The binary as
/// linked is measured too.
fn install_copy(gohook: &Path, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    for name in ["gohook", "gohook-commands"] {
        let from = gohook.with_file_name(name);
        std::fs::copy(&from, dir.join(name)).with_context(|| format!("cannot copy {}", from.display()))?;
    }
    Ok(dir.join("gohook"))
}

/// Drops `binary` from the page cache, so that its first exec reads it in by readahead, as after a reboot (small
/// page-cache folios): the floor and gohook compared in that state too.
fn paged_in_by_exec(binary: &Path) -> Result<PathBuf> {
    let file = std::fs::File::open(binary)?;
    file.sync_all()?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: an advisory call on a file descriptor we own.
        let err = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if err != 0 {
            bail!("posix_fadvise({}) failed: {}", binary.display(), std::io::Error::from_raw_os_error(err));
        }
    }
    Ok(binary.to_owned())
}

/// One way of running the tool.
struct Variant<'a> {
    name: &'a str,
    program: &'a Path,
    args: Vec<&'a OsStr>,
    env: &'a [(&'a str, &'a str)],
}

fn per_invocation(options: &Options, records: &Path) -> Result<()> {
    let wrapper = records.join("wrap.sh");
    std::fs::write(&wrapper, "#!/bin/sh\nexec \"$@\"\n")?;
    std::process::Command::new("chmod").arg("+x").arg(&wrapper).status()?;
    let tool = "/bin/true";
    let floor = std::env::current_exe()?.with_file_name("spawn-floor");
    let c_floor = c_floor(records)?;
    let build_env = [("GOHOOK_CONFIG", ""), ("GOHOOK_BUILD_ID", "bench"), ("GOHOOK_BUILD_START_NS", "1")];
    let linked_env = [("GOHOOK_CONFIG", ""), ("GOHOOK_BUILD_ID", "bench-linked"), ("GOHOOK_BUILD_START_NS", "1")];
    let installed = install_copy(&options.gohook, &records.join("installed"))?;
    let paged_gohook = paged_in_by_exec(&install_copy(&options.gohook, &records.join("paged"))?)?;
    let paged_floor = records.join("paged").join("floor");
    std::fs::copy(&c_floor, &paged_floor)?;
    let paged_floor = paged_in_by_exec(&paged_floor)?;
    let variants = [
        Variant { name: "direct", program: Path::new(tool), args: vec![], env: &[] },
        Variant { name: "sh exec wrapper", program: &wrapper, args: vec![tool.as_ref()], env: &[] },
        Variant { name: "C floor (static posix_spawn+wait4)", program: &c_floor, args: vec![tool.as_ref()], env: &[] },
        Variant { name: "spawn-floor (Rust spawn+wait)", program: &floor, args: vec![tool.as_ref()], env: &[] },
        Variant { name: "gohook (gohook build env)", program: &installed, args: vec![tool.as_ref()], env: &build_env },
        Variant { name: "gohook (bare -toolexec)", program: &installed, args: vec![tool.as_ref()], env: &[] },
        Variant {
            name: "gohook as linked (build env)",
            program: &options.gohook,
            args: vec![tool.as_ref()],
            env: &linked_env,
        },
        Variant { name: "C floor, paged in by exec", program: &paged_floor, args: vec![tool.as_ref()], env: &[] },
        Variant {
            name: "gohook, paged in by exec (build env)",
            program: &paged_gohook,
            args: vec![tool.as_ref()],
            env: &linked_env,
        },
    ];
    let command = |variant: &Variant| {
        let mut command = Command::new(variant.program);
        command.args(&variant.args).envs(variant.env.iter().copied()).env("GOHOOK_DIR", records).stdout(Stdio::null());
        if variant.env.is_empty() {
            command.env_remove("GOHOOK_BUILD_ID").env_remove("GOHOOK_CONFIG");
        }
        command
    };
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..options.rounds + 20 {
        for (i, variant) in variants.iter().enumerate() {
            let wall = wall_of(&mut command(variant))?;
            // The first rounds warm the page cache and are not counted.
            if round >= 20 {
                samples[i].push(wall.as_secs_f64() * 1e3);
            }
        }
    }
    let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
    println!("per invocation of {tool}, median of {} interleaved rounds:", options.rounds);
    for (Variant { name, .. }, m) in variants.iter().zip(&medians) {
        println!(
            "  {name:<36} {m:>7.3} ms   {:+.3} ms vs direct   {:+.3} ms vs sh wrapper   {:+.3} ms vs C floor",
            m - medians[0],
            m - medians[1],
            m - medians[2]
        );
    }
    let outside = medians[4] - medians[0];
    let reported = reported_overhead_ms(options, records)?;
    println!(
        "  gohook's report on the same runs: {reported:.3} ms per run (own CPU + calibrated process cost); measured \
         here from outside: {outside:.3} ms over direct; report/outside {:.2}",
        reported / outside
    );
    per_probe(options, records)
}

/// What `gohook report` says one run cost, for the runs of the build `bench` just made.
fn reported_overhead_ms(options: &Options, records: &Path) -> Result<f64> {
    Ok(report_overhead(options, records, &["bench"], "whole_p50_ns")? / 1e6)
}

/// A figure of the `gohook` part of `gohook report [BUILD] --format json`.
fn report_overhead(options: &Options, records: &Path, build: &[&str], field: &str) -> Result<f64> {
    let out = Command::new(&options.gohook)
        .arg("report")
        .args(build)
        .args(["--format", "json"])
        .env("GOHOOK_DIR", records)
        .output()?;
    if !out.status.success() {
        bail!("gohook report failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    summary["gohook"][field].as_f64().with_context(|| format!("{field} missing in the report"))
}

/// The floor for any wrapper that must see its child's rusage: a static C program that posix_spawns and wait4s.
/// Built here with the system's C compiler.
fn c_floor(dir: &Path) -> Result<PathBuf> {
    let source = dir.join("floor.c");
    std::fs::write(
        &source,
        "#include <spawn.h>\n#include <sys/resource.h>\n#include <sys/wait.h>\nextern char **environ;\n\
         int main(int argc, char **argv) {\n  pid_t pid; int status; struct rusage usage;\n\
         if (argc < 2 || posix_spawn(&pid, argv[1], 0, 0, argv + 1, environ) != 0) return 127;\n\
         if (wait4(pid, &status, 0, &usage) < 0) return 127;\n\
         return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);\n}\n",
    )?;
    let floor = dir.join("floor");
    let status = Command::new("cc").args(["-O2", "-static", "-o"]).arg(&floor).arg(&source).status()?;
    if !status.success() {
        bail!("cc -static could not build the C floor (Debian: apt-get install libc6-dev)");
    }
    Ok(floor)
}

/// go's `-V=full` probe of the compiler, which gohook answers on every go command: direct, through gohook with no
/// policy, and through gohook with the arch plugin (`gohook-commands` starts for it).
fn per_probe(options: &Options, records: &Path) -> Result<()> {
    let tooldir = Command::new("go").args(["env", "GOTOOLDIR"]).output()?;
    let compile = PathBuf::from(String::from_utf8(tooldir.stdout)?.trim()).join("compile");
    let policy = records.join("gohook.toml");
    std::fs::write(&policy, "[plugins.arch]\nsettings = { allow = [\"amd64\", \"arm64\"] }\n")?;
    let no_policy = [("GOHOOK_CONFIG", ""), ("GOHOOK_BUILD_ID", "bench"), ("GOHOOK_BUILD_START_NS", "1")];
    let policy_env = policy.to_string_lossy();
    let arch = [("GOHOOK_CONFIG", &*policy_env), ("GOHOOK_BUILD_ID", "bench"), ("GOHOOK_BUILD_START_NS", "1")];
    let variants = [
        Variant { name: "direct", program: &compile, args: vec![], env: &[] },
        Variant {
            name: "gohook, no policy",
            program: &options.gohook,
            args: vec![compile.as_os_str()],
            env: &no_policy,
        },
        Variant { name: "gohook, arch plugin", program: &options.gohook, args: vec![compile.as_os_str()], env: &arch },
    ];
    let rounds = (options.rounds / 4).max(20);
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..rounds + 5 {
        for (i, variant) in variants.iter().enumerate() {
            let mut command = Command::new(variant.program);
            command.args(&variant.args).arg("-V=full").envs(variant.env.iter().copied()).env("GOHOOK_DIR", records);
            let wall = wall_of(command.stdout(Stdio::null()))?;
            if round >= 5 {
                samples[i].push(wall.as_secs_f64() * 1e3);
            }
        }
    }
    let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
    println!("per -V=full probe of compile, median of {rounds} interleaved rounds:");
    for (Variant { name, .. }, m) in variants.iter().zip(&medians) {
        println!("  {name:<36} {m:>7.3} ms   {:+.3} ms vs direct", m - medians[0]);
    }
    Ok(())
}

/// Cold builds (`-a`) of one package three ways, interleaved in rotating order: plain, through a `#!/bin/sh exec`
/// wrapper as -toolexec (the price of any wrapper process), and through gohook (bare, as `go build -toolexec` runs
/// it). Total CPU of go and every tool from `getrusage(RUSAGE_CHILDREN)`, next to what gohook's records say it cost.
fn go_build_cpu(options: &Options, records: &Path) -> Result<()> {
    let out = records.join("go.out");
    let wrapper = records.join("wrap.sh");
    std::fs::write(&wrapper, "#!/bin/sh\nexec \"$@\"\n")?;
    Command::new("chmod").arg("+x").arg(&wrapper).status()?;
    let variants: [(&str, Option<&Path>); 3] =
        [("plain", None), ("sh exec wrapper", Some(&wrapper)), ("gohook", Some(&options.gohook))];
    let run = |toolexec: Option<&Path>| -> Result<(Duration, Duration)> {
        let mut command = Command::new("go");
        command.args(["build", "-a", "-o"]).arg(&out);
        if let Some(program) = toolexec {
            command.arg(format!("-toolexec={}", program.display()));
        }
        time_go_build(options, command, records)
    };
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let (mut reported, mut tools) = (Vec::new(), Vec::new());
    println!(
        "\ngo build -a {}, {} rounds of {} variants in rotating order:",
        options.go_build_package,
        options.builds,
        variants.len()
    );
    for round in 0..options.builds {
        for k in 0..variants.len() {
            let i = (round + k) % variants.len();
            let (name, toolexec) = variants[i];
            let (c, wall) = run(toolexec)?;
            println!("  round {round}: {name:<16} cpu {:>8.2} s  wall {:>7.2} s", c.as_secs_f64(), wall.as_secs_f64());
            cpu[i].push(c.as_secs_f64());
            if name == "gohook" {
                reported.push(report_overhead(options, records, &[], "cpu_ns")? / 1e9);
                tools.push(report_overhead(options, records, &[], "tool_cpu_ns")? / 1e9);
            }
        }
    }
    let medians: Vec<f64> = cpu.iter_mut().map(|c| median(c)).collect();
    for ((name, _), m) in variants.iter().zip(&medians) {
        println!("  median cpu {name:<16} {m:>8.2} s  ({:+.2} s, {:.4}x plain)", m - medians[0], m / medians[0]);
    }
    println!(
        "  gohook's records: its own CPU {:.2} s (exec and start-up included), the tools' {:.2} s (medians); \
         measured from outside: +{:.2} s over plain, +{:.2} s over the sh wrapper",
        median(&mut reported),
        median(&mut tools),
        medians[2] - medians[0],
        medians[2] - medians[1]
    );
    Ok(())
}

fn main() -> Result<()> {
    let options = parse_options()?;
    let records = tempfile::tempdir()?;
    if options.only_go_build {
        return go_build_cpu(&options, records.path());
    }
    if options.only_recording {
        return recording_cost(&options, records.path());
    }
    if options.only_plugins {
        return plugins_at_link(&options, records.path());
    }
    if options.only_export {
        return otlp_export(&options, records.path());
    }
    if options.only_attest {
        return attest_cost(&options, records.path());
    }
    per_invocation(&options, records.path())?;
    command_hand_over(&options, records.path())?;
    if !options.skip_plugins {
        plugins_at_link(&options, records.path())?;
    }
    if !options.skip_check {
        check_throughput(&options, records.path())?;
    }
    if !options.skip_go_build {
        go_build_cpu(&options, records.path())?;
    }
    Ok(())
}

/// `gohook attest` of the large module's build (what tools/test records into target/large-module), unsigned and
/// signed, against `sha256sum` of its binary and `gohook check` of it, interleaved; medians of wall time.
fn attest_cost(options: &Options, scratch: &Path) -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let (records, binary, module) =
        (root.join("target/large-module/records"), root.join("target/go-tools/jaeger"), root.join("tools/jaeger"));
    if !records.is_dir() || !binary.is_file() {
        bail!("{} is missing: tools/test builds Jaeger through gohook into target/large-module", records.display());
    }
    let key = scratch.join("key.pem");
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"])
        .arg(&key)
        .status()?;
    if !made.success() {
        bail!("openssl genpkey failed");
    }
    let attest = |extra: &[&OsStr]| {
        let mut command = Command::new(&options.gohook);
        command.current_dir(&module).arg("--dir").arg(&records).arg("attest").args(extra).arg("-o").arg(scratch);
        command.stderr(Stdio::null());
        command
    };
    let variants: Vec<(&str, Box<dyn Fn() -> Command>)> = vec![
        (
            "sha256sum of the binary",
            Box::new(|| {
                let mut command = Command::new("sha256sum");
                command.arg(&binary).stdout(Stdio::null());
                command
            }),
        ),
        (
            "gohook check (the verdict's checks)",
            Box::new(|| {
                let mut command = Command::new(&options.gohook);
                command
                    .current_dir(&module)
                    .arg("--dir")
                    .arg(&records)
                    .args(["check", "--exit-zero"])
                    .arg(&binary)
                    .stdout(Stdio::null());
                command
            }),
        ),
        ("gohook attest --unsigned", Box::new(|| attest(&[OsStr::new("--unsigned")]))),
        ("gohook attest --key (P-256)", Box::new(|| attest(&[OsStr::new("--key"), key.as_os_str()]))),
    ];
    let rounds = (options.rounds / 40).max(5);
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..rounds + 1 {
        for (i, (_, command)) in variants.iter().enumerate() {
            let wall = wall_of(&mut command())?;
            if round >= 1 {
                samples[i].push(wall.as_secs_f64() * 1e3);
            }
        }
    }
    let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
    let size = std::fs::metadata(&binary)?.len() as f64 / 1e6;
    println!(
        "
attestations of the large module's build ({size:.0} MB binary), median of {rounds} interleaved rounds:"
    );
    for ((name, _), m) in variants.iter().zip(&medians) {
        println!("  {name:<38} {m:>8.1} ms   {:>5.2}x sha256sum", m / medians[0]);
    }
    Ok(())
}

/// A command typed as `gohook CMD` runs in `gohook-commands`, which the shim `exec`s: one exec more than running the
/// `gohook-commands` directly. `gohook builds` on an empty record root does nearly nothing else.
fn command_hand_over(options: &Options, scratch: &Path) -> Result<()> {
    let empty = scratch.join("hand-over");
    std::fs::create_dir_all(&empty)?;
    let host = options.gohook.with_file_name("gohook-commands");
    let variants = [("gohook-commands builds (direct)", &host), ("gohook builds (exec hand-over)", &options.gohook)];
    let rounds = (options.rounds / 4).max(20);
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..rounds + 5 {
        for (i, (_, program)) in variants.iter().enumerate() {
            let mut command = Command::new(program);
            command.arg("builds").env("GOHOOK_DIR", &empty).stdout(Stdio::null());
            let wall = wall_of(&mut command)?;
            if round >= 5 {
                samples[i].push(wall.as_secs_f64() * 1e3);
            }
        }
    }
    let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
    println!("\na command handed over by gohook, median of {rounds} interleaved rounds:");
    for ((name, _), m) in variants.iter().zip(&medians) {
        println!("  {name:<36} {m:>7.3} ms   {:+.3} ms vs direct", m - medians[0]);
    }
    Ok(())
}

/// What `gohook build` pays for go's plan and cache keys' inputs (`-debug-actiongraph`, `GODEBUG=gocachehash=1`):
/// `gohook build` against `gohook build --no-plan`, interleaved in rotating order, cold (`-a`) and as a no-op
/// rebuild (everything cached, where a fixed cost shows most). Total CPU of gohook, go and every tool from
/// `getrusage(RUSAGE_CHILDREN)`, and the bytes the plan adds to the build's records.
fn recording_cost(options: &Options, records: &Path) -> Result<()> {
    let out = records.join("go.out");
    let variants: [(&str, &[&str]); 2] = [("--no-plan", &["--no-plan"]), ("with plan", &[])];
    let run = |extra: &[&str], cold: bool, root: &Path| -> Result<(Duration, Duration)> {
        let mut command = Command::new(&options.gohook);
        command.arg("build").args(extra).arg("-o").arg(&out);
        if cold {
            command.arg("-a");
        }
        // gohook build's summary line would interleave with the table.
        command.stderr(Stdio::null());
        time_go_build(options, command, root)
    };
    for cold in [true, false] {
        let what = if cold { "cold (-a)" } else { "no-op rebuild" };
        let rounds = if cold { options.builds } else { options.builds * 4 };
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
        let mut wall: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
        let mut bytes = vec![0u64; variants.len()];
        println!(
            "\ngohook build {what} {}, {rounds} rounds of {} variants in rotating order:",
            options.go_build_package,
            variants.len()
        );
        for round in 0..rounds {
            for k in 0..variants.len() {
                let i = (round + k) % variants.len();
                let root = records.join(format!("recording-{i}"));
                let _ = std::fs::remove_dir_all(&root);
                if !cold {
                    run(variants[i].1, false, &root)?;
                    let _ = std::fs::remove_dir_all(&root);
                }
                let (c, w) = run(variants[i].1, cold, &root)?;
                cpu[i].push(c.as_secs_f64());
                wall[i].push(w.as_secs_f64());
                bytes[i] = directory_bytes(&root)?;
            }
        }
        for i in 0..variants.len() {
            let (c, w) = (median(&mut cpu[i]), median(&mut wall[i]));
            let (c0, w0) = (median(&mut cpu[0]), median(&mut wall[0]));
            println!(
                "  {:<10} cpu {c:>8.3} s ({:+.3} s, {:.4}x)  wall {w:>8.3} s ({:+.3} s)  records {:>9} bytes",
                variants[i].0,
                c - c0,
                c / c0,
                w - w0,
                bytes[i]
            );
        }
    }
    Ok(())
}

/// Finishes `command` (a go build, or a gohook build) with the bench's package, directory and record root, and runs
/// it: the CPU time of it and all its children, and its wall time.
fn time_go_build(options: &Options, mut command: Command, records: &Path) -> Result<(Duration, Duration)> {
    command.arg(&options.go_build_package).env("GOHOOK_DIR", records).env("GOTOOLCHAIN", "local");
    command.env_remove("GOHOOK_BUILD_ID").env_remove("GOHOOK_CONFIG");
    if let Some(dir) = &options.go_build_dir {
        command.current_dir(dir);
    } else {
        command.env("GOFLAGS", "");
    }
    command.stdout(Stdio::null());
    let cpu_before = children_cpu();
    let wall = wall_of(&mut command)?;
    Ok((children_cpu() - cpu_before, wall))
}

fn directory_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        total += if kind.is_dir() { directory_bytes(&entry.path())? } else { entry.metadata()?.len() };
    }
    Ok(total)
}

fn check_throughput(options: &Options, scratch: &Path) -> Result<()> {
    let dir = scratch.join("check");
    std::fs::create_dir_all(&dir)?;
    let binary = dir.join("compile");
    let status = Command::new("go")
        .args(["build", "-ldflags=-s -w", "-o"])
        .arg(&binary)
        .arg("cmd/compile")
        .env("GOFLAGS", "")
        .status()?;
    if !status.success() {
        bail!("go build cmd/compile failed");
    }
    let copies: Vec<PathBuf> = (0..100)
        .map(|i| {
            let copy = dir.join(format!("copy-{i:03}"));
            std::fs::copy(&binary, &copy).map(|_| copy)
        })
        .collect::<Result<_, _>>()?;
    let rules = "arch,buildid,dwarf,macho,pie,strip";
    let check = |files: &[PathBuf]| -> Result<Duration> {
        let start = Instant::now();
        let status = Command::new(&options.gohook)
            .args(["check", "--rules", rules, "--format", "json"])
            .args(files)
            .env("GOHOOK_DIR", scratch.join("check-records"))
            .env_remove("GOHOOK_CONFIG")
            .stdout(Stdio::null())
            .status()?;
        // buildid/present fails these binaries (exit 1); only 2 (an error) would make the figures meaningless.
        if status.code() == Some(2) {
            bail!("gohook check could not check the copies");
        }
        Ok(start.elapsed())
    };
    check(&copies[..1])?; // compile the plugins once
    let (mut batch, mut single) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        batch.push(check(&copies)?.as_secs_f64());
    }
    for i in 0..10 {
        single.push(check(&copies[i..=i])?.as_secs_f64() * 1e3);
    }
    let batch = median(&mut batch);
    println!(
        "\ngohook check ({rules}) on 100 copies of a {:.1} MB binary: {:.2} s, {:.0} binaries/s; one binary: median {:.1} ms",
        std::fs::metadata(&binary)?.len() as f64 / 1e6,
        batch,
        100.0 / batch,
        median(&mut single)
    );
    Ok(())
}

/// Runs `command`, waits with wait4 for its own rusage, and returns (wall, peak RSS in bytes).
fn run_with_rss(command: &mut Command) -> Result<(Duration, u64)> {
    let start = Instant::now();
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, writing into structs we own.
    let waited = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if waited < 0 || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{command:?} failed (status {status})");
    }
    Ok((wall, usage.ru_maxrss as u64 * 1024))
}

/// plugin_ns of every tool record of a build.
fn plugin_times(gohook: &Path, records: &Path, build: &str) -> Result<Vec<f64>> {
    let out =
        Command::new(gohook).args(["report", build, "--format", "records"]).env("GOHOOK_DIR", records).output()?;
    let mut times = Vec::new();
    for line in String::from_utf8(out.stdout)?.lines() {
        let value: serde_json::Value = serde_json::from_str(line)?;
        if let Some(ns) = value["tool"]["plugin_ns"].as_u64() {
            times.push(ns as f64 / 1e6);
        }
    }
    Ok(times)
}

fn plugins_at_link(options: &Options, scratch: &Path) -> Result<()> {
    let big = scratch.join("compile-with-dwarf");
    let status = Command::new("go").args(["build", "-o"]).arg(&big).arg("cmd/compile").env("GOFLAGS", "").status()?;
    if !status.success() {
        bail!("go build cmd/compile failed");
    }
    let size = std::fs::metadata(&big)?.len();
    let link = scratch.join("link");
    std::fs::write(&link, format!("#!/bin/sh\ncp {:?} \"$2\"\n", big.display().to_string()))?;
    Command::new("chmod").arg("+x").arg(&link).status()?;
    let rust = Path::new(env!("BENCH_WASM_DIR")).join("gohook_plugin_example.wasm");
    let go = go_example(options, scratch)?;
    println!("\nplugins after link of a {:.1} MB binary ({} warm runs each):", size as f64 / 1e6, options.rounds / 10);
    for (name, wasm) in [("Rust example", &rust), ("Go example", &go)] {
        println!("  {name}: component {:.2} MB", std::fs::metadata(wasm)?.len() as f64 / 1e6);
    }
    // The Rust example finds DWARF here (a warning, so it does not fail the shim); the Go one, no denied package.
    let rust_policy = |i: usize| {
        format!(
            "[plugins.p{i}]\npath = {:?}\nrules = {{ \"no-debug/dwarf\" = \"warn\" }}\n",
            rust.display().to_string()
        )
    };
    let go_policy = format!("[plugins.denied-packages]\npath = {:?}\n", go.display().to_string());
    let variants = [
        ("1 plugin (Rust example)", rust_policy(0)),
        ("5 plugins (Rust example)", (0..5).map(rust_policy).collect()),
        ("1 plugin (Go example)", go_policy),
    ];
    for (i, (name, policy)) in variants.into_iter().enumerate() {
        let dir = scratch.join(format!("plugins-{i}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("gohook.toml"), policy)?;
        let records = dir.join("records");
        let run = |build: &str| -> Result<(Duration, u64)> {
            run_with_rss(
                Command::new(&options.gohook)
                    .current_dir(&dir)
                    .arg(&link)
                    .args(["-o", "out"])
                    .env("GOHOOK_DIR", &records)
                    .env("GOHOOK_BUILD_ID", build)
                    .env("GOHOOK_BUILD_START_NS", "1")
                    .env_remove("GOHOOK_CONFIG"),
            )
        };
        let (cold_wall, cold_rss) = run("cold")?;
        let (mut walls, mut rss) = (Vec::new(), 0);
        for _ in 0..(options.rounds / 10).max(5) {
            let (wall, peak) = run("warm")?;
            walls.push(wall.as_secs_f64() * 1e3);
            rss = rss.max(peak);
        }
        let (mut warm_plugins, warm_wall) = (plugin_times(&options.gohook, &records, "warm")?, median(&mut walls));
        println!(
            "  {name}: warm median {:.2} ms in plugins, {warm_wall:.2} ms shim wall, peak RSS {:.1} MB; \
             cold (first use compiles to native code) {:.1} ms shim wall, +{:.1} ms over warm, {:.1} MB RSS",
            median(&mut warm_plugins),
            rss as f64 / 1e6,
            cold_wall.as_secs_f64() * 1e3,
            cold_wall.as_secs_f64() * 1e3 - warm_wall,
            cold_rss as f64 / 1e6,
        );
    }
    Ok(())
}

/// The Go example plugin (plugins/example-go), copied and built by `gohook plugin build` as its author would.
fn go_example(options: &Options, scratch: &Path) -> Result<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/example-go");
    let copy = scratch.join("example-go");
    std::fs::create_dir_all(&copy)?;
    for entry in std::fs::read_dir(&source)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && entry.path().extension().is_some_and(|e| e == "go" || e == "mod") {
            std::fs::copy(entry.path(), copy.join(entry.file_name()))?;
        }
    }
    let status = Command::new(&options.gohook).args(["plugin", "build"]).arg(&copy).status()?;
    if !status.success() {
        bail!("gohook plugin build {} failed", copy.display());
    }
    Ok(copy.join("denied-packages.wasm"))
}

/// `gohook export otlp --again` of one build to a Jaeger on loopback, against `gohook report --format json` of it,
/// interleaved: what sending costs beyond reading the records.
fn otlp_export(options: &Options, scratch: &Path) -> Result<()> {
    let jaeger = gohook_tests::jaeger::Jaeger::start();
    let root = scratch.join("export-records");
    let sample = gohook_tests::repo_root().join("examples/sample");
    let status = Command::new(&options.gohook)
        .args(["build", "-o"])
        .arg(scratch.join("sample-bin"))
        .arg(".")
        .current_dir(&sample)
        .env("GOHOOK_DIR", &root)
        // Cold, so that the build has the tool runs of a real one (~150), not a cached link.
        .env("GOCACHE", scratch.join("export-gocache"))
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("gohook build of the sample failed");
    }
    let store = gohook_records::Store::new(root.clone());
    let sample_build = store.latest()?.context("the sample build was not recorded")?.id;
    let big = "20261203T000000.000Z-bench10000";
    gohook_tests::synthetic_build(&store, big, gohook_tests::now_ns() - 3_600_000_000_000, 10_000);
    let rounds = (options.rounds / 20).max(5);
    println!("\nOTLP export to a Jaeger on loopback, median of {rounds} interleaved rounds:");
    for (name, build) in [("the sample's build", sample_build.as_str()), ("a 10,000-run build", big)] {
        let runs = gohook_analysis::BuildRecords::find(&store, build)?.runs.len();
        let mut export = Vec::new();
        let mut report = Vec::new();
        for _ in 0..rounds {
            let mut command = Command::new(&options.gohook);
            command
                .args(["export", "otlp", "--again", build])
                .env("GOHOOK_DIR", &root)
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", &jaeger.otlp_endpoint)
                .stderr(Stdio::null());
            export.push(wall_of(&mut command)?.as_secs_f64() * 1e3);
            let mut command = Command::new(&options.gohook);
            command.args(["report", build, "--format", "json"]).env("GOHOOK_DIR", &root).stdout(Stdio::null());
            report.push(wall_of(&mut command)?.as_secs_f64() * 1e3);
        }
        let (export, report) = (median(&mut export), median(&mut report));
        println!(
            "  {name} ({runs} tool runs): export {export:.1} ms, report {report:.1} ms, export/report {:.2}",
            export / report
        );
    }
    Ok(())
}
