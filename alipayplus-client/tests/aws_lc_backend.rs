//! The client configuration takes the `aws-lc` backend (issue 7): our requests signed with
//! `AwsLcPrivateKey`, Alipay+'s answers verified with `AwsLcPublicKey`, with the same strict
//! rules as the default backend.
#![cfg(feature = "aws-lc")]

mod common;

use alipayplus_client::client::{Client, ClientConfig, Host, Outcome};
use alipayplus_client::error::ResponseError;
use alipayplus_sign::{AwsLcPrivateKey, AwsLcPublicKey, PublicKeys};
use alipayplus_types::InquiryPaymentRequest;
use common::*;

const PAID: &str = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"}}"#;

fn aws_lc_config() -> ClientConfig {
    let signer = AwsLcPrivateKey::from_key(&acqp_key()).unwrap();
    let alipay = AwsLcPublicKey::from_key(&alipay_public()).unwrap();
    ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        signer,
        PublicKeys::single(1, alipay),
        now,
    )
    .unwrap()
}

fn inquiry() -> InquiryPaymentRequest {
    InquiryPaymentRequest {
        payment_request_id: Some("pay-1".into()),
        ..InquiryPaymentRequest::new()
    }
}

#[test]
fn aws_lc_keys_sign_requests_and_verify_answers() {
    // The fake Alipay+ checks our signature with the default (rsa) backend.
    let (transport, seen) = fake_alipay(Mode::Signed, |_, _| PAID.to_string());
    let client = Client::new(aws_lc_config(), transport);
    let outcome = client.call(&inquiry()).unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    // Byte-identical to what the default backend signs for the same request.
    let aws_signature = seen.lock().unwrap().requests[0]
        .headers
        .get("Signature")
        .map(str::to_owned);
    let (transport, seen) = fake_alipay(Mode::Signed, |_, _| PAID.to_string());
    let default_client = client_with(transport);
    assert!(default_client.call(&inquiry()).unwrap().is_success());
    let rsa_signature = seen.lock().unwrap().requests[0]
        .headers
        .get("Signature")
        .map(str::to_owned);
    assert_eq!(aws_signature, rsa_signature);
}

#[test]
fn aws_lc_verifier_rejects_tampered_unsigned_and_wrongly_keyed_answers() {
    for mode in [Mode::Tampered, Mode::Unsigned, Mode::WrongKey] {
        let (transport, _) = fake_alipay(mode, |_, _| PAID.to_string());
        let client = Client::new(aws_lc_config(), transport);
        match client.call(&inquiry()).unwrap() {
            Outcome::NoVerifiedResponse(ResponseError::Signature { .. }) => {}
            other => panic!("{mode:?} must be a signature error, got {other:?}"),
        }
    }
}
