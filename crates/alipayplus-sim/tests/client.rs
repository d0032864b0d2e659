//! The project's own client (alipayplus-cashier over alipayplus-ureq) against the simulator:
//! forged answers are rejected by the client, and its retries never charge twice.

mod common;

use std::time::Duration;

use alipayplus_cashier::cashier::cashier_payment_factor;
use alipayplus_cashier::client::{Client, ClientConfig, Host, Outcome};
use alipayplus_cashier::inquiry::PaymentRef;
use alipayplus_cashier::time::SystemClock;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{Fault, FaultRule, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, Env, Merchant, Order, PayRequest, PaymentMethod, TerminalType,
};
use alipayplus_ureq::UreqTransport;

fn client(sim: &Simulator, timeout: Duration) -> Client<UreqTransport> {
    let config = ClientConfig::new(
        sim.client_id(),
        Host::custom(sim.base_url()).unwrap(),
        keys::acqp_private_key().unwrap(),
        PublicKeys::single(1, keys::sim_public_key().unwrap()),
        SystemClock,
    )
    .unwrap();
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
        let outcome = client.pay_cashier(&pay("CL-1")).unwrap();
        assert!(
            matches!(outcome, Outcome::NoVerifiedResponse(_)),
            "{fault:?} must not be accepted: {outcome:?}"
        );
    }
    // The retries with the same id found the one payment the first call created.
    let outcome = client.pay_cashier(&pay("CL-1")).unwrap();
    assert!(outcome.is_unknown());
    assert_eq!(outcome.code(), Some("PAYMENT_IN_PROCESS"));
    assert_eq!(sim.payments().len(), 1);
}

#[test]
fn a_timed_out_refund_retried_refunds_once() {
    let sim = common::sim();
    let client = client(&sim, Duration::from_millis(400));
    client.pay_cashier(&pay("CL-2")).unwrap();
    sim.approve("CL-2").unwrap();
    sim.add_fault(FaultRule::once("refund", Fault::Delay { ms: 1_500 }));
    let by_id = PaymentRef::RequestId("CL-2".into());
    let amount = Amount::new(Currency::USD, 1000);
    let first = client.refund_payment(&by_id, "CL-2-R", amount).unwrap();
    assert!(matches!(first, Outcome::NoVerifiedResponse(_)), "{first:?}");
    let retry = client.refund_payment(&by_id, "CL-2-R", amount).unwrap();
    assert!(retry.is_success(), "{retry:?}");
    assert_eq!(sim.payment("CL-2").unwrap().refunded, 1000);
    let over = client
        .refund_payment(&by_id, "CL-2-R2", Amount::new(Currency::USD, 235))
        .unwrap();
    assert_eq!(over.code(), Some("REFUND_AMOUNT_EXCEED"));
}
