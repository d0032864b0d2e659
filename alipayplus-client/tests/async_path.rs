//! The async path (`call_async`, `send_async`, `run_async`) against the same fake Alipay+ as
//! the blocking tests: the same bytes go out, the same outcomes come back, and the futures
//! are `Send`. No runtime: the closures answer at once, so a no-op waker polls them through.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Host, Outcome};
use alipayplus_client::driver::{Followed, Limit, PaymentFollower};
use alipayplus_client::error::{RequestError, ResponseError};
use alipayplus_client::inquiry::PaymentRef;
use alipayplus_client::time::{Clock, Timestamp};
use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
use alipayplus_client::transport::{Request, Response};
use alipayplus_client::{cancel, inquiry, refund};
use alipayplus_sign::PublicKeys;
use alipayplus_types::{
    Amount, Currency, Env, InquiryPaymentRequest, Merchant, NotifyPaymentRequest, Order,
    PayRequest, PaymentFactor, PaymentMethod, StrBool, TerminalType,
};
use common::*;
use serde_json::json;

/// Polls a future that never waits (every transport here answers at once) to its end.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000 {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("the future kept waiting although nothing it awaits can");
}

fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

/// The blocking fake, made async: the same closure answers inside a ready future.
fn async_of(
    sync: impl Fn(Request) -> Result<Response, std::io::Error> + Send + Sync,
) -> impl Fn(Request) -> std::future::Ready<Result<Response, std::io::Error>> + Send + Sync {
    move |r| std::future::ready(sync(r))
}

fn result(code: &str, status: &str) -> serde_json::Value {
    json!({"resultCode": code, "resultStatus": status})
}

fn pay(id: &str) -> PayRequest {
    let amount = Amount::new(Currency::USD, 1234);
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("O-{id}"),
            "test".into(),
            amount,
            Merchant::new("M1".into()),
        )
    };
    let factor = PaymentFactor {
        is_cashier_payment: Some(StrBool(true)),
        ..PaymentFactor::new()
    };
    let mut request = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new("SIMWALLET".into()),
        factor,
    );
    request.payment_redirect_url = Some("https://merchant.example/back".into());
    request
}

const PAID: &str = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"}}"#;

#[test]
fn blocking_and_async_calls_send_the_same_bytes_and_read_the_same_outcomes() {
    let by_id = PaymentRef::RequestId("pay-1".into());
    for mode in [
        Mode::Signed,
        Mode::Tampered,
        Mode::Unsigned,
        Mode::WrongKey,
        Mode::OtherClient,
        Mode::BadGateway,
    ] {
        let (blocking, seen_blocking) = fake_alipay(mode, |_, _| PAID.to_string());
        let (sync, seen_async) = fake_alipay(mode, |_, _| PAID.to_string());
        let b = client_with(blocking);
        let a = Client::new(config(), async_of(sync));
        let statuses = |o: &str, p: &str| (o.to_string(), p.to_string());
        let mut seen = Vec::new();
        // Every API kind goes through the same generic call.
        let o1 = b.call(&inquiry::inquiry_request(&by_id)).unwrap();
        let o2 = ready(assert_send(a.call_async(&inquiry::inquiry_request(&by_id)))).unwrap();
        seen.push(statuses(o1.status_str(), o2.status_str()));
        assert_eq!(format!("{:?}", o1.code()), format!("{:?}", o2.code()));
        let o1 = b.call(&cancel::cancel_request(&by_id)).unwrap();
        let o2 = ready(a.call_async(&cancel::cancel_request(&by_id))).unwrap();
        seen.push(statuses(o1.status_str(), o2.status_str()));
        let amount = Amount::new(Currency::USD, 100);
        let o1 = b
            .call(&refund::refund_request(&by_id, "r-1", amount))
            .unwrap();
        let o2 = ready(a.call_async(&refund::refund_request(&by_id, "r-1", amount))).unwrap();
        seen.push(statuses(o1.status_str(), o2.status_str()));
        let o1 = b.call(&pay("pay-1")).unwrap();
        let o2 = ready(a.call_async(&pay("pay-1"))).unwrap();
        seen.push(statuses(o1.status_str(), o2.status_str()));
        for (blocking, async_) in &seen {
            assert_eq!(blocking, async_, "{mode:?}");
            let expected = if mode == Mode::Signed { "S" } else { "U" };
            assert_eq!(blocking, expected, "{mode:?}");
        }
        let (sb, sa) = (seen_blocking.lock().unwrap(), seen_async.lock().unwrap());
        assert_eq!(sb.requests.len(), 4);
        // Method, URL, every header (Request-Time from the fixed clock, Signature) and body.
        assert_eq!(sb.requests, sa.requests, "{mode:?}");
    }
}

