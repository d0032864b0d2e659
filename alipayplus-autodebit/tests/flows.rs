//! Auto Debit end to end against a fake Alipay+ played by a closure transport: binding,
//! tokens, agreement payments, unbinding, notifications.

mod common;

use std::time::Duration;

use alipayplus_autodebit::payment::AGREEMENT_PAYMENT_METHOD_TYPE;
use alipayplus_autodebit::{
    AuthEvent, AuthState, AuthorizationUrls, Binding, CodeUpdate, Error, RebindReason,
    TokenDecision, TokenLifecycle, TokenSet, TokenUpdate, agreement_pay_request,
    handle_auth_notify, handle_consult_unbinding,
};
use alipayplus_client::client::Outcome;
use alipayplus_client::inquiry::PaymentRef;
use alipayplus_client::refund::refund_request;
use alipayplus_client::tracker::Final;
use alipayplus_types::{Amount, Currency, Merchant, Order, Secret, TerminalType};
use common::*;
use serde_json::json;

fn state(n: u8) -> AuthState {
    AuthState::from_random_bytes([n; 16])
}

fn binding(n: u8) -> Binding {
    Binding::new(AUTH_CLIENT_ID, REDIRECT, state(n)).with_wallet("GCASH")
}

fn order(id: &str, value: u64) -> Order {
    Order::new(
        id.into(),
        "Monthly subscription".into(),
        Amount::new(Currency::SGD, value),
        Merchant::new(AUTH_CLIENT_ID.into()),
    )
}

fn charge(id: &str, value: u64, token: &Secret) -> alipayplus_types::PayRequest {
    agreement_pay_request(
        id,
        order(id, value),
        Amount::new(Currency::SGD, value),
        token,
    )
}

/// Binds through prepare, consent, redirect and applyToken; returns the lifecycle.
fn bind(fake: &FakeAlipay) -> TokenLifecycle {
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut b = binding(1);
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

#[test]
fn whole_binding_flow_then_charge_and_refund() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut b = binding(1).with_reference_agreement_id("AGR-1");

    // prepare: the request carries the state, the scope and the redirect URL.
    let outcome = ad.prepare(&b, TerminalType::Web, None).unwrap();
    let urls = AuthorizationUrls::from_response(outcome.body().unwrap());
    assert_eq!(
        urls.for_terminal(&TerminalType::Web),
        Some("https://wallet.example/authorize?ticket=1")
    );
    let sent = &fake.calls("/prepare")[0].body;
    assert_eq!(sent["authClientId"], AUTH_CLIENT_ID);
    assert_eq!(sent["authState"], b.state().as_str());
    assert_eq!(sent["scopes"], json!(["AGREEMENT_PAY"]));
    assert_eq!(sent["authRedirectUrl"], REDIRECT);
    assert_eq!(sent["customerBelongsTo"], "GCASH");
    assert_eq!(sent["referenceAgreementId"], "AGR-1");
    assert_eq!(sent["authClientDisplayName"], "Example Shop");

    // The user consents; the code comes back by redirect, and again by authNotify.
    let (url, code) = fake.consent();
    assert_eq!(b.on_redirect(&url).unwrap(), CodeUpdate::New);
    let notify = inbound(
        "/alipayplus/authNotify",
        &json!({"authorizationNotifyType": "AUTHCODE_CREATED", "authClientId": AUTH_CLIENT_ID,
                "authCode": code, "authState": b.state().as_str()}),
        &alipay_key(),
    );
    let n = handle_auth_notify(&config(&clock), &notify).unwrap();
    assert_eq!(
        verify_answer("/alipayplus/authNotify", &n.answer)["result"]["resultStatus"],
        "S"
    );
    let AuthEvent::AuthCodeCreated {
        auth_code,
        auth_state,
        ..
    } = &n.body.event
    else {
        panic!("{:?}", n.body.event)
    };
    assert_eq!(
        b.on_auth_code_notified(auth_code, auth_state.as_deref())
            .unwrap(),
        CodeUpdate::Duplicate
    );

    // One exchange, with the code and the wallet.
    let outcome = ad.exchange_code(&mut b).unwrap();
    assert!(outcome.is_success());
    let exchanged = &fake.calls("/applyToken")[0].body;
    assert_eq!(exchanged["grantType"], "AUTHORIZATION_CODE");
    assert_eq!(exchanged["authCode"], code.as_str());
    assert_eq!(exchanged["customerBelongsTo"], "GCASH");
    let tokens = TokenSet::from_apply_token(outcome.body().unwrap()).unwrap();
    assert_eq!(tokens.wallet.as_deref(), Some("GCASH"));
    assert_eq!(
        tokens.access_token_expires_at,
        Some(clock.now() + ACCESS_TTL)
    );
    let life = TokenLifecycle::new(tokens);
    assert_eq!(life.decide(clock.now()), TokenDecision::Use);

    // Charge with the token, then refund part of it through the shared payment API.
    let pay = charge("PAY-1", 1500, life.access_token());
    let paid = ad.pay(&pay).unwrap();
    assert!(paid.is_success(), "{paid:?}");
    let sent = &fake.calls("/pay")[0].body;
    assert_eq!(
        sent["paymentMethod"]["paymentMethodId"],
        life.access_token().expose()
    );
    assert_eq!(
        sent["paymentMethod"]["paymentMethodType"],
        AGREEMENT_PAYMENT_METHOD_TYPE
    );
    assert_eq!(sent["paymentFactor"]["isAgreementPayment"], "true");
    assert_eq!(sent["paymentFactor"]["isCashierPayment"], "false");
    let refund = client
        .call(&refund_request(
            &PaymentRef::RequestId("PAY-1".into()),
            "REF-1",
            Amount::new(Currency::SGD, 500),
        ))
        .unwrap();
    assert!(refund.is_success());
    assert_eq!(fake.state.lock().unwrap().payments["PAY-1"].refunded, 500);
}

