//! The non-RSA path makes no heap allocation: content + SHA-256 of a 1 KB body + base64 +
//! percent-encoding + Signature header, and on the way in header lookup + header parsing.
//!
//! A counting global allocator is installed for this test binary only (its own crate), and the
//! test runs without the libtest harness so no other thread allocates while we count. The RSA
//! operation itself is replaced by a stand-in signer/verifier (the `rsa` crate allocates for its
//! big integers; that is the part the design allows to allocate).

use alipayplus_sign::{
    ContentSigner, ContentVerifier, Error, PublicKeys, RsaSignature, SignContent, SignatureHeader,
    message,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;
use std::hint::black_box;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Stands in for RSA: a 256-byte "signature" derived from the content hash.
struct HashSigner;

fn fake_signature(content: &SignContent<'_>) -> [u8; 256] {
    let digest = content.sha256();
    let mut out = [0u8; 256];
    for (i, b) in out.iter_mut().enumerate() {
        *b = digest[i % 32] ^ (i as u8);
    }
    out
}

impl ContentSigner for HashSigner {
    fn sign(&self, content: &SignContent<'_>) -> Result<RsaSignature, Error> {
        RsaSignature::from_slice(&fake_signature(content))
    }
}

impl ContentVerifier for HashSigner {
    fn verify(&self, content: &SignContent<'_>, signature: &[u8]) -> Result<(), Error> {
        if signature == fake_signature(content) {
            Ok(())
        } else {
            Err(Error::VerificationFailed)
        }
    }
}

const URI: &str = "/aps/api/v1/payments/pay";
const CLIENT: &str = "SANDBOX_5YBZ1A2YBZ9C01234";
const TIME: &str = "2024-05-17T12:08:56+08:00";

fn main() {
    // Built before counting starts: the body and the key set are inputs, not part of the path.
    let body: Vec<u8> = (0..1024u32).map(|i| b'a' + (i % 26) as u8).collect();
    let keys = PublicKeys::single(1, HashSigner);

    let region = Region::new(GLOBAL);
    for _ in 0..100 {
        // Outbound: content, SHA-256, base64, percent-encoding, header.
        let header = message::sign_request(
            black_box(&HashSigner),
            1,
            "POST",
            URI,
            CLIENT,
            TIME,
            black_box(&body),
        )
        .expect("sign");
        black_box(header.as_str());

        // Inbound: header lookup, Signature parsing (percent + base64 decoding), content hash.
        let headers = [
            ("signature", header.as_str().as_bytes()),
            ("client-id", CLIENT.as_bytes()),
            ("request-time", TIME.as_bytes()),
        ];
        let verified =
            message::verify_request(&keys, "POST", URI, headers, black_box(&body)).expect("verify");
        black_box(verified);
        let parsed = SignatureHeader::parse(black_box(header.as_str())).expect("parse");
        black_box(parsed);
        black_box(SignContent::request("POST", URI, CLIENT, TIME, &body).sha256());
    }
    let change = region.change();
    assert_eq!(
        (
            change.allocations,
            change.reallocations,
            change.bytes_allocated
        ),
        (0, 0, 0),
        "the non-RSA path allocated: {change:?}"
    );

    // Control: the counter does see allocations, so the zero above means something.
    let region = Region::new(GLOBAL);
    black_box(SignContent::request("POST", URI, CLIENT, TIME, &body).to_vec());
    assert!(
        region.change().allocations >= 1,
        "the counting allocator works"
    );

    println!("no_alloc: the non-RSA sign and verify paths made 0 heap allocations in 100 rounds");
}