#[test]
fn send_async_resends_stored_bytes_like_send() {
    let (blocking, seen_blocking) = fake_alipay(Mode::Signed, |_, _| PAID.to_string());
    let (sync, seen_async) = fake_alipay(Mode::Signed, |_, _| PAID.to_string());
    let b = client_with(blocking);
    let a = Client::new(config(), async_of(sync));
    let body = br#"{"paymentRequestId":"pay-1"}"#.to_vec();
    let p1 = b
        .config()
        .sign_body::<InquiryPaymentRequest>(body.clone())
        .unwrap();
    let p2 = a
        .config()
        .sign_body::<InquiryPaymentRequest>(body.clone())
        .unwrap();
    assert!(b.send::<InquiryPaymentRequest>(p1).is_success());
    assert!(ready(a.send_async::<InquiryPaymentRequest>(p2)).is_success());
    assert_eq!(
        seen_blocking.lock().unwrap().requests,
        seen_async.lock().unwrap().requests
    );
}

#[test]
fn no_answer_is_unknown_and_invalid_requests_are_never_sent() {
    let sent = Arc::new(Mutex::new(0));
    let count = sent.clone();
    let client = Client::new(config(), move |_r: Request| {
        *count.lock().unwrap() += 1;
        async { Err::<Response, _>(std::io::Error::from(std::io::ErrorKind::TimedOut)) }
    });
    let outcome = ready(
        client.call_async(&inquiry::inquiry_request(&PaymentRef::RequestId(
            "pay-1".into(),
        ))),
    )
    .unwrap();
    assert!(
        matches!(
            outcome,
            Outcome::NoVerifiedResponse(ResponseError::Transport(_))
        ),
        "{outcome:?}"
    );
    assert!(outcome.is_unknown());
    // Neither id given: refused before signing, nothing sent.
    let error = ready(client.call_async(&InquiryPaymentRequest::new())).unwrap_err();
    assert!(matches!(error, RequestError::Invalid { .. }), "{error:?}");
    assert_eq!(*sent.lock().unwrap(), 1);
}

/// A clock the sleeps move.
#[derive(Clone)]
struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    fn new() -> Self {
        ManualClock(Arc::new(AtomicI64::new(NOW_SECS * 1000)))
    }
    fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.0.load(Ordering::SeqCst))
    }
}

fn config_at(clock: &ManualClock) -> ClientConfig {
    let c = clock.clone();
    ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        acqp_key(),
        PublicKeys::single(1, alipay_public()),
        move || c.now(),
    )
    .unwrap()
}

/// Alipay+ for one payment: pay stays `U` (lost once), inquiries say in process until the
/// `paid_after`-th, then paid.
fn scripted(
    paid_after: u32,
) -> impl Fn(Request) -> Result<Response, std::io::Error> + Send + Sync + 'static {
    let state = Mutex::new((0u32, 0u32)); // (pays, inquiries)
    move |r: Request| {
        let mut s = state.lock().unwrap();
        let path = r.path().to_string();
        let body = match path.as_str() {
            "/aps/api/v1/payments/pay" => {
                s.0 += 1;
                if s.0 == 1 {
                    return Err(std::io::ErrorKind::ConnectionReset.into());
                }
                json!({"result": result("PAYMENT_IN_PROCESS", "U"), "normalUrl": "https://wallet.test/c"})
            }
            "/aps/api/v1/payments/inquiryPayment" => {
                s.1 += 1;
                if s.1 >= paid_after {
                    json!({"result": result("SUCCESS", "S"), "paymentRequestId": "pay-9",
                           "paymentResult": result("SUCCESS", "S")})
                } else {
                    json!({"result": result("SUCCESS", "S"), "paymentRequestId": "pay-9",
                           "paymentResult": result("PAYMENT_IN_PROCESS", "U")})
                }
            }
            "/aps/api/v1/payments/cancelPayment" => json!({"result": result("SUCCESS", "S")}),
            other => panic!("unexpected {other}"),
        };
        Ok(answer(Mode::Signed, &path, &body.to_string()))
    }
}

fn follower(clock: &ManualClock) -> PaymentFollower {
    let request = pay("pay-9");
    let tracker = PaymentTracker::for_pay(&request, clock.now(), TrackerPolicy::cashier());
    PaymentFollower::new(request, tracker).unwrap()
}

fn same_followed(a: &Followed, b: &Followed) {
    assert_eq!(a.final_state, b.final_state);
    assert_eq!(
        (a.pay_attempts, a.inquiries, a.cancels),
        (b.pay_attempts, b.inquiries, b.cancels)
    );
    assert_eq!(a.payment_request_id, b.payment_request_id);
    assert_eq!(a.state.to_bytes(), b.state.to_bytes());
}