#[test]
fn state_mismatch_missing_state_and_missing_code_are_refused() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut b = binding(1);
    ad.prepare(&b, TerminalType::Web, None).unwrap();
    let (url, code) = fake.consent();

    // The same redirect presented to another binding (another state): refused.
    let mut other = binding(2);
    assert!(matches!(other.on_redirect(&url), Err(Error::StateMismatch)));
    assert!(matches!(
        other.apply_token_request(),
        Err(Error::NoAuthCode)
    ));
    assert!(matches!(
        ad.exchange_code(&mut other),
        Err(Error::NoAuthCode)
    ));
    // A notification with another binding's state: refused too.
    assert!(matches!(
        other.on_auth_code_notified(&Secret::new(code.clone()), Some(b.state().as_str())),
        Err(Error::StateMismatch)
    ));

    let bare = format!("{REDIRECT}?authCode={code}");
    assert!(matches!(b.on_redirect(&bare), Err(Error::MissingState)));
    let no_code = format!("{REDIRECT}?authState={}", b.state().as_str());
    assert!(matches!(
        b.on_redirect(&no_code),
        Err(Error::MissingAuthCode)
    ));
    let forged = format!("{REDIRECT}?authCode={code}&authState=0000000000000000");
    assert!(matches!(b.on_redirect(&forged), Err(Error::StateMismatch)));
    let twice = format!("{url}&authCode=other");
    assert!(matches!(
        b.on_redirect(&twice),
        Err(Error::DuplicateParameter("authCode"))
    ));
    assert!(
        fake.calls("/applyToken").is_empty(),
        "nothing was exchanged"
    );

    // Opting out of the state requirement still checks a state that is present.
    let mut lax = binding(1).allow_missing_state();
    assert_eq!(lax.on_redirect(&bare).unwrap(), CodeUpdate::New);
    let mut lax = binding(3).allow_missing_state();
    assert!(matches!(lax.on_redirect(&url), Err(Error::StateMismatch)));

    // The right redirect works, also as a request target with the merchant's own parameters.
    let target = url
        .replace(REDIRECT, "/alipayplus/auth-return")
        .replace("?", "?x=1&");
    assert_eq!(b.on_redirect(&target).unwrap(), CodeUpdate::New);
}

#[test]
fn an_auth_code_is_exchanged_once() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut b = binding(1);
    ad.prepare(&b, TerminalType::Web, None).unwrap();
    let (url, code) = fake.consent();
    b.on_redirect(&url).unwrap();
    assert!(ad.exchange_code(&mut b).unwrap().is_success());
    assert!(b.is_code_spent());

    // The redirect replayed (reload, back button) and the notification re-sent: no new exchange.
    assert_eq!(b.on_redirect(&url).unwrap(), CodeUpdate::AlreadyExchanged);
    assert_eq!(
        b.on_auth_code_notified(&Secret::new(code.clone()), None)
            .unwrap(),
        CodeUpdate::AlreadyExchanged
    );
    assert!(matches!(
        ad.exchange_code(&mut b),
        Err(Error::CodeAlreadyExchanged)
    ));
    assert_eq!(fake.calls("/applyToken").len(), 1);

    // Sent anyway by hand: Alipay+ refuses a used code.
    let again = ad
        .apply_token_with_code(&Secret::new(code), Some("GCASH"))
        .unwrap();
    assert!(again.is_failure());
    assert_eq!(again.code(), Some("USED_CODE"));

    // A failed exchange spends the code as well (it is dead).
    let mut b2 = binding(4);
    ad.prepare(&b2, TerminalType::Web, None).unwrap();
    b2.on_auth_code_notified(&Secret::new("NOT-A-CODE"), None)
        .unwrap();
    let refused = ad.exchange_code(&mut b2).unwrap();
    assert_eq!(refused.code(), Some("INVALID_AUTH_CODE"));
    assert!(b2.is_code_spent());
}

