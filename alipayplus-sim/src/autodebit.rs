//! Auto Debit in the simulator (`shared/spec/autodebit.md`): account binding, tokens,
//! agreement payments and unbinding, on top of the Cashier simulator's gateway, payment books
//! and notifier.
//!
//! * **prepare** answers an `authUrl` pointing at the consent page
//!   `GET /shopper/authorize/{ticket}`; idempotent on `authClientId` + `referenceAgreementId`
//!   (common.md §3.3) when the latter is sent.
//! * **Consent**: `GET /shopper/authorize/{ticket}?action=agree` (or the control call
//!   `POST /sim/autodebit/consent`, or [`crate::Simulator::consent`]) creates a single-use auth
//!   code, redirects (303) to `authRedirectUrl` with `authCode` and `authState` appended to its
//!   query, and pushes authNotify `AUTHCODE_CREATED` when an authNotify URL is configured.
//!   `?action=decline` redirects with `authState` only.
//! * **applyToken**: `AUTHORIZATION_CODE` exchanges a code once (`INVALID_AUTH_CODE`,
//!   `USED_CODE`, `EXPIRED_AUTH_CODE`, `INVALID_AUTH_CLIENT`), issuing an access and a refresh
//!   token with expiry times ([`AutoDebitConfig`]) and pushing `TOKEN_CREATED`;
//!   `REFRESH_TOKEN` rotates the pair (the old tokens stop working; `INVALID_REFRESH_TOKEN`,
//!   `EXPIRED_REFRESH_TOKEN`).
//! * **cancelToken** revokes (idempotent on the token) and pushes `TOKEN_CANCELED` (the spec
//!   lists merchant-side unbinding among its triggers). **Wallet-side unbinding**
//!   (`POST /sim/autodebit/unbind`, [`crate::Simulator::unbind`]) first asks the ACQP with a
//!   signed consultUnbinding when a URL is configured (a verified `F` answer stops it), then
//!   revokes and pushes `TOKEN_CANCELED`.
//! * **Agreement pay** (pay with `paymentFactor.isAgreementPayment=true`): the access token in
//!   `paymentMethod.paymentMethodId` must be known, active and unexpired with scope
//!   `AGREEMENT_PAY` (`INVALID_ACCESS_TOKEN` for unknown, revoked, rotated or out-of-scope
//!   tokens, `EXPIRED_ACCESS_TOKEN` after `accessTokenExpiryTime`; both UNCERTAIN names, spec
//!   §8). By default it succeeds at once; an [`AgreementScript`] makes the next one fail with a
//!   code, or stay `U` / `PAYMENT_IN_PROCESS` for a number of seconds (simulator clock) before
//!   its result, or forever (until cancelPayment). A payment that was `U` is notified
//!   (notifyPayment) when it ends; one answered `S`/`F` at once is not (spec §9).
//!
//! authNotify deliveries use the notifier of the Cashier simulator (same schedule, signing,
//! acknowledgement check and faults; they appear in the notification statuses under the key
//! `authNotify#N`).

use alipayplus_types::{
    ApplyTokenRequest, ApplyTokenResponse, AuthNotifyRequest, AuthScope, AuthorizationNotifyType,
    CancelTokenRequest, CancelTokenResponse, ConsultUnbindingResultCode, GrantType, PayRequest,
    PayResponse, PrepareRequest, PrepareResponse, ResultEnvelope, Secret,
};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::acqp;
use crate::answer::result;
pub use crate::autodebit_books::{AgreementScript, AutoDebitConfig, TokenView};
use crate::autodebit_books::{Books, Code, Grant, GrantState, Ticket};
use crate::clock::datetime;
use crate::http::{HttpRequest, HttpResponse};
use crate::payment::{Payment, Phase, customer_id};
use crate::state::{Shared, lock};

/// A consent given on the authorization page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    /// Where the browser is sent: `authRedirectUrl` with `authCode` and `authState`.
    pub redirect_url: String,
    /// The code created.
    pub auth_code: String,
}

/// What a wallet-side unbinding did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unbinding {
    /// The token was revoked.
    pub unbound: bool,
    /// The ACQP's consultUnbinding answer (`resultCode`), if asked and verified.
    pub consult_result: Option<String>,
}

/// authNotify bodies to push once the books are unlocked.
type Pushes = Vec<AuthNotifyRequest>;

