//! Properties of the [`TokenLifecycle`] over random event sequences (issue 14): refresh
//! answers of every kind (S with or without a rotated refresh token, F about the grant, F about
//! the request only, U, no answer), pay failures with token, user and other codes, cancels, and
//! time jumps up to days. Checked after every event:
//!
//! 1. the state survives serde: a twin serialized and deserialized after every event is equal
//!    and decides the same;
//! 2. an answer that says nothing about the grant (an `F` about the request, `U`, no verified
//!    answer) changes nothing: the binding is never ended for our own mistake or a bad network;
//! 3. the decision is consistent: never `Use` an access token past its expiry or one pay
//!    rejected, never `RefreshNow` without a usable refresh token, and `Rebind` only once the
//!    grant is gone (cancelled, user gone, refresh refused about the grant) or nothing usable is
//!    left.

use core::time::Duration;

use alipayplus_autodebit::token::{TokenDecision, TokenLifecycle, TokenSet, TokenUpdate};
use alipayplus_client::client::{Outcome, Reply};
use alipayplus_client::error::ResponseError;
use alipayplus_client::transport::Response;
use alipayplus_types::{ApplyTokenResponse, Secret, TimeFormat, Timestamp};
use proptest::prelude::*;
use serde_json::json;

#[derive(Debug, Clone)]
enum Event {
    /// Time passes (seconds, up to 3 days).
    Wait(u32),
    /// applyToken REFRESH_TOKEN answered S: new access token valid this long, and a rotated
    /// refresh token valid this long (None: not rotated).
    Refreshed(u32, Option<u32>),
    /// Answered F with a code about the grant.
    RefusedGrant(&'static str),
    /// Answered F with a code about the request only.
    RefusedRequest(&'static str),
    /// Answered U, or no verified answer.
    NoAnswer(bool),
    /// pay (or its inquiry or notification) failed with this code.
    PayFailed(&'static str),
    /// Our cancelToken succeeded.
    Cancelled,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (0u32..3 * 86_400).prop_map(Event::Wait),
        2 => (60u32..86_400, prop::option::of(3_600u32..30 * 86_400))
            .prop_map(|(a, r)| Event::Refreshed(a, r)),
        1 => prop::sample::select(vec!["INVALID_REFRESH_TOKEN", "EXPIRED_REFRESH_TOKEN"])
            .prop_map(Event::RefusedGrant),
        2 => prop::sample::select(vec![
            "INVALID_SIGNATURE", "PROCESS_FAIL", "PARAM_ILLEGAL", "ACCESS_DENIED", "NEVER_DOCUMENTED",
        ])
        .prop_map(Event::RefusedRequest),
        2 => any::<bool>().prop_map(Event::NoAnswer),
        2 => prop::sample::select(vec![
            "INVALID_ACCESS_TOKEN", "EXPIRED_ACCESS_TOKEN", "INVALID_TOKEN", "USER_NOT_EXIST",
            "USER_BALANCE_NOT_ENOUGH", "SYSTEM_ERROR",
        ])
        .prop_map(Event::PayFailed),
        1 => Just(Event::Cancelled),
    ]
}

fn t0() -> Timestamp {
    Timestamp::parse_iso8601("2025-02-20T10:00:00+08:00").unwrap()
}

fn secs(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

fn time(t: Timestamp) -> String {
    t.format(TimeFormat::Offset(480))
}

fn reply(status: &str, body: serde_json::Value) -> Outcome<ApplyTokenResponse> {
    let reply = Reply {
        body: serde_json::from_value(body).unwrap(),
        response: Response::new(200, Vec::new()),
        key_version: 1,
    };
    match status {
        "S" => Outcome::Success(reply),
        "F" => Outcome::Failure(reply),
        _ => Outcome::Unknown(reply),
    }
}

fn result(code: &str, status: &str) -> serde_json::Value {
    json!({"resultCode": code, "resultStatus": status, "resultMessage": code})
}

/// Whether the grant is gone for good (only an S refresh or new tokens bring it back).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Grant {
    Usable,
    AccessRejected,
    Gone,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn token_lifecycle_is_storable_and_never_drops_a_binding_for_nothing(
        access_secs in 60u32..86_400,
        refresh_secs in prop::option::of(prop::option::of(3_600u32..30 * 86_400)),
        events in prop::collection::vec(event(), 0..60),
    ) {
        let mut now = t0();
        let mut tokens = TokenSet::new(Secret::new("at-0"), Some(now + secs(access_secs)));
        if let Some(r) = refresh_secs {
            tokens = tokens.with_refresh(Secret::new("rt-0"), r.map(|r| now + secs(r)));
        }
        let mut plain = TokenLifecycle::new(tokens);
        let mut stored = plain.clone();
        let mut grant = Grant::Usable;
        for (n, e) in events.iter().enumerate() {
            let before = plain.clone();
            let update = match e {
                Event::Wait(s) => {
                    now = now + secs(*s);
                    None
                }
                Event::Refreshed(a, r) => {
                    let mut body = json!({
                        "result": result("SUCCESS", "S"),
                        "accessToken": format!("at-{n}"),
                        "accessTokenExpiryTime": time(now + secs(*a)),
                    });
                    if let Some(r) = r {
                        body["refreshToken"] = json!(format!("rt-{n}"));
                        body["refreshTokenExpiryTime"] = json!(time(now + secs(*r)));
                    }
                    let o = reply("S", body);
                    grant = Grant::Usable;
                    let u = plain.on_refresh_outcome(&o).unwrap();
                    prop_assert_eq!(stored.on_refresh_outcome(&o).unwrap(), u);
                    if r.is_none() {
                        prop_assert_eq!(&plain.tokens().refresh_token, &before.tokens().refresh_token,
                            "a refresh without a new refresh token keeps the old one");
                    }
                    Some(u)
                }
                Event::RefusedGrant(code) => {
                    let o = reply("F", json!({"result": result(code, "F")}));
                    grant = Grant::Gone;
                    let u = plain.on_refresh_outcome(&o).unwrap();
                    prop_assert_eq!(stored.on_refresh_outcome(&o).unwrap(), u);
                    Some(u)
                }
                Event::RefusedRequest(code) => {
                    let o = reply("F", json!({"result": result(code, "F")}));
                    let u = plain.on_refresh_outcome(&o).unwrap();
                    prop_assert_eq!(stored.on_refresh_outcome(&o).unwrap(), u);
                    prop_assert_eq!(u, TokenUpdate::Ignored, "{} says nothing about the grant", code);
                    prop_assert_eq!(&plain, &before);
                    Some(u)
                }
                Event::NoAnswer(verified) => {
                    let o = if *verified {
                        reply("U", json!({"result": result("UNKNOWN_EXCEPTION", "U")}))
                    } else {
                        Outcome::NoVerifiedResponse(ResponseError::HttpStatus {
                            response: Response::new(503, Vec::new()),
                        })
                    };
                    let u = plain.on_refresh_outcome(&o).unwrap();
                    prop_assert_eq!(stored.on_refresh_outcome(&o).unwrap(), u);
                    prop_assert_eq!(u, TokenUpdate::Ignored);
                    prop_assert_eq!(&plain, &before);
                    Some(u)
                }
                Event::PayFailed(code) => {
                    let u = plain.on_payment_failure(code);
                    prop_assert_eq!(stored.on_payment_failure(code), u);
                    if grant != Grant::Gone {
                        if *code == "USER_NOT_EXIST" {
                            grant = Grant::Gone;
                        } else if code.contains("TOKEN") {
                            grant = Grant::AccessRejected;
                        } else {
                            prop_assert_eq!(&plain, &before, "{} is not about the token", code);
                        }
                    }
                    Some(u)
                }
                Event::Cancelled => {
                    let u = plain.on_cancelled();
                    prop_assert_eq!(stored.on_cancelled(), u);
                    grant = Grant::Gone;
                    Some(u)
                }
            };
            if update == Some(TokenUpdate::Ignored) {
                prop_assert_eq!(&plain, &before, "Ignored changes nothing");
            }
            // Stored and resumed after every event: equal, and the same decision.
            let json = serde_json::to_string(&stored).unwrap();
            stored = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&stored, &plain);
            let decision = plain.decide(now);
            prop_assert_eq!(&stored.decide(now), &decision);

            let t = plain.tokens();
            let expired = t.access_token_expires_at.is_some_and(|at| now >= at);
            let refresh_usable = t.refresh_token.is_some()
                && t.refresh_token_expires_at.is_none_or(|at| now < at);
            match &decision {
                TokenDecision::Use => {
                    prop_assert!(!expired, "never charge with an expired access token");
                    prop_assert_eq!(grant, Grant::Usable);
                }
                TokenDecision::RefreshNow => {
                    prop_assert!(refresh_usable, "refresh only with a usable refresh token");
                    prop_assert!(grant != Grant::Gone);
                }
                TokenDecision::Rebind(_) => prop_assert!(
                    grant == Grant::Gone || !refresh_usable,
                    "bind again only when the grant is gone or nothing usable is left"
                ),
                other => prop_assert!(false, "unknown decision {:?}", other),
            }
        }
    }
}
