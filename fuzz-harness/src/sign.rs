//! alipayplus-sign: the `Signature` header, key files, and the signature path with a real key.

use alipayplus_sign::message::{self, header_name};
use alipayplus_sign::{PrivateKey, PublicKey, PublicKeys, SignatureHeader};
use arbitrary::Arbitrary;
use base64::Engine as _;

use crate::inbound::decode;

/// The `Signature` header parser (header.rs). What parses formats back (with its keyVersion,
/// or 0 when it had none) to a header that parses to the same signature; nothing longer than
/// the documented maximum parses.
pub fn signature_header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(parsed) = SignatureHeader::parse(&text) else {
        return;
    };
    assert!(text.len() <= alipayplus_sign::header::MAX_HEADER_LEN);
    let formatted =
        SignatureHeader::new(parsed.key_version.unwrap_or(0), parsed.signature.as_bytes())
            .expect("a parsed signature formats");
    let again = SignatureHeader::parse(formatted.as_str()).expect("a formatted header parses");
    assert_eq!(again.signature, parsed.signature);
    assert_eq!(again.key_version, Some(parsed.key_version.unwrap_or(0)));
}

/// Private key files in every form (key.rs): `parse`, and `from_pem` / `from_der` /
/// `from_base64` on the same bytes. An accepted key has 2048 to 4096 bits and survives its
/// own PKCS#8 encoding; its public half parses from its SubjectPublicKeyInfo.
pub fn private_key(data: &[u8]) {
    let text = core::str::from_utf8(data).ok();
    let results = [
        Some(PrivateKey::parse(data)),
        Some(PrivateKey::from_der(data)),
        text.map(PrivateKey::from_pem),
        text.map(PrivateKey::from_base64),
    ];
    for key in results.into_iter().flatten().flatten() {
        assert!((2048..=4096).contains(&key.bits()), "{} bits", key.bits());
        let der = key.to_pkcs8_der().expect("a loaded key encodes");
        let again = PrivateKey::from_der(&der).expect("our PKCS#8 encoding parses");
        assert_eq!(again.bits(), key.bits());
        let public = key
            .public_key()
            .to_spki_der()
            .expect("the public half encodes");
        assert_eq!(
            PublicKey::parse(&public).map(|k| k.bits()).ok(),
            Some(key.bits())
        );
    }
}

/// Public key files in every form (key.rs). An accepted key has 2048 to 4096 bits, and its
/// SubjectPublicKeyInfo and PKCS#1 encodings parse back to the same key.
pub fn public_key(data: &[u8]) {
    let text = core::str::from_utf8(data).ok();
    let results = [
        Some(PublicKey::parse(data)),
        Some(PublicKey::from_der(data)),
        text.map(PublicKey::from_pem),
        text.map(PublicKey::from_base64),
    ];
    for key in results.into_iter().flatten().flatten() {
        assert!((2048..=4096).contains(&key.bits()), "{} bits", key.bits());
        let spki = key.to_spki_der().expect("a loaded key encodes");
        let pkcs1 = key.to_pkcs1_der().expect("a loaded key encodes");
        let from_spki = PublicKey::parse(&spki).expect("our SPKI encoding parses");
        let from_pkcs1 = PublicKey::parse(&pkcs1).expect("our PKCS#1 encoding parses");
        assert_eq!(from_spki.to_spki_der().ok(), Some(spki.clone()));
        assert_eq!(from_pkcs1.to_spki_der().ok(), Some(spki));
    }
}

/// A signed request from the shared signing vectors (`alipayplus-sign/tests/data/cases.json`).
#[derive(serde::Deserialize)]
struct SignedCase {
    uri: String,
    client_id: String,
    time: String,
    header_value: String,
    body: String,
}

/// What the fuzzer changes in a genuinely signed request.
#[derive(Arbitrary, Debug)]
pub struct Tamper {
    /// Which vector (modulo their number).
    pub case: u8,
    /// Edits, in order.
    pub edits: Vec<TamperEdit>,
    /// Check as a response (`Response-Time`) instead of a request.
    pub as_response: bool,
}

