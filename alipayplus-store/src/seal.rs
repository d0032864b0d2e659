//! [`SealingKey`]: AES-256-GCM over stored secrets (ring).
//!
//! A sealed value is `1 | nonce (12 bytes) | ciphertext | tag (16 bytes)`. Nonces are random
//! (96 bits), so one key must seal fewer than 2^32 values (NIST SP 800-38D's bound for random
//! nonces): far above a merchant's token writes, but rotate the key long before. The
//! associated data names the table, the kind and the id of the row, so a sealed value moved to
//! another row does not open.

use core::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroize;

use crate::error::Error;

const FORMAT: u8 = 1;

/// The caller's 256-bit key for the secrets the store holds (access and refresh tokens).
///
/// Keep it outside the database (a secret manager, an environment variable); losing it makes
/// the sealed rows unreadable, which is the point. `Debug` prints no key material.
///
/// ```
/// use alipayplus_store::SealingKey;
///
/// let key = SealingKey::from_bytes([7u8; 32]);
/// assert_eq!(format!("{key:?}"), "SealingKey(AES-256-GCM, redacted)");
/// assert!(SealingKey::from_slice(&[0u8; 16]).is_err());
/// ```
pub struct SealingKey {
    key: LessSafeKey,
}

impl SealingKey {
    /// The key made of these 32 bytes (the array is wiped after use).
    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map(LessSafeKey::new);
        bytes.zeroize();
        // 32 bytes is always a valid AES-256 key.
        SealingKey {
            key: key.unwrap_or_else(|_| unreachable!("AES-256 takes any 32 bytes")),
        }
    }

    /// The key made of `bytes`, which must be 32 bytes long.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidInput {
            what: "sealing key",
            reason: "must be exactly 32 bytes",
        })?;
        Ok(Self::from_bytes(array))
    }

    pub(crate) fn seal(&self, aad: &[u8], plain: Vec<u8>) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| Error::Random)?;
        let mut in_out = plain;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut in_out,
            )
            .map_err(|_| Error::Random)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&in_out);
        in_out.zeroize();
        Ok(out)
    }

    pub(crate) fn open(
        &self,
        aad: &[u8],
        sealed: &[u8],
        what: &'static str,
    ) -> Result<Vec<u8>, Error> {
        let unseal = || Error::Unseal { what };
        let (format, rest) = sealed.split_first().ok_or_else(unseal)?;
        if *format != FORMAT || rest.len() < NONCE_LEN {
            return Err(unseal());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unseal())?;
        let mut buf = ciphertext.to_vec();
        let len = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| unseal())?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(AES-256-GCM, redacted)")
    }
}

/// The associated data binding a sealed value to its row.
pub(crate) fn row_aad(table: &str, kind: &str, id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(table.len() + kind.len() + id.len() + 2);
    for (i, part) in [table, kind, id].into_iter().enumerate() {
        if i > 0 {
            aad.push(0);
        }
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}
