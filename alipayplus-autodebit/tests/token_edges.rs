//! The token lifecycle's decisions at the edges: expiry exactly now, the refresh margin, an
//! expired or missing refresh token, and cancellations of this or another token.

use alipayplus_autodebit::{
    AuthEvent, RebindReason, TokenDecision, TokenLifecycle, TokenSet, TokenUpdate,
};
use alipayplus_client::time::Timestamp;
use alipayplus_types::Secret;

const T0: i64 = 1_748_736_000;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_unix_secs(T0 + secs)
}

/// Access token expiring at +3600 s, refresh token at +`refresh_at` (or none / unknown).
fn life(refresh: Option<Option<i64>>) -> TokenLifecycle {
    let mut set = TokenSet::new(Secret::new("AT1"), Some(t(3600)));
    if let Some(at) = refresh {
        set = set.with_refresh(Secret::new("RT1"), at.map(t));
    }
    TokenLifecycle::new(set)
}

#[test]
fn decisions_at_the_expiry_edges() {
    use TokenDecision::*;
    let margin = TokenLifecycle::DEFAULT_REFRESH_MARGIN.as_secs() as i64;
    let cases = [
        // (refresh token expiry, now, decision)
        (Some(Some(86_400)), 0, Use),
        (Some(Some(86_400)), 3600 - margin - 1, Use),
        (Some(Some(86_400)), 3600 - margin, RefreshNow),
        (Some(Some(86_400)), 3599, RefreshNow),
        // The access token expires exactly now: expired.
        (Some(Some(86_400)), 3600, RefreshNow),
        (Some(Some(86_400)), 86_399, RefreshNow),
        // The refresh token expires exactly now: no refresh any more.
        (
            Some(Some(86_400)),
            86_400,
            Rebind(RebindReason::RefreshTokenExpired),
        ),
        // Refresh token expired before the access token: use the access token to the end.
        (Some(Some(1800)), 3599, Use),
        (
            Some(Some(1800)),
            3600,
            Rebind(RebindReason::RefreshTokenExpired),
        ),
        // Refresh token without a known expiry: usable.
        (Some(None), 3600, RefreshNow),
        // No refresh token at all.
        (None, 3599, Use),
        (None, 3600, Rebind(RebindReason::NoRefreshToken)),
    ];
    for (refresh, now, expected) in cases {
        assert_eq!(
            life(refresh).decide(t(now)),
            expected,
            "refresh {refresh:?}, now +{now} s"
        );
    }
}

#[test]
fn rejected_access_token_refreshes_only_while_the_refresh_token_lives() {
    for code in [
        "INVALID_TOKEN",
        "INVALID_ACCESS_TOKEN",
        "EXPIRED_ACCESS_TOKEN",
    ] {
        let mut l = life(Some(Some(86_400)));
        assert_eq!(l.on_payment_failure(code), TokenUpdate::Changed);
        assert_eq!(l.on_payment_failure(code), TokenUpdate::Ignored, "a repeat");
        assert_eq!(l.decide(t(0)), TokenDecision::RefreshNow, "{code}");
        assert_eq!(
            l.decide(t(86_400)),
            TokenDecision::Rebind(RebindReason::RefreshTokenExpired)
        );
    }
    // A business failure says nothing about the token.
    let mut l = life(Some(Some(86_400)));
    assert_eq!(
        l.on_payment_failure("USER_BALANCE_NOT_ENOUGH"),
        TokenUpdate::Ignored
    );
    assert_eq!(l.decide(t(0)), TokenDecision::Use);
    assert_eq!(l.on_payment_failure("USER_NOT_EXIST"), TokenUpdate::Changed);
    assert_eq!(
        l.decide(t(0)),
        TokenDecision::Rebind(RebindReason::UserGone)
    );
}

#[test]
fn token_canceled_for_another_token_changes_nothing() {
    let canceled = |token: &str| AuthEvent::TokenCanceled {
        auth_client_id: "M1".into(),
        access_token: Secret::new(token),
    };
    let mut l = life(Some(Some(86_400)));
    // Another binding's token, or our token before the last refresh.
    assert_eq!(l.on_auth_event(&canceled("AT0")), TokenUpdate::Ignored);
    assert_eq!(l.decide(t(0)), TokenDecision::Use);
    assert_eq!(l.on_auth_event(&canceled("AT1")), TokenUpdate::Changed);
    assert_eq!(l.on_auth_event(&canceled("AT1")), TokenUpdate::Ignored);
    assert_eq!(
        l.decide(t(0)),
        TokenDecision::Rebind(RebindReason::Cancelled)
    );
    // A cancelled binding cannot be revived by a refresh failure report.
    assert_eq!(l.on_payment_failure("INVALID_TOKEN"), TokenUpdate::Ignored);
    // After a refresh the old token's cancellation is stale.
    let mut l = life(Some(Some(86_400)));
    let new = TokenSet::new(Secret::new("AT2"), Some(t(7200)))
        .with_refresh(Secret::new("RT2"), Some(t(90_000)));
    assert_eq!(l.on_refreshed(new), TokenUpdate::Changed);
    assert_eq!(l.on_auth_event(&canceled("AT1")), TokenUpdate::Ignored);
    assert_eq!(l.decide(t(3600)), TokenDecision::Use);
    // A stale TOKEN_CREATED (expiring no later than ours) does not replace the new token.
    let stale = AuthEvent::TokenCreated {
        auth_client_id: "M1".into(),
        tokens: TokenSet::new(Secret::new("AT1"), Some(t(3600))),
        auth_state: None,
    };
    assert_eq!(l.on_auth_event(&stale), TokenUpdate::Ignored);
    assert_eq!(l.access_token(), &Secret::new("AT2"));
}

