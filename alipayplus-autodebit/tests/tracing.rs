//! The `tracing` feature: a subscriber that records every span, field value and event (each
//! value also in its `Debug` rendering) watches a binding, an Auto Debit token refresh, an
//! agreement pay, a lost answer and inbound notifications (authNotify, notifyPayment, a forged
//! one). The spans name the API, the request's own id, the key version, the result and whether
//! it verified; no key, signature, token, auth code, body or personal data appears anywhere.
//!
//! `cargo test -p alipayplus-autodebit --features tracing --test tracing`

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use alipayplus_autodebit::{
    AuthState, Binding, CodeUpdate, TokenLifecycle, TokenSet, agreement_pay_request,
    handle_auth_notify,
};
use alipayplus_client::client::Client;
use alipayplus_client::inquiry::{PaymentRef, inquiry_request};
use alipayplus_client::tracker::Final;
use alipayplus_client::transport::{Request, Response};
use alipayplus_types::{Amount, Currency, Merchant, Order, TerminalType};
use common::*;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One span as recorded: its name and every value given to it, in order.
#[derive(Clone, Debug, Default)]
struct SpanRecord {
    name: String,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Recorded {
    spans: BTreeMap<u64, SpanRecord>,
    /// Every value seen anywhere (spans and events), plain and as `Debug` renders it.
    everything: Vec<String>,
    /// The fields of every event (`message` included), in order.
    events: Vec<BTreeMap<String, String>>,
}

#[derive(Clone, Default)]
struct Recorder {
    recorded: Arc<Mutex<Recorded>>,
    next_id: Arc<AtomicU64>,
}

struct Values<'a> {
    fields: &'a mut BTreeMap<String, String>,
    everything: &'a mut Vec<String>,
}

impl Visit for Values<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.everything.push(format!("{value:?}"));
        self.everything.push(value.to_string());
        self.fields
            .insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let rendered = format!("{value:?}");
        self.everything.push(format!("{value:#?}"));
        self.everything.push(rendered.clone());
        self.fields.insert(field.name().to_string(), rendered);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        let mut r = self.recorded.lock().unwrap();
        let Recorded {
            spans, everything, ..
        } = &mut *r;
        let record = spans.entry(id).or_default();
        record.name = span.metadata().name().to_string();
        everything.push(record.name.clone());
        span.record(&mut Values {
            fields: &mut record.fields,
            everything,
        });
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut r = self.recorded.lock().unwrap();
        let Recorded {
            spans, everything, ..
        } = &mut *r;
        let record = spans.entry(span.into_u64()).or_default();
        values.record(&mut Values {
            fields: &mut record.fields,
            everything,
        });
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut r = self.recorded.lock().unwrap();
        let mut fields = BTreeMap::new();
        event.record(&mut Values {
            fields: &mut fields,
            everything: &mut r.everything,
        });
        r.events.push(fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

impl Recorder {
    fn spans(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let r = self.recorded.lock().unwrap();
        r.spans
            .values()
            .filter(|s| s.name == name)
            .map(|s| s.fields.clone())
            .collect()
    }
    fn span(&self, name: &str, field: &str, value: &str) -> BTreeMap<String, String> {
        let found: Vec<_> = self
            .spans(name)
            .into_iter()
            .filter(|f| f.get(field).map(String::as_str) == Some(value))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {name} span with {field}={value}: {found:?}"
        );
        found.into_iter().next().unwrap()
    }
}

fn assert_fields(span: &BTreeMap<String, String>, expected: &[(&str, &str)]) {
    for (field, value) in expected {
        assert_eq!(
            span.get(*field).map(String::as_str),
            Some(*value),
            "{field} in {span:?}"
        );
    }
}

/// The PEM body lines of a private key: none may appear in a trace.
fn key_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .map(str::to_string)
        .collect()
}

/// The bare signature of a `Signature` header (`algorithm=RSA256,keyVersion=1,signature=...`).
fn signature_of(headers: &alipayplus_client::transport::Headers) -> Option<String> {
    let header = headers.get("Signature")?;
    Some(header.rsplit("signature=").next()?.to_string())
}

