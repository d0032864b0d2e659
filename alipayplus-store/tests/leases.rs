//! Leases for several worker processes (issue 23), on SQLite and PostgreSQL: claims are
//! exclusive, expire and are taken over, a stale holder is refused when it records its next
//! send (nothing written), plain writes respect a live lease, concurrent claimers on separate
//! connections never get the same row.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use alipayplus_store::{Error, Inbound, Kind, LeaseHolder, Next, Source};
use common::*;

fn worker(id: &str, secs: u64) -> LeaseHolder {
    LeaseHolder::new(id, Duration::from_secs(secs)).unwrap()
}

fn ids(claimed: &[alipayplus_store::Claimed]) -> Vec<&str> {
    claimed.iter().map(|c| c.id.as_str()).collect()
}

#[test]
fn claims_are_exclusive_until_their_lease_expires_then_taken_over() {
    for db in dbs("claims") {
        let store = db.open();
        for (i, id) in ["P-1", "P-2", "P-3", "P-4", "P-5"].iter().enumerate() {
            store
                .create(PAY, id, &i, Next::At(t(i as i64)), t(0))
                .unwrap();
        }
        store
            .create(PAY, "LATER", &0, Next::At(t(500)), t(0))
            .unwrap();
        store.create(PAY, "DONE", &0, Next::Final, t(0)).unwrap();
        let (a, b, c) = (worker("a", 30), worker("b", 30), worker("c", 30));

        let mine = store.claim_due(&a, t(10), 3).unwrap();
        assert_eq!(ids(&mine), ["P-1", "P-2", "P-3"], "earliest due first");
        assert!(mine.iter().all(|m| m.lease_until == t(40)));
        assert!(mine.iter().all(|m| m.taken_over_from.is_none()));
        let theirs = store.claim_due(&b, t(10), 10).unwrap();
        assert_eq!(
            ids(&theirs),
            ["P-4", "P-5"],
            "only what a does not hold, only what is due"
        );
        assert!(store.claim_due(&a, t(20), 10).unwrap().is_empty());
        assert!(
            store.claim_due(&c, t(39), 10).unwrap().is_empty(),
            "leases live to t(40)"
        );

        // a and b die: after the expiry c takes everything over, and says from whom.
        let taken = store.claim_due(&c, t(41), 10).unwrap();
        assert_eq!(ids(&taken), ["P-1", "P-2", "P-3", "P-4", "P-5"]);
        let from: Vec<_> = taken.iter().map(|c| c.taken_over_from.as_deref()).collect();
        assert_eq!(
            from,
            [Some("a"), Some("a"), Some("a"), Some("b"), Some("b")]
        );
        // A notification wakes a follow-up that is not due yet.
        store
            .append(
                &Inbound::new(Source::NotifyPayment, "LATER", b"{}").for_follow_up(PAY, "LATER"),
                t(42),
            )
            .unwrap();
        assert_eq!(ids(&store.claim_due(&a, t(43), 10).unwrap()), ["LATER"]);
    }
}

