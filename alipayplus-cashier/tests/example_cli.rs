//! The `cashier` example over real HTTP on loopback: calls against a tiny signing Alipay+
//! stand-in, and `listen` answering signed notifications. The example binary is built by
//! `cargo test` (examples are compiled before tests run).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use alipayplus_cashier::{Request, Transport};
use alipayplus_sign::{PublicKeys, message};
use alipayplus_ureq::UreqTransport;
use common::*;

fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir
        .join("examples")
        .join(format!("cashier{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run through `cargo test -p alipayplus-cashier`, which builds the examples",
        bin.display()
    );
    // `cargo test --test example_cli` alone does not rebuild examples: refuse a stale one.
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in ["src", "examples/cashier"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let modified = entry
                .unwrap()
                .metadata()
                .and_then(|m| m.modified())
                .unwrap();
            assert!(
                modified <= built,
                "the example binary is older than its sources: run `cargo test -p alipayplus-cashier`"
            );
        }
    }
    bin
}

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn command(base: &str) -> Command {
    let mut c = Command::new(example());
    c.env("ALIPAYPLUS_BASE_URL", base)
        .env("ALIPAYPLUS_CLIENT_ID", CLIENT_ID)
        .env("ALIPAYPLUS_PRIVATE_KEY", data("acqp_private_pkcs8.pem"))
        .env("ALIPAYPLUS_PUBLIC_KEY", data("alipay_public_spki.pem"));
    c
}

/// Serves each request with `answer(path, body)` as a signed (or not) Alipay+ response.
fn alipay_stub(mode: Mode, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some((path, request_body)) = read_http(&mut stream) else {
                continue;
            };
            // The example's request must be signed with our key.
            assert!(!request_body.is_empty());
            // The example checks freshness against the system clock.
            let now = alipayplus_cashier::Clock::now(&alipayplus_cashier::SystemClock);
            let time = now.format(alipayplus_cashier::TimeFormat::Utc);
            let response = answer_at(mode, &path, body, &time);
            let mut out = format!("HTTP/1.1 {} X\r\n", response.status);
            for (n, v) in response.headers.iter() {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                response.body.len()
            ));
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.write_all(&response.body);
        }
    });
    base
}

fn read_http(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split(' ').nth(1)?.to_string();
    let mut len = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':')
            && n.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((path, body))
}

const PAY_U: &str = r#"{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U","resultMessage":"in process"},"paymentId":"P1","normalUrl":"https://wallet.test/c"}"#;
const F: &str = r#"{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"F","resultMessage":"Order does not exist."}}"#;

#[test]
fn calls_print_the_verified_body_and_exit_zero_whatever_the_status() {
    let base = alipay_stub(Mode::Signed, PAY_U);
    let out = command(&base)
        .args([
            "pay",
            "--currency",
            "USD",
            "--value",
            "1000",
            "--request-id",
            "ID-1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), PAY_U);

    let base = alipay_stub(Mode::Signed, F);
    for args in [
        vec!["inquire", "--request-id", "ID-1"],
        vec!["cancel", "--request-id", "ID-1"],
        vec![
            "refund",
            "--request-id",
            "ID-1",
            "--refund-request-id",
            "R-1",
            "--currency",
            "USD",
            "--value",
            "500",
        ],
    ] {
        let out = command(&base).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), F, "{args:?}");
    }
}

