//! The same-bytes follow-up (refund): lost and unknown answers lead to the stored body sent
//! again byte for byte under the same refundRequestId until S; a verified F ends it (and says
//! whether it proves the refund was not made); the run's bound leaves it unresolved with a
//! state that resumes from its bytes alone; blocking and async loops send the same bytes.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::error::RequestError;
use alipayplus_client::follow::Limit;
use alipayplus_client::inquiry::PaymentRef;
use alipayplus_client::refund::{RefundFollower, refund_request};
use alipayplus_client::resend::{Action, Final, ResendPolicy, ResendState, Update};
use alipayplus_client::time::Timestamp;
use alipayplus_client::transport::{Request, Response};
use alipayplus_sign::PublicKeys;
use alipayplus_types::{Amount, Currency, RefundRequest};
use common::{Mode, answer};

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

fn refund(id: &str) -> RefundRequest {
    refund_request(
        &PaymentRef::RequestId("PAY-R".into()),
        id,
        Amount::new(Currency::USD, 300),
    )
}

fn policy() -> ResendPolicy {
    ResendPolicy::new(Duration::from_secs(1), Duration::from_secs(4))
}

const REFUNDED: &str = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"ok"},"refundId":"R-1","refundAmount":{"currency":"USD","value":"300"}}"#;

fn result(code: &str, status: &str) -> String {
    format!(
        r#"{{"result":{{"resultCode":"{code}","resultStatus":"{status}","resultMessage":"m"}}}}"#
    )
}

/// A fake Alipay+ answering the n-th call with `script[n]` (`None`: the answer is lost), and
/// the bodies it saw.
type Bodies = Arc<Mutex<Vec<Vec<u8>>>>;

fn scripted(
    script: Vec<Option<String>>,
) -> (
    impl Fn(Request) -> Result<Response, std::io::Error> + Clone,
    Bodies,
) {
    let bodies = Bodies::default();
    let seen = bodies.clone();
    let transport = move |request: Request| {
        let mut b = seen.lock().unwrap();
        b.push(request.body.clone());
        match script.get(b.len() - 1).cloned().flatten() {
            Some(body) => Ok(answer(Mode::Signed, request.path(), &body)),
            None => Err(std::io::ErrorKind::TimedOut.into()),
        }
    };
    (transport, bodies)
}

#[test]
fn a_lost_answer_and_a_u_are_followed_by_the_same_bytes_until_s() {
    let (transport, bodies) = scripted(vec![
        None,
        Some(result("REFUND_IN_PROCESS", "U")),
        Some(REFUNDED.into()),
    ]);
    let clock = ManualClock::at(common::now());
    let client = Client::new(config_at(&clock), transport);
    let mut follower = RefundFollower::new(&refund("REF-1"), clock.get(), policy()).unwrap();
    let followed = follower
        .run(&client, Limit::none(), |d| clock.advance(d))
        .unwrap();
    assert_eq!(followed.final_state, Some(Final::Succeeded));
    assert_eq!(followed.attempts, 3);
    assert_eq!(
        followed.response.and_then(|r| r.refund_id).as_deref(),
        Some("R-1")
    );
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|b| b == follower.body()), "same bytes");
    let sent: RefundRequest = serde_json::from_slice(&bodies[2]).unwrap();
    assert_eq!(sent.refund_request_id, "REF-1");
}

#[test]
fn poll_records_the_send_before_it_leaves_and_the_stored_state_resumes_alone() {
    let clock = ManualClock::at(common::now());
    let mut follower = RefundFollower::new(&refund("REF-2"), clock.get(), policy()).unwrap();
    let Action::Send(call) = follower.poll(clock.get()) else {
        panic!("the first poll sends");
    };
    assert_eq!(call.body(), follower.body());
    assert_eq!(call.api_name(), "refund");
    // Stored right after poll (write-ahead), then the process dies: the answer never comes.
    let stored = follower.state().to_bytes();
    assert_eq!(follower.state().attempts(), 1, "recorded before it left");
    drop(follower);

    clock.advance(Duration::from_secs(30));
    let (transport, bodies) = scripted(vec![Some(REFUNDED.into())]);
    let client = Client::new(config_at(&clock), transport);
    let mut resumed = RefundFollower::from_bytes(&stored).unwrap();
    let followed = resumed
        .run(&client, Limit::none(), |d| clock.advance(d))
        .unwrap();
    assert!(followed.succeeded());
    assert_eq!(
        followed.attempts, 2,
        "the unanswered send, then the same bytes again"
    );
    assert_eq!(bodies.lock().unwrap().as_slice(), &[call.body().to_vec()]);
}

