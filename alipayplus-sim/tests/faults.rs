//! Fault injection over loopback HTTP: every API fault and every notification fault, and what
//! a careful client sees (no payment charged twice, duplicates harmless, forged answers fail
//! verification).

mod common;

use std::time::Duration;

use alipayplus_sim::{DeliveryKind, DeliveryOutcome, Fault, FaultRule, NotifyFaults};
use common::*;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn delay_beyond_the_timeout_then_retry_gets_the_same_payment() {
    let sim = sim();
    let mut acqp = Acqp::new(&sim);
    acqp.agent = agent(Duration::from_millis(300));
    sim.add_fault(FaultRule::once("pay", Fault::Delay { ms: 1_000 }));
    let body = pay_body("D-1", 100, None).to_string();
    let timed_out = acqp.try_send(PAY, body.as_bytes(), body.as_bytes(), &acqp.key, &[]);
    assert!(timed_out.is_err(), "the client gave up");
    // The payment was created all the same; the retry with the same id finds it.
    let retry = acqp.call(PAY, &pay_body("D-1", 100, None));
    assert_eq!(retry.code(), "PAYMENT_IN_PROCESS");
    assert_eq!(sim.payments().len(), 1);
    assert_eq!(
        retry.json["paymentId"],
        sim.payments()[0].payment_id.as_str()
    );
}

#[test]
fn unknown_result_processed_and_unprocessed() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    sim.add_fault(FaultRule::once("pay", Fault::UnknownResult { code: None }));
    let r = acqp.call(PAY, &pay_body("U-1", 100, None));
    assert_eq!((r.status_letter(), r.code()), ("U", "UNKNOWN_EXCEPTION"));
    assert_eq!(r.verified, Ok(()), "a U answer is still signed");
    assert_eq!(sim.payments().len(), 1, "processed: the payment exists");
    let retry = acqp.call(PAY, &pay_body("U-1", 100, None));
    assert_eq!(retry.code(), "PAYMENT_IN_PROCESS");
    assert_eq!(sim.payments().len(), 1);

    sim.add_fault(
        FaultRule::once(
            "pay",
            Fault::UnknownResult {
                code: Some("REQUEST_TRAFFIC_EXCEED_LIMIT".into()),
            },
        )
        .unprocessed(),
    );
    let r = acqp.call(PAY, &pay_body("U-2", 100, None));
    assert_eq!(
        (r.status_letter(), r.code()),
        ("U", "REQUEST_TRAFFIC_EXCEED_LIMIT")
    );
    assert!(sim.payment("U-2").is_none(), "unprocessed: no payment");
    assert_eq!(
        acqp.call(PAY, &pay_body("U-2", 100, None)).code(),
        "PAYMENT_IN_PROCESS"
    );
}

#[test]
fn http_5xx_is_unsigned_and_retry_is_safe() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    sim.add_fault(FaultRule::once("refund", Fault::HttpStatus { status: 503 }));
    acqp.call(PAY, &pay_body("H-1", 100, None));
    sim.approve("H-1").unwrap();
    let refund = json!({"paymentRequestId": "H-1", "refundRequestId": "H-1-R",
                        "refundAmount": {"currency": "USD", "value": "60"}});
    let r = acqp.call(REFUND, &refund);
    assert_eq!(r.status, 503);
    assert!(r.verified.is_err());
    let retry = acqp.call(REFUND, &refund);
    assert_eq!(retry.code(), "SUCCESS");
    assert_eq!(sim.payment("H-1").unwrap().refunded, 60, "refunded once");
}

#[test]
fn unsigned_badly_signed_and_tampered_answers_fail_verification() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    for (fault, needle) in [
        (Fault::Unsigned, "Signature"),
        (Fault::BadSignature, "verif"),
        (Fault::TamperedBody, "verif"),
    ] {
        sim.add_fault(FaultRule::once("inquiryPayment", fault.clone()));
        let r = acqp.call(INQUIRY, &json!({"paymentRequestId": "nope"}));
        assert_eq!(r.status, 200);
        let error = r.verified.clone().expect_err("must not verify");
        assert!(error.contains(needle), "{fault:?}: {error}");
        if fault == Fault::TamperedBody {
            // The forged body claims success for a payment that does not exist.
            assert_eq!(r.status_letter(), "S");
            assert_eq!(r.json["tampered"], "true");
        }
    }
    let clean = acqp.call(INQUIRY, &json!({"paymentRequestId": "nope"}));
    assert_eq!(clean.verified, Ok(()));
    let faults: Vec<_> = sim.calls().iter().filter_map(|c| c.fault.clone()).collect();
    assert_eq!(faults, ["unsigned", "badSignature", "tamperedBody"]);
}