#[test]
fn a_worker_that_lost_its_lease_is_refused_when_it_records_its_next_send() {
    for db in dbs("stale-holder") {
        let store = db.open();
        let v1 = store
            .create(PAY, "PAY-1", &1u32, Next::At(t(0)), t(0))
            .unwrap();
        let (a, b) = (worker("a", 30), worker("b", 30));
        let claim = store.claim_due(&a, t(0), 1).unwrap().remove(0);
        assert_eq!(claim.version, v1);
        let entry = store
            .append(
                &Inbound::new(Source::NotifyPayment, "N-1", b"{}").for_follow_up(PAY, "PAY-1"),
                t(1),
            )
            .unwrap();
        let seq = match entry {
            alipayplus_store::Appended::New(seq) => seq,
            other => panic!("{other:?}"),
        };

        // a stalls past its lease; b takes over and records its own send.
        let taken = store.claim_due(&b, t(31), 1).unwrap().remove(0);
        assert_eq!(taken.taken_over_from.as_deref(), Some("a"));
        let held = store
            .save_leased(
                &b,
                PAY,
                "PAY-1",
                taken.version,
                &2u32,
                Next::At(t(40)),
                &[],
                t(32),
            )
            .unwrap();
        assert_eq!(held.lease_until, t(62), "a leased save renews the lease");

        // a wakes up and tries to record its next send (with the inbox entry it read): refused
        // with the typed error, nothing written, the entry still unconsumed.
        for expected in [v1, held.version] {
            match store.save_leased(
                &a,
                PAY,
                "PAY-1",
                expected,
                &9u32,
                Next::Final,
                &[seq],
                t(33),
            ) {
                Err(Error::LeaseLost { key, worker }) => {
                    assert_eq!((key.as_str(), worker.as_str()), ("cashier.pay/PAY-1", "a"));
                }
                other => panic!("{other:?}"),
            }
        }
        let err = store.renew(&a, PAY, "PAY-1", t(33)).unwrap_err();
        assert!(matches!(err, Error::LeaseLost { .. }), "{err:?}");
        assert!(err.to_string().contains("stop driving it"), "{err}");
        assert!(
            !store.release(&a, PAY, "PAY-1").unwrap(),
            "a's release leaves b's lease"
        );
        let row = store.load::<u32>(PAY, "PAY-1").unwrap().unwrap();
        assert_eq!(
            (row.state, row.version, row.is_final),
            (2, held.version, false)
        );
        assert_eq!(store.unconsumed(PAY, "PAY-1").unwrap().len(), 1);

        // b consumes the entry and finishes under its lease.
        let done = store
            .save_leased(
                &b,
                PAY,
                "PAY-1",
                held.version,
                &3u32,
                Next::Final,
                &[seq],
                t(34),
            )
            .unwrap();
        assert!(store.unconsumed(PAY, "PAY-1").unwrap().is_empty());
        assert_eq!(
            store.load::<u32>(PAY, "PAY-1").unwrap().unwrap().version,
            done.version
        );
        assert!(
            store.claim_due(&a, t(1000), 10).unwrap().is_empty(),
            "final: never claimed"
        );
    }
}

#[test]
fn an_expired_lease_is_not_held_even_before_another_worker_takes_it() {
    for db in dbs("expired") {
        let store = db.open();
        store
            .create(PAY, "PAY-1", &1u32, Next::At(t(0)), t(0))
            .unwrap();
        let a = worker("a", 10);
        let claim = store.claim_due(&a, t(0), 1).unwrap().remove(0);
        // Version right, owner right, lease run out: a must claim again before it sends.
        assert!(matches!(
            store.save_leased(
                &a,
                PAY,
                "PAY-1",
                claim.version,
                &2u32,
                Next::At(t(20)),
                &[],
                t(10)
            ),
            Err(Error::LeaseLost { .. })
        ));
        assert!(matches!(
            store.renew(&a, PAY, "PAY-1", t(10)),
            Err(Error::LeaseLost { .. })
        ));
        assert_eq!(
            store.renew_all(&a, t(10)).unwrap(),
            0,
            "expired leases are not revived"
        );
        let again = store.claim_due(&a, t(10), 1).unwrap().remove(0);
        assert_eq!(
            again.taken_over_from, None,
            "its own lapsed lease is no takeover"
        );
        store
            .save_leased(
                &a,
                PAY,
                "PAY-1",
                again.version,
                &2u32,
                Next::At(t(20)),
                &[],
                t(11),
            )
            .unwrap();
        // A version mismatch under a held lease is Stale, not LeaseLost.
        assert!(matches!(
            store.save_leased(
                &a,
                PAY,
                "PAY-1",
                again.version,
                &3u32,
                Next::Final,
                &[],
                t(12)
            ),
            Err(Error::Stale { .. })
        ));
        assert!(matches!(
            store.save_leased(
                &a,
                PAY,
                "PAY-404",
                again.version,
                &3u32,
                Next::Final,
                &[],
                t(12)
            ),
            Err(Error::NotFound { .. })
        ));
    }
}