#[test]
fn an_unknown_exchange_keeps_the_code_for_a_retry_of_the_same_request() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut b = binding(1);
    ad.prepare(&b, TerminalType::Web, None).unwrap();
    let (url, _) = fake.consent();
    b.on_redirect(&url).unwrap();
    fake.state.lock().unwrap().apply_token_unknown = 1;
    let unknown = ad.exchange_code(&mut b).unwrap();
    assert!(unknown.is_unknown());
    assert!(!b.is_code_spent(), "U: the same exchange may be retried");
    let retried = ad.exchange_code(&mut b).unwrap();
    assert!(retried.is_success());
    let calls = fake.calls("/applyToken");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].body, calls[1].body, "the same request again");
    assert!(b.is_code_spent());
}

#[test]
fn refresh_rotates_tokens_and_expiry_forces_rebinding() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut life = bind(&fake);
    let first = life.tokens().clone();

    assert_eq!(life.decide(clock.now()), TokenDecision::Use);
    clock.advance(ACCESS_TTL - Duration::from_secs(120)); // inside the 5-minute margin
    assert_eq!(life.decide(clock.now()), TokenDecision::RefreshNow);
    let outcome = ad.refresh(&mut life).unwrap();
    assert!(outcome.is_success());
    let sent = &fake.calls("/applyToken")[1].body;
    assert_eq!(sent["grantType"], "REFRESH_TOKEN");
    assert_eq!(
        sent["refreshToken"],
        first.refresh_token.as_ref().unwrap().expose()
    );
    assert_ne!(life.access_token(), &first.access_token);
    assert_eq!(life.decide(clock.now()), TokenDecision::Use);

    // The old access token stopped working: pay says so, and the lifecycle asks for a refresh.
    let mut stale = TokenLifecycle::new(first.clone());
    let failed = ad
        .pay(&charge("PAY-OLD", 100, &first.access_token))
        .unwrap();
    assert_eq!(failed.code(), Some("INVALID_ACCESS_TOKEN"));
    assert_eq!(
        stale.on_payment_failure("INVALID_ACCESS_TOKEN"),
        TokenUpdate::Changed
    );
    assert_eq!(stale.decide(clock.now()), TokenDecision::RefreshNow);
    // ... but the old refresh token was rotated away: Alipay+ refuses, bind again.
    let refused = ad.refresh(&mut stale).unwrap();
    assert_eq!(refused.code(), Some("INVALID_REFRESH_TOKEN"));
    assert_eq!(
        stale.decide(clock.now()),
        TokenDecision::Rebind(RebindReason::RefreshRefused("INVALID_REFRESH_TOKEN".into()))
    );

    // Access token expired: pay fails with the expiry code; refresh while it is allowed.
    clock.advance(ACCESS_TTL + Duration::from_secs(1));
    let expired = ad
        .pay(&charge("PAY-EXP", 100, life.access_token()))
        .unwrap();
    assert_eq!(expired.code(), Some("EXPIRED_ACCESS_TOKEN"));
    assert_eq!(life.decide(clock.now()), TokenDecision::RefreshNow);

    // After the refresh token's expiry: never refresh, bind again.
    clock.advance(REFRESH_TTL);
    assert_eq!(
        life.decide(clock.now()),
        TokenDecision::Rebind(RebindReason::RefreshTokenExpired)
    );
    let late = ad
        .refresh_token(life.tokens().refresh_token.as_ref().unwrap())
        .unwrap();
    assert_eq!(late.code(), Some("EXPIRED_REFRESH_TOKEN"));

    // A token without refresh token: used until expiry, then re-bind.
    let t = clock.now();
    let single = TokenLifecycle::new(TokenSet::new(Secret::new("AT"), Some(t + ACCESS_TTL)));
    assert_eq!(
        single.decide(t + ACCESS_TTL - Duration::from_secs(1)),
        TokenDecision::Use
    );
    assert_eq!(
        single.decide(t + ACCESS_TTL),
        TokenDecision::Rebind(RebindReason::NoRefreshToken)
    );
}

