//! Built-in `arch`: only the architectures in `settings.allow` (GOARCH names) may be built, and a binary carries no
//! executable for another architecture than its own.
//!
//! The allow-list is checked at go's `-V=full` probe, which runs on every go command before anything compiles (even
//! when the build is fully cached), and on every image of a linked or finished binary (each slice of a universal
//! Mach-O). Executables embedded in a binary's data (a `go:embed`'d helper that the program writes out and runs)
//! are checked against the image that holds them: an x86-64 helper in an arm64 binary runs under Rosetta on a Mac,
//! or not at all on Linux.

use gohook_sdk::inspect::{Architecture, Binary, goarch};
use gohook_sdk::{Artifact, Finding, Metadata, Moment, Plugin, Probe, export_plugin};
use serde::Deserialize;

const RULE: &str = "arch/not-allowed";
const HELP: &str = "build only for the allowed GOARCH values, or add this one to [plugins.arch] settings.allow";
const EMBEDDED: &str = "arch/embedded-foreign";
const EMBEDDED_HELP: &str = "embed the helper built for the binary's GOARCH (one embed file per target, chosen by build \
                             tags), or a universal Mach-O that has a slice for it";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// GOARCH values; empty allows everything.
    #[serde(default)]
    allow: Vec<String>,
}

impl Settings {
    fn load() -> Result<Settings, Finding> {
        gohook_sdk::settings()
            .map_err(|e| Finding::error("arch/settings", e).help("e.g. settings = { allow = [\"arm64\"] }"))
    }

    fn allows(&self, arch: &str) -> bool {
        self.allow.is_empty() || self.allow.iter().any(|a| a == arch)
    }
}

struct Arch;

impl Plugin for Arch {
    fn metadata() -> Metadata {
        Metadata::new("arch", env!("CARGO_PKG_VERSION"))
            .moments([Moment::Probe, Moment::AfterTool, Moment::Check])
            .tools(["link"])
            .setting("allow", "GOARCH values that may be built; empty allows all")
            .rule(RULE, "the target architecture is not in the allow-list", HELP)
            .rule(EMBEDDED, "an executable embedded in the binary is for another architecture", EMBEDDED_HELP)
            .rule("arch/settings", "the plugin's settings are invalid", "settings = { allow = [\"arm64\"] }")
    }

    fn on_probe(probe: Probe) -> Vec<Finding> {
        match Settings::load() {
            Ok(settings) if settings.allows(&probe.goarch) => vec![],
            Ok(settings) => vec![
                Finding::error(
                    RULE,
                    format!("GOARCH={} is not allowed (allowed: {})", probe.goarch, settings.allow.join(", ")),
                )
                .help(HELP),
            ],
            Err(finding) => vec![finding],
        }
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        let settings = match Settings::load() {
            Ok(settings) => settings,
            Err(finding) => return vec![finding],
        };
        let binary = match Binary::open(binary) {
            Ok(binary) => binary,
            Err(e) => return vec![Finding::unreadable("arch", e)],
        };
        let images = match binary.images() {
            Ok(images) => images,
            Err(e) => return vec![Finding::unreadable("arch", e)],
        };
        let mut findings = Vec::new();
        for image in &images {
            let arch = goarch(image.architecture).map_or_else(|| format!("{:?}", image.architecture), str::to_owned);
            if !settings.allows(&arch) {
                // A universal Mach-O holds several images, each a slice at its offset; any other binary is one.
                let which = match images.len() {
                    1 => "the binary".to_owned(),
                    _ => format!("the slice at offset {}", image.offset),
                };
                findings.push(
                    Finding::error(
                        RULE,
                        format!("{which} is {arch}, which is not allowed (allowed: {})", settings.allow.join(", ")),
                    )
                    .help(HELP),
                );
            }
        }
        let embedded = match binary.embedded_executables() {
            Ok(embedded) => embedded,
            Err(e) => return [findings, vec![Finding::unreadable("arch", e)]].concat(),
        };
        for (image_offset, inner) in embedded {
            let Some(image) = images.iter().find(|i| i.offset == image_offset) else { continue };
            if inner.architectures.contains(&image.architecture) {
                continue;
            }
            let name = |a: &Architecture| goarch(*a).map_or_else(|| format!("{a:?}"), str::to_owned);
            let theirs: Vec<String> = inner.architectures.iter().map(name).collect();
            findings.push(
                Finding::error(
                    EMBEDDED,
                    format!(
                        "the {} embedded at offset {} is {}, but the image it is in is {}",
                        inner.format,
                        inner.offset,
                        theirs.join(" + "),
                        name(&image.architecture)
                    ),
                )
                .help(EMBEDDED_HELP),
            );
        }
        findings
    }
}

export_plugin!(Arch);