fn push_all(shared: &Shared, pushes: Pushes) {
    for body in pushes {
        let (url, n) = {
            let mut books = lock(&shared.autodebit);
            books.notify_seq += 1;
            (books.config.auth_notify_url.clone(), books.notify_seq)
        };
        let Some(url) = url else { return };
        let pending = crate::notify_queue::Pending {
            payment_request_id: format!("authNotify#{n}"),
            url,
            // Serializing plain data into a Vec cannot fail.
            body: serde_json::to_vec(&body).unwrap_or_default(),
            result_status: "S".into(),
        };
        let faults = lock(&shared.notify_faults).clone();
        shared.notify.enqueue(pending, &faults);
    }
}

fn notification(kind: AuthorizationNotifyType, auth_client_id: &str) -> AuthNotifyRequest {
    AuthNotifyRequest::new(kind, auth_client_id.to_owned())
}

// ---- prepare ------------------------------------------------------------------------------

pub(crate) fn prepare(shared: &Shared, request: PrepareRequest) -> PrepareResponse {
    let mut books = lock(&shared.autodebit);
    let key = request
        .reference_agreement_id
        .clone()
        .map(|r| (request.auth_client_id.clone(), r));
    let ticket = match key.as_ref().and_then(|k| books.prepare_keys.get(k)) {
        Some(t) => {
            let same = books.tickets.get(t).is_some_and(|x| x.request == request);
            if !same {
                return PrepareResponse::new(result(
                    "REPEAT_REQ_INCONSISTENT",
                    "F",
                    "authClientId + referenceAgreementId was used with other fields",
                ));
            }
            t.clone()
        }
        None => {
            let t = shared.next_id("SIMAUTH");
            books.tickets.insert(
                t.clone(),
                Ticket {
                    request: request.clone(),
                },
            );
            if let Some(k) = key {
                books.prepare_keys.insert(k, t.clone());
            }
            t
        }
    };
    let mut response = PrepareResponse::new(result("SUCCESS", "S", "success"));
    response.auth_url = Some(format!("{}/shopper/authorize/{ticket}", shared.base_url));
    response
}

// ---- consent ------------------------------------------------------------------------------

/// The ticket named by an authorization URL or given as is.
fn ticket_of(auth_url_or_ticket: &str) -> &str {
    let path = auth_url_or_ticket
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    path.rsplit('/').next().unwrap_or_default()
}

