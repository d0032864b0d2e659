//! The signing seam: two small object-safe traits any backend implements.
//!
//! The pure-Rust `rsa` backend ([`crate::PrivateKey`], [`crate::PublicKey`]) is the default; a
//! KMS/HSM client or another library implements the same traits. A backend receives the whole
//! [`SignContent`], so it may hash the parts itself (see [`SignContent::sha256`]) or hand the
//! parts to a service that hashes.

use crate::{Error, SignContent};

/// Largest signature handled: a 4096-bit RSA key gives 512 bytes.
pub const MAX_SIGNATURE_LEN: usize = 512;

/// A raw RSA signature of at most [`MAX_SIGNATURE_LEN`] bytes, held inline (no heap).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RsaSignature(heapless::Vec<u8, MAX_SIGNATURE_LEN>);

impl RsaSignature {
    /// Copies `bytes` into a signature value.
    ///
    /// # Errors
    /// [`Error::InvalidSignatureLength`] when `bytes` is empty or longer than
    /// [`MAX_SIGNATURE_LEN`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() {
            return Err(Error::InvalidSignatureLength { len: 0 });
        }
        heapless::Vec::from_slice(bytes)
            .map(Self)
            .map_err(|_| Error::InvalidSignatureLength { len: bytes.len() })
    }

    /// The signature bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (the key's modulus size: 256 for RSA-2048).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True only for the [`Default`] value, which no backend returns.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl AsRef<[u8]> for RsaSignature {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for RsaSignature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Signatures are public, but 512 bytes of hex help nobody in a log line.
        write!(f, "RsaSignature({} bytes)", self.0.len())
    }
}

/// Produces the RSA256 (SHA-256, PKCS#1 v1.5) signature of a content.
///
/// Object safe, so a client may hold a `Box<dyn ContentSigner>`.
pub trait ContentSigner {
    /// Signs `content` with SHA256withRSA.
    ///
    /// # Errors
    /// [`Error::SigningFailed`] (or a more specific error) when the backend cannot sign.
    fn sign(&self, content: &SignContent<'_>) -> Result<RsaSignature, Error>;
}

/// Checks an RSA256 signature of a content.
///
/// Implementations accept only a PKCS#1 v1.5 signature whose DigestInfo names SHA-256.
pub trait ContentVerifier {
    /// Verifies `signature` (raw bytes, already decoded from the header) over `content`.
    ///
    /// # Errors
    /// [`Error::VerificationFailed`] when the signature does not match.
    fn verify(&self, content: &SignContent<'_>, signature: &[u8]) -> Result<(), Error>;
}

impl<T: ContentSigner + ?Sized> ContentSigner for &T {
    fn sign(&self, content: &SignContent<'_>) -> Result<RsaSignature, Error> {
        (**self).sign(content)
    }
}

impl<T: ContentVerifier + ?Sized> ContentVerifier for &T {
    fn verify(&self, content: &SignContent<'_>, signature: &[u8]) -> Result<(), Error> {
        (**self).verify(content, signature)
    }
}

impl<T: ContentSigner + ?Sized> ContentSigner for alloc::boxed::Box<T> {
    fn sign(&self, content: &SignContent<'_>) -> Result<RsaSignature, Error> {
        (**self).sign(content)
    }
}

impl<T: ContentVerifier + ?Sized> ContentVerifier for alloc::boxed::Box<T> {
    fn verify(&self, content: &SignContent<'_>, signature: &[u8]) -> Result<(), Error> {
        (**self).verify(content, signature)
    }
}

#[cfg(target_has_atomic = "ptr")]
impl<T: ContentSigner + ?Sized> ContentSigner for alloc::sync::Arc<T> {
    fn sign(&self, content: &SignContent<'_>) -> Result<RsaSignature, Error> {
        (**self).sign(content)
    }
}

#[cfg(target_has_atomic = "ptr")]
impl<T: ContentVerifier + ?Sized> ContentVerifier for alloc::sync::Arc<T> {
    fn verify(&self, content: &SignContent<'_>, signature: &[u8]) -> Result<(), Error> {
        (**self).verify(content, signature)
    }
}
