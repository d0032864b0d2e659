//! The blocking driver: identical pay bytes on every attempt, a bounded call count through a
//! day-long outage, and a bounded run that returns "unresolved, keep following".

mod common;

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipayplus_client::client::Client;
use alipayplus_client::driver::{Event, Flow, PaymentFollower};
use alipayplus_client::time::Timestamp;
use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
use alipayplus_client::transport::{Request, Response};
use alipayplus_types::{
    Amount, Currency, Merchant, Order, PayRequest, PaymentFactor, PaymentMethod, Secret, StrBool,
};
use common::{Mode, answer, config};

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

/// A clock the driver moves on when it is told to wait.
struct ManualClock(Cell<Timestamp>);
impl alipayplus_client::time::Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.get()
    }
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
    let client = Client::new(config(), transport);
    let clock = ManualClock(Cell::new(common::now()));
    let request = pay_request("PAY-BYTES");
    let tracker = PaymentTracker::new(
        "PAY-BYTES",
        clock.0.get(),
        clock.0.get() + Duration::from_secs(60),
        TrackerPolicy::auto_debit(),
    );
    let mut follower = PaymentFollower::new(request, tracker).unwrap();
    let followed = follower
        .run(&client, &clock, |event| {
            if let Event::Wait { until } = event {
                clock.0.set(until);
            }
            Flow::Continue
        })
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
    let client = Client::new(config(), transport);
    // 00:20 UTC+8: almost 24 h to the cancel deadline.
    let start = Timestamp::parse_iso8601("2025-02-20T00:20:00+08:00").unwrap();
    let clock = ManualClock(Cell::new(start));
    let tracker = PaymentTracker::new(
        "PAY-OUTAGE",
        start,
        start + Duration::from_secs(60),
        TrackerPolicy::auto_debit(),
    );
    let mut follower = PaymentFollower::new(pay_request("PAY-OUTAGE"), tracker).unwrap();
    let followed = follower
        .run(&client, &clock, |event| {
            if let Event::Wait { until } = event {
                clock.0.set(until);
            }
            Flow::Continue
        })
        .unwrap();
    assert_eq!(followed.final_state, Some(Final::Unresolved));
    assert!(clock.0.get() >= start + Duration::from_secs(86_000));
    let budget = TrackerPolicy::auto_debit().call_budget;
    assert!(calls.get() <= budget, "{} calls", calls.get());
    assert!(calls.get() > 100, "kept trying: {}", calls.get());
}

/// A bounded run returns "unresolved, keep following" with the tracker to resume from.
#[test]
fn a_bounded_run_returns_open_and_resumes() {
    let client = Client::new(config(), outage());
    let start = common::now();
    let clock = ManualClock(Cell::new(start));
    let tracker = PaymentTracker::new(
        "PAY-BOUND",
        start,
        start + Duration::from_secs(60),
        TrackerPolicy::auto_debit(),
    );
    let request = pay_request("PAY-BOUND");
    let mut follower = PaymentFollower::new(request.clone(), tracker).unwrap();
    let bound = start + Duration::from_secs(600);
    let on = |event: Event<'_>| {
        if let Event::Wait { until } = event {
            assert!(until <= bound, "no wait past the bound");
            clock.0.set(until);
        }
        Flow::Continue
    };
    let followed = follower.run_until(&client, &clock, bound, on).unwrap();
    assert!(followed.keep_following());
    assert_eq!(followed.final_state, None);
    assert!(clock.0.get() >= bound && clock.0.get() < bound + Duration::from_secs(1));
    // Stored and resumed: it goes on where it was (cancelling), not from a new pay.
    let stored = serde_json::to_string(&followed.tracker).unwrap();
    let tracker: PaymentTracker = serde_json::from_str(&stored).unwrap();
    let mut resumed = PaymentFollower::new(request, tracker).unwrap();
    let mut apis = Vec::new();
    resumed
        .run_until(&client, &clock, bound + Duration::from_secs(600), |event| {
            match event {
                Event::Called { api, .. } => apis.push(api),
                Event::Wait { until } => clock.0.set(until),
                _ => {}
            }
            Flow::Continue
        })
        .unwrap();
    assert!(!apis.is_empty() && !apis.contains(&"pay"), "{apis:?}");
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
                alipayplus_client::error::RequestError::PayBodyMismatch { payment_request_id }
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
    let shown = format!("{follower:?}");
    assert!(!shown.contains("AT-1"), "{shown}");
    // Nor as the byte list a derived Debug prints.
    let bytes = format!("{:?}", follower.body());
    assert!(!shown.contains(bytes.trim_matches(['[', ']'])), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}
