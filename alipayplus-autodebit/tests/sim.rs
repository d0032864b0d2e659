//! Auto Debit end to end over loopback HTTP: the SDK (ureq transport) against the Alipay+
//! simulator, with an ACQP endpoint (this crate's inbound handlers) receiving authNotify,
//! consultUnbinding and notifyPayment from it.

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alipayplus_autodebit::{
    AuthClient, AuthEvent, AuthState, AuthorizationUrls, Binding, CodeUpdate, Error, RebindReason,
    TokenDecision, TokenLifecycle, TokenSet, TokenUpdate, agreement_pay_request,
    handle_auth_notify, handle_consult_unbinding,
};
use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::inquiry::PaymentRef;
use alipayplus_client::refund::refund_request;
use alipayplus_client::time::Timestamp;
use alipayplus_client::tracker::Final;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{AgreementScript, AutoDebitConfig, NotifyFaults, SimConfig, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, Merchant, NotifyPaymentRequest, Order, PayRequest, Secret, TerminalType,
};
use alipayplus_ureq::UreqTransport;
use common::{Calls, get_http, read_http, write_http};

const MERCHANT: &str = "M-SIM-0001";
const RETURN: &str = "https://merchant.example.com/auth-return?from=sim";

/// Time shared by the SDK side and the simulator: real time plus an offset the tests move.
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

#[derive(Debug, Clone)]
enum Event {
    Auth(AuthEvent),
    Payment(Box<NotifyPaymentRequest>),
    Consult(String),
}

/// The ACQP's notification endpoint, served by this crate's handlers.
struct Acqp {
    base: String,
    events: Arc<Mutex<Vec<Event>>>,
    allow_unbinding: Arc<AtomicBool>,
}

fn acqp_config(sim: &Simulator, time: &Time) -> ClientConfig {
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

impl Acqp {
    fn start(sim: &Simulator, time: &Time) -> Acqp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let events = Arc::new(Mutex::new(Vec::new()));
        let allow = Arc::new(AtomicBool::new(true));
        let config = acqp_config(sim, time);
        let (ev, al) = (events.clone(), allow.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let Some(request) = read_http(&mut stream) else {
                    continue;
                };
                let path = request.path().to_string();
                let answer = if path.ends_with("/authNotify") {
                    match handle_auth_notify(&config, &request) {
                        Ok(n) => {
                            ev.lock().unwrap().push(Event::Auth(n.body.event));
                            n.answer
                        }
                        Err(r) => r.answer,
                    }
                } else if path.ends_with("/consultUnbinding") {
                    match handle_consult_unbinding(&config, &request) {
                        Ok(c) => {
                            let token =
                                c.body.access_token.as_ref().map(|t| t.expose().to_string());
                            ev.lock()
                                .unwrap()
                                .push(Event::Consult(token.unwrap_or_default()));
                            let decision = match al.load(Ordering::SeqCst) {
                                true => Ok(()),
                                false => Err(alipayplus_autodebit::unbinding_refusal(
                                    "outstanding fares",
                                )),
                            };
                            c.answer.complete(&config, decision)
                        }
                        Err(r) => r.answer,
                    }
                } else {
                    match alipayplus_client::notify::handle_notify_payment(&config, &request) {
                        Ok(n) => {
                            ev.lock().unwrap().push(Event::Payment(Box::new(n.body)));
                            n.answer
                        }
                        Err(r) => r.answer,
                    }
                };
                let _ = write_http(&mut stream, &answer);
            }
        });
        Acqp {
            base,
            events,
            allow_unbinding: allow,
        }
    }

    fn auth_events(&self) -> Vec<AuthEvent> {
        let events = self.events.lock().unwrap();
        events
            .iter()
            .filter_map(|e| match e {
                Event::Auth(a) => Some(a.clone()),
                _ => None,
            })
            .collect()
    }

    /// Waits (bounded) until `pred` holds for the events received.
    fn wait(&self, what: &str, pred: impl Fn(&[Event]) -> bool) -> Vec<Event> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let events = self.events.lock().unwrap().clone();
            if pred(&events) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {events:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn count_auth(events: &[Event], kind: &str) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(
                (e, kind),
                (Event::Auth(AuthEvent::AuthCodeCreated { .. }), "code")
                    | (Event::Auth(AuthEvent::TokenCreated { .. }), "created")
                    | (Event::Auth(AuthEvent::TokenCanceled { .. }), "canceled")
            )
        })
        .count()
}

