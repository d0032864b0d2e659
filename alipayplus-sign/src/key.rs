//! RSA keys in every form an integrator may paste, and the default pure-Rust (`rsa` crate)
//! signing backend on them.
//!
//! | key | encodings | structures |
//! |---|---|---|
//! | [`PrivateKey`] | PEM, DER, bare base64 (one line, as the Alipay+ portal gives it) | PKCS#8, PKCS#1 |
//! | [`PublicKey`] | PEM, DER, bare base64 | SubjectPublicKeyInfo (X.509), PKCS#1 |
//!
//! [`PrivateKey::parse`] / [`PublicKey::parse`] detect the form; the `from_*` constructors take
//! one encoding and still try both structures. Keys under 2048 bits are refused (Alipay+ uses
//! RSA-2048), and keys over 4096 bits too (signatures must fit [`crate::MAX_SIGNATURE_LEN`]).
//!
//! Secrets: `Debug` shows only the key size, errors never include key bytes. The private key
//! lives in `rsa::PrivateKey`, which zeroizes its components on drop (`ZeroizeOnDrop`);
//! intermediate DER decoded here from base64 is held in `Zeroizing` buffers.

use alloc::vec::Vec;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::KeyKind;
use crate::signer::{ContentSigner, ContentVerifier, RsaSignature};
use crate::{Error, SignContent};

/// Smallest accepted modulus, in bits.
pub const MIN_KEY_BITS: usize = 2048;
/// Largest accepted modulus, in bits.
pub const MAX_KEY_BITS: usize = 4096;

const PRIVATE_TRIED: &str = "PEM (PRIVATE KEY = PKCS#8, RSA PRIVATE KEY = PKCS#1), DER (PKCS#8, PKCS#1), bare base64 of DER (PKCS#8, PKCS#1)";
const PUBLIC_TRIED: &str = "PEM (PUBLIC KEY = SubjectPublicKeyInfo, RSA PUBLIC KEY = PKCS#1), DER (SubjectPublicKeyInfo, PKCS#1), bare base64 of DER (SubjectPublicKeyInfo, PKCS#1)";

/// Our RSA private key, used to sign requests and our responses to inbound calls.
///
/// ```
/// use alipayplus_sign::{ContentSigner, PrivateKey, SignContent};
///
/// # let pem = include_bytes!("../tests/data/private_pkcs8.pem");
/// let key = PrivateKey::parse(pem)?; // PEM, DER or bare base64; PKCS#8 or PKCS#1
/// assert_eq!(format!("{key:?}"), "PrivateKey { bits: 2048 }");
/// let content = SignContent::request("POST", "/aps/api/v1/payments/pay", "C", "T", b"{}");
/// assert_eq!(key.sign(&content)?.len(), 256);
/// # Ok::<(), alipayplus_sign::Error>(())
/// ```
#[derive(Clone)]
pub struct PrivateKey {
    key: SigningKey<Sha256>,
    bits: usize,
}

/// An RSA public key (normally Alipay+'s), used to verify responses and notifications.
///
/// Verification accepts only PKCS#1 v1.5 signatures whose DigestInfo names SHA-256.
#[derive(Clone)]
pub struct PublicKey {
    key: VerifyingKey<Sha256>,
    bits: usize,
}

/// What the key bytes looked like, for error messages.
#[derive(Clone, Copy)]
enum Encoding {
    Pem,
    Der,
    Base64,
}

impl Encoding {
    fn detect(bytes: &[u8]) -> Self {
        let trimmed = bytes.trim_ascii_start();
        if trimmed.starts_with(b"-----BEGIN") {
            Encoding::Pem
        } else if trimmed.first() == Some(&0x30) {
            // DER SEQUENCE tag; `0` is not a base64 character, so no overlap.
            Encoding::Der
        } else {
            Encoding::Base64
        }
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Pem => "PEM",
            Encoding::Der => "DER",
            Encoding::Base64 => "base64",
        }
    }
}

/// The label of the first PEM block (`RSA PRIVATE KEY` in `-----BEGIN RSA PRIVATE KEY-----`).
fn pem_label(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix("-----BEGIN ")?;
    rest.split_once("-----").map(|(label, _)| label)
}

/// Decodes bare base64 (any ASCII whitespace, e.g. line breaks, ignored) into zeroized memory.
///
/// Both buffers are `Zeroizing` and allocated once at their final size: a buffer that grew
/// would be moved by the allocator, leaving an unwiped copy of the key text behind.
fn decode_base64(bytes: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut compact: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::with_capacity(bytes.len()));
    compact.extend(bytes.iter().copied().filter(|b| !b.is_ascii_whitespace()));
    if compact.is_empty() {
        return None;
    }
    // Decoded length is at most 3/4 of the text (padding makes it less).
    let mut der: Zeroizing<Vec<u8>> = Zeroizing::new(alloc::vec![0u8; compact.len() / 4 * 3 + 3]);
    let len = STANDARD_PAD_INDIFFERENT
        .decode_slice(compact.as_slice(), der.as_mut_slice())
        .ok()?;
    der.truncate(len);
    Some(der)
}

