//! The Auto Debit part of `cargo xtask demo`: the SDK (`alipayplus-autodebit` over the ureq
//! transport) against the simulator, with an ACQP endpoint for authNotify, consultUnbinding
//! and notifyPayment. Every step checks its outcome; an unexpected one ends the demo with an
//! error.
//!
//! bind a wallet (code by redirect and by notification) → tokens → two charges (one answered
//! at once, one `U` resolved by inquiry) → refresh → refund one charge → unbind (cancelToken,
//! `TOKEN_CANCELED` folded in) → a charge after unbinding fails cleanly.

use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alipayplus_autodebit::{
    AuthClient, AuthEvent, AuthState, AuthorizationUrls, Binding, CodeUpdate, TokenDecision,
    TokenLifecycle, TokenSet, agreement_pay_request, cancel_token_request,
    follow_agreement_payment, handle_auth_notify, handle_consult_unbinding,
};
use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::inquiry::PaymentRef;
use alipayplus_client::refund::refund_request;
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_client::tracker::Final;
use alipayplus_client::transport::{Request, Response};
use alipayplus_reconcile::LedgerRecord;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{AgreementScript, AutoDebitConfig, Simulator, keys};
use alipayplus_types::{Amount, Currency, Merchant, Order, PayRequest, Secret, TerminalType};
use alipayplus_ureq::UreqTransport;

type Events = Arc<Mutex<Vec<AuthEvent>>>;

fn config(sim: &Simulator) -> Result<ClientConfig, String> {
    let key = keys::acqp_private_key().map_err(|e| e.to_string())?;
    let public = keys::sim_public_key().map_err(|e| e.to_string())?;
    let host = Host::custom(sim.base_url()).map_err(|e| e.to_string())?;
    ClientConfig::new(
        sim.client_id(),
        host,
        key,
        PublicKeys::single(1, public),
        SystemClock,
    )
    .map_err(|e| e.to_string())
}

/// The ACQP's notification endpoint on a loopback port; returns its base URL.
fn start_endpoint(sim: &Simulator, events: Events) -> Result<String, String> {
    let config = crate::demo_endpoint::inbound(config(sim)?)?;
    crate::demo_endpoint::start(move |request| answer(&config, &request, &events))
}

fn answer(config: &ClientConfig, request: &Request, events: &Events) -> Response {
    let path = request.path();
    if path.ends_with("/authNotify") {
        match handle_auth_notify(config, request) {
            Ok(n) => {
                step(
                    "",
                    "authNotify received",
                    format!(
                        "{} (signature verified, signed ack sent{})",
                        kind(&n.body.event),
                        if n.client_id_is_ours {
                            ""
                        } else {
                            "; Client-Id NOT ours, reported"
                        }
                    ),
                );
                if let Ok(mut e) = events.lock() {
                    e.push(n.body.event);
                }
                n.answer
            }
            Err(r) => r.answer,
        }
    } else if path.ends_with("/consultUnbinding") {
        match handle_consult_unbinding(config, request) {
            Ok(c) => c.answer.acknowledge(config),
            Err(r) => r.answer,
        }
    } else {
        match alipayplus_client::notify::handle_notify_payment(config, request) {
            Ok(n) => {
                step(
                    "",
                    "notifyPayment received",
                    format!(
                        "{} {} (signature verified, signed ack sent)",
                        n.body.payment_request_id,
                        n.body.payment_result.result_status.as_str()
                    ),
                );
                n.answer
            }
            Err(r) => r.answer,
        }
    }
}

fn kind(e: &AuthEvent) -> &'static str {
    match e {
        AuthEvent::AuthCodeCreated { .. } => "AUTHCODE_CREATED",
        AuthEvent::TokenCreated { .. } => "TOKEN_CREATED",
        AuthEvent::TokenCanceled { .. } => "TOKEN_CANCELED",
        _ => "(unrecognised type)",
    }
}

/// Waits (at most 10 s) for an authNotify event matching `pred`.
fn wait_event(events: &Events, pred: impl Fn(&AuthEvent) -> bool) -> Result<AuthEvent, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(e) = events
            .lock()
            .ok()
            .and_then(|e| e.iter().find(|e| pred(e)).cloned())
        {
            return Ok(e);
        }
        if Instant::now() > deadline {
            return Err("no authNotify arrived within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The browser follows the consent link: the redirect back (`Location` of the 303).
fn browser_consent(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("the authorization URL is not http")?;
    let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path}?action=agree HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let reader = BufReader::new(stream);
    for line in reader.lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.is_empty() {
            break;
        }
        if let Some((n, v)) = line.split_once(':')
            && n.eq_ignore_ascii_case("location")
        {
            return Ok(v.trim().to_owned());
        }
    }
    Err("the consent page did not redirect".into())
}

