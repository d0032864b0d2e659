//! Follow-up rows: create, load, compare-and-swap save, final, due listing, persistence
//! across reopening, two stores on one file, bad names.

mod common;

use alipayplus_store::{Error, Inbound, Kind, Next, Options, Source, Store};
use common::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Machine {
    attempts: u32,
    sent: Vec<String>,
}

fn machine(attempts: u32) -> Machine {
    Machine {
        attempts,
        sent: (0..attempts).map(|i| format!("inquiry-{i}")).collect(),
    }
}

#[test]
fn create_load_save_and_final_survive_reopening() {
    for db in dbs("cycle") {
        {
            let store = db.open();
            let v1 = store
                .create(PAY, "PAY-1", &machine(1), Next::At(t(5)), t(0))
                .unwrap();
            assert_eq!(v1.get(), 1);
            let v2 = store
                .save(PAY, "PAY-1", v1, &machine(2), Next::At(t(10)), t(5))
                .unwrap();
            assert_eq!(v2.get(), 2);
        }
        let store = db.open();
        let row = store.load::<Machine>(PAY, "PAY-1").unwrap().unwrap();
        assert_eq!(row.state, machine(2));
        assert_eq!(row.due_at, Some(t(10)));
        assert!(!row.is_final);
        let v3 = store
            .save(PAY, "PAY-1", row.version, &machine(3), Next::Final, t(10))
            .unwrap();
        let row = store.load::<Machine>(PAY, "PAY-1").unwrap().unwrap();
        assert!(row.is_final);
        assert_eq!((row.due_at, row.version), (None, v3));
        assert!(store.list_unfinished(10).unwrap().is_empty());
        assert!(store.load::<Machine>(PAY, "PAY-2").unwrap().is_none());
        assert!(
            store
                .load::<Machine>(Kind::new("other"), "PAY-1")
                .unwrap()
                .is_none(),
            "kinds are separate key spaces"
        );
    }
}

