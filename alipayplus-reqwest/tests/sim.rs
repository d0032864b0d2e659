//! The async path end to end over loopback HTTP: `Client::call_async` and the async driver on
//! the reqwest transport against the Alipay+ simulator, with the faults the blocking tests
//! inject (alipayplus-sim/tests/client.rs, alipayplus-autodebit/tests/sim.rs).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alipayplus_autodebit::{
    AuthClient, AuthState, AuthorizationUrls, Binding, CodeUpdate, TokenSet, agreement_pay_request,
    follow_agreement_payment_async,
};
use alipayplus_cashier::PaymentRef;
use alipayplus_cashier::ResponseError;
use alipayplus_cashier::Timestamp;
use alipayplus_cashier::cashier::{cashier_payment_factor, checked_pay as cashier_pay_request};
use alipayplus_cashier::refund_request;
use alipayplus_cashier::{Client, ClientConfig, Host, Outcome};
use alipayplus_cashier::{Final, PaymentTracker, TrackerPolicy};
use alipayplus_cashier::{Limit, PaymentFollower};
use alipayplus_reqwest::{Error, ReqwestTransport};
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{AgreementScript, Fault, FaultRule, SimConfig, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, Env, Merchant, Order, PayRequest, PaymentMethod, TerminalType,
};

/// Time shared by the SDK side and the simulator: real time plus an offset the sleeps move.
#[derive(Clone, Default)]
struct Time(Arc<AtomicI64>);

impl Time {
    fn now(&self) -> Timestamp {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        Timestamp::from_unix_millis(real + self.0.load(Ordering::SeqCst))
    }
}

fn sim_with(f: impl FnOnce(SimConfig) -> SimConfig) -> Simulator {
    let config = SimConfig::bundled()
        .unwrap()
        .with_fast_notifications(5, Duration::from_millis(50));
    Simulator::start(f(config)).unwrap()
}

fn config(sim: &Simulator, time: &Time) -> ClientConfig {
    let t = time.clone();
    ClientConfig::new(
        sim.client_id(),
        Host::custom(sim.base_url()).unwrap(),
        keys::acqp_private_key().unwrap(),
        PublicKeys::single(1, keys::sim_public_key().unwrap()),
        move || t.now(),
    )
    .unwrap()
}

fn client(sim: &Simulator, time: &Time, timeout: Duration) -> Client<ReqwestTransport> {
    let transport = ReqwestTransport::builder()
        .request_timeout(timeout)
        .build()
        .unwrap();
    Client::new(config(sim, time), transport)
}

/// What the async driver's sleep does here: moves both clocks at once (no real waiting).
fn advance(sim: &Simulator, time: &Time, d: Duration) {
    time.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    sim.advance_clock(d);
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
    let mut request = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new("SIMWALLET".into()),
        cashier_payment_factor(None),
    );
    request.payment_redirect_url = Some("https://merchant.example/back".into());
    request
}

/// A Cashier payment followed to its end by the async driver, through a lost pay answer (the
/// first pay times out) and a tampered inquiry answer: the pay retry re-sends the same bytes,
/// the simulator keeps one payment, the shopper pays, the inquiry settles it.
#[tokio::test]
async fn cashier_payment_followed_to_its_end_through_faults() {
    let sim = sim_with(|c| c);
    let time = Time::default();
    let client = client(&sim, &time, Duration::from_millis(500));
    sim.add_fault(FaultRule::once("pay", Fault::Delay { ms: 1_500 }));
    sim.add_fault(FaultRule::once("inquiryPayment", Fault::TamperedBody));
    let request = cashier_pay_request(&pay("AS-1")).unwrap();
    let tracker = PaymentTracker::for_pay(&request, time.now(), TrackerPolicy::cashier());
    let mut follower = PaymentFollower::new(request, tracker).unwrap();
    let mut redirects = 0;
    let followed = loop {
        let followed = follower
            .run_async(&client, Limit::none(), |d| {
                advance(&sim, &time, d);
                tokio::task::yield_now()
            })
            .await
            .unwrap();
        if followed.redirect.is_none() {
            break followed;
        }
        redirects += 1;
        // The shopper pays in the wallet.
        sim.approve("AS-1").unwrap();
    };
    assert_eq!(followed.final_state, Some(Final::Succeeded), "{followed:?}");
    assert_eq!(redirects, 1);
    assert_eq!(followed.pay_attempts, 2, "{followed:?}");
    // The timed-out pay and the tampered inquiry answer: no verified answer, never a failure.
    assert_eq!(
        followed.state.tracker().unanswered_calls(),
        2,
        "{followed:?}"
    );
    assert!(followed.inquiries >= 2, "{followed:?}");
    assert_eq!(sim.payments().len(), 1, "one payment for both pays");
    assert_eq!(sim.payment("AS-1").unwrap().status.as_str(), "SUCCESS");
    // (The simulator logs the delayed first pay only once its answer is written, later.)
}

