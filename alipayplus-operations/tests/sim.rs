//! Registration, disputes and customs end to end over loopback HTTP: the SDK (ureq transport)
//! against the Alipay+ simulator, with an acquirer endpoint (this crate's inbound handlers)
//! receiving notifyRegistrationStatus, initiateRetrieval and initiateEscalation from it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::inquiry::{PaymentRef, inquiry_request};
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_client::transport::{Headers, Request, Response};
use alipayplus_operations::customs::{
    DeclarationLedger, checked_declare, declarable_amount, declarable_amount_notified,
    inquire_declarations_request,
};
use alipayplus_operations::dispute::{
    Decision, DisputeKind, MemoryDisputeStore, checked_response_escalation,
    checked_response_retrieval, handle_initiate_escalation, handle_initiate_retrieval,
};
use alipayplus_operations::registration::{
    Final, RegistrationEvent, RegistrationFollowUp, RegistrationPolicy, Step, checked_registration,
    handle_notify_registration_status,
};
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{OpenDispute, OperationsConfig, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, DeclarationRequestStatus, DeclareRequest, Env, Merchant, OrderStatus,
    PayRequest, PaymentFactor, PaymentMethod, ProductCode, RefundType, RegistrationRequest,
    ResponseEscalationRequest, ResponseRetrievalRequest, StrBool, TerminalType, TransactionReceipt,
};
use alipayplus_ureq::UreqTransport;
use serde_json::json;

#[derive(Default)]
struct Endpoint {
    payments: Vec<alipayplus_types::NotifyPaymentRequest>,
    registrations: Vec<RegistrationEvent>,
    disputes: MemoryDisputeStore,
    decisions: Vec<(DisputeKind, Decision)>,
}

type Shared = Arc<Mutex<Endpoint>>;

fn config(sim: &Simulator) -> ClientConfig {
    ClientConfig::new(
        sim.client_id(),
        Host::custom(sim.base_url()).unwrap(),
        keys::acqp_private_key().unwrap(),
        PublicKeys::single(1, keys::sim_public_key().unwrap()),
        SystemClock,
    )
    .unwrap()
}

fn answer(config: &ClientConfig, request: &Request, state: &Shared) -> Response {
    let path = request.path();
    let mut state = state.lock().unwrap();
    if path.ends_with("/notifyRegistrationStatus") {
        return match handle_notify_registration_status(config, request) {
            Ok(n) => {
                state.registrations.push(n.body.event);
                n.answer
            }
            Err(r) => r.answer,
        };
    }
    if path.ends_with("/notifyPayment") {
        return match alipayplus_client::notify::handle_notify_payment(config, request) {
            Ok(n) => {
                state.payments.push(n.body);
                n.answer
            }
            Err(r) => r.answer,
        };
    }
    let delivery = if path.ends_with("/initiateRetrieval") {
        handle_initiate_retrieval(config, request)
    } else {
        handle_initiate_escalation(config, request)
    };
    match delivery {
        Ok(d) => {
            let received = state.disputes.receive(config, &d);
            state
                .decisions
                .push((d.body.dispute.kind, received.decision));
            received.answer
        }
        Err(r) => r.answer,
    }
}

/// The acquirer's endpoint on a loopback port; returns its base URL.
fn start_endpoint(config: ClientConfig, state: Shared) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some(request) = read_http(&mut stream) else {
                continue;
            };
            let response = answer(&config, &request, &state);
            let mut head = format!("HTTP/1.1 {} OK\r\n", response.status);
            for (n, v) in response.headers.iter() {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                response.body.len()
            ));
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&response.body);
        }
    });
    base
}

fn read_http(stream: &mut TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(len)) = parsed.parse(&buf) {
            let mut h = Headers::new();
            for header in parsed.headers.iter() {
                h.append(
                    header.name,
                    String::from_utf8_lossy(header.value).into_owned(),
                );
            }
            let length: usize = h
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = buf[len..].to_vec();
            while body.len() < length {
                let n = stream.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            return Some(Request {
                method: parsed.method?.to_string(),
                uri: parsed.path?.to_string(),
                headers: h,
                body,
            });
        }
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn setup() -> (Simulator, Client<UreqTransport>, Shared, String) {
    let sim = Simulator::start_bundled().unwrap();
    let state = Shared::default();
    let endpoint = start_endpoint(config(&sim), state.clone());
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(format!("{endpoint}/acqp")),
    });
    let client = Client::new(config(&sim), UreqTransport::new());
    (sim, client, state, endpoint)
}

