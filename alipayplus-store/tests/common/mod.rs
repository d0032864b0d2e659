//! Test support: a fresh database file per test, a fixed clock, a sealing key.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use alipayplus_store::{Kind, Options, SealingKey, Store};
use alipayplus_types::Timestamp;

pub const PAY: Kind = Kind::new("cashier.pay");
pub const AGREEMENT: Kind = Kind::holding_secrets("autodebit.pay");

/// 2025-06-01T00:00:00Z plus `secs`.
pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix_secs(1_748_736_000 + secs)
}

/// A database path of its own under target/ (removed first, with its WAL files).
pub fn db_path(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("store-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "{name}-{}-{}.sqlite",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

pub fn url(path: &std::path::Path) -> String {
    format!("sqlite:{}", path.display())
}

pub fn key() -> SealingKey {
    SealingKey::from_bytes([0x5a; 32])
}

pub fn open(path: &std::path::Path) -> Store {
    Store::open(&url(path), Options::default()).unwrap()
}

pub fn open_sealed(path: &std::path::Path) -> Store {
    Store::open(&url(path), Options::default().with_sealing_key(key())).unwrap()
}

/// Every byte of the database and its WAL, to look for a secret in clear.
pub fn raw_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap_or_default();
    all.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
    all
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The test server's URL, from `ALIPAYPLUS_TEST_POSTGRES` (`bash .ci/postgres.sh start` prints
/// it). Unset: the PostgreSQL runs are skipped locally, and fail under `CI=true` (the tests
/// never pass by skipping there).
pub const POSTGRES_ENV: &str = "ALIPAYPLUS_TEST_POSTGRES";

/// One backend a test runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// The server's URL (a fresh schema per test is made in it).
    Postgres(String),
}

/// The backends of this run: SQLite always; PostgreSQL when built with feature `postgres` and
/// `ALIPAYPLUS_TEST_POSTGRES` is set (required when `CI=true`).
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if !cfg!(feature = "postgres") {
        return out;
    }
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.is_empty() => out.push(Backend::Postgres(url)),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "CI=true and {POSTGRES_ENV} is unset: the PostgreSQL runs of the store tests must run \
             in CI (.ci/run starts the server with .ci/postgres.sh)"
        ),
        _ => {
            static NOTE: std::sync::Once = std::sync::Once::new();
            NOTE.call_once(|| {
                eprintln!(
                    "note: PostgreSQL runs skipped ({POSTGRES_ENV} unset); start a server with \
                     `eval \"$(bash .ci/postgres.sh start)\"`"
                )
            });
        }
    }
    out
}

/// A fresh database of one backend: a file under target/, or a schema of its own on the
/// PostgreSQL server (tests run in parallel without seeing each other's rows).
#[derive(Debug, Clone)]
pub struct Db {
    pub backend: Backend,
    pub url: String,
    /// The SQLite file (None on PostgreSQL).
    pub path: Option<PathBuf>,
}

impl Db {
    pub fn fresh(backend: &Backend, name: &str) -> Db {
        match backend {
            Backend::Sqlite => {
                let path = db_path(name);
                Db {
                    backend: Backend::Sqlite,
                    url: url(&path),
                    path: Some(path),
                }
            }
            Backend::Postgres(server) => Db {
                backend: backend.clone(),
                url: fresh_schema(server, name),
                path: None,
            },
        }
    }

    pub fn open(&self) -> Store {
        Store::open(&self.url, Options::default())
            .unwrap_or_else(|e| panic!("opening {:?}: {e} ({:?})", self.backend, e))
    }

    pub fn open_sealed(&self) -> Store {
        Store::open(&self.url, Options::default().with_sealing_key(key()))
            .unwrap_or_else(|e| panic!("opening {:?}: {e} ({:?})", self.backend, e))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }
}

/// One fresh database per backend of this run.
pub fn dbs(name: &str) -> Vec<Db> {
    backends().iter().map(|b| Db::fresh(b, name)).collect()
}

/// A new schema on the server; the URL whose connections use it (`search_path`).
#[cfg(feature = "postgres")]
fn fresh_schema(server: &str, name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "t_{}_{}_{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(server, postgres::NoTls).unwrap_or_else(|e| {
        panic!("the PostgreSQL test server at {POSTGRES_ENV} cannot be reached: {e}")
    });
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if server.contains('?') { '&' } else { '?' };
    format!("{server}{sep}options=-c%20search_path%3D{schema}")
}

#[cfg(not(feature = "postgres"))]
fn fresh_schema(_server: &str, _name: &str) -> String {
    unreachable!("backends() lists PostgreSQL only with feature postgres")
}
