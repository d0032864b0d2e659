//! The `ops` example over real HTTP on loopback against the simulator: every subcommand, the
//! exit rules, and `listen` answering signed notifyRegistrationStatus, initiateRetrieval and
//! initiateEscalation. The example binary is built by `cargo test` (examples are compiled
//! before tests run).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::time::SystemClock;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{OpenDispute, OperationsConfig, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, Env, Merchant, Order, PayRequest, PaymentFactor, PaymentMethod, StrBool,
    TerminalType,
};
use alipayplus_ureq::UreqTransport;
use serde_json::{Value, json};

fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir
        .join("examples")
        .join(format!("ops{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run through `cargo test -p alipayplus-operations`, which builds the examples",
        bin.display()
    );
    bin
}

fn key(name: &str) -> String {
    keys::key_dir().join(name).display().to_string()
}

fn command(base: &str) -> Command {
    let mut c = Command::new(example());
    c.env("ALIPAYPLUS_BASE_URL", base)
        .env("ALIPAYPLUS_CLIENT_ID", "SANDBOX_SIM_ACQP_0001")
        .env("ALIPAYPLUS_PRIVATE_KEY", key("acqp_private_pkcs8.pem"))
        .env("ALIPAYPLUS_PUBLIC_KEY", key("sim_public_spki.pem"))
        .env_remove("ALIPAYPLUS_KEY_VERSION");
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn file(dir: &std::path::Path, name: &str, body: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body.to_string()).unwrap();
    path.display().to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("alipayplus-ops-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ops listen` in the background, its stdout lines on a channel.
struct Listening {
    child: Child,
    lines: mpsc::Receiver<String>,
    errors: mpsc::Receiver<String>,
    port: u16,
}

impl Listening {
    fn start(base: &str) -> Self {
        Self::start_with(base, None)
    }

    /// With `ALIPAYPLUS_FOREIGN_CLIENT_ID` set to `foreign` (unset: `None`).
    fn start_with(base: &str, foreign: Option<&str>) -> Self {
        Self::start_on(base, foreign, free_port(), &[])
    }

    /// On `port`, with more `listen` options.
    fn start_on(base: &str, foreign: Option<&str>, port: u16, extra: &[&str]) -> Self {
        let mut cmd = command(base);
        match foreign {
            Some(v) => cmd.env("ALIPAYPLUS_FOREIGN_CLIENT_ID", v),
            None => cmd.env_remove("ALIPAYPLUS_FOREIGN_CLIENT_ID"),
        };
        let mut child = cmd
            .args(["listen", "--port", &port.to_string()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (etx, errors) = mpsc::channel();
        let err = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                let _ = etx.send(line);
            }
        });
        let listening = Listening {
            child,
            lines,
            errors,
            port,
        };
        let first = listening.error_line();
        assert!(first.contains("listening"), "{first}");
        listening
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn line(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(10))
            .expect("an event line");
        serde_json::from_str(&line).unwrap()
    }

    fn error_line(&self) -> String {
        self.errors
            .recv_timeout(Duration::from_secs(10))
            .expect("a line on stderr")
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn registration(listen: &str) -> Value {
    json!({
        "registrationRequestId": "REG-CLI-1",
        "productCodes": ["AGREEMENT_PAYMENT"],
        "merchantInfo": {
            "referenceMerchantId": "M-CLI-1",
            "merchantDisplayName": "Example Shop",
            "merchantMCC": "5817",
            "websites": [{"name": "Example Shop", "url": "https://shop.example.com", "websiteType": "WEB"}],
            "registrationDetail": {"legalName": "Example Trading Pte. Ltd.", "registrationType": "ENTERPRISE_REGISTRATION_NO", "registrationNo": "202412345K"}
        },
        "registrationNotifyUrl": format!("{listen}/alipayplus/notifyRegistrationStatus")
    })
}

fn client(sim: &Simulator) -> Client<UreqTransport> {
    let config = ClientConfig::new(
        sim.client_id(),
        Host::custom(sim.base_url()).unwrap(),
        keys::acqp_private_key().unwrap(),
        PublicKeys::single(1, keys::sim_public_key().unwrap()),
        SystemClock,
    )
    .unwrap();
    Client::new(config, UreqTransport::new())
}

fn paid(sim: &Simulator, id: &str, amount: Amount, wallet: &str) {
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("ORDER-{id}"),
            "goods".into(),
            amount,
            Merchant::new("M-CLI-1".into()),
        )
    };
    let factor = PaymentFactor {
        is_cashier_payment: Some(StrBool(true)),
        ..PaymentFactor::default()
    };
    let mut pay = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new(wallet.into()),
        factor,
    );
    pay.payment_redirect_url = Some("https://shop.example.com/return".into());
    client(sim).call(&pay).unwrap();
    sim.approve(id).unwrap();
}

