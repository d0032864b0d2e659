//! [`Store`]: opening, options, and the encoding shared by every table.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{Backend, Durability};
use crate::error::Error;
use crate::schema;
use crate::seal::{SealingKey, row_aad};

/// How to open a [`Store`].
///
/// ```
/// use std::time::Duration;
/// use alipayplus_store::{Durability, Options, SealingKey};
///
/// let options = Options::default()
///     .with_durability(Durability::Full)
///     .with_sealing_key(SealingKey::from_bytes([42u8; 32]));
/// assert_eq!(options.busy_timeout, Duration::from_secs(5));
/// assert_eq!(options.durability, Durability::Full);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Options {
    /// The commit durability; [`Durability::Normal`] by default.
    pub durability: Durability,
    /// The key sealing access and refresh tokens. Without one, storing or reading a value
    /// that holds secrets fails with [`Error::SealingKeyMissing`].
    pub sealing_key: Option<SealingKey>,
    /// How long a write waits for another connection's write to finish (5 s by default).
    pub busy_timeout: Duration,
}

impl Options {
    /// With this commit durability.
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// With this sealing key.
    pub fn with_sealing_key(mut self, key: SealingKey) -> Self {
        self.sealing_key = Some(key);
        self
    }

    /// With this busy timeout.
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Normal,
            sealing_key: None,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// The durable store: one database, used from any thread (`Store` is `Send + Sync`; calls
/// are serialized on its connection). Several `Store`s may open the same SQLite file, in one
/// process or several (a listener and a worker); writes then take turns.
///
/// See the [crate docs](crate) for what is stored and the write-ahead rules.
pub struct Store {
    pub(crate) backend: Backend,
    key: Option<SealingKey>,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.backend.dialect())
            .field("sealing_key", &self.key.as_ref().map(|_| "set"))
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema to
    /// [`schema::SCHEMA_VERSION`].
    ///
    /// `url`: `sqlite:PATH` (relative or absolute; `sqlite:///abs/path` also works) or
    /// `sqlite::memory:` (private to this `Store`, gone when it drops), or, with feature
    /// `postgres`, `postgres://USER@HOST:PORT/DB` (any parameter of libpq's URL form that the
    /// `postgres` crate reads, e.g. `?options=-c%20search_path%3Dshop`; `postgresql://` too).
    /// A `Store` holds one connection; open one per worker thread that should run in parallel.
    /// [`Options::busy_timeout`] is the PostgreSQL session's `lock_timeout`.
    ///
    /// ```
    /// use alipayplus_store::{Error, Options, Store};
    ///
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// # #[cfg(not(feature = "postgres"))]
    /// assert!(matches!(
    ///     Store::open("postgres://localhost/shop", Options::default()),
    ///     Err(Error::BackendUnavailable { .. })
    /// ));
    /// assert!(matches!(Store::open("mysql://x", Options::default()), Err(Error::Url { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Url`], [`Error::BackendUnavailable`] (a `postgres://` URL without feature
    /// `postgres`), [`Error::Database`] (the file cannot be opened or is not a database, the
    /// server cannot be reached or refuses the login), [`Error::SchemaTooNew`].
    pub fn open(url: &str, options: Options) -> Result<Self, Error> {
        let backend = match parse_url(url)? {
            Target::SqliteMemory => {
                Backend::open_sqlite(None, options.durability, options.busy_timeout)?
            }
            Target::SqliteFile(path) => {
                Backend::open_sqlite(Some(path), options.durability, options.busy_timeout)?
            }
            #[cfg(feature = "postgres")]
            Target::Postgres(url) => {
                Backend::open_postgres(url, options.durability, options.busy_timeout)?
            }
            #[cfg(not(feature = "postgres"))]
            Target::Postgres(_) => {
                return Err(Error::BackendUnavailable {
                    scheme: String::from("postgres"),
                });
            }
        };
        schema::migrate(&backend)?;
        Ok(Store {
            backend,
            key: options.sealing_key,
        })
    }