#[test]
fn merchant_side_cancel_revokes_and_the_echoed_notification_is_harmless() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut life = bind(&fake);
    let token = life.access_token().clone();

    let cancelled = ad.cancel_token(&token).unwrap();
    assert!(cancelled.is_success());
    let sent = &fake.calls("/cancelToken")[0].body;
    assert_eq!(
        sent,
        &json!({"accessToken": token.expose(), "authClientId": AUTH_CLIENT_ID})
    );
    assert_eq!(life.on_cancelled(), TokenUpdate::Changed);
    assert_eq!(
        life.decide(clock.now()),
        TokenDecision::Rebind(RebindReason::Cancelled)
    );

    // Alipay+ also notifies TOKEN_CANCELED for our own cancel: acknowledged, nothing changes.
    let notify = inbound(
        "/notify/auth",
        &json!({"authorizationNotifyType": "TOKEN_CANCELED", "authClientId": AUTH_CLIENT_ID,
                "accessToken": token.expose()}),
        &alipay_key(),
    );
    let n = handle_auth_notify(&config(&clock), &notify).unwrap();
    verify_answer("/notify/auth", &n.answer);
    assert_eq!(life.on_auth_event(&n.body.event), TokenUpdate::Ignored);

    // The token no longer charges; cancelling again is idempotent.
    let pay = ad.pay(&charge("PAY-AFTER", 100, &token)).unwrap();
    assert_eq!(pay.code(), Some("INVALID_ACCESS_TOKEN"));
    assert!(ad.cancel_token(&token).unwrap().is_success());
}

#[test]
fn wallet_side_unbinding_consult_then_token_canceled() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let cfg = config(&clock);
    let mut life = bind(&fake);
    let token = life.access_token().expose().to_string();

    // Alipay+ asks first; the merchant decides.
    let ask = inbound(
        "/alipayplus/consultUnbinding",
        &json!({"accessToken": token, "authClientId": AUTH_CLIENT_ID, "newField": 1}),
        &alipay_key(),
    );
    let c = handle_consult_unbinding(&cfg, &ask).unwrap();
    assert_eq!(c.body.access_token.as_ref().unwrap().expose(), token);
    let refuse = verify_answer(
        "/alipayplus/consultUnbinding",
        &c.answer.refuse(
            &cfg,
            &alipayplus_autodebit::unbinding_refusal("fares \"due\""),
        ),
    );
    assert_eq!(
        refuse,
        json!({"result": {"resultCode": "PROCESS_FAIL", "resultStatus": "F",
                          "resultMessage": "fares \"due\""}})
    );
    let allow = verify_answer("/alipayplus/consultUnbinding", &c.answer.acknowledge(&cfg));
    assert_eq!(allow["result"]["resultStatus"], "S");
    // A forged question gets an unsigned refusal.
    let forged = inbound("/alipayplus/consultUnbinding", &json!({}), &other_key());
    let refused = handle_consult_unbinding(&cfg, &forged).unwrap_err();
    assert!(refused.answer.headers.get("Signature").is_none());
    assert_eq!(
        unsigned_answer(&refused.answer)["result"]["resultCode"],
        "INVALID_SIGNATURE"
    );

    // The wallet unbinds and notifies TOKEN_CANCELED.
    fake.revoke(&token);
    let notify = inbound(
        "/alipayplus/authNotify",
        &json!({"authorizationNotifyType": "TOKEN_CANCELED", "authClientId": AUTH_CLIENT_ID,
                "accessToken": token}),
        &alipay_key(),
    );
    let n = handle_auth_notify(&cfg, &notify).unwrap();
    assert_eq!(life.on_auth_event(&n.body.event), TokenUpdate::Changed);
    assert_eq!(
        life.decide(clock.now()),
        TokenDecision::Rebind(RebindReason::Cancelled)
    );
    // A cancellation of some other token is not ours.
    let mut other = bind(&fake);
    assert_eq!(other.on_auth_event(&n.body.event), TokenUpdate::Ignored);
    assert_eq!(other.decide(clock.now()), TokenDecision::Use);
}

