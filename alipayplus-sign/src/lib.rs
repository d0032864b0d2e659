//! Alipay+ RSA256 message signing and verification for both directions.
//!
//! Every Alipay+ request and response is signed with SHA256withRSA (RSASSA-PKCS1-v1_5) over a
//! content string `METHOD URI\nCLIENT-ID.TIME.BODY`, and the signature travels in a `Signature`
//! header as percent-encoded base64 (common.md §2).
//!
//! - [`content`]: [`SignContent`], the content to be signed, hashed in place.
//! - [`header`]: [`SignatureHeader`], formatted into a fixed buffer and parsed leniently.
//! - [`key`]: [`PrivateKey`] and [`PublicKey`] in PEM, DER or bare base64, PKCS#8/SPKI/PKCS#1;
//!   they are also the default signing backend (the pure-Rust `rsa` crate).
//! - [`ContentSigner`] / [`ContentVerifier`]: the seam where another backend (KMS, HSM, a C
//!   library) plugs in.
//! - `aws_lc` (feature `aws-lc`, needs `std`): `AwsLcPrivateKey` / `AwsLcPublicKey`, the same
//!   signer and verifier on aws-lc-rs, several times faster than the default backend.
//! - [`message`]: sign requests and our responses, verify responses and inbound requests, with
//!   several Alipay+ public keys chosen by keyVersion ([`PublicKeys`]).
//!
//! ```
//! use alipayplus_sign::{message, PrivateKey, PublicKeys};
//!
//! # let pem = include_bytes!("../tests/data/private_pkcs8.pem");
//! let key = PrivateKey::parse(pem)?;
//! let body = br#"{"paymentRequestId":"pay_1"}"#;
//! let header = message::sign_request(
//!     &key, 1, "POST", "/aps/api/v1/payments/pay", "CLIENT", "2025-02-20T08:51:49Z", body,
//! )?;
//! // put `header.as_str()` in the `Signature` header
//!
//! // Verifying a response with Alipay+'s public key (here: ours, for the example).
//! let keys = PublicKeys::single(1, key.public_key());
//! let response_body = br#"{"result":{"resultStatus":"S"}}"#;
//! let signed = message::sign_response(
//!     &key, 1, "POST", "/aps/api/v1/payments/pay", "CLIENT", "2025-02-20T08:51:50Z", response_body,
//! )?;
//! let headers = [
//!     ("Signature", signed.as_str().as_bytes()),
//!     ("Client-Id", b"CLIENT".as_slice()),
//!     ("Response-Time", b"2025-02-20T08:51:50Z".as_slice()),
//! ];
//! let verified =
//!     message::verify_response(&keys, "POST", "/aps/api/v1/payments/pay", headers, response_body)?;
//! assert_eq!(verified.key_version, 1);
//! # Ok::<(), alipayplus_sign::Error>(())
//! ```
//!
//! `no_std`: the crate needs `alloc` (for the `rsa` backend and key parsing) but not `std`. The
//! non-RSA path (content, SHA-256, base64, percent-encoding, header) never allocates. The
//! default `std` feature adds `SignContent::write_io` and RSA blinding with OS randomness.
#![no_std]
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "aws-lc")]
pub mod aws_lc;
pub mod content;
mod error;
pub mod header;
pub mod key;
pub mod message;
mod signer;

#[cfg(feature = "aws-lc")]
pub use aws_lc::{AwsLcPrivateKey, AwsLcPublicKey};
pub use content::SignContent;
pub use error::{Error, KeyKind};
pub use header::{ParsedSignatureHeader, SignatureHeader};
pub use key::{PrivateKey, PublicKey};
pub use message::{PublicKeys, Verified};
pub use signer::{ContentSigner, ContentVerifier, MAX_SIGNATURE_LEN, RsaSignature};