/// Forged answers are rejected on the async path as on the blocking one, and retries with the
/// same id never create a second payment.
#[tokio::test]
async fn tampered_unsigned_and_badly_signed_answers_are_rejected() {
    let sim = sim_with(|c| c);
    let time = Time::default();
    let client = client(&sim, &time, Duration::from_secs(5));
    for fault in [
        Fault::TamperedBody,
        Fault::Unsigned,
        Fault::BadSignature,
        Fault::HttpStatus { status: 502 },
    ] {
        sim.add_fault(FaultRule::once("pay", fault.clone()));
        let request = cashier_pay_request(&pay("AS-2")).unwrap();
        let outcome = client.call_async(&request).await.unwrap();
        assert!(
            matches!(outcome, Outcome::NoVerifiedResponse(_)),
            "{fault:?} must not be accepted: {outcome:?}"
        );
    }
    let outcome = client
        .call_async(&cashier_pay_request(&pay("AS-2")).unwrap())
        .await
        .unwrap();
    assert!(outcome.is_unknown());
    assert_eq!(outcome.code(), Some("PAYMENT_IN_PROCESS"));
    assert_eq!(sim.payments().len(), 1);
}

/// A refund whose answer times out is retried with the same id: refunded once.
#[tokio::test]
async fn a_timed_out_refund_retried_refunds_once() {
    let sim = sim_with(|c| c);
    let time = Time::default();
    let client = client(&sim, &time, Duration::from_millis(400));
    client
        .call_async(&cashier_pay_request(&pay("AS-3")).unwrap())
        .await
        .unwrap();
    sim.approve("AS-3").unwrap();
    sim.add_fault(FaultRule::once("refund", Fault::Delay { ms: 1_500 }));
    let by_id = PaymentRef::RequestId("AS-3".into());
    let amount = Amount::new(Currency::USD, 1000);
    let first = client
        .call_async(&refund_request(&by_id, "AS-3-R", amount))
        .await
        .unwrap();
    let Outcome::NoVerifiedResponse(ResponseError::Transport(error)) = &first else {
        panic!("a timeout is no answer: {first:?}")
    };
    assert!(
        matches!(error.downcast_ref::<Error>(), Some(Error::Timeout(_))),
        "{error:?}"
    );
    let retry = client
        .call_async(&refund_request(&by_id, "AS-3-R", amount))
        .await
        .unwrap();
    assert!(retry.is_success(), "{retry:?}");
    assert_eq!(sim.payment("AS-3").unwrap().refunded, 1000);
}