#[test]
fn agreement_payment_succeeds_at_once_or_fails_with_the_code() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut life = bind(&fake);
    let no_sleep = |_: Duration| panic!("no wait expected");

    let paid = ad
        .pay_and_follow(&charge("PAY-S", 1500, life.access_token()), no_sleep)
        .unwrap();
    assert_eq!(paid.final_state, Some(Final::Succeeded));
    assert_eq!(
        paid.pay_response.unwrap().payment_id.as_deref(),
        Some("P-PAY-S")
    );
    assert_eq!((paid.pay_attempts, paid.inquiries), (1, 0));

    fake.script(PayScript::Fail("USER_BALANCE_NOT_ENOUGH"));
    let failed = ad
        .pay_and_follow(&charge("PAY-F", 1500, life.access_token()), no_sleep)
        .unwrap();
    assert_eq!(failed.failure_code(), Some("USER_BALANCE_NOT_ENOUGH"));
    assert!(
        failed
            .final_state
            .as_ref()
            .is_some_and(Final::may_retry_with_new_id)
    );
    assert_eq!(
        life.on_payment_failure("USER_BALANCE_NOT_ENOUGH"),
        TokenUpdate::Ignored
    );
    assert_eq!(life.decide(clock.now()), TokenDecision::Use);

    // A request without a token, or flagged as Cashier, is not sent.
    let mut bad = charge("PAY-X", 100, life.access_token());
    bad.payment_method.payment_method_id = None;
    assert!(ad.pay(&bad).is_err());
    let mut cashier = charge("PAY-Y", 100, life.access_token());
    cashier.payment_factor.is_cashier_payment = Some(alipayplus_types::StrBool(true));
    assert!(ad.pay(&cashier).is_err());
    assert_eq!(fake.calls("/pay").len(), 2);
}

#[test]
fn unknown_result_is_resolved_by_inquiry_every_3_seconds() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let life = bind(&fake);
    fake.script(PayScript::Pending(3));
    let start = clock.secs_since_t0();
    let c2 = clock.clone();
    let paid = ad
        .pay_and_follow(&charge("PAY-U", 1500, life.access_token()), |d| {
            c2.advance(d)
        })
        .unwrap();
    assert_eq!(paid.final_state, Some(Final::Succeeded));
    assert_eq!((paid.pay_attempts, paid.inquiries), (1, 4));
    let times: Vec<f64> = fake
        .calls("/inquiryPayment")
        .iter()
        .map(|l| l.at - start)
        .collect();
    assert_eq!(times, vec![3.0, 6.0, 9.0, 12.0]);
    assert!(
        fake.calls("/inquiryPayment")
            .iter()
            .all(|l| l.body["paymentRequestId"] == "PAY-U")
    );
    assert!(fake.calls("/cancelPayment").is_empty());
}

#[test]
fn unknown_result_for_60_seconds_is_cancelled() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let life = bind(&fake);
    fake.script(PayScript::PendingForever);
    let start = clock.secs_since_t0();
    let c2 = clock.clone();
    let result = ad
        .pay_and_follow(&charge("PAY-C", 1500, life.access_token()), |d| {
            c2.advance(d)
        })
        .unwrap();
    assert_eq!(result.final_state, Some(Final::Cancelled));
    assert!(
        result
            .final_state
            .as_ref()
            .is_some_and(Final::may_retry_with_new_id)
    );
    let inquiries = fake.calls("/inquiryPayment");
    assert_eq!(inquiries.len(), 19, "every 3 s from 3 s to 57 s");
    assert!(inquiries.iter().all(|l| l.at - start <= 60.0));
    let cancels = fake.calls("/cancelPayment");
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].at - start, 60.0);
    assert_eq!(cancels[0].body["paymentRequestId"], "PAY-C");
    assert!(fake.state.lock().unwrap().payments["PAY-C"].cancelled);
}

#[test]
fn a_lost_pay_answer_is_retried_with_the_same_payment_request_id() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let life = bind(&fake);
    fake.script(PayScript::LoseAnswer);
    let c2 = clock.clone();
    let paid = ad
        .pay_and_follow(&charge("PAY-L", 1500, life.access_token()), |d| {
            c2.advance(d)
        })
        .unwrap();
    assert_eq!(paid.final_state, Some(Final::Succeeded));
    let pays = fake.calls("/pay");
    assert_eq!(pays.len(), 2);
    assert_eq!(pays[0].body, pays[1].body, "the same request, same id");
    assert_eq!(fake.state.lock().unwrap().payments.len(), 1, "charged once");
}

