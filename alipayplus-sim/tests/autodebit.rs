//! Auto Debit on the wire: the simulator's authorization APIs, consent page, agreement pay and
//! control calls, driven by the raw signing client (no SDK logic in between).

mod common;

use common::*;
use serde_json::{Value, json};

const PREPARE: &str = "/aps/api/v1/authorizations/prepare";
const APPLY: &str = "/aps/api/v1/authorizations/applyToken";
const CANCEL_TOKEN: &str = "/aps/api/v1/authorizations/cancelToken";
const RETURN: &str = "https://merchant.example/auth-return?shop=1";

fn prepare_body(agreement: Option<&str>, scopes: &[&str]) -> Value {
    let mut body = json!({
        "authClientId": "M0001",
        "authClientName": "Merchant Pte. Ltd.",
        "authRedirectUrl": RETURN,
        "scopes": scopes,
        "authState": "state-0123456789abcdef",
        "terminalType": "WEB",
    });
    if let Some(a) = agreement {
        body["referenceAgreementId"] = json!(a);
    }
    body
}

/// prepare + consent: the auth code.
fn code(acqp: &Acqp, scopes: &[&str]) -> String {
    let r = acqp.call(PREPARE, &prepare_body(None, scopes));
    let url = r.json["authUrl"].as_str().unwrap().to_owned();
    let (status, location, _) = acqp.get(&format!("{url}?action=agree"));
    assert_eq!(status, 303);
    let location = location.unwrap();
    location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("authCode="))
        .unwrap()
        .to_owned()
}

fn exchange(acqp: &Acqp, code: &str, client: &str) -> Reply {
    acqp.call(
        APPLY,
        &json!({"authClientId": client, "grantType": "AUTHORIZATION_CODE", "authCode": code}),
    )
}

fn agreement_pay(id: &str, token: &str) -> Value {
    json!({
        "paymentRequestId": id,
        "order": {
            "referenceOrderId": id, "orderDescription": "sub",
            "orderAmount": {"currency": "USD", "value": "100"},
            "merchant": {"referenceMerchantId": "M0001"}
        },
        "paymentAmount": {"currency": "USD", "value": "100"},
        "paymentMethod": {"paymentMethodType": "CONNECT_WALLET", "paymentMethodId": token},
        "paymentFactor": {"isAgreementPayment": "true", "isCashierPayment": "false"}
    })
}

#[test]
fn prepare_is_idempotent_on_auth_client_and_reference_agreement_id() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let first = acqp.call(PREPARE, &prepare_body(Some("AGR-1"), &["AGREEMENT_PAY"]));
    assert_eq!(first.verified, Ok(()));
    assert_eq!(first.status_letter(), "S");
    let again = acqp.call(PREPARE, &prepare_body(Some("AGR-1"), &["AGREEMENT_PAY"]));
    assert_eq!(again.json["authUrl"], first.json["authUrl"]);
    let other = acqp.call(PREPARE, &prepare_body(Some("AGR-1"), &["USER_LOGIN_ID"]));
    assert_eq!(other.code(), "REPEAT_REQ_INCONSISTENT");
    let fresh = acqp.call(PREPARE, &prepare_body(None, &["AGREEMENT_PAY"]));
    assert_ne!(fresh.json["authUrl"], first.json["authUrl"]);
    let mut bad = prepare_body(None, &["AGREEMENT_PAY"]);
    bad.as_object_mut().unwrap().remove("authRedirectUrl");
    let refused = acqp.call(PREPARE, &bad);
    assert_eq!(refused.code(), "PARAM_ILLEGAL");
    assert!(
        refused.message().contains("authRedirectUrl"),
        "{}",
        refused.message()
    );
}

#[test]
fn consent_redirects_with_code_and_state_and_codes_are_single_use() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let r = acqp.call(PREPARE, &prepare_body(None, &["AGREEMENT_PAY"]));
    let url = r.json["authUrl"].as_str().unwrap().to_owned();
    let (status, _, page) = acqp.get(&url);
    assert_eq!(status, 200);
    assert!(page.contains("action=agree"));
    let (status, location, _) = acqp.get(&format!("{url}?action=agree"));
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(
        location.starts_with(&format!("{RETURN}&authCode=")),
        "{location}"
    );
    assert!(
        location.ends_with("&authState=state-0123456789abcdef"),
        "{location}"
    );
    let (_, declined, _) = acqp.get(&format!("{url}?action=decline"));
    assert_eq!(
        declined.unwrap(),
        format!("{RETURN}&authState=state-0123456789abcdef")
    );

    let code = code(&acqp, &["AGREEMENT_PAY"]);
    // Another merchant cannot use it, and trying does not spend it.
    assert_eq!(
        exchange(&acqp, &code, "M-OTHER").code(),
        "INVALID_AUTH_CLIENT"
    );
    let tokens = exchange(&acqp, &code, "M0001");
    assert_eq!(tokens.status_letter(), "S");
    assert_eq!(tokens.verified, Ok(()));
    for field in [
        "accessToken",
        "accessTokenExpiryTime",
        "refreshToken",
        "refreshTokenExpiryTime",
    ] {
        assert!(tokens.json[field].is_string(), "{field}: {}", tokens.json);
    }
    assert_eq!(exchange(&acqp, &code, "M0001").code(), "USED_CODE");
    assert_eq!(
        exchange(&acqp, "NO-SUCH-CODE", "M0001").code(),
        "INVALID_AUTH_CODE"
    );

    // Codes expire (5 minutes by default).
    let late = code_after(&sim, &acqp, 301);
    assert_eq!(exchange(&acqp, &late, "M0001").code(), "EXPIRED_AUTH_CODE");
}