#[test]
fn a_refusal_after_a_lost_answer_proves_nothing_unless_about_the_refund() {
    let clock = ManualClock::at(common::now());
    // The only attempt refused: nothing else may have been applied.
    let (transport, _) = scripted(vec![Some(result("PARAM_ILLEGAL", "F"))]);
    let client = Client::new(config_at(&clock), transport);
    let mut first = RefundFollower::new(&refund("REF-3"), clock.get(), policy()).unwrap();
    let followed = first
        .run(&client, Limit::none(), |d| clock.advance(d))
        .unwrap();
    let refused = followed.final_state.unwrap();
    assert_eq!(refused.code(), Some("PARAM_ILLEGAL"));
    assert!(refused.proves_not_applied());

    // A lost answer, then a refusal about the request only: the first may have landed.
    let (transport, bodies) = scripted(vec![None, Some(result("INVALID_SIGNATURE", "F"))]);
    let client = Client::new(config_at(&clock), transport);
    let mut second = RefundFollower::new(&refund("REF-4"), clock.get(), policy()).unwrap();
    let followed = second
        .run(&client, Limit::none(), |d| clock.advance(d))
        .unwrap();
    let refused = followed.final_state.unwrap();
    assert_eq!(
        refused,
        Final::Refused {
            code: "INVALID_SIGNATURE".into(),
            about_subject: false,
            earlier_attempt_unknown: true
        }
    );
    assert!(!refused.proves_not_applied(), "never a new refundRequestId");
    assert_eq!(bodies.lock().unwrap().len(), 2);
    // An answer to no pending call changes nothing.
    assert_eq!(
        second.on_unsent(clock.get().into()),
        Update::Ignored,
        "nothing pending"
    );
}

#[test]
fn the_bound_leaves_it_unresolved_with_a_state_to_store() {
    let clock = ManualClock::at(common::now());
    let (transport, bodies) = scripted(vec![None, None, None, None]);
    let client = Client::new(config_at(&clock), transport);
    let mut follower = RefundFollower::new(&refund("REF-5"), clock.get(), policy()).unwrap();
    let followed = follower
        .run(&client, Limit::calls(3), |d| clock.advance(d))
        .unwrap();
    assert!(followed.keep_following());
    assert_eq!(bodies.lock().unwrap().len(), 3);
    let deadline = clock.get() + Duration::from_secs(2);
    let followed = follower
        .run(&client, Limit::until(deadline), |d| clock.advance(d))
        .unwrap();
    assert!(followed.keep_following());
    assert!(clock.get() <= deadline);
    let stored = followed.state.to_bytes();
    let state = ResendState::from_bytes(&stored).unwrap();
    assert_eq!(state.request_id(), "REF-5");
    assert!(
        !format!("{state:?}").contains("PAY-R"),
        "Debug redacts the body"
    );

    // Resumed later from the bytes alone: the same body goes again and settles.
    let (transport, later) = scripted(vec![Some(REFUNDED.into())]);
    let client = Client::new(config_at(&clock), transport);
    clock.advance(Duration::from_secs(60));
    let mut resumed = RefundFollower::from_bytes(&stored).unwrap();
    assert!(
        resumed
            .run(&client, Limit::none(), |d| clock.advance(d))
            .unwrap()
            .succeeded()
    );
    assert_eq!(later.lock().unwrap()[0], bodies.lock().unwrap()[0]);
}

#[test]
fn a_tampered_or_foreign_state_is_refused() {
    let clock = ManualClock::at(common::now());
    let follower = RefundFollower::new(&refund("REF-6"), clock.get(), policy()).unwrap();
    let stored = String::from_utf8(follower.state().to_bytes()).unwrap();
    let tampered = stored.replace(r#"\"300\""#, r#"\"900\""#);
    assert_ne!(tampered, stored);
    assert!(matches!(
        RefundFollower::from_bytes(tampered.as_bytes()),
        Err(RequestError::StoredState(_))
    ));
    let foreign = stored.replace(r#""api":"refund""#, r#""api":"declare""#);
    assert!(matches!(
        RefundFollower::from_bytes(foreign.as_bytes()),
        Err(RequestError::StoredState(_))
    ));
}

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

#[test]
fn the_async_loop_sends_the_same_bytes_and_is_send() {
    let clock = ManualClock::at(common::now());
    let (blocking, blocking_bodies) = scripted(vec![None, Some(REFUNDED.into())]);
    let client = Client::new(config_at(&clock), blocking);
    let mut follower = RefundFollower::new(&refund("REF-7"), clock.get(), policy()).unwrap();
    follower
        .run(&client, Limit::none(), |d| clock.advance(d))
        .unwrap();

    let (inner, async_bodies) = scripted(vec![None, Some(REFUNDED.into())]);
    let transport = move |r: Request| std::future::ready(inner(r));
    let client = Client::new(config_at(&clock), transport);
    let mut follower = RefundFollower::new(&refund("REF-7"), clock.get(), policy()).unwrap();
    let sleep = |d: Duration| {
        clock.advance(d);
        std::future::ready(())
    };
    let future = follower.run_async(&client, Limit::calls(5), sleep);
    fn is_send<T: Send>(t: T) -> T {
        t
    }
    let followed = ready(is_send(future)).unwrap();
    assert!(followed.succeeded());
    assert_eq!(
        *async_bodies.lock().unwrap(),
        *blocking_bodies.lock().unwrap()
    );
}