#[test]
fn duplicated_auth_notify_deliveries_are_harmless() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let cfg = config(&clock);
    let mut life = bind(&fake);
    let issued = fake.issue(ACCESS_TTL * 2, REFRESH_TTL);
    let mut body = issued.clone();
    body["authorizationNotifyType"] = json!("TOKEN_CREATED");
    body["authClientId"] = json!(AUTH_CLIENT_ID);
    let delivery = inbound("/alipayplus/authNotify", &body, &alipay_key());

    let first = handle_auth_notify(&cfg, &delivery).unwrap();
    let second = handle_auth_notify(&cfg, &delivery).unwrap();
    assert_eq!(first.body.event, second.body.event);
    assert_eq!(first.body.event.dedup_key(), second.body.event.dedup_key());
    for n in [&first, &second] {
        let ack = verify_answer("/alipayplus/authNotify", &n.answer);
        assert_eq!(
            ack,
            json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}})
        );
    }
    assert_eq!(life.on_auth_event(&first.body.event), TokenUpdate::Changed);
    assert_eq!(
        life.access_token().expose(),
        issued["accessToken"].as_str().unwrap()
    );
    assert_eq!(life.on_auth_event(&second.body.event), TokenUpdate::Ignored);

    // A late re-delivery of an older TOKEN_CREATED does not roll the token back.
    let mut older = issued.clone();
    older["accessToken"] = json!("OLDER");
    older["accessTokenExpiryTime"] = json!("2025-06-01T08:30:00+08:00");
    older["authorizationNotifyType"] = json!("TOKEN_CREATED");
    older["authClientId"] = json!(AUTH_CLIENT_ID);
    let stale = handle_auth_notify(&cfg, &inbound("/n", &older, &alipay_key())).unwrap();
    assert_eq!(life.on_auth_event(&stale.body.event), TokenUpdate::Ignored);

    // TOKEN_CANCELED twice: one change.
    let cancel = inbound(
        "/alipayplus/authNotify",
        &json!({"authorizationNotifyType": "TOKEN_CANCELED", "authClientId": AUTH_CLIENT_ID,
                "accessToken": life.access_token().expose()}),
        &alipay_key(),
    );
    let c1 = handle_auth_notify(&cfg, &cancel).unwrap();
    let c2 = handle_auth_notify(&cfg, &cancel).unwrap();
    assert_eq!(life.on_auth_event(&c1.body.event), TokenUpdate::Changed);
    assert_eq!(life.on_auth_event(&c2.body.event), TokenUpdate::Ignored);
}

#[test]
fn bad_auth_notifications_get_signed_refusals() {
    let clock = TestClock::new();
    let cfg = config(&clock);
    let path = "/alipayplus/authNotify";

    let forged = inbound(
        path,
        &json!({"authorizationNotifyType": "TOKEN_CANCELED", "authClientId": "M", "accessToken": "T"}),
        &other_key(),
    );
    let r = handle_auth_notify(&cfg, &forged).unwrap_err();
    // Unverified caller: an unsigned refusal (no private-key work).
    assert!(r.answer.headers.get("Signature").is_none());
    assert_eq!(
        unsigned_answer(&r.answer)["result"]["resultCode"],
        "INVALID_SIGNATURE"
    );

    // Verified but incomplete: refused so that Alipay+ sends it again.
    for body in [
        json!({"authorizationNotifyType": "AUTHCODE_CREATED", "authClientId": "M"}),
        json!({"authorizationNotifyType": "TOKEN_CREATED", "authClientId": "M", "accessToken": ""}),
        json!({"authorizationNotifyType": "TOKEN_CANCELED", "authClientId": "M"}),
    ] {
        let r = handle_auth_notify(&cfg, &inbound(path, &body, &alipay_key())).unwrap_err();
        let answer = verify_answer(path, &r.answer);
        assert_eq!(answer["result"]["resultCode"], "PARAM_ILLEGAL", "{body}");
        assert_eq!(answer["result"]["resultStatus"], "F");
    }
    let r = handle_auth_notify(&cfg, &inbound(path, &json!({"x": 1}), &alipay_key())).unwrap_err();
    assert_eq!(
        verify_answer(path, &r.answer)["result"]["resultCode"],
        "PARAM_ILLEGAL"
    );

    // An unknown type is acknowledged and kept.
    let body = json!({"authorizationNotifyType": "TOKEN_REFRESHED", "authClientId": "M"});
    let n = handle_auth_notify(&cfg, &inbound(path, &body, &alipay_key())).unwrap();
    assert_eq!(
        n.body.event,
        AuthEvent::Unrecognized {
            auth_client_id: "M".into(),
            notify_type: "TOKEN_REFRESHED".into()
        }
    );
    assert_eq!(
        verify_answer(path, &n.answer)["result"]["resultStatus"],
        "S"
    );
}

#[test]
fn no_credential_in_debug_output() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);
    let mut b = binding(9);
    ad.prepare(&b, TerminalType::Web, None).unwrap();
    let (url, code) = fake.consent();
    b.on_redirect(&url).unwrap();
    let state = b.state().as_str().to_string();
    let outcome = ad.exchange_code(&mut b).unwrap();
    let tokens = TokenSet::from_apply_token(outcome.body().unwrap()).unwrap();
    let life = TokenLifecycle::new(tokens.clone());
    let event = AuthEvent::TokenCreated {
        auth_client_id: "M".into(),
        tokens: tokens.clone(),
        auth_state: None,
    };
    let shown = format!(
        "{b:?} {tokens:?} {life:?} {event:?} {:?}",
        Error::StateMismatch
    );
    for secret in [
        code.as_str(),
        state.as_str(),
        tokens.access_token.expose(),
        tokens.refresh_token.as_ref().unwrap().expose(),
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(matches!(outcome, Outcome::Success(_)));
}

