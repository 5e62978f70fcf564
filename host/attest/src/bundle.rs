//! The two files a signed statement is written as: a Sigstore bundle v0.3 (`.sigstore.json`, what `cosign
//! verify-blob-attestation --bundle` and `gh attestation verify` read) and an in-toto JSON-lines file
//! (`.intoto.jsonl`, one DSSE envelope per line, what slsa-verifier and older tools read).

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    pub dsse_envelope: Envelope,
}

/// A key the verifier already holds, named by a hint: no certificate, and no transparency-log entry (gohook signs
/// offline, so cosign verifies with `--insecure-ignore-tlog`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyHint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlog_entries: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicKeyHint {
    pub hint: String,
}

impl Bundle {
    pub fn of(envelope: Envelope, key_id: &str) -> Bundle {
        Bundle {
            media_type: BUNDLE_MEDIA_TYPE.to_owned(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyHint { hint: key_id.to_owned() }),
                tlog_entries: Vec::new(),
            },
            dsse_envelope: envelope,
        }
    }
}

/// The envelopes in a file gohook or another tool wrote: a Sigstore bundle, a bare DSSE envelope, or JSON lines of
/// either.
pub fn read_envelopes(text: &str) -> Result<Vec<Envelope>, String> {
    let one = |json: &str| -> Result<Envelope, String> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let media_type = value.get("mediaType").and_then(|m| m.as_str()).unwrap_or_default();
        if media_type.starts_with("application/vnd.dev.sigstore.bundle") {
            let bundle: Bundle = serde_json::from_value(value).map_err(|e| {
                format!("a Sigstore bundle without a DSSE envelope gohook can read ({e}): a message signature, not an attestation?")
            })?;
            return Ok(bundle.dsse_envelope);
        }
        serde_json::from_value(value).map_err(|e| format!("neither a Sigstore bundle nor a DSSE envelope: {e}"))
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the file is empty".to_owned());
    }
    // A pretty-printed bundle spans lines; JSON lines hold one document per line.
    match one(trimmed) {
        Ok(envelope) => Ok(vec![envelope]),
        Err(whole) => {
            let lines: Vec<&str> = trimmed.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.len() < 2 {
                return Err(whole);
            }
            lines.iter().enumerate().map(|(i, line)| one(line).map_err(|e| format!("line {}: {e}", i + 1))).collect()
        }
    }
}
