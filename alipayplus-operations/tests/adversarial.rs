//! Hostile input to the inbound handlers (notifyRegistrationStatus, initiateRetrieval,
//! initiateEscalation) and what the follow-up and the dispute store do with what gets through.
//! Deterministic pseudo-random mutations (a few thousand cases, about a second): every body
//! gives a typed result with a signed HTTP 200 answer, never a panic.

use alipayplus_client::client::{ClientConfig, Host};
use alipayplus_client::time::Timestamp;
use alipayplus_client::transport::Request;
use alipayplus_operations::dispute::{
    Decision, MemoryDisputeStore, handle_initiate_escalation, handle_initiate_retrieval,
};
use alipayplus_operations::registration::{
    RegistrationFollowUp, RegistrationPolicy, handle_notify_registration_status,
};
use alipayplus_sign::{
    ContentSigner, ContentVerifier, Error as SignError, PublicKeys, RsaSignature, SignContent,
};
use alipayplus_types::RegistrationRequest;

struct AcceptAll;
impl ContentVerifier for AcceptAll {
    fn verify(&self, _: &SignContent<'_>, _: &[u8]) -> Result<(), SignError> {
        Ok(())
    }
}

struct FixedSigner;
impl ContentSigner for FixedSigner {
    fn sign(&self, _: &SignContent<'_>) -> Result<RsaSignature, SignError> {
        RsaSignature::from_slice(&[7; 256])
    }
}

/// Verification always passes, so the mutated bodies reach the parsers.
fn lenient_config() -> ClientConfig {
    ClientConfig::new(
        "SANDBOX_5YC47N2ZQHJ004124",
        Host::OtherRegionsAccelerated,
        FixedSigner,
        PublicKeys::single(1, AcceptAll),
        || Timestamp::from_unix_secs(1_748_736_000),
    )
    .unwrap()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-1",
    "1e999",
    "\"\"",
    "\\u0000",
    "\\ud800",
    "é",
    "😀",
    "\"PENDING\"",
    "\"APPROVED\"",
    "\"REJECTED\"",
    "\"COMPLETED\"",
    "\"value\":\"18446744073709551616\"",
    "\"currency\":\"XXX\"",
    "\u{0}",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 if !out.is_empty() => {
                let end = (at + rng.below(12)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                out.splice(at..at, piece.iter().copied());
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + rng.below(24)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

fn request(path: &str, body: Vec<u8>) -> Request {
    let mut request = Request::post(path, body);
    // 256 bytes of 7 in base64 (the verifier accepts any well-formed signature).
    let signature = format!(
        "algorithm=RSA256,keyVersion=1,signature={}Bw%3D%3D",
        "BwcH".repeat(85)
    );
    request.headers.insert("Signature", signature);
    request
        .headers
        .insert("Client-Id", "SANDBOX_5YC47N2ZQHJ004124");
    request
        .headers
        .insert("Request-Time", "2025-06-01T08:00:00+08:00");
    request
}

fn follow_up() -> RegistrationFollowUp {
    let request: RegistrationRequest =
        serde_json::from_str(include_str!("data/registration-request.json")).unwrap();
    let mut follow = RegistrationFollowUp::new(
        &request,
        Timestamp::from_unix_secs(0),
        RegistrationPolicy::default(),
    )
    .unwrap();
    follow.poll(Timestamp::from_unix_secs(0));
    follow
}

#[test]
fn registration_notifications_survive_mutated_bodies() {
    let config = lenient_config();
    let seed = r#"{"referenceMerchantId":"M202400001","referenceStoreId":"S1","registrationRequestId":"REG20250601000001","registrationResult":{"registrationStatus":"PENDING"},"pspRegistrationResultList":[{"pspName":"ALIPAY_CN","productCodes":["AGREEMENT_PAYMENT"],"registrationResult":{"registrationStatus":"APPROVED"}},{"pspName":"GCASH","registrationResult":{"registrationStatus":"REJECTED"}}]}"#;
    let mut rng = Rng(0x00dd_ba11_0000_0001);
    let mut follow = follow_up();
    let mut accepted = 0;
    for i in 0..3000 {
        let body = mutate(&mut rng, seed.as_bytes());
        match handle_notify_registration_status(
            &config,
            &request("/n/notifyRegistrationStatus", body),
        ) {
            Ok(n) => {
                accepted += 1;
                assert_eq!(n.answer.status, 200);
                let _ = follow.on_notification(Timestamp::from_unix_secs(i), &n.body.event);
                assert!(
                    follow.psp_statuses().len() <= 64,
                    "the merged state stays bounded by what was sent"
                );
            }
            Err(refused) => {
                assert_eq!(refused.answer.status, 200);
                let _ = format!("{refused:?} {}", refused.error);
            }
        }
    }
    assert!(accepted > 0, "some mutations still parse");
    // The follow-up survives a store / load round trip whatever it merged.
    let stored = serde_json::to_string(&follow).unwrap();
    assert_eq!(
        serde_json::from_str::<RegistrationFollowUp>(&stored).unwrap(),
        follow
    );
}

#[test]
fn dispute_deliveries_survive_mutated_bodies() {
    let config = lenient_config();
    let retrieval = r#"{"disputeRequestId":"DSP-1","paymentRequestId":"PAY-1","disputeOccurTime":"2025-06-03T10:00:00+08:00","paymentId":"2025"}"#;
    let escalation = r#"{"disputeRequestId":"DSP-1","paymentRequestId":"PAY-1","escalationAmount":{"currency":"SGD","value":"1000"},"disputeOccurTime":"2025-06-03T10:00:00+08:00"}"#;
    let mut rng = Rng(0x00dd_ba11_0000_0002);
    let mut store = MemoryDisputeStore::new();
    let mut accepted = 0;
    for (path, seed) in [
        ("/a/initiateRetrieval", retrieval),
        ("/a/initiateEscalation", escalation),
    ] {
        for _ in 0..2000 {
            let body = mutate(&mut rng, seed.as_bytes());
            let r = request(path, body);
            let handled = if path.ends_with("Retrieval") {
                handle_initiate_retrieval(&config, &r)
            } else {
                handle_initiate_escalation(&config, &r)
            };
            match handled {
                Ok(d) => {
                    accepted += 1;
                    let received = store.receive(&config, &d);
                    assert_eq!(received.answer.status, 200);
                    let stored = store
                        .get(d.body.dispute.kind, &d.body.dispute.dispute_request_id)
                        .unwrap();
                    match received.decision {
                        Decision::New | Decision::Duplicate => {
                            assert_eq!(stored.payment_request_id, d.body.dispute.payment_request_id)
                        }
                        _ => {
                            assert_ne!(stored.payment_request_id, d.body.dispute.payment_request_id)
                        }
                    }
                }
                Err(refused) => {
                    assert_eq!(refused.answer.status, 200);
                    let _ = format!("{refused:?} {}", refused.error);
                }
            }
        }
    }
    assert!(accepted > 0, "some mutations still parse");
}
