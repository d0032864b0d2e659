//! The same-bytes follow-ups against the simulator over loopback HTTP: a refund and a
//! declaration whose answer is lost (the simulator carries the request out, then answers an
//! unsigned 502) are sent again byte for byte under the same id and end in `S`; a follow-up
//! stored right after its write-ahead `poll` resumes from its bytes alone.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::follow::Limit;
use alipayplus_client::inquiry::PaymentRef;
use alipayplus_client::refund::{RefundFollower, refund_request};
use alipayplus_client::resend::{Action, Final, ResendPolicy};
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_client::transport::{Request, Response, Transport};
use alipayplus_client::transport_async::AsyncTransport;
use alipayplus_operations::customs::{DeclarationLedger, DeclareFollowUp, declarable_amount};
use alipayplus_operations::registration::{
    Action as RegistrationAction, Final as RegistrationFinal, RegistrationApi,
    RegistrationFollowUp, RegistrationPolicy,
};
use alipayplus_reqwest::ReqwestTransport;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{Fault, FaultRule, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, DeclareRequest, Env, Merchant, PayRequest, PaymentFactor, PaymentMethod,
    RegistrationRequest, StrBool, TerminalType,
};
use alipayplus_ureq::UreqTransport;
use serde_json::json;

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

/// The bodies each API was sent, as they left.
type Sent = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A ureq transport that keeps every request body it sends.
fn recording(sent: Sent) -> impl Transport {
    let ureq = UreqTransport::new();
    move |request: Request| -> Result<Response, <UreqTransport as Transport>::Error> {
        sent.lock()
            .unwrap()
            .push((request.path().to_string(), request.body.clone()));
        ureq.send(request)
    }
}

fn bodies_to(sent: &Sent, path_end: &str) -> Vec<Vec<u8>> {
    sent.lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.ends_with(path_end))
        .map(|(_, b)| b.clone())
        .collect()
}

fn paid(sim: &Simulator, client: &Client<impl Transport>, id: &str, amount: Amount, wallet: &str) {
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
    let outcome = client.call(&pay).unwrap();
    assert!(outcome.is_unknown(), "{:?}", outcome.code());
    sim.approve(id).unwrap();
}

fn fast() -> ResendPolicy {
    ResendPolicy::new(Duration::from_millis(20), Duration::from_millis(100))
}

/// The refund is made but its answer is lost: the same bytes go again, and the simulator's
/// idempotent answer (`S`, the same refundId) ends it; one refund exists.
#[test]
fn a_refund_whose_answer_is_lost_is_sent_again_byte_for_byte_until_s() {
    let sim = Simulator::start_bundled().unwrap();
    let sent = Sent::default();
    let client = Client::new(config(&sim), recording(sent.clone()));
    let amount = Amount::new(Currency::SGD, 2000);
    paid(&sim, &client, "PAY-RF-1", amount, "SIMWALLET");
    sim.add_fault(FaultRule::once("refund", Fault::HttpStatus { status: 502 }));

    let request = refund_request(
        &PaymentRef::RequestId("PAY-RF-1".into()),
        "REF-SIM-1",
        Amount::new(Currency::SGD, 500),
    );
    let mut refund = RefundFollower::new(&request, SystemClock.now(), fast()).unwrap();
    let deadline = SystemClock.now() + Duration::from_secs(20);
    let followed = refund
        .run(&client, Limit::until(deadline), std::thread::sleep)
        .unwrap();
    assert_eq!(followed.final_state, Some(Final::Succeeded));
    assert_eq!(followed.attempts, 2);
    assert!(followed.response.and_then(|r| r.refund_id).is_some());

    let bodies = bodies_to(&sent, "/payments/refund");
    assert_eq!(
        bodies.len(),
        2,
        "the lost answer, then the same request again"
    );
    assert_eq!(bodies[0], bodies[1], "identical bytes");
    assert_eq!(bodies[0], refund.body());
    let calls: Vec<_> = sim
        .calls()
        .into_iter()
        .filter(|c| c.api == "refund")
        .collect();
    assert_eq!(calls[0].fault.as_deref(), Some("httpStatus"));
    assert_eq!(calls[1].result_status.as_deref(), Some("S"));
}

