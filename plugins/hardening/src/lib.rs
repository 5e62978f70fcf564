//! Built-in `hardening`: the protections checksec (ELF), BinSkim/winchecksec (PE) and `codesign` (Mach-O) report,
//! judged by how the binary was built.
//!
//! Every image gets one `hardening/summary` note with the columns those tools print, so their users can compare
//! line by line. Where a column means nothing for the binary — a stack canary or FORTIFY_SOURCE in a binary without
//! C code, RELRO in a static binary with no dynamic section — it reads `n/a` and the note says why, instead of the
//! failure checksec reports: the Go compiler checks stack bounds itself, and Go code calls no libc string function.
//!
//! The C code cgo compiled is judged per package at cgo's `-dynimport` step, where gohook hands the plugin
//! `_cgo_.o` (the package's C objects linked together): a package whose C never checks a stack canary fails, named.
//! `runtime/cgo` is Go's own and built with `-fno-stack-protector` on purpose (golang/go#52919, #54313, #58385).

use gohook_sdk::hardening::{ElfHardening, Hardening, MachOHardening, PeHardening, Protections, Relro, Signature};
use gohook_sdk::inspect::Binary;
use gohook_sdk::{Artifact, Finding, Invocation, Metadata, Moment, Plugin, export_plugin};
use serde::Deserialize;

const SUMMARY: &str = "hardening/summary";
const RELRO: &str = "hardening/relro";
const NX: &str = "hardening/nx";
const RWX: &str = "hardening/rwx";
const RPATH: &str = "hardening/rpath";
const TEXTREL: &str = "hardening/textrel";
const CANARY: &str = "hardening/canary";
const C_CANARY: &str = "hardening/c-stack-protector";
const C_FORTIFY: &str = "hardening/c-fortify";
const PAGEZERO: &str = "hardening/pagezero";
const SIGNATURE: &str = "hardening/signature";
const HARDENED_RUNTIME: &str = "hardening/hardened-runtime";
const AUTHENTICODE: &str = "hardening/authenticode";

const STACK_PROTECTOR_FIX: &str = "build with CGO_CFLAGS=\"-O2 -g -fstack-protector-strong\"";
const FORTIFY_FIX: &str = "add -D_FORTIFY_SOURCE=2 to CGO_CFLAGS (it needs -O1 or more)";
const RUNTIME_CGO: &str = "runtime/cgo";

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Settings {
    /// The least RELRO a dynamically linked ELF must have.
    relro: Relro,
    stack_protector: bool,
    c_without_canary: Vec<String>,
    fortify: bool,
    signature: SignatureSetting,
    hardened_runtime: bool,
    authenticode: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            relro: Relro::Partial,
            stack_protector: true,
            c_without_canary: Vec::new(),
            fortify: false,
            signature: SignatureSetting::None,
            hardened_runtime: false,
            authenticode: false,
        }
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
enum SignatureSetting {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "ad-hoc")]
    AdHoc,
    #[serde(rename = "identity")]
    Identity,
}

struct HardeningCheck;

impl Plugin for HardeningCheck {
    fn metadata() -> Metadata {
        Metadata::new("hardening", env!("CARGO_PKG_VERSION"))
            .moments([Moment::AfterTool, Moment::Check])
            .tools(["link", "cgo"])
            .setting("relro", "the least RELRO a dynamically linked ELF must have: none, partial (default) or full")
            .setting("stack_protector", "the C code of every cgo package must check a stack canary (default true)")
            .setting("c_without_canary", "cgo packages reviewed and allowed to have no canary (C without buffers)")
            .setting("fortify", "C code must call FORTIFY_SOURCE's checked functions where it can (default false)")
            .setting("signature", "the least Mach-O code signature: none (default), ad-hoc or identity")
            .setting("hardened_runtime", "Mach-O executables must be signed with the hardened runtime (default false)")
            .setting("authenticode", "PE executables must carry an Authenticode signature (default false)")
            .rule(SUMMARY, "the protections checksec, BinSkim and codesign report, as they print them", "informational")
            .rule(RELRO, "a dynamically linked ELF has less RELRO than the policy asks", "link with -ldflags=-bindnow")
            .rule(
                NX,
                "the stack (ELF) or the image (PE, NX_COMPAT) is executable",
                "do not link with an executable stack",
            )
            .rule(RWX, "a segment or section is writable and executable", "drop the linker flag that merges them")
            .rule(RPATH, "the binary searches for libraries outside its own directory", "drop -rpath from -extldflags")
            .rule(TEXTREL, "the loader must write to code (text relocations)", "compile the C code with -fPIC")
            .rule(CANARY, "C code is linked and none of it checks a stack canary", STACK_PROTECTOR_FIX)
            .rule(C_CANARY, "a cgo package's C code checks no stack canary", STACK_PROTECTOR_FIX)
            .rule(C_FORTIFY, "a cgo package calls libc functions FORTIFY_SOURCE would check, unchecked", FORTIFY_FIX)
            .rule(
                PAGEZERO,
                "a Mach-O executable has no __PAGEZERO: null pointers do not fault",
                "link with Go's or Apple's linker defaults",
            )
            .rule(
                SIGNATURE,
                "the Mach-O code signature is missing, invalid or weaker than the policy asks",
                "sign with codesign -s IDENTITY",
            )
            .rule(
                HARDENED_RUNTIME,
                "the Mach-O executable is not signed with the hardened runtime",
                "sign with codesign -o runtime",
            )
            .rule(
                AUTHENTICODE,
                "the PE executable carries no Authenticode signature",
                "sign with signtool or osslsigncode",
            )
    }