#[test]
fn per_run_faults_hit_every_call_until_cleared_and_match_by_payment() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    sim.add_fault(FaultRule::always(Fault::Unsigned).for_payment("RUN-1"));
    for _ in 0..3 {
        let r = acqp.call(INQUIRY, &json!({"paymentRequestId": "RUN-1"}));
        assert!(r.verified.is_err());
    }
    assert!(
        acqp.call(INQUIRY, &json!({"paymentRequestId": "RUN-2"}))
            .verified
            .is_ok()
    );
    sim.clear_faults();
    assert!(
        acqp.call(INQUIRY, &json!({"paymentRequestId": "RUN-1"}))
            .verified
            .is_ok()
    );

    // The same through the control API.
    let (status, rules) = acqp.control(
        "POST",
        "/sim/faults",
        Some(json!({"api": "pay", "fault": {"kind": "httpStatus", "status": 500}, "times": 2})),
    );
    assert_eq!((status, rules.as_array().unwrap().len()), (200, 1));
    assert_eq!(acqp.call(PAY, &pay_body("RUN-3", 1, None)).status, 500);
    assert_eq!(acqp.call(PAY, &pay_body("RUN-3", 1, None)).status, 500);
    assert_eq!(
        acqp.call(PAY, &pay_body("RUN-3", 1, None)).code(),
        "PAYMENT_IN_PROCESS"
    );
    assert_eq!(sim.payments().len(), 1, "three tries, one payment");
    assert!(sim.faults().is_empty());
}

#[test]
fn unacknowledged_notifications_are_resent_until_acknowledged() {
    let sim = sim();
    let endpoint =
        NotifyEndpoint::start(vec![AckMode::ServerError, AckMode::Unsigned, AckMode::Good]);
    let acqp = Acqp::new(&sim);
    acqp.call(PAY, &pay_body("N-1", 100, Some(&endpoint.url)));
    sim.approve("N-1").unwrap();
    let got = endpoint.wait_for(3, WAIT);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.verified && r.result_status == "S"));
    assert!(sim.wait_notifications_idle(WAIT));
    let outcomes: Vec<_> = sim.deliveries().into_iter().map(|d| d.outcome).collect();
    assert_eq!(outcomes[0], DeliveryOutcome::HttpStatus { status: 500 });
    assert!(
        matches!(&outcomes[1], DeliveryOutcome::BadAck { reason } if reason.contains("signature"))
    );
    assert_eq!(outcomes[2], DeliveryOutcome::Acknowledged);
    assert!(sim.notifications()[0].acknowledged);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        endpoint.received().len(),
        3,
        "no re-send after the acknowledgement"
    );
}

#[test]
fn notifications_stop_after_the_schedule() {
    let sim = sim_with(|c| c.with_fast_notifications(3, Duration::from_millis(20)));
    let endpoint = NotifyEndpoint::start(vec![AckMode::ServerError; 10]);
    let acqp = Acqp::new(&sim);
    acqp.call(PAY, &pay_body("N-GU", 100, Some(&endpoint.url)));
    sim.decline("N-GU", "RISK_REJECT").unwrap();
    assert!(sim.wait_notifications_idle(WAIT));
    let status = &sim.notifications()[0];
    assert!(
        status.gave_up && !status.acknowledged && status.attempts == 3,
        "{status:?}"
    );
    assert_eq!(endpoint.received().len(), 3);
}

#[test]
fn duplicate_notifications_are_each_verified_and_acknowledged() {
    let sim = sim();
    sim.set_notify_faults(NotifyFaults {
        duplicates: 2,
        ..NotifyFaults::default()
    });
    let endpoint = NotifyEndpoint::start(vec![]);
    let acqp = Acqp::new(&sim);
    acqp.call(PAY, &pay_body("DUP-1", 100, Some(&endpoint.url)));
    sim.approve("DUP-1").unwrap();
    let got = endpoint.wait_for(3, WAIT);
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|r| r.verified && r.acked && r.payment_request_id == "DUP-1")
    );
    assert!(sim.wait_notifications_idle(WAIT));
    let kinds: Vec<_> = sim.deliveries().iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        [
            DeliveryKind::First,
            DeliveryKind::Duplicate,
            DeliveryKind::Duplicate
        ]
    );
    // Harmless: still one payment, paid once.
    assert_eq!(sim.payments().len(), 1);
    assert_eq!(
        acqp.call(INQUIRY, &json!({"paymentRequestId": "DUP-1"}))
            .json["paymentResult"]["resultStatus"],
        "S"
    );
}

#[test]
fn badly_signed_notification_is_refused_then_resent_signed() {
    let sim = sim();
    sim.set_notify_faults(NotifyFaults {
        bad_signature_first: true,
        ..NotifyFaults::default()
    });
    let endpoint = NotifyEndpoint::start(vec![]);
    let acqp = Acqp::new(&sim);
    acqp.call(PAY, &pay_body("BS-1", 100, Some(&endpoint.url)));
    sim.approve("BS-1").unwrap();
    let got = endpoint.wait_for(2, WAIT);
    assert_eq!((got[0].verified, got[1].verified), (false, true));
    assert!(sim.wait_notifications_idle(WAIT));
    let d = sim.deliveries();
    assert_eq!(
        d[0].outcome,
        DeliveryOutcome::Refused {
            code: "INVALID_SIGNATURE".into()
        }
    );
    assert!(!d[0].signed_correctly);
    assert_eq!(d[1].outcome, DeliveryOutcome::Acknowledged);
}