struct World {
    sim: Simulator,
    time: Time,
    acqp: Acqp,
    client: Client<UreqTransport>,
    merchant: AuthClient,
}

fn world() -> World {
    let sim = Simulator::start(
        SimConfig::bundled()
            .unwrap()
            .with_fast_notifications(5, Duration::from_millis(50)),
    )
    .unwrap();
    let time = Time::default();
    let acqp = Acqp::start(&sim, &time);
    sim.set_autodebit_config(AutoDebitConfig {
        auth_notify_url: Some(format!("{}/acqp/authNotify", acqp.base)),
        consult_unbinding_url: Some(format!("{}/acqp/consultUnbinding", acqp.base)),
        ..AutoDebitConfig::default()
    });
    let client = Client::new(acqp_config(&sim, &time), UreqTransport::new());
    World {
        sim,
        time,
        acqp,
        client,
        merchant: AuthClient::new(MERCHANT, "Sim Merchant Pte. Ltd."),
    }
}

impl World {
    fn ad(&self) -> Calls<'_, UreqTransport> {
        Calls::new(&self.client, &self.merchant)
    }

    /// Moves both clocks (the tracker's sleep).
    fn advance(&self, d: Duration) {
        self.time
            .0
            .fetch_add(d.as_millis() as i64, Ordering::SeqCst);
        self.sim.advance_clock(d);
    }

    /// prepare and the user's consent in the browser: the binding and the redirect back.
    fn consent(&self, n: u8) -> (Binding, String) {
        let binding = Binding::new(MERCHANT, RETURN, AuthState::from_random_bytes([n; 16]))
            .with_wallet("SIMWALLET");
        let prepared = self
            .ad()
            .prepare(&binding, TerminalType::Web, None)
            .unwrap();
        assert!(prepared.is_success(), "{prepared:?}");
        let urls = AuthorizationUrls::from_response(prepared.body().unwrap());
        let page = urls.for_terminal(&TerminalType::Web).unwrap().to_string();
        let (status, location) = get_http(&format!("{page}?action=agree"));
        assert_eq!(status, 303);
        (binding, location.unwrap())
    }

    fn bind(&self, n: u8) -> TokenLifecycle {
        let (mut binding, back) = self.consent(n);
        assert_eq!(binding.on_redirect(&back).unwrap(), CodeUpdate::New);
        let outcome = self.ad().exchange_code(&mut binding).unwrap();
        assert!(outcome.is_success(), "{outcome:?}");
        TokenLifecycle::new(TokenSet::from_apply_token(outcome.body().unwrap()).unwrap())
    }

    fn charge(&self, id: &str, value: u64, token: &Secret) -> PayRequest {
        let amount = Amount::new(Currency::USD, value);
        let order = Order::new(
            id.into(),
            "subscription".into(),
            amount,
            Merchant::new(MERCHANT.into()),
        );
        let mut request = agreement_pay_request(id, order, amount, token);
        request.payment_notify_url = Some(format!("{}/acqp/notifyPayment", self.acqp.base));
        request
    }
}