fn masked(s: &str) -> String {
    let head: String = s.chars().take(8).collect();
    format!("{head}…")
}

fn charge(id: &str, value: u64, token: &Secret, notify: &str) -> PayRequest {
    let amount = Amount::new(Currency::USD, value);
    let order = Order::new(
        id.into(),
        "Monthly subscription".into(),
        amount,
        Merchant::new("M-DEMO-0001".into()),
    );
    let mut request = agreement_pay_request(id, order, amount, token);
    request.payment_notify_url = Some(format!("{notify}/acqp/notifyPayment"));
    request
}

fn step(n: &str, what: &str, detail: impl std::fmt::Display) {
    println!("[{n:>3}] {what:<26} {detail}");
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected: {what}"))
    }
}

/// Runs the Auto Debit demo against `sim`.
/// Runs the Auto Debit section; the charges and refunds that succeeded are added to `ledger`
/// (the merchant's own records, reconciled at the end of the demo).
pub fn run(sim: &Simulator, ledger: &mut Vec<LedgerRecord>) -> Result<(), String> {
    step(
        "AD",
        "Auto Debit",
        "merchant M-DEMO-0001, wallet SIMWALLET (simulated)",
    );
    let events: Events = Arc::default();
    let endpoint = start_endpoint(sim, events.clone())?;
    sim.set_autodebit_config(AutoDebitConfig {
        auth_notify_url: Some(format!("{endpoint}/acqp/authNotify")),
        consult_unbinding_url: Some(format!("{endpoint}/acqp/consultUnbinding")),
        ..AutoDebitConfig::default()
    });
    let client = Client::new(config(sim)?, UreqTransport::new());
    let merchant =
        AuthClient::new("M-DEMO-0001", "Demo Merchant Pte. Ltd.").with_display_name("Demo Shop");

    // 1. Bind: prepare with a fresh random state, the shopper consents, the code comes back.
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| e.to_string())?;
    let mut binding = Binding::new(
        &merchant.id,
        "https://demo-merchant.example/auto-debit/return",
        AuthState::from_random_bytes(random),
    );
    let prepared = client
        .call(&binding.prepare_request(&merchant, TerminalType::Web, None))
        .map_err(|e| e.to_string())?;
    check(prepared.is_success(), "prepare did not succeed")?;
    let auth_url = prepared
        .body()
        .and_then(|b| {
            AuthorizationUrls::from_response(b)
                .for_terminal(&TerminalType::Web)
                .map(String::from)
        })
        .ok_or("prepare returned no authorization URL")?;
    step(
        "A1",
        "prepare (bind a wallet)",
        format!("S; send the shopper to {auth_url}"),
    );
    let back = browser_consent(&auth_url)?;
    let update = binding.on_redirect(&back).map_err(|e| e.to_string())?;
    check(
        update == CodeUpdate::New,
        "the redirect carried no new code",
    )?;
    step(
        "A2",
        "shopper consents",
        "redirect back: authState matches, authCode received",
    );
    let AuthEvent::AuthCodeCreated {
        auth_code,
        auth_state,
        ..
    } = wait_event(&events, |e| matches!(e, AuthEvent::AuthCodeCreated { .. }))?
    else {
        return Err("not an auth code event".into());
    };
    let again = binding
        .on_auth_code_notified(&auth_code, auth_state.as_deref())
        .map_err(|e| e.to_string())?;
    check(again == CodeUpdate::Duplicate, "the notified code differs")?;
    step(
        "",
        "code by notification",
        "AUTHCODE_CREATED carries the same code: de-duplicated",
    );

    // 2. Tokens.
    let exchange = binding.apply_token_request().map_err(|e| e.to_string())?;
    let exchanged = client.call(&exchange).map_err(|e| e.to_string())?;
    binding.on_apply_token_outcome(&exchanged);
    let tokens = exchanged
        .body()
        .filter(|_| exchanged.is_success())
        .map(TokenSet::from_apply_token)
        .ok_or("applyToken did not succeed")?
        .map_err(|e| e.to_string())?;
    let mut life = TokenLifecycle::new(tokens);
    step(
        "A3",
        "applyToken (auth code)",
        format!(
            "access token {} + refresh token; decision {:?}",
            masked(life.access_token().expose()),
            life.decide(SystemClock.now())
        ),
    );

    // 3. Two charges.
    let now = || SystemClock.now();
    check(
        life.decide(now()) == TokenDecision::Use,
        "the new token is not usable",
    )?;
    let first = follow_agreement_payment(
        &client,
        &charge("DEMO-AD-1", 1500, life.access_token(), &endpoint),
        std::thread::sleep,
    )
    .map_err(|e| e.to_string())?;
    check(
        first.final_state == Some(Final::Succeeded),
        "charge 1 did not succeed",
    )?;
    ledger.push(crate::demo_ledger::paid_record(&client, "DEMO-AD-1")?);
    step(
        "A4",
        "charge DEMO-AD-1",
        "USD 15.00 with the access token -> S, paid at once",
    );
    sim.script_agreement_payment(AgreementScript {
        pending_secs: 2,
        result: "SUCCESS".into(),
    });
    let second = follow_agreement_payment(
        &client,
        &charge("DEMO-AD-2", 990, life.access_token(), &endpoint),
        std::thread::sleep,
    )
    .map_err(|e| e.to_string())?;
    check(
        second.final_state == Some(Final::Succeeded),
        "charge 2 did not succeed",
    )?;
    ledger.push(crate::demo_ledger::paid_record(&client, "DEMO-AD-2")?);
    step(
        "A5",
        "charge DEMO-AD-2",
        format!(
            "USD 9.90 -> U PAYMENT_IN_PROCESS; inquired every 3 s: S after {} inquiry (same paymentRequestId)",
            second.inquiries
        ),
    );

    // 4. Refresh.
    let old = life.access_token().clone();
    let refresh = life.refresh_request(&merchant).map_err(|e| e.to_string())?;
    let refreshed = client.call(&refresh).map_err(|e| e.to_string())?;
    life.on_refresh_outcome(&refreshed)
        .map_err(|e| e.to_string())?;
    check(
        refreshed.is_success() && *life.access_token() != old,
        "refresh failed",
    )?;
    step(
        "A6",
        "applyToken (refresh)",
        format!(
            "new pair {}; the old tokens stop working",
            masked(life.access_token().expose())
        ),
    );

    // 5. Refund one charge.
    let refund = client
        .call(&refund_request(
            &PaymentRef::RequestId("DEMO-AD-1".into()),
            "DEMO-AD-1-R1",
            Amount::new(Currency::USD, 500),
        ))
        .map_err(|e| e.to_string())?;
    check(refund.is_success(), "the refund failed")?;
    ledger.push(crate::demo_ledger::refund_record("DEMO-AD-1-R1", &refund)?);
    step(
        "A7",
        "refund DEMO-AD-1",
        "USD 5.00 -> S (shared payment API)",
    );

    // 6. Unbind (merchant side); Alipay+ confirms with TOKEN_CANCELED.
    let token = life.access_token().clone();
    let cancelled = client
        .call(&cancel_token_request(&merchant, &token))
        .map_err(|e| e.to_string())?;
    check(cancelled.is_success(), "cancelToken failed")?;
    life.on_cancelled();
    let note = wait_event(&events, |e| matches!(e, AuthEvent::TokenCanceled { .. }))?;
    life.on_auth_event(&note);
    step(
        "A8",
        "cancelToken (unbind)",
        "S; TOKEN_CANCELED notification folded into the token lifecycle",
    );

    // 7. A charge after unbinding fails cleanly.
    let decision = life.decide(now());
    step("", "token lifecycle", format!("{decision:?}"));
    let late = follow_agreement_payment(
        &client,
        &charge("DEMO-AD-3", 100, &token, &endpoint),
        std::thread::sleep,
    )
    .map_err(|e| e.to_string())?;
    let code = late.failure_code().unwrap_or_default().to_owned();
    check(
        matches!(decision, TokenDecision::Rebind(_)) && !code.is_empty(),
        "the charge after unbinding did not fail",
    )?;
    life.on_payment_failure(&code);
    step(
        "A9",
        "charge after unbinding",
        format!("F {code}: nothing charged, cleanly refused; bind again to charge"),
    );
    Ok(())
}
