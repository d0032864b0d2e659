//! The routers' Client-Id policy and body limits over loopback: a call correctly signed by
//! Alipay+'s key for another Client-Id is refused (signed `INVALID_CLIENT`, the application not
//! told) under `InboundClientId::Refuse`, and reaches the application with
//! `client_id_is_ours = false` under `Report`, on every one of the six routes; refusals of an
//! unverified caller are unsigned, as the crate docs say; a body trickled past the deadline
//! gets 408.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alipayplus_autodebit::AuthEvent;
use alipayplus_axum_example::{
    Merchant, MerchantOperations, Unavailable, inbound_routes, sdk_request,
};
use alipayplus_client::client::{ClientConfig, Host, InboundClientId};
use alipayplus_client::time::SystemClock;
use alipayplus_operations::dispute::{Dispute, DisputeDelivery, DisputeKind};
use alipayplus_operations::registration::RegistrationEvent;
use alipayplus_sign::{PublicKeys, message};
use alipayplus_sim::keys;
use alipayplus_types::{ConsultUnbindingRequest, NotifyPaymentRequest};
use serde_json::{Value, json};

const OURS: &str = "SANDBOX_AXUM_ACQP";

/// Records which API told it what, with the flag.
#[derive(Default)]
struct Shop {
    told: Mutex<Vec<(&'static str, bool)>>,
}

impl Shop {
    fn told(&self, api: &'static str, ours: bool) {
        self.told.lock().unwrap().push((api, ours));
    }
}

impl Merchant for Shop {
    async fn payment_notified(
        &self,
        _: NotifyPaymentRequest,
        ours: bool,
    ) -> Result<(), Unavailable> {
        self.told("notifyPayment", ours);
        Ok(())
    }
    async fn auth_notified(&self, _: AuthEvent, ours: bool) -> Result<(), Unavailable> {
        self.told("authNotify", ours);
        Ok(())
    }
    async fn unbinding_requested(
        &self,
        _: ConsultUnbindingRequest,
        ours: bool,
    ) -> Result<(), String> {
        self.told("consultUnbinding", ours);
        Ok(())
    }
}

impl MerchantOperations for Shop {
    async fn registration_notified(
        &self,
        _: RegistrationEvent,
        ours: bool,
    ) -> Result<(), Unavailable> {
        self.told("notifyRegistrationStatus", ours);
        Ok(())
    }
    async fn stored_dispute(
        &self,
        _: DisputeKind,
        _: &str,
    ) -> Result<Option<Dispute>, Unavailable> {
        Ok(None)
    }
    async fn store_dispute(&self, d: DisputeDelivery) -> Result<Option<Dispute>, Unavailable> {
        let api = match d.body.dispute.kind {
            DisputeKind::Retrieval => "initiateRetrieval",
            DisputeKind::Escalation => "initiateEscalation",
        };
        self.told(api, d.client_id_is_ours);
        Ok(None)
    }
}

fn config() -> ClientConfig {
    ClientConfig::new(
        OURS,
        Host::OtherRegionsAccelerated,
        keys::acqp_private_key().unwrap(),
        PublicKeys::single(1, keys::sim_public_key().unwrap()),
        SystemClock,
    )
    .unwrap()
}

/// Serves `app` on its own runtime and thread; returns the address.
fn serve(app: axum::Router) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// The six APIs with a body each parses.
fn calls() -> Vec<(&'static str, Value)> {
    vec![
        (
            "notifyPayment",
            json!({"paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
            "paymentRequestId": "PAY-1", "paymentId": "P1",
            "paymentAmount": {"currency": "USD", "value": "1000"}}),
        ),
        (
            "authNotify",
            json!({"authorizationNotifyType": "TOKEN_CANCELED",
            "authClientId": "M1", "accessToken": "AT-1"}),
        ),
        (
            "consultUnbinding",
            json!({"accessToken": "AT-1", "authClientId": "M1"}),
        ),
        (
            "notifyRegistrationStatus",
            json!({"referenceMerchantId": "M1",
            "registrationResult": {"registrationStatus": "PENDING"}}),
        ),
        (
            "initiateRetrieval",
            json!({"disputeRequestId": "D1", "paymentRequestId": "PAY-1",
            "disputeOccurTime": "2025-06-03T10:00:00+08:00"}),
        ),
        (
            "initiateEscalation",
            json!({"disputeRequestId": "D2", "paymentRequestId": "PAY-1",
            "escalationAmount": {"currency": "USD", "value": "1000"}}),
        ),
    ]
}

/// A raw HTTP/1.1 POST; returns the status, the headers (lower-case names) and the body.
fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse(&raw)
}