#[test]
fn late_and_out_of_order_notifications() {
    let sim = sim();
    let endpoint = NotifyEndpoint::start(vec![]);
    let acqp = Acqp::new(&sim);

    sim.set_notify_faults(NotifyFaults {
        late_ms: 300,
        ..NotifyFaults::default()
    });
    acqp.call(PAY, &pay_body("LATE-1", 100, Some(&endpoint.url)));
    let approved = std::time::Instant::now();
    sim.approve("LATE-1").unwrap();
    let got = endpoint.wait_for(1, WAIT);
    assert!(got[0].at.duration_since(approved) >= Duration::from_millis(300));

    // Held, then released: the newest arrives first.
    sim.set_notify_faults(NotifyFaults {
        hold: true,
        ..NotifyFaults::default()
    });
    for id in ["OOO-A", "OOO-B"] {
        acqp.call(PAY, &pay_body(id, 100, Some(&endpoint.url)));
    }
    sim.approve("OOO-A").unwrap();
    sim.decline("OOO-B", "RISK_REJECT").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(endpoint.received().len(), 1, "held");
    let (_, released) = acqp.control("POST", "/sim/notifications/release", None);
    assert_eq!(released["released"], 2);
    let got = endpoint.wait_for(3, WAIT);
    let order: Vec<_> = got
        .iter()
        .skip(1)
        .map(|r| r.payment_request_id.as_str())
        .collect();
    assert_eq!(order, ["OOO-B", "OOO-A"]);
    assert!(got.iter().all(|r| r.verified && r.acked));
}

#[test]
fn faults_aimed_at_one_payment_can_be_dropped_when_it_is_done() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    sim.add_fault(FaultRule::always(Fault::Unsigned).for_payment("DONE-1"));
    sim.add_fault(FaultRule::once("refund", Fault::BadSignature).for_payment("DONE-1"));
    sim.add_fault(FaultRule::always(Fault::Unsigned).for_payment("OPEN-1"));
    assert_eq!(sim.remove_faults_for("DONE-1"), 2);
    assert_eq!(sim.remove_faults_for("DONE-1"), 0);
    assert!(
        acqp.call(INQUIRY, &json!({"paymentRequestId": "DONE-1"}))
            .verified
            .is_ok()
    );
    assert!(
        acqp.call(INQUIRY, &json!({"paymentRequestId": "OPEN-1"}))
            .verified
            .is_err(),
        "another payment's rules stay"
    );
    assert_eq!(sim.faults().len(), 1);
}

/// Several merchant processes name themselves in `Sim-Caller`: a call for a payment arriving
/// while another caller's call for it is still being answered is an overlap; the same caller,
/// calls one after the other, or calls without the header are not.
#[test]
fn calls_for_one_payment_in_flight_from_two_callers_are_counted() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let body = pay_body("OV-1", 100, None).to_string();
    let send = |caller: &str, path: &str, body: &str| {
        acqp.send(
            path,
            body.as_bytes(),
            body.as_bytes(),
            &acqp.key,
            &[("Sim-Caller", caller)],
        )
    };
    send("w1", PAY, &body);
    let inquiry = json!({"paymentRequestId": "OV-1"}).to_string();
    send("w2", INQUIRY, &inquiry);
    send("w1", INQUIRY, &inquiry);
    assert!(sim.overlapping_calls().is_empty(), "one after the other");

    // w1's inquiry is held for 600 ms; w2's inquiry arrives meanwhile.
    sim.add_fault(FaultRule::once("inquiryPayment", Fault::Delay { ms: 600 }).for_payment("OV-1"));
    std::thread::scope(|s| {
        s.spawn(|| send("w1", INQUIRY, &inquiry));
        std::thread::sleep(Duration::from_millis(200));
        send("w1", INQUIRY, &inquiry); // the same caller: not an overlap
        send("w2", INQUIRY, &inquiry);
        acqp.call(INQUIRY, &json!({"paymentRequestId": "OV-1"})); // no caller: not tracked
    });
    let overlaps = sim.overlapping_calls();
    assert_eq!(overlaps.len(), 1, "{overlaps:?}");
    assert_eq!(
        (
            overlaps[0].payment_request_id.as_str(),
            overlaps[0].api.as_str()
        ),
        ("OV-1", "inquiryPayment")
    );
    assert_eq!(
        (overlaps[0].caller.as_str(), overlaps[0].other.as_str()),
        ("w2", "w1")
    );
    // The call log names each call's caller.
    let callers: Vec<_> = sim.calls().iter().map(|c| c.caller.clone()).collect();
    assert_eq!(
        callers
            .iter()
            .filter(|c| c.as_deref() == Some("w2"))
            .count(),
        2
    );
    assert!(callers.contains(&None));
}