/// Polls a future that never waits on anything (closure transports answer at once).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a closure transport answers at once"),
    }
}

const PERSONAL: &str = "CUSTOMER-7731-PII";
const ORDER_DESCRIPTION: &str = "Monthly subscription for Jane Q. Shopper";

#[test]
fn spans_name_every_call_and_hold_no_secret() {
    let recorder = Recorder::default();
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let signatures = Arc::new(Mutex::new(Vec::new()));
    let client = {
        let fake = fake.clone();
        let signatures = Arc::clone(&signatures);
        Client::new(config(&clock), move |request: Request| {
            let mut seen = signatures.lock().unwrap();
            seen.extend(signature_of(&request.headers));
            let response: Result<Response, std::io::Error> = fake.handle(request);
            if let Ok(r) = &response {
                seen.extend(signature_of(&r.headers));
            }
            response
        })
    };
    let merchant = merchant();
    let calls = Calls::new(&client, &merchant);
    let mut secrets: Vec<String> = Vec::new();
    let mut lost_pay = None;

    tracing::subscriber::with_default(recorder.clone(), || {
        // Bind: prepare, consent, the auth code by redirect, applyToken.
        let mut binding = Binding::new(
            AUTH_CLIENT_ID,
            REDIRECT,
            AuthState::from_random_bytes([9; 16]),
        )
        .with_wallet("GCASH")
        .with_reference_agreement_id("AGR-T1");
        assert!(
            calls
                .prepare(&binding, TerminalType::Web, None)
                .unwrap()
                .is_success()
        );
        let (url, code) = fake.consent();
        secrets.push(code.clone());
        secrets.push(binding.state().as_str().to_string());
        assert_eq!(binding.on_redirect(&url).unwrap(), CodeUpdate::New);
        let exchanged = calls.exchange_code(&mut binding).unwrap();
        let tokens = TokenSet::from_apply_token(exchanged.body().unwrap()).unwrap();
        secrets.push(tokens.access_token.expose().to_string());
        secrets.push(tokens.refresh_token.as_ref().unwrap().expose().to_string());

        // The token refresh (Auto Debit applyToken with the refresh token).
        let mut life = TokenLifecycle::new(tokens);
        assert!(calls.refresh(&mut life).unwrap().is_success());
        secrets.push(life.access_token().expose().to_string());
        secrets.push(
            life.tokens()
                .refresh_token
                .as_ref()
                .unwrap()
                .expose()
                .to_string(),
        );

        // An agreement pay with the access token, then one whose answer is lost.
        let order = |id: &str| {
            Order::new(
                id.into(),
                ORDER_DESCRIPTION.into(),
                Amount::new(Currency::SGD, 1500),
                Merchant::new(AUTH_CLIENT_ID.into()),
            )
        };
        let amount = Amount::new(Currency::SGD, 1500);
        let pay = agreement_pay_request("PAY-T1", order("PAY-T1"), amount, life.access_token());
        assert!(calls.pay(&pay).unwrap().is_success());
        fake.script(PayScript::LoseAnswer);
        let lost = agreement_pay_request("PAY-T2", order("PAY-T2"), amount, life.access_token());
        assert!(calls.pay(&lost).unwrap().is_unknown());
        lost_pay = Some(lost);

        // The async path records the same span.
        let async_client = {
            let fake = fake.clone();
            Client::new(config(&clock), move |request: Request| {
                let answer = fake.handle(request);
                async move { answer }
            })
        };
        let by_id = PaymentRef::RequestId("PAY-T1".into());
        let asked = ready(async_client.call_async(&inquiry_request(&by_id))).unwrap();
        assert!(asked.is_success(), "{asked:?}");

        // Inbound: authNotify with the new tokens, a notifyPayment with the shopper's id, and
        // a notification signed with a key that is not Alipay+'s.
        let mut token_created = fake.issue(ACCESS_TTL, REFRESH_TTL);
        secrets.push(token_created["accessToken"].as_str().unwrap().to_string());
        secrets.push(token_created["refreshToken"].as_str().unwrap().to_string());
        token_created["authorizationNotifyType"] = json!("TOKEN_CREATED");
        token_created["authClientId"] = json!(AUTH_CLIENT_ID);
        let delivery = inbound("/alipayplus/authNotify", &token_created, &alipay_key());
        signatures
            .lock()
            .unwrap()
            .extend(signature_of(&delivery.headers));
        let notified = handle_auth_notify(&config(&clock), &delivery).unwrap();
        signatures
            .lock()
            .unwrap()
            .extend(signature_of(&notified.answer.headers));

        let notify_payment = json!({
            "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentRequestId": "PAY-T1", "paymentId": "P-PAY-T1", "customerId": PERSONAL,
            "paymentAmount": {"currency": "SGD", "value": "1500"},
        });
        let delivery = inbound("/alipayplus/notifyPayment", &notify_payment, &alipay_key());
        signatures
            .lock()
            .unwrap()
            .extend(signature_of(&delivery.headers));
        let accepted =
            alipayplus_client::notify::handle_notify_payment(&config(&clock), &delivery).unwrap();
        signatures
            .lock()
            .unwrap()
            .extend(signature_of(&accepted.answer.headers));

        let forged = inbound("/alipayplus/notifyPayment", &notify_payment, &other_key());
        signatures
            .lock()
            .unwrap()
            .extend(signature_of(&forged.headers));
        assert!(
            alipayplus_client::notify::handle_notify_payment(&config(&clock), &forged).is_err()
        );
    });

    // The spans are there, with what an operator needs.
    let prepare = recorder.span("alipayplus.outbound", "api", "prepare");
    assert_fields(
        &prepare,
        &[
            ("request_id", "AGR-T1"),
            ("request_id_field", "referenceAgreementId"),
            ("status", "S"),
            ("verified", "true"),
        ],
    );
    let apply_token: Vec<_> = recorder
        .spans("alipayplus.outbound")
        .into_iter()
        .filter(|s| s.get("api").map(String::as_str) == Some("applyToken"))
        .collect();
    assert_eq!(apply_token.len(), 2, "the exchange and the refresh");
    for span in &apply_token {
        assert_fields(
            span,
            &[
                ("key_version", "1"),
                ("status", "S"),
                ("code", "SUCCESS"),
                ("verified", "true"),
                ("response_key_version", "1"),
            ],
        );
        assert!(!span.contains_key("request_id"), "applyToken has no own id");
        assert!(span.contains_key("latency_ms"));
    }
    let paid: Vec<_> = recorder
        .spans("alipayplus.outbound")
        .into_iter()
        .filter(|s| s.get("api").map(String::as_str) == Some("pay"))
        .collect();
    assert_eq!(paid.len(), 2, "two agreement pays");
    let paid = &paid[0];
    assert_fields(
        paid,
        &[
            ("request_id", "PAY-T1"),
            ("request_id_field", "paymentRequestId"),
            ("key_version", "1"),
            ("status", "S"),
            ("code", "SUCCESS"),
            ("verified", "true"),
        ],
    );
    assert!(paid["latency_ms"].parse::<u64>().is_ok());
    let inquired = recorder.span("alipayplus.outbound", "api", "inquiryPayment");
    assert_fields(
        &inquired,
        &[
            ("request_id", "PAY-T1"),
            ("status", "S"),
            ("verified", "true"),
        ],
    );
    let lost = recorder.span("alipayplus.outbound", "request_id", "PAY-T2");
    assert_fields(
        &lost,
        &[
            ("api", "pay"),
            ("status", "U"),
            ("verified", "false"),
            ("not_verified", "transport"),
        ],
    );
    assert!(!lost.contains_key("code"));

    let auth_notify = recorder.span("alipayplus.inbound", "api", "authNotify");
    assert_fields(
        &auth_notify,
        &[
            ("verified", "true"),
            ("client_id_ours", "true"),
            ("key_version", "1"),
            ("answered", "S"),
            ("answer_signed", "true"),
        ],
    );
    let inbound_payments: Vec<_> = recorder
        .spans("alipayplus.inbound")
        .into_iter()
        .filter(|s| s.get("api").map(String::as_str) == Some("notifyPayment"))
        .collect();
    assert_eq!(inbound_payments.len(), 2);
    assert_fields(
        &inbound_payments[0],
        &[
            ("verified", "true"),
            ("client_id_ours", "true"),
            ("request_id", "PAY-T1"),
            ("answered", "S"),
            ("answer_signed", "true"),
        ],
    );
    assert_fields(
        &inbound_payments[1],
        &[
            ("verified", "false"),
            ("refused", "signature"),
            ("answered", "F"),
            ("answer_signed", "false"),
        ],
    );
    assert!(
        !inbound_payments[1].contains_key("request_id"),
        "nothing is read from an unverified body"
    );

    // The lost pay followed to its end by the follower's loop, under a recorder of its own (so
    // the spans and signatures counted above stay those of the single calls): its decisions
    // are events.
    let follow_recorder = Recorder::default();
    tracing::subscriber::with_default(follow_recorder.clone(), || {
        let follow_client = {
            let fake = fake.clone();
            Client::new(config(&clock), move |request: Request| fake.handle(request))
        };
        let followed = alipayplus_autodebit::payment::follow_agreement_payment(
            &follow_client,
            lost_pay.as_ref().unwrap(),
            |d| clock.advance(d),
        )
        .unwrap();
        assert_eq!(followed.final_state, Some(Final::Succeeded));
    });
    // The follow-up decisions: the next step sent, then why the loop ended.
    let events = follow_recorder.recorded.lock().unwrap().events.clone();
    let follow: Vec<_> = events
        .iter()
        .filter(|e| e.get("payment_request_id").map(String::as_str) == Some("PAY-T2"))
        .collect();
    assert!(
        follow
            .iter()
            .any(|e| e["message"] == "next step: send" && e.contains_key("next")),
        "{follow:?}"
    );
    assert!(
        follow
            .last()
            .is_some_and(|e| e["message"] == "payment final" && e["final_state"] == "Succeeded"),
        "{follow:?}"
    );

    // And nothing secret, anywhere.
    let mut everything = recorder.recorded.lock().unwrap().everything.join("\n");
    everything.push('\n');
    everything.push_str(
        &follow_recorder
            .recorded
            .lock()
            .unwrap()
            .everything
            .join("\n"),
    );
    let signatures = signatures.lock().unwrap().clone();
    // 5 requests and 4 answers out (the lost pay has none), 3 notifications in, 2 acks (the
    // async inquiry's are not collected).
    assert_eq!(signatures.len(), 14, "signatures seen");
    for key in [
        include_str!("data/acqp_private_pkcs8.pem"),
        include_str!("data/alipay_private_pkcs8.pem"),
        include_str!("data/other_private_pkcs8.pem"),
    ] {
        secrets.extend(key_lines(key));
    }
    secrets.extend(signatures.iter().cloned());
    // Percent-decoded signatures too (the header carries them URL-encoded).
    secrets.extend(signatures.iter().map(|s| {
        s.replace("%2B", "+")
            .replace("%2F", "/")
            .replace("%3D", "=")
    }));
    secrets.push(PERSONAL.into());
    secrets.push(ORDER_DESCRIPTION.into());
    for secret in &secrets {
        assert!(
            secret.len() >= 8,
            "a secret too short to search for: {secret}"
        );
        assert!(
            !everything.contains(secret.as_str()),
            "{secret} appears in a trace"
        );
    }
    for body_part in [
        "{\"",
        "\"result\"",
        "resultMessage",
        "paymentMethodId",
        "BEGIN",
    ] {
        assert!(
            !everything.contains(body_part),
            "{body_part} (part of a body or key) appears in a trace"
        );
    }
}
