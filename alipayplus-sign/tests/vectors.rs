//! The shared signing vectors (copied into tests/data): every case byte for byte, with every key
//! form, and every tamper case.

use alipayplus_sign::{
    ContentSigner, ContentVerifier, Error, PrivateKey, PublicKey, PublicKeys, SignContent,
    SignatureHeader, message,
};
use base64::Engine as _;
use serde_json::Value;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

struct Case {
    id: u64,
    method: String,
    uri: String,
    client_id: String,
    time: String,
    body: Vec<u8>,
    content: String,
    signature: Vec<u8>,
    header: String,
    key_version: u32,
}

impl Case {
    fn content(&self) -> SignContent<'_> {
        SignContent::request(
            &self.method,
            &self.uri,
            &self.client_id,
            &self.time,
            &self.body,
        )
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing"))
        .to_owned()
}

fn cases() -> Vec<Case> {
    let json: Value = serde_json::from_slice(&read("cases.json")).unwrap();
    let cases: Vec<Case> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            id: c["id"].as_u64().unwrap(),
            method: text(c, "method"),
            uri: text(c, "uri"),
            client_id: text(c, "client_id"),
            time: text(c, "time"),
            body: read(&text(c, "body_file")),
            content: text(c, "content_to_be_signed"),
            signature: base64::engine::general_purpose::STANDARD
                .decode(text(c, "signature_b64"))
                .unwrap(),
            header: text(c, "header_value"),
            key_version: text(c, "key_version").parse().unwrap(),
        })
        .collect();
    assert_eq!(cases.len(), 32, "all vector cases are present");
    cases
}

fn private_keys() -> Vec<(&'static str, PrivateKey)> {
    let b64 = String::from_utf8(read("private_pkcs8.b64")).unwrap();
    vec![
        (
            "pkcs8 pem",
            PrivateKey::parse(&read("private_pkcs8.pem")).unwrap(),
        ),
        (
            "pkcs1 pem",
            PrivateKey::parse(&read("private_pkcs1.pem")).unwrap(),
        ),
        (
            "pkcs8 b64",
            PrivateKey::parse(&read("private_pkcs8.b64")).unwrap(),
        ),
        (
            "pkcs8 b64 (from_base64)",
            PrivateKey::from_base64(&b64).unwrap(),
        ),
        (
            "pkcs8 der",
            PrivateKey::from_der(&read("private_pkcs8.der")).unwrap(),
        ),
        (
            "pkcs1 der",
            PrivateKey::parse(&read("private_pkcs1.der")).unwrap(),
        ),
    ]
}

fn public_keys() -> Vec<(&'static str, PublicKey)> {
    vec![
        (
            "spki pem",
            PublicKey::parse(&read("public_spki.pem")).unwrap(),
        ),
        (
            "pkcs1 pem",
            PublicKey::parse(&read("public_pkcs1.pem")).unwrap(),
        ),
        (
            "spki b64",
            PublicKey::parse(&read("public_spki.b64")).unwrap(),
        ),
        (
            "spki der",
            PublicKey::from_der(&read("public_spki.der")).unwrap(),
        ),
        (
            "pkcs1 der",
            PublicKey::parse(&read("public_pkcs1.der")).unwrap(),
        ),
    ]
}

#[test]
fn content_bytes_match_every_case() {
    for case in cases() {
        let content = case.content();
        assert_eq!(
            content.to_vec(),
            case.content.as_bytes(),
            "case {}",
            case.id
        );
        assert_eq!(content.len(), case.content.len(), "case {}", case.id);
        let mut extended = Vec::new();
        content.extend_into(&mut extended);
        assert_eq!(extended, case.content.as_bytes(), "case {}", case.id);
        #[cfg(feature = "std")]
        {
            let mut streamed = Vec::new();
            content.write_io(&mut streamed).unwrap();
            assert_eq!(streamed, case.content.as_bytes(), "case {}", case.id);
        }
    }
}

#[test]
fn every_private_key_form_signs_every_case_byte_for_byte() {
    let cases = cases();
    for (form, key) in private_keys() {
        for case in &cases {
            let signature = key.sign(&case.content()).unwrap();
            assert_eq!(
                signature.as_bytes(),
                case.signature,
                "case {} with {form}",
                case.id
            );
            let header = message::sign_request(
                &key,
                case.key_version,
                &case.method,
                &case.uri,
                &case.client_id,
                &case.time,
                &case.body,
            )
            .unwrap();
            assert_eq!(header.as_str(), case.header, "case {} with {form}", case.id);
            assert_eq!(
                SignatureHeader::new(case.key_version, &case.signature)
                    .unwrap()
                    .as_str(),
                case.header
            );
        }
    }
}

#[test]
fn every_public_key_form_verifies_every_case() {
    let cases = cases();
    for (form, key) in public_keys() {
        let keys = PublicKeys::single(1, key);
        for case in &cases {
            let used = message::verify_content(&keys, &case.content(), &case.header)
                .unwrap_or_else(|e| panic!("case {} with {form}: {e}", case.id));
            assert_eq!(used, 1);
        }
    }
}

