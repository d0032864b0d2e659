//! The PostgreSQL backend (feature `postgres`): the blocking `postgres` client, one connection
//! per [`Store`](crate::Store), statements prepared once per connection.
//!
//! Write transactions run at READ COMMITTED: every write of the store is either a
//! compare-and-swap `UPDATE ... WHERE version = ?` (re-checked by PostgreSQL on the row it
//! waited for), an `INSERT ... ON CONFLICT DO NOTHING`, or a claim with
//! `FOR UPDATE SKIP LOCKED`, so no read-then-write of one transaction can be undone by another.
//! Reads run in a READ ONLY REPEATABLE READ transaction (one snapshot).

use std::collections::HashMap;
use std::time::Duration;

use postgres::types::{ToSql, Type};
use postgres::{Client, Config, IsolationLevel, NoTls, Statement};

use super::{Durability, Row, Tx, Value};
use crate::error::Error;

/// One connection and its prepared statements.
pub(crate) struct Pg {
    config: Config,
    durability: Durability,
    lock_timeout: Duration,
    client: Client,
    statements: HashMap<String, Statement>,
    /// The last call lost the connection (I/O error, or the server ended the session): the
    /// next one starts on a new connection. `Client::is_closed` alone lags behind.
    broken: bool,
}

impl Pg {
    pub(crate) fn connect(
        url: &str,
        durability: Durability,
        lock_timeout: Duration,
    ) -> Result<Self, Error> {
        let mut config: Config = url.parse().map_err(|e: postgres::Error| Error::Database {
            doing: "reading the postgres:// URL",
            source: Box::new(e),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(lock_timeout.max(Duration::from_secs(1)));
        }
        let client = session(&config, durability, lock_timeout)?;
        Ok(Pg {
            config,
            durability,
            lock_timeout,
            client,
            statements: HashMap::new(),
            broken: false,
        })
    }

    /// A fresh connection when the server closed this one (restart, idle timeout): the next
    /// transaction runs on it; the failed one was rolled back by the server.
    fn reconnect_if_closed(&mut self) -> Result<(), Error> {
        if self.broken || self.client.is_closed() {
            self.client = session(&self.config, self.durability, self.lock_timeout)?;
            self.statements.clear();
            self.broken = false;
        }
        Ok(())
    }

    pub(crate) fn durability(&mut self) -> Result<Durability, Error> {
        self.reconnect_if_closed()?;
        let row = match self.client.query_one("SHOW synchronous_commit", &[]) {
            Ok(row) => row,
            Err(e) => return Err(failed(&mut self.broken, "reading synchronous_commit", e)),
        };
        let level: String = row
            .try_get(0)
            .map_err(Error::db("reading synchronous_commit"))?;
        // `off` acknowledges a commit before its WAL is flushed (a server crash may lose the
        // last ones); every other level waits for at least the local flush.
        Ok(if level == "off" {
            Durability::Normal
        } else {
            Durability::Full
        })
    }

    pub(crate) fn run<T>(
        &mut self,
        write: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.reconnect_if_closed()?;
        let (isolation, read_only) = if write {
            (IsolationLevel::ReadCommitted, false)
        } else {
            (IsolationLevel::RepeatableRead, true)
        };
        let started = self
            .client
            .build_transaction()
            .isolation_level(isolation)
            .read_only(read_only)
            .start();
        let tx = match started {
            Ok(tx) => tx,
            Err(e) => return Err(failed(&mut self.broken, "beginning a transaction", e)),
        };
        let mut pg = PgTx {
            tx,
            statements: &mut self.statements,
            broken: &mut self.broken,
        };
        // On `Err` (or a panic) the transaction drops and rolls back.
        let out = f(&mut pg)?;
        // A connection lost here leaves the commit unknown (Error::Database says so): the
        // caller reloads; compare-and-swap writes make a retry safe.
        match pg.tx.commit() {
            Ok(()) => Ok(out),
            Err(e) => Err(failed(pg.broken, "committing", e)),
        }
    }
}

/// Connects and sets the session: the lock timeout (the busy timeout's counterpart) and, for
/// [`Durability::Full`], `synchronous_commit = on` whatever the server's default.
fn session(
    config: &Config,
    durability: Durability,
    lock_timeout: Duration,
) -> Result<Client, Error> {
    let mut client = config
        .connect(NoTls)
        .map_err(Error::db("connecting to PostgreSQL"))?;
    let mut setup = format!("SET lock_timeout = {}", lock_timeout.as_millis().max(1));
    if durability == Durability::Full {
        setup.push_str("; SET synchronous_commit = on");
    }
    client
        .batch_execute(&setup)
        .map_err(Error::db("setting up the session"))?;
    Ok(client)
}

/// `?1, ?2 ...` (the store's portable SQL) to `$1, $2 ...`. The store's statements hold no
/// `?` elsewhere (no string literal with one).
pub(crate) fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

struct PgTx<'a> {
    tx: postgres::Transaction<'a>,
    statements: &'a mut HashMap<String, Statement>,
    broken: &'a mut bool,
}