#[test]
fn no_verified_response_prints_why_and_exits_non_zero() {
    for mode in [
        Mode::Unsigned,
        Mode::WrongKey,
        Mode::Tampered,
        Mode::BadGateway,
    ] {
        let base = alipay_stub(mode, F);
        let out = command(&base)
            .args(["inquire", "--request-id", "ID-1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{mode:?}");
        assert!(out.stdout.is_empty(), "{mode:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no verified response"), "{mode:?}: {err}");
    }
    // Nobody listening: a transport failure.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = command(&format!("http://127.0.0.1:{port}"))
        .args(["cancel", "--request-id", "ID-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Bad usage.
    let out = command("http://127.0.0.1:1")
        .args(["pay", "--currency", "USD"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn listen_prints_verified_notifications_and_answers_signed_acks() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = command("https://unused.example")
        .args(["listen", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _guard = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "listener did not start");
        thread::sleep(Duration::from_millis(50));
    }
    let body = r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"ID-1","paymentId":"P1","paymentAmount":{"currency":"USD","value":"1000"}}"#;
    let notify = |key: &alipayplus_sign::PrivateKey| {
        let time = "2025-02-20T08:53:00Z";
        let sig = message::sign_request(
            key,
            1,
            "POST",
            "/hooks/alipay",
            CLIENT_ID,
            time,
            body.as_bytes(),
        )
        .unwrap();
        let mut r = Request::post(
            format!("http://127.0.0.1:{port}/hooks/alipay"),
            body.as_bytes().to_vec(),
        );
        r.headers.insert("Content-Type", "application/json");
        r.headers.insert("Signature", sig.as_str());
        r.headers.insert("Client-Id", CLIENT_ID);
        r.headers.insert("Request-Time", time);
        UreqTransport::new().send(r).unwrap()
    };
    let ack = notify(&alipay_key());
    assert_eq!(ack.status, 200);
    assert_eq!(
        ack.body,
        br#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}"#
    );
    assert_eq!(ack.headers.get("Client-Id"), Some(CLIENT_ID));
    assert!(ack.headers.get("Response-Time").is_some());
    let keys = PublicKeys::single(1, acqp_public());
    message::verify_response(
        &keys,
        "POST",
        "/hooks/alipay",
        ack.headers.iter().map(|(n, v)| (n, v.as_bytes())),
        &ack.body,
    )
    .expect("the ack is signed with our key");
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["paymentRequestId"], "ID-1");
    assert_eq!(v["paymentResult"]["resultStatus"], "S");

    // A forged notification: refused with the documented answer and a line on stderr.
    let refused = notify(&other_key());
    assert_eq!(refused.status, 200);
    assert!(String::from_utf8_lossy(&refused.body).contains("INVALID_SIGNATURE"));
    let mut err_lines = BufReader::new(stderr).lines();
    let mut saw = false;
    for _ in 0..3 {
        let l = err_lines.next().unwrap().unwrap();
        if l.contains("refused") {
            saw = true;
            break;
        }
    }
    assert!(saw, "a stderr line for the refused notification");
    // Still serving.
    assert_eq!(notify(&alipay_key()).status, 200);
    let line = lines.next().unwrap().unwrap();
    assert!(line.contains("ID-1"));
    // Issue 19: correctly signed for another Client-Id: refused by default (INVALID_CLIENT,
    // signed: the caller verified), nothing printed, a stderr line naming the switch.
    let time = "2025-02-20T08:53:00Z";
    let sig = message::sign_request(
        &alipay_key(),
        1,
        "POST",
        "/hooks/alipay",
        "SOMEONE-ELSE",
        time,
        body.as_bytes(),
    )
    .unwrap();
    let mut r = Request::post(
        format!("http://127.0.0.1:{port}/hooks/alipay"),
        body.as_bytes().to_vec(),
    );
    r.headers.insert("Signature", sig.as_str());
    r.headers.insert("Client-Id", "SOMEONE-ELSE");
    r.headers.insert("Request-Time", time);
    let refused = UreqTransport::new().send(r).unwrap();
    assert!(String::from_utf8_lossy(&refused.body).contains("INVALID_CLIENT"));
    assert!(refused.headers.get("Signature").is_some());
    let mut saw = false;
    for _ in 0..3 {
        let l = err_lines.next().unwrap().unwrap();
        if l.contains("ALIPAYPLUS_FOREIGN_CLIENT_ID=report") {
            saw = true;
            break;
        }
    }
    assert!(saw, "a stderr line for the foreign Client-Id");
    assert_eq!(notify(&alipay_key()).status, 200);
    let line = lines.next().unwrap().unwrap();
    assert!(line.contains("ID-1"), "the foreign one printed nothing");
}

/// The listener holds against a client trickling one byte every half second (each read would
/// meet a per-read timeout): the whole request must arrive within its deadline (10 s).
#[test]
fn listen_cuts_a_trickling_client_at_the_request_deadline() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = command("https://unused.example")
        .args(["listen", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "listener did not start");
        thread::sleep(Duration::from_millis(50));
    }
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let head = b"POST /n HTTP/1.1\r\nContent-Length: 1000\r\n\r\n";
    for byte in head.iter().chain([b'x'; 1000].iter()) {
        if s.write_all(&[*byte]).is_err() || started.elapsed() > Duration::from_secs(16) {
            break;
        }
        thread::sleep(Duration::from_millis(500));
        // The listener answers 408 and closes at its deadline.
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        let closed = s.read(&mut buf).is_ok();
        s.set_nonblocking(false).unwrap();
        if closed {
            break;
        }
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(14),
        "the connection was held for {took:?}"
    );
}

/// `listen --store sqlite:PATH`: every acknowledged notification is in the store, a
/// re-delivery is stored once.
#[test]
fn listen_with_a_store_keeps_each_notification_it_acknowledges() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("cashier-listen-{}.sqlite", std::process::id()));
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let url = format!("sqlite:{}", path.display());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = command("https://unused.example")
        .args(["listen", "--port", &port.to_string(), "--store", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "listener did not start");
        thread::sleep(Duration::from_millis(50));
    }
    let body = r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"ID-STORED","paymentId":"P1","paymentAmount":{"currency":"USD","value":"1000"}}"#;
    let notify = || {
        let time = "2025-02-20T08:53:00Z";
        let sig = message::sign_request(
            &alipay_key(),
            1,
            "POST",
            "/hooks/alipay",
            CLIENT_ID,
            time,
            body.as_bytes(),
        )
        .unwrap();
        let mut r = Request::post(
            format!("http://127.0.0.1:{port}/hooks/alipay"),
            body.as_bytes().to_vec(),
        );
        r.headers.insert("Content-Type", "application/json");
        r.headers.insert("Signature", sig.as_str());
        r.headers.insert("Client-Id", CLIENT_ID);
        r.headers.insert("Request-Time", time);
        UreqTransport::new().send(r).unwrap()
    };
    assert_eq!(notify().status, 200);
    assert_eq!(notify().status, 200, "a re-delivery is acknowledged again");
    let store = alipayplus_store::Store::open(&url, alipayplus_store::Options::default()).unwrap();
    let entry = store
        .inbound(alipayplus_store::Source::NotifyPayment, "ID-STORED")
        .unwrap()
        .expect("acknowledged, so stored");
    assert_eq!(
        entry.body,
        body.as_bytes(),
        "the verified bytes as received"
    );
    assert_eq!(
        store.stray_inbox(10).unwrap().len(),
        1,
        "stored once (no follow-up of it in this store: kept, listed)"
    );
}

