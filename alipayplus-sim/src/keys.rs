//! The bundled key pairs (files in `keys/`): the simulator's own identity and a test ACQP.
//!
//! Both are public test material made for the simulator (not the signing-vector keys of
//! `alipayplus-sign`). `cargo xtask sim` prints the paths so another stack can use them.

use alipayplus_sign::{PrivateKey, PublicKey};

use crate::Error;

/// The simulator's private key (PKCS#8 PEM): signs responses and notifications.
pub const SIM_PRIVATE_PEM: &str = include_str!("../keys/sim_private_pkcs8.pem");
/// The simulator's public key (SPKI PEM): the "Alipay+ public key" an ACQP configures.
pub const SIM_PUBLIC_PEM: &str = include_str!("../keys/sim_public_spki.pem");
/// The test ACQP's private key (PKCS#8 PEM): signs requests and acknowledgements.
pub const ACQP_PRIVATE_PEM: &str = include_str!("../keys/acqp_private_pkcs8.pem");
/// The test ACQP's public key (SPKI PEM): the simulator verifies the ACQP with it.
pub const ACQP_PUBLIC_PEM: &str = include_str!("../keys/acqp_public_spki.pem");

/// The test ACQP's private key as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`): the same key as
/// [`ACQP_PRIVATE_PEM`], in the form the official Python SDK loads (it wraps whatever it is
/// given in PKCS#1 armour).
pub const ACQP_PRIVATE_PKCS1_PEM: &str = include_str!("../keys/acqp_private_pkcs1.pem");

/// File names of the bundled keys, relative to [`key_dir`]. Every form of one key holds the
/// same key; which client needs which is in [`CLIENT_FORMS`] and `keys/README.md`.
pub mod file {
    /// Simulator private key (PEM).
    pub const SIM_PRIVATE: &str = "sim_private_pkcs8.pem";
    /// Simulator public key (PEM); bare base64 beside it as `sim_public_spki.b64`.
    pub const SIM_PUBLIC: &str = "sim_public_spki.pem";
    /// Simulator public key as bare base64 of the SubjectPublicKeyInfo DER.
    pub const SIM_PUBLIC_B64: &str = "sim_public_spki.b64";
    /// Simulator public key as PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`).
    pub const SIM_PUBLIC_PKCS1: &str = "sim_public_pkcs1.pem";
    /// Test ACQP private key (PEM); bare base64 beside it as `acqp_private_pkcs8.b64`.
    pub const ACQP_PRIVATE: &str = "acqp_private_pkcs8.pem";
    /// Test ACQP private key as bare base64 of the PKCS#8 DER.
    pub const ACQP_PRIVATE_B64: &str = "acqp_private_pkcs8.b64";
    /// Test ACQP private key as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
    pub const ACQP_PRIVATE_PKCS1: &str = "acqp_private_pkcs1.pem";
    /// Test ACQP private key as bare base64 of the PKCS#1 DER.
    pub const ACQP_PRIVATE_PKCS1_B64: &str = "acqp_private_pkcs1.b64";
    /// Test ACQP public key (PEM).
    pub const ACQP_PUBLIC: &str = "acqp_public_spki.pem";
}

/// Which key files a kind of client loads: (client, ACQP private key file, simulator public
/// key file). `cargo xtask sim` prints this table.
pub const CLIENT_FORMS: [(&str, &str, &str); 4] = [
    ("alipayplus-rs", file::ACQP_PRIVATE, file::SIM_PUBLIC),
    (
        "official Python SDK (ant-intl-alipayplus-mcp)",
        file::ACQP_PRIVATE_PKCS1,
        file::SIM_PUBLIC,
    ),
    (
        "Alipay Java SDK (bare base64 strings)",
        file::ACQP_PRIVATE_B64,
        file::SIM_PUBLIC_B64,
    ),
    (
        "OpenSSL-based (PHP, Node, curl + openssl dgst)",
        file::ACQP_PRIVATE,
        file::SIM_PUBLIC,
    ),
];

/// Directory holding the key files in the source tree.
pub fn key_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys")
}

/// The simulator's bundled private key.
///
/// # Errors
/// [`Error::Key`] if the bundled file does not parse (a broken checkout).
pub fn sim_private_key() -> Result<PrivateKey, Error> {
    PrivateKey::from_pem(SIM_PRIVATE_PEM).map_err(Error::Key)
}

/// The simulator's bundled public key.
///
/// # Errors
/// As [`sim_private_key`].
pub fn sim_public_key() -> Result<PublicKey, Error> {
    PublicKey::from_pem(SIM_PUBLIC_PEM).map_err(Error::Key)
}

/// The test ACQP's bundled private key.
///
/// # Errors
/// As [`sim_private_key`].
pub fn acqp_private_key() -> Result<PrivateKey, Error> {
    PrivateKey::from_pem(ACQP_PRIVATE_PEM).map_err(Error::Key)
}

/// The test ACQP's bundled public key.
///
/// # Errors
/// As [`sim_private_key`].
pub fn acqp_public_key() -> Result<PublicKey, Error> {
    PublicKey::from_pem(ACQP_PUBLIC_PEM).map_err(Error::Key)
}
