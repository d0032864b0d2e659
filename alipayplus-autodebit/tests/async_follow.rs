//! `follow_agreement_payment_async` against the fake Alipay+: every scripted result ends as
//! the blocking `follow_agreement_payment` ends it, with the same requests at the same times.
//! No runtime: the fake answers at once, so a no-op waker polls the futures through.

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use alipayplus_autodebit::{
    AuthState, Binding, CodeUpdate, Followed, TokenLifecycle, TokenSet, agreement_pay_request,
    follow_agreement_payment, follow_agreement_payment_async,
};
use alipayplus_client::client::Client;
use alipayplus_client::tracker::Final;
use alipayplus_client::transport::Request;
use alipayplus_types::{Amount, Currency, Merchant, Order, PayRequest, Secret, TerminalType};
use common::*;

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

fn charge(id: &str, token: &Secret) -> PayRequest {
    let amount = Amount::new(Currency::SGD, 1500);
    let order = Order::new(
        id.into(),
        "Monthly subscription".into(),
        amount,
        Merchant::new(AUTH_CLIENT_ID.into()),
    );
    agreement_pay_request(id, order, amount, token)
}

fn bind(fake: &FakeAlipay) -> TokenLifecycle {
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut b = Binding::new(
        AUTH_CLIENT_ID,
        REDIRECT,
        AuthState::from_random_bytes([1; 16]),
    )
    .with_wallet("GCASH");
    assert!(
        ad.prepare(&b, TerminalType::Web, None)
            .unwrap()
            .is_success()
    );
    let (url, _) = fake.consent();
    assert_eq!(b.on_redirect(&url).unwrap(), CodeUpdate::New);
    let outcome = ad.exchange_code(&mut b).unwrap();
    TokenLifecycle::new(TokenSet::from_apply_token(outcome.body().unwrap()).unwrap())
}

/// One world per path: the same scripts, ids and clock start, so the logs must agree.
fn follow(script: PayScript, id: &str, asynchronous: bool) -> (Followed, Vec<Logged>) {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let life = bind(&fake);
    fake.script(script);
    let request = charge(id, life.access_token());
    let followed = if asynchronous {
        let f = fake.clone();
        let client = Client::new(config(&clock), move |r: Request| {
            std::future::ready(f.handle(r))
        });
        let sleeper = clock.clone();
        ready(assert_send(follow_agreement_payment_async(
            &client,
            &request,
            move |wait| {
                sleeper.advance(wait);
                std::future::ready(())
            },
        )))
    } else {
        let client = fake.client();
        follow_agreement_payment(&client, &request, |d| clock.advance(d))
    };
    (followed.unwrap(), fake.log())
}

#[test]
fn async_agreement_payments_end_as_blocking_ones_with_the_same_requests() {
    let cases = [
        (PayScript::Succeed, Some(Final::Succeeded)),
        (
            PayScript::Fail("INVALID_ACCESS_TOKEN"),
            Some(Final::Failed {
                code: "INVALID_ACCESS_TOKEN".into(),
            }),
        ),
        (PayScript::Pending(2), Some(Final::Succeeded)),
        (PayScript::LoseAnswer, Some(Final::Succeeded)),
        (PayScript::PendingForever, None),
    ];
    for (script, expected) in cases {
        let label = format!("{script:?}");
        let (blocking, log_b) = follow(script.clone(), "PAY-A1", false);
        let (async_, log_a) = follow(script, "PAY-A1", true);
        if let Some(expected) = expected {
            assert_eq!(async_.final_state, Some(expected), "{label}");
        } else {
            // Never paid: cancelled after the 60 s window.
            assert!(
                !matches!(async_.final_state, Some(Final::Succeeded) | None),
                "{label}: {async_:?}"
            );
            assert!(async_.cancels >= 1, "{label}");
        }
        assert_eq!(blocking.final_state, async_.final_state, "{label}");
        assert_eq!(
            (blocking.pay_attempts, blocking.inquiries, blocking.cancels),
            (async_.pay_attempts, async_.inquiries, async_.cancels),
            "{label}"
        );
        let view = |log: &[Logged]| -> Vec<String> {
            log.iter()
                .map(|l| format!("{} {} @{}", l.path, l.body, l.at))
                .collect()
        };
        assert_eq!(view(&log_b), view(&log_a), "{label}");
    }
}

#[test]
fn an_invalid_agreement_payment_is_refused_before_anything_is_sent() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let f = fake.clone();
    let client = Client::new(config(&clock), move |r: Request| {
        std::future::ready(f.handle(r))
    });
    let request = charge("PAY-A2", &Secret::new(""));
    let before = fake.log().len();
    let result = ready(follow_agreement_payment_async(&client, &request, |_| {
        std::future::ready(())
    }));
    assert!(matches!(
        result,
        Err(alipayplus_client::error::RequestError::Invalid { .. })
    ));
    assert_eq!(fake.log().len(), before, "nothing was sent");
}

/// Issue 20: the async follow-up is bounded like the blocking one: through an outage it
/// returns "unresolved, keep following" at `FOLLOW_LIMIT` of the config's clock, with the
/// state to resume from (never a failure).
#[test]
fn the_async_follow_up_returns_open_after_its_limit() {
    use alipayplus_autodebit::payment::FOLLOW_LIMIT;
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let life = bind(&fake);
    let client = Client::new(config(&clock), |_r: Request| {
        std::future::ready(Err::<alipayplus_client::transport::Response, _>(
            std::io::Error::from(std::io::ErrorKind::TimedOut),
        ))
    });
    let start = clock.now();
    let sleeper = clock.clone();
    let followed = ready(assert_send(follow_agreement_payment_async(
        &client,
        &charge("PAY-A-OUTAGE", life.access_token()),
        move |wait| {
            sleeper.advance(wait);
            std::future::ready(())
        },
    )))
    .expect("the pay was sent");
    assert!(followed.keep_following(), "{:?}", followed.final_state);
    let took = clock.now().since(start);
    assert!(
        took >= FOLLOW_LIMIT && took < FOLLOW_LIMIT + std::time::Duration::from_secs(2),
        "{took:?}"
    );
    assert!(followed.state.tracker().final_state().is_none());
    assert!(followed.pay_attempts >= 1);
}
