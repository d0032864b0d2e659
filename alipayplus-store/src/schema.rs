//! The versioned schema: [`MIGRATIONS`], applied in order by [`Store::open`](crate::Store::open)
//! inside one transaction, recorded in the one-row table `schema_version`.
//!
//! The SQL is written once for SQLite and PostgreSQL. Where the two differ, a migration writes
//! a placeholder that [`Migration::sql`] fills per [`Dialect`]:
//!
//! | placeholder | SQLite | PostgreSQL |
//! |---|---|---|
//! | `{BYTES}` | `BLOB` | `BYTEA` |
//! | `{SEQ}` (a generated row number key) | `INTEGER PRIMARY KEY AUTOINCREMENT` | `BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY` |
//!
//! Everything else is common: `TEXT`, `BIGINT` (instants in Unix milliseconds, versions),
//! `BOOLEAN` (SQLite stores 0 / 1), composite primary keys, `ON CONFLICT DO NOTHING`,
//! `RETURNING`. Statement parameters are written `?1, ?2 ...` (the PostgreSQL backend rewrites
//! them to `$1, $2 ...`). Transactions begin with SQLite's `BEGIN IMMEDIATE` (the write lock
//! at once); PostgreSQL's backend runs them at READ COMMITTED, with compare-and-swap writes and
//! row locks (`FOR UPDATE SKIP LOCKED` when claiming follow-ups), and migrates under an advisory
//! lock.
//!
//! ```
//! use alipayplus_store::schema::{Dialect, MIGRATIONS, SCHEMA_VERSION};
//!
//! assert_eq!(MIGRATIONS.last().unwrap().version, SCHEMA_VERSION);
//! assert!(MIGRATIONS[0].sql(Dialect::Postgres).contains("BYTEA"));
//! assert!(!MIGRATIONS[0].sql(Dialect::Sqlite).contains('{'));
//! ```

pub use crate::backend::Dialect;
use crate::backend::{Backend, Tx};
use crate::error::Error;

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The schema version after this step (1, 2, ...).
    pub version: i64,
    /// What it adds.
    pub name: &'static str,
    template: &'static str,
}

impl Migration {
    /// The step's statements for `dialect`.
    pub fn sql(&self, dialect: Dialect) -> String {
        let (bytes, seq) = match dialect {
            Dialect::Sqlite => ("BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            Dialect::Postgres => ("BYTEA", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
        };
        self.template
            .replace("{BYTES}", bytes)
            .replace("{SEQ}", seq)
    }
}

/// The schema version this crate writes.
pub const SCHEMA_VERSION: i64 = 2;

/// Every step, oldest first. Never edit a released step: add one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "follow-ups and the inbound inbox",
        template: "
CREATE TABLE follow_ups (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    state {BYTES} NOT NULL,
    sealed BOOLEAN NOT NULL,
    is_final BOOLEAN NOT NULL,
    due_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX follow_ups_due ON follow_ups (is_final, due_at);
CREATE TABLE inbox (
    seq {SEQ},
    source TEXT NOT NULL,
    event_key TEXT NOT NULL,
    follow_kind TEXT,
    follow_id TEXT,
    body {BYTES} NOT NULL,
    sealed BOOLEAN NOT NULL,
    received_at BIGINT NOT NULL,
    consumed_at BIGINT,
    UNIQUE (source, event_key)
);
CREATE INDEX inbox_follow_up ON inbox (follow_kind, follow_id, consumed_at);
",
    },
    Migration {
        version: 2,
        name: "dispute records, declaration ledgers, token sets",
        template: "
CREATE TABLE disputes (
    kind TEXT NOT NULL,
    dispute_request_id TEXT NOT NULL,
    payment_request_id TEXT NOT NULL,
    record {BYTES} NOT NULL,
    body {BYTES} NOT NULL,
    received_at BIGINT NOT NULL,
    answered_at BIGINT,
    PRIMARY KEY (kind, dispute_request_id)
);
CREATE TABLE records (
    space TEXT NOT NULL,
    id TEXT NOT NULL,
    value {BYTES} NOT NULL,
    sealed BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (space, id)
);
",
    },
];

/// The PostgreSQL advisory lock key held while migrating (any fixed number; "alipay+" in
/// ASCII).
const MIGRATION_LOCK: i64 = 0x616c_6970_6179_2b00;

/// Brings the database to [`SCHEMA_VERSION`] in one transaction (a concurrent opener waits on
/// the write lock, then finds it done).
pub(crate) fn migrate(backend: &Backend) -> Result<i64, Error> {
    let dialect = backend.dialect();
    backend.transact(|tx| {
        if dialect == Dialect::Postgres {
            // Concurrent openers queue here (SQLite's write lock does this at BEGIN): two
            // `CREATE TABLE IF NOT EXISTS` racing would otherwise collide in the catalog.
            tx.execute("SELECT pg_advisory_xact_lock(?1)", &[MIGRATION_LOCK.into()])?;
        }
        tx.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        let found = current(tx)?;
        if found > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > found) {
            tx.batch(&m.sql(dialect))?;
            tx.execute(
                "UPDATE schema_version SET version = ?1",
                &[m.version.into()],
            )?;
        }
        Ok(found)
    })
}

fn current(tx: &mut dyn Tx) -> Result<i64, Error> {
    let rows = tx.query("SELECT version FROM schema_version", &[])?;
    match rows.as_slice() {
        [] => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])?;
            Ok(0)
        }
        [row] => row.int(0),
        _ => Err(Error::Corrupt {
            what: String::from("schema_version has more than one row"),
        }),
    }
}
