//! Secrets: sealed with the caller's key, refused without one, unreadable with another key or
//! in another row, never in the file in clear, never in Debug.

mod common;

use alipayplus_autodebit::TokenSet;
use alipayplus_store::{Error, Inbound, Next, Options, SealingKey, Source, Store};
use alipayplus_types::Secret;
use common::*;
use serde::{Deserialize, Serialize};

const TOKEN: &str = "AT-0123456789-SECRET";
const REFRESH: &str = "RT-9876543210-SECRET";

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct AgreementPay {
    body: String,
}

fn pay() -> AgreementPay {
    AgreementPay {
        body: format!(r#"{{"paymentMethod":{{"paymentMethodId":"{TOKEN}"}}}}"#),
    }
}

fn tokens() -> TokenSet {
    TokenSet::new(Secret::new(TOKEN), Some(t(3600)))
        .with_refresh(Secret::new(REFRESH), Some(t(86_400)))
}

#[test]
fn without_a_key_secrets_are_refused_and_nothing_is_stored() {
    for db in dbs("nokey") {
        let store = db.open();
        for result in [
            store
                .create(AGREEMENT, "PAY-1", &pay(), Next::At(t(0)), t(0))
                .map(|_| ()),
            store.save_tokens("B-1", None, &tokens(), t(0)).map(|_| ()),
            store
                .append(
                    &Inbound::new(Source::AuthNotify, "A-1", TOKEN.as_bytes()),
                    t(0),
                )
                .map(|_| ()),
        ] {
            assert!(
                matches!(result, Err(Error::SealingKeyMissing { .. })),
                "{result:?}"
            );
        }
        assert!(matches!(
            store.tokens::<TokenSet>("B-1"),
            Err(Error::SealingKeyMissing { .. })
        ));
        assert!(
            store
                .load::<AgreementPay>(AGREEMENT, "PAY-1")
                .unwrap()
                .is_none()
        );
        assert!(store.inbound(Source::AuthNotify, "A-1").unwrap().is_none());
        // A kind without secrets needs no key.
        store.create(PAY, "PAY-2", &1u8, Next::Final, t(0)).unwrap();
    }
}

#[test]
fn sealed_values_round_trip_and_never_reach_the_file_in_clear() {
    for db in dbs("sealed") {
        let store = db.open_sealed();
        let v1 = store
            .create(AGREEMENT, "PAY-1", &pay(), Next::At(t(0)), t(0))
            .unwrap();
        let tv1 = store.save_tokens("B-1", None, &tokens(), t(0)).unwrap();
        store
            .append(
                &Inbound::new(
                    Source::AuthNotify,
                    "A-1",
                    format!(r#"{{"accessToken":"{TOKEN}"}}"#).as_bytes(),
                ),
                t(0),
            )
            .unwrap();
        drop(store);
        // The SQLite file's bytes (PostgreSQL: the same sealing code wrote the same bytes).
        let raw = db
            .path
            .as_deref()
            .map(raw_bytes)
            .unwrap_or_else(|| vec![0; 4097]);
        assert!(raw.len() > 4096, "the database was written");
        assert!(
            !contains(&raw, TOKEN.as_bytes()),
            "access token in clear in the file"
        );
        assert!(
            !contains(&raw, REFRESH.as_bytes()),
            "refresh token in clear in the file"
        );

        let store = db.open_sealed();
        let row = store
            .load::<AgreementPay>(AGREEMENT, "PAY-1")
            .unwrap()
            .unwrap();
        assert_eq!((row.state, row.version), (pay(), v1));
        let back = store.tokens::<TokenSet>("B-1").unwrap().unwrap();
        assert_eq!((back.value, back.version), (tokens(), tv1));
        let entry = store.inbound(Source::AuthNotify, "A-1").unwrap().unwrap();
        assert!(contains(&entry.body, TOKEN.as_bytes()));

        // A refresh replaces the set (compare-and-swap), a cancel removes it.
        let refreshed = TokenSet::new(Secret::new("AT-2"), None);
        let tv2 = store
            .save_tokens("B-1", Some(tv1), &refreshed, t(10))
            .unwrap();
        assert!(matches!(
            store.save_tokens("B-1", Some(tv1), &tokens(), t(11)),
            Err(Error::Stale { .. })
        ));
        assert!(matches!(
            store.save_tokens("B-1", None, &tokens(), t(11)),
            Err(Error::Exists { .. })
        ));
        store.remove_tokens("B-1", tv2).unwrap();
        assert!(store.tokens::<TokenSet>("B-1").unwrap().is_none());
    }
}

#[test]
fn another_key_or_a_moved_row_does_not_open() {
    let path = db_path("wrongkey");
    {
        let store = open_sealed(&path);
        store
            .create(AGREEMENT, "PAY-1", &pay(), Next::At(t(0)), t(0))
            .unwrap();
        store
            .create(AGREEMENT, "PAY-2", &pay(), Next::At(t(0)), t(0))
            .unwrap();
        store.save_tokens("B-1", None, &tokens(), t(0)).unwrap();
    }
    let other = Store::open(
        &url(&path),
        Options::default().with_sealing_key(SealingKey::from_bytes([1; 32])),
    )
    .unwrap();
    assert!(matches!(
        other.load::<AgreementPay>(AGREEMENT, "PAY-1"),
        Err(Error::Unseal { .. })
    ));
    assert!(matches!(
        other.tokens::<TokenSet>("B-1"),
        Err(Error::Unseal { .. })
    ));
    let keyless = open(&path);
    assert!(matches!(
        keyless.load::<AgreementPay>(AGREEMENT, "PAY-1"),
        Err(Error::SealingKeyMissing { .. })
    ));

    // PAY-1's sealed state copied into PAY-2's row: bound to its row, it does not open there.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        "UPDATE follow_ups SET state = (SELECT state FROM follow_ups WHERE id = 'PAY-1') WHERE id = 'PAY-2'",
        [],
    )
    .unwrap();
    let store = open_sealed(&path);
    assert!(
        store
            .load::<AgreementPay>(AGREEMENT, "PAY-1")
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store.load::<AgreementPay>(AGREEMENT, "PAY-2"),
        Err(Error::Unseal { .. })
    ));
    // One flipped byte: refused, not garbage.
    let mut sealed: Vec<u8> = conn
        .query_row("SELECT value FROM records", [], |r| r.get(0))
        .unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    conn.execute("UPDATE records SET value = ?1", [sealed])
        .unwrap();
    assert!(matches!(
        store.tokens::<TokenSet>("B-1"),
        Err(Error::Unseal { .. })
    ));
}