fn registration(id: &str, notify: &str) -> RegistrationRequest {
    let mut r: RegistrationRequest = serde_json::from_value(json!({
        "registrationRequestId": id,
        "productCodes": ["CASHIER_PAYMENT"],
        "merchantInfo": {
            "referenceMerchantId": "M-SIM-1",
            "merchantDisplayName": "Sim Shop",
            "merchantMCC": "5817",
            "websites": [{"url": "https://shop.example.com", "websiteType": "WEB"}],
            "registrationDetail": {"legalName": "Sim Shop Ltd", "registrationType": "ENTERPRISE_REGISTRATION_NO", "registrationNo": "2025-1"}
        }
    }))
    .unwrap();
    r.registration_notify_url = Some(format!("{notify}/acqp/notifyRegistrationStatus"));
    r
}

#[test]
fn registration_pending_then_each_wallet_notifies_and_the_update_rule_holds() {
    let (sim, client, state, endpoint) = setup();
    let request = registration("REG-SIM-1", &endpoint);
    let mut follow =
        RegistrationFollowUp::new(&request, SystemClock.now(), RegistrationPolicy::default())
            .unwrap();
    assert_eq!(follow.next_step(SystemClock.now()), Step::Register);
    follow.poll(SystemClock.now());
    let outcome = client.call(follow.request()).unwrap();
    assert!(outcome.is_success());
    follow.on_registration(SystemClock.now().into(), &outcome);
    assert!(follow.is_accepted());
    // Idempotent: the same id again gets the same answer.
    assert!(client.call(follow.request()).unwrap().is_success());

    let pending = client.call(&follow.inquiry_request()).unwrap();
    let body = pending.body().unwrap();
    assert_eq!(
        body.registration_result
            .as_ref()
            .unwrap()
            .registration_status
            .as_ref()
            .unwrap()
            .as_str(),
        "PENDING"
    );
    assert_eq!(body.psp_registration_result_list.as_ref().unwrap().len(), 2);

    // An update too soon: refused by the SDK before sending, and by the simulator if sent.
    let mut update = registration("REG-SIM-2", &endpoint);
    update.product_codes = vec![ProductCode::CashierPayment, ProductCode::AgreementPayment];
    assert!(follow.update_request(&update, SystemClock.now()).is_err());
    let refused = client
        .call(&checked_registration(&update).unwrap())
        .unwrap();
    assert_eq!(refused.code(), Some("REGISTRATION_UPDATE_TOO_FREQUENT"));

    // ALIPAY_CN approves, SIMWALLET rejects: two notifications, merged.
    sim.review_registration("REG-SIM-1", Some("ALIPAY_CN"), true)
        .unwrap();
    wait_for("the first notification", || {
        state.lock().unwrap().registrations.len() == 1
    });
    sim.review_registration("REG-SIM-1", Some("SIMWALLET"), false)
        .unwrap();
    wait_for("the second notification", || {
        state.lock().unwrap().registrations.len() == 2
    });
    for event in state.lock().unwrap().registrations.clone() {
        follow.on_notification(SystemClock.now(), &event);
    }
    assert_eq!(follow.final_state(), Some(&Final::Completed));
    assert!(follow.is_approved_by("ALIPAY_CN", &ProductCode::CashierPayment));
    assert!(!follow.is_approved_by("SIMWALLET", &ProductCode::CashierPayment));
    assert_eq!(follow.psp_statuses().len(), 2);
    assert!(sim.wait_notifications_idle(Duration::from_secs(5)));
    assert!(sim.notifications().iter().all(|n| n.acknowledged));
    // Processed: the update may go now, and the simulator takes it.
    let checked = follow.update_request(&update, SystemClock.now()).unwrap();
    assert!(client.call(&checked).unwrap().is_success());
}

fn paid(sim: &Simulator, client: &Client<UreqTransport>, id: &str, amount: Amount, wallet: &str) {
    paid_notified(sim, client, id, amount, wallet, None);
}

