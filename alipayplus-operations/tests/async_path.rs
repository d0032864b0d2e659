//! The operations over the async path (`Client::call_async`, reqwest transport) against the
//! simulator over loopback: a registration, a responseRetrieval and a declare, each also sent
//! through the blocking path (ureq transport) with the same input and a fixed clock, which
//! must put byte-identical requests (method, URL, headers with Request-Time and Signature,
//! body) on the transport.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::time::{Clock, SystemClock, Timestamp};
use alipayplus_client::transport::{Request, Transport};
use alipayplus_client::transport_async::AsyncTransport;
use alipayplus_operations::customs::checked_declare;
use alipayplus_operations::dispute::check_response_retrieval;
use alipayplus_operations::registration::checked_registration;
use alipayplus_reqwest::ReqwestTransport;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{OpenDispute, OperationsConfig, SimConfig, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, DeclareRequest, Env, Merchant, Order, OrderStatus, PayRequest, PaymentFactor,
    PaymentMethod, ProofOfDelivery, RegistrationRequest, ResponseRetrievalRequest, StrBool,
    TerminalType,
};
use alipayplus_ureq::UreqTransport;
use serde_json::json;

/// What a client handed its transport.
type Seen = Arc<Mutex<Vec<Request>>>;

/// One instant, taken once when the test starts, for every request of both clients (fixed, so
/// both send the same bytes; current, so the simulator's answers are fresh for the client).
fn fixed_config(sim: &Simulator) -> ClientConfig {
    static AT: std::sync::OnceLock<Timestamp> = std::sync::OnceLock::new();
    let at = *AT.get_or_init(|| SystemClock.now());
    ClientConfig::new(
        sim.client_id(),
        Host::custom(sim.base_url()).unwrap(),
        keys::acqp_private_key().unwrap(),
        PublicKeys::single(1, keys::sim_public_key().unwrap()),
        move || at,
    )
    .unwrap()
}

fn blocking_client(sim: &Simulator, seen: Seen) -> Client<impl Transport> {
    let ureq = UreqTransport::new();
    Client::new(fixed_config(sim), move |request: Request| {
        seen.lock().unwrap().push(request.clone());
        ureq.send(request)
    })
}

fn async_client(sim: &Simulator, seen: Seen) -> Client<impl AsyncTransport> {
    let reqwest = ReqwestTransport::new().unwrap();
    Client::new(fixed_config(sim), move |request: Request| {
        seen.lock().unwrap().push(request.clone());
        let reqwest = reqwest.clone();
        async move { AsyncTransport::send(&reqwest, request).await }
    })
}

fn registration() -> RegistrationRequest {
    serde_json::from_value(json!({
        "registrationRequestId": "REG-ASYNC-1",
        "productCodes": ["CASHIER_PAYMENT"],
        "merchantInfo": {
            "referenceMerchantId": "M-ASYNC-1",
            "merchantDisplayName": "Async Shop",
            "merchantMCC": "5817",
            "websites": [{"url": "https://shop.example.com", "websiteType": "WEB"}],
            "registrationDetail": {"legalName": "Async Shop Ltd", "registrationType": "ENTERPRISE_REGISTRATION_NO", "registrationNo": "2026-7"}
        },
        "registrationNotifyUrl": "https://shop.example.com/alipayplus/notifyRegistrationStatus"
    }))
    .unwrap()
}

/// A paid payment (setup, outside the compared clients).
fn paid(sim: &Simulator, id: &str, amount: Amount, wallet: &str) {
    let setup = Client::new(
        ClientConfig::new(
            sim.client_id(),
            Host::custom(sim.base_url()).unwrap(),
            keys::acqp_private_key().unwrap(),
            PublicKeys::single(1, keys::sim_public_key().unwrap()),
            SystemClock,
        )
        .unwrap(),
        UreqTransport::new(),
    );
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("ORDER-{id}"),
            "goods".into(),
            amount,
            Merchant::new("M-ASYNC-1".into()),
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
    assert!(setup.call(&pay).unwrap().is_unknown());
    sim.approve(id).unwrap();
}