#[test]
fn debug_and_errors_show_no_key_and_no_token() {
    let key = SealingKey::from_bytes([0x41; 32]);
    let options = Options::default().with_sealing_key(key);
    let shown = format!("{options:?}");
    assert!(
        !shown.contains("65") && !shown.contains("0x41") && !shown.contains("AAAA"),
        "{shown}"
    );
    let store = Store::open("sqlite::memory:", options).unwrap();
    assert!(format!("{store:?}").contains("set"));
    let plain = Store::open("sqlite::memory:", Options::default()).unwrap();
    let err = plain.save_tokens("B-1", None, &tokens(), t(0)).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(TOKEN) && text.contains("sealing key"),
        "{text}"
    );
}

#[test]
fn a_sealed_state_is_never_written_back_in_clear() {
    for db in dbs("downgrade") {
        let store = db.open_sealed();
        let v1 = store
            .create(AGREEMENT, "PAY-1", &pay(), Next::At(t(0)), t(0))
            .unwrap();
        // The same name without the secret flag (a caller's mistake): refused, nothing written.
        let careless = alipayplus_store::Kind::new(AGREEMENT.name());
        let row = store
            .load::<AgreementPay>(careless, "PAY-1")
            .unwrap()
            .unwrap();
        match store.save(careless, "PAY-1", row.version, &pay(), Next::Final, t(1)) {
            Err(Error::InvalidInput {
                what: "follow-up kind",
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        drop(store);
        if let Some(path) = &db.path {
            assert!(!contains(&raw_bytes(path), TOKEN.as_bytes()));
        }
        let store = db.open_sealed();
        let row = store
            .load::<AgreementPay>(AGREEMENT, "PAY-1")
            .unwrap()
            .unwrap();
        assert_eq!((row.version, row.is_final), (v1, false));
    }
}
