//! The one error type of this crate.

/// Which kind of key a key error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Our RSA private key (PKCS#8 or PKCS#1).
    Private,
    /// An RSA public key (SubjectPublicKeyInfo or PKCS#1), usually Alipay+'s.
    Public,
}

impl core::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            KeyKind::Private => "private",
            KeyKind::Public => "public",
        })
    }
}

/// Everything that can go wrong while building, signing or verifying an Alipay+ message.
///
/// Messages name what is wrong and what to do; they never contain key material, and never echo
/// untrusted header text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- Signature header ----
    /// The `Signature` header has no `signature=` pair, or its value is empty.
    #[error(
        "the Signature header carries no signature value; the message is unsigned and must be rejected"
    )]
    MissingSignature,
    /// The `Signature` header has no `algorithm=` pair.
    #[error("the Signature header has no algorithm pair; expected algorithm=RSA256")]
    MissingAlgorithm,
    /// The `algorithm` value is not `RSA256`.
    #[error("the Signature header names an algorithm other than RSA256, the only one Alipay+ uses")]
    UnsupportedAlgorithm,
    /// A comma-separated part of the header is not `key=value` (no `=`, or an empty key).
    #[error("the Signature header has a malformed pair (expected key=value, separated by commas)")]
    MalformedPair,
    /// A header key such as `signature` occurs twice; refused because the meaning is ambiguous.
    #[error("the Signature header repeats the `{field}` pair; send it once")]
    DuplicateField {
        /// The repeated key, as documented (`algorithm`, `keyVersion`, `signature`).
        field: &'static str,
    },
    /// A value in the header is longer than any valid value can be.
    #[error("the `{field}` value in the Signature header is longer than {max} characters")]
    ValueTooLong {
        /// The key whose value is too long.
        field: &'static str,
        /// The longest accepted value, in characters.
        max: usize,
    },
    /// The whole header value is longer than any valid header can be.
    #[error("the Signature header is longer than {max} characters")]
    HeaderTooLong {
        /// The longest accepted header value, in characters.
        max: usize,
    },
    /// `keyVersion` is not a non-negative integer that fits in 32 bits.
    #[error("keyVersion in the Signature header must be a non-negative integer")]
    InvalidKeyVersion,
    /// A `%` in the signature value is not followed by two hex digits, or decodes to a byte that
    /// cannot appear in base64.
    #[error("the signature value has an invalid percent-escape")]
    InvalidPercentEncoding,
    /// The signature value is not base64 (standard or url-safe alphabet, padded or not).
    #[error("the signature value is not valid base64")]
    InvalidBase64,
    /// A signature has a length no supported RSA key produces.
    #[error("a signature of {len} bytes is not possible for 2048- to 4096-bit RSA keys")]
    InvalidSignatureLength {
        /// The length received, in bytes.
        len: usize,
    },

    // ---- Keys ----
    /// The key bytes fit none of the supported forms.
    #[error("could not read the {kind} key: it looked like {looked_like}; tried {tried}")]
    UnrecognizedKey {
        /// Private or public.
        kind: KeyKind,
        /// What the input looked like (PEM, DER or base64).
        looked_like: &'static str,
        /// The forms that were tried, in order.
        tried: &'static str,
    },
    /// A PEM private key is encrypted.
    #[error(
        "the private key is encrypted (BEGIN ENCRYPTED PRIVATE KEY); decrypt it first, e.g. `openssl pkcs8 -in key.pem -nocrypt -out plain.pem`"
    )]
    EncryptedKey,
    /// The RSA key is shorter than 2048 bits.
    #[error("the {kind} RSA key has {bits} bits; Alipay+ keys must have at least 2048")]
    KeyTooSmall {
        /// Private or public.
        kind: KeyKind,
        /// The modulus size of the rejected key.
        bits: usize,
    },
    /// The RSA key is longer than 4096 bits (signatures must fit a 512-byte buffer).
    #[error("the {kind} RSA key has {bits} bits; at most 4096 are supported")]
    KeyTooLarge {
        /// Private or public.
        kind: KeyKind,
        /// The modulus size of the rejected key.
        bits: usize,
    },
    /// A signing backend other than the default (the `aws-lc` feature) refused a key that this
    /// crate's parser accepted.
    #[error(
        "the {backend} backend refused the {kind} RSA key that the key parser accepted; use the default backend or report the key's form"
    )]
    BackendRejectedKey {
        /// Private or public.
        kind: KeyKind,
        /// The backend's name, e.g. `aws-lc`.
        backend: &'static str,
    },

    // ---- Signing and verification ----
    /// The signature does not match the content under the public key.
    #[error(
        "signature verification failed: the method, URI, Client-Id, time, body or key differ from what was signed"
    )]
    VerificationFailed,
    /// The signing backend failed (for a KMS/HSM backend: it could not be reached or refused).
    #[error("the signing backend failed to produce a signature")]
    SigningFailed,

    // ---- Message level ----
    /// A header the protocol requires is absent: the message cannot be verified.
    #[error("the `{0}` header is missing; the message cannot be verified and must be rejected")]
    MissingHeader(&'static str),
    /// A header the protocol uses occurs twice; refused because the meaning is ambiguous.
    #[error("the `{0}` header occurs more than once; refused as ambiguous")]
    DuplicateHeader(&'static str),
    /// A header value is not valid UTF-8 text.
    #[error("the `{0}` header value is not valid UTF-8 text")]
    InvalidHeaderValue(&'static str),
    /// Several public keys are configured and none has the header's keyVersion.
    #[error("no Alipay+ public key is configured for keyVersion {0}; add the key for that version")]
    UnknownKeyVersion(u32),
    /// No public key is configured at all.
    #[error("no Alipay+ public key is configured; add one before verifying")]
    NoPublicKeys,
    /// The public-key set already has a key for this keyVersion.
    #[error("a public key for keyVersion {0} is already configured")]
    DuplicateKeyVersion(u32),
    /// The public-key set holds its maximum number of keys.
    #[error("at most {max} Alipay+ public keys can be configured")]
    TooManyPublicKeys {
        /// The capacity of the set.
        max: usize,
    },
}
