//! Versioned records by space and id (table `records`): Auto Debit token sets (always sealed)
//! and, with the `operations` feature, declaration ledgers.

use alipayplus_types::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::ids::Version;
use crate::store::{Store, check_name};

const TABLE: &str = "records";
const TOKENS: &str = "token_set";

/// A record as stored, with its version for the next compare-and-swap write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredRecord<T> {
    /// The value.
    pub value: T,
    /// Its version.
    pub version: Version,
}

impl Store {
    pub(crate) fn get_record<T: DeserializeOwned>(
        &self,
        space: &'static str,
        id: &str,
        what: &'static str,
    ) -> Result<Option<StoredRecord<T>>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                "SELECT value, sealed, version FROM records WHERE space = ?1 AND id = ?2",
                &[space.into(), id.into()],
            )
        })?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(StoredRecord {
            value: self.decode(row.bytes(0)?, row.boolean(1)?, (TABLE, space, id), what)?,
            version: Version(row.int(2)?),
        }))
    }

    /// Inserts (`expected` `None`) or replaces at `expected` (compare-and-swap).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put_record<T: Serialize + ?Sized>(
        &self,
        space: &'static str,
        id: &str,
        expected: Option<Version>,
        value: &T,
        secret: bool,
        what: &'static str,
        now: Timestamp,
    ) -> Result<Version, Error> {
        check_name("record id", id)?;
        let (bytes, sealed) = self.encode(value, secret, (TABLE, space, id), what)?;
        let key = || format!("{space}/{id}");
        self.backend.transact(|tx| match expected {
            None => {
                let n = tx.execute(
                    "INSERT INTO records (space, id, value, sealed, version, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, 1, ?5) ON CONFLICT (space, id) DO NOTHING",
                    &[
                        space.into(),
                        id.into(),
                        bytes.into(),
                        sealed.into(),
                        now.unix_millis().into(),
                    ],
                )?;
                if n == 0 {
                    return Err(Error::Exists { what, key: key() });
                }
                Ok(Version(1))
            }
            Some(v) => {
                let n = tx.execute(
                    "UPDATE records SET value = ?1, sealed = ?2, version = version + 1, updated_at = ?3 \
                     WHERE space = ?4 AND id = ?5 AND version = ?6",
                    &[
                        bytes.into(),
                        sealed.into(),
                        now.unix_millis().into(),
                        space.into(),
                        id.into(),
                        v.0.into(),
                    ],
                )?;
                if n != 1 {
                    let found = tx
                        .query(
                            "SELECT version FROM records WHERE space = ?1 AND id = ?2",
                            &[space.into(), id.into()],
                        )?
                        .first()
                        .map(|r| r.int(0))
                        .transpose()?;
                    return Err(Error::Stale {
                        what,
                        key: key(),
                        expected: v.0,
                        found,
                    });
                }
                Ok(Version(v.0 + 1))
            }
        })
    }

    pub(crate) fn remove_record(
        &self,
        space: &'static str,
        id: &str,
        expected: Version,
        what: &'static str,
    ) -> Result<(), Error> {
        self.backend.transact(|tx| {
            let n = tx.execute(
                "DELETE FROM records WHERE space = ?1 AND id = ?2 AND version = ?3",
                &[space.into(), id.into(), expected.0.into()],
            )?;
            if n != 1 {
                return Err(Error::Stale {
                    what,
                    key: format!("{space}/{id}"),
                    expected: expected.0,
                    found: None,
                });
            }
            Ok(())
        })
    }

    /// The token set stored for `binding` (the merchant's id of the Auto Debit binding, e.g.
    /// its `authState` or customer id).
    ///
    /// # Errors
    /// [`Error::SealingKeyMissing`] without a sealing key; [`Error::Unseal`] with another key
    /// than the one it was stored with; [`Error::Deserialize`], [`Error::Database`].
    pub fn tokens<T: DeserializeOwned>(
        &self,
        binding: &str,
    ) -> Result<Option<StoredRecord<T>>, Error> {
        if self.sealing_key().is_none() {
            return Err(Error::SealingKeyMissing { what: "token set" });
        }
        self.get_record(TOKENS, binding, "token set")
    }

    /// Stores the token set of `binding` (e.g. `alipayplus_autodebit::TokenSet`), always
    /// sealed: new when `expected` is `None`, else replacing that version (a refresh).
    ///
    /// ```
    /// use alipayplus_store::{Error, Options, SealingKey, Store};
    /// use alipayplus_types::{Secret, Timestamp};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Tokens { access: Secret }
    ///
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// let plain = Store::open("sqlite::memory:", Options::default())?;
    /// let tokens = Tokens { access: Secret::new("AT-1") };
    /// assert!(matches!(plain.save_tokens("B-1", None, &tokens, t), Err(Error::SealingKeyMissing { .. })));
    ///
    /// let options = Options::default().with_sealing_key(SealingKey::from_bytes([9; 32]));
    /// let store = Store::open("sqlite::memory:", options)?;
    /// let v1 = store.save_tokens("B-1", None, &tokens, t)?;
    /// let back = store.tokens::<Tokens>("B-1")?.unwrap();
    /// assert_eq!((back.value.access.expose(), back.version), ("AT-1", v1));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::SealingKeyMissing`] without a sealing key (nothing stored); [`Error::Exists`] /
    /// [`Error::Stale`] when the stored version is not `expected`; [`Error::Database`].
    pub fn save_tokens<T: Serialize + ?Sized>(
        &self,
        binding: &str,
        expected: Option<Version>,
        tokens: &T,
        now: Timestamp,
    ) -> Result<Version, Error> {
        self.put_record(TOKENS, binding, expected, tokens, true, "token set", now)
    }

    /// Deletes the token set of `binding` at `expected` (cancelled, or bound again).
    ///
    /// # Errors
    /// [`Error::Stale`] when it is not at that version; [`Error::Database`].
    pub fn remove_tokens(&self, binding: &str, expected: Version) -> Result<(), Error> {
        self.remove_record(TOKENS, binding, expected, "token set")
    }
}
