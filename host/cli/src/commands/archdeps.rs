//! `gohook archdeps`: one `go list` per platform, all at once; the analysis is `gohook_native::archdeps`'s.

use std::process::Command;

use anyhow::{Context as _, Result, bail};

use gohook_native::{ArchdepsListing as Listing, ArchdepsReport as Report, Cgo, GO_LIST_FIELDS};
use gohook_native::{Machine, Platform};
use gohook_process::env;

use crate::args::{ArchdepsArgs, ListFormat, Switch};
use crate::output::write_output;

pub fn archdeps(args: ArchdepsArgs) -> Result<u8> {
    let ArchdepsArgs { packages, targets, vs, cgo, format } = args;
    let here = Machine::detect().platform;
    let targets = match targets.is_empty() {
        true => vec![here.clone()],
        false => targets,
    };
    let vs = vs.unwrap_or_else(|| reference_for(&targets[0]));
    let patterns = match packages.is_empty() {
        true => vec!["./...".to_owned()],
        false => packages,
    };
    let mut platforms: Vec<&Platform> = targets.iter().chain([&vs]).collect();
    platforms.sort();
    platforms.dedup();
    let listings: Vec<Result<Listing>> = std::thread::scope(|scope| {
        let lists: Vec<_> =
            platforms.iter().map(|p| scope.spawn(|| list(p, cgo_for(p, &here, cgo), &patterns))).collect();
        lists.into_iter().map(|l| l.join().unwrap_or_else(|_| bail!("go list panicked"))).collect()
    });
    let listings: Vec<Listing> = listings.into_iter().collect::<Result<_>>()?;
    let listing_of = |platform: &Platform| listings.iter().find(|l| &l.platform == platform).expect("listed");
    let target_listings: Vec<&Listing> = targets.iter().map(listing_of).collect();
    let report = Report::new(&target_listings, listing_of(&vs));
    let text = match format {
        ListFormat::Table => report.to_table(),
        ListFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    write_output(None, &text)?;
    Ok(report.exit_code())
}

/// `--vs`'s default: amd64 on the target's OS, which is where the assembly of most modules was written; arm64 when
/// the target is amd64 itself.
fn reference_for(target: &Platform) -> Platform {
    let goarch = if target.goarch == "amd64" { "arm64" } else { "amd64" };
    Platform::new(&target.goos, goarch)
}

/// The CGO_ENABLED `platform` is listed with: `--cgo`, else the environment's, else on — what a native build there
/// has (archdeps asks what a platform builds natively), which a cross build from here does not: go turns cgo off
/// when it cross-compiles without a C compiler for the target, and the table says which was assumed.
fn cgo_for(platform: &Platform, here: &Platform, flag: Option<Switch>) -> Cgo {
    if let Some(flag) = flag {
        return Cgo { enabled: flag == Switch::On, from: "--cgo".to_owned() };
    }
    if let Some(value) = std::env::var_os("CGO_ENABLED") {
        return Cgo { enabled: value == "1", from: "CGO_ENABLED in the environment".to_owned() };
    }
    let from = if platform == here {
        "go's default for a native build".to_owned()
    } else {
        "as a native build there; a cross build from here has 0 unless CC names a C compiler for it: --cgo=0 to list \
         that"
            .to_owned()
    };
    Cgo { enabled: true, from }
}

/// go's package list for one platform with the given cgo setting.
fn list(platform: &Platform, cgo: Cgo, patterns: &[String]) -> Result<Listing> {
    let go = env::go_program();
    let mut command = Command::new(&go);
    command
        .args(["list", "-e", "-deps", &format!("-json={GO_LIST_FIELDS}"), "--"])
        .args(patterns)
        .env("GOOS", &platform.goos)
        .env("GOARCH", &platform.goarch)
        .env("CGO_ENABLED", if cgo.enabled { "1" } else { "0" });
    let out = command.output().with_context(|| format!("cannot run {}", go.to_string_lossy()))?;
    if !out.status.success() {
        bail!("go list for {platform} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(Listing::parse(platform.clone(), cgo, &out.stdout)?)
}
