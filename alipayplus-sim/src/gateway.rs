//! The Alipay+ gateway: everything around an API handler.
//!
//! Checks in order, each answered with a signed `F` result (HTTP 200, as Alipay+ carries
//! business results in the body, common.md §1.4):
//!
//! | check | code |
//! |---|---|
//! | path is a known API | `INVALID_API` |
//! | method is POST | `METHOD_NOT_SUPPORTED` |
//! | `Content-Type`, when present, is JSON | `MEDIA_TYPE_NOT_ACCEPTABLE` |
//! | `Client-Id` is the configured ACQP's | `INVALID_CLIENT` |
//! | `Request-Time` present and ISO 8601 | `PARAM_ILLEGAL` |
//! | `Signature` verifies with the ACQP's public key over the exact request | `INVALID_SIGNATURE` |
//! | body within the size limit, parses, validates | `PARAM_ILLEGAL` naming the field (problems with uncertain rules only: let pass, noted in the call log) |
//!
//! Then a matching fault rule ([`crate::fault`]) may damage the answer. Answers are signed with
//! the simulator's key over the request path, echoing the Client-Id, with a fresh
//! `Response-Time`.

use alipayplus_sign::message;
use alipayplus_types::DateTime;

use crate::answer::{Answer, Route};
use crate::api;
use crate::fault::{Fault, FaultRule};
use crate::http::{HttpRequest, HttpResponse};
use crate::state::{CallRecord, Shared, lock};

/// Answers a request to an `/aps/` path.
pub(crate) fn serve(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    let path = request.path();
    let route = api::find(path);
    let api_name = route.map_or(path, |r| r.name).to_owned();
    let payment_request_id = body_field(&request.body, "paymentRequestId");
    let (answer, fault) = match admit(shared, request, route) {
        Err(refusal) => (refusal, None),
        Ok(route) => {
            let rule = lock(&shared.faults).take(&api_name, payment_request_id.as_deref());
            let answer = match &rule {
                Some(r) if !r.process && !matches!(r.fault, Fault::Delay { .. }) => {
                    Answer::result("UNKNOWN_EXCEPTION", "U", "simulated: request not processed")
                }
                _ => (route.serve)(shared, &request.body),
            };
            (answer, rule)
        }
    };
    let response = respond(shared, request, &answer, fault.as_ref());
    shared.record(CallRecord {
        api: api_name,
        payment_request_id,
        http_status: response.status,
        result_status: Some(answer.status.clone()),
        result_code: Some(answer.code.clone()),
        fault: fault.map(|r| r.fault.name().to_owned()),
        tolerated: answer.tolerated,
    });
    response
}

/// The gateway checks; `Err` is the refusal to send.
fn admit(
    shared: &Shared,
    request: &HttpRequest,
    route: Option<&'static Route>,
) -> Result<&'static Route, Answer> {
    let refuse = |code: &str, message: &str| Answer::result(code, "F", message);
    let route = route.ok_or_else(|| {
        refuse(
            "INVALID_API",
            &format!(
                "no API at {}; this simulator answers {:?}",
                request.path(),
                api::names()
            ),
        )
    })?;
    if !request.method.eq_ignore_ascii_case("POST") {
        return Err(refuse("METHOD_NOT_SUPPORTED", "only POST is supported"));
    }
    let json = |ct: &str| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    };
    if request.header("Content-Type").is_some_and(|ct| !json(ct)) {
        return Err(refuse(
            "MEDIA_TYPE_NOT_ACCEPTABLE",
            "Content-Type must be application/json; charset=UTF-8",
        ));
    }
    match request.header("Client-Id") {
        Some(id) if id == shared.client_id => {}
        Some(_) => return Err(refuse("INVALID_CLIENT", "unknown Client-Id")),
        None => return Err(refuse("INVALID_CLIENT", "Client-Id header missing")),
    }
    match request.header("Request-Time") {
        None => return Err(refuse("PARAM_ILLEGAL", "Request-Time header missing")),
        Some(t) if DateTime::parse(t).is_err() => {
            return Err(refuse(
                "PARAM_ILLEGAL",
                "Request-Time: not ISO 8601 with a zone (e.g. 2025-02-20T08:51:49+08:00)",
            ));
        }
        Some(_) => {}
    }
    let headers = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()));
    if let Err(e) = message::verify_request(
        &shared.acqp_keys,
        "POST",
        &request.target,
        headers,
        &request.body,
    ) {
        return Err(refuse(
            "INVALID_SIGNATURE",
            &format!("signature check failed: {e}"),
        ));
    }
    if request.body_too_large {
        return Err(refuse(
            "PARAM_ILLEGAL",
            &format!("request body larger than {} bytes", shared.max_body_bytes),
        ));
    }
    Ok(route)
}

/// The HTTP answer: signed, or damaged by a fault.
fn respond(
    shared: &Shared,
    request: &HttpRequest,
    answer: &Answer,
    rule: Option<&FaultRule>,
) -> HttpResponse {
    let fault = rule.map(|r| &r.fault);
    let mut body = answer.body.clone();
    match fault {
        Some(Fault::Delay { ms }) => shared.sleep(std::time::Duration::from_millis(*ms)),
        Some(Fault::HttpStatus { status }) => {
            return HttpResponse::text(*status, "simulated server error");
        }
        Some(Fault::UnknownResult { code }) => {
            let code = code.as_deref().unwrap_or("UNKNOWN_EXCEPTION");
            body = Answer::result(code, "U", "simulated unknown result").body;
        }
        _ => {}
    }
    let client_id = match request.header("Client-Id") {
        Some(id) if id == shared.client_id => id,
        _ => shared.client_id.as_str(),
    };
    let time = shared.clock.now_header();
    let signed_over = match fault {
        Some(Fault::BadSignature) => b"a body that was never sent".to_vec(),
        _ => body.clone(),
    };
    let signature = message::sign_response(
        &shared.sim_key,
        shared.key_version,
        "POST",
        request.path(),
        client_id,
        &time,
        &signed_over,
    );
    if let Some(Fault::TamperedBody) = fault {
        body = tamper(&body);
    }
    // Header names as production sends them: lower-case (the official Python SDK reads only
    // `signature`, `response-time`, `client-id`; common.md §1.3).
    let mut response = HttpResponse::new(200, "application/json; charset=UTF-8", body)
        .header("client-id", client_id)
        .header("response-time", &time);
    match (fault, signature) {
        (Some(Fault::Unsigned), _) | (_, Err(_)) => {}
        (_, Ok(s)) => response = response.header("signature", s.as_str()),
    }
    response
}

/// The same body with its outcome turned around (what an attacker in the middle would do).
fn tamper(body: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else {
        let mut b = body.to_vec();
        b.push(b' ');
        return b;
    };
    if let Some(result) = value.get_mut("result").and_then(|r| r.as_object_mut()) {
        let flipped = match result.get("resultStatus").and_then(|s| s.as_str()) {
            Some("S") => ("F", "PROCESS_FAIL"),
            _ => ("S", "SUCCESS"),
        };
        result.insert("resultStatus".into(), flipped.0.into());
        result.insert("resultCode".into(), flipped.1.into());
    }
    if let Some(obj) = value.as_object_mut() {
        obj.insert("tampered".into(), "true".into());
    }
    value.to_string().into_bytes()
}

/// A top-level string field of a JSON body, if the body is JSON and has it.
fn body_field(body: &[u8], name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}