/// A notification signed by Alipay+'s key for `client_id`, posted to the listener on `port`.
fn notify_as(port: u16, client_id: &str, body: &str) -> alipayplus_cashier::Response {
    let time = "2025-02-20T08:53:00Z";
    let sig = message::sign_request(
        &alipay_key(),
        1,
        "POST",
        "/hooks/alipay",
        client_id,
        time,
        body.as_bytes(),
    )
    .unwrap();
    let mut r = Request::post(
        format!("http://127.0.0.1:{port}/hooks/alipay"),
        body.as_bytes().to_vec(),
    );
    r.headers.insert("Content-Type", "application/json");
    r.headers.insert("Signature", sig.as_str());
    r.headers.insert("Client-Id", client_id);
    r.headers.insert("Request-Time", time);
    UreqTransport::new().send(r).unwrap()
}

/// `listen --store` on a file, started and waited for; stderr piped.
fn listen_on_store(url: &str, foreign: &str) -> (u16, Killed, std::process::ChildStderr) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = command("https://unused.example")
        .env("ALIPAYPLUS_FOREIGN_CLIENT_ID", foreign)
        .args(["listen", "--port", &port.to_string(), "--store", url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let guard = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "listener did not start");
        thread::sleep(Duration::from_millis(50));
    }
    (port, guard, stderr)
}

/// `listen --store`: a notification for a stored `cashier.pay` follow-up goes to that
/// follow-up's inbox; after the listener is killed and restarted on the same file, its
/// re-delivery is recognised (acknowledged again, signed, stored once); one signed for another
/// Client-Id (accepted under `report`) feeds no follow-up.
#[test]
fn listen_with_a_store_recognises_a_re_delivery_after_a_restart() {
    use alipayplus_store::{Kind, Next, Options, Source, Store};
    const CASHIER_PAY: Kind = Kind::new("cashier.pay");
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cashier-restart-{}.sqlite", std::process::id()));
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let url = format!("sqlite:{}", path.display());
    let store = Store::open(&url, Options::default()).unwrap();
    let now = alipayplus_cashier::Clock::now(&alipayplus_cashier::SystemClock);
    store
        .create(CASHIER_PAY, "ID-RESTART", &"paying", Next::At(now), now)
        .unwrap();
    let body = r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"ID-RESTART","paymentId":"P1","paymentAmount":{"currency":"USD","value":"1000"}}"#;

    let (port, guard, _stderr) = listen_on_store(&url, "report");
    let first = notify_as(port, CLIENT_ID, body);
    assert_eq!(first.status, 200);
    let entries = store.unconsumed(CASHIER_PAY, "ID-RESTART").unwrap();
    assert_eq!(
        entries.len(),
        1,
        "stored for the follow-up when acknowledged"
    );
    drop(guard); // SIGKILL

    let (port, _guard, stderr) = listen_on_store(&url, "report");
    let again = notify_as(port, CLIENT_ID, body);
    assert_eq!(again.status, 200);
    assert_eq!(again.body, first.body, "answered the same");
    let keys = PublicKeys::single(1, acqp_public());
    message::verify_response(
        &keys,
        "POST",
        "/hooks/alipay",
        again.headers.iter().map(|(n, v)| (n, v.as_bytes())),
        &again.body,
    )
    .expect("the second acknowledgement is signed too");
    let mut lines = BufReader::new(stderr).lines();
    let said = (0..3)
        .filter_map(|_| lines.next()?.ok())
        .any(|l| l.contains("re-delivery"));
    assert!(said, "a stderr line for the re-delivery");
    assert_eq!(
        store.unconsumed(CASHIER_PAY, "ID-RESTART").unwrap(),
        entries,
        "stored once"
    );

    // Another Client-Id's notification (accepted under `report`): stored, linked to nothing.
    let other = body.replace("ID-RESTART", "ID-FOREIGN");
    assert_eq!(notify_as(port, "SOMEONE-ELSE", &other).status, 200);
    let entry = store
        .inbound(Source::NotifyPayment, "ID-FOREIGN")
        .unwrap()
        .expect("acknowledged, so stored");
    assert_eq!(entry.follow_up, None);
}
