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