fn declaration() -> DeclareRequest {
    serde_json::from_value(json!({
        "paymentRequestId": "PAY-ASYNC-CN",
        "customsDeclarationRequestId": "DCL-ASYNC-1",
        "customs": {"customsCode": "HANGZHOU", "region": "CN"},
        "merchantCustomsInfo": {"merchantCustomsCode": "MCC330100001", "merchantCustomsName": "Async Cross-border Ltd"},
        "declarationAmount": {"currency": "CNY", "value": "6000"},
        "isSplit": "true",
        "referenceOrderId": "ORD-ASYNC-1"
    }))
    .unwrap()
}

#[test]
fn registration_response_retrieval_and_declare_go_async_byte_for_byte_like_blocking() {
    let sim = Simulator::start(
        SimConfig::bundled()
            .unwrap()
            .with_fast_notifications(1, Duration::from_millis(10)),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (seen_blocking, seen_async) = (Seen::default(), Seen::default());
    let blocking = blocking_client(&sim, Arc::clone(&seen_blocking));
    let client = async_client(&sim, Arc::clone(&seen_async));

    // Registration: the same registrationRequestId twice is idempotent at Alipay+.
    let request = checked_registration(&registration()).unwrap();
    let b = blocking.call(&request).unwrap();
    let a = rt.block_on(client.call_async(&request)).unwrap();
    assert!(
        b.is_success() && a.is_success(),
        "{:?} {:?}",
        b.code(),
        a.code()
    );

    // responseRetrieval, answering a retrieval the simulator opened against a paid payment
    // (its initiateRetrieval goes to a closed port: only its id is needed here).
    paid(
        &sim,
        "PAY-ASYNC-1",
        Amount::new(Currency::USD, 1000),
        "SIMWALLET",
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/acqp", closed.local_addr().unwrap());
    drop(closed);
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(dead),
    });
    let retrieval = sim
        .open_dispute(&OpenDispute {
            kind: "retrieval".into(),
            payment_request_id: "PAY-ASYNC-1".into(),
            escalation_amount: None,
            dispute_request_id: None,
        })
        .unwrap();
    let mut answer =
        ResponseRetrievalRequest::new(retrieval.dispute_request_id, OrderStatus::Success);
    answer.proof_of_delivery = Some(ProofOfDelivery {
        delivery_tracking_no: Some("TRACK-ASYNC-1".into()),
        ..ProofOfDelivery::new()
    });
    let answer = check_response_retrieval(&answer).unwrap();
    let b = blocking.call(&answer).unwrap();
    let a = rt.block_on(client.call_async(&answer)).unwrap();
    assert!(
        b.is_success() && a.is_success(),
        "{:?} {:?}",
        b.code(),
        a.code()
    );

    // declare: the same declaration again is an update with the same amount.
    paid(
        &sim,
        "PAY-ASYNC-CN",
        Amount::new(Currency::CNY, 10_000),
        "ALIPAY_CN",
    );
    let declare = checked_declare(&declaration()).unwrap();
    let b = blocking.call(&declare).unwrap();
    let a = rt.block_on(client.call_async(&declare)).unwrap();
    assert!(
        b.is_success() && a.is_success(),
        "{:?} {:?}",
        b.code(),
        a.code()
    );
    // The same declaration at Alipay+ (an update gets a new clearing transaction).
    let declared = |o: &alipayplus_client::client::Outcome<_>| {
        o.body()
            .and_then(|r: &alipayplus_types::DeclareResponse| r.psp_declaration_request_id.clone())
    };
    assert!(declared(&a).is_some());
    assert_eq!(declared(&a), declared(&b));

    let (sb, sa) = (seen_blocking.lock().unwrap(), seen_async.lock().unwrap());
    assert_eq!(sb.len(), 3, "registration, responseRetrieval, declare");
    for request in sb.iter() {
        for header in ["client-id", "request-time", "signature"] {
            assert!(request.headers.get(header).is_some(), "{header}");
        }
    }
    assert_eq!(
        *sb, *sa,
        "byte-identical requests, headers and signatures included"
    );
    let apis: Vec<String> = sim
        .calls()
        .into_iter()
        .filter(|c| c.result_code.as_deref() == Some("SUCCESS"))
        .map(|c| c.api)
        .filter(|api| api != "pay" && api != "inquiryPayment")
        .collect();
    assert_eq!(
        apis,
        [
            "registration",
            "registration",
            "responseRetrieval",
            "responseRetrieval",
            "declare",
            "declare"
        ]
    );
}