#[test]
fn the_async_driver_sends_what_the_blocking_one_sends() {
    // Blocking: the wait function moves the config's clock by the wait it is given.
    let clock_b = ManualClock::new();
    let (seen_b, t_b) = recording(scripted(4));
    let blocking = Client::new(config_at(&clock_b), t_b);
    let mut follower_b = follower(&clock_b);
    let mut redirects_b = Vec::new();
    let followed_b = loop {
        let followed = follower_b
            .run(&blocking, Limit::none(), |wait| clock_b.advance(wait))
            .unwrap();
        match followed.redirect {
            Some(to) => redirects_b.push(to),
            None => break followed,
        }
    };

    // Async: the sleep function does the same.
    let clock_a = ManualClock::new();
    let (seen_a, t_a) = recording(scripted(4));
    let client = Client::new(config_at(&clock_a), async_of(t_a));
    let mut follower_a = follower(&clock_a);
    let mut redirects_a = Vec::new();
    let followed_a = loop {
        let sleeper = clock_a.clone();
        let run = follower_a.run_async(&client, Limit::none(), move |wait| {
            sleeper.advance(wait);
            std::future::ready(())
        });
        let followed = ready(assert_send(run)).unwrap();
        match followed.redirect {
            Some(to) => redirects_a.push(to),
            None => break followed,
        }
    };

    assert_eq!(followed_a.final_state, Some(Final::Succeeded));
    same_followed(&followed_b, &followed_a);
    assert_eq!(redirects_b, redirects_a);
    assert_eq!(redirects_a.len(), 1, "one redirect, handed once");
    let (sb, sa) = (seen_b.lock().unwrap(), seen_a.lock().unwrap());
    assert_eq!(sb.len(), 2 + 4, "two pays (one lost), four inquiries");
    assert_eq!(
        *sb, *sa,
        "byte-identical requests, headers and signatures included"
    );
    // Pay retries re-send the first pay's bytes.
    assert_eq!(sa[0].body, sa[1].body);
}

type Sent = Arc<Mutex<Vec<Request>>>;

fn recording(
    inner: impl Fn(Request) -> Result<Response, std::io::Error> + Send + Sync,
) -> (
    Sent,
    impl Fn(Request) -> Result<Response, std::io::Error> + Send + Sync,
) {
    let seen = Sent::default();
    let s = seen.clone();
    (seen, move |r: Request| {
        s.lock().unwrap().push(r.clone());
        inner(r)
    })
}

fn paid_notification(amount: u64) -> NotifyPaymentRequest {
    serde_json::from_value(json!({
        "paymentResult": result("SUCCESS", "S"),
        "paymentRequestId": "pay-9",
        "paymentId": "2025-P-1",
        "paymentAmount": {"currency": "USD", "value": amount.to_string()},
        "paymentCreateTime": "2025-02-20T16:51:49+08:00",
        "paymentTime": "2025-02-20T16:51:59+08:00"
    }))
    .unwrap()
}

#[test]
fn a_sleep_can_hand_back_a_notification_and_a_run_stops_at_its_bound() {
    // A notification arriving during a wait settles the payment (a forged amount first is
    // reported and not fed).
    let clock = ManualClock::new();
    let client = Client::new(config_at(&clock), async_of(scripted(u32::MAX)));
    let mut f = follower(&clock);
    let wakes = Mutex::new(vec![paid_notification(1234), paid_notification(1)]);
    let sleep = |wait| {
        clock.advance(wait);
        std::future::ready(wakes.lock().unwrap().pop())
    };
    let first = ready(f.run_async(&client, Limit::none(), sleep)).unwrap();
    assert!(first.redirect.is_some(), "the shopper's redirect first");
    let followed = ready(f.run_async(&client, Limit::none(), sleep)).unwrap();
    assert_eq!(followed.final_state, Some(Final::Succeeded));
    assert_eq!(followed.mismatches.len(), 1, "{:?}", followed.mismatches);
    assert_eq!(followed.inquiries, 0, "paid before the first inquiry");

    // A bound ends the run without a final state (after one call here, or at a deadline);
    // running again resumes.
    let clock = ManualClock::new();
    let client = Client::new(config_at(&clock), async_of(scripted(2)));
    let mut f = follower(&clock);
    let sleep = |wait| {
        clock.advance(wait);
        std::future::ready(())
    };
    let stopped = ready(f.run_async(&client, Limit::calls(1), sleep)).unwrap();
    assert_eq!(
        stopped.final_state, None,
        "stopped: still open, never failed"
    );
    assert_eq!(stopped.pay_attempts, 1);
    let deadline = clock.now() + Duration::from_secs(15);
    let stopped = loop {
        let followed = ready(f.run_async(&client, Limit::until(deadline), sleep)).unwrap();
        if followed.redirect.is_none() {
            break followed;
        }
    };
    assert!(stopped.keep_following());
    assert_eq!(stopped.inquiries, 1, "one inquiry before the deadline");
    assert!(clock.now() >= deadline && clock.now() < deadline + Duration::from_secs(1));
    let resumed = loop {
        let followed = ready(f.run_async(&client, Limit::none(), sleep)).unwrap();
        if followed.redirect.is_none() {
            break followed;
        }
    };
    assert_eq!(resumed.final_state, Some(Final::Succeeded));
    assert_eq!(resumed.pay_attempts, 2);
}

#[test]
fn an_invalid_pay_is_refused_before_any_run() {
    let clock = ManualClock::new();
    let mut request = pay("pay-9");
    request.payment_request_id = String::new();
    let tracker = PaymentTracker::for_pay(&request, clock.now(), TrackerPolicy::cashier());
    let error = PaymentFollower::new(request, tracker).unwrap_err();
    assert!(matches!(error, RequestError::Invalid { .. }), "{error:?}");
}