#[test]
fn whole_binding_flow_code_by_redirect_and_by_notification() {
    let w = world();
    let (mut binding, back) = w.consent(1);
    assert!(back.starts_with(RETURN), "{back}");
    assert!(back.contains(&format!("authState={}", binding.state().as_str())));
    assert_eq!(binding.on_redirect(&back).unwrap(), CodeUpdate::New);

    // The same code comes by authNotify, verified and acknowledged.
    let events = w
        .acqp
        .wait("AUTHCODE_CREATED", |e| count_auth(e, "code") == 1);
    let Some(Event::Auth(AuthEvent::AuthCodeCreated {
        auth_code,
        auth_state,
        ..
    })) = events
        .into_iter()
        .find(|e| matches!(e, Event::Auth(AuthEvent::AuthCodeCreated { .. })))
    else {
        unreachable!()
    };
    assert_eq!(
        binding
            .on_auth_code_notified(&auth_code, auth_state.as_deref())
            .unwrap(),
        CodeUpdate::Duplicate
    );

    let outcome = w.ad().exchange_code(&mut binding).unwrap();
    assert!(outcome.is_success());
    let tokens = TokenSet::from_apply_token(outcome.body().unwrap()).unwrap();
    let mut life = TokenLifecycle::new(tokens);
    assert_eq!(life.decide(w.time.now()), TokenDecision::Use);
    // TOKEN_CREATED for the same token: harmless.
    w.acqp
        .wait("TOKEN_CREATED", |e| count_auth(e, "created") == 1);
    for event in w.acqp.auth_events() {
        assert_eq!(life.on_auth_event(&event), TokenUpdate::Ignored);
    }

    // Charge, refund part through the shared payment API.
    let paid = w
        .ad()
        .pay(&w.charge("SIM-PAY-1", 1000, life.access_token()))
        .unwrap();
    assert!(paid.is_success(), "{paid:?}");
    let refund = w
        .client
        .call(&refund_request(
            &PaymentRef::RequestId("SIM-PAY-1".into()),
            "SIM-REF-1",
            Amount::new(Currency::USD, 400),
        ))
        .unwrap();
    assert!(refund.is_success(), "{refund:?}");
    assert_eq!(
        w.sim.payment("SIM-PAY-1").unwrap().status.as_str(),
        "PARTLY_REFUNDED"
    );
}

#[test]
fn state_mismatch_and_code_reuse() {
    let w = world();
    let (mut first, back) = w.consent(1);
    let (mut other, _) = w.consent(2);
    assert!(matches!(
        other.on_redirect(&back),
        Err(Error::StateMismatch)
    ));
    assert!(matches!(
        w.ad().exchange_code(&mut other),
        Err(Error::NoAuthCode)
    ));

    first.on_redirect(&back).unwrap();
    let code = first.apply_token_request().unwrap().auth_code.unwrap();
    assert!(w.ad().exchange_code(&mut first).unwrap().is_success());
    assert!(matches!(
        w.ad().exchange_code(&mut first),
        Err(Error::CodeAlreadyExchanged)
    ));
    assert_eq!(
        first.on_redirect(&back).unwrap(),
        CodeUpdate::AlreadyExchanged
    );
    let reused = w.ad().apply_token_with_code(&code, None).unwrap();
    assert_eq!(reused.code(), Some("USED_CODE"));

    // Declined on the wallet page: the redirect back has no code.
    let prepared = w.ad().prepare(&other, TerminalType::Web, None).unwrap();
    let page = prepared.body().unwrap().auth_url.clone().unwrap();
    let (_, declined) = get_http(&format!("{page}?action=decline"));
    assert!(matches!(
        other.on_redirect(&declined.unwrap()),
        Err(Error::MissingAuthCode)
    ));
}

