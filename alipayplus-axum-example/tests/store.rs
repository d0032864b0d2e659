//! `StoreMerchant` behind the six routes over loopback, on a SQLite file: each verified event
//! is in the store (read through a second connection) by the time its signed acknowledgement
//! arrives, a re-delivery is stored once, authNotify is sealed (never acknowledged without a
//! sealing key), and a dispute is recognised as a duplicate, or a conflict, by a new server
//! process's worth of state (a new `Store` on the same file) after a restart.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use alipayplus_axum_example::stored::CASHIER_PAY;
use alipayplus_axum_example::{StoreMerchant, inbound_routes};
use alipayplus_client::client::{ClientConfig, Host, InboundClientId};
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_operations::dispute::DisputeKind;
use alipayplus_sign::{PublicKeys, message};
use alipayplus_sim::keys;
use alipayplus_store::{Next, Options, SealingKey, Source, Store};
use serde_json::{Value, json};

const OURS: &str = "SANDBOX_AXUM_STORE";
const KEY: [u8; 32] = [0x5a; 32];

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

/// A fresh SQLite file under the target's temp dir.
fn db(name: &str) -> (PathBuf, String) {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("axum-store-{name}-{}.sqlite", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let url = format!("sqlite:{}", path.display());
    (path, url)
}

fn open(url: &str, key: bool) -> Store {
    let options = Options::default();
    let options = if key {
        options.with_sealing_key(SealingKey::from_bytes(KEY))
    } else {
        options
    };
    Store::open(url, options).unwrap()
}

/// A server on its own runtime and thread; dropping it shuts the server down and drops the
/// router (and with it the merchant's `Store`), as a process exit would.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(merchant: StoreMerchant) -> Self {
        let app = inbound_routes(config(), Arc::new(merchant), InboundClientId::Refuse);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn parse(raw: &[u8]) -> Answer {
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

/// Alipay+'s signed call of `api`.
fn signed(addr: SocketAddr, api: &str, body: &Value) -> Answer {
    let path = format!("/{api}");
    let bytes = body.to_string().into_bytes();
    let time = "2025-06-03T10:00:00+08:00";
    let key = keys::sim_private_key().unwrap();
    let signature = message::sign_request(&key, 1, "POST", &path, OURS, time, &bytes).unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nClient-Id: {OURS}\r\nRequest-Time: {time}\r\n\
         Signature: {}\r\n\r\n",
        bytes.len(),
        signature.as_str()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&bytes).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse(&raw)
}

/// The answer's body, after checking it is our signed HTTP 200 over `/api`.
fn acknowledged(api: &str, answer: &Answer) -> Value {
    let (status, headers, body) = answer;
    assert_eq!(*status, 200, "{api}: {}", String::from_utf8_lossy(body));
    let keys = PublicKeys::single(1, keys::acqp_public_key().unwrap());
    message::verify_response(
        &keys,
        "POST",
        &format!("/{api}"),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
        body,
    )
    .expect("the answer is signed by us");
    serde_json::from_slice(body).unwrap()
}

fn payment(id: &str) -> Value {
    json!({"paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentRequestId": id, "paymentId": "P-1",
        "paymentAmount": {"currency": "USD", "value": "1000"}})
}

#[test]
fn every_event_is_in_the_store_when_its_acknowledgement_arrives() {
    let (path, url) = db("events");
    let store = Arc::new(open(&url, true));
    let now = SystemClock.now();
    store
        .create(CASHIER_PAY, "PAY-ST-1", &"paying", Next::At(now), now)
        .unwrap();
    let server =
        Server::start(StoreMerchant::new(Arc::clone(&store)).with_payment_kinds(&[CASHIER_PAY]));
    // A second connection on the file: what it reads was committed, not held in memory.
    let reader = open(&url, true);

    let ack = acknowledged(
        "notifyPayment",
        &signed(server.addr, "notifyPayment", &payment("PAY-ST-1")),
    );
    assert_eq!(ack["result"]["resultStatus"], "S");
    let entries = reader.unconsumed(CASHIER_PAY, "PAY-ST-1").unwrap();
    assert_eq!(entries.len(), 1, "stored for the follow-up's worker");
    let stored: Value = serde_json::from_slice(&entries[0].body).unwrap();
    assert_eq!(stored["paymentRequestId"], "PAY-ST-1");
    assert_eq!(stored["paymentResult"]["resultStatus"], "S");
    // A re-delivery: acknowledged again, stored once.
    acknowledged(
        "notifyPayment",
        &signed(server.addr, "notifyPayment", &payment("PAY-ST-1")),
    );
    assert_eq!(reader.unconsumed(CASHIER_PAY, "PAY-ST-1").unwrap().len(), 1);
    // For no follow-up of the store: kept (listed as stray), never dropped.
    acknowledged(
        "notifyPayment",
        &signed(server.addr, "notifyPayment", &payment("PAY-ST-9")),
    );
    let stray = reader.stray_inbox(10).unwrap();
    assert_eq!(stray.len(), 1);
    assert_eq!(
        (stray[0].source, stray[0].key.as_str()),
        (Source::NotifyPayment, "PAY-ST-9")
    );

    // authNotify: sealed, keyed by a digest, never by the token.
    let token = json!({"authorizationNotifyType": "TOKEN_CREATED", "authClientId": "M1",
        "accessToken": "AT-AXUM-SEALED", "accessTokenExpiryTime": "2025-07-01T12:00:00+08:00",
        "authState": "BIND-1"});
    acknowledged("authNotify", &signed(server.addr, "authNotify", &token));
    acknowledged("authNotify", &signed(server.addr, "authNotify", &token));
    let auth: Vec<_> = reader
        .stray_inbox(10)
        .unwrap()
        .into_iter()
        .filter(|e| e.source == Source::AuthNotify)
        .collect();
    assert_eq!(auth.len(), 1, "a re-delivered authNotify is stored once");
    assert!(!auth[0].key.contains("AT-AXUM-SEALED"));
    let event: Value = serde_json::from_slice(&auth[0].body).unwrap();
    assert_eq!(event["authorizationNotifyType"], "TOKEN_CREATED");
    assert_eq!(event["authState"], "BIND-1");
    assert_eq!(event["tokens"]["access_token"], "AT-AXUM-SEALED");

    // notifyRegistrationStatus: in the inbox too.
    let registration = json!({"referenceMerchantId": "M1",
        "registrationResult": {"registrationStatus": "PENDING"}});
    acknowledged(
        "notifyRegistrationStatus",
        &signed(server.addr, "notifyRegistrationStatus", &registration),
    );
    assert!(
        reader
            .stray_inbox(10)
            .unwrap()
            .iter()
            .any(|e| e.source == Source::NotifyRegistrationStatus
                && String::from_utf8_lossy(&e.body).contains("M1"))
    );

    drop(server);
    drop((store, reader));
    let mut raw = std::fs::read(&path).unwrap();
    raw.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
    assert!(
        !raw.windows(14).any(|w| w == b"AT-AXUM-SEALED"),
        "the token is sealed in the file"
    );
}

#[test]
fn without_a_sealing_key_auth_notify_is_not_acknowledged_and_unbinding_follows_the_policy() {
    let (_, url) = db("nokey");
    let server = Server::start(
        StoreMerchant::new(Arc::new(open(&url, false))).with_unbinding(|c| {
            match c.access_token.as_ref().map(|t| t.expose()) {
                Some("AT-OWING") => Err("outstanding fares".into()),
                _ => Ok(()),
            }
        }),
    );
    let token = json!({"authorizationNotifyType": "TOKEN_CANCELED", "authClientId": "M1",
        "accessToken": "AT-NOKEY"});
    let (status, headers, _) = signed(server.addr, "authNotify", &token);
    assert_eq!(
        status, 503,
        "not stored, so not acknowledged: Alipay+ sends it again"
    );
    assert!(headers.iter().all(|(n, _)| n != "signature"));
    let reader = open(&url, true);
    assert!(reader.stray_inbox(10).unwrap().is_empty());
    // What holds no secret is stored and acknowledged as usual.
    acknowledged(
        "notifyPayment",
        &signed(server.addr, "notifyPayment", &payment("PAY-NK-1")),
    );
    assert!(
        reader
            .inbound(Source::NotifyPayment, "PAY-NK-1")
            .unwrap()
            .is_some()
    );
    // consultUnbinding stores nothing (a question): the policy answers it.
    let ask = |token: &str| {
        let body = json!({"accessToken": token, "authClientId": "M1"});
        acknowledged(
            "consultUnbinding",
            &signed(server.addr, "consultUnbinding", &body),
        )
    };
    assert_eq!(ask("AT-FREE")["result"]["resultStatus"], "S");
    let refused = ask("AT-OWING");
    assert_eq!(refused["result"]["resultCode"], "PROCESS_FAIL");
    assert_eq!(refused["result"]["resultMessage"], "outstanding fares");
}

#[test]
fn a_duplicate_dispute_is_recognised_across_a_restart() {
    let (_, url) = db("disputes");
    let retrieval = |payment: &str| {
        json!({"disputeRequestId": "D-AX-1", "paymentRequestId": payment,
            "disputeOccurTime": "2025-06-03T10:00:00+08:00"})
    };
    let server = Server::start(StoreMerchant::new(Arc::new(open(&url, false))));
    let ack = acknowledged(
        "initiateRetrieval",
        &signed(server.addr, "initiateRetrieval", &retrieval("PAY-D-1")),
    );
    assert_eq!(ack["result"]["resultStatus"], "S");
    let first = open(&url, false)
        .dispute(DisputeKind::Retrieval, "D-AX-1")
        .unwrap()
        .expect("acknowledged, so stored");
    assert_eq!(first.dispute.payment_request_id, "PAY-D-1");
    assert_eq!(first.body["disputeOccurTime"], "2025-06-03T10:00:00+08:00");
    // The server stops (its Store with it) and a new one opens the same file.
    drop(server);
    let server = Server::start(StoreMerchant::new(Arc::new(open(&url, false))));
    let again = acknowledged(
        "initiateRetrieval",
        &signed(server.addr, "initiateRetrieval", &retrieval("PAY-D-1")),
    );
    assert_eq!(
        again["result"]["resultStatus"], "S",
        "a duplicate is acknowledged again"
    );
    let conflict = acknowledged(
        "initiateRetrieval",
        &signed(server.addr, "initiateRetrieval", &retrieval("PAY-D-2")),
    );
    assert_eq!(conflict["result"]["resultStatus"], "F");
    assert_eq!(conflict["result"]["resultCode"], "REPEAT_REQ_INCONSISTENT");
    let reader = open(&url, false);
    let stored = reader.unanswered_disputes(10).unwrap();
    assert_eq!(stored.len(), 1, "stored once");
    assert_eq!(stored[0], first, "the first stays the reference");
}