fn code_after(sim: &alipayplus_sim::Simulator, acqp: &Acqp, secs: u64) -> String {
    let c = code(acqp, &["AGREEMENT_PAY"]);
    sim.advance_clock(std::time::Duration::from_secs(secs));
    c
}

#[test]
fn agreement_pay_checks_the_token_and_scope() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let no_scope = exchange(&acqp, &code(&acqp, &["USER_LOGIN_ID"]), "M0001");
    let t = no_scope.json["accessToken"].as_str().unwrap();
    assert_eq!(
        acqp.call(PAY, &agreement_pay("P-SCOPE", t)).code(),
        "INVALID_ACCESS_TOKEN"
    );
    assert_eq!(
        acqp.call(PAY, &agreement_pay("P-UNKNOWN", "NOPE")).code(),
        "INVALID_ACCESS_TOKEN"
    );

    let tokens = exchange(&acqp, &code(&acqp, &["AGREEMENT_PAY"]), "M0001");
    let t = tokens.json["accessToken"].as_str().unwrap().to_owned();
    let paid = acqp.call(PAY, &agreement_pay("P-1", &t));
    assert_eq!((paid.status_letter(), paid.code()), ("S", "SUCCESS"));
    assert!(paid.json["paymentTime"].is_string() && paid.json["normalUrl"].is_null());
    // Idempotent; another amount under the same id is inconsistent.
    assert_eq!(
        acqp.call(PAY, &agreement_pay("P-1", &t)).json["paymentId"],
        paid.json["paymentId"]
    );
    let mut changed = agreement_pay("P-1", &t);
    changed["paymentAmount"]["value"] = json!("99");
    assert_eq!(acqp.call(PAY, &changed).code(), "REPEAT_REQ_INCONSISTENT");

    // Scripted outcomes through the control API.
    let (status, _) = acqp.control(
        "POST",
        "/sim/autodebit/pay-script",
        Some(json!({"pendingSecs": 0, "result": "RISK_REJECT"})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        acqp.call(PAY, &agreement_pay("P-F", &t)).code(),
        "RISK_REJECT"
    );
    acqp.control(
        "POST",
        "/sim/autodebit/pay-script",
        Some(json!({"pendingSecs": 30, "result": "SUCCESS"})),
    );
    assert_eq!(
        acqp.call(PAY, &agreement_pay("P-U", &t)).code(),
        "PAYMENT_IN_PROCESS"
    );
    let inquiry = acqp.call(INQUIRY, &json!({"paymentRequestId": "P-U"}));
    assert_eq!(inquiry.json["paymentResult"]["resultStatus"], "U");
    acqp.control("POST", "/sim/clock/advance", Some(json!({"seconds": 30})));
    let inquiry = acqp.call(INQUIRY, &json!({"paymentRequestId": "P-U"}));
    assert_eq!(inquiry.json["paymentResult"]["resultStatus"], "S");

    // Token expiry (1 hour by default).
    sim.advance_clock(std::time::Duration::from_secs(3600));
    assert_eq!(
        acqp.call(PAY, &agreement_pay("P-EXP", &t)).code(),
        "EXPIRED_ACCESS_TOKEN"
    );
}

#[test]
fn cancel_token_refresh_and_control_views() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let tokens = exchange(&acqp, &code(&acqp, &["AGREEMENT_PAY"]), "M0001");
    let (access, refresh) = (
        tokens.json["accessToken"].as_str().unwrap().to_owned(),
        tokens.json["refreshToken"].as_str().unwrap().to_owned(),
    );
    let refreshed = acqp.call(
        APPLY,
        &json!({"authClientId": "M0001", "grantType": "REFRESH_TOKEN", "refreshToken": refresh}),
    );
    assert_eq!(refreshed.status_letter(), "S");
    let new_access = refreshed.json["accessToken"].as_str().unwrap().to_owned();
    let (_, view) = acqp.control("GET", "/sim/autodebit", None);
    let states: Vec<(String, String)> = view["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["accessToken"].as_str().unwrap().into(),
                t["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        states.contains(&(access.clone(), "ROTATED".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&(new_access.clone(), "ACTIVE".into())),
        "{states:?}"
    );

    let wrong = acqp.call(
        CANCEL_TOKEN,
        &json!({"accessToken": new_access, "authClientId": "M-OTHER"}),
    );
    assert_eq!(wrong.code(), "INVALID_AUTH_CLIENT");
    let body = json!({"accessToken": new_access, "authClientId": "M0001"});
    assert_eq!(acqp.call(CANCEL_TOKEN, &body).status_letter(), "S");
    assert_eq!(
        acqp.call(CANCEL_TOKEN, &body).status_letter(),
        "S",
        "idempotent"
    );
    assert_eq!(
        acqp.call(
            CANCEL_TOKEN,
            &json!({"accessToken": "NOPE", "authClientId": "M0001"})
        )
        .code(),
        "INVALID_ACCESS_TOKEN"
    );
    let (status, _) = acqp.control(
        "POST",
        "/sim/autodebit/unbind",
        Some(json!({"accessToken": "NOPE"})),
    );
    assert_eq!(status, 404);
    let (status, consent) = acqp.control(
        "POST",
        "/sim/autodebit/consent",
        Some(json!({"authUrl": "SIMAUTH-NONE"})),
    );
    assert_eq!(status, 404, "{consent}");
}