#[test]
fn refresh_rotates_and_expiry_needs_refresh_then_rebinding() {
    let w = world();
    let mut life = w.bind(1);
    let first = life.tokens().clone();
    let ttl = Duration::from_secs(3600);

    w.advance(ttl - Duration::from_secs(60));
    assert_eq!(life.decide(w.time.now()), TokenDecision::RefreshNow);
    assert!(w.ad().refresh(&mut life).unwrap().is_success());
    assert_ne!(life.access_token(), &first.access_token);
    let old = w
        .ad()
        .pay(&w.charge("SIM-OLD", 100, &first.access_token))
        .unwrap();
    assert_eq!(old.code(), Some("INVALID_ACCESS_TOKEN"));
    let again = w
        .ad()
        .refresh_token(first.refresh_token.as_ref().unwrap())
        .unwrap();
    assert_eq!(again.code(), Some("INVALID_REFRESH_TOKEN"), "rotated away");

    // The new access token expires: pay says so; the lifecycle asks for a refresh.
    w.advance(ttl);
    let expired = w
        .ad()
        .pay(&w.charge("SIM-EXP", 100, life.access_token()))
        .unwrap();
    assert_eq!(expired.code(), Some("EXPIRED_ACCESS_TOKEN"));
    life.on_payment_failure(expired.code().unwrap());
    assert_eq!(life.decide(w.time.now()), TokenDecision::RefreshNow);

    // Past the refresh token's expiry: bind again.
    w.advance(Duration::from_secs(31 * 86_400));
    assert_eq!(
        life.decide(w.time.now()),
        TokenDecision::Rebind(RebindReason::RefreshTokenExpired)
    );
    let late = w
        .ad()
        .refresh_token(life.tokens().refresh_token.as_ref().unwrap())
        .unwrap();
    assert_eq!(late.code(), Some("EXPIRED_REFRESH_TOKEN"));
}

#[test]
fn unbinding_from_the_merchant_and_from_the_wallet() {
    let w = world();
    // Merchant side.
    let mut life = w.bind(1);
    let token = life.access_token().clone();
    assert!(w.ad().cancel_token(&token).unwrap().is_success());
    life.on_cancelled();
    let events = w
        .acqp
        .wait("TOKEN_CANCELED", |e| count_auth(e, "canceled") == 1);
    for e in events {
        if let Event::Auth(a) = e {
            assert_eq!(life.on_auth_event(&a), TokenUpdate::Ignored);
        }
    }
    assert_eq!(
        life.decide(w.time.now()),
        TokenDecision::Rebind(RebindReason::Cancelled)
    );
    let after = w.ad().pay(&w.charge("SIM-AFTER", 100, &token)).unwrap();
    assert_eq!(after.code(), Some("INVALID_ACCESS_TOKEN"));
    assert!(
        w.ad().cancel_token(&token).unwrap().is_success(),
        "idempotent"
    );

    // Wallet side: the merchant refuses first, then allows.
    let mut life = w.bind(2);
    let token = life.access_token().expose().to_string();
    w.acqp.allow_unbinding.store(false, Ordering::SeqCst);
    let refused = w.sim.unbind(&token).unwrap();
    assert!(!refused.unbound);
    assert_eq!(refused.consult_result.as_deref(), Some("PROCESS_FAIL"));
    let asked = w.acqp.events.lock().unwrap().clone();
    assert!(
        asked
            .iter()
            .any(|e| matches!(e, Event::Consult(t) if *t == token)),
        "consultUnbinding named the token: {asked:?}"
    );
    assert!(
        w.ad()
            .pay(&w.charge("SIM-STILL", 100, life.access_token()))
            .unwrap()
            .is_success()
    );
    w.acqp.allow_unbinding.store(true, Ordering::SeqCst);
    let done = w.sim.unbind(&token).unwrap();
    assert!(done.unbound);
    assert_eq!(done.consult_result.as_deref(), Some("SUCCESS"));
    let events = w
        .acqp
        .wait("second TOKEN_CANCELED", |e| count_auth(e, "canceled") == 2);
    let cancel = events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Auth(a @ AuthEvent::TokenCanceled { .. }) => Some(a.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(life.on_auth_event(&cancel), TokenUpdate::Changed);
    assert_eq!(
        life.decide(w.time.now()),
        TokenDecision::Rebind(RebindReason::Cancelled)
    );
    let pay = w
        .ad()
        .pay(&w.charge("SIM-GONE", 100, life.access_token()))
        .unwrap();
    assert_eq!(pay.code(), Some("INVALID_ACCESS_TOKEN"));
}

#[test]
fn agreement_payments_success_failure_and_unknown_results() {
    let w = world();
    let life = w.bind(1);
    let t = life.access_token();
    let sleep = |d: Duration| w.advance(d);

    let ok = w
        .ad()
        .pay_and_follow(&w.charge("SIM-S", 100, t), sleep)
        .unwrap();
    assert_eq!((ok.final_state, ok.inquiries), (Some(Final::Succeeded), 0));

    w.sim.script_agreement_payment(AgreementScript {
        pending_secs: 0,
        result: "USER_BALANCE_NOT_ENOUGH".into(),
    });
    let failed = w
        .ad()
        .pay_and_follow(&w.charge("SIM-F", 100, t), sleep)
        .unwrap();
    assert_eq!(failed.failure_code(), Some("USER_BALANCE_NOT_ENOUGH"));

    // U for 9 s (simulator clock, whole seconds): inquiries at 3 and 6 s see U, at 9 s S.
    // Both clocks also run in real time, so the payment is older than the tracker's schedule
    // by the time the calls take; 9 s leaves at least 2 s for that before the 6 s inquiry
    // (7 s left between 0 and 1 s, depending on the sub-second part of the creation time,
    // and failed on a loaded machine), and the 9 s inquiry sees S whatever the delay.
    w.sim.script_agreement_payment(AgreementScript {
        pending_secs: 9,
        result: "SUCCESS".into(),
    });
    let late = w
        .ad()
        .pay_and_follow(&w.charge("SIM-U", 100, t), sleep)
        .unwrap();
    assert_eq!(late.final_state, Some(Final::Succeeded));
    assert_eq!((late.pay_attempts, late.inquiries), (1, 3));
    // ... and notifyPayment reports it too.
    w.acqp.wait("notifyPayment", |e| {
        e.iter()
            .any(|e| matches!(e, Event::Payment(n) if n.payment_request_id == "SIM-U"))
    });

    // U forever: cancelled after 60 s of inquiries every 3 s.
    w.sim.script_agreement_payment(AgreementScript {
        pending_secs: 0,
        result: "NEVER".into(),
    });
    let stuck = w
        .ad()
        .pay_and_follow(&w.charge("SIM-C", 100, t), sleep)
        .unwrap();
    assert_eq!(stuck.final_state, Some(Final::Cancelled));
    assert_eq!(stuck.inquiries, 19);
    assert_eq!(w.sim.payment("SIM-C").unwrap().status.as_str(), "CANCELLED");
    let calls: Vec<_> = w
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.payment_request_id.as_deref() == Some("SIM-C"))
        .map(|c| c.api)
        .collect();
    assert_eq!(calls.first().map(String::as_str), Some("pay"));
    assert_eq!(calls.last().map(String::as_str), Some("cancelPayment"));
    assert_eq!(calls.iter().filter(|a| *a == "pay").count(), 1);
}

