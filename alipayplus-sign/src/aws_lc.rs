//! The `aws-lc` backend: the same RSA256 signer and verifier on `aws-lc-rs` (AWS-LC, with
//! OpenSSL's assembly), for servers that sign every request. Needs the `aws-lc` feature (and so
//! `std` and a C compiler at build time).
//!
//! Keys are read by this crate's own parser ([`PrivateKey::parse`], [`PublicKey::parse`]: every
//! form, the same errors, the 2048..=4096-bit rule), converted once to DER (PKCS#8 for the
//! private key, PKCS#1 `RSAPublicKey` for the public key) and imported into AWS-LC at
//! construction; signing and verifying never parse again.
//!
//! The content is hashed in place (SHA-256 over its parts, no copy of the body) and AWS-LC signs
//! or verifies the digest (`sign_digest`, `verify_digest_sig`). Verification uses
//! `RSA_PKCS1_2048_8192_SHA256`, which rebuilds the SHA-256 DigestInfo and compares the whole
//! encoded message, so a signature over a SHA-1 or SHA-512 DigestInfo fails, as with the default
//! backend. Signatures are byte-identical to the default backend's (PKCS#1 v1.5 is
//! deterministic).
//!
//! ```
//! use alipayplus_sign::{message, AwsLcPrivateKey, PublicKeys};
//!
//! # let pem = include_bytes!("../tests/data/private_pkcs8.pem");
//! let key = AwsLcPrivateKey::parse(pem)?; // PEM, DER or bare base64; PKCS#8 or PKCS#1
//! let body = br#"{"paymentRequestId":"pay_1"}"#;
//! let header = message::sign_request(
//!     &key, 1, "POST", "/aps/api/v1/payments/pay", "CLIENT", "2025-02-20T08:51:49Z", body,
//! )?;
//!
//! let keys = PublicKeys::single(1, key.public_key()?);
//! let headers = [
//!     ("Signature", header.as_str().as_bytes()),
//!     ("Client-Id", b"CLIENT".as_slice()),
//!     ("Request-Time", b"2025-02-20T08:51:49Z".as_slice()),
//! ];
//! message::verify_request(&keys, "POST", "/aps/api/v1/payments/pay", headers, body)?;
//! # Ok::<(), alipayplus_sign::Error>(())
//! ```

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};

use crate::error::KeyKind;
use crate::key::{PrivateKey, PublicKey};
use crate::signer::{ContentSigner, ContentVerifier, MAX_SIGNATURE_LEN, RsaSignature};
use crate::{Error, SignContent};

const BACKEND: &str = "aws-lc";

/// Our RSA private key on the `aws-lc` backend: signs like [`PrivateKey`], at OpenSSL speed.
///
/// `Send + Sync`: one key may sign from many threads at once. `Debug` shows only the key size;
/// AWS-LC wipes the key material when the last clone is dropped.
///
/// ```
/// use alipayplus_sign::{AwsLcPrivateKey, ContentSigner, PrivateKey, SignContent};
///
/// # let pem = include_bytes!("../tests/data/private_pkcs1.pem");
/// let fast = AwsLcPrivateKey::parse(pem)?;
/// assert_eq!(format!("{fast:?}"), "AwsLcPrivateKey { bits: 2048 }");
/// let content = SignContent::request("POST", "/aps/api/v1/payments/pay", "C", "T", b"{}");
/// // Same bytes as the default backend.
/// assert_eq!(fast.sign(&content)?, PrivateKey::parse(pem)?.sign(&content)?);
/// # Ok::<(), alipayplus_sign::Error>(())
/// ```
#[derive(Clone)]
pub struct AwsLcPrivateKey {
    key: RsaKeyPair,
    bits: usize,
}

/// An RSA public key (normally Alipay+'s) on the `aws-lc` backend: verifies like
/// [`PublicKey`], accepting only PKCS#1 v1.5 signatures whose DigestInfo names SHA-256.
///
/// `Send + Sync`; put it in a [`crate::PublicKeys`] set like the default key.
#[derive(Clone)]
pub struct AwsLcPublicKey {
    key: ParsedPublicKey,
    bits: usize,
}