#[test]
fn usage_and_configuration_errors_exit_64() {
    let base = "http://127.0.0.1:9";
    for args in [
        &[][..],
        &["frobnicate"][..],
        &["register"][..],
        &["register", "--request", "a", "--request", "b"][..],
        &["register", "--file", "a"][..],
        &["registration-status", "--registration-request-id"][..],
        &["listen", "--port", "x"][..],
        &["--request", "a", "register"][..],
    ] {
        let out = run(base, args);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("usage:"));
    }
    let out = command(base)
        .env_remove("ALIPAYPLUS_CLIENT_ID")
        .args(["registration-status", "--registration-request-id", "R"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr(&out).contains("ALIPAYPLUS_CLIENT_ID is not set"));
    let out = command(base)
        .env("ALIPAYPLUS_KEY_VERSION", "one")
        .args(["registration-status", "--registration-request-id", "R"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(stderr(&out).contains("ALIPAYPLUS_KEY_VERSION"));
}

#[test]
fn no_verified_response_exits_1() {
    let port = free_port();
    let out = run(
        &format!("http://127.0.0.1:{port}"),
        &["registration-status", "--registration-request-id", "R"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no verified response"));
    // Signed by an unknown key: not verified either.
    let sim = Simulator::start_bundled().unwrap();
    let out = command(sim.base_url())
        .env("ALIPAYPLUS_PUBLIC_KEY", key("acqp_public_spki.pem"))
        .args(["registration-status", "--registration-request-id", "R"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn register_status_and_the_notification_through_listen() {
    let sim = Simulator::start_bundled().unwrap();
    let base = sim.base_url().to_string();
    let listening = Listening::start(&base);
    let dir = temp_dir("register");
    let request = file(&dir, "registration.json", &registration(&listening.url()));
    let body = json_out(&run(&base, &["register", "--request", &request]));
    assert_eq!(body["result"]["resultStatus"], "S");
    let status = json_out(&run(
        &base,
        &[
            "registration-status",
            "--registration-request-id",
            "REG-CLI-1",
        ],
    ));
    assert_eq!(
        status["registrationResult"]["registrationStatus"],
        "PENDING"
    );
    // F is printed and exits 0 too.
    let unknown = json_out(&run(
        &base,
        &[
            "registration-status",
            "--registration-request-id",
            "REG-NONE",
        ],
    ));
    assert_eq!(unknown["result"]["resultStatus"], "F");

    sim.review_registration("REG-CLI-1", Some("ALIPAY_CN"), true)
        .unwrap();
    let line = listening.line();
    assert_eq!(line["api"], "notifyRegistrationStatus");
    assert_eq!(line["event"]["key"]["reference_merchant_id"], "M-CLI-1");
    assert_eq!(line["clientIdIsOurs"], true);
    assert!(sim.wait_notifications_idle(Duration::from_secs(5)));
    assert!(
        sim.notifications().iter().all(|n| n.acknowledged),
        "the signed answer was accepted"
    );

    // Invalid request files: exit 2 before anything is sent.
    let calls = sim.calls().len();
    let mut bad = registration(&listening.url());
    bad["productCodes"] = json!(["AGREEMENT_PAYMENT", "AGREEMENT_PAYMENT"]);
    bad["merchantInfo"]["merchantDisplayName"] = Value::Null;
    let out = run(
        &base,
        &["register", "--request", &file(&dir, "bad.json", &bad)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("productCodes[1]: listed twice"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("merchantDisplayName"),
        "{}",
        stderr(&out)
    );
    let out = run(
        &base,
        &[
            "register",
            "--request",
            &file(&dir, "text.json", &json!("not a body")),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a registration request body"),
        "{}",
        stderr(&out)
    );
    let out = run(&base, &["register", "--request", "/nonexistent/file.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"));
    assert_eq!(sim.calls().len(), calls, "nothing was sent");
}

#[test]
fn disputes_through_listen_and_the_responses() {
    let sim = Simulator::start_bundled().unwrap();
    let base = sim.base_url().to_string();
    let listening = Listening::start(&base);
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(format!("{}/acqp", listening.url())),
    });
    paid(
        &sim,
        "PAY-CLI-1",
        Amount::new(Currency::SGD, 1000),
        "SIMWALLET",
    );
    paid(
        &sim,
        "PAY-CLI-2",
        Amount::new(Currency::SGD, 1000),
        "SIMWALLET",
    );
    let retrieval = sim
        .open_dispute(&OpenDispute {
            kind: "retrieval".into(),
            payment_request_id: "PAY-CLI-1".into(),
            escalation_amount: None,
            dispute_request_id: None,
        })
        .unwrap();
    let line = listening.line();
    assert_eq!(line["api"], "initiateRetrieval");
    assert_eq!(
        line["event"]["disputeRequestId"],
        retrieval.dispute_request_id.as_str()
    );
    // The same id for another payment: refused on stderr, answered REPEAT_REQ_INCONSISTENT.
    sim.open_dispute(&OpenDispute {
        kind: "retrieval".into(),
        payment_request_id: "PAY-CLI-2".into(),
        escalation_amount: None,
        dispute_request_id: Some(retrieval.dispute_request_id.clone()),
    })
    .unwrap();
    let refused = listening.error_line();
    assert!(refused.contains("REPEAT_REQ_INCONSISTENT"), "{refused}");

    let escalation = sim
        .open_dispute(&OpenDispute {
            kind: "escalation".into(),
            payment_request_id: "PAY-CLI-1".into(),
            escalation_amount: Some(Amount::new(Currency::SGD, 800)),
            dispute_request_id: None,
        })
        .unwrap();
    let line = listening.line();
    assert_eq!(line["api"], "initiateEscalation");
    assert_eq!(line["event"]["escalationAmount"]["value"], "800");

    let dir = temp_dir("disputes");
    let answer = json!({
        "disputeRequestId": retrieval.dispute_request_id,
        "responseCode": "SUCCESS",
        "transactionReceipt": {"referenceOrderId": "ORDER-PAY-CLI-1"},
        "otherDocumentation": [{"attachmentType": "PROOF_OF_DELIVERY", "content": "https://shop.example.com/pod.pdf", "contentType": "application/pdf"}]
    });
    let body = json_out(&run(
        &base,
        &[
            "respond-retrieval",
            "--request",
            &file(&dir, "r.json", &answer),
        ],
    ));
    assert_eq!(body["result"]["resultStatus"], "S");
    let refuse_with_amount = json!({
        "disputeRequestId": escalation.dispute_request_id,
        "refundType": "REFUSE_REFUND",
        "refundAmount": {"currency": "SGD", "value": "100"}
    });
    let out = run(
        &base,
        &[
            "respond-escalation",
            "--request",
            &file(&dir, "bad.json", &refuse_with_amount),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refundAmount: not sent when refusing"),
        "{}",
        stderr(&out)
    );
    let partial = json!({
        "disputeRequestId": escalation.dispute_request_id,
        "refundType": "ACCEPT_PARTIAL_REFUND",
        "refundAmount": {"currency": "SGD", "value": "300"},
        "plannedRefundTime": "2025-06-05T10:00:00+08:00"
    });
    let body = json_out(&run(
        &base,
        &[
            "respond-escalation",
            "--request",
            &file(&dir, "e.json", &partial),
        ],
    ));
    assert_eq!(body["result"]["resultStatus"], "S");

    // An unsigned call and an unknown API name.
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", listening.port)).unwrap();
    let body = json!({"disputeRequestId": "X", "paymentRequestId": "Y", "disputeOccurTime": "2025-06-03T10:00:00+08:00"}).to_string();
    write!(stream, "POST /acqp/initiateRetrieval HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("INVALID_SIGNATURE"), "{reply}");
    assert!(
        listening
            .error_line()
            .contains("refused POST /acqp/initiateRetrieval")
    );
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", listening.port)).unwrap();
    write!(
        stream,
        "POST /acqp/somethingElse HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
}

#[test]
fn declare_and_inquire_declarations() {
    let sim = Simulator::start_bundled().unwrap();
    let base = sim.base_url().to_string();
    paid(
        &sim,
        "PAY-CLI-CN",
        Amount::new(Currency::CNY, 10_000),
        "ALIPAY_CN",
    );
    let dir = temp_dir("customs");
    let declare = |id: &str, order: &str, value: &str| {
        json!({
            "paymentRequestId": "PAY-CLI-CN",
            "customsDeclarationRequestId": id,
            "customs": {"customsCode": "HANGZHOU", "region": "CN"},
            "merchantCustomsInfo": {"merchantCustomsCode": "MCC330100001", "merchantCustomsName": "Example Cross-border Ltd"},
            "declarationAmount": {"currency": "CNY", "value": value},
            "isSplit": "true",
            "referenceOrderId": order
        })
    };
    for (id, order, value) in [
        ("DCL-CLI-1", "ORD-1", "6000"),
        ("DCL-CLI-2", "ORD-2", "4000"),
    ] {
        let path = file(&dir, &format!("{id}.json"), &declare(id, order, value));
        let body = json_out(&run(&base, &["declare", "--request", &path]));
        assert_eq!(body["result"]["resultStatus"], "S");
    }
    let over = json_out(&run(
        &base,
        &[
            "declare",
            "--request",
            &file(&dir, "over.json", &declare("DCL-CLI-3", "ORD-3", "1")),
        ],
    ));
    assert_eq!(
        over["result"]["resultCode"],
        "TOTAL_DECLARATION_AMOUNT_EXCEED"
    );
    let mut usd = declare("DCL-CLI-4", "ORD-4", "1");
    usd["declarationAmount"]["currency"] = json!("USD");
    let out = run(
        &base,
        &["declare", "--request", &file(&dir, "usd.json", &usd)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("only CNY"), "{}", stderr(&out));

    let body = json_out(&run(
        &base,
        &[
            "inquire-declarations",
            "--declaration-request-id",
            "DCL-CLI-1",
            "--declaration-request-id",
            "DCL-CLI-2",
            "--declaration-request-id",
            "DCL-NONE",
        ],
    ));
    assert_eq!(body["declarationRecords"].as_array().unwrap().len(), 2);
    assert_eq!(body["declarationRequestsNotFound"], json!(["DCL-NONE"]));
    let mut eleven = vec!["inquire-declarations"];
    let ids: Vec<String> = (0..11).map(|i| format!("D{i}")).collect();
    for id in &ids {
        eleven.push("--declaration-request-id");
        eleven.push(id);
    }
    let out = run(&base, &eleven);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("11 elements, allowed 1 to 10"),
        "{}",
        stderr(&out)
    );
    // ALIPAYPLUS_KEY_VERSION is taken (the simulator knows keyVersion 1 only).
    let out = command(&base)
        .env("ALIPAYPLUS_KEY_VERSION", "1")
        .args([
            "inquire-declarations",
            "--declaration-request-id",
            "DCL-CLI-1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A retrieval correctly signed by Alipay+'s key for another Client-Id, posted raw.
fn foreign_retrieval(port: u16) -> (String, String) {
    let body = json!({"disputeRequestId": "DSP-FOREIGN", "paymentRequestId": "PAY-F",
        "disputeOccurTime": "2025-06-03T10:00:00+08:00"})
    .to_string();
    let path = "/acqp/initiateRetrieval";
    let time = "2025-06-03T10:00:00+08:00";
    let key = keys::sim_private_key().unwrap();
    let signature = alipayplus_sign::message::sign_request(
        &key,
        1,
        "POST",
        path,
        "SOMEONE-ELSE",
        time,
        body.as_bytes(),
    )
    .unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nClient-Id: SOMEONE-ELSE\r\nRequest-Time: {time}\r\nSignature: {}\r\nContent-Length: {}\r\n\r\n{body}",
        signature.as_str(),
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    (reply, body)
}

/// Issue 19: `ops listen` refuses a verified call signed for another Client-Id by default
/// (signed INVALID_CLIENT, a stderr line naming the switch); with
/// `ALIPAYPLUS_FOREIGN_CLIENT_ID=report` it accepts it and its line keeps the flag.
#[test]
fn listen_refuses_a_foreign_client_id_unless_told_to_report_it() {
    let listening = Listening::start("http://127.0.0.1:9");
    let (reply, _) = foreign_retrieval(listening.port);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("INVALID_CLIENT"), "{reply}");
    assert!(
        reply.contains("Signature: "),
        "the caller verified: signed {reply}"
    );
    let line = listening.error_line();
    assert!(
        line.contains("refused POST /acqp/initiateRetrieval"),
        "{line}"
    );
    assert!(
        line.contains("ALIPAYPLUS_FOREIGN_CLIENT_ID=report"),
        "{line}"
    );

    let reporting = Listening::start_with("http://127.0.0.1:9", Some("report"));
    let (reply, _) = foreign_retrieval(reporting.port);
    assert!(reply.contains("\"resultStatus\":\"S\""), "{reply}");
    let line = reporting.line();
    assert_eq!(line["api"], "initiateRetrieval");
    assert_eq!(line["clientIdIsOurs"], false);
    assert!(reporting.error_line().contains("not ours"));

    // Anything else in the variable is a configuration error (exit 64), not a silent default.
    let out = command("http://127.0.0.1:9")
        .env("ALIPAYPLUS_FOREIGN_CLIENT_ID", "maybe")
        .args(["listen", "--port", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(stderr(&out).contains("ALIPAYPLUS_FOREIGN_CLIENT_ID"));
}

/// `listen --store sqlite:PATH`: the dispute decision survives a restart of the listener (the
/// stored dispute is the reference), and what was acknowledged is in the store.
#[test]
fn disputes_through_listen_with_a_store_survive_a_restart() {
    let sim = Simulator::start_bundled().unwrap();
    let base = sim.base_url().to_string();
    let dir = temp_dir("listen-store");
    let path = dir.join("ops.sqlite");
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let url = format!("sqlite:{}", path.display());
    let port = free_port();
    let listening = Listening::start_on(&base, None, port, &["--store", &url]);
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(format!("{}/acqp", listening.url())),
    });
    for id in ["PAY-ST-1", "PAY-ST-2"] {
        paid(&sim, id, Amount::new(Currency::SGD, 1000), "SIMWALLET");
    }
    let retrieval = sim
        .open_dispute(&OpenDispute {
            kind: "retrieval".into(),
            payment_request_id: "PAY-ST-1".into(),
            escalation_amount: None,
            dispute_request_id: None,
        })
        .unwrap();
    assert_eq!(listening.line()["api"], "initiateRetrieval");
    drop(listening);
    // A new listener process on the same file: the same id for another payment is still a
    // conflict (in memory it would have been new).
    let listening = Listening::start_on(&base, None, port, &["--store", &url]);
    sim.open_dispute(&OpenDispute {
        kind: "retrieval".into(),
        payment_request_id: "PAY-ST-2".into(),
        escalation_amount: None,
        dispute_request_id: Some(retrieval.dispute_request_id.clone()),
    })
    .unwrap();
    let refused = listening.error_line();
    assert!(refused.contains("REPEAT_REQ_INCONSISTENT"), "{refused}");
    let store = alipayplus_store::Store::open(&url, alipayplus_store::Options::default()).unwrap();
    let stored = store
        .dispute(
            alipayplus_operations::dispute::DisputeKind::Retrieval,
            &retrieval.dispute_request_id,
        )
        .unwrap()
        .expect("acknowledged, so stored");
    assert_eq!(stored.dispute.payment_request_id, "PAY-ST-1");
}

/// `listen --store sqlite:PATH`: the same dispute delivered again after the listener was
/// killed and restarted on the same file is recognised as a duplicate: acknowledged again
/// (Alipay+ counts it delivered), not printed as new, stored once.
#[test]
fn a_dispute_re_delivered_after_a_restart_is_acknowledged_as_a_duplicate() {
    let sim = Simulator::start_bundled().unwrap();
    let base = sim.base_url().to_string();
    let path = temp_dir("listen-dup").join("ops.sqlite");
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    let url = format!("sqlite:{}", path.display());
    paid(
        &sim,
        "PAY-DUP-1",
        Amount::new(Currency::SGD, 1000),
        "SIMWALLET",
    );
    let listening = Listening::start_on(&base, None, free_port(), &["--store", &url]);
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(format!("{}/acqp", listening.url())),
    });
    let open = |id: Option<String>| {
        sim.open_dispute(&OpenDispute {
            kind: "retrieval".into(),
            payment_request_id: "PAY-DUP-1".into(),
            escalation_amount: None,
            dispute_request_id: id,
        })
        .unwrap()
        .dispute_request_id
    };
    let id = open(None);
    assert_eq!(listening.line()["event"]["disputeRequestId"], id.as_str());
    // Killed once the acknowledgement has reached the simulator.
    assert!(sim.wait_notifications_idle(Duration::from_secs(10)));
    drop(listening); // SIGKILL

    let listening = Listening::start_on(&base, None, free_port(), &["--store", &url]);
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(format!("{}/acqp", listening.url())),
    });
    assert_eq!(open(Some(id.clone())), id);
    let said = listening.error_line();
    assert!(
        said.contains(&id) && said.contains("acknowledged again"),
        "{said}"
    );
    assert!(
        listening
            .lines
            .recv_timeout(Duration::from_millis(300))
            .is_err(),
        "a duplicate is not printed as a new dispute"
    );
    let acknowledged = sim
        .deliveries()
        .into_iter()
        .filter(|d| d.payment_request_id.starts_with("initiateRetrieval"))
        .filter(|d| d.outcome == alipayplus_sim::DeliveryOutcome::Acknowledged)
        .count();
    assert_eq!(acknowledged, 2, "{:?}", sim.deliveries());
    let store = alipayplus_store::Store::open(&url, alipayplus_store::Options::default()).unwrap();
    assert_eq!(
        store.unanswered_disputes(10).unwrap().len(),
        1,
        "stored once"
    );
}