/// Appends `name=value` (percent-encoded) to `url`'s query.
fn append_query(url: &mut String, name: &str, value: &str) {
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(name);
    url.push('=');
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The user agrees (or declines) on the authorization page of `ticket`.
pub(crate) fn consent(
    shared: &Shared,
    auth_url_or_ticket: &str,
    agree: bool,
) -> Result<Consent, Error> {
    let ticket = ticket_of(auth_url_or_ticket).to_owned();
    let now = shared.clock.now_secs();
    let (consent, pushes) = {
        let mut books = lock(&shared.autodebit);
        let request = books
            .tickets
            .get(&ticket)
            .map(|t| t.request.clone())
            .ok_or_else(|| Error::UnknownAuthorization(ticket.clone()))?;
        let mut redirect = request.auth_redirect_url.clone();
        let mut code = String::new();
        let mut pushes = Pushes::new();
        if agree {
            code = shared.next_id("SIMCODE");
            books.codes.insert(
                code.clone(),
                Code {
                    ticket: ticket.clone(),
                    issued_at: now,
                    used: false,
                },
            );
            append_query(&mut redirect, "authCode", &code);
            if books.config.notify_auth_code {
                let mut n = notification(
                    AuthorizationNotifyType::AuthcodeCreated,
                    &request.auth_client_id,
                );
                n.auth_code = Some(Secret::new(code.clone()));
                n.auth_state = request.auth_state.clone();
                n.customer_belongs_to = request.customer_belongs_to.clone();
                pushes.push(n);
            }
        }
        if let Some(state) = &request.auth_state {
            append_query(&mut redirect, "authState", state);
        }
        (
            Consent {
                redirect_url: redirect,
                auth_code: code,
            },
            pushes,
        )
    };
    push_all(shared, pushes);
    Ok(consent)
}

/// `GET /shopper/authorize/{ticket}[?action=agree|decline]`.
pub(crate) fn page(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    let ticket = request
        .path()
        .trim_start_matches("/shopper/authorize/")
        .to_owned();
    if !request.method.eq_ignore_ascii_case("GET") {
        return HttpResponse::error(405, "use GET");
    }
    let agree = match request.query("action") {
        None => {
            let known = lock(&shared.autodebit).tickets.contains_key(&ticket);
            if !known {
                return HttpResponse::error(404, "no such authorization");
            }
            // Only simulator-made ids go into the page; nothing needs escaping.
            let link = |a: &str| format!("/shopper/authorize/{ticket}?action={a}");
            return HttpResponse::html(
                200,
                format!(
                    "<!doctype html><title>SimWallet authorization</title>\
                     <h1>Allow this merchant to debit your wallet?</h1>\
                     <p><a href=\"{}\">Agree</a> | <a href=\"{}\">Decline</a></p>",
                    link("agree"),
                    link("decline")
                ),
            );
        }
        Some("agree") => true,
        Some("decline") => false,
        Some(_) => return HttpResponse::error(400, "action must be agree or decline"),
    };
    match consent(shared, &ticket, agree) {
        Ok(c) => HttpResponse::text(303, "authorization done").header("Location", &c.redirect_url),
        Err(e) => HttpResponse::error(404, &e.to_string()),
    }
}

// ---- applyToken, cancelToken --------------------------------------------------------------

fn issue(books: &mut Books, shared: &Shared, ticket: &str, now: i64) -> (String, Grant) {
    let access = shared.next_id("SIMAT");
    let grant = Grant {
        ticket: ticket.to_owned(),
        refresh_token: shared.next_id("SIMRT"),
        access_expires: now + books.config.access_token_ttl_secs,
        refresh_expires: now + books.config.refresh_token_ttl_secs,
        state: GrantState::Active,
    };
    books
        .refresh
        .insert(grant.refresh_token.clone(), access.clone());
    books.grants.insert(access.clone(), grant.clone());
    (access, grant)
}

fn token_response(access: &str, grant: &Grant, wallet: Option<String>) -> ApplyTokenResponse {
    let mut r = ApplyTokenResponse::new(result("SUCCESS", "S", "success"));
    r.access_token = Some(Secret::new(access));
    r.access_token_expiry_time = datetime(grant.access_expires);
    r.refresh_token = Some(Secret::new(grant.refresh_token.clone()));
    r.refresh_token_expiry_time = datetime(grant.refresh_expires);
    r.customer_belongs_to = wallet;
    r
}

pub(crate) fn apply_token(shared: &Shared, request: ApplyTokenRequest) -> ApplyTokenResponse {
    let now = shared.clock.now_secs();
    let fail = |code: &str, message: &str| ApplyTokenResponse::new(result(code, "F", message));
    let (response, pushes) = {
        let mut books = lock(&shared.autodebit);
        // Find the authorization first; nothing is spent before the client is checked.
        let (ticket, spend) = match request.grant_type {
            GrantType::AuthorizationCode => {
                let code = request
                    .auth_code
                    .as_ref()
                    .map(|c| c.expose().to_owned())
                    .unwrap_or_default();
                let ttl = books.config.auth_code_ttl_secs;
                let Some(c) = books.codes.get(&code) else {
                    return fail("INVALID_AUTH_CODE", "unknown auth code");
                };
                if c.used {
                    return fail("USED_CODE", "the auth code was already exchanged");
                }
                if now > c.issued_at + ttl {
                    return fail("EXPIRED_AUTH_CODE", "the auth code has expired");
                }
                (c.ticket.clone(), Spend::Code(code))
            }
            GrantType::RefreshToken => {
                let rt = request
                    .refresh_token
                    .as_ref()
                    .map(|c| c.expose().to_owned())
                    .unwrap_or_default();
                let Some(old) = books.refresh.get(&rt).cloned() else {
                    return fail("INVALID_REFRESH_TOKEN", "unknown refresh token");
                };
                let Some(grant) = books.grants.get(&old) else {
                    return fail("INVALID_REFRESH_TOKEN", "unknown refresh token");
                };
                if grant.state != GrantState::Active {
                    return fail(
                        "INVALID_REFRESH_TOKEN",
                        "the refresh token was revoked or replaced",
                    );
                }
                if now >= grant.refresh_expires {
                    return fail(
                        "EXPIRED_REFRESH_TOKEN",
                        "the refresh token has expired: bind again",
                    );
                }
                (grant.ticket.clone(), Spend::Rotate(old))
            }
            GrantType::Unrecognized(_) => {
                return fail("PARAM_ILLEGAL", "grantType is not supported");
            }
        };
        if books.auth_client_of(&ticket) != request.auth_client_id {
            return fail(
                "INVALID_AUTH_CLIENT",
                "authClientId differs from the one used in prepare",
            );
        }
        match spend {
            Spend::Code(code) => {
                if let Some(c) = books.codes.get_mut(&code) {
                    c.used = true;
                }
            }
            // Refresh rotates: the old pair stops working.
            Spend::Rotate(old) => {
                if let Some(g) = books.grants.get_mut(&old) {
                    g.state = GrantState::Rotated;
                }
            }
        }
        let wallet = books
            .tickets
            .get(&ticket)
            .and_then(|t| t.request.customer_belongs_to.clone());
        let (access, grant) = issue(&mut books, shared, &ticket, now);
        let mut pushes = Pushes::new();
        if books.config.notify_token_created {
            let state = books
                .tickets
                .get(&ticket)
                .and_then(|t| t.request.auth_state.clone());
            let mut n = notification(
                AuthorizationNotifyType::TokenCreated,
                &request.auth_client_id,
            );
            n.access_token = Some(Secret::new(access.clone()));
            n.access_token_expiry_time = datetime(grant.access_expires);
            n.refresh_token = Some(Secret::new(grant.refresh_token.clone()));
            n.refresh_token_expiry_time = datetime(grant.refresh_expires);
            n.auth_state = state;
            n.customer_belongs_to = wallet.clone();
            pushes.push(n);
        }
        (token_response(&access, &grant, wallet), pushes)
    };
    push_all(shared, pushes);
    response
}

/// What a successful applyToken uses up.
enum Spend {
    Code(String),
    Rotate(String),
}

/// Revokes `access`; the TOKEN_CANCELED push if it was active.
fn revoke(books: &mut Books, access: &str) -> Option<AuthNotifyRequest> {
    let grant = books.grants.get_mut(access)?;
    if grant.state != GrantState::Active {
        return None;
    }
    grant.state = GrantState::Cancelled;
    let ticket = grant.ticket.clone();
    if !books.config.notify_token_canceled {
        return None;
    }
    let mut n = notification(
        AuthorizationNotifyType::TokenCanceled,
        books.auth_client_of(&ticket),
    );
    n.access_token = Some(Secret::new(access));
    Some(n)
}

pub(crate) fn cancel_token(shared: &Shared, request: CancelTokenRequest) -> CancelTokenResponse {
    let access = request.access_token.expose().to_owned();
    let pushes: Pushes = {
        let mut books = lock(&shared.autodebit);
        let Some(grant) = books.grants.get(&access) else {
            return CancelTokenResponse::new(result(
                "INVALID_ACCESS_TOKEN",
                "F",
                "unknown access token",
            ));
        };
        if books.auth_client_of(&grant.ticket.clone()) != request.auth_client_id {
            return CancelTokenResponse::new(result(
                "INVALID_AUTH_CLIENT",
                "F",
                "authClientId differs from the one used in prepare",
            ));
        }
        revoke(&mut books, &access).into_iter().collect()
    };
    push_all(shared, pushes);
    // Idempotent on the token: a repeat (or a rotated token) answers the same S.
    CancelTokenResponse::new(result("SUCCESS", "S", "success"))
}

// ---- wallet-side unbinding ----------------------------------------------------------------

/// The user unbinds in the wallet: consultUnbinding first (if configured), then revoke.
pub(crate) fn unbind(shared: &Shared, access: &str) -> Result<Unbinding, Error> {
    let (consult_url, auth_client_id) = {
        let books = lock(&shared.autodebit);
        let grant = books
            .grants
            .get(access)
            .ok_or_else(|| Error::UnknownAuthorization(access.to_owned()))?;
        (
            books.config.consult_unbinding_url.clone(),
            books.auth_client_of(&grant.ticket).to_owned(),
        )
    };
    let consult_result = match consult_url {
        Some(url) => {
            let body = serde_json::json!({ "accessToken": access, "authClientId": auth_client_id });
            consult(shared, &url, body.to_string().as_bytes())
        }
        None => None,
    };
    if consult_result.as_deref().is_some_and(|c| c != "SUCCESS") {
        return Ok(Unbinding {
            unbound: false,
            consult_result,
        });
    }
    let pushes: Pushes = revoke(&mut lock(&shared.autodebit), access)
        .into_iter()
        .collect();
    push_all(shared, pushes);
    Ok(Unbinding {
        unbound: true,
        consult_result,
    })
}

/// Asks the ACQP (signed POST); its verified `resultCode`, or `None` without a verified answer.
fn consult(shared: &Shared, url: &str, body: &[u8]) -> Option<String> {
    let agent = acqp::agent(shared.notify_timeout);
    let answer = acqp::call(shared, &agent, url, body, false).ok()?;
    let env: ResultEnvelope<ConsultUnbindingResultCode> =
        serde_json::from_slice(&answer.body).ok()?;
    Some(env.result.code_str().to_owned())
}

// ---- agreement pay ------------------------------------------------------------------------

/// Whether `access` may pay now; the failure code otherwise.
fn check_token(books: &Books, access: &str, now: i64) -> Result<(), &'static str> {
    let grant = books.grants.get(access).ok_or("INVALID_ACCESS_TOKEN")?;
    if grant.state != GrantState::Active {
        return Err("INVALID_ACCESS_TOKEN");
    }
    if now >= grant.access_expires {
        return Err("EXPIRED_ACCESS_TOKEN");
    }
    let scoped = books
        .tickets
        .get(&grant.ticket)
        .is_some_and(|t| t.request.scopes.contains(&AuthScope::AgreementPay));
    if !scoped {
        return Err("INVALID_ACCESS_TOKEN");
    }
    Ok(())
}