impl PrivateKey {
    /// Reads a private key in any supported form: PEM (`PRIVATE KEY` or `RSA PRIVATE KEY`),
    /// DER, or bare base64 of the DER; PKCS#8 or PKCS#1.
    ///
    /// # Errors
    /// [`Error::UnrecognizedKey`] listing the forms tried, [`Error::EncryptedKey`],
    /// [`Error::KeyTooSmall`], [`Error::KeyTooLarge`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        match Encoding::detect(bytes) {
            Encoding::Pem => {
                let text =
                    core::str::from_utf8(bytes).map_err(|_| unrecognized_private(Encoding::Pem))?;
                Self::from_pem(text)
            }
            Encoding::Der => Self::from_der(bytes),
            Encoding::Base64 => Self::from_base64_bytes(bytes),
        }
    }

    /// Reads a PEM private key (`BEGIN PRIVATE KEY` = PKCS#8, `BEGIN RSA PRIVATE KEY` = PKCS#1).
    ///
    /// # Errors
    /// As [`PrivateKey::parse`].
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let pem = pem.trim();
        let key = match pem_label(pem) {
            Some("PRIVATE KEY") => RsaPrivateKey::from_pkcs8_pem(pem).ok(),
            Some("RSA PRIVATE KEY") => RsaPrivateKey::from_pkcs1_pem(pem).ok(),
            Some("ENCRYPTED PRIVATE KEY") => return Err(Error::EncryptedKey),
            _ => None,
        };
        Self::checked(key.ok_or(unrecognized_private(Encoding::Pem))?)
    }

    /// Reads a DER private key, PKCS#8 or PKCS#1.
    ///
    /// # Errors
    /// As [`PrivateKey::parse`].
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        Self::from_der_as(der, Encoding::Der)
    }

    /// Reads a private key given as bare base64 of its DER (PKCS#8 or PKCS#1), the form the
    /// Alipay+ Developer Center hands out. Line breaks and spaces are ignored.
    ///
    /// # Errors
    /// As [`PrivateKey::parse`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        Self::from_base64_bytes(text.as_bytes())
    }

    fn from_base64_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let der = decode_base64(bytes).ok_or(unrecognized_private(Encoding::Base64))?;
        Self::from_der_as(&der, Encoding::Base64)
    }

    fn from_der_as(der: &[u8], seen: Encoding) -> Result<Self, Error> {
        let key = RsaPrivateKey::from_pkcs8_der(der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(der))
            .map_err(|_| unrecognized_private(seen))?;
        Self::checked(key)
    }

    fn checked(key: RsaPrivateKey) -> Result<Self, Error> {
        let bits = check_bits(key.as_ref(), KeyKind::Private)?;
        Ok(Self {
            key: SigningKey::new(key),
            bits,
        })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        let key: &RsaPrivateKey = self.key.as_ref();
        PublicKey {
            key: VerifyingKey::new(key.to_public_key()),
            bits: self.bits,
        }
    }

    /// The key as PKCS#8 DER in a buffer wiped on drop (to hand it to another backend, such as
    /// a hardware or C library signer, without re-reading the file).
    ///
    /// # Errors
    /// [`Error::SigningFailed`] if the key cannot be encoded (not expected for a loaded key).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let key: &RsaPrivateKey = self.key.as_ref();
        let doc = key.to_pkcs8_der().map_err(|_| Error::SigningFailed)?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }
}