    fn after_tool(invocation: Invocation, exit_code: i32, output: Option<&Artifact>) -> Vec<Finding> {
        match (invocation.stage.as_str(), output) {
            (_, None) => Vec::new(),
            _ if exit_code != 0 => Vec::new(),
            ("link", Some(binary)) => Self::check(binary),
            ("cgo", Some(object)) => with_settings(|settings| cgo_package(&invocation.import_path, object, settings)),
            _ => Vec::new(),
        }
    }

    fn check(binary: &Artifact) -> Vec<Finding> {
        with_settings(|settings| {
            let binary = Binary::open(binary)?;
            let images = binary.hardening()?;
            let symbols = binary.symbol_tables()?;
            let mut findings = Vec::new();
            for image in &images {
                let at = if image.offset == 0 { String::new() } else { format!(" (slice at offset {})", image.offset) };
                let symbols = symbols.iter().any(|t| t.offset == image.offset && t.present);
                findings.extend(judge(image, symbols, settings).into_iter().map(|mut f| {
                    f.message += &at;
                    f
                }));
            }
            Ok(findings)
        })
    }
}

fn with_settings(check: impl FnOnce(&Settings) -> Result<Vec<Finding>, String>) -> Vec<Finding> {
    match gohook_sdk::settings::<Settings>() {
        Ok(settings) => check(&settings).unwrap_or_else(|e| vec![Finding::unreadable("hardening", e)]),
        Err(e) => vec![Finding::error("hardening/settings", e)],
    }
}

