//! DSSE envelopes (<https://github.com/secure-systems-lab/dsse>): the signature covers the pre-authentication
//! encoding of the payload type and body, so neither can be swapped; ECDSA P-256 over SHA-256, DER-encoded, as cosign
//! signs and verifies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{DerSignature, Signature};
use serde::{Deserialize, Serialize};

use crate::keys::{Signer, Verifier};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Base64 of the statement's JSON.
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// Base64 of the DER signature.
    pub sig: String,
}

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

impl Envelope {
    /// Signs `body` of `payload_type`; the key id is left empty, as cosign leaves it for a key it was handed.
    pub fn sign(payload_type: &str, body: &[u8], signer: &Signer) -> Envelope {
        let signature: Signature = signer.key.sign(&pae(payload_type, body));
        let der: DerSignature = signature.to_der();
        Envelope {
            payload: STANDARD.encode(body),
            payload_type: payload_type.to_owned(),
            signatures: vec![EnvelopeSignature { keyid: String::new(), sig: STANDARD.encode(der.as_bytes()) }],
        }
    }

    /// The payload's bytes.
    pub fn body(&self) -> Result<Vec<u8>, String> {
        STANDARD.decode(&self.payload).map_err(|e| format!("the envelope's payload is not base64: {e}"))
    }

    /// Whether one of the signatures is `verifier`'s over this payload; the payload when it is.
    pub fn verify(&self, verifier: &Verifier) -> Result<Vec<u8>, String> {
        let body = self.body()?;
        if self.signatures.is_empty() {
            return Err("the envelope carries no signature".to_owned());
        }
        let message = pae(&self.payload_type, &body);
        let verified = self.signatures.iter().any(|s| {
            let Ok(der) = STANDARD.decode(&s.sig) else { return false };
            Signature::from_der(&der).is_ok_and(|sig| verifier.key.verify(&message, &sig).is_ok())
        });
        if verified { Ok(body) } else { Err("no signature in it verifies with this key".to_owned()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(seed: u8) -> (Signer, Verifier) {
        let key = p256::ecdsa::SigningKey::from_bytes(&[seed; 32].into()).unwrap();
        let verifier = Verifier { key: *key.verifying_key(), key_id: String::new() };
        (Signer { key, key_id: String::new() }, verifier)
    }

    #[test]
    fn a_signature_verifies_with_its_key_only_and_covers_the_payload_type() {
        let ((key, verifier), (_, other)) = (signer(1), signer(2));
        let envelope = Envelope::sign("application/vnd.in-toto+json", b"{}", &key);
        assert_eq!(envelope.verify(&verifier).unwrap(), b"{}");
        assert_eq!(envelope.verify(&other).unwrap_err(), "no signature in it verifies with this key");
        let retyped = Envelope { payload_type: "text/plain".to_owned(), ..envelope.clone() };
        assert!(retyped.verify(&verifier).is_err());
        let unsigned = Envelope { signatures: vec![], ..envelope };
        assert_eq!(unsigned.verify(&verifier).unwrap_err(), "the envelope carries no signature");
    }

    #[test]
    fn pae_is_the_specification_s_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }
}
