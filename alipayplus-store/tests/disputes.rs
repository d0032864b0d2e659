//! Dispute records (feature `operations`): the new / duplicate / conflict decision of
//! `alipayplus_operations::dispute::decide` against the stored dispute, kept across reopening
//! and shared by two stores on one file; declaration ledgers.

#![cfg(feature = "operations")]

mod common;

use alipayplus_client::client::{ClientConfig, Host};
use alipayplus_client::transport::{Request, Response};
use alipayplus_operations::customs::DeclarationLedger;
use alipayplus_operations::dispute::{
    Decision, DisputeKind, handle_initiate_escalation, handle_initiate_retrieval,
};
use alipayplus_sign::{PrivateKey, PublicKey, PublicKeys, message};
use alipayplus_store::Error;
use alipayplus_types::{Amount, Currency, Timestamp};
use common::*;
use serde_json::{Value, json};

const CLIENT_ID: &str = "SANDBOX_5YC47N2ZQHJ004124";
const RETRIEVAL: &str = "/acqp/initiateRetrieval";
const ESCALATION: &str = "/acqp/initiateEscalation";

fn config() -> ClientConfig {
    ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        PrivateKey::parse(include_bytes!("data/acqp_private_pkcs8.pem")).unwrap(),
        PublicKeys::single(
            1,
            PublicKey::parse(include_bytes!("data/alipay_public_spki.pem")).unwrap(),
        ),
        || Timestamp::from_unix_secs(1_748_736_000),
    )
    .unwrap()
}

fn inbound(path: &str, body: &Value) -> Request {
    let alipay = PrivateKey::parse(include_bytes!("data/alipay_private_pkcs8.pem")).unwrap();
    let bytes = body.to_string().into_bytes();
    let time = "2025-06-01T08:00:02+08:00";
    let signature =
        message::sign_request(&alipay, 1, "POST", path, CLIENT_ID, time, &bytes).unwrap();
    let mut request = Request::post(path, bytes);
    request
        .headers
        .insert("Content-Type", "application/json; charset=UTF-8");
    request.headers.insert("Client-Id", CLIENT_ID);
    request.headers.insert("Request-Time", time);
    request.headers.insert("Signature", signature.as_str());
    request
}

/// The answer is signed by the ACQP; its result.
fn answered(path: &str, answer: &Response) -> (String, String) {
    let keys = PublicKeys::single(
        1,
        PublicKey::parse(include_bytes!("data/acqp_public_spki.pem")).unwrap(),
    );
    let headers = answer.headers.iter().map(|(n, v)| (n, v.as_bytes()));
    message::verify_response(&keys, "POST", path, headers, &answer.body)
        .expect("signed by the ACQP");
    let v: Value = serde_json::from_slice(&answer.body).unwrap();
    (
        v["result"]["resultStatus"].as_str().unwrap().into(),
        v["result"]["resultCode"].as_str().unwrap().into(),
    )
}

fn retrieval(dispute: &str, payment: &str) -> Value {
    json!({
        "disputeRequestId": dispute,
        "paymentRequestId": payment,
        "disputeOccurTime": "2025-06-03T10:00:00+08:00",
        "disputeReasonCode": "4853"
    })
}