/// One change to a signed request.
#[derive(Arbitrary, Debug)]
pub enum TamperEdit {
    /// Flip bits of one byte of the body (index modulo its length).
    BodyByte(u16, u8),
    /// Append bytes to the body.
    BodyAppend(Vec<u8>),
    /// Replace the `Signature` header value.
    Header(String),
    /// Flip bits of one byte of the `Signature` header value.
    HeaderByte(u16, u8),
    /// Re-encode the signature: url-safe alphabet, no padding, keyVersion removed.
    Reencode,
    /// Replace the URI.
    Uri(String),
    /// Replace the `Client-Id`.
    ClientId(String),
    /// Replace the time header.
    Time(String),
    /// Add a second `Signature` header field after the first.
    SecondSignature(String),
}

fn cases() -> Vec<SignedCase> {
    serde_json::from_str(include_str!("../data/signed-cases.json")).expect("the vectors parse")
}

fn public_key_of_vectors() -> PublicKey {
    PublicKey::parse(include_bytes!("../data/public_spki.pem")).expect("the vectors' key parses")
}

fn flip(bytes: &mut [u8], at: u16, mask: u8) {
    let len = bytes.len();
    if let Some(b) = bytes.get_mut(usize::from(at) % len.max(1)) {
        *b ^= mask.max(1);
    }
}

/// The signature path with the real RSA key (message.rs `verify_request` /
/// `verify_response`, header.rs) on tampered copies of genuinely signed requests. Whatever
/// the edits, a verification succeeds only for the exact signed content (method, URI,
/// Client-Id, time, body) and the exact signature bytes.
pub fn signature_verify(data: &[u8]) {
    let Some(tamper) = decode::<Tamper>(data) else {
        return;
    };
    let cases = cases();
    let Some(case) = cases.get(usize::from(tamper.case) % cases.len()) else {
        return;
    };
    let original = SignatureHeader::parse(&case.header_value).expect("the vectors' header parses");
    let (mut uri, mut client_id, mut time) =
        (case.uri.clone(), case.client_id.clone(), case.time.clone());
    let mut body = case.body.clone().into_bytes();
    let mut header = case.header_value.clone().into_bytes();
    let mut second = None;
    for edit in &tamper.edits {
        match edit {
            TamperEdit::BodyByte(at, mask) => flip(&mut body, *at, *mask),
            TamperEdit::BodyAppend(more) => body.extend_from_slice(more),
            TamperEdit::Header(text) => header = text.clone().into_bytes(),
            TamperEdit::HeaderByte(at, mask) => flip(&mut header, *at, *mask),
            TamperEdit::Reencode => {
                let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(original.signature.as_bytes());
                header = format!("signature={b64},algorithm=RSA256").into_bytes();
            }
            TamperEdit::Uri(text) => uri = text.clone(),
            TamperEdit::ClientId(text) => client_id = text.clone(),
            TamperEdit::Time(text) => time = text.clone(),
            TamperEdit::SecondSignature(text) => second = Some(text.clone()),
        }
    }
    let header = String::from_utf8_lossy(&header).into_owned();
    let time_name = if tamper.as_response {
        header_name::RESPONSE_TIME
    } else {
        header_name::REQUEST_TIME
    };
    let mut headers = vec![
        (header_name::SIGNATURE, header.as_str()),
        (header_name::CLIENT_ID, client_id.as_str()),
        (time_name, time.as_str()),
    ];
    if let Some(second) = &second {
        headers.push((header_name::SIGNATURE, second.as_str()));
    }
    let keys = PublicKeys::single(1, public_key_of_vectors());
    let fields = headers.iter().map(|(n, v)| (*n, v.as_bytes()));
    let verified = if tamper.as_response {
        message::verify_response(&keys, "POST", &uri, fields, &body)
    } else {
        message::verify_request(&keys, "POST", &uri, fields, &body)
    };
    if verified.is_ok() {
        assert_eq!(uri, case.uri, "verified over another URI");
        assert_eq!(client_id, case.client_id, "verified for another Client-Id");
        assert_eq!(time, case.time, "verified at another time");
        assert_eq!(body, case.body.as_bytes(), "verified another body");
        let used = SignatureHeader::parse(&header).expect("a verified header parses");
        assert_eq!(
            used.signature, original.signature,
            "verified another signature"
        );
    }
}
