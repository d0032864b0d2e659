//! The seam between the store's logic and a database: SQL text with `?1, ?2 ...` parameters,
//! a handful of value types, one transaction at a time.
//!
//! The store's SQL is portable (see [`Dialect`] for the differences); a backend
//! only runs it. SQLite is always there; PostgreSQL (feature `postgres`, module `pg`) rewrites
//! `?N` to `$N`.

#[cfg(feature = "postgres")]
pub(crate) mod pg;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::Error;

/// The SQL flavour of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite 3.35 or later (the bundled one).
    Sqlite,
    /// PostgreSQL 12 or later (feature `postgres`).
    Postgres,
}

/// How hard a commit is pushed to the disk (SQLite `synchronous`, in WAL mode; PostgreSQL
/// `synchronous_commit`: `Full` sets it `on` for the session, `Normal` keeps the server's
/// setting, and [`Store::durability`](crate::Store::durability) reads `off` as `Normal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous=NORMAL`: a commit survives the process being killed, not a power loss or
    /// a kernel crash (the last commits may be lost; the database stays consistent).
    #[default]
    Normal,
    /// `synchronous=FULL`: the log is synced at every commit; a commit survives a power loss.
    Full,
}

/// A parameter or a column value.
#[derive(Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row.
pub(crate) struct Row(Vec<Value>);