#[test]
fn vectors_verify_at_message_level_in_both_directions() {
    let keys = PublicKeys::single(1, PublicKey::parse(&read("public_spki.pem")).unwrap());
    for case in cases() {
        for time_header in ["Request-Time", "Response-Time"] {
            let headers = [
                ("signature", case.header.as_bytes()),
                ("CLIENT-ID", case.client_id.as_bytes()),
                (time_header, case.time.as_bytes()),
                ("Content-Type", b"application/json".as_slice()),
            ];
            let verified = if time_header == "Request-Time" {
                message::verify_request(&keys, &case.method, &case.uri, headers, &case.body)
            } else {
                message::verify_response(&keys, &case.method, &case.uri, headers, &case.body)
            }
            .unwrap_or_else(|e| panic!("case {} {time_header}: {e}", case.id));
            assert_eq!(verified.client_id, case.client_id);
            assert_eq!(verified.time, case.time);
            assert_eq!(verified.key_version, 1);
            assert_eq!(verified.header_key_version, Some(case.key_version));
        }
    }
}

#[test]
fn tamper_cases_give_their_expected_result() {
    let json: Value = serde_json::from_slice(&read("tamper_cases.json")).unwrap();
    let tampers = json.as_array().unwrap();
    assert_eq!(tampers.len(), 8);
    let mut valid_seen = 0;
    for (form, key) in public_keys() {
        let keys = PublicKeys::single(1, key);
        for t in tampers {
            let (method, uri, client_id, time, body) = (
                text(t, "method"),
                text(t, "uri"),
                text(t, "client_id"),
                text(t, "time"),
                text(t, "body"),
            );
            let content = SignContent::request(&method, &uri, &client_id, &time, body.as_bytes());
            let result = message::verify_content(&keys, &content, &text(t, "header_value"));
            let expect = t["expect_valid"].as_bool().unwrap();
            assert_eq!(
                result.is_ok(),
                expect,
                "{} with {form}: {result:?}",
                text(t, "description")
            );
            if expect {
                valid_seen += 1;
            } else {
                assert_eq!(result, Err(Error::VerificationFailed));
            }
        }
    }
    assert_eq!(
        valid_seen,
        public_keys().len(),
        "the raw-base64 case is accepted"
    );
}

/// Only a SHA-256 DigestInfo is accepted: signatures over the same content with SHA-512, or
/// over the bare SHA-256 hash without DigestInfo, must fail (the SHA-1 one is a tamper case).
#[test]
fn only_sha256_digest_info_verifies() {
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};

    let pem = String::from_utf8(read("private_pkcs8.pem")).unwrap();
    let raw = rsa::PrivateKey::from_pkcs8_pem(&pem).unwrap();
    let public = PublicKey::parse(&read("public_spki.pem")).unwrap();
    let case = &cases()[0];
    let bytes = case.content.as_bytes();

    let sha512 = SigningKey::<sha2::Sha512>::new(raw.clone())
        .sign(bytes)
        .to_vec();
    let sha256 = SigningKey::<sha2::Sha256>::new(raw.clone())
        .sign(bytes)
        .to_vec();
    let unprefixed = SigningKey::<sha2::Sha256>::new_unprefixed(raw)
        .sign(&sha2::Sha256::digest(bytes))
        .to_vec();
    use sha2::Digest as _;

    assert_eq!(
        sha256, case.signature,
        "control: the SHA-256 signature matches"
    );
    assert_eq!(public.verify(&case.content(), &sha256), Ok(()));
    assert_eq!(
        public.verify(&case.content(), &sha512),
        Err(Error::VerificationFailed)
    );
    assert_eq!(
        public.verify(&case.content(), &unprefixed),
        Err(Error::VerificationFailed)
    );
}

/// Any one-byte change to the content or the signature makes verification fail.
#[test]
fn any_one_byte_change_fails() {
    let public = PublicKey::parse(&read("public_spki.pem")).unwrap();
    let case = cases().into_iter().find(|c| c.id == 11).unwrap();
    assert_eq!(public.verify(&case.content(), &case.signature), Ok(()));

    // Each text field: flip the low bit of each byte (ASCII stays ASCII, so still valid text).
    let fields = [&case.method, &case.uri, &case.client_id, &case.time];
    for (f, field) in fields.iter().enumerate() {
        for i in 0..field.len() {
            let mut bytes = field.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            let changed = String::from_utf8(bytes).unwrap();
            let mut parts = [case.method.as_str(), &case.uri, &case.client_id, &case.time];
            parts[f] = &changed;
            let content = SignContent::request(parts[0], parts[1], parts[2], parts[3], &case.body);
            assert!(
                public.verify(&content, &case.signature).is_err(),
                "field {f} byte {i}"
            );
        }
    }
    let long = cases().into_iter().find(|c| c.id == 0).unwrap();
    for i in 0..long.body.len() {
        let mut body = long.body.clone();
        body[i] ^= 0x80;
        let content =
            SignContent::request(&long.method, &long.uri, &long.client_id, &long.time, &body);
        assert!(
            public.verify(&content, &long.signature).is_err(),
            "body byte {i}"
        );
    }
    // One byte more or less in the body.
    let mut longer = long.body.clone();
    longer.push(b' ');
    let shorter = &long.body[..long.body.len() - 1];
    for body in [&longer[..], shorter] {
        let content =
            SignContent::request(&long.method, &long.uri, &long.client_id, &long.time, body);
        assert!(public.verify(&content, &long.signature).is_err());
    }
    for i in 0..case.signature.len() {
        let mut sig = case.signature.clone();
        sig[i] ^= 0x01;
        assert!(
            public.verify(&case.content(), &sig).is_err(),
            "signature byte {i}"
        );
    }
}
