//! The follower machine and its blocking loop: identical pay bytes on every attempt, a bounded
//! call count through a day-long outage, a bounded run that returns "unresolved, keep
//! following", and a stored state that resumes from its bytes alone.

mod common;

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::driver::{Action, Api, Limit, PaymentFollower};
use alipayplus_client::error::RequestError;
use alipayplus_client::time::Timestamp;
use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
use alipayplus_client::transport::{Request, Response};
use alipayplus_sign::PublicKeys;
use alipayplus_types::{
    Amount, Currency, Merchant, Order, PayRequest, PaymentFactor, PaymentMethod, Secret, StrBool,
};
use common::{Mode, answer};

fn pay_request(id: &str) -> PayRequest {
    let usd = Amount::new(Currency::USD, 1000);
    let method = PaymentMethod {
        payment_method_id: Some(Secret::new("AT-1")),
        ..PaymentMethod::new("CONNECT_WALLET".into())
    };
    let factor = PaymentFactor {
        is_agreement_payment: Some(StrBool(true)),
        ..PaymentFactor::new()
    };
    let order = Order::new(
        "O-1".into(),
        "coffee".into(),
        usd,
        Merchant::new("M-1".into()),
    );
    PayRequest::new(id.into(), order, usd, method, factor)
}

/// A clock the wait function moves on; the client's config reads it.
#[derive(Clone)]
struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    fn at(t: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(t.unix_millis())))
    }
    fn get(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.0.load(Ordering::SeqCst))
    }
    fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }
}

fn config_at(clock: &ManualClock) -> ClientConfig {
    let c = clock.clone();
    ClientConfig::new(
        common::CLIENT_ID,
        Host::OtherRegionsAccelerated,
        common::acqp_key(),
        PublicKeys::single(1, common::alipay_public()),
        move || c.get(),
    )
    .unwrap()
}

fn result(code: &str, status: &str) -> String {
    format!(
        r#"{{"result":{{"resultCode":"{code}","resultStatus":"{status}","resultMessage":"m"}}}}"#
    )
}

/// Every pay attempt sends the same bytes, and a REPEAT_REQ_INCONSISTENT on a retry therefore
/// proves the id belongs to another order (a new id is safe).
#[test]
fn pay_retries_resend_the_stored_body_byte_for_byte() {
    let bodies = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let seen = bodies.clone();
    let transport = move |request: Request| -> Result<Response, std::io::Error> {
        let path = request.path().to_string();
        let mut b = seen.lock().unwrap();
        b.push(request.body.clone());
        if b.len() < 3 {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        Ok(answer(
            Mode::Signed,
            &path,
            &result("REPEAT_REQ_INCONSISTENT", "F"),
        ))
    };
    let clock = ManualClock::at(common::now());
    let client = Client::new(config_at(&clock), transport);
    let request = pay_request("PAY-BYTES");
    let tracker = PaymentTracker::new(
        "PAY-BYTES",
        clock.get(),
        clock.get() + Duration::from_secs(60),
        TrackerPolicy::auto_debit(),
    );
    let mut follower = PaymentFollower::new(request, tracker).unwrap();
    let followed = follower
        .run(&client, Limit::none(), |wait| clock.advance(wait))
        .unwrap();
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 3, "two lost answers, then the third attempt");
    assert!(bodies.iter().all(|b| b == follower.body()), "same bytes");
    assert_eq!(followed.pay_attempts, 3);
    assert_eq!(
        followed.final_state,
        Some(Final::RequestIdReused {
            new_id_is_safe: true
        })
    );
}

fn outage() -> impl Fn(Request) -> Result<Response, std::io::Error> {
    |_request| Err(std::io::ErrorKind::TimedOut.into())
}

/// A day-long outage: the driver follows the payment to `Unresolved` with a few hundred calls.
#[test]
fn a_24_hour_outage_costs_a_bounded_number_of_calls() {
    let calls = Cell::new(0u32);
    let transport = |r: Request| {
        calls.set(calls.get() + 1);
        outage()(r)
    };
    // 00:20 UTC+8: almost 24 h to the cancel deadline.
    let start = Timestamp::parse_iso8601("2025-02-20T00:20:00+08:00").unwrap();
    let clock = ManualClock::at(start);
    let client = Client::new(config_at(&clock), transport);
    let tracker = PaymentTracker::new(
        "PAY-OUTAGE",
        start,
        start + Duration::from_secs(60),
        TrackerPolicy::auto_debit(),
    );
    let mut follower = PaymentFollower::new(pay_request("PAY-OUTAGE"), tracker).unwrap();
    let followed = follower
        .run(&client, Limit::none(), |wait| clock.advance(wait))
        .unwrap();
    assert_eq!(followed.final_state, Some(Final::Unresolved));
    assert!(clock.get() >= start + Duration::from_secs(86_000));
    let budget = TrackerPolicy::auto_debit().call_budget;
    assert!(calls.get() <= budget, "{} calls", calls.get());
    assert!(calls.get() > 100, "kept trying: {}", calls.get());
}