/// The pay answer of an agreement payment's current state.
fn answer(shared: &Shared, payment: &Payment) -> PayResponse {
    let outcome = payment.outcome();
    let message = match outcome.status {
        "U" => "payment in process: inquire".to_owned(),
        "S" => "success".to_owned(),
        _ => format!("payment failed: {}", outcome.code),
    };
    let mut response = PayResponse::new(result(&outcome.code, outcome.status, &message));
    response.payment_id = Some(payment.payment_id.clone());
    response.payment_amount = Some(payment.amount());
    response.acquirer_id = Some(shared.acquirer_id.clone());
    response.psp_id = Some(shared.psp_id.clone());
    response.wallet_brand_name = Some(shared.wallet_brand_name.clone());
    if payment.phase == Phase::Succeeded {
        response.payment_time = payment.paid_at.and_then(datetime);
        response.customer_id = Some(customer_id(payment));
    }
    response
}

/// pay with `isAgreementPayment=true` (called by the pay route).
pub(crate) fn pay(shared: &Shared, request: PayRequest) -> PayResponse {
    let now = shared.clock.now_secs();
    let id = request.payment_request_id.clone();
    let fail = |code: &str, message: &str| PayResponse::new(result(code, "F", message));
    {
        let store = lock(&shared.store);
        if let Some(existing) = store.payments.get(&id) {
            let first = &existing.request;
            let same = first.payment_amount == request.payment_amount
                && first.payment_factor == request.payment_factor
                && first.settlement_strategy == request.settlement_strategy
                && first.payment_method.payment_method_type
                    == request.payment_method.payment_method_type;
            if !same {
                return fail(
                    "REPEAT_REQ_INCONSISTENT",
                    &format!("paymentRequestId {id:?} was used with different key fields"),
                );
            }
            return answer(shared, existing);
        }
    }
    let token = request
        .payment_method
        .payment_method_id
        .as_ref()
        .map(|t| t.expose().to_owned())
        .unwrap_or_default();
    let script = {
        let mut books = lock(&shared.autodebit);
        if let Err(code) = check_token(&books, &token, now) {
            return fail(
                code,
                "the access token cannot be used: refresh it or bind again",
            );
        }
        let script = books
            .scripts
            .pop_front()
            .unwrap_or_else(AgreementScript::success);
        if script.pending_secs > 0 || script.result == "NEVER" {
            books.pending.insert(
                id.clone(),
                (now + script.pending_secs, script.result.clone()),
            );
        }
        script
    };
    let pending = script.pending_secs > 0 || script.result == "NEVER";
    let phase = match (pending, script.result.as_str()) {
        (true, _) => Phase::InProcess,
        (false, "SUCCESS") => Phase::Succeeded,
        (false, code) => Phase::Failed { code: code.into() },
    };
    let payment = Payment {
        payment_request_id: id.clone(),
        payment_id: shared.next_id("SIMPAY"),
        notify_url: request
            .payment_notify_url
            .clone()
            .or_else(|| shared.default_notify_url.clone()),
        redirect_url: None,
        paid_at: (phase == Phase::Succeeded).then_some(now),
        phase,
        created_at: now,
        // The Cashier expiry would close it as ORDER_IS_CLOSED; agreement payments end by
        // their script or by cancelPayment.
        expires_at: None,
        refunded: 0,
        refunds: Vec::new(),
        // Answered S/F at once: nothing to notify (spec §9: notified when pay ended in U).
        notified: !pending,
        request,
    };
    let response = answer(shared, &payment);
    let mut store = lock(&shared.store);
    store
        .payment_ids
        .insert(payment.payment_id.clone(), id.clone());
    store.payments.insert(id, payment);
    response
}