#[test]
fn create_never_overwrites_and_save_is_compare_and_swap() {
    for db in dbs("cas") {
        let store = db.open();
        let v1 = store
            .create(PAY, "PAY-1", &machine(1), Next::At(t(0)), t(0))
            .unwrap();
        let again = store.create(PAY, "PAY-1", &machine(9), Next::Final, t(0));
        assert!(matches!(again, Err(Error::Exists { .. })), "{again:?}");

        let v2 = store
            .save(PAY, "PAY-1", v1, &machine(2), Next::At(t(1)), t(1))
            .unwrap();
        // A second writer still holding v1 loses, and writes nothing.
        match store.save(PAY, "PAY-1", v1, &machine(7), Next::Final, t(2)) {
            Err(Error::Stale {
                expected: 1,
                found: Some(2),
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        match store.save(PAY, "PAY-404", v1, &machine(7), Next::Final, t(2)) {
            Err(Error::Stale { found: None, .. }) => {}
            other => panic!("{other:?}"),
        }
        match store.mark_final(PAY, "PAY-1", v1, t(2)) {
            Err(Error::Stale { .. }) => {}
            other => panic!("{other:?}"),
        }
        let row = store.load::<Machine>(PAY, "PAY-1").unwrap().unwrap();
        assert_eq!(
            (row.state, row.version, row.is_final),
            (machine(2), v2, false)
        );

        let v3 = store.mark_final(PAY, "PAY-1", v2, t(3)).unwrap();
        let row = store.load::<Machine>(PAY, "PAY-1").unwrap().unwrap();
        assert_eq!(
            (row.state, row.version, row.is_final),
            (machine(2), v3, true),
            "state kept"
        );
    }
}

#[test]
fn list_due_orders_by_due_time_and_notifications_wake_early() {
    for db in dbs("due") {
        let store = db.open();
        store
            .create(PAY, "LATE", &machine(1), Next::At(t(100)), t(0))
            .unwrap();
        store
            .create(PAY, "SOON", &machine(1), Next::At(t(20)), t(0))
            .unwrap();
        store
            .create(PAY, "NOW", &machine(1), Next::At(t(10)), t(0))
            .unwrap();
        store
            .create(PAY, "DONE", &machine(1), Next::Final, t(0))
            .unwrap();

        let ids = |list: Vec<alipayplus_store::DueFollowUp>| {
            list.into_iter().map(|d| d.id).collect::<Vec<_>>()
        };
        assert_eq!(ids(store.list_due(t(9), 10).unwrap()), Vec::<String>::new());
        assert_eq!(ids(store.list_due(t(20), 10).unwrap()), ["NOW", "SOON"]);
        assert_eq!(ids(store.list_due(t(20), 1).unwrap()), ["NOW"], "limit");
        assert_eq!(
            ids(store.list_unfinished(10).unwrap()),
            ["NOW", "SOON", "LATE"],
            "never the final one"
        );

        // A notification for LATE makes it due now; consuming it puts it back to its time.
        let seq = store
            .append(
                &Inbound::new(Source::NotifyPayment, "LATE", b"{}").for_follow_up(PAY, "LATE"),
                t(15),
            )
            .unwrap()
            .seq();
        assert_eq!(ids(store.list_due(t(15), 10).unwrap()), ["NOW", "LATE"]);
        let late = store.load::<Machine>(PAY, "LATE").unwrap().unwrap();
        store
            .save_consuming(
                PAY,
                "LATE",
                late.version,
                &machine(2),
                Next::At(t(100)),
                &[seq],
                t(16),
            )
            .unwrap();
        assert_eq!(ids(store.list_due(t(16), 10).unwrap()), ["NOW"]);
    }
}

#[test]
fn a_listener_and_a_worker_share_one_file() {
    for db in dbs("shared") {
        let worker = db.open();
        let listener = db.open();
        let v1 = worker
            .create(PAY, "PAY-1", &machine(1), Next::At(t(60)), t(0))
            .unwrap();
        let threads: Vec<_> = (0..4)
            .map(|n| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let store = db.open();
                    for i in 0..25 {
                        let key = format!("N-{n}-{i}");
                        store
                            .append(
                                &Inbound::new(Source::NotifyPayment, &key, key.as_bytes())
                                    .for_follow_up(PAY, "PAY-1"),
                                t(1),
                            )
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let _ = listener
            .append(
                &Inbound::new(Source::NotifyPayment, "N-0-0", b"N-0-0"),
                t(2),
            )
            .unwrap();
        let entries = worker.unconsumed(PAY, "PAY-1").unwrap();
        assert_eq!(entries.len(), 100, "every append from every thread, once");
        assert!(
            entries.windows(2).all(|w| w[0].seq < w[1].seq),
            "oldest first"
        );
        let seqs: Vec<_> = entries.iter().map(|e| e.seq).collect();
        worker
            .save_consuming(PAY, "PAY-1", v1, &machine(2), Next::At(t(60)), &seqs, t(3))
            .unwrap();
        assert!(listener.unconsumed(PAY, "PAY-1").unwrap().is_empty());
    }
}

#[test]
fn bad_names_and_urls_are_refused_with_what_is_wrong() {
    let store = open(&db_path("names"));
    for (id, reason) in [("", "is empty"), ("a\nb", "holds a control character")] {
        match store.create(PAY, id, &1u8, Next::Final, t(0)) {
            Err(Error::InvalidInput {
                what: "follow-up id",
                reason: r,
            }) => assert_eq!(r, reason),
            other => panic!("{other:?}"),
        }
    }
    let long = "x".repeat(257);
    assert!(matches!(
        store.create(PAY, &long, &1u8, Next::Final, t(0)),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        store.create(Kind::new(""), "ID", &1u8, Next::Final, t(0)),
        Err(Error::InvalidInput { .. })
    ));

    for url in ["", "sqlite:", "file:/tmp/x", "mysql://h/db"] {
        assert!(
            matches!(Store::open(url, Options::default()), Err(Error::Url { .. })),
            "{url}"
        );
    }
    let err = Store::open("postgresql://u@h/db", Options::default()).unwrap_err();
    if cfg!(feature = "postgres") {
        // A server that is not there: a database error naming the connection, after the
        // connect timeout (here the busy timeout).
        assert!(matches!(err, Error::Database { .. }), "{err:?}");
        assert!(err.to_string().contains("connecting"), "{err}");
    } else {
        assert!(matches!(err, Error::BackendUnavailable { .. }));
        assert!(err.to_string().contains("feature"), "{err}");
        assert!(err.to_string().contains("sqlite:PATH"), "{err}");
    }
}

#[test]
fn a_state_of_another_type_is_a_clear_error_not_a_panic() {
    for db in dbs("types") {
        let store = db.open();
        store
            .create(PAY, "PAY-1", &machine(1), Next::Final, t(0))
            .unwrap();
        match store.load::<u64>(PAY, "PAY-1") {
            Err(Error::Deserialize { what, .. }) => assert_eq!(what, "follow-up state"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let path = db_path("garbage");
    std::fs::write(&path, vec![0xAB; 8192]).unwrap();
    match Store::open(&url(&path), Options::default()) {
        Err(Error::Database { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_store_is_shared_across_threads() {
    for db in dbs("threads") {
        let store = std::sync::Arc::new(db.open());
        fn send_sync<T: Send + Sync>(_: &T) {}
        send_sync(&*store);
        let handles: Vec<_> = (0..4)
            .map(|n| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..20 {
                        store
                            .create(
                                PAY,
                                &format!("P-{n}-{i}"),
                                &machine(1),
                                Next::At(t(i)),
                                t(0),
                            )
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(store.list_unfinished(1000).unwrap().len(), 80);
    }
}