/// A refresh refused by the token's owner ends the binding; a refresh refused at the gateway
/// (signature, key, client, access: the request was not looked at) says nothing about the
/// refresh token, so the binding is kept and the refresh can be sent again once fixed.
#[test]
fn a_gateway_rejection_of_a_refresh_keeps_the_binding() {
    use alipayplus_client::client::{Outcome, Reply};
    use alipayplus_client::transport::Response;
    let failure = |code: &str| {
        let body = serde_json::json!({"result": {"resultCode": code, "resultStatus": "F"}});
        Outcome::Failure(Reply {
            body: serde_json::from_value(body).unwrap(),
            response: Response::new(200, Vec::new()),
            key_version: 1,
        })
    };
    for code in [
        "INVALID_SIGNATURE",
        "KEY_NOT_FOUND",
        "ACCESS_DENIED",
        "INVALID_CLIENT",
        // Refusals of the request, not of the grant (the description's `about` key).
        "PROCESS_FAIL",
        "PARAM_ILLEGAL",
        "SYSTEM_ERROR",
        "A_CODE_NOBODY_DOCUMENTED",
    ] {
        let mut l = life(Some(Some(86_400)));
        assert_eq!(
            l.on_refresh_outcome(&failure(code)).unwrap(),
            TokenUpdate::Ignored,
            "{code}"
        );
        assert_eq!(l.decide(t(3600)), TokenDecision::RefreshNow, "{code}");
    }
    for code in [
        "INVALID_REFRESH_TOKEN",
        "EXPIRED_REFRESH_TOKEN",
        "USER_NOT_EXIST",
    ] {
        let mut l = life(Some(Some(86_400)));
        assert_eq!(
            l.on_refresh_outcome(&failure(code)).unwrap(),
            TokenUpdate::Changed
        );
        assert_eq!(
            l.decide(t(0)),
            TokenDecision::Rebind(RebindReason::RefreshRefused(code.into()))
        );
    }
}

/// A refresh answered `S` with a new access token but no refresh token (the wallet did not
/// rotate it; the spec lists refreshToken as "Cond: on S", and OAuth's rule is to keep the old
/// one when none is issued): the still valid refresh token is kept, so the binding does not
/// need a new consent at the next expiry.
#[test]
fn a_refresh_without_a_new_refresh_token_keeps_the_old_one() {
    use alipayplus_client::client::{Outcome, Reply};
    use alipayplus_client::transport::Response;
    let success = |body: serde_json::Value| {
        Outcome::Success(Reply {
            body: serde_json::from_value(body).unwrap(),
            response: Response::new(200, Vec::new()),
            key_version: 1,
        })
    };
    let mut l = life(Some(Some(86_400)));
    let answer = success(serde_json::json!({
        "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "accessToken": "AT2",
        "accessTokenExpiryTime": "2025-06-01T02:00:00Z",
    }));
    assert_eq!(l.on_refresh_outcome(&answer).unwrap(), TokenUpdate::Changed);
    assert_eq!(l.access_token(), &Secret::new("AT2"));
    assert_eq!(l.tokens().refresh_token, Some(Secret::new("RT1")));
    assert_eq!(l.tokens().refresh_token_expires_at, Some(t(86_400)));
    // AT2 expires at +7200 s: then refresh again with RT1.
    assert_eq!(l.decide(t(7200)), TokenDecision::RefreshNow);
    // A rotated refresh token replaces the old one.
    let answer = success(serde_json::json!({
        "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "accessToken": "AT3",
        "accessTokenExpiryTime": "2025-06-01T03:00:00Z",
        "refreshToken": "RT3",
        "refreshTokenExpiryTime": "2025-06-03T00:00:00Z",
    }));
    l.on_refresh_outcome(&answer).unwrap();
    assert_eq!(l.tokens().refresh_token, Some(Secret::new("RT3")));
    assert_eq!(l.tokens().refresh_token_expires_at, Some(t(2 * 86_400)));
}