/// A bounded run returns "unresolved, keep following" with the state to resume from; the
/// bound is a deadline of the config's clock or a number of calls.
#[test]
fn a_bounded_run_returns_open_and_resumes() {
    let start = common::now();
    let clock = ManualClock::at(start);
    let apis = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = apis.clone();
    let transport = move |r: Request| {
        seen.lock()
            .unwrap()
            .push(r.path().rsplit('/').next().unwrap().to_string());
        outage()(r)
    };
    let client = Client::new(config_at(&clock), transport);
    let tracker = PaymentTracker::new(
        "PAY-BOUND",
        start,
        start + Duration::from_secs(60),
        TrackerPolicy::auto_debit(),
    );
    let request = pay_request("PAY-BOUND");
    let mut follower = PaymentFollower::new(request, tracker).unwrap();
    let bound = start + Duration::from_secs(600);
    let followed = follower
        .run(&client, Limit::until(bound), |wait| {
            assert!(clock.get() + wait <= bound, "no wait past the bound");
            clock.advance(wait)
        })
        .unwrap();
    assert!(followed.keep_following());
    assert_eq!(followed.final_state, None);
    assert!(clock.get() >= bound && clock.get() < bound + Duration::from_secs(1));
    // Stored and resumed from the bytes alone: it goes on where it was (cancelling), not
    // from a new pay.
    let stored = followed.state.to_bytes();
    drop(follower);
    apis.lock().unwrap().clear();
    let mut resumed = PaymentFollower::from_bytes(&stored).unwrap();
    let followed = resumed
        .run(&client, Limit::calls(3), |wait| clock.advance(wait))
        .unwrap();
    assert!(followed.keep_following());
    let apis = apis.lock().unwrap();
    assert_eq!(apis.len(), 3, "the call budget of the run");
    assert!(!apis.contains(&"pay".to_string()), "{apis:?}");
}

/// Issue 20: a follower stored right after `poll` issued the first pay (the write-ahead
/// record), its process gone before the answer, resumes from the stored bytes alone and
/// finishes: the lost pay counts as unanswered, the same bytes are sent again.
#[test]
fn a_follower_stored_after_an_unanswered_pay_resumes_from_its_bytes_alone() {
    let start = common::now();
    let clock = ManualClock::at(start);
    let bodies = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let seen = bodies.clone();
    let transport = move |r: Request| -> Result<Response, std::io::Error> {
        let path = r.path().to_string();
        seen.lock().unwrap().push(r.body.clone());
        Ok(answer(Mode::Signed, &path, &result("SUCCESS", "S")))
    };
    let stored = {
        let request = pay_request("PAY-CRASH");
        let tracker = PaymentTracker::for_pay(&request, start, TrackerPolicy::auto_debit());
        let mut follower = PaymentFollower::new(request, tracker).unwrap();
        let Action::Send(call) = follower.poll(start) else {
            panic!("pay first")
        };
        assert_eq!(call.api(), Api::Pay);
        // Stored before the send; then the process dies (the pay may have left).
        follower.state().to_bytes()
    };
    let first_body = PaymentFollower::from_bytes(&stored)
        .unwrap()
        .body()
        .to_vec();
    clock.advance(Duration::from_secs(30));
    let mut resumed = PaymentFollower::from_bytes(&stored).unwrap();
    assert!(resumed.tracker().first_pay_digest().is_some());
    let client = Client::new(config_at(&clock), transport);
    let followed = resumed
        .run(&client, Limit::none(), |wait| clock.advance(wait))
        .unwrap();
    assert_eq!(followed.final_state, Some(Final::Succeeded));
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0], first_body, "the stored bytes, sent again");
    assert_eq!(followed.pay_attempts, 2, "the lost one and the resend");
    assert_eq!(followed.state.tracker().pay_sends(), 2);
    assert_eq!(followed.state.tracker().unanswered_calls(), 1);
}

