//! The versioned schema: a database written at version 1 (before dispute records, ledgers and
//! token sets) is migrated at open with its rows kept; a newer schema is refused.

mod common;

use alipayplus_store::schema::{Dialect, MIGRATIONS, SCHEMA_VERSION};
use alipayplus_store::{Error, Next, Options, Store};
use common::*;

/// A database exactly as version 1 of this crate left it, with one follow-up and one inbox
/// entry written by hand.
fn version_1_database(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("CREATE TABLE schema_version (version BIGINT NOT NULL); INSERT INTO schema_version VALUES (1);")
        .unwrap();
    conn.execute_batch(&MIGRATIONS[0].sql(Dialect::Sqlite))
        .unwrap();
    conn.execute(
        "INSERT INTO follow_ups (kind, id, state, sealed, is_final, due_at, version, created_at, updated_at) \
         VALUES ('cashier.pay', 'PAY-OLD', CAST('{\"attempts\":3}' AS BLOB), 0, 0, ?1, 4, 0, 0)",
        [t(30).unix_millis()],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO inbox (source, event_key, follow_kind, follow_id, body, sealed, received_at) \
         VALUES ('notifyPayment', 'PAY-OLD', 'cashier.pay', 'PAY-OLD', x'7b7d', 0, 0)",
        [],
    )
    .unwrap();
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'records'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0, "version 1 has no records table");
}

#[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
struct Old {
    attempts: u32,
}

#[test]
fn an_old_database_is_migrated_at_open_with_its_rows() {
    let path = db_path("v1");
    version_1_database(&path);
    let store = open_sealed(&path);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 2) };
    let row = store.load::<Old>(PAY, "PAY-OLD").unwrap().unwrap();
    assert_eq!(
        (row.state, row.version.get(), row.due_at),
        (Old { attempts: 3 }, 4, Some(t(30)))
    );
    assert_eq!(store.unconsumed(PAY, "PAY-OLD").unwrap().len(), 1);
    assert_eq!(store.list_due(t(30), 10).unwrap().len(), 1);
    // The tables of version 2 work.
    store
        .save(
            PAY,
            "PAY-OLD",
            row.version,
            &Old { attempts: 4 },
            Next::Final,
            t(31),
        )
        .unwrap();
    store.save_tokens("B-1", None, &"tokens", t(31)).unwrap();
    drop(store);
    // Opening again migrates nothing more and keeps everything.
    let store = open_sealed(&path);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(
        store.tokens::<String>("B-1").unwrap().unwrap().value,
        "tokens"
    );
}

#[test]
fn a_fresh_database_gets_every_migration() {
    let path = db_path("fresh");
    let store = open(&path);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let conn = rusqlite::Connection::open(&path).unwrap();
    for table in [
        "schema_version",
        "follow_ups",
        "inbox",
        "disputes",
        "records",
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{table}");
    }
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let path = db_path("newer");
    drop(open(&path));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE schema_version SET version = ?1",
        [SCHEMA_VERSION + 1],
    )
    .unwrap();
    match Store::open(&url(&path), Options::default()) {
        Err(Error::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("{other:?}"),
    }
    let version: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
}

#[test]
fn every_migration_has_both_dialects_filled_in() {
    for (i, m) in MIGRATIONS.iter().enumerate() {
        assert_eq!(m.version, i as i64 + 1, "versions are 1, 2, ... in order");
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let sql = m.sql(dialect);
            assert!(
                !sql.contains('{') && !sql.contains('}'),
                "{dialect:?} {}: placeholder left",
                m.name
            );
            // Type names common to both, or the dialect's own.
            let other = if dialect == Dialect::Sqlite {
                "BYTEA"
            } else {
                "BLOB"
            };
            assert!(!sql.contains(other), "{dialect:?} {}", m.name);
        }
    }
}

#[test]
fn durability_full_is_one_setting_away() {
    use alipayplus_store::Durability;
    let path = db_path("full");
    let store = Store::open(
        &url(&path),
        Options::default().with_durability(Durability::Full),
    )
    .unwrap();
    store.create(PAY, "PAY-1", &1u8, Next::Final, t(0)).unwrap();
    assert_eq!(store.durability().unwrap(), Durability::Full);
    let normal = open(&path);
    assert_eq!(
        normal.durability().unwrap(),
        Durability::Normal,
        "the default"
    );
}

#[test]
fn concurrent_openers_of_a_fresh_file_all_succeed_and_migrate_once() {
    for round in 0..5 {
        let path = db_path(&format!("race-{round}"));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let handles: Vec<_> = (0..6)
            .map(|n| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let store = open(&path);
                    store
                        .create(PAY, &format!("P-{n}"), &1u8, Next::Final, t(0))
                        .unwrap();
                    store.schema_version().unwrap()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), SCHEMA_VERSION);
        }
        let conn = rusqlite::Connection::open(&path).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        let made: i64 = conn
            .query_row("SELECT count(*) FROM follow_ups", [], |r| r.get(0))
            .unwrap();
        assert_eq!((rows, made), (1, 6), "round {round}");
    }
}
