//! Stored follow-up states read back: `from_bytes` of the payment follower, the same-bytes
//! follower (refund), the registration follow-up and the declaration follow-up.
//!
//! A stored row is input this process did not write: a corrupted page, a row edited by hand,
//! a state written by an older or newer release. Reading it must end in a typed error or in a
//! machine that behaves: what resumes writes itself back to bytes that resume to the same
//! bytes, and polling it (now, and far in the future) never panics.

use std::sync::OnceLock;
use std::time::Duration;

use alipayplus_client::driver::PaymentFollower;
use alipayplus_client::inquiry::PaymentRef;
use alipayplus_client::refund::{RefundFollower, refund_request};
use alipayplus_client::resend::ResendPolicy;
use alipayplus_client::tracker::{PaymentTracker, TrackerPolicy};
use alipayplus_operations::customs::{DeclarationLedger, DeclareFollowUp, DeclareState};
use alipayplus_operations::registration::{RegistrationFollowUp, RegistrationPolicy};
use alipayplus_types::{
    Amount, Currency, DeclareRequest, Merchant, Order, PayRequest, PaymentFactor, PaymentMethod,
    RegistrationRequest, Timestamp,
};
use arbitrary::{Arbitrary, Unstructured};

use crate::json::Body;

/// Input: which machine (modulo 4), then its stored bytes: a real stored state (taken after
/// the first send was recorded) with the fuzzer's edits, or raw bytes.
#[derive(Arbitrary, Debug)]
pub struct StoredInput {
    /// 0 payment, 1 refund, 2 registration, 3 declaration.
    pub machine: u8,
    /// The stored bytes.
    pub body: Body,
}

/// The target: no panic; a state that resumes round-trips and polls.
pub fn stored_state(data: &[u8]) {
    let Ok(input) = StoredInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let seeds = seeds();
    let which = usize::from(input.machine) % seeds.len();
    let bytes = input.body.bytes(&[seeds[which].as_str()]);
    match which {
        0 => payment(&bytes),
        1 => refund(&bytes),
        2 => registration(&bytes),
        _ => declaration(&bytes),
    }
}

/// The instants every resumed machine is polled at: its own time and a year later.
fn instants() -> [Timestamp; 2] {
    let now = start();
    [now, now + Duration::from_secs(365 * 24 * 3600)]
}

fn start() -> Timestamp {
    Timestamp::from_unix_millis(1_750_000_000_000)
}

/// What every machine must do with bytes it accepts: written back, they resume to the same
/// bytes; polled now and far ahead, it does not panic.
fn round_trip<M>(
    bytes: &[u8],
    read: impl Fn(&[u8]) -> Option<M>,
    write: impl Fn(&M) -> Vec<u8>,
    poll: impl Fn(&mut M, Timestamp),
) {
    let Some(mut machine) = read(bytes) else {
        return;
    };
    let written = write(&machine);
    let again = read(&written).expect("a written-back state resumes");
    assert_eq!(write(&again), written, "the round trip changed it");
    for at in instants() {
        poll(&mut machine, at);
    }
}

fn payment(bytes: &[u8]) {
    round_trip(
        bytes,
        |b| PaymentFollower::from_bytes(b).ok(),
        |m| m.state().to_bytes(),
        |m, at| drop(m.poll(at)),
    );
}

fn refund(bytes: &[u8]) {
    round_trip(
        bytes,
        |b| RefundFollower::from_bytes(b).ok(),
        |m| m.state().to_bytes(),
        |m, at| drop(m.poll(at)),
    );
}

fn registration(bytes: &[u8]) {
    round_trip(
        bytes,
        |b| RegistrationFollowUp::from_bytes(b).ok(),
        RegistrationFollowUp::to_bytes,
        |m, at| drop(m.poll(at)),
    );
}

fn declaration(bytes: &[u8]) {
    round_trip(
        bytes,
        |b| DeclareFollowUp::resume(DeclareState::from_bytes(b).ok()?).ok(),
        |m| m.state().to_bytes(),
        |m, at| drop(m.poll(at)),
    );
}

/// One real stored state per machine, after its first poll recorded the send.
fn seeds() -> &'static [String; 4] {
    static SEEDS: OnceLock<[String; 4]> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let now = start();
        let text = |b: Vec<u8>| String::from_utf8(b).expect("stored states are JSON");
        let request = pay_request();
        let tracker = PaymentTracker::for_pay(&request, now, TrackerPolicy::auto_debit());
        let mut pay = PaymentFollower::new(request, tracker).expect("the pay request is valid");
        let _ = pay.poll(now);
        let refund_req = refund_request(
            &PaymentRef::RequestId("PAY-FUZZ-1".into()),
            "REF-FUZZ-1",
            Amount::new(Currency::USD, 300),
        );
        let mut refund =
            RefundFollower::new(&refund_req, now, policy()).expect("the refund is valid");
        let _ = refund.poll(now);
        let mut registration =
            RegistrationFollowUp::new(&example_registration(), now, RegistrationPolicy::default())
                .expect("the registration is valid");
        let _ = registration.poll(now);
        let ledger =
            DeclarationLedger::new("PAY20250601000002", Amount::new(Currency::CNY, 20_000))
                .expect("the ledger is valid");
        let mut declare = DeclareFollowUp::new(ledger, &declare_request(), now, policy())
            .expect("the declaration is valid");
        let _ = declare.poll(now);
        [
            text(pay.state().to_bytes()),
            text(refund.state().to_bytes()),
            text(registration.to_bytes()),
            text(declare.state().to_bytes()),
        ]
    })
}

fn policy() -> ResendPolicy {
    ResendPolicy::new(Duration::from_secs(5), Duration::from_secs(300))
}

fn pay_request() -> PayRequest {
    let usd = Amount::new(Currency::USD, 1000);
    let method = PaymentMethod::new("CONNECT_WALLET".into());
    let order = Order::new(
        "O-FUZZ-1".into(),
        "coffee".into(),
        usd,
        Merchant::new("M-FUZZ-1".into()),
    );
    PayRequest::new(
        "PAY-FUZZ-1".into(),
        order,
        usd,
        method,
        PaymentFactor::new(),
    )
}

fn example_registration() -> RegistrationRequest {
    serde_json::from_str(include_str!("../data/registration-request.json"))
        .expect("the spec example parses")
}

fn declare_request() -> DeclareRequest {
    serde_json::from_str(include_str!("../data/customs-declare-request.json"))
        .expect("the spec example parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds are what the fuzzer edits: each must resume, or the target only ever sees
    /// errors.
    #[test]
    fn every_seed_state_resumes() {
        let [pay, refund, registration, declare] = seeds();
        assert!(PaymentFollower::from_bytes(pay.as_bytes()).is_ok());
        assert!(RefundFollower::from_bytes(refund.as_bytes()).is_ok());
        assert!(RegistrationFollowUp::from_bytes(registration.as_bytes()).is_ok());
        let state = DeclareState::from_bytes(declare.as_bytes()).unwrap();
        assert!(DeclareFollowUp::resume(state).is_ok());
    }
}
