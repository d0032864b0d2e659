//! The project's own client (alipayplus-cashier over alipayplus-ureq) against the simulator:
//! forged answers are rejected by the client, and its retries never charge twice.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use alipayplus_cashier::PaymentRef;
use alipayplus_cashier::cashier::cashier_payment_factor;
use alipayplus_cashier::cashier::checked_pay as cashier_pay_request;
use alipayplus_cashier::refund_request;
use alipayplus_cashier::{Client, ClientConfig, Host, Outcome};
use alipayplus_cashier::{Clock, SystemClock};
use alipayplus_cashier::{Final, PaymentTracker, TrackerPolicy, Update};
use alipayplus_cashier::{Headers, Request};
use alipayplus_cashier::{check_notification, handle_notify_payment};
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{DeliveryOutcome, Fault, FaultRule, NotifyFaults, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, Env, Merchant, NotifyPaymentRequest, Order, PayRequest, PaymentMethod,
    TerminalType,
};
use alipayplus_ureq::UreqTransport;

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

fn client(sim: &Simulator, timeout: Duration) -> Client<UreqTransport> {
    let config = config(sim);
    let transport = UreqTransport::builder()
        .read_timeout(timeout)
        .build()
        .unwrap();
    Client::new(config, transport)
}

fn pay(id: &str) -> PayRequest {
    let amount = Amount::new(Currency::USD, 1234);
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("O-{id}"),
            "test".into(),
            amount,
            Merchant::new("M1".into()),
        )
    };
    let mut request = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new("SIMWALLET".into()),
        cashier_payment_factor(None),
    );
    request.payment_redirect_url = Some("https://merchant.example/back".into());
    request
}

#[test]
fn tampered_unsigned_and_badly_signed_answers_are_rejected_by_the_client() {
    let sim = common::sim();
    let client = client(&sim, Duration::from_secs(5));
    for fault in [
        Fault::TamperedBody,
        Fault::Unsigned,
        Fault::BadSignature,
        Fault::HttpStatus { status: 502 },
    ] {
        sim.add_fault(FaultRule::once("pay", fault.clone()));
        let outcome = cashier_pay_request(&pay("CL-1"))
            .and_then(|r| client.call(&r))
            .unwrap();
        assert!(
            matches!(outcome, Outcome::NoVerifiedResponse(_)),
            "{fault:?} must not be accepted: {outcome:?}"
        );
    }
    // The retries with the same id found the one payment the first call created.
    let outcome = cashier_pay_request(&pay("CL-1"))
        .and_then(|r| client.call(&r))
        .unwrap();
    assert!(outcome.is_unknown());
    assert_eq!(outcome.code(), Some("PAYMENT_IN_PROCESS"));
    assert_eq!(sim.payments().len(), 1);
}

#[test]
fn a_timed_out_refund_retried_refunds_once() {
    let sim = common::sim();
    let client = client(&sim, Duration::from_millis(400));
    cashier_pay_request(&pay("CL-2"))
        .and_then(|r| client.call(&r))
        .unwrap();
    sim.approve("CL-2").unwrap();
    sim.add_fault(FaultRule::once("refund", Fault::Delay { ms: 1_500 }));
    let by_id = PaymentRef::RequestId("CL-2".into());
    let amount = Amount::new(Currency::USD, 1000);
    let first = client
        .call(&refund_request(&by_id, "CL-2-R", amount))
        .unwrap();
    assert!(matches!(first, Outcome::NoVerifiedResponse(_)), "{first:?}");
    let retry = client
        .call(&refund_request(&by_id, "CL-2-R", amount))
        .unwrap();
    assert!(retry.is_success(), "{retry:?}");
    assert_eq!(sim.payment("CL-2").unwrap().refunded, 1000);
    let over = client
        .call(&refund_request(
            &by_id,
            "CL-2-R2",
            Amount::new(Currency::USD, 235),
        ))
        .unwrap();
    assert_eq!(over.code(), Some("REFUND_AMOUNT_EXCEED"));
}

/// The merchant's notify endpoint on the cashier notifyPayment handler; verified bodies go to
/// the channel.
fn merchant_endpoint(
    config: ClientConfig,
) -> (
    String,
    mpsc::Receiver<NotifyPaymentRequest>,
    std::thread::JoinHandle<()>,
) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", server.server_addr().to_ip().unwrap());
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        // Bounded: stops after 0.5 s without a request.
        while let Ok(Some(mut http)) = server.recv_timeout(Duration::from_millis(500)) {
            let mut body = Vec::new();
            std::io::Read::read_to_end(http.as_reader(), &mut body).unwrap();
            let mut headers = Headers::new();
            for h in http.headers() {
                headers.append(h.field.as_str().as_str(), h.value.as_str());
            }
            let request = Request {
                method: http.method().to_string(),
                uri: http.url().to_owned(),
                headers,
                body,
            };
            let answer = match handle_notify_payment(&config, &request) {
                Ok(accepted) => {
                    tx.send(accepted.body).unwrap();
                    accepted.answer
                }
                Err(refused) => refused.answer,
            };
            let mut response =
                tiny_http::Response::from_data(answer.body).with_status_code(answer.status);
            for (n, v) in answer.headers.iter() {
                response.add_header(tiny_http::Header::from_bytes(n, v).unwrap());
            }
            let _ = http.respond(response);
        }
    });
    (url, rx, thread)
}

#[test]
fn duplicate_and_badly_signed_notifications_are_harmless_to_the_tracker() {
    let sim = common::sim();
    sim.set_notify_faults(NotifyFaults {
        duplicates: 2,
        bad_signature_first: true,
        ..NotifyFaults::default()
    });
    let (url, notifications, endpoint) = merchant_endpoint(config(&sim));
    let client = client(&sim, Duration::from_secs(5));
    let mut request = pay("CL-3");
    request.payment_notify_url = Some(url);
    let now = SystemClock.now();
    let mut tracker = PaymentTracker::for_pay(&request, now, TrackerPolicy::cashier());
    let outcome = cashier_pay_request(&request)
        .and_then(|r| client.call(&r))
        .unwrap();
    tracker.on_pay_outcome(now, &outcome);
    sim.approve("CL-3").unwrap();

    let mut updates = Vec::new();
    for _ in 0..3 {
        let n = notifications.recv_timeout(Duration::from_secs(5)).unwrap();
        check_notification(&n, "CL-3", &request.payment_amount).unwrap();
        updates.push(tracker.on_notify_payment(SystemClock.now(), &n));
    }
    assert_eq!(
        updates,
        [
            Update::Finished(Final::Succeeded),
            Update::Ignored,
            Update::Ignored
        ]
    );
    assert!(sim.wait_notifications_idle(Duration::from_secs(5)));
    // The forged first attempt was refused by the handler with an unsigned answer (no
    // private-key work for an unverified caller): not an acknowledgement, so Alipay+ re-sends;
    // every genuine one acknowledged.
    let outcomes: Vec<_> = sim.deliveries().into_iter().map(|d| d.outcome).collect();
    assert!(
        matches!(&outcomes[0], DeliveryOutcome::BadAck { reason } if reason.contains("Signature")),
        "{:?}",
        outcomes[0]
    );
    assert!(
        outcomes[1..]
            .iter()
            .all(|o| *o == DeliveryOutcome::Acknowledged)
    );
    assert_eq!(outcomes.len(), 4);
    drop(sim);
    endpoint.join().unwrap();
}