fn paid_notified(
    sim: &Simulator,
    client: &Client<UreqTransport>,
    id: &str,
    amount: Amount,
    wallet: &str,
    notify: Option<String>,
) {
    let order = alipayplus_types::Order {
        env: Some(Env::new(TerminalType::Web)),
        ..alipayplus_types::Order::new(
            format!("ORDER-{id}"),
            "goods".into(),
            amount,
            Merchant::new("M-SIM-1".into()),
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
    pay.payment_notify_url = notify;
    let outcome = client.call(&pay).unwrap();
    assert!(outcome.is_unknown(), "{:?}", outcome.code());
    sim.approve(id).unwrap();
}

#[test]
fn a_paid_payment_gets_a_retrieval_and_an_escalation_answered() {
    let (sim, client, state, _endpoint) = setup();
    let amount = Amount::new(Currency::SGD, 2000);
    paid(&sim, &client, "PAY-DSP-1", amount, "SIMWALLET");

    let retrieval = sim
        .open_dispute(&OpenDispute {
            kind: "retrieval".into(),
            payment_request_id: "PAY-DSP-1".into(),
            escalation_amount: None,
            dispute_request_id: None,
        })
        .unwrap();
    wait_for("initiateRetrieval", || {
        !state.lock().unwrap().decisions.is_empty()
    });
    let stored = state
        .lock()
        .unwrap()
        .disputes
        .get(DisputeKind::Retrieval, &retrieval.dispute_request_id)
        .cloned()
        .unwrap();
    assert_eq!(stored.payment_request_id, "PAY-DSP-1");
    // A conflict probe: the same id for another payment gets REPEAT_REQ_INCONSISTENT.
    paid(&sim, &client, "PAY-DSP-2", amount, "SIMWALLET");
    sim.open_dispute(&OpenDispute {
        kind: "retrieval".into(),
        payment_request_id: "PAY-DSP-2".into(),
        escalation_amount: None,
        dispute_request_id: Some(retrieval.dispute_request_id.clone()),
    })
    .unwrap();
    wait_for("the conflicting delivery", || {
        state
            .lock()
            .unwrap()
            .decisions
            .iter()
            .any(|(_, d)| matches!(d, Decision::Conflict { .. }))
    });
    wait_for("the simulator to see the signed F answer", || {
        sim.deliveries().iter().any(|d| {
            matches!(&d.outcome, alipayplus_sim::DeliveryOutcome::Refused { code } if code == "REPEAT_REQ_INCONSISTENT")
        })
    });

    let mut answer =
        ResponseRetrievalRequest::new(stored.dispute_request_id.clone(), OrderStatus::Success);
    answer.transaction_receipt = Some(TransactionReceipt {
        reference_order_id: Some("ORDER-PAY-DSP-1".into()),
        order_amount: Some(amount),
        ..TransactionReceipt::new()
    });
    let answer = checked_response_retrieval(&answer, &stored).unwrap();
    assert!(client.call(&answer).unwrap().is_success());
    assert!(client.call(&answer).unwrap().is_success(), "idempotent");

    let escalation = sim
        .open_dispute(&OpenDispute {
            kind: "escalation".into(),
            payment_request_id: "PAY-DSP-1".into(),
            escalation_amount: Some(Amount::new(Currency::SGD, 1500)),
            dispute_request_id: None,
        })
        .unwrap();
    wait_for("initiateEscalation", || {
        state
            .lock()
            .unwrap()
            .disputes
            .get(DisputeKind::Escalation, &escalation.dispute_request_id)
            .is_some()
    });
    let stored = state
        .lock()
        .unwrap()
        .disputes
        .get(DisputeKind::Escalation, &escalation.dispute_request_id)
        .cloned()
        .unwrap();
    let mut partial = ResponseEscalationRequest::new(
        stored.dispute_request_id.clone(),
        RefundType::AcceptPartialRefund,
    );
    partial.refund_amount = Some(Amount::new(Currency::SGD, 1600));
    assert!(
        checked_response_escalation(&partial, &stored, Currency::SGD).is_err(),
        "above 1500: refused before sending"
    );
    partial.refund_amount = Some(Amount::new(Currency::SGD, 700));
    let checked = checked_response_escalation(&partial, &stored, Currency::SGD).unwrap();
    assert!(client.call(&checked).unwrap().is_success());
    // The same id with another decision: the simulator says REPEAT_REQ_INCONSISTENT.
    let full =
        ResponseEscalationRequest::new(stored.dispute_request_id.clone(), RefundType::AcceptRefund);
    let changed = checked_response_escalation(&full, &stored, Currency::SGD).unwrap();
    assert_eq!(
        client.call(&changed).unwrap().code(),
        Some("REPEAT_REQ_INCONSISTENT")
    );
    let views = sim.operations().disputes;
    assert!(views.iter().all(|d| d.response.is_some()));
}

fn declaration(id: &str, payment: &str, order: &str, value: u64) -> DeclareRequest {
    serde_json::from_value(json!({
        "paymentRequestId": payment,
        "customsDeclarationRequestId": id,
        "customs": {"customsCode": "HANGZHOU", "region": "CN"},
        "merchantCustomsInfo": {"merchantCustomsCode": "MCC330100001", "merchantCustomsName": "Sim Cross-border Ltd"},
        "declarationAmount": {"currency": "CNY", "value": value.to_string()},
        "isSplit": "true",
        "referenceOrderId": order
    }))
    .unwrap()
}

#[test]
fn a_cny_payment_is_declared_in_two_parts_updated_and_inquired() {
    let (sim, client, state, endpoint) = setup();
    paid_notified(
        &sim,
        &client,
        "PAY-CN-1",
        Amount::new(Currency::CNY, 10_000),
        "ALIPAY_CN",
        Some(format!("{endpoint}/acqp/notifyPayment")),
    );
    wait_for("notifyPayment", || {
        !state.lock().unwrap().payments.is_empty()
    });
    let notified = state.lock().unwrap().payments[0].clone();
    assert_eq!(
        declarable_amount_notified(&notified).unwrap(),
        Amount::new(Currency::CNY, 10_000)
    );
    let inquiry = client
        .call(&inquiry_request(&PaymentRef::RequestId("PAY-CN-1".into())))
        .unwrap();
    let limit = declarable_amount(inquiry.body().unwrap()).unwrap();
    assert_eq!(limit, Amount::new(Currency::CNY, 10_000));
    let mut ledger = DeclarationLedger::new("PAY-CN-1", limit).unwrap();
    for (id, order, value) in [("DCL-1", "ORD-1", 6000), ("DCL-2", "ORD-2", 4000)] {
        let request = declaration(id, "PAY-CN-1", order, value);
        let sent_at = SystemClock.now();
        ledger.record_send(&request, sent_at).unwrap();
        let outcome = client.call(&checked_declare(&request).unwrap()).unwrap();
        assert!(outcome.is_success(), "{:?}", outcome.code());
        ledger.on_declare_outcome(&request, sent_at, SystemClock.now(), &outcome);
    }
    assert_eq!(ledger.remaining().minor(), 0);
    // One more fen: the SDK refuses; sent anyway, the simulator refuses too.
    let extra = declaration("DCL-3", "PAY-CN-1", "ORD-3", 1);
    assert!(ledger.check(&extra).is_err());
    assert_eq!(
        client.call(&extra).unwrap().code(),
        Some("TOTAL_DECLARATION_AMOUNT_EXCEED")
    );
    // An update replaces: DCL-1 lowered to 5000, then DCL-3 fits 1000.
    let lower = declaration("DCL-1", "PAY-CN-1", "ORD-1", 5000);
    let sent_at = SystemClock.now();
    ledger.record_send(&lower, sent_at).unwrap();
    let outcome = client.call(&lower).unwrap();
    ledger.on_declare_outcome(&lower, sent_at, SystemClock.now(), &outcome);
    let third = declaration("DCL-3", "PAY-CN-1", "ORD-3", 1000);
    assert_eq!(ledger.check(&third).unwrap().minor(), 10_000);
    assert!(client.call(&third).unwrap().is_success());
    // Another payment with a known id; a non-AlipayCN payment.
    let reused = declaration("DCL-1", "PAY-CN-OTHER", "ORD-1", 1);
    assert_eq!(
        client.call(&reused).unwrap().code(),
        Some("REPEAT_REQ_INCONSISTENT")
    );
    let unknown = declaration("DCL-7", "PAY-CN-OTHER", "ORD-7", 1);
    assert_eq!(
        client.call(&unknown).unwrap().code(),
        Some("ORDER_NOT_EXIST")
    );
    paid(
        &sim,
        &client,
        "PAY-SG-1",
        Amount::new(Currency::SGD, 100),
        "SIMWALLET",
    );
    let sg = declaration("DCL-9", "PAY-SG-1", "ORD-9", 1);
    assert_eq!(
        client.call(&sg).unwrap().code(),
        Some("ORDER_STATUS_INVALID")
    );

    let ask = inquire_declarations_request(&["DCL-1", "DCL-2", "DCL-404"]).unwrap();
    let first = client.call(&ask).unwrap();
    let body = first.body().unwrap();
    assert_eq!(
        body.declaration_requests_not_found.as_deref(),
        Some(&["DCL-404".to_string()][..])
    );
    let records = body.declaration_records.as_ref().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].declaration_amount,
        Some(Amount::new(Currency::CNY, 5000))
    );
    sim.advance_clock(Duration::from_secs(2));
    let later = client.call(&ask).unwrap();
    let status = later.body().unwrap().declaration_records.as_ref().unwrap()[0]
        .declaration_request_status
        .clone();
    assert_eq!(status, Some(DeclarationRequestStatus::CustomsAcceptSuccess));
}