#[test]
fn binding_and_token_lifecycle_can_be_stored_and_resumed() {
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let client = fake.client();
    let m = merchant();
    let ad = Calls::new(&client, &m);

    // Stored between prepare and the redirect back (another request, maybe another process).
    let b = binding(1);
    ad.prepare(&b, TerminalType::Web, None).unwrap();
    let stored = serde_json::to_string(&b).unwrap();
    let (url, _) = fake.consent();
    let mut resumed: Binding = serde_json::from_str(&stored).unwrap();
    assert_eq!(resumed, b);
    assert_eq!(resumed.on_redirect(&url).unwrap(), CodeUpdate::New);
    // Stored after the exchange: the code stays spent.
    ad.exchange_code(&mut resumed).unwrap();
    let again: Binding = serde_json::from_str(&serde_json::to_string(&resumed).unwrap()).unwrap();
    assert!(again.is_code_spent());
    assert!(matches!(
        again.apply_token_request(),
        Err(Error::CodeAlreadyExchanged)
    ));

    // A tampered stored state is refused when read back.
    let bad = stored.replace(b.state().as_str(), "not a state!");
    assert!(serde_json::from_str::<Binding>(&bad).is_err());

    let mut life = bind(&fake);
    life.on_cancelled();
    let back: TokenLifecycle =
        serde_json::from_str(&serde_json::to_string(&life).unwrap()).unwrap();
    assert_eq!(back, life);
    assert_eq!(
        back.decide(clock.now()),
        TokenDecision::Rebind(RebindReason::Cancelled)
    );
}

/// Our signer (e.g. a remote KMS) fails once, after the first pay was sent and its answer
/// lost: the follow-up must not report "nothing was sent" (an `Err`), which would invite a
/// second charge with a new id. The failed step counts as "no answer" and the payment is
/// followed to its result.
#[test]
fn a_signer_failure_after_the_first_pay_is_no_answer_not_an_error() {
    use alipayplus_client::transport::Request;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct FlakySigner {
        key: alipayplus_sign::PrivateKey,
        calls: Arc<AtomicU32>,
        fail_on: u32,
    }
    impl alipayplus_sign::ContentSigner for FlakySigner {
        fn sign(
            &self,
            content: &alipayplus_sign::SignContent<'_>,
        ) -> Result<alipayplus_sign::RsaSignature, alipayplus_sign::Error> {
            if self.calls.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_on {
                return Err(alipayplus_sign::Error::SigningFailed);
            }
            self.key.sign(content)
        }
    }

    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let life = bind(&fake);
    for fail_on in [2, 3] {
        // 2: the pay retry cannot be signed; 3: the first inquiry cannot be signed.
        let id = format!("PAY-K{fail_on}");
        fake.script(PayScript::LoseAnswer);
        let c = clock.clone();
        let signer = FlakySigner {
            key: acqp_key(),
            calls: Arc::new(AtomicU32::new(0)),
            fail_on,
        };
        let config = alipayplus_client::client::ClientConfig::new(
            CLIENT_ID,
            alipayplus_client::client::Host::OtherRegionsAccelerated,
            signer,
            alipayplus_sign::PublicKeys::single(1, alipay_public()),
            move || c.now(),
        )
        .unwrap();
        let f2 = fake.clone();
        let client = alipayplus_client::client::Client::new(config, move |r: Request| f2.handle(r));
        let c2 = clock.clone();
        let paid = alipayplus_autodebit::payment::follow_agreement_payment(
            &client,
            &charge(&id, 1500, life.access_token()),
            |d| c2.advance(d),
        )
        .expect("a pay was sent: the outcome is unknown, not an error");
        assert_eq!(
            paid.final_state,
            Some(Final::Succeeded),
            "fail_on {fail_on}"
        );
        let st = fake.state.lock().unwrap();
        assert_eq!(st.payments[&id].status, "S");
        assert!(!st.payments[&id].cancelled);
    }
    // Nothing was sent: then (and only then) the error is returned.
    let c = clock.clone();
    let signer = FlakySigner {
        key: acqp_key(),
        calls: Arc::new(AtomicU32::new(0)),
        fail_on: 1,
    };
    let config = alipayplus_client::client::ClientConfig::new(
        CLIENT_ID,
        alipayplus_client::client::Host::OtherRegionsAccelerated,
        signer,
        alipayplus_sign::PublicKeys::single(1, alipay_public()),
        move || c.now(),
    )
    .unwrap();
    let f2 = fake.clone();
    let client = alipayplus_client::client::Client::new(config, move |r: Request| f2.handle(r));
    let before = fake.calls("/pay").len();
    let c2 = clock.clone();
    let err = alipayplus_autodebit::payment::follow_agreement_payment(
        &client,
        &charge("PAY-K1", 1500, life.access_token()),
        |d| c2.advance(d),
    );
    assert!(matches!(
        err,
        Err(alipayplus_client::error::RequestError::Sign(_))
    ));
    assert_eq!(fake.calls("/pay").len(), before, "nothing was sent");
}