/// One cgo package's C code, from its `_cgo_.o`.
fn cgo_package(package: &str, object: &Artifact, settings: &Settings) -> Result<Vec<Finding>, String> {
    let c = Binary::open(object)?.compiled_c()?;
    let mut findings = Vec::new();
    if !c.canary && settings.stack_protector {
        if package == RUNTIME_CGO {
            findings.push(Finding::note(
                C_CANARY,
                "runtime/cgo: Go builds its own C with -fno-stack-protector on purpose (golang/go#52919, #54313, \
                 #58385); not a finding",
            ));
        } else if settings.c_without_canary.iter().any(|allowed| allowed == package) {
            findings.push(Finding::note(
                C_CANARY,
                format!("{package}: no stack canary in its C, allowed by c_without_canary"),
            ));
        } else {
            findings.push(
                Finding::error(
                    C_CANARY,
                    format!("{package}: none of its C functions checks a stack canary (its objects never call __stack_chk_fail)"),
                )
                .help(format!(
                    "{STACK_PROTECTOR_FIX}; C with no arrays and no address-taken locals gets no canary even then: \
                     after review, list \"{package}\" in c_without_canary"
                )),
            );
        }
    }
    if !c.fortifiable.is_empty() && c.fortified.is_empty() && package != RUNTIME_CGO {
        let message = format!("{package}: calls {} unchecked (no FORTIFY_SOURCE)", c.fortifiable.join(", "));
        findings.push(
            if settings.fortify { Finding::error(C_FORTIFY, message) } else { Finding::note(C_FORTIFY, message) }
                .help(FORTIFY_FIX),
        );
    }
    Ok(findings)
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn list_or_no(values: &[String]) -> String {
    if values.is_empty() { "no".to_owned() } else { values.join(":") }
}

fn judge(image: &Hardening, symbols: bool, settings: &Settings) -> Vec<Finding> {
    match &image.protections {
        Protections::Elf(elf) => judge_elf(elf, settings),
        Protections::MachO(macho) => judge_macho(macho, symbols, settings),
        Protections::Pe(pe) => judge_pe(pe, settings),
    }
}

fn judge_elf(elf: &ElfHardening, settings: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut not_applicable = Vec::new();
    let link = if elf.external_link { "external link" } else { "internal link" };
    let relro = match elf.relro {
        Relro::None if !elf.dynamic => {
            not_applicable.push(format!("RELRO: static, {link}: no dynamic section and no GOT for RELRO to protect"));
            "n/a".to_owned()
        }
        relro => {
            if relro < settings.relro {
                findings.push(
                    Finding::error(
                        RELRO,
                        format!("RELRO is {}, the policy asks for {}", relro.name(), settings.relro.name()),
                    )
                    .help(if relro == Relro::None {
                        "link with -buildmode=pie"
                    } else {
                        "link with -ldflags=-bindnow"
                    }),
                );
            }
            relro.name().to_owned()
        }
    };
    let (canary, fortify, fortified) = match &elf.c_code {
        None => {
            not_applicable.push(format!(
                "canary, FORTIFY: pure Go, {link}: no C code is linked; the Go compiler checks stack bounds itself and Go \
                 calls no libc string function"
            ));
            ("n/a", "n/a", "n/a".to_owned())
        }
        Some(why) => {
            if !elf.canary && settings.stack_protector {
                findings.push(
                    Finding::warning(CANARY, format!("{why}, and none of it checks a stack canary (no __stack_chk_fail)"))
                        .help(format!("{STACK_PROTECTOR_FIX}; gohook build names the package at its cgo step (runtime/cgo is Go's own and has none on purpose)")),
                );
            }
            let fortify = if !elf.fortified.is_empty() {
                "yes"
            } else if elf.fortifiable.is_empty() {
                "n/a"
            } else {
                "no"
            };
            if fortify == "n/a" {
                not_applicable.push("FORTIFY: the C code calls no function FORTIFY_SOURCE checks".to_owned());
            }
            if fortify == "no" && settings.fortify {
                findings.push(
                    Finding::error(
                        C_FORTIFY,
                        format!("calls {} unchecked (no FORTIFY_SOURCE)", elf.fortifiable.join(", ")),
                    )
                    .help(FORTIFY_FIX),
                );
            }
            (
                yes_no(elf.canary),
                fortify,
                format!("{}/{}", elf.fortified.len(), elf.fortified.len() + elf.fortifiable.len()),
            )
        }
    };
    if !elf.nx {
        findings.push(
            Finding::error(NX, "the stack is executable (PT_GNU_STACK missing or RWE)")
                .help("do not link with -z execstack; find the C object without .note.GNU-stack"),
        );
    }
    if !elf.rwx_segments.is_empty() {
        let segments: Vec<String> = elf.rwx_segments.iter().map(ToString::to_string).collect();
        findings.push(
            Finding::error(RWX, format!("program headers {} are writable and executable", segments.join(", ")))
                .help("drop -N/--omagic or linker scripts that merge text and data"),
        );
    }
    for (tag, paths) in [("RPATH", &elf.rpath), ("RUNPATH", &elf.runpath)] {
        let outside: Vec<&String> = paths.iter().filter(|p| !p.starts_with("$ORIGIN")).collect();
        if !outside.is_empty() {
            let outside: Vec<&str> = outside.iter().map(|p| p.as_str()).collect();
            findings.push(
                Finding::error(
                    RPATH,
                    format!("{tag} {}: libraries are searched outside the binary's own directory", outside.join(":")),
                )
                .help("drop -Wl,-rpath from -extldflags, or make it $ORIGIN-relative"),
            );
        }
    }
    if elf.textrel {
        findings.push(
            Finding::error(TEXTREL, "text relocations: the loader writes to code")
                .help("compile the C code with -fPIC"),
        );
    }
    let cet = if elf.cet.is_empty() { "none".to_owned() } else { elf.cet.join("+") };
    let columns = format!(
        "ELF RELRO={relro} CANARY={canary} NX={} PIE={} RPATH={} RUNPATH={} SYMBOLS={} FORTIFY={fortify} \
         FORTIFIED={fortified} CET={cet}",
        yes_no(elf.nx),
        yes_no(elf.pie),
        list_or_no(&elf.rpath),
        list_or_no(&elf.runpath),
        yes_no(elf.symbols),
    );
    findings.push(summary(columns, not_applicable));
    findings
}

fn judge_macho(macho: &MachOHardening, symbols: bool, settings: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    if macho.executable && !macho.pagezero {
        findings.push(
            Finding::error(PAGEZERO, "no __PAGEZERO segment: a null pointer reads mapped memory")
                .help("link without -pagezero_size 0"),
        );
    }
    let outside: Vec<&str> = macho
        .rpaths
        .iter()
        .map(String::as_str)
        .filter(|p| !p.starts_with("@executable_path") && !p.starts_with("@loader_path"))
        .collect();
    if !outside.is_empty() {
        findings.push(
            Finding::error(RPATH, format!("LC_RPATH {}: libraries are searched outside the app", outside.join(", ")))
                .help("drop -rpath from -extldflags, or make it @executable_path- or @loader_path-relative"),
        );
    }
    let signature_ok = match (&macho.signature, settings.signature) {
        (Signature::Invalid(_), _) => false,
        (_, SignatureSetting::None) => true,
        (Signature::None, _) => false,
        (Signature::AdHoc, SignatureSetting::Identity) => false,
        _ => true,
    };
    if !signature_ok {
        let have = match &macho.signature {
            Signature::Invalid(why) => format!("an invalid signature ({why})"),
            Signature::None => "no code signature".to_owned(),
            other => format!("an {} signature", other.name()),
        };
        let wanted = match settings.signature {
            SignatureSetting::Identity => "a signature by an identity (Developer ID)",
            _ => "a code signature",
        };
        findings.push(
            Finding::error(SIGNATURE, format!("{have}; the policy asks for {wanted}"))
                .help("sign with codesign -s \"Developer ID Application: …\" -o runtime, then notarize"),
        );
    }
    if settings.hardened_runtime && !macho.hardened_runtime() {
        findings.push(
            Finding::error(
                HARDENED_RUNTIME,
                format!("not signed with the hardened runtime (CodeDirectory flags {:#x})", macho.code_directory_flags),
            )
            .help("sign with codesign -o runtime; notarization requires it"),
        );
    }
    let columns = format!(
        "Mach-O PIE={} PAGEZERO={} SIGNATURE={} CD-FLAGS={:#x} HARDENED-RUNTIME={} RPATH={} SYMBOLS={}",
        yes_no(macho.pie),
        yes_no(macho.pagezero),
        macho.signature.name(),
        macho.code_directory_flags,
        yes_no(macho.hardened_runtime()),
        if macho.rpaths.is_empty() { "no".to_owned() } else { macho.rpaths.join(",") },
        yes_no(symbols),
    );
    findings.push(summary(columns, Vec::new()));
    findings
}

fn judge_pe(pe: &PeHardening, settings: &Settings) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !pe.nx_compat {
        findings.push(
            Finding::error(NX, "NX_COMPAT is not set: DEP does not protect the image")
                .help("link with Go's default flags"),
        );
    }
    if !pe.wx_sections.is_empty() {
        findings.push(
            Finding::error(RWX, format!("sections {} are writable and executable", pe.wx_sections.join(", ")))
                .help("drop the linker flag that merges them"),
        );
    }
    if settings.authenticode && !pe.authenticode {
        findings.push(
            Finding::error(AUTHENTICODE, "no Authenticode signature (the security directory is empty)")
                .help("sign with signtool or osslsigncode"),
        );
    }
    let columns = format!(
        "PE NX={} DYNAMICBASE={} HIGH-ENTROPY-VA={} ASLR={} CFG={} AUTHENTICODE={} FORCE-INTEGRITY={} WX-SECTIONS={} SYMBOLS={}",
        yes_no(pe.nx_compat),
        yes_no(pe.dynamic_base),
        yes_no(pe.high_entropy_va),
        yes_no(pe.aslr()),
        yes_no(pe.guard_cf),
        yes_no(pe.authenticode),
        yes_no(pe.force_integrity),
        list_or_no(&pe.wx_sections),
        yes_no(pe.symbols),
    );
    let mut notes = Vec::new();
    if !pe.guard_cf {
        notes.push(
            "CFG: Go's linker emits no Control Flow Guard tables, and CFG would not cover Go's own code; BinSkim's BA2008 \
             fails every Go binary, gohook reports it and does not fail"
                .to_owned(),
        );
    }
    findings.push(summary(columns, notes));
    findings
}

/// The one note per image: the columns, then why any column does not apply.
fn summary(columns: String, not_applicable: Vec<String>) -> Finding {
    let finding = Finding::note(SUMMARY, columns);
    if not_applicable.is_empty() { finding } else { finding.help(not_applicable.join("; ")) }
}

export_plugin!(HardeningCheck);