fn parse(raw: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
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
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

/// Alipay+'s signed call to `path` as `client_id`.
fn signed(
    addr: SocketAddr,
    path: &str,
    client_id: &str,
    body: &Value,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let bytes = body.to_string().into_bytes();
    let time = "2025-06-03T10:00:00+08:00";
    let key = keys::sim_private_key().unwrap();
    let signature = message::sign_request(&key, 1, "POST", path, client_id, time, &bytes).unwrap();
    post(
        addr,
        path,
        &[
            ("Content-Type", "application/json"),
            ("Client-Id", client_id),
            ("Request-Time", time),
            ("Signature", signature.as_str()),
        ],
        &bytes,
    )
}

/// Checks the answer is signed by us over `path`, echoing `client_id`; returns its body.
fn verify(path: &str, client_id: &str, answer: &(u16, Vec<(String, String)>, Vec<u8>)) -> Value {
    let (status, headers, body) = answer;
    assert_eq!(*status, 200);
    let keys = PublicKeys::single(1, keys::acqp_public_key().unwrap());
    let echoed = headers
        .iter()
        .find(|(n, _)| n == "client-id")
        .map(|(_, v)| v.as_str());
    assert_eq!(echoed, Some(client_id));
    message::verify_response(
        &keys,
        "POST",
        path,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
        body,
    )
    .expect("the answer is signed by us");
    serde_json::from_slice(body).unwrap()
}

#[test]
fn a_foreign_client_id_is_refused_signed_and_never_reaches_the_application() {
    let shop = Arc::new(Shop::default());
    let app = axum::Router::new().nest(
        "/acqp",
        inbound_routes(config(), Arc::clone(&shop), InboundClientId::Refuse),
    );
    let addr = serve(app);
    for (api, body) in calls() {
        let path = format!("/acqp/{api}");
        let refused = verify(
            &path,
            "SOMEONE-ELSE",
            &signed(addr, &path, "SOMEONE-ELSE", &body),
        );
        assert_eq!(refused["result"]["resultCode"], "INVALID_CLIENT", "{api}");
        assert!(
            shop.told.lock().unwrap().is_empty(),
            "{api} reached the application"
        );
    }
    for (api, body) in calls() {
        let path = format!("/acqp/{api}");
        let ok = verify(&path, OURS, &signed(addr, &path, OURS, &body));
        assert_eq!(ok["result"]["resultStatus"], "S", "{api}");
    }
    let told = shop.told.lock().unwrap().clone();
    assert_eq!(told.len(), 6);
    assert!(told.iter().all(|(_, ours)| *ours));

    // Refusals of an unverified caller are unsigned (the docs' table): a bad signature, a
    // method other than POST; an oversized body gets 413 before verification.
    let (status, headers, body) = post(
        addr,
        "/acqp/notifyPayment",
        &[
            ("Client-Id", OURS),
            ("Signature", "algorithm=RSA256,keyVersion=1,signature=AAAA"),
        ],
        b"{}",
    );
    assert_eq!(status, 200);
    assert!(
        headers.iter().all(|(n, _)| n != "signature"),
        "an unverified caller got a signed answer"
    );
    assert!(String::from_utf8_lossy(&body).contains("INVALID_SIGNATURE"));
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /acqp/notifyPayment HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let (status, headers, body) = parse(&raw);
    assert_eq!(status, 200);
    assert!(headers.iter().all(|(n, _)| n != "signature"));
    assert!(String::from_utf8_lossy(&body).contains("METHOD_NOT_SUPPORTED"));
    let big = vec![b'x'; alipayplus_axum_example::MAX_BODY_BYTES + 1];
    assert_eq!(post(addr, "/acqp/notifyPayment", &[], &big).0, 413);
}

#[test]
fn reported_foreign_client_ids_reach_the_application_with_the_flag() {
    let shop = Arc::new(Shop::default());
    let app = inbound_routes(config(), Arc::clone(&shop), InboundClientId::Report);
    let addr = serve(app);
    for (api, body) in calls() {
        let path = format!("/{api}");
        let ok = verify(
            &path,
            "SOMEONE-ELSE",
            &signed(addr, &path, "SOMEONE-ELSE", &body),
        );
        assert_eq!(ok["result"]["resultStatus"], "S", "{api}");
    }
    let told = shop.told.lock().unwrap().clone();
    let apis: Vec<&str> = told.iter().map(|(api, _)| *api).collect();
    assert_eq!(
        apis,
        calls().iter().map(|(api, _)| *api).collect::<Vec<_>>()
    );
    assert!(told.iter().all(|(_, ours)| !*ours), "{told:?}");
}

/// A client trickling the body past the deadline gets 408 at the deadline, not when it
/// pleases.
#[test]
fn a_trickled_body_is_cut_off_at_the_deadline() {
    let deadline = Duration::from_millis(600);
    let app = axum::Router::new().route(
        "/x",
        axum::routing::any(move |request: axum::extract::Request| async move {
            match sdk_request(request, 1024, deadline).await {
                Ok(r) => {
                    axum::response::IntoResponse::into_response(format!("{} bytes", r.body.len()))
                }
                Err(refused) => refused,
            }
        }),
    );
    let addr = serve(app);
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let started = Instant::now();
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            for _ in 0..100 {
                if stream.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let took = started.elapsed();
    assert_eq!(parse(&raw).0, 408);
    assert!(took < Duration::from_secs(5), "cut off after {took:?}");
    drop(stream);
    let _ = writer.join();

    // Within the deadline, the body is read whole.
    let (status, _, body) = post(addr, "/x", &[], b"0123456789");
    assert_eq!(status, 200);
    assert_eq!(body, b"10 bytes");
}