/// Ends the agreement payments whose time in process is over (notifying them).
pub(crate) fn settle_due(shared: &Shared) {
    let now = shared.clock.now_secs();
    let due: Vec<(String, String)> = {
        let mut books = lock(&shared.autodebit);
        let ids: Vec<String> = books
            .pending
            .iter()
            .filter(|(_, (at, r))| *at <= now && r != "NEVER")
            .map(|(id, _)| id.clone())
            .collect();
        ids.into_iter()
            .filter_map(|id| books.pending.remove(&id).map(|(_, r)| (id, r)))
            .collect()
    };
    for (id, outcome) in due {
        {
            let mut store = lock(&shared.store);
            if let Some(p) = store.payments.get_mut(&id) {
                // A payment cancelled meanwhile stays cancelled (the transition is refused).
                let _ = if outcome == "SUCCESS" {
                    p.approve(now)
                } else {
                    p.decline(&outcome, now)
                };
            }
        }
        crate::notify::payment_final(shared, &id);
    }
}

// ---- control ------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsentCall {
    #[serde(alias = "ticket")]
    auth_url: String,
    #[serde(default)]
    decline: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnbindCall {
    access_token: String,
}

pub(crate) fn config(shared: &Shared) -> AutoDebitConfig {
    lock(&shared.autodebit).config.clone()
}

