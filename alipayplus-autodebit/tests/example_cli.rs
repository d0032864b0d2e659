//! The `autodebit` example over real HTTP on loopback: every call against the fake Alipay+
//! served over TCP, the exit rules, and `listen` answering signed authNotify, consultUnbinding
//! and notifyPayment. The example binary is built by `cargo test` (examples are compiled
//! before tests run).

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir
        .join("examples")
        .join(format!("autodebit{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run through `cargo test -p alipayplus-autodebit`, which builds the examples",
        bin.display()
    );
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in ["src", "examples/autodebit"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let modified = entry
                .unwrap()
                .metadata()
                .and_then(|m| m.modified())
                .unwrap();
            assert!(
                modified <= built,
                "the example binary is older than its sources: run `cargo test -p alipayplus-autodebit`"
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

fn run(base: &str, args: &[&str]) -> Output {
    command(base).args(args).output().unwrap()
}

fn json_out(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_call_against_a_loopback_alipay() {
    // The example signs and checks with the system clock.
    let clock = TestClock::at_system_now();
    let fake = FakeAlipay::new(&clock);
    let base = serve_fake(&fake);
    let out = run(&base, &["--auth-client-id", AUTH_CLIENT_ID, "prepare"]);
    assert_eq!(out.status.code(), Some(64), "the subcommand comes first");
    let out = run(
        &base,
        &[
            "prepare",
            "--auth-client-id",
            AUTH_CLIENT_ID,
            "--auth-redirect-url",
            REDIRECT,
            "--wallet",
            "GCASH",
        ],
    );
    let body = json_out(&out);
    assert_eq!(body["authUrl"], "https://wallet.example/authorize?ticket=1");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let state = stderr
        .split("authState: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_string();
    assert_eq!(state.len(), 32, "a fresh 128-bit random state");
    assert_eq!(fake.calls("/prepare")[0].body["authState"], state.as_str());

    // The redirect back, checked offline; then the code exchanged.
    let (url, code) = fake.consent();
    let out = run(&base, &["redirect", "--url", &url, "--state", &state]);
    assert_eq!(json_out(&out), json!({"authCode": code}));
    let wrong = run(
        &base,
        &["redirect", "--url", &url, "--state", "0123456789abcdef0123"],
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("authState does not match"));

    let tokens = json_out(&run(
        &base,
        &[
            "apply-token",
            "--auth-client-id",
            AUTH_CLIENT_ID,
            "--auth-code",
            &code,
            "--wallet",
            "GCASH",
        ],
    ));
    assert_eq!(tokens["result"]["resultStatus"], "S");
    let again = json_out(&run(
        &base,
        &[
            "apply-token",
            "--auth-client-id",
            AUTH_CLIENT_ID,
            "--auth-code",
            &code,
        ],
    ));
    assert_eq!(
        again["result"]["resultCode"], "USED_CODE",
        "exit 0 whatever the status"
    );

    let refreshed = json_out(&run(
        &base,
        &[
            "refresh-token",
            "--auth-client-id",
            AUTH_CLIENT_ID,
            "--refresh-token",
            tokens["refreshToken"].as_str().unwrap(),
        ],
    ));
    let access = refreshed["accessToken"].as_str().unwrap().to_string();
    assert_ne!(access, tokens["accessToken"].as_str().unwrap());

    let paid = json_out(&run(
        &base,
        &[
            "pay",
            "--access-token",
            &access,
            "--currency",
            "USD",
            "--value",
            "1000",
            "--request-id",
            "EX-1",
        ],
    ));
    assert_eq!(paid["result"]["resultStatus"], "S");
    let sent = &fake.calls("/pay")[0].body;
    assert_eq!(sent["paymentMethod"]["paymentMethodId"], access.as_str());
    assert_eq!(
        sent["paymentAmount"],
        json!({"currency": "USD", "value": "1000"})
    );

    fake.script(PayScript::Pending(0));
    let followed = json_out(&run(
        &base,
        &[
            "pay",
            "--access-token",
            &access,
            "--currency",
            "USD",
            "--value",
            "500",
            "--request-id",
            "EX-2",
            "--follow",
            "yes",
        ],
    ));
    assert_eq!(followed["finalState"], "SUCCEEDED");
    assert_eq!(followed["inquiries"], 1);

    let cancelled = json_out(&run(
        &base,
        &[
            "cancel-token",
            "--auth-client-id",
            AUTH_CLIENT_ID,
            "--access-token",
            &access,
        ],
    ));
    assert_eq!(cancelled["result"]["resultStatus"], "S");
    let after = json_out(&run(
        &base,
        &[
            "pay",
            "--access-token",
            &access,
            "--currency",
            "USD",
            "--value",
            "100",
            "--request-id",
            "EX-3",
            "--follow",
            "yes",
        ],
    ));
    assert_eq!(
        after,
        json!({"paymentRequestId": "EX-3", "finalState": "FAILED",
        "resultCode": "INVALID_ACCESS_TOKEN", "paymentId": null, "payAttempts": 1, "inquiries": 0})
    );
}

#[test]
fn exit_codes_follow_the_cashier_example() {
    // Nothing listens there: no verified response.
    let out = run(
        "http://127.0.0.1:9",
        &[
            "cancel-token",
            "--auth-client-id",
            "M",
            "--access-token",
            "T",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    // Refused before sending (token longer than 128 characters).
    let long = "T".repeat(200);
    let out = run(
        "http://127.0.0.1:9",
        &[
            "cancel-token",
            "--auth-client-id",
            "M",
            "--access-token",
            &long,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Usage and configuration.
    assert_eq!(
        run("http://127.0.0.1:9", &["pay", "--access-token", "T"])
            .status
            .code(),
        Some(64)
    );
    assert_eq!(run("http://127.0.0.1:9", &["bind"]).status.code(), Some(64));
    let out = command("ftp://x")
        .args([
            "refresh-token",
            "--auth-client-id",
            "M",
            "--refresh-token",
            "R",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

/// Kills the listener when dropped.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn listen_answers_auth_notify_consult_unbinding_and_notify_payment() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Child(
        command("http://127.0.0.1:9")
            .env_remove("ALIPAYPLUS_BASE_URL")
            .args(["listen", "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the listener did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();

    let token = json!({"authorizationNotifyType": "TOKEN_CREATED", "authClientId": AUTH_CLIENT_ID,
        "accessToken": "AT-1", "accessTokenExpiryTime": "2025-07-01T12:00:00+08:00"});
    let a = post_http(
        &base,
        &inbound("/alipayplus/authNotify", &token, &alipay_key()),
    );
    assert_eq!(
        verify_answer("/alipayplus/authNotify", &a)["result"]["resultStatus"],
        "S"
    );
    let raw = lines.next().unwrap().unwrap();
    let line: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(line["authorizationNotifyType"], "TOKEN_CREATED");
    // Credentials are never printed in clear.
    assert_eq!(line["accessToken"], "***");
    assert!(!raw.contains("AT-1"), "{raw}");

    // authNotify recognised by its body at any path.
    let cancel = json!({"authorizationNotifyType": "TOKEN_CANCELED", "authClientId": AUTH_CLIENT_ID, "accessToken": "AT-1"});
    let a = post_http(&base, &inbound("/notify", &cancel, &alipay_key()));
    assert_eq!(verify_answer("/notify", &a)["result"]["resultStatus"], "S");
    let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["authorizationNotifyType"], "TOKEN_CANCELED");

    let ask = json!({"accessToken": "AT-1", "authClientId": AUTH_CLIENT_ID});
    let a = post_http(&base, &inbound("/x/consultUnbinding", &ask, &alipay_key()));
    assert_eq!(
        verify_answer("/x/consultUnbinding", &a)["result"]["resultStatus"],
        "S"
    );
    let raw = lines.next().unwrap().unwrap();
    let line: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(line["accessToken"], "***");
    assert!(!raw.contains("AT-1"), "{raw}");

    let paid = json!({"paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentRequestId": "EX-1", "paymentId": "P-EX-1",
        "paymentAmount": {"currency": "USD", "value": "1000"}, "paymentTime": "2025-06-01T08:00:00+08:00"});
    let a = post_http(&base, &inbound("/notifyPayment", &paid, &alipay_key()));
    assert_eq!(
        verify_answer("/notifyPayment", &a)["result"]["resultStatus"],
        "S"
    );
    let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["paymentRequestId"], "EX-1");

    // Forged: an unsigned refusal (no private-key work for an unverified caller), no line.
    let a = post_http(
        &base,
        &inbound("/alipayplus/authNotify", &token, &other_key()),
    );
    assert!(a.headers.get("Signature").is_none());
    let refused: Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(refused["result"]["resultCode"], "INVALID_SIGNATURE");
    let a = post_http(
        &base,
        &inbound("/alipayplus/authNotify", &cancel, &alipay_key()),
    );
    verify_answer("/alipayplus/authNotify", &a);
    let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        line["authorizationNotifyType"], "TOKEN_CANCELED",
        "the forged one printed nothing"
    );
    // Issue 19: correctly signed for another Client-Id: refused by default (signed
    // INVALID_CLIENT, the caller verified), nothing printed.
    let mut foreign = inbound("/alipayplus/authNotify", &cancel, &alipay_key());
    let time = foreign.headers.get("Request-Time").unwrap().to_string();
    let signature = alipayplus_sign::message::sign_request(
        &alipay_key(),
        1,
        "POST",
        "/alipayplus/authNotify",
        "SOMEONE-ELSE",
        &time,
        &foreign.body,
    )
    .unwrap();
    foreign.headers.insert("Client-Id", "SOMEONE-ELSE");
    foreign.headers.insert("Signature", signature.as_str());
    let a = post_http(&base, &foreign);
    assert_eq!(a.headers.get("Client-Id"), Some("SOMEONE-ELSE"));
    let refused = verify_answer("/alipayplus/authNotify", &a);
    assert_eq!(refused["result"]["resultCode"], "INVALID_CLIENT");
    let a = post_http(&base, &inbound("/x/consultUnbinding", &ask, &alipay_key()));
    verify_answer("/x/consultUnbinding", &a);
    let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        line["authClientId"], AUTH_CLIENT_ID,
        "the foreign one printed nothing"
    );
    assert!(line.get("authorizationNotifyType").is_none());
}

/// `listen --store sqlite:PATH`: authNotify stored sealed (the token never in the file in
/// clear), notifyPayment stored, each before its acknowledgement; without the sealing key the
/// listener refuses to start.
#[test]
fn listen_with_a_store_keeps_auth_notify_sealed_and_notify_payment() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("autodebit-listen-{}.sqlite", std::process::id()));
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let url = format!("sqlite:{}", path.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let no_key = command("http://127.0.0.1:9")
        .env_remove("ALIPAYPLUS_STORE_KEY")
        .args(["listen", "--port", &port.to_string(), "--store", &url])
        .output()
        .unwrap();
    assert!(!no_key.status.success(), "no sealing key: no listener");
    let hex = "5a".repeat(32);
    let _child = Child(
        command("http://127.0.0.1:9")
            .env("ALIPAYPLUS_STORE_KEY", &hex)
            .args(["listen", "--port", &port.to_string(), "--store", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the listener did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let token = json!({"authorizationNotifyType": "TOKEN_CREATED", "authClientId": AUTH_CLIENT_ID,
        "accessToken": "AT-SEALED-1", "accessTokenExpiryTime": "2025-07-01T12:00:00+08:00"});
    let a = post_http(
        &base,
        &inbound("/alipayplus/authNotify", &token, &alipay_key()),
    );
    verify_answer("/alipayplus/authNotify", &a);
    let paid = json!({"paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentRequestId": "EX-ST-1", "paymentId": "P-EX-1",
        "paymentAmount": {"currency": "USD", "value": "1000"}, "paymentTime": "2025-06-01T08:00:00+08:00"});
    let a = post_http(&base, &inbound("/notifyPayment", &paid, &alipay_key()));
    verify_answer("/notifyPayment", &a);
    let key = alipayplus_store::SealingKey::from_bytes([0x5a; 32]);
    let store = alipayplus_store::Store::open(
        &url,
        alipayplus_store::Options::default().with_sealing_key(key),
    )
    .unwrap();
    let entries = store.stray_inbox(10).unwrap();
    assert_eq!(entries.len(), 2, "both acknowledged, both stored");
    let auth = entries
        .iter()
        .find(|e| e.source == alipayplus_store::Source::AuthNotify)
        .unwrap();
    assert!(String::from_utf8_lossy(&auth.body).contains("AT-SEALED-1"));
    assert!(!auth.key.contains("AT-SEALED-1"), "keyed by a digest");
    drop(store);
    let mut raw = std::fs::read(&path).unwrap();
    raw.extend(std::fs::read(format!("{}-wal", path.display())).unwrap_or_default());
    assert!(
        !raw.windows(11).any(|w| w == b"AT-SEALED-1"),
        "the token is sealed in the file"
    );
}

/// `listen --store`, started and waited for, with this sealing key (hex); stderr piped.
fn listen_on_store(url: &str, hex: &str) -> (String, Child, std::process::ChildStderr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = command("http://127.0.0.1:9")
        .env("ALIPAYPLUS_STORE_KEY", hex)
        .args(["listen", "--port", &port.to_string(), "--store", url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let child = Child(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the listener did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (format!("http://127.0.0.1:{port}"), child, stderr)
}

/// `listen --store`: without a usable sealing key the listener does not start (exit 64, the
/// key never echoed); with one, an authNotify re-delivered after the listener was killed and
/// restarted on the same file is recognised: acknowledged again, signed, stored once.
#[test]
fn listen_with_a_store_needs_its_key_and_recognises_a_re_delivery_after_a_restart() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("autodebit-restart-{}.sqlite", std::process::id()));
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let url = format!("sqlite:{}", path.display());
    let bad = "not-a-key-but-a-secret-0123456789";
    for key in [None, Some(bad), Some("ab")] {
        let mut cmd = command("http://127.0.0.1:9");
        match key {
            Some(k) => cmd.env("ALIPAYPLUS_STORE_KEY", k),
            None => cmd.env_remove("ALIPAYPLUS_STORE_KEY"),
        };
        let out = cmd
            .args(["listen", "--port", "9", "--store", &url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{key:?}: {stderr}");
        assert!(stderr.contains("ALIPAYPLUS_STORE_KEY"), "{stderr}");
        assert!(!stderr.contains(bad), "the key is never printed: {stderr}");
    }

    let hex = "5a".repeat(32);
    let token = json!({"authorizationNotifyType": "TOKEN_CREATED", "authClientId": AUTH_CLIENT_ID,
        "accessToken": "AT-RESTART-1", "accessTokenExpiryTime": "2025-07-01T12:00:00+08:00"});
    let call = inbound("/alipayplus/authNotify", &token, &alipay_key());
    let (base, child, _stderr) = listen_on_store(&url, &hex);
    let first = post_http(&base, &call);
    verify_answer("/alipayplus/authNotify", &first);
    drop(child); // SIGKILL

    let (base, _child, stderr) = listen_on_store(&url, &hex);
    let again = post_http(&base, &call);
    verify_answer("/alipayplus/authNotify", &again);
    assert_eq!(again.body, first.body, "answered the same");
    let mut lines = BufReader::new(stderr).lines();
    let said = (0..3)
        .filter_map(|_| lines.next()?.ok())
        .any(|l| l.contains("re-delivery of authNotify"));
    assert!(said, "a stderr line for the re-delivery");
    let key = alipayplus_store::SealingKey::from_bytes([0x5a; 32]);
    let store = alipayplus_store::Store::open(
        &url,
        alipayplus_store::Options::default().with_sealing_key(key),
    )
    .unwrap();
    let stored = store.stray_inbox(10).unwrap();
    assert_eq!(stored.len(), 1, "stored once: {stored:?}");
    assert_eq!(stored[0].source, alipayplus_store::Source::AuthNotify);
}
