//! gohook's evidence about a binary: SLSA provenance v1 and the policy's verdict (in-toto test-result v0.1) as
//! in-toto Statement v1, signed into DSSE envelopes with an ECDSA P-256 key and written as a Sigstore bundle v0.3 and
//! as in-toto JSON lines — what `cosign verify-blob-attestation` and `gohook verify` read.
//!
//! RustCrypto's `p256` signs: the `in-toto` crate knows only Statement v0.1 and SLSA v0.2, and `sigstore` is built
//! around keyless signing.

mod bundle;
mod dsse;
mod keys;
mod provenance;
mod statement;
mod verdict;

use std::path::{Path, PathBuf};

pub use bundle::{BUNDLE_MEDIA_TYPE, Bundle, read_envelopes};
pub use dsse::{Envelope, pae};
pub use keys::{KeyError, PASSWORD_ENV, Signer, Verifier};
pub use provenance::{
    BUILD_TYPE, BUILDER_ID, ExternalParameters, GoBuild, InternalParameters, MainModule, ROLE, Role, Vcs, module,
    rfc3339,
};
pub use statement::{
    PAYLOAD_TYPE, PROVENANCE_TYPE, Provenance, ResourceDescriptor, STATEMENT_TYPE, Statement, TEST_RESULT_TYPE,
    TestResult, digest,
};
pub use verdict::Verdict;

/// The sha256 of `bytes`, lowercase hex: how every digest in a statement is spelled.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Which statement a file holds: the file names say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Provenance,
    Verdict,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Provenance => "provenance",
            Kind::Verdict => "verdict",
        }
    }
}

/// Writes `statement` about `binary_name` into `dir`: signed, as `NAME.KIND.sigstore.json` and `NAME.KIND.intoto.jsonl`;
/// unsigned, as `NAME.KIND.statement.json` and `NAME.KIND.predicate.json` (what `actions/attest` signs keylessly with
/// `predicate-type`/`predicate-path`). The files written, in that order.
pub fn write(
    dir: &Path,
    binary_name: &str,
    kind: Kind,
    statement: &Statement,
    signer: Option<&Signer>,
) -> std::io::Result<Vec<PathBuf>> {
    let stem = format!("{binary_name}.{}", kind.name());
    let json = serde_json::to_vec(statement).expect("plain data");
    let files: Vec<(String, Vec<u8>)> = match signer {
        Some(signer) => {
            let envelope = Envelope::sign(PAYLOAD_TYPE, &json, signer);
            let mut line = serde_json::to_vec(&envelope).expect("plain data");
            line.push(b'\n');
            let mut bundle = serde_json::to_vec_pretty(&Bundle::of(envelope, &signer.key_id)).expect("plain data");
            bundle.push(b'\n');
            vec![(format!("{stem}.sigstore.json"), bundle), (format!("{stem}.intoto.jsonl"), line)]
        }
        None => {
            let mut pretty = serde_json::to_vec_pretty(statement).expect("plain data");
            pretty.push(b'\n');
            let mut predicate = serde_json::to_vec_pretty(&statement.predicate).expect("plain data");
            predicate.push(b'\n');
            vec![(format!("{stem}.statement.json"), pretty), (format!("{stem}.predicate.json"), predicate)]
        }
    };
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}
