//! The inbound inbox: stored once, re-deliveries recognised (same body or not), consumed only
//! with the state save, all or nothing.

mod common;

use alipayplus_store::{Appended, Error, Inbound, Next, Source};
use common::*;

#[test]
fn a_redelivery_is_a_duplicate_not_a_second_row() {
    for db in dbs("dup") {
        let store = db.open();
        store
            .create(PAY, "PAY-1", &0u32, Next::At(t(60)), t(0))
            .unwrap();
        let body = br#"{"paymentRequestId":"PAY-1","paymentResult":{"resultStatus":"S"}}"#;
        let event = Inbound::new(Source::NotifyPayment, "PAY-1", body).for_follow_up(PAY, "PAY-1");
        let first = store.append(&event, t(1)).unwrap();
        let Appended::New(seq) = first else {
            panic!("{first:?}")
        };
        assert_eq!(
            store.append(&event, t(2)).unwrap(),
            Appended::Duplicate {
                seq,
                same_body: true
            }
        );
        let other_body = br#"{"paymentRequestId":"PAY-1","paymentResult":{"resultStatus":"F"}}"#;
        let changed =
            Inbound::new(Source::NotifyPayment, "PAY-1", other_body).for_follow_up(PAY, "PAY-1");
        assert_eq!(
            store.append(&changed, t(3)).unwrap(),
            Appended::Duplicate {
                seq,
                same_body: false
            },
            "another body under the same key is flagged and kept out"
        );
        let entries = store.unconsumed(PAY, "PAY-1").unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].body, body, "the first body stays the reference");
        assert_eq!(entries[0].received_at, t(1));
        assert_eq!(
            entries[0].follow_up,
            Some(("cashier.pay".into(), "PAY-1".into()))
        );

        // The same key from another API is another event.
        let registration = Inbound::new(Source::NotifyRegistrationStatus, "PAY-1", b"{}");
        assert!(matches!(
            store.append(&registration, t(4)).unwrap(),
            Appended::New(_)
        ));
        // Found by source and key once acknowledged, consumed or not.
        assert_eq!(
            store
                .inbound(Source::NotifyPayment, "PAY-1")
                .unwrap()
                .unwrap()
                .seq,
            seq
        );
        assert!(
            store
                .inbound(Source::AuthNotify, "PAY-1")
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn consuming_is_in_the_same_transaction_as_the_state_save() {
    for db in dbs("consume") {
        let store = db.open();
        let v1 = store
            .create(PAY, "PAY-1", &0u32, Next::At(t(60)), t(0))
            .unwrap();
        store
            .create(PAY, "PAY-2", &0u32, Next::At(t(60)), t(0))
            .unwrap();
        let mine = store
            .append(
                &Inbound::new(Source::NotifyPayment, "PAY-1", b"1").for_follow_up(PAY, "PAY-1"),
                t(1),
            )
            .unwrap()
            .seq();
        let theirs = store
            .append(
                &Inbound::new(Source::NotifyPayment, "PAY-2", b"2").for_follow_up(PAY, "PAY-2"),
                t(1),
            )
            .unwrap()
            .seq();

        // Another follow-up's entry: refused, and the whole save rolled back.
        match store.save_consuming(PAY, "PAY-1", v1, &1u32, Next::Final, &[mine, theirs], t(2)) {
            Err(Error::NotConsumable { seq, .. }) => assert_eq!(seq, theirs.get()),
            other => panic!("{other:?}"),
        }
        let row = store.load::<u32>(PAY, "PAY-1").unwrap().unwrap();
        assert_eq!(
            (row.state, row.version, row.is_final),
            (0, v1, false),
            "state not written"
        );
        assert_eq!(
            store.unconsumed(PAY, "PAY-1").unwrap().len(),
            1,
            "entry not consumed"
        );

        // A stale version: nothing consumed either.
        let v2 = store
            .save(PAY, "PAY-1", v1, &1u32, Next::At(t(60)), t(2))
            .unwrap();
        assert!(matches!(
            store.save_consuming(PAY, "PAY-1", v1, &2u32, Next::Final, &[mine], t(3)),
            Err(Error::Stale { .. })
        ));
        assert_eq!(store.unconsumed(PAY, "PAY-1").unwrap().len(), 1);

        // The right version and entry: both, at once.
        store
            .save_consuming(PAY, "PAY-1", v2, &2u32, Next::Final, &[mine], t(4))
            .unwrap();
        assert!(store.unconsumed(PAY, "PAY-1").unwrap().is_empty());
        assert_eq!(
            store
                .inbound(Source::NotifyPayment, "PAY-1")
                .unwrap()
                .unwrap()
                .consumed_at,
            Some(t(4))
        );
        // Consumed twice: refused.
        let v3 = store.load::<u32>(PAY, "PAY-1").unwrap().unwrap().version;
        assert!(matches!(
            store.save_consuming(PAY, "PAY-1", v3, &3u32, Next::Final, &[mine], t(5)),
            Err(Error::NotConsumable { .. })
        ));
    }
}

#[test]
fn debug_of_an_entry_shows_no_body() {
    for db in dbs("debug") {
        let store = db.open_sealed();
        let body = br#"{"accessToken":"AT-SECRET-123"}"#;
        store
            .append(&Inbound::new(Source::AuthNotify, "AUTH-1", body), t(0))
            .unwrap();
        let entry = store
            .inbound(Source::AuthNotify, "AUTH-1")
            .unwrap()
            .unwrap();
        assert_eq!(entry.body, body);
        let shown = format!(
            "{entry:?} {:?}",
            Inbound::new(Source::AuthNotify, "AUTH-1", body)
        );
        assert!(!shown.contains("AT-SECRET"), "{shown}");
        assert!(shown.contains("body_len"), "{shown}");
    }
}

#[test]
fn entries_no_worker_will_take_are_listed_not_lost() {
    for db in dbs("stray") {
        let store = db.open();
        let v1 = store
            .create(PAY, "LIVE", &0u32, Next::At(t(60)), t(0))
            .unwrap();
        store
            .create(PAY, "GAVE-UP", &0u32, Next::Final, t(0))
            .unwrap();
        let live = store
            .append(
                &Inbound::new(Source::NotifyPayment, "LIVE", b"1").for_follow_up(PAY, "LIVE"),
                t(1),
            )
            .unwrap()
            .seq();
        let late = store
            .append(
                &Inbound::new(Source::NotifyPayment, "GAVE-UP", b"2").for_follow_up(PAY, "GAVE-UP"),
                t(2),
            )
            .unwrap()
            .seq();
        let unknown = store
            .append(
                &Inbound::new(Source::NotifyPayment, "NEVER-SENT", b"3")
                    .for_follow_up(PAY, "NEVER-SENT"),
                t(3),
            )
            .unwrap()
            .seq();
        let unlinked = store
            .append(
                &Inbound::new(Source::NotifyRegistrationStatus, "REG-1", b"4"),
                t(4),
            )
            .unwrap()
            .seq();
        let stray: Vec<_> = store
            .stray_inbox(10)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(
            stray,
            [late, unknown, unlinked],
            "not the live follow-up's entry"
        );

        // The live follow-up's entry is its worker's, not a stray's.
        assert!(matches!(
            store.consume_stray(&[late, live], t(5)),
            Err(Error::NotConsumable { .. })
        ));
        assert_eq!(store.stray_inbox(10).unwrap().len(), 3, "all or none");
        store
            .consume_stray(&[late, unknown, unlinked], t(5))
            .unwrap();
        assert!(store.stray_inbox(10).unwrap().is_empty());
        // Once final, the live follow-up's leftover entry becomes a stray.
        store.mark_final(PAY, "LIVE", v1, t(6)).unwrap();
        assert_eq!(store.stray_inbox(10).unwrap()[0].seq, live);
    }
}
