//! Message-level operations: header lookup, strictness (no fail-open), key choice by keyVersion.

use alipayplus_sign::{
    ContentVerifier, Error, PrivateKey, PublicKey, PublicKeys, SignatureHeader, message,
};
use std::path::PathBuf;

fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const URI: &str = "/aps/api/v1/payments/notifyPayment";
const CLIENT: &str = "SANDBOX_5YBZ1A2YBZ9C01234";
const TIME: &str = "2026-11-23T07:55:02+00:00";
const BODY: &[u8] = br#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S"}}"#;

struct Keys {
    ours: PrivateKey,
    other: PrivateKey,
}

fn keys() -> Keys {
    Keys {
        ours: PrivateKey::parse(&read("private_pkcs8.pem")).unwrap(),
        other: PrivateKey::parse(&read("rsa4096_pkcs8.pem")).unwrap(),
    }
}

fn signed_request(key: &PrivateKey, version: u32) -> SignatureHeader {
    message::sign_request(key, version, "POST", URI, CLIENT, TIME, BODY).unwrap()
}

fn request_headers(signature: &str) -> Vec<(String, Vec<u8>)> {
    vec![
        ("Signature".into(), signature.as_bytes().to_vec()),
        ("Client-Id".into(), CLIENT.as_bytes().to_vec()),
        ("Request-Time".into(), TIME.as_bytes().to_vec()),
    ]
}

fn verify_request<V: ContentVerifier>(
    keys: &PublicKeys<V>,
    headers: &[(String, Vec<u8>)],
) -> Result<(u32, Option<u32>), Error> {
    let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
    message::verify_request(keys, "POST", URI, pairs, BODY)
        .map(|v| (v.key_version, v.header_key_version))
}

#[test]
fn missing_headers_are_errors_never_a_pass() {
    let k = keys();
    let public = PublicKeys::single(1, k.ours.public_key());
    let header = signed_request(&k.ours, 1);
    let full = request_headers(header.as_str());
    assert_eq!(verify_request(&public, &full), Ok((1, Some(1))));
    for (drop, name) in [(0, "Signature"), (1, "Client-Id"), (2, "Request-Time")] {
        let mut headers = full.clone();
        headers.remove(drop);
        assert_eq!(
            verify_request(&public, &headers),
            Err(Error::MissingHeader(name))
        );
    }
    // A response needs Response-Time: Request-Time does not stand in for it.
    let pairs = full.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
    assert_eq!(
        message::verify_response(&public, "POST", URI, pairs, BODY),
        Err(Error::MissingHeader("Response-Time"))
    );
    // An empty signature value is "unsigned", not "valid".
    let mut headers = full.clone();
    headers[0].1 = b"algorithm=RSA256,keyVersion=1,signature=".to_vec();
    assert_eq!(
        verify_request(&public, &headers),
        Err(Error::MissingSignature)
    );
}

#[test]
fn header_names_are_case_insensitive_and_duplicates_refused() {
    let k = keys();
    let public = PublicKeys::single(1, k.ours.public_key());
    let header = signed_request(&k.ours, 1);
    let mut headers = request_headers(header.as_str());
    for (n, _) in &mut headers {
        *n = n.to_ascii_lowercase();
    }
    assert_eq!(verify_request(&public, &headers), Ok((1, Some(1))));
    headers.push(("CLIENT-ID".into(), b"someone-else".to_vec()));
    assert_eq!(
        verify_request(&public, &headers),
        Err(Error::DuplicateHeader("Client-Id"))
    );
}

#[test]
fn non_utf8_header_values_are_refused() {
    let k = keys();
    let public = PublicKeys::single(1, k.ours.public_key());
    let header = signed_request(&k.ours, 1);
    let mut headers = request_headers(header.as_str());
    headers[2].1 = vec![0xff, 0xfe];
    assert_eq!(
        verify_request(&public, &headers),
        Err(Error::InvalidHeaderValue("Request-Time"))
    );
}

#[test]
fn a_single_key_is_used_whatever_the_header_key_version() {
    let k = keys();
    let public = PublicKeys::single(0, k.ours.public_key());
    let signed_v7 = signed_request(&k.ours, 7);
    assert_eq!(
        verify_request(&public, &request_headers(signed_v7.as_str())),
        Ok((0, Some(7)))
    );
    // No keyVersion at all.
    let bare = signed_v7.as_str().replace("keyVersion=7,", "");
    assert_eq!(
        verify_request(&public, &request_headers(&bare)),
        Ok((0, None))
    );
    // But the wrong key still fails.
    let wrong = signed_request(&k.other, 0);
    assert_eq!(
        verify_request(&public, &request_headers(wrong.as_str())),
        Err(Error::VerificationFailed)
    );
}