/// Stored right after its write-ahead poll, the refund process dies; a new process resumes
/// from the stored bytes alone, sends the same bytes and settles on `S`.
#[test]
fn a_refund_stored_before_its_send_resumes_from_its_bytes_alone() {
    let sim = Simulator::start_bundled().unwrap();
    let sent = Sent::default();
    let client = Client::new(config(&sim), recording(sent.clone()));
    paid(
        &sim,
        &client,
        "PAY-RF-2",
        Amount::new(Currency::SGD, 900),
        "SIMWALLET",
    );
    let request = refund_request(
        &PaymentRef::RequestId("PAY-RF-2".into()),
        "REF-SIM-2",
        Amount::new(Currency::SGD, 900),
    );
    let mut refund = RefundFollower::new(&request, SystemClock.now(), fast()).unwrap();
    let Action::Send(call) = refund.poll(SystemClock.now()) else {
        panic!("the first poll sends");
    };
    let stored = refund.state().to_bytes();
    // The send leaves and is carried out, but the process dies before the answer is read.
    let _lost = client.send::<alipayplus_types::RefundRequest>(call.sign(client.config()).unwrap());
    drop(refund);

    let mut resumed = RefundFollower::from_bytes(&stored).unwrap();
    let followed = resumed
        .run(&client, Limit::calls(5), std::thread::sleep)
        .unwrap();
    assert!(followed.succeeded(), "{:?}", followed.final_state);
    let bodies = bodies_to(&sent, "/payments/refund");
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0], bodies[1]);
    let payment = sim.payment("PAY-RF-2").unwrap();
    assert_eq!(payment.refunded, 900);
    assert_eq!(payment.refunds.len(), 1, "one refund, not two");
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

/// A declaration whose answer is lost (and one answered `U`) is declared again byte for byte
/// under the same customsDeclarationRequestId until `S`; the ledger counts it from the first
/// send and confirms it; a state stored mid-way resumes alone.
#[test]
fn a_declaration_whose_answer_is_lost_is_sent_again_until_s_and_resumes_alone() {
    let sim = Simulator::start_bundled().unwrap();
    let sent = Sent::default();
    let client = Client::new(config(&sim), recording(sent.clone()));
    paid(
        &sim,
        &client,
        "PAY-DC-1",
        Amount::new(Currency::CNY, 10_000),
        "ALIPAY_CN",
    );
    let inquiry = client
        .call(&alipayplus_client::inquiry::inquiry_request(
            &PaymentRef::RequestId("PAY-DC-1".into()),
        ))
        .unwrap();
    let limit = declarable_amount(inquiry.body().unwrap()).unwrap();
    let ledger = DeclarationLedger::new("PAY-DC-1", limit).unwrap();
    sim.add_fault(FaultRule::once(
        "declare",
        Fault::HttpStatus { status: 502 },
    ));
    sim.add_fault(FaultRule::once(
        "declare",
        Fault::UnknownResult { code: None },
    ));

    let request = declaration("DCL-SIM-1", "PAY-DC-1", "ORD-1", 6000);
    let mut follow = DeclareFollowUp::new(ledger, &request, SystemClock.now(), fast()).unwrap();
    let first = follow
        .run(&client, Limit::calls(1), std::thread::sleep)
        .unwrap();
    assert!(first.keep_following(), "one call: the lost answer");
    assert_eq!(
        follow.ledger().total().minor(),
        6000,
        "counted while unknown"
    );
    let stored = first.state.to_bytes();
    drop(follow);

    let mut resumed = DeclareFollowUp::from_bytes(&stored).unwrap();
    let deadline = SystemClock.now() + Duration::from_secs(20);
    let followed = resumed
        .run(&client, Limit::until(deadline), std::thread::sleep)
        .unwrap();
    assert_eq!(followed.final_state, Some(Final::Succeeded));
    assert_eq!(followed.attempts, 3, "lost, U, then S");
    let ledger = resumed.into_ledger();
    assert_eq!(ledger.declarations()[0].confirmed, Some(6000));
    assert!(!ledger.declarations()[0].is_unsettled());

    let bodies = bodies_to(&sent, "/customs/declare");
    assert_eq!(bodies.len(), 3);
    assert!(bodies.iter().all(|b| b == &bodies[0]), "identical bytes");
    let statuses: Vec<_> = sim
        .calls()
        .into_iter()
        .filter(|c| c.api == "declare")
        .map(|c| (c.fault, c.result_status))
        .collect();
    assert_eq!(statuses.len(), 3);
    assert_eq!(statuses[2].1.as_deref(), Some("S"));
}

fn registration(id: &str) -> RegistrationRequest {
    serde_json::from_value(json!({
        "registrationRequestId": id,
        "productCodes": ["CASHIER_PAYMENT"],
        "merchantInfo": {
            "referenceMerchantId": format!("M-{id}"),
            "merchantDisplayName": "Sim Shop",
            "merchantMCC": "5817",
            "websites": [{"url": "https://shop.example.com", "websiteType": "WEB"}],
            "registrationDetail": {"legalName": "Sim Shop Ltd", "registrationType": "ENTERPRISE_REGISTRATION_NO", "registrationNo": "2025-1"}
        }
    }))
    .unwrap()
}