/// The store's error for a failed call; marks the connection broken when the failure was the
/// connection's (no SQL error from the server, or a FATAL one ending the session).
fn failed(broken: &mut bool, doing: &'static str, e: postgres::Error) -> Error {
    let lost = e.is_closed()
        || e.as_db_error()
            .is_none_or(|db| matches!(db.severity(), "FATAL" | "PANIC"));
    *broken |= lost;
    Error::Database {
        doing,
        source: Box::new(e),
    }
}

impl PgTx<'_> {
    fn statement(&mut self, sql: &str) -> Result<Statement, Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = match self.tx.prepare(&placeholders(sql)) {
            Ok(s) => s,
            Err(e) => return Err(failed(self.broken, "preparing a statement", e)),
        };
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

/// Each parameter as the Rust type PostgreSQL inferred for it (a NULL too is typed).
fn bind(types: &[Type], params: &[Value]) -> Result<Vec<Box<dyn ToSql + Sync>>, Error> {
    if types.len() != params.len() {
        return Err(bad_param(format!(
            "{} parameters given, the statement has {}",
            params.len(),
            types.len()
        )));
    }
    types
        .iter()
        .zip(params)
        .map(|(ty, v)| typed(ty, v))
        .collect()
}

fn typed(ty: &Type, v: &Value) -> Result<Box<dyn ToSql + Sync>, Error> {
    let out: Box<dyn ToSql + Sync> = match (ty, v) {
        (&Type::INT8, Value::Int(i)) => Box::new(*i),
        (&Type::INT4, Value::Int(i)) => {
            Box::new(i32::try_from(*i).map_err(|_| bad_param(format!("{i} does not fit an INT4")))?)
        }
        (&Type::BOOL, Value::Bool(b)) => Box::new(*b),
        (&Type::TEXT | &Type::VARCHAR, Value::Text(s)) => Box::new(s.clone()),
        (&Type::BYTEA, Value::Bytes(b)) => Box::new(b.clone()),
        (&Type::INT8, Value::Null) => Box::new(None::<i64>),
        (&Type::INT4, Value::Null) => Box::new(None::<i32>),
        (&Type::BOOL, Value::Null) => Box::new(None::<bool>),
        (&Type::TEXT | &Type::VARCHAR, Value::Null) => Box::new(None::<String>),
        (&Type::BYTEA, Value::Null) => Box::new(None::<Vec<u8>>),
        (ty, _) => return Err(bad_param(format!("no value of this kind binds to {ty}"))),
    };
    Ok(out)
}

fn bad_param(reason: String) -> Error {
    Error::Database {
        doing: "binding a parameter",
        source: reason.into(),
    }
}

fn row(r: &postgres::Row) -> Result<Row, Error> {
    let mut out = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let v = match *column.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i).map(|v| v.map(Value::Int)),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)
                .map(|v| v.map(|v| Value::Int(v.into()))),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)
                .map(|v| v.map(|v| Value::Int(v.into()))),
            Type::BOOL => r.try_get::<_, Option<bool>>(i).map(|v| v.map(Value::Bool)),
            Type::TEXT | Type::VARCHAR | Type::NAME => r
                .try_get::<_, Option<String>>(i)
                .map(|v| v.map(Value::Text)),
            Type::BYTEA => r
                .try_get::<_, Option<Vec<u8>>>(i)
                .map(|v| v.map(Value::Bytes)),
            ref other => {
                return Err(Error::Corrupt {
                    what: format!("column {i}: type {other} is not one this store writes"),
                });
            }
        };
        out.push(v.map_err(Error::db("reading"))?.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

impl Tx for PgTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let stmt = self.statement(sql)?;
        let values = bind(stmt.params(), params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        match self.tx.execute(&stmt, &refs) {
            Ok(n) => Ok(n),
            Err(e) => Err(failed(self.broken, "writing", e)),
        }
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Error> {
        let stmt = self.statement(sql)?;
        let values = bind(stmt.params(), params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        let rows = match self.tx.query(&stmt, &refs) {
            Ok(rows) => rows,
            Err(e) => return Err(failed(self.broken, "reading", e)),
        };
        rows.iter().map(row).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        match self.tx.batch_execute(sql) {
            Ok(()) => Ok(()),
            Err(e) => Err(failed(self.broken, "migrating the schema", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_become_dollar_numbers() {
        assert_eq!(
            placeholders("UPDATE t SET a = ?1 WHERE b = ?12 AND (?2 OR NOT c)"),
            "UPDATE t SET a = $1 WHERE b = $12 AND ($2 OR NOT c)"
        );
        assert_eq!(placeholders("SELECT '?' , x ? y"), "SELECT '?' , x ? y");
    }
}