#[test]
fn several_keys_are_chosen_by_key_version() {
    let k = keys();
    let set = PublicKeys::new()
        .with(1, k.ours.public_key())
        .unwrap()
        .with(2, k.other.public_key())
        .unwrap();
    let by_ours = signed_request(&k.ours, 1);
    let by_other = signed_request(&k.other, 2);
    assert_eq!(
        verify_request(&set, &request_headers(by_ours.as_str())),
        Ok((1, Some(1)))
    );
    assert_eq!(
        verify_request(&set, &request_headers(by_other.as_str())),
        Ok((2, Some(2)))
    );
    // A version that names the other key fails: the header's choice is binding.
    let mislabelled = signed_request(&k.ours, 2);
    assert_eq!(
        verify_request(&set, &request_headers(mislabelled.as_str())),
        Err(Error::VerificationFailed)
    );
    let unknown = signed_request(&k.ours, 9);
    assert_eq!(
        verify_request(&set, &request_headers(unknown.as_str())),
        Err(Error::UnknownKeyVersion(9))
    );
    // No keyVersion: every configured key is tried.
    let bare = by_other.as_str().replace("keyVersion=2,", "");
    assert_eq!(verify_request(&set, &request_headers(&bare)), Ok((2, None)));
}

#[test]
fn public_key_set_limits() {
    let k = keys();
    assert_eq!(
        verify_request(
            &PublicKeys::<PublicKey>::new(),
            &request_headers(signed_request(&k.ours, 1).as_str())
        ),
        Err(Error::NoPublicKeys)
    );
    let mut set = PublicKeys::new();
    set.insert(1, k.ours.public_key()).unwrap();
    assert_eq!(
        set.insert(1, k.ours.public_key()),
        Err(Error::DuplicateKeyVersion(1))
    );
    for v in 2..=message::MAX_PUBLIC_KEYS as u32 {
        set.insert(v, k.ours.public_key()).unwrap();
    }
    assert_eq!(
        set.insert(100, k.ours.public_key()),
        Err(Error::TooManyPublicKeys {
            max: message::MAX_PUBLIC_KEYS
        })
    );
    assert_eq!(set.len(), message::MAX_PUBLIC_KEYS);
}

#[test]
fn responses_round_trip_and_trait_objects_work() {
    let k = keys();
    let signer: Box<dyn alipayplus_sign::ContentSigner> = Box::new(k.ours.clone());
    let header = message::sign_response(&signer, 1, "POST", URI, CLIENT, TIME, BODY).unwrap();
    let verifier: Box<dyn ContentVerifier> = Box::new(k.ours.public_key());
    let set = PublicKeys::single(1, verifier);
    let headers = [
        ("signature", header.as_str().as_bytes()),
        ("client-id", CLIENT.as_bytes()),
        ("response-time", TIME.as_bytes()),
    ];
    let verified = message::verify_response(&set, "POST", URI, headers, BODY).unwrap();
    assert_eq!(verified.client_id, CLIENT);
    assert_eq!(verified.time, TIME);
    // The response form signs the same layout as the request form.
    let as_request = signed_request(&k.ours, 1);
    assert_eq!(as_request, header);
    // A different body fails.
    assert_eq!(
        message::verify_response(&set, "POST", URI, headers, b"{}"),
        Err(Error::VerificationFailed)
    );
}

#[test]
fn boxed_key_sets_keep_versions_and_order() {
    let k = keys();
    let set = PublicKeys::new()
        .with(5, k.other.public_key())
        .unwrap()
        .with(1, k.ours.public_key())
        .unwrap();
    let boxed: PublicKeys<message::BoxedVerifier> = set.boxed();
    assert_eq!(boxed.len(), 2);
    let by_ours = signed_request(&k.ours, 1);
    assert_eq!(
        verify_request(&boxed, &request_headers(by_ours.as_str())),
        Ok((1, Some(1)))
    );
    // No keyVersion in the header: tried in the order added, the second verifies.
    let bare = by_ours.as_str().replace("keyVersion=1,", "");
    assert_eq!(
        verify_request(&boxed, &request_headers(&bare)),
        Ok((1, None))
    );
    let by_other = signed_request(&k.other, 5);
    assert_eq!(
        verify_request(&boxed, &request_headers(by_other.as_str())),
        Ok((5, Some(5)))
    );
}