fn quick_registration_policy() -> RegistrationPolicy {
    let mut policy = RegistrationPolicy::default();
    policy.retry_delay = Duration::from_millis(20);
    policy.max_retry_delay = Duration::from_millis(100);
    policy.first_inquiry_after = Duration::from_millis(30);
    policy.inquiry_interval = Duration::from_millis(50);
    policy
}

/// The registration on the machine shape: a lost answer, the same bytes again (`S`:
/// accepted), an inquiry (PENDING), the bound; stored, resumed from its bytes alone after the
/// wallets reviewed, and followed to COMPLETED by the async loop.
#[test]
fn a_registration_whose_answer_is_lost_is_sent_again_and_resumes_alone() {
    let sim = Simulator::start_bundled().unwrap();
    let sent = Sent::default();
    let client = Client::new(config(&sim), recording(sent.clone()));
    sim.add_fault(FaultRule::once(
        "registration",
        Fault::HttpStatus { status: 502 },
    ));
    let request = registration("REG-FU-1");
    let mut follow =
        RegistrationFollowUp::new(&request, SystemClock.now(), quick_registration_policy())
            .unwrap();
    let followed = follow
        .run(&client, Limit::calls(3), std::thread::sleep)
        .unwrap();
    assert!(followed.keep_following(), "{:?}", followed.final_state);
    assert_eq!((followed.attempts, followed.inquiries), (2, 1));
    assert_eq!(
        followed.state.overall(),
        Some(&alipayplus_types::RegistrationStatus::Pending)
    );
    let bodies = bodies_to(&sent, "/merchants/registration");
    assert_eq!(
        bodies.len(),
        2,
        "the lost answer, then the same request again"
    );
    assert_eq!(bodies[0], bodies[1], "identical bytes");
    let stored = followed.state.to_bytes();
    drop(follow);

    sim.review_registration("REG-FU-1", None, true).unwrap();
    let mut resumed = RegistrationFollowUp::from_bytes(&stored).unwrap();
    assert!(resumed.is_sent() && resumed.is_accepted());
    let reqwest = ReqwestTransport::new().unwrap();
    let seen = sent.clone();
    let async_client = Client::new(config(&sim), move |request: Request| {
        seen.lock()
            .unwrap()
            .push((request.path().to_string(), request.body.clone()));
        let reqwest = reqwest.clone();
        async move { AsyncTransport::send(&reqwest, request).await }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let deadline = SystemClock.now() + Duration::from_secs(20);
    let done = runtime
        .block_on(resumed.run_async(&async_client, Limit::until(deadline), tokio::time::sleep))
        .unwrap();
    assert_eq!(done.final_state, Some(RegistrationFinal::Completed));
    assert!(resumed.is_approved_by("ALIPAY_CN", &alipayplus_types::ProductCode::CashierPayment));
    assert_eq!(
        bodies_to(&sent, "/merchants/registration").len(),
        2,
        "accepted: never registered again"
    );
}

/// The write-ahead mark: a follow-up stored right after the poll that returned the
/// registration knows it may have been registered; resumed alone it counts the unanswered
/// send, waits, and sends the same bytes again.
#[test]
fn a_registration_stored_after_poll_knows_it_was_sent() {
    let now = SystemClock.now();
    let mut follow =
        RegistrationFollowUp::new(&registration("REG-FU-2"), now, quick_registration_policy())
            .unwrap();
    let RegistrationAction::Send(first) = follow.poll(now) else {
        panic!("the first poll sends the registration");
    };
    assert_eq!(first.api(), RegistrationApi::Registration);
    let stored = follow.to_bytes();
    drop(follow);
    let mut resumed = RegistrationFollowUp::from_bytes(&stored).unwrap();
    assert!(resumed.is_sent());
    assert_eq!(resumed.attempts(), 1);
    let later = now + Duration::from_secs(1);
    let RegistrationAction::WaitUntil(at) = resumed.poll(later) else {
        panic!("the unanswered send counts as no answer: a back-off first");
    };
    let RegistrationAction::Send(again) = resumed.poll(at) else {
        panic!("then the same registration again");
    };
    assert_eq!(again, first, "the same bytes");
    assert_eq!(resumed.attempts(), 2);
    // A stored follow-up whose request was changed to another merchant does not resume.
    let tampered = String::from_utf8(stored)
        .unwrap()
        .replacen("\"M-REG-FU-2\"", "\"M-OTHER\"", 1);
    assert!(RegistrationFollowUp::from_bytes(tampered.as_bytes()).is_err());
}