    /// The schema version of the open database (always [`schema::SCHEMA_VERSION`] after
    /// [`Store::open`]).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn schema_version(&self) -> Result<i64, Error> {
        self.backend.transact(|tx| {
            let rows = tx.query("SELECT version FROM schema_version", &[])?;
            rows.first()
                .ok_or_else(|| Error::Corrupt {
                    what: String::from("schema_version is empty"),
                })?
                .int(0)
        })
    }

    /// The commit durability in force (read back from the database connection).
    ///
    /// ```
    /// use alipayplus_store::{Durability, Options, Store};
    ///
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// assert_eq!(store.durability()?, Durability::Normal);
    /// # Ok::<(), alipayplus_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn durability(&self) -> Result<Durability, Error> {
        self.backend.durability()
    }

    pub(crate) fn sealing_key(&self) -> Option<&SealingKey> {
        self.key.as_ref()
    }

    /// Serializes `value`, sealed when `secret`. Returns the bytes and whether they are sealed.
    pub(crate) fn encode<S: Serialize + ?Sized>(
        &self,
        value: &S,
        secret: bool,
        aad: (&str, &str, &str),
        what: &'static str,
    ) -> Result<(Vec<u8>, bool), Error> {
        let key = match (secret, &self.key) {
            (false, _) => None,
            (true, Some(key)) => Some(key),
            (true, None) => return Err(Error::SealingKeyMissing { what }),
        };
        let plain =
            serde_json::to_vec(value).map_err(|source| Error::Serialize { what, source })?;
        match key {
            None => Ok((plain, false)),
            Some(key) => Ok((key.seal(&row_aad(aad.0, aad.1, aad.2), plain)?, true)),
        }
    }

    /// Opens (when `sealed`) the stored bytes.
    pub(crate) fn open_bytes(
        &self,
        bytes: Vec<u8>,
        sealed: bool,
        aad: (&str, &str, &str),
        what: &'static str,
    ) -> Result<Vec<u8>, Error> {
        if !sealed {
            return Ok(bytes);
        }
        let key = self.key.as_ref().ok_or(Error::SealingKeyMissing { what })?;
        key.open(&row_aad(aad.0, aad.1, aad.2), &bytes, what)
    }

    /// Opens and deserializes stored bytes.
    pub(crate) fn decode<S: DeserializeOwned>(
        &self,
        bytes: Vec<u8>,
        sealed: bool,
        aad: (&str, &str, &str),
        what: &'static str,
    ) -> Result<S, Error> {
        let plain = self.open_bytes(bytes, sealed, aad, what)?;
        let out =
            serde_json::from_slice(&plain).map_err(|source| Error::Deserialize { what, source });
        if sealed {
            let mut plain = plain;
            zeroize::Zeroize::zeroize(&mut plain);
        }
        out
    }
}

enum Target<'a> {
    SqliteMemory,
    SqliteFile(PathBuf),
    // The URL is read only with feature `postgres`.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres(&'a str),
}

fn parse_url(url: &str) -> Result<Target<'_>, Error> {
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(Error::Url {
            reason: "no scheme (sqlite:PATH)",
        });
    };
    match scheme {
        "sqlite" => {
            if rest == ":memory:" {
                return Ok(Target::SqliteMemory);
            }
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(Error::Url {
                    reason: "sqlite: needs a file path",
                });
            }
            Ok(Target::SqliteFile(PathBuf::from(path)))
        }
        "postgres" | "postgresql" => Ok(Target::Postgres(url)),
        _ => Err(Error::Url {
            reason: "unknown scheme",
        }),
    }
}

/// Checks a name or key used in a primary key: 1 to 256 bytes, no control characters (they
/// would blur the sealed values' associated data and the logs).
pub(crate) fn check_name(what: &'static str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidInput {
            what,
            reason: "is empty",
        });
    }
    if value.len() > 256 {
        return Err(Error::InvalidInput {
            what,
            reason: "is longer than 256 bytes",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidInput {
            what,
            reason: "holds a control character",
        });
    }
    Ok(())
}
