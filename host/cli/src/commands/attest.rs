//! `gohook attest`: a recorded build's binary, attested afterwards (the latest build, a named one, or under a
//! goreleaser run the one of `--target`), with the key and directory the command line or gohook.toml names.
use anyhow::{Context as _, Result};

use gohook_attest::Signer;
use gohook_policy::Policy;

use crate::args::AttestArgs;
use crate::commands::CommandContext;
use crate::evidence::{Written, chosen_build, default_key, file_name, output_of, report_written, write_attestations};

/// `gohook attest`.
pub fn attest(args: AttestArgs, context: CommandContext) -> Result<u8> {
    let policy = Policy::find(context.config.as_deref(), &std::env::current_dir()?)?;
    let records = chosen_build(&context.store, args.build.as_deref(), args.target.as_deref())?;
    let binary = match args.binary {
        Some(binary) => binary,
        None => output_of(&records)?,
    };
    let signer = match (&args.key, args.unsigned) {
        (_, true) => None,
        (Some(key), false) => Some(key.clone()),
        (None, false) => Some(default_key(&policy).context(
            "no signing key: pass --key FILE (an ECDSA P-256 PEM or cosign.key), set GOHOOK_ATTEST_KEY or \
             [attest] key in gohook.toml, or --unsigned to write the statements for a CI step that signs them",
        )?),
    };
    let signer = signer.map(|key| Signer::from_file(&key, None)).transpose()?;
    let dir = args.output.or_else(|| policy.attest.as_ref().and_then(|a| a.dir.clone()));
    let source_files = args.materials.is_some() || policy.attest.as_ref().is_some_and(|a| a.materials.is_some());
    // goreleaser names every target's binary alike (`hello`): with --target, the files carry it.
    let stem = match &args.target {
        Some(target) => format!("{}.{target}", file_name(&binary)),
        None => file_name(&binary),
    };
    let written = write_attestations(
        &context.store,
        &policy,
        &records,
        &binary,
        Written { stem, dir, signer: signer.as_ref(), source_files },
    )?;
    report_written(&written, signer.is_some());
    Ok(0)
}