#[test]
fn new_duplicate_and_conflict_are_decided_against_the_stored_dispute() {
    for db in dbs("disputes") {
        let config = config();
        let first =
            handle_initiate_retrieval(&config, &inbound(RETRIEVAL, &retrieval("DSP-1", "PAY-1")))
                .unwrap();
        {
            let store = db.open();
            let received = store.receive_dispute(&config, &first, t(0)).unwrap();
            assert!(received.is_new());
            assert_eq!(
                answered(RETRIEVAL, &received.answer),
                ("S".into(), "SUCCESS".into())
            );
        }
        // After a restart (another store on the file): a re-delivery is a duplicate...
        let store = db.open();
        let received = store.receive_dispute(&config, &first, t(5)).unwrap();
        assert_eq!(received.decision, Decision::Duplicate);
        assert_eq!(
            answered(RETRIEVAL, &received.answer),
            ("S".into(), "SUCCESS".into())
        );
        // ... and the same id for another payment is a conflict, answered F, the first kept.
        let conflict =
            handle_initiate_retrieval(&config, &inbound(RETRIEVAL, &retrieval("DSP-1", "PAY-2")))
                .unwrap();
        let received = store.receive_dispute(&config, &conflict, t(6)).unwrap();
        assert_eq!(
            received.decision,
            Decision::Conflict {
                stored_payment_request_id: "PAY-1".into()
            }
        );
        assert_eq!(
            answered(RETRIEVAL, &received.answer),
            ("F".into(), "REPEAT_REQ_INCONSISTENT".into())
        );

        let stored = store
            .dispute(DisputeKind::Retrieval, "DSP-1")
            .unwrap()
            .unwrap();
        assert_eq!(stored.dispute.payment_request_id, "PAY-1");
        assert_eq!(
            stored.body["disputeReasonCode"], "4853",
            "unknown fields kept"
        );
        assert_eq!((stored.received_at, stored.answered_at), (t(0), None));

        // Escalations are another key space.
        let escalation = handle_initiate_escalation(
            &config,
            &inbound(
                ESCALATION,
                &json!({"disputeRequestId": "DSP-1", "paymentRequestId": "PAY-9",
            "escalationAmount": {"currency": "SGD", "value": "1000"}}),
            ),
        )
        .unwrap();
        assert!(
            store
                .receive_dispute(&config, &escalation, t(7))
                .unwrap()
                .is_new()
        );

        let open_ones = store.unanswered_disputes(10).unwrap();
        assert_eq!(open_ones.len(), 2);
        store
            .mark_dispute_answered(DisputeKind::Retrieval, "DSP-1", t(8))
            .unwrap();
        let open_ones = store.unanswered_disputes(10).unwrap();
        assert_eq!(open_ones.len(), 1);
        assert_eq!(open_ones[0].dispute.kind, DisputeKind::Escalation);
        assert!(matches!(
            store.mark_dispute_answered(DisputeKind::Retrieval, "DSP-404", t(9)),
            Err(Error::NotFound { .. })
        ));
    }
}

#[test]
fn concurrent_deliveries_of_one_dispute_make_one_new() {
    for db in dbs("disputes-race") {
        drop(db.open());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let config = config();
                    let store = db.open();
                    let d = handle_initiate_retrieval(
                        &config,
                        &inbound(RETRIEVAL, &retrieval("DSP-R", "PAY-R")),
                    )
                    .unwrap();
                    store.receive_dispute(&config, &d, t(0)).unwrap().is_new()
                })
            })
            .collect();
        let new: usize = threads
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum();
        assert_eq!(new, 1, "acted on once");
    }
}

#[test]
fn declaration_ledgers_are_stored_compare_and_swap() {
    for db in dbs("ledgers") {
        let store = db.open();
        let ledger = DeclarationLedger::new("PAY-1", Amount::new(Currency::CNY, 10_000)).unwrap();
        let v1 = store.save_ledger(&ledger, None, t(0)).unwrap();
        assert!(matches!(
            store.save_ledger(&ledger, None, t(1)),
            Err(Error::Exists { .. })
        ));
        let v2 = store.save_ledger(&ledger, Some(v1), t(1)).unwrap();
        assert!(matches!(
            store.save_ledger(&ledger, Some(v1), t(2)),
            Err(Error::Stale { .. })
        ));
        let back = store.ledger("PAY-1").unwrap().unwrap();
        assert_eq!(
            (back.value.remaining(), back.version),
            (Amount::new(Currency::CNY, 10_000), v2)
        );
        assert!(store.ledger("PAY-2").unwrap().is_none());
    }
}
