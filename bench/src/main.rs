//! gohook's overhead, measured against baselines run in the same process, interleaved, as medians.
//!
//! 1. Per invocation: `/bin/true` run directly, through a `#!/bin/sh exec "$@"` wrapper, and through gohook (with a
//!    build id in the environment as `gohook build` sets it, and bare, deriving it from /proc).
//! 2. Whole build: total CPU (user + sys of go and every tool) of `go build -a cmd/go` with and without
//!    `-toolexec=gohook`.
//!
//! Usage: cargo build --release && cargo run --release -p gohook-bench -- [--rounds N] [--builds K] [--skip-go-build]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

struct Options {
    gohook: PathBuf,
    rounds: usize,
    builds: usize,
    skip_go_build: bool,
}

fn parse_options() -> Result<Options> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut options =
        Options { gohook: root.join("target/release/gohook"), rounds: 400, builds: 5, skip_go_build: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--gohook" => options.gohook = PathBuf::from(value("--gohook")?),
            "--rounds" => options.rounds = value("--rounds")?.parse()?,
            "--builds" => options.builds = value("--builds")?.parse()?,
            "--skip-go-build" => options.skip_go_build = true,
            "-h" | "--help" => {
                println!(
                    "gohook-bench [--gohook PATH] [--rounds N (400)] [--builds K (5)] [--skip-go-build]\n\
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
    if values.len() % 2 == 0 { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] }
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

fn per_invocation(options: &Options, records: &Path) -> Result<()> {
    let wrapper = records.join("wrap.sh");
    std::fs::write(&wrapper, "#!/bin/sh\nexec \"$@\"\n")?;
    std::process::Command::new("chmod").arg("+x").arg(&wrapper).status()?;
    let tool = "/bin/true";
    let variants: Vec<(&str, Box<dyn Fn() -> Command>)> = vec![
        ("direct", Box::new(move || Command::new(tool))),
        (
            "sh exec wrapper",
            Box::new({
                let wrapper = wrapper.clone();
                move || {
                    let mut c = Command::new(&wrapper);
                    c.arg(tool);
                    c
                }
            }),
        ),
        (
            "spawn-floor (Rust spawn+wait)",
            Box::new({
                let floor = std::env::current_exe().unwrap().with_file_name("spawn-floor");
                move || {
                    let mut c = Command::new(&floor);
                    c.arg(tool);
                    c
                }
            }),
        ),
        (
            "gohook (gohook build env)",
            Box::new({
                let (gohook, records) = (options.gohook.clone(), records.to_owned());
                move || {
                    let mut c = Command::new(&gohook);
                    c.arg(tool)
                        .env("GOHOOK_DIR", &records)
                        .env("GOHOOK_CONFIG", "")
                        .env("GOHOOK_BUILD_ID", "bench")
                        .env("GOHOOK_BUILD_START_NS", "1");
                    c
                }
            }),
        ),
        (
            "gohook (bare -toolexec)",
            Box::new({
                let (gohook, records) = (options.gohook.clone(), records.to_owned());
                move || {
                    let mut c = Command::new(&gohook);
                    c.arg(tool).env("GOHOOK_DIR", &records).env_remove("GOHOOK_BUILD_ID").env_remove("GOHOOK_CONFIG");
                    c
                }
            }),
        ),
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..options.rounds + 20 {
        for (i, (_, make)) in variants.iter().enumerate() {
            let wall = wall_of(make().stdout(Stdio::null()))?;
            // The first rounds warm the page cache and are not counted.
            if round >= 20 {
                samples[i].push(wall.as_secs_f64() * 1e3);
            }
        }
    }
    let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
    println!("per invocation of {tool}, median of {} interleaved rounds:", options.rounds);
    for ((name, _), m) in variants.iter().zip(&medians) {
        println!(
            "  {name:<30} {m:>7.3} ms   {:+.3} ms vs direct   {:+.3} ms vs sh wrapper   {:+.3} ms vs spawn-floor",
            m - medians[0],
            m - medians[1],
            m - medians[2]
        );
    }
    Ok(())
}

fn go_build_cpu(options: &Options, records: &Path) -> Result<()> {
    let out = records.join("go.out");
    let toolexec = format!("-toolexec={}", options.gohook.display());
    let run = |with_gohook: bool| -> Result<(Duration, Duration)> {
        let mut command = Command::new("go");
        command.args(["build", "-a", "-o"]).arg(&out);
        if with_gohook {
            command.arg(&toolexec);
        }
        command.arg("cmd/go").env("GOHOOK_DIR", records).env("GOFLAGS", "").env("GOTOOLCHAIN", "local");
        command.stdout(Stdio::null());
        let cpu_before = children_cpu();
        let wall = wall_of(&mut command)?;
        Ok((children_cpu() - cpu_before, wall))
    };
    let (mut ratios, mut plain_cpu, mut hooked_cpu) = (Vec::new(), Vec::new(), Vec::new());
    let mut attributed = Vec::new();
    println!("\ngo build -a cmd/go, {} interleaved pairs (order alternates):", options.builds);
    for pair in 0..options.builds {
        let order = if pair % 2 == 0 { [false, true] } else { [true, false] };
        let mut cpu = [Duration::ZERO; 2];
        for with_gohook in order {
            let (c, wall) = run(with_gohook)?;
            println!(
                "  pair {pair}: {:<14} cpu {:>7.2} s  wall {:>6.2} s",
                if with_gohook { "with gohook" } else { "plain" },
                c.as_secs_f64(),
                wall.as_secs_f64()
            );
            cpu[with_gohook as usize] = c;
            if with_gohook {
                attributed.push(gohook_cpu_share(options, records)?);
            }
        }
        plain_cpu.push(cpu[0].as_secs_f64());
        hooked_cpu.push(cpu[1].as_secs_f64());
        ratios.push(cpu[1].as_secs_f64() / cpu[0].as_secs_f64());
    }
    println!(
        "  median cpu: plain {:.2} s, with gohook {:.2} s; median per-pair ratio {:.4}x",
        median(&mut plain_cpu),
        median(&mut hooked_cpu),
        median(&mut ratios)
    );
    println!(
        "  gohook's own CPU from its records (exec and start-up included) / the tools' CPU: median {:.4}x",
        1.0 + median(&mut attributed)
    );
    Ok(())
}

/// gohook records its own CPU per invocation: the overhead without the run-to-run noise of whole builds.
fn gohook_cpu_share(options: &Options, records: &Path) -> Result<f64> {
    let out = Command::new(&options.gohook).args(["report", "--format", "json"]).env("GOHOOK_DIR", records).output()?;
    if !out.status.success() {
        bail!("gohook report failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout)?;
    let field = |name: &str| -> Result<f64> {
        let at = text.find(&format!("\"{name}\": ")).with_context(|| format!("{name} missing in the report"))?;
        let rest = &text[at + name.len() + 4..];
        let end = rest.find([',', '\n', '}']).unwrap_or(rest.len());
        Ok(rest[..end].trim().parse()?)
    };
    Ok(field("share_of_tool_cpu")?)
}

fn main() -> Result<()> {
    let options = parse_options()?;
    let records = tempfile::tempdir()?;
    per_invocation(&options, records.path())?;
    if !options.skip_go_build {
        go_build_cpu(&options, records.path())?;
    }
    Ok(())
}