/// A stored state whose body was altered (or whose digest does not match) is refused.
#[test]
fn a_tampered_stored_state_is_refused() {
    let start = common::now();
    let request = pay_request("PAY-TAMPER");
    let tracker = PaymentTracker::for_pay(&request, start, TrackerPolicy::auto_debit());
    let mut follower = PaymentFollower::new(request, tracker).unwrap();
    follower.poll(start);
    let stored = String::from_utf8(follower.state().to_bytes()).unwrap();
    let tampered = stored.replace(r#"\"value\":\"1000\""#, r#"\"value\":\"9000\""#);
    assert_ne!(tampered, stored);
    let error = PaymentFollower::from_bytes(tampered.as_bytes()).unwrap_err();
    assert!(matches!(error, RequestError::StoredState(_)), "{error:?}");
    let error = PaymentFollower::from_bytes(b"{}").unwrap_err();
    assert!(matches!(error, RequestError::StoredState(_)), "{error:?}");
}

/// Issue 19: a follower resumed with a rebuilt request (another amount or expiry) under a
/// tracker that recorded the first send's digest is refused: its bytes are not the ones sent.
#[test]
fn a_resumed_follower_with_other_bytes_is_refused() {
    let now = common::now();
    let request = pay_request("PAY-RESUME");
    let mut tracker = PaymentTracker::new(
        "PAY-RESUME",
        now,
        now + Duration::from_secs(60),
        TrackerPolicy::auto_debit(),
    );
    tracker.record_pay_send(&serde_json::to_vec(&request).unwrap());
    for rebuilt in [
        PayRequest {
            payment_amount: Amount::new(Currency::USD, 1200),
            ..request.clone()
        },
        PayRequest {
            payment_expiry_time: Some(
                alipayplus_types::DateTime::parse("2025-02-20T17:05:00+08:00").unwrap(),
            ),
            ..request.clone()
        },
    ] {
        let error = PaymentFollower::new(rebuilt, tracker.clone()).unwrap_err();
        assert!(
            matches!(
                &error,
                RequestError::PayBodyMismatch { payment_request_id }
                    if payment_request_id == "PAY-RESUME"
            ),
            "{error:?}"
        );
    }
    // The very bytes sent first resume.
    PaymentFollower::new(request, tracker).unwrap();
}

/// Issue 19: the follower's Debug never shows the pay body (an Auto Debit body holds the
/// access token).
#[test]
fn the_follower_debug_redacts_the_pay_body() {
    let now = common::now();
    let request = pay_request("PAY-DEBUG");
    let tracker = PaymentTracker::for_pay(&request, now, TrackerPolicy::auto_debit());
    let follower = PaymentFollower::new(request, tracker).unwrap();
    assert!(String::from_utf8_lossy(follower.body()).contains("AT-1"));
    let shown = format!("{follower:?}") + &format!("{:?}", follower.state());
    assert!(!shown.contains("AT-1"), "{shown}");
    // Nor as the byte list a derived Debug prints.
    let bytes = format!("{:?}", follower.body());
    assert!(!shown.contains(bytes.trim_matches(['[', ']'])), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}

/// The product rules of pay live with the types; neither `Client::call` nor the follower can
/// skip them: an agreement pay that is also a Cashier Payment, with an empty token, is never
/// sent.
#[test]
fn the_product_rules_are_checked_by_every_send() {
    let mut request = pay_request("PAY-RULES");
    request.payment_factor.is_cashier_payment = Some(StrBool(true));
    request.payment_method.payment_method_id = Some(Secret::new(""));
    let never = |_r: Request| -> Result<Response, std::io::Error> { panic!("must not be sent") };
    let client = common::client_with(never);
    for err in [
        client.call(&request).unwrap_err(),
        client.config().sign_request(&request).unwrap_err(),
        PaymentFollower::new(
            request.clone(),
            PaymentTracker::for_pay(&request, client.config().now(), TrackerPolicy::auto_debit()),
        )
        .unwrap_err(),
    ] {
        let RequestError::Invalid { errors, .. } = &err else {
            panic!("{err:?}")
        };
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"paymentFactor.isCashierPayment"), "{err}");
        assert!(paths.contains(&"paymentMethod.paymentMethodId"), "{err}");
    }
}
