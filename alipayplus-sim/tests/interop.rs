//! What other stacks need (issue 16): absolute-form request targets, response headers named as
//! production names them, unified presentment (`CONNECT_WALLET`), a configurable wallet list,
//! uncertain rules let pass and logged, HTTPS with a certificate made at start, and key files in
//! the forms common clients load.
//!
//! Requests here go over raw sockets (plain or rustls), so the exact request line and the
//! exact header names on the wire are what is tested.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use alipayplus_sign::{PublicKeys, message};
use alipayplus_sim::{PaymentStatus, Simulator, keys};
use common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

const TIME: &str = "2026-11-23T10:00:00+08:00";

/// An answer read off the wire, header names exactly as sent.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header_exact(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn code(&self) -> String {
        self.json()["result"]["resultCode"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    /// Verifies the answer's signature over `path` with the simulator's public key.
    fn verify(&self, path: &str) -> Result<(), String> {
        let keys = PublicKeys::single(1, keys::sim_public_key().unwrap());
        message::verify_response(
            &keys,
            "POST",
            path,
            self.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
            &self.body,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
}

/// Sends one request (`Connection: close`) and reads the whole answer.
fn exchange(
    mut stream: impl Read + Write,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Raw {
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream.flush().unwrap();
    let mut raw = Vec::new();
    // A TLS peer may close without close_notify after the answer; what was read counts.
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_owned(), v.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// A signed API request as the official Python SDK sends it: signed over the path, request
/// line `target` (absolute form when given so), lower-case `client-id`.
fn signed_call(stream: impl Read + Write, target: &str, path: &str, body: &Value) -> Raw {
    let key = keys::acqp_private_key().unwrap();
    let body = body.to_string();
    let client_id = alipayplus_sim::config::DEFAULT_CLIENT_ID;
    let signature =
        message::sign_request(&key, 1, "POST", path, client_id, TIME, body.as_bytes()).unwrap();
    exchange(
        stream,
        "POST",
        target,
        &[
            ("Content-type", "application/json; charset=UTF-8"),
            ("client-id", client_id),
            ("Request-Time", TIME),
            ("Signature", signature.as_str()),
        ],
        body.as_bytes(),
    )
}

fn tcp(sim: &Simulator) -> TcpStream {
    let s = TcpStream::connect(sim.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// A pay body as the official Python SDK's tools build it (unified presentment, the default
/// `settlementStrategy` with no currency).
fn unified_pay(id: &str) -> Value {
    json!({
        "paymentRequestId": id,
        "order": {
            "merchant": {
                "merchantDisplayName": "Alipayplus MCP", "merchantName": "Alipayplus MCP",
                "merchantMCC": "5411", "referenceMerchantId": "M0000000001",
                "merchantAddress": {"region": "CN"}
            },
            "buyer": {"referenceBuyerId": "b-1"},
            "referenceOrderId": id,
            "env": {"terminalType": "WAP", "osType": "IOS"},
            "orderDescription": "order",
            "orderAmount": {"currency": "USD", "value": 1000}
        },
        "paymentAmount": {"currency": "USD", "value": 1000},
        "paymentMethod": {"paymentMethodType": "CONNECT_WALLET"},
        "paymentRedirectUrl": "/",
        "paymentFactor": {"isCashierPayment": true, "presentmentMode": "UNIFIED"},
        "settlementStrategy": {}
    })
}

#[test]
fn absolute_form_targets_are_routed_and_verified_on_the_path() {
    let sim = sim();
    let target = format!("http://{}{PAY}", sim.addr());
    let r = signed_call(tcp(&sim), &target, PAY, &pay_body("P-ABS-1", 1000, None));
    assert_eq!(r.status, 200);
    assert_eq!(r.code(), "PAYMENT_IN_PROCESS", "{:?}", r.json());
    assert_eq!(r.verify(PAY), Ok(()));
    // The production host name in the request line (what the official SDK sends) too.
    let target = format!("https://open-sea-global.alipayplus.com{INQUIRY}");
    let r = signed_call(
        tcp(&sim),
        &target,
        INQUIRY,
        &json!({"paymentRequestId": "P-ABS-1"}),
    );
    assert_eq!(
        r.json()["paymentResult"]["resultCode"],
        "PAYMENT_IN_PROCESS"
    );
    assert_eq!(r.verify(INQUIRY), Ok(()));
    // Signed over the full URL instead of the path: refused, as with origin form.
    let r = signed_call(
        tcp(&sim),
        &target,
        &target,
        &json!({"paymentRequestId": "P-ABS-1"}),
    );
    assert_eq!(r.code(), "INVALID_SIGNATURE");
    // The control API answers absolute targets too.
    let r = exchange(
        tcp(&sim),
        "GET",
        &format!("http://{}/sim", sim.addr()),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["clientId"], sim.client_id());
    // An unknown path in absolute form is still an unknown API.
    let target = format!("http://{}/aps/api/v1/payments/nope", sim.addr());
    let r = signed_call(tcp(&sim), &target, "/aps/api/v1/payments/nope", &json!({}));
    assert_eq!(r.code(), "INVALID_API");
}

#[test]
fn response_headers_are_lower_case_as_production_sends_them() {
    let sim = sim();
    let r = signed_call(tcp(&sim), PAY, PAY, &pay_body("P-HDR-1", 1000, None));
    for name in ["signature", "response-time", "client-id"] {
        assert!(
            r.header_exact(name).is_some(),
            "{name} missing in {:?}",
            r.headers
        );
    }
    for name in ["Signature", "Response-Time", "Client-Id"] {
        assert!(r.header_exact(name).is_none(), "{name} in {:?}", r.headers);
    }
    assert_eq!(r.header_exact("client-id"), Some(sim.client_id()));
    assert_eq!(r.verify(PAY), Ok(()));
}

#[test]
fn connect_wallet_is_accepted_and_the_wallet_list_is_configurable() {
    let sim = sim_with(|c| c.with_wallets(["GCASH", "KAKAOPAY"]));
    let acqp = Acqp::new(&sim);
    let mut body = pay_body("P-CW-1", 1000, None);
    body["paymentMethod"]["paymentMethodType"] = json!("CONNECT_WALLET");
    body["paymentFactor"]["presentmentMode"] = json!("UNIFIED");
    let r = acqp.call(PAY, &body);
    assert_eq!(
        (r.status_letter(), r.code()),
        ("U", "PAYMENT_IN_PROCESS"),
        "{}",
        r.message()
    );
    let mut body = pay_body("P-CW-2", 1000, None);
    body["paymentMethod"]["paymentMethodType"] = json!("GCASH");
    assert_eq!(acqp.call(PAY, &body).code(), "PAYMENT_IN_PROCESS");
    // The default wallets are gone from this list.
    let mut body = pay_body("P-CW-3", 1000, None);
    body["paymentMethod"]["paymentMethodType"] = json!("SIMWALLET");
    assert_eq!(acqp.call(PAY, &body).code(), "UNAVAILABLE_PAYMENT_METHOD");
    let consult = acqp.call(
        CONSULT,
        &json!({
            "paymentAmount": {"currency": "USD", "value": "0"},
            "paymentFactor": {"isCashierPayment": "true", "isInStorePayment": "false"}
        }),
    );
    let listed: Vec<&str> = consult.json["paymentOptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["paymentMethodType"].as_str())
        .collect();
    assert_eq!(listed, ["GCASH", "KAKAOPAY"]);
    let info = sim.info();
    assert!(info.connect_wallet);

    // Unified presentment switched off: refused like any method not offered.
    let sim = sim_with(|mut c| {
        c.connect_wallet = false;
        c
    });
    let mut body = pay_body("P-CW-4", 1000, None);
    body["paymentMethod"]["paymentMethodType"] = json!("CONNECT_WALLET");
    assert_eq!(
        Acqp::new(&sim).call(PAY, &body).code(),
        "UNAVAILABLE_PAYMENT_METHOD"
    );
}

#[test]
fn uncertain_rules_are_let_pass_and_logged_certain_ones_are_not() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    let r = acqp.call(PAY, &unified_pay("P-UNC-1"));
    assert_eq!(
        (r.status_letter(), r.code()),
        ("U", "PAYMENT_IN_PROCESS"),
        "{}",
        r.message()
    );
    let call = sim.calls().into_iter().last().unwrap();
    assert_eq!(call.payment_request_id.as_deref(), Some("P-UNC-1"));
    assert_eq!(call.tolerated.len(), 1, "{:?}", call.tolerated);
    assert!(
        call.tolerated[0].starts_with("settlementStrategy.settlementCurrency: missing")
            && call.tolerated[0].ends_with("(uncertain rule)"),
        "{:?}",
        call.tolerated
    );
    // The control API's call log shows it too.
    let (_, calls) = acqp.control("GET", "/sim/calls", None);
    assert_eq!(
        calls[0]["tolerated"][0].as_str(),
        Some(call.tolerated[0].as_str())
    );
    // The payment goes on normally.
    sim.approve("P-UNC-1").unwrap();
    assert_eq!(
        sim.payment("P-UNC-1").unwrap().status,
        PaymentStatus::Success
    );

    // A certain problem beside the uncertain one: refused, both named, the uncertain flagged.
    let mut body = unified_pay("P-UNC-2");
    body["order"]["orderDescription"] = json!("");
    let r = acqp.call(PAY, &body);
    assert_eq!(r.code(), "PARAM_ILLEGAL");
    assert!(
        r.message().contains("order.orderDescription: empty"),
        "{}",
        r.message()
    );
    assert!(
        r.message().contains(
            "settlementStrategy.settlementCurrency: missing (required: always) (uncertain rule)"
        ),
        "{}",
        r.message()
    );
    assert!(sim.calls().last().unwrap().tolerated.is_empty());
    assert!(sim.payment("P-UNC-2").is_none());
    // A clean request notes nothing.
    acqp.call(PAY, &pay_body("P-UNC-3", 1000, None));
    assert!(sim.calls().last().unwrap().tolerated.is_empty());
}

fn tls_client(roots: rustls::RootCertStore) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn tls_stream(
    sim: &Simulator,
    config: Arc<rustls::ClientConfig>,
    name: &'static str,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let server_name = ServerName::try_from(name).unwrap();
    let conn = rustls::ClientConnection::new(config, server_name).unwrap();
    rustls::StreamOwned::new(conn, tcp(sim))
}

#[test]
fn tls_serves_https_with_the_generated_certificate_as_the_only_root() {
    let sim = sim_with(|c| c.with_tls());
    assert!(
        sim.base_url().starts_with("https://127.0.0.1:"),
        "{}",
        sim.base_url()
    );
    let ca = sim.tls_ca_pem().expect("a CA certificate");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
        .unwrap();
    let client = tls_client(roots);

    for name in alipayplus_sim::tls::SERVER_NAMES {
        let target = format!("https://{name}{PAY}");
        let id = format!("P-TLS-{name}");
        let r = signed_call(
            tls_stream(&sim, Arc::clone(&client), name),
            &target,
            PAY,
            &pay_body(&id, 1000, None),
        );
        assert_eq!(r.code(), "PAYMENT_IN_PROCESS", "{name}: {:?}", r.json());
        assert_eq!(r.verify(PAY), Ok(()), "{name}");
        assert!(r.header_exact("signature").is_some());
        // The shopper's page links are HTTPS too.
        assert!(
            r.json()["normalUrl"]
                .as_str()
                .unwrap()
                .starts_with("https://127.0.0.1:")
        );
    }
    // Control API over TLS.
    let r = exchange(
        tls_stream(&sim, Arc::clone(&client), "localhost"),
        "GET",
        "/sim",
        &[],
        b"",
    );
    assert_eq!(r.json()["baseUrl"], sim.base_url());

    // Verification is real: another root is refused, as is a name the certificate lacks.
    let other = sim_with(|c| c.with_tls());
    let mut wrong = rustls::RootCertStore::empty();
    wrong
        .add(CertificateDer::from_pem_slice(other.tls_ca_pem().unwrap().as_bytes()).unwrap())
        .unwrap();
    let refused = |config, name| {
        let mut stream = tls_stream(&sim, config, name);
        let sent = stream
            .write_all(b"GET /sim HTTP/1.1\r\n\r\n")
            .and_then(|_| stream.flush());
        sent.expect_err("the handshake must fail").to_string()
    };
    // (Both CAs carry the same name, so the check fails on the signature.)
    let e = refused(tls_client(wrong), "localhost");
    assert!(e.contains("invalid peer certificate"), "{e}");
    let e = refused(Arc::clone(&client), "alipayplus.example");
    assert!(e.contains("not valid for name"), "{e}");
    // Plain HTTP on the TLS port gets no answer (the handshake fails), and the server keeps serving.
    let r = {
        let mut s = tcp(&sim);
        let _ = s.write_all(b"GET /sim HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf
    };
    assert!(
        !r.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&r)
    );
    let r = exchange(
        tls_stream(&sim, client, "127.0.0.1"),
        "GET",
        "/sim",
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn plain_http_by_default_has_no_certificate() {
    let sim = sim();
    assert!(sim.base_url().starts_with("http://"));
    assert!(sim.tls_ca_pem().is_none());
}

#[test]
fn every_key_file_form_holds_the_same_key() {
    use base64::Engine as _;
    let dir = keys::key_dir();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let b64 = |text: &str| {
        let inner: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(inner.trim())
            .unwrap()
    };
    // PKCS#8 PrivateKeyInfo ends with the PKCS#1 RSAPrivateKey (its privateKey OCTET STRING).
    let pkcs8 = b64(&read(keys::file::ACQP_PRIVATE));
    let pkcs1 = b64(&read(keys::file::ACQP_PRIVATE_PKCS1));
    assert!(read(keys::file::ACQP_PRIVATE_PKCS1).starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert!(pkcs1.len() > 1000 && pkcs8.ends_with(&pkcs1));
    assert_eq!(b64(&read(keys::file::ACQP_PRIVATE_PKCS1_B64)), pkcs1);
    assert_eq!(b64(&read(keys::file::ACQP_PRIVATE_B64)), pkcs8);
    assert_eq!(
        keys::ACQP_PRIVATE_PKCS1_PEM,
        read(keys::file::ACQP_PRIVATE_PKCS1)
    );
    // SubjectPublicKeyInfo ends with the PKCS#1 RSAPublicKey (its BIT STRING).
    let spki = b64(&read(keys::file::SIM_PUBLIC));
    let pkcs1 = b64(&read(keys::file::SIM_PUBLIC_PKCS1));
    assert!(pkcs1.len() > 200 && spki.ends_with(&pkcs1));
    assert_eq!(b64(&read(keys::file::SIM_PUBLIC_B64)), spki);
    // Every file the banner names exists.
    for (_, private, public) in keys::CLIENT_FORMS {
        assert!(dir.join(private).is_file() && dir.join(public).is_file());
    }
}