#[test]
fn renewals_keep_a_follow_up_and_release_hands_it_on() {
    for db in dbs("renew") {
        let store = db.open();
        let (a, b) = (worker("a", 30), worker("b", 30));
        let held = store
            .create_leased(&a, PAY, "NEW", &1u32, Next::At(t(0)), t(0))
            .unwrap();
        assert_eq!(held.lease_until, t(30));
        store
            .create(PAY, "OLD", &1u32, Next::At(t(0)), t(0))
            .unwrap();
        assert_eq!(
            ids(&store.claim_due(&a, t(1), 10).unwrap()),
            ["OLD"],
            "NEW is a's already"
        );
        assert!(
            store.claim_due(&b, t(1), 10).unwrap().is_empty(),
            "created under a's lease"
        );

        assert_eq!(store.renew(&a, PAY, "NEW", t(20)).unwrap(), t(50));
        assert_eq!(store.renew_all(&a, t(25)).unwrap(), 2);
        assert!(
            store.claim_due(&b, t(54), 10).unwrap().is_empty(),
            "renewed to t(55)"
        );
        assert!(store.release(&a, PAY, "OLD").unwrap());
        assert_eq!(
            ids(&store.claim_due(&b, t(54), 10).unwrap()),
            ["OLD"],
            "released: at once"
        );
        assert!(matches!(
            store.create_leased(&b, PAY, "NEW", &1u32, Next::At(t(0)), t(0)),
            Err(Error::Exists { .. })
        ));
    }
}

#[test]
fn plain_writes_wait_for_a_live_lease() {
    for db in dbs("plain") {
        let store = db.open();
        let v1 = store
            .create(PAY, "PAY-1", &1u32, Next::At(t(0)), t(0))
            .unwrap();
        let a = worker("a", 30);
        store.claim_due(&a, t(0), 1).unwrap();
        match store.save(PAY, "PAY-1", v1, &2u32, Next::Final, t(5)) {
            Err(Error::Leased { key, until }) => {
                assert_eq!((key.as_str(), until), ("cashier.pay/PAY-1", t(30)));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            store.mark_final(PAY, "PAY-1", v1, t(5)),
            Err(Error::Leased { .. })
        ));
        assert_eq!(store.load::<u32>(PAY, "PAY-1").unwrap().unwrap().state, 1);
        // After the expiry (the worker is gone), an operator may close it.
        store.mark_final(PAY, "PAY-1", v1, t(30)).unwrap();
        assert!(store.load::<u32>(PAY, "PAY-1").unwrap().unwrap().is_final);
    }
}

/// Claimers on separate connections (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: separate
/// connections to one file, as separate processes would be) race for 300 due follow-ups: each
/// row is claimed exactly once.
#[test]
fn concurrent_claimers_never_get_the_same_row() {
    const ROWS: usize = 300;
    for db in dbs("concurrent") {
        let store = db.open();
        for i in 0..ROWS {
            store
                .create(
                    PAY,
                    &format!("P-{i:03}"),
                    &i,
                    Next::At(t((i % 7) as i64)),
                    t(0),
                )
                .unwrap();
        }
        let threads: Vec<_> = (0..4)
            .map(|n| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let store = db.open();
                    let me = worker(&format!("w{n}"), 60);
                    let mut got = Vec::new();
                    loop {
                        let batch = store.claim_due(&me, t(10), 7).unwrap();
                        if batch.is_empty() {
                            return got;
                        }
                        // Each claimed row is saved through the lease: a row claimed twice
                        // would show here as a LeaseLost of the first claimer.
                        for c in &batch {
                            store
                                .save_leased(
                                    &me,
                                    PAY,
                                    &c.id,
                                    c.version,
                                    &n,
                                    Next::Final,
                                    &[],
                                    t(11),
                                )
                                .unwrap();
                        }
                        got.extend(batch.into_iter().map(|c| c.id));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut per_worker = Vec::new();
        for h in threads {
            let got = h.join().unwrap();
            per_worker.push(got.len());
            all.extend(got);
        }
        let unique: HashSet<_> = all.iter().cloned().collect();
        assert_eq!(
            all.len(),
            ROWS,
            "{:?}: claimed {} times in all",
            db.backend,
            all.len()
        );
        assert_eq!(unique.len(), ROWS, "every row once");
        assert!(store.list_unfinished(10).unwrap().is_empty());
        eprintln!("{:?}: rows per worker {per_worker:?}", db.backend);
    }
}

#[test]
fn worker_ids_and_lease_lengths_are_checked() {
    assert!(matches!(
        LeaseHolder::new("a\nb", Duration::from_secs(1)),
        Err(Error::InvalidInput {
            what: "worker id",
            ..
        })
    ));
    assert!(matches!(
        LeaseHolder::new("a", Duration::from_micros(10)),
        Err(Error::InvalidInput {
            what: "lease duration",
            ..
        })
    ));
    let _ = Kind::new("unused");
}