impl AwsLcPrivateKey {
    /// Reads a private key in any form [`PrivateKey::parse`] accepts (PEM, DER or bare base64;
    /// PKCS#8 or PKCS#1) and imports it into AWS-LC.
    ///
    /// # Errors
    /// Those of [`PrivateKey::parse`], and [`Error::BackendRejectedKey`] if AWS-LC refuses a
    /// key the parser accepted (not expected for an RSA key of 2048 to 4096 bits).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_key(&PrivateKey::parse(bytes)?)
    }

    /// Imports a key already read by this crate (e.g. to keep the pure-Rust key as well).
    ///
    /// # Errors
    /// [`Error::BackendRejectedKey`] if AWS-LC refuses the key.
    pub fn from_key(key: &PrivateKey) -> Result<Self, Error> {
        let rejected = Error::BackendRejectedKey {
            kind: KeyKind::Private,
            backend: BACKEND,
        };
        // The DER lives in a buffer wiped on drop; AWS-LC keeps its own copy.
        let der = key.to_pkcs8_der().map_err(|_| rejected.clone())?;
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(|_| rejected.clone())?;
        let bits = key.bits();
        if pair.public_modulus_len() != bits.div_ceil(8) {
            return Err(rejected);
        }
        Ok(Self { key: pair, bits })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The matching public key, on the same backend.
    ///
    /// # Errors
    /// [`Error::BackendRejectedKey`] if AWS-LC refuses its own public key (not expected).
    pub fn public_key(&self) -> Result<AwsLcPublicKey, Error> {
        use aws_lc_rs::signature::KeyPair as _;
        // `RSAPublicKey` (PKCS#1) DER, as AWS-LC encodes it.
        let der = self.key.public_key().as_ref();
        AwsLcPublicKey::from_der_checked(der, self.bits)
    }
}

impl AwsLcPublicKey {
    /// Reads a public key in any form [`PublicKey::parse`] accepts (PEM, DER or bare base64;
    /// SubjectPublicKeyInfo or PKCS#1) and imports it into AWS-LC.
    ///
    /// # Errors
    /// Those of [`PublicKey::parse`], and [`Error::BackendRejectedKey`] if AWS-LC refuses a
    /// key the parser accepted (not expected for an RSA key of 2048 to 4096 bits).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_key(&PublicKey::parse(bytes)?)
    }

    /// Imports a key already read by this crate.
    ///
    /// # Errors
    /// [`Error::BackendRejectedKey`] if AWS-LC refuses the key.
    pub fn from_key(key: &PublicKey) -> Result<Self, Error> {
        let der = key.to_pkcs1_der().map_err(|_| public_rejected())?;
        Self::from_der_checked(&der, key.bits())
    }

    fn from_der_checked(pkcs1_der: &[u8], bits: usize) -> Result<Self, Error> {
        let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pkcs1_der)
            .map_err(|_| public_rejected())?;
        Ok(Self { key, bits })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }
}

fn public_rejected() -> Error {
    Error::BackendRejectedKey {
        kind: KeyKind::Public,
        backend: BACKEND,
    }
}

/// SHA-256 of the content with AWS-LC's hash, fed part by part (the body is not copied).
fn sha256(content: &SignContent<'_>) -> Digest {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in content.parts() {
        context.update(part);
    }
    context.finish()
}

impl ContentSigner for AwsLcPrivateKey {
    fn sign(&self, content: &SignContent<'_>) -> Result<RsaSignature, Error> {
        let mut buffer = [0u8; MAX_SIGNATURE_LEN];
        let out = buffer
            .get_mut(..self.bits.div_ceil(8))
            .ok_or(Error::SigningFailed)?;
        // RSA_PKCS1_SHA256 prefixes the SHA-256 DigestInfo (PKCS#1 v1.5, RFC 8017 §9.2).
        self.key
            .sign_digest(&RSA_PKCS1_SHA256, &sha256(content), out)
            .map_err(|_| Error::SigningFailed)?;
        RsaSignature::from_slice(out)
    }
}

impl ContentVerifier for AwsLcPublicKey {
    fn verify(&self, content: &SignContent<'_>, signature: &[u8]) -> Result<(), Error> {
        if signature.len() != self.bits.div_ceil(8) {
            return Err(Error::VerificationFailed);
        }
        // Rebuilds the SHA-256 DigestInfo encoding and compares it whole: any other digest fails.
        self.key
            .verify_digest_sig(&sha256(content), signature)
            .map_err(|_| Error::VerificationFailed)
    }
}

impl core::fmt::Debug for AwsLcPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwsLcPrivateKey")
            .field("bits", &self.bits)
            .finish()
    }
}

impl core::fmt::Debug for AwsLcPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwsLcPublicKey")
            .field("bits", &self.bits)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn keys_are_thread_safe_values() {
        assert_send_sync::<AwsLcPrivateKey>();
        assert_send_sync::<AwsLcPublicKey>();
    }

    #[test]
    fn hash_matches_the_crate_hash() {
        let content = SignContent::request("POST", "/p?q=1", "c", "t", b"\xff\x00body");
        assert_eq!(sha256(&content).as_ref(), content.sha256());
    }
}