impl PublicKey {
    /// Reads a public key in any supported form: PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`), DER,
    /// or bare base64 of the DER; SubjectPublicKeyInfo or PKCS#1.
    ///
    /// # Errors
    /// [`Error::UnrecognizedKey`] listing the forms tried, [`Error::KeyTooSmall`],
    /// [`Error::KeyTooLarge`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        match Encoding::detect(bytes) {
            Encoding::Pem => {
                let text =
                    core::str::from_utf8(bytes).map_err(|_| unrecognized_public(Encoding::Pem))?;
                Self::from_pem(text)
            }
            Encoding::Der => Self::from_der(bytes),
            Encoding::Base64 => Self::from_base64_bytes(bytes),
        }
    }

    /// Reads a PEM public key (`BEGIN PUBLIC KEY` = SubjectPublicKeyInfo, `BEGIN RSA PUBLIC
    /// KEY` = PKCS#1).
    ///
    /// # Errors
    /// As [`PublicKey::parse`].
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let pem = pem.trim();
        let key = match pem_label(pem) {
            Some("PUBLIC KEY") => RsaPublicKey::from_public_key_pem(pem).ok(),
            Some("RSA PUBLIC KEY") => RsaPublicKey::from_pkcs1_pem(pem).ok(),
            _ => None,
        };
        Self::checked(key.ok_or(unrecognized_public(Encoding::Pem))?)
    }

    /// Reads a DER public key, SubjectPublicKeyInfo or PKCS#1.
    ///
    /// # Errors
    /// As [`PublicKey::parse`].
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        Self::from_der_as(der, Encoding::Der)
    }

    /// Reads a public key given as bare base64 of its DER, the form the Alipay+ Developer
    /// Center hands out. Line breaks and spaces are ignored.
    ///
    /// # Errors
    /// As [`PublicKey::parse`].
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        Self::from_base64_bytes(text.as_bytes())
    }

    fn from_base64_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let der = decode_base64(bytes).ok_or(unrecognized_public(Encoding::Base64))?;
        Self::from_der_as(&der, Encoding::Base64)
    }

    fn from_der_as(der: &[u8], seen: Encoding) -> Result<Self, Error> {
        let key = RsaPublicKey::from_public_key_der(der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(der))
            .map_err(|_| unrecognized_public(seen))?;
        Self::checked(key)
    }

    fn checked(key: RsaPublicKey) -> Result<Self, Error> {
        let bits = check_bits(&key, KeyKind::Public)?;
        Ok(Self {
            key: VerifyingKey::new(key),
            bits,
        })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The key as SubjectPublicKeyInfo DER (to hand it to another backend).
    ///
    /// # Errors
    /// [`Error::VerificationFailed`] if the key cannot be encoded (not expected).
    pub fn to_spki_der(&self) -> Result<Vec<u8>, Error> {
        let key: &RsaPublicKey = self.key.as_ref();
        let doc = key
            .to_public_key_der()
            .map_err(|_| Error::VerificationFailed)?;
        Ok(doc.as_bytes().to_vec())
    }

    /// The key as PKCS#1 `RSAPublicKey` DER (the form some libraries take, e.g. aws-lc/ring).
    ///
    /// # Errors
    /// [`Error::VerificationFailed`] if the key cannot be encoded (not expected).
    pub fn to_pkcs1_der(&self) -> Result<Vec<u8>, Error> {
        let key: &RsaPublicKey = self.key.as_ref();
        let doc = key.to_pkcs1_der().map_err(|_| Error::VerificationFailed)?;
        Ok(doc.as_bytes().to_vec())
    }
}

fn unrecognized_private(seen: Encoding) -> Error {
    Error::UnrecognizedKey {
        kind: KeyKind::Private,
        looked_like: seen.name(),
        tried: PRIVATE_TRIED,
    }
}

fn unrecognized_public(seen: Encoding) -> Error {
    Error::UnrecognizedKey {
        kind: KeyKind::Public,
        looked_like: seen.name(),
        tried: PUBLIC_TRIED,
    }
}

fn check_bits(key: &RsaPublicKey, kind: KeyKind) -> Result<usize, Error> {
    let bits = usize::try_from(key.n().bit_width()).unwrap_or(usize::MAX);
    if bits < MIN_KEY_BITS {
        return Err(Error::KeyTooSmall { kind, bits });
    }
    if bits > MAX_KEY_BITS {
        return Err(Error::KeyTooLarge { kind, bits });
    }
    Ok(bits)
}

impl core::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("bits", &self.bits)
            .finish()
    }
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits)
            .finish()
    }
}

// ---- Default backend: the pure-Rust `rsa` crate ----

impl ContentSigner for PrivateKey {
    fn sign(&self, content: &SignContent<'_>) -> Result<RsaSignature, Error> {
        let digest = content.sha256();
        // SigningKey<Sha256> prefixes the SHA-256 DigestInfo (PKCS#1 v1.5, RFC 8017 §9.2).
        let signature: Signature = self
            .key
            .sign_prehash(&digest)
            .map_err(|_| Error::SigningFailed)?;
        let bytes: alloc::boxed::Box<[u8]> = signature.into();
        RsaSignature::from_slice(&bytes)
    }
}

impl ContentVerifier for PublicKey {
    fn verify(&self, content: &SignContent<'_>, signature: &[u8]) -> Result<(), Error> {
        if signature.len() != self.bits.div_ceil(8) {
            return Err(Error::VerificationFailed);
        }
        let signature = Signature::try_from(signature).map_err(|_| Error::VerificationFailed)?;
        // VerifyingKey<Sha256> rebuilds the full encoded message with the SHA-256 DigestInfo
        // and compares it, so a signature over any other digest (SHA-1, SHA-512) fails.
        self.key
            .verify_prehash(&content.sha256(), &signature)
            .map_err(|_| Error::VerificationFailed)
    }
}
