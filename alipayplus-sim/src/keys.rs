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

/// File names of the bundled keys, relative to [`key_dir`].
pub mod file {
    /// Simulator private key (PEM).
    pub const SIM_PRIVATE: &str = "sim_private_pkcs8.pem";
    /// Simulator public key (PEM); bare base64 beside it as `sim_public_spki.b64`.
    pub const SIM_PUBLIC: &str = "sim_public_spki.pem";
    /// Test ACQP private key (PEM); bare base64 beside it as `acqp_private_pkcs8.b64`.
    pub const ACQP_PRIVATE: &str = "acqp_private_pkcs8.pem";
    /// Test ACQP public key (PEM).
    pub const ACQP_PUBLIC: &str = "acqp_public_spki.pem";
}

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