#[test]
fn duplicated_auth_notify_deliveries_are_harmless() {
    let w = world();
    w.sim.set_notify_faults(NotifyFaults {
        duplicates: 1,
        ..NotifyFaults::default()
    });
    let (mut binding, back) = w.consent(1);
    binding.on_redirect(&back).unwrap();
    let events = w
        .acqp
        .wait("two AUTHCODE_CREATED", |e| count_auth(e, "code") == 2);
    let codes: Vec<AuthEvent> = events
        .into_iter()
        .filter_map(|e| match e {
            Event::Auth(a @ AuthEvent::AuthCodeCreated { .. }) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(codes[0], codes[1]);
    for event in &codes {
        let AuthEvent::AuthCodeCreated {
            auth_code,
            auth_state,
            ..
        } = event
        else {
            unreachable!()
        };
        assert_eq!(
            binding
                .on_auth_code_notified(auth_code, auth_state.as_deref())
                .unwrap(),
            CodeUpdate::Duplicate
        );
    }
    assert!(w.ad().exchange_code(&mut binding).unwrap().is_success());
    assert!(w.sim.wait_notifications_idle(Duration::from_secs(5)));
    let statuses = w.sim.notifications();
    assert!(statuses.iter().all(|s| s.acknowledged), "{statuses:?}");
}
