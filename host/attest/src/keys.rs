//! Signing and verifying keys, read from the files users have: a PKCS#8 PEM (`openssl genpkey -algorithm EC
//! -pkeyopt ec_paramgen_curve:P-256`), a SEC1 `EC PRIVATE KEY` PEM (`openssl ecparam -genkey`), or the encrypted key
//! `cosign generate-key-pair` writes (scrypt and NaCl secretbox around PKCS#8, its password in `COSIGN_PASSWORD`);
//! public keys as the SubjectPublicKeyInfo PEM both openssl and cosign write.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::aead::{Aead as _, KeyInit as _};
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::der::pem;
use p256::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

/// The environment variable cosign reads an encrypted key's password from; gohook reads the same.
pub const PASSWORD_ENV: &str = "COSIGN_PASSWORD";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// A P-256 key that signs statements, and the id verifiers know its public half by.
pub struct Signer {
    pub key: SigningKey,
    pub key_id: String,
}

impl Signer {
    /// Reads `path`: PKCS#8, SEC1 or a cosign key (decrypted with `password`, else `$COSIGN_PASSWORD`).
    pub fn from_file(path: &Path, password: Option<&str>) -> Result<Signer, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read { path: path.to_owned(), source })?;
        let invalid = |message: String| KeyError::Invalid { path: path.to_owned(), message };
        let (label, der) = pem::decode_vec(text.trim().as_bytes())
            .map_err(|e| invalid(format!("not a PEM private key ({e}); make one with `cosign generate-key-pair` or `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem`")))?;
        let key = match label {
            "PRIVATE KEY" => SigningKey::from_pkcs8_der(&der).map_err(|e| invalid(format!("not a P-256 key: {e}")))?,
            "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&der)
                .map(SigningKey::from)
                .map_err(|e| invalid(format!("not a P-256 key: {e}")))?,
            "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => {
                let password = match password {
                    Some(password) => password.to_owned(),
                    None => std::env::var(PASSWORD_ENV).map_err(|_| {
                        invalid(format!("a cosign key is encrypted: set {PASSWORD_ENV} to its password"))
                    })?,
                };
                let pkcs8 = decrypt_cosign_key(&der, &password).map_err(invalid)?;
                SigningKey::from_pkcs8_der(&pkcs8).map_err(|e| invalid(format!("not a P-256 key: {e}")))?
            }
            other => {
                return Err(invalid(format!(
                    "a PEM {other:?}, not a private key; gohook signs with an ECDSA P-256 private key"
                )));
            }
        };
        let key_id = key_id(key.verifying_key());
        Ok(Signer { key, key_id })
    }

    /// The public half, as the PEM cosign's `--key` reads.
    pub fn public_pem(&self) -> String {
        self.key.verifying_key().to_public_key_pem(pem::LineEnding::LF).expect("a P-256 point encodes")
    }
}

/// A public key that verifies statements.
pub struct Verifier {
    pub key: VerifyingKey,
    pub key_id: String,
}

impl Verifier {
    pub fn from_file(path: &Path) -> Result<Verifier, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read { path: path.to_owned(), source })?;
        let key = VerifyingKey::from_public_key_pem(text.trim()).map_err(|e| KeyError::Invalid {
            path: path.to_owned(),
            message: format!("not a P-256 public key PEM ({e}); cosign writes one as cosign.pub"),
        })?;
        Ok(Verifier { key_id: key_id(&key), key })
    }
}

/// The sha256 of the key's SubjectPublicKeyInfo DER, base64: the hint a bundle names its key by, as cosign writes it.
fn key_id(key: &VerifyingKey) -> String {
    let der = key.to_public_key_der().expect("a P-256 point encodes");
    STANDARD.encode(Sha256::digest(der.as_bytes()))
}

/// cosign's encrypted key (go-securesystemslib's `encrypted` package): JSON naming the KDF and cipher.
#[derive(Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn decrypt_cosign_key(json: &[u8], password: &str) -> Result<Vec<u8>, String> {
    let encrypted: EncryptedKey =
        serde_json::from_slice(json).map_err(|e| format!("not a cosign encrypted key: {e}"))?;
    if encrypted.kdf.name != "scrypt" || encrypted.cipher.name != "nacl/secretbox" {
        return Err(format!(
            "a cosign key sealed with {} and {}; gohook reads scrypt and nacl/secretbox, what cosign writes",
            encrypted.kdf.name, encrypted.cipher.name
        ));
    }
    let bytes = |what: &str, b64: &str| STANDARD.decode(b64).map_err(|e| format!("the key's {what}: {e}"));
    let (salt, nonce, sealed) = (
        bytes("salt", &encrypted.kdf.salt)?,
        bytes("nonce", &encrypted.cipher.nonce)?,
        bytes("ciphertext", &encrypted.ciphertext)?,
    );
    let ScryptParams { n, r, p } = encrypted.kdf.params;
    if !n.is_power_of_two() || nonce.len() != 24 {
        return Err("the key's scrypt N or nonce is malformed".to_owned());
    }
    let params = scrypt::Params::new(n.trailing_zeros() as u8, r, p, 32).map_err(|e| format!("scrypt: {e}"))?;
    let mut secret = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut secret).map_err(|e| format!("scrypt: {e}"))?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&secret.into());
    cipher
        .decrypt(nonce.as_slice().into(), sealed.as_slice())
        .map_err(|_| format!("wrong password for the cosign key (from {PASSWORD_ENV} or --password)"))
}