impl Row {
    fn get(&self, i: usize) -> Result<&Value, Error> {
        self.0.get(i).ok_or_else(|| corrupt(i, "missing column"))
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64, Error> {
        match self.get(i)? {
            Value::Int(v) => Ok(*v),
            _ => Err(corrupt(i, "not an integer")),
        }
    }

    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, Error> {
        match self.get(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// SQLite keeps BOOLEAN as 0 / 1; PostgreSQL has a real boolean.
    pub(crate) fn boolean(&self, i: usize) -> Result<bool, Error> {
        match self.get(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            _ => Err(corrupt(i, "not a boolean")),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<String, Error> {
        match self.get(i)? {
            Value::Text(s) => Ok(s.clone()),
            _ => Err(corrupt(i, "not text")),
        }
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, Error> {
        match self.get(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub(crate) fn bytes(&self, i: usize) -> Result<Vec<u8>, Error> {
        match self.get(i)? {
            Value::Bytes(b) => Ok(b.clone()),
            _ => Err(corrupt(i, "not bytes")),
        }
    }
}

fn corrupt(column: usize, what: &str) -> Error {
    Error::Corrupt {
        what: format!("column {column}: {what}"),
    }
}

/// One open transaction.
pub(crate) trait Tx {
    /// Runs one statement; the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error>;
    /// Runs one query; every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Error>;
    /// Runs several statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), Error>;
}

/// A database the store runs on.
pub(crate) enum Backend {
    Sqlite(Mutex<Connection>),
    // Boxed: the client's config is large, and one Store holds one backend.
    #[cfg(feature = "postgres")]
    Postgres(Box<Mutex<pg::Pg>>),
}

/// A mutex whose holder panicked: the transaction it ran was rolled back (dropped), so the
/// connection is consistent and the lock is taken anyway.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Backend {
    pub(crate) fn open_sqlite(
        path: Option<PathBuf>,
        durability: Durability,
        busy_timeout: Duration,
    ) -> Result<Self, Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match path {
            Some(p) => Connection::open_with_flags(p, flags),
            None => Connection::open_in_memory(),
        }
        .map_err(Error::db("opening the database"))?;
        conn.busy_timeout(busy_timeout)
            .map_err(Error::db("setting the busy timeout"))?;
        // WAL: readers do not block the writer, and a commit is one append to the log.
        let mode: String = retry_busy(busy_timeout, || {
            conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        })
        .map_err(Error::db("setting WAL mode"))?;
        if mode != "wal" && mode != "memory" {
            return Err(Error::Database {
                doing: "setting WAL mode",
                source: format!("journal_mode stayed {mode}").into(),
            });
        }
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        retry_busy(busy_timeout, || {
            conn.pragma_update(None, "synchronous", sync)
        })
        .map_err(Error::db("setting synchronous"))?;
        Ok(Backend::Sqlite(Mutex::new(conn)))
    }

    /// Connects to the PostgreSQL server of `url` (`postgres://user@host:port/db?...`).
    #[cfg(feature = "postgres")]
    pub(crate) fn open_postgres(
        url: &str,
        durability: Durability,
        lock_timeout: Duration,
    ) -> Result<Self, Error> {
        Ok(Backend::Postgres(Box::new(Mutex::new(pg::Pg::connect(
            url,
            durability,
            lock_timeout,
        )?))))
    }

    /// The durability in force on the connection (read back, not remembered).
    pub(crate) fn durability(&self) -> Result<Durability, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => lock(pg).durability(),
            Backend::Sqlite(conn) => {
                let conn = lock(conn);
                let level: i64 = conn
                    .query_row("PRAGMA synchronous", [], |r| r.get(0))
                    .map_err(Error::db("reading synchronous"))?;
                match level {
                    1 => Ok(Durability::Normal),
                    2 | 3 => Ok(Durability::Full),
                    _ => Err(Error::Corrupt {
                        what: format!("synchronous is {level}, neither NORMAL nor FULL"),
                    }),
                }
            }
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Backend::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `f` in one write transaction: committed when it returns `Ok`, rolled back when it
    /// returns `Err` (or panics).
    pub(crate) fn transact<T>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => lock(pg).run(true, f),
            Backend::Sqlite(conn) => run_sqlite(conn, TransactionBehavior::Immediate, f),
        }
    }

    /// Runs `f` in one read transaction (a consistent snapshot; does not take the write lock).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, Error>,
    ) -> Result<T, Error> {
        match self {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => lock(pg).run(false, f),
            Backend::Sqlite(conn) => run_sqlite(conn, TransactionBehavior::Deferred, f),
        }
    }
}

fn run_sqlite<T>(
    conn: &Mutex<Connection>,
    behavior: TransactionBehavior,
    f: impl FnOnce(&mut dyn Tx) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut conn = lock(conn);
    // Writes are IMMEDIATE: the write lock at BEGIN, so a read-then-write transaction never
    // fails half-way on a lock upgrade (busy_timeout covers the wait).
    let tx = conn
        .transaction_with_behavior(behavior)
        .map_err(Error::db("beginning a transaction"))?;
    let mut sqlite = SqliteTx(&tx);
    let out = f(&mut sqlite)?;
    tx.commit().map_err(Error::db("committing"))?;
    Ok(out)
}

/// Runs `f` again while SQLite answers "busy", for at most `timeout`. Switching a fresh file
/// to WAL takes an exclusive lock and, when another connection is opening the same file at that
/// moment, SQLite returns SQLITE_BUSY at once without calling the busy handler; concurrent
/// openers (several workers starting together) must wait instead of failing.
fn retry_busy<T>(
    timeout: Duration,
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let start = std::time::Instant::now();
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && start.elapsed() < timeout =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

fn to_sql(params: &[Value]) -> Vec<SqlValue> {
    params
        .iter()
        .map(|v| match v {
            Value::Null => SqlValue::Null,
            Value::Int(i) => SqlValue::Integer(*i),
            Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
            Value::Text(s) => SqlValue::Text(s.clone()),
            Value::Bytes(b) => SqlValue::Blob(b.clone()),
        })
        .collect()
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let n = self
            .0
            .execute(sql, rusqlite::params_from_iter(to_sql(params)))
            .map_err(Error::db("writing"))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Error> {
        let mut stmt = self
            .0
            .prepare(sql)
            .map_err(Error::db("preparing a query"))?;
        let columns = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(to_sql(params)), |r| {
                (0..columns)
                    .map(|i| {
                        Ok(match r.get::<_, SqlValue>(i)? {
                            SqlValue::Null => Value::Null,
                            SqlValue::Integer(v) => Value::Int(v),
                            SqlValue::Text(s) => Value::Text(s),
                            SqlValue::Blob(b) => Value::Bytes(b),
                            // The schema has no REAL column: a row written by something else.
                            SqlValue::Real(_) => {
                                return Err(rusqlite::Error::InvalidColumnType(
                                    i,
                                    String::from("(not written by this store)"),
                                    rusqlite::types::Type::Real,
                                ));
                            }
                        })
                    })
                    .collect::<Result<Vec<_>, rusqlite::Error>>()
                    .map(Row)
            })
            .map_err(Error::db("reading"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(Error::db("reading"))
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.0
            .execute_batch(sql)
            .map_err(Error::db("migrating the schema"))
    }
}