/// An outage does not block the follow-up for a day: after `FOLLOW_LIMIT` it returns
/// "unresolved, keep following" with the tracker to resume (and never a failure).
#[test]
fn the_blocking_follow_up_returns_open_after_its_limit() {
    use alipayplus_autodebit::payment::{FOLLOW_LIMIT, follow_agreement_payment};
    let clock = TestClock::new();
    let fake = FakeAlipay::new(&clock);
    let life = bind(&fake);
    let client = alipayplus_client::client::Client::new(
        config(&clock),
        |_r: alipayplus_client::transport::Request| {
            Err::<alipayplus_client::transport::Response, _>(std::io::Error::from(
                std::io::ErrorKind::TimedOut,
            ))
        },
    );
    let start = clock.now();
    let c2 = clock.clone();
    let followed = follow_agreement_payment(
        &client,
        &charge("PAY-OUTAGE", 1500, life.access_token()),
        |d| c2.advance(d),
    )
    .expect("the pay was sent");
    assert!(followed.keep_following(), "{:?}", followed.final_state);
    assert_eq!(followed.final_state, None);
    let took = clock.now().since(start);
    assert!(
        took >= FOLLOW_LIMIT && took < FOLLOW_LIMIT + Duration::from_secs(2),
        "{took:?}"
    );
    assert!(followed.state.tracker().final_state().is_none());
}

/// The JSON of an unsigned refusal (HTTP 200).
fn unsigned_answer(answer: &alipayplus_client::transport::Response) -> serde_json::Value {
    assert_eq!(answer.status, 200);
    serde_json::from_slice(&answer.body).unwrap()
}

/// Issue 19: authNotify and consultUnbinding carry whether the Client-Id is ours (reported by
/// the library's default; refused, signed, with `InboundClientId::Refuse`).
#[test]
fn auth_notify_and_consult_unbinding_carry_the_client_id_flag() {
    use alipayplus_autodebit::{handle_auth_notify, handle_consult_unbinding};
    use alipayplus_client::client::InboundClientId;
    let foreign = |path: &str, body: &serde_json::Value| {
        let mut request = inbound(path, body, &alipay_key());
        let time = request.headers.get("Request-Time").unwrap().to_string();
        let signature = alipayplus_sign::message::sign_request(
            &alipay_key(),
            1,
            "POST",
            path,
            "SOMEONE-ELSE",
            &time,
            &request.body,
        )
        .unwrap();
        request.headers.insert("Client-Id", "SOMEONE-ELSE");
        request.headers.insert("Signature", signature.as_str());
        request
    };
    let cancel = serde_json::json!({"authorizationNotifyType": "TOKEN_CANCELED",
        "authClientId": "M1", "accessToken": "AT-1"});
    let ask = serde_json::json!({"accessToken": "AT-1", "authClientId": "M1"});
    let config = config(&TestClock::new());
    let n = handle_auth_notify(&config, &inbound("/authNotify", &cancel, &alipay_key())).unwrap();
    assert!(n.client_id_is_ours);
    let n = handle_auth_notify(&config, &foreign("/authNotify", &cancel)).unwrap();
    assert!(!n.client_id_is_ours);
    let c = handle_consult_unbinding(&config, &inbound("/cu", &ask, &alipay_key())).unwrap();
    assert!(c.client_id_is_ours);
    let c = handle_consult_unbinding(&config, &foreign("/cu", &ask)).unwrap();
    assert!(!c.client_id_is_ours);
    let strict = config.with_inbound(
        alipayplus_client::InboundPolicy::new().with_client_id(InboundClientId::Refuse),
    );
    let refused = handle_auth_notify(&strict, &foreign("/authNotify", &cancel)).unwrap_err();
    assert_eq!(
        verify_answer("/authNotify", &refused.answer)["result"]["resultCode"],
        "INVALID_CLIENT"
    );
    assert!(handle_consult_unbinding(&strict, &foreign("/cu", &ask)).is_err());
}
