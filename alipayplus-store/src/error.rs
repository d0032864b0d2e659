//! [`Error`]: everything the store can fail with.

use std::error::Error as StdError;

/// What went wrong, and what to do about it.
///
/// Never holds a stored value, a token or a key: `Debug` and `Display` are safe to log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store URL is not understood. Use `sqlite:PATH`, `sqlite::memory:` or
    /// `postgres://USER@HOST:PORT/DB`.
    #[error(
        "store URL not understood ({reason}); use sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB"
    )]
    Url {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The URL names a backend this build does not have: `postgres://` needs the crate's
    /// feature `postgres`.
    #[error(
        "the {scheme} backend is not compiled in; enable feature \"{scheme}\" of alipayplus-store or use sqlite:PATH"
    )]
    BackendUnavailable {
        /// The URL's scheme.
        scheme: String,
    },
    /// The database failed (I/O, locked past the busy timeout, disk full, the server
    /// unreachable, ...). The transaction was rolled back: nothing of this call was stored;
    /// except that on PostgreSQL a connection lost while `committing` leaves it unknown whether
    /// the commit happened: reload before deciding again (compare-and-swap writes make a retry
    /// safe). The next call opens a new connection.
    #[error("database error while {doing}")]
    Database {
        /// What the store was doing.
        doing: &'static str,
        /// The backend's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The database was written by a newer version of this crate; upgrade before opening it.
    #[error(
        "database schema version {found} is newer than this crate's {supported}; upgrade alipayplus-store"
    )]
    SchemaTooNew {
        /// The database's version.
        found: i64,
        /// The newest this crate knows.
        supported: i64,
    },
    /// A row read back does not have the shape this crate wrote (edited by hand, or not a
    /// store database).
    #[error("stored row is malformed: {what}")]
    Corrupt {
        /// What is malformed.
        what: String,
    },
    /// A name or key given to the store is unusable.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// Which input.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The value could not be serialized (its `Serialize` failed).
    #[error("could not serialize the {what}")]
    Serialize {
        /// What was being stored.
        what: &'static str,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// The stored value does not deserialize into the requested type (another type stored under
    /// this key, or a state format changed without a migration).
    #[error("stored {what} does not deserialize into the requested type")]
    Deserialize {
        /// What was being read.
        what: &'static str,
        /// serde_json's error (it names a position, not the content).
        #[source]
        source: serde_json::Error,
    },
    /// The value holds secrets (tokens) and the store has no [`SealingKey`](crate::SealingKey):
    /// set [`Options::sealing_key`](crate::Options::sealing_key).
    #[error("the {what} holds secrets and the store has no sealing key; set Options::sealing_key")]
    SealingKeyMissing {
        /// What was being stored or read.
        what: &'static str,
    },
    /// A sealed value did not open: another key than the one it was sealed with, or the row
    /// was altered or copied from another row.
    #[error("a sealed {what} did not open (wrong sealing key, or the row was altered)")]
    Unseal {
        /// What was being read.
        what: &'static str,
    },
    /// The operating system's random generator failed (nonce of a sealed value).
    #[error("the system random generator failed")]
    Random,
    /// The row was changed since it was read (its version is not the expected one), or it does
    /// not exist: reload it and decide again; nothing was written.
    #[error("{what} {key} is not at version {expected} (found {found:?}); reload and decide again")]
    Stale {
        /// Which table.
        what: &'static str,
        /// The row's key.
        key: String,
        /// The version the caller had.
        expected: i64,
        /// The stored version, `None` when there is no row.
        found: Option<i64>,
    },
    /// This worker no longer holds the follow-up's lease (it expired, or another worker took
    /// the follow-up over after it expired, or it was released): **stop driving it**. Nothing
    /// was written, and no send may follow; its holder resumes it from the stored state.
    #[error(
        "lease of follow-up {key} lost by worker {worker} (expired or taken over): stop driving it, nothing was written"
    )]
    LeaseLost {
        /// The follow-up.
        key: String,
        /// The worker that lost it.
        worker: String,
    },
    /// A worker holds the follow-up's lease until `until`: write it through that worker's
    /// lease ([`Store::save_leased`](crate::Store::save_leased)), or after the lease expires.
    #[error("follow-up {key} is leased to a worker until {until:?}; nothing was written")]
    Leased {
        /// The follow-up.
        key: String,
        /// When the lease expires.
        until: alipayplus_types::Timestamp,
    },
    /// No row with this key is stored.
    #[error("no {what} {key} is stored")]
    NotFound {
        /// Which table.
        what: &'static str,
        /// The row's key.
        key: String,
    },
    /// A row with this key exists already.
    #[error("{what} {key} exists already")]
    Exists {
        /// Which table.
        what: &'static str,
        /// The row's key.
        key: String,
    },
    /// An inbox entry given to [`Store::save_consuming`](crate::Store::save_consuming) is not
    /// an unconsumed entry of that follow-up; nothing was written.
    #[error("inbox entry {seq} is not an unconsumed entry of follow-up {key}")]
    NotConsumable {
        /// The entry.
        seq: i64,
        /// The follow-up.
        key: String,
    },
}

impl Error {
    pub(crate) fn db<E: StdError + Send + Sync + 'static>(
        doing: &'static str,
    ) -> impl FnOnce(E) -> Error {
        move |e| Error::Database {
            doing,
            source: Box::new(e),
        }
    }
}