pub(crate) fn set_config(shared: &Shared, config: AutoDebitConfig) {
    lock(&shared.autodebit).config = config;
}

pub(crate) fn script(shared: &Shared, script: AgreementScript) {
    lock(&shared.autodebit).scripts.push_back(script);
}

pub(crate) fn tokens(shared: &Shared) -> Vec<TokenView> {
    lock(&shared.autodebit).views()
}

/// `/sim/autodebit...` control calls.
pub(crate) fn control(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    fn parse<T: serde::de::DeserializeOwned>(r: &HttpRequest) -> Result<T, HttpResponse> {
        serde_json::from_slice(&r.body).map_err(|e| {
            HttpResponse::error(400, &Error::BadControlRequest(e.to_string()).to_string())
        })
    }
    let done = |r: Result<HttpResponse, HttpResponse>| r.unwrap_or_else(|e| e);
    let refused = |e: Error| HttpResponse::error(404, &e.to_string());
    let method = request.method.to_ascii_uppercase();
    match (method.as_str(), request.path().trim_end_matches('/')) {
        ("GET", "/sim/autodebit") => HttpResponse::json(
            200,
            &serde_json::json!({ "config": config(shared), "tokens": tokens(shared) }),
        ),
        ("PUT" | "POST", "/sim/autodebit/config") => done(parse(request).map(|c| {
            set_config(shared, c);
            HttpResponse::json(200, &config(shared))
        })),
        ("POST", "/sim/autodebit/consent") => done(parse::<ConsentCall>(request).map(|c| {
            match consent(shared, &c.auth_url, !c.decline) {
                Ok(v) => HttpResponse::json(200, &v),
                Err(e) => refused(e),
            }
        })),
        ("POST", "/sim/autodebit/unbind") => done(parse::<UnbindCall>(request).map(
            |c| match unbind(shared, &c.access_token) {
                Ok(v) => HttpResponse::json(200, &v),
                Err(e) => refused(e),
            },
        )),
        ("POST", "/sim/autodebit/pay-script") => done(parse(request).map(|s| {
            script(shared, s);
            HttpResponse::json(200, &serde_json::json!({ "queued": true }))
        })),
        _ => HttpResponse::error(
            404,
            "no such Auto Debit control call; see GET /sim/autodebit",
        ),
    }
}