/// Auto Debit over the async path: bind (prepare, consent, applyToken), then charge with
/// `follow_agreement_payment_async`: paid at once, declined, and `U` for 9 s then paid (the
/// async driver inquires every 3 s, simulator clock).
#[tokio::test]
async fn auto_debit_binding_and_charges() {
    let sim = sim_with(|c| c);
    let time = Time::default();
    let client = client(&sim, &time, Duration::from_secs(5));
    let merchant = AuthClient::new("M-SIM-0001", "Sim Merchant Pte. Ltd.");
    let mut binding = Binding::new(
        "M-SIM-0001",
        "https://merchant.example.com/auth-return",
        AuthState::from_random_bytes([7; 16]),
    )
    .with_wallet("SIMWALLET");
    let prepared = client
        .call_async(&binding.prepare_request(&merchant, TerminalType::Web, None))
        .await
        .unwrap();
    assert!(prepared.is_success(), "{prepared:?}");
    let urls = AuthorizationUrls::from_response(prepared.body().unwrap());
    let page = urls.for_terminal(&TerminalType::Web).unwrap().to_string();
    let consent = sim.consent(&page).unwrap();
    assert_eq!(
        binding.on_redirect(&consent.redirect_url).unwrap(),
        CodeUpdate::New
    );
    let applied = client
        .call_async(&binding.apply_token_request().unwrap())
        .await
        .unwrap();
    binding.on_apply_token_outcome(&applied);
    let tokens = TokenSet::from_apply_token(applied.body().unwrap()).unwrap();

    let charge = |id: &str| {
        let amount = Amount::new(Currency::USD, 100);
        let order = Order::new(
            id.into(),
            "subscription".into(),
            amount,
            Merchant::new("M-SIM-0001".into()),
        );
        agreement_pay_request(id, order, amount, &tokens.access_token)
    };
    let follow = |request: PayRequest| {
        let (sim, time, client) = (&sim, &time, &client);
        async move {
            follow_agreement_payment_async(client, &request, |d| {
                advance(sim, time, d);
                tokio::task::yield_now()
            })
            .await
            .unwrap()
        }
    };

    let ok = follow(charge("AD-S")).await;
    assert_eq!((ok.final_state, ok.inquiries), (Some(Final::Succeeded), 0));

    sim.script_agreement_payment(AgreementScript {
        pending_secs: 0,
        result: "USER_BALANCE_NOT_ENOUGH".into(),
    });
    let failed = follow(charge("AD-F")).await;
    assert_eq!(failed.failure_code(), Some("USER_BALANCE_NOT_ENOUGH"));

    sim.script_agreement_payment(AgreementScript {
        pending_secs: 9,
        result: "SUCCESS".into(),
    });
    // A signed U on the first inquiry too: still unknown, inquired again.
    sim.add_fault(FaultRule::once(
        "inquiryPayment",
        Fault::UnknownResult { code: None },
    ));
    let late = follow(charge("AD-U")).await;
    assert_eq!(late.final_state, Some(Final::Succeeded));
    assert_eq!(late.pay_attempts, 1);
    assert!(late.inquiries >= 3, "{late:?}");
    assert_eq!(sim.payment("AD-U").unwrap().status.as_str(), "SUCCESS");
}

/// HTTPS against `cargo xtask sim --tls`'s certificate: trusted once its CA is added, refused
/// (typed TLS error, no answer) without it.
#[tokio::test]
async fn https_with_the_simulator_ca_and_without_it() {
    let sim = sim_with(|mut c| {
        c.tls = true;
        c
    });
    assert!(sim.base_url().starts_with("https://"));
    let time = Time::default();
    let ca = sim.tls_ca_pem().unwrap().as_bytes().to_vec();
    let trusted = ReqwestTransport::builder()
        .add_root_certificate_pem(ca)
        .build()
        .unwrap();
    let client = Client::new(config(&sim, &time), trusted);
    let outcome = client
        .call_async(&cashier_pay_request(&pay("AS-TLS")).unwrap())
        .await
        .unwrap();
    assert_eq!(outcome.code(), Some("PAYMENT_IN_PROCESS"), "{outcome:?}");

    let untrusted = Client::new(config(&sim, &time), ReqwestTransport::new().unwrap());
    let outcome = untrusted
        .call_async(&cashier_pay_request(&pay("AS-TLS")).unwrap())
        .await
        .unwrap();
    let Outcome::NoVerifiedResponse(ResponseError::Transport(error)) = &outcome else {
        panic!("an untrusted certificate gets no answer: {outcome:?}")
    };
    assert!(
        matches!(error.downcast_ref::<Error>(), Some(Error::Tls(_))),
        "{error:?}"
    );
}

/// The futures of the async path over reqwest can be spawned on a multi-threaded executor
/// (axum handlers, `tokio::spawn`), with `tokio::time::sleep` itself as the sleep function.
#[test]
fn the_async_futures_are_send() {
    fn spawnable<F: std::future::Future + Send>(_: &F) {}
    let sim = sim_with(|c| c);
    let time = Time::default();
    let client = client(&sim, &time, Duration::from_secs(5));
    let request = cashier_pay_request(&pay("AS-SEND")).unwrap();
    spawnable(&client.call_async(&request));
    let tracker = PaymentTracker::for_pay(&request, time.now(), TrackerPolicy::cashier());
    let mut follower = PaymentFollower::new(request.clone(), tracker).unwrap();
    spawnable(&follower.run_async(&client, Limit::none(), tokio::time::sleep));
    spawnable(&follow_agreement_payment_async(
        &client,
        &request,
        tokio::time::sleep,
    ));
}
