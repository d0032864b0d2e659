//! The `aws-lc` backend against the vectors and against the default backend: byte-identical
//! signatures, cross-verification both ways, the tamper cases, SHA-256-only verification, the
//! same key errors. Runs with `cargo test -p alipayplus-sign --features aws-lc`.

use alipayplus_sign::{
    AwsLcPrivateKey, AwsLcPublicKey, ContentSigner, ContentVerifier, Error, KeyKind, PrivateKey,
    PublicKey, PublicKeys, SignContent, message,
};
use base64::Engine as _;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing"))
        .to_owned()
}

struct Case {
    id: u64,
    method: String,
    uri: String,
    client_id: String,
    time: String,
    body: Vec<u8>,
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

const PRIVATE_FORMS: [&str; 5] = [
    "private_pkcs8.pem",
    "private_pkcs1.pem",
    "private_pkcs8.b64",
    "private_pkcs8.der",
    "private_pkcs1.der",
];
const PUBLIC_FORMS: [&str; 5] = [
    "public_spki.pem",
    "public_pkcs1.pem",
    "public_spki.b64",
    "public_spki.der",
    "public_pkcs1.der",
];

#[test]
fn every_private_key_form_signs_every_case_byte_for_byte_like_the_default_backend() {
    let cases = cases();
    let default = PrivateKey::parse(&read("private_pkcs8.pem")).unwrap();
    for form in PRIVATE_FORMS {
        let key = AwsLcPrivateKey::parse(&read(form)).unwrap();
        assert_eq!(key.bits(), 2048);
        for case in &cases {
            let signature = key.sign(&case.content()).unwrap();
            assert_eq!(
                signature.as_bytes(),
                case.signature,
                "case {} with {form}",
                case.id
            );
            assert_eq!(signature, default.sign(&case.content()).unwrap());
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
        }
    }
}

#[test]
fn every_public_key_form_verifies_every_case() {
    let cases = cases();
    for form in PUBLIC_FORMS {
        let keys = PublicKeys::single(1, AwsLcPublicKey::parse(&read(form)).unwrap());
        for case in &cases {
            let used = message::verify_content(&keys, &case.content(), &case.header)
                .unwrap_or_else(|e| panic!("case {} with {form}: {e}", case.id));
            assert_eq!(used, 1);
            for time_header in ["Request-Time", "Response-Time"] {
                let headers = [
                    ("Signature", case.header.as_bytes()),
                    ("Client-Id", case.client_id.as_bytes()),
                    (time_header, case.time.as_bytes()),
                ];
                let verified = if time_header == "Request-Time" {
                    message::verify_request(&keys, &case.method, &case.uri, headers, &case.body)
                } else {
                    message::verify_response(&keys, &case.method, &case.uri, headers, &case.body)
                };
                assert!(verified.is_ok(), "case {} {time_header}", case.id);
            }
        }
    }
}

/// Each backend verifies what the other signs, with the vector key and with a 4096-bit key
/// (which the vectors do not cover), and both refuse the other key's signatures.
#[test]
fn each_backend_verifies_the_others_signatures() {
    let cases = cases();
    for (private, public, bits) in [
        ("private_pkcs8.pem", "public_spki.pem", 2048),
        ("rsa4096_pkcs8.pem", "rsa4096_spki.pem", 4096),
    ] {
        let rust_signer = PrivateKey::parse(&read(private)).unwrap();
        let lc_signer = AwsLcPrivateKey::parse(&read(private)).unwrap();
        let rust_verifier = PublicKey::parse(&read(public)).unwrap();
        let lc_verifier = AwsLcPublicKey::parse(&read(public)).unwrap();
        let lc_derived = lc_signer.public_key().unwrap();
        assert_eq!((lc_signer.bits(), lc_verifier.bits()), (bits, bits));
        for case in &cases {
            let content = case.content();
            let by_rust = rust_signer.sign(&content).unwrap();
            let by_lc = lc_signer.sign(&content).unwrap();
            assert_eq!(by_rust, by_lc, "case {} with {bits} bits", case.id);
            assert_eq!(by_lc.len(), bits / 8);
            assert_eq!(rust_verifier.verify(&content, by_lc.as_bytes()), Ok(()));
            assert_eq!(lc_verifier.verify(&content, by_rust.as_bytes()), Ok(()));
            assert_eq!(lc_derived.verify(&content, by_rust.as_bytes()), Ok(()));
        }
    }
    // A signature by the other key fails on both backends.
    let content = cases[3].content();
    let other = AwsLcPrivateKey::parse(&read("rsa4096_pkcs8.pem"))
        .unwrap()
        .sign(&content)
        .unwrap();
    let lc = AwsLcPublicKey::parse(&read("public_spki.pem")).unwrap();
    assert_eq!(
        lc.verify(&content, other.as_bytes()),
        Err(Error::VerificationFailed)
    );
    let big = AwsLcPublicKey::parse(&read("rsa4096_spki.pem")).unwrap();
    assert_eq!(
        big.verify(&content, &cases[3].signature),
        Err(Error::VerificationFailed)
    );
}

#[test]
fn tamper_cases_give_their_expected_result_on_both_backends() {
    let json: Value = serde_json::from_slice(&read("tamper_cases.json")).unwrap();
    let tampers = json.as_array().unwrap();
    assert_eq!(tampers.len(), 8);
    let lc = PublicKeys::single(1, AwsLcPublicKey::parse(&read("public_spki.pem")).unwrap());
    let rust = PublicKeys::single(1, PublicKey::parse(&read("public_spki.pem")).unwrap());
    let mut valid_seen = 0;
    for t in tampers {
        let (method, uri, client_id, time, body) = (
            text(t, "method"),
            text(t, "uri"),
            text(t, "client_id"),
            text(t, "time"),
            text(t, "body"),
        );
        let content = SignContent::request(&method, &uri, &client_id, &time, body.as_bytes());
        let header = text(t, "header_value");
        let by_lc = message::verify_content(&lc, &content, &header);
        let by_rust = message::verify_content(&rust, &content, &header);
        let description = text(t, "description");
        assert_eq!(by_lc, by_rust, "{description}");
        if t["expect_valid"].as_bool().unwrap() {
            assert_eq!(by_lc, Ok(1), "{description}");
            valid_seen += 1;
        } else {
            assert_eq!(by_lc, Err(Error::VerificationFailed), "{description}");
        }
    }
    assert_eq!(valid_seen, 1, "the raw-base64 case is accepted");
}

/// The signature of a tamper case as raw bytes, with its content's fields.
fn tamper_case(starts_with: &str) -> (Vec<u8>, [String; 5]) {
    let json: Value = serde_json::from_slice(&read("tamper_cases.json")).unwrap();
    let t = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| text(t, "description").starts_with(starts_with))
        .unwrap();
    let parsed = alipayplus_sign::SignatureHeader::parse(&text(t, "header_value")).unwrap();
    let fields = ["method", "uri", "client_id", "time", "body"].map(|k| text(t, k));
    (parsed.signature.as_bytes().to_vec(), fields)
}

/// Only a SHA-256 DigestInfo verifies, on both backends. Each foreign-digest signature is first
/// shown to be a real signature over the same content (it verifies with a verifier for its own
/// digest), so the rejection is about the digest and nothing else.
#[test]
fn sha1_sha384_sha512_and_bare_digest_signatures_are_rejected_by_both_backends() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self, RsaKeyPair, UnparsedPublicKey};

    let spki = read("public_spki.der");
    let lc = AwsLcPublicKey::parse(&spki).unwrap();
    let rust = PublicKey::parse(&spki).unwrap();
    let both = |content: &SignContent<'_>, sig: &[u8]| {
        (rust.verify(content, sig), lc.verify(content, sig))
    };
    let rejected = (
        Err(Error::VerificationFailed),
        Err(Error::VerificationFailed),
    );

    // SHA-1: the shared vectors' tamper case, a signature over a SHA-1 DigestInfo.
    let (sha1_sig, [m, u, c, t, b]) = tamper_case("signature made over a SHA-1 digest");
    let content = SignContent::request(&m, &u, &c, &t, b.as_bytes());
    let legacy = UnparsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        &spki,
    );
    assert!(
        legacy.verify(&content.to_vec(), &sha1_sig).is_ok(),
        "control: a genuine SHA-1 signature"
    );
    assert_eq!(both(&content, &sha1_sig), rejected, "SHA-1");

    // SHA-384 and SHA-512, made here over the content of vector case 0.
    let cases = cases();
    let case = &cases[0];
    let content = case.content();
    let bytes = content.to_vec();
    let pair = RsaKeyPair::from_pkcs8(&read("private_pkcs8.der")).unwrap();
    for (name, encoding, checker) in [
        (
            "SHA-384",
            &signature::RSA_PKCS1_SHA384,
            &signature::RSA_PKCS1_2048_8192_SHA384,
        ),
        (
            "SHA-512",
            &signature::RSA_PKCS1_SHA512,
            &signature::RSA_PKCS1_2048_8192_SHA512,
        ),
        (
            "SHA-256 (control)",
            &signature::RSA_PKCS1_SHA256,
            &signature::RSA_PKCS1_2048_8192_SHA256,
        ),
    ] {
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(encoding, &SystemRandom::new(), &bytes, &mut sig)
            .unwrap();
        assert!(
            UnparsedPublicKey::new(checker, &spki)
                .verify(&bytes, &sig)
                .is_ok(),
            "control: a genuine {name} signature"
        );
        if name.starts_with("SHA-256") {
            assert_eq!(sig, case.signature);
            assert_eq!(both(&content, &sig), (Ok(()), Ok(())));
        } else {
            assert_eq!(both(&content, &sig), rejected, "{name}");
        }
    }

    // The same SHA-512 check with a signature made by the `rsa` crate, and the bare SHA-256
    // hash signed without any DigestInfo.
    {
        use rsa::pkcs1v15::SigningKey;
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::{SignatureEncoding, Signer};
        use sha2::Digest as _;
        let raw = rsa::PrivateKey::from_pkcs8_der(&read("private_pkcs8.der")).unwrap();
        let sha512 = SigningKey::<sha2::Sha512>::new(raw.clone())
            .sign(&bytes)
            .to_vec();
        let bare = SigningKey::<sha2::Sha256>::new_unprefixed(raw)
            .sign(&sha2::Sha256::digest(&bytes))
            .to_vec();
        assert_eq!(both(&content, &sha512), rejected, "SHA-512 (rsa crate)");
        assert_eq!(both(&content, &bare), rejected, "no DigestInfo");
    }
}

#[test]
fn any_one_byte_change_or_wrong_length_fails() {
    let cases = cases();
    let lc = AwsLcPublicKey::parse(&read("public_spki.pem")).unwrap();
    let case = cases.iter().find(|c| c.id == 11).unwrap();
    assert_eq!(lc.verify(&case.content(), &case.signature), Ok(()));
    for i in 0..case.signature.len() {
        let mut sig = case.signature.clone();
        sig[i] ^= 0x01;
        assert_eq!(
            lc.verify(&case.content(), &sig),
            Err(Error::VerificationFailed),
            "signature byte {i}"
        );
    }
    for i in 0..case.body.len() {
        let mut body = case.body.clone();
        body[i] ^= 0x80;
        let content =
            SignContent::request(&case.method, &case.uri, &case.client_id, &case.time, &body);
        assert!(
            lc.verify(&content, &case.signature).is_err(),
            "body byte {i}"
        );
    }
    // A leading zero byte (same number, 257 bytes), a truncated one, nothing at all.
    let mut padded = vec![0u8];
    padded.extend_from_slice(&case.signature);
    for sig in [&padded[..], &case.signature[1..], &[][..]] {
        assert_eq!(
            lc.verify(&case.content(), sig),
            Err(Error::VerificationFailed),
            "{} bytes",
            sig.len()
        );
    }
}

/// Key errors are exactly those of the default backend: the same parser reads the key.
#[test]
fn key_errors_are_the_default_backends() {
    let weak = AwsLcPrivateKey::parse(&read("weak_1024_pkcs8.pem")).unwrap_err();
    assert_eq!(
        weak,
        Error::KeyTooSmall {
            kind: KeyKind::Private,
            bits: 1024
        }
    );
    assert_eq!(
        AwsLcPublicKey::parse(&read("weak_1024_spki.pem")).unwrap_err(),
        Error::KeyTooSmall {
            kind: KeyKind::Public,
            bits: 1024
        }
    );
    let encrypted =
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let inputs: [&[u8]; 6] = [
        &read("ec_p256_pkcs8.pem"),
        encrypted,
        b"not a key",
        b"",
        &[0x30, 0x03, 0x02, 0x01, 0x00],
        &read("public_spki.pem"),
    ];
    for input in inputs {
        assert_eq!(
            AwsLcPrivateKey::parse(input).unwrap_err(),
            PrivateKey::parse(input).unwrap_err()
        );
    }
    let inputs: [&[u8]; 5] = [
        &read("ec_p256_pkcs8.pem"),
        b"not a key",
        b"",
        &[0x30, 0x03, 0x02, 0x01, 0x00],
        &read("private_pkcs8.pem"),
    ];
    for input in inputs {
        assert_eq!(
            AwsLcPublicKey::parse(input).unwrap_err(),
            PublicKey::parse(input).unwrap_err()
        );
    }
}

#[test]
fn no_key_material_in_debug() {
    let private = AwsLcPrivateKey::parse(&read("private_pkcs8.pem")).unwrap();
    let public = AwsLcPublicKey::parse(&read("public_spki.pem")).unwrap();
    assert_eq!(format!("{private:?}"), "AwsLcPrivateKey { bits: 2048 }");
    assert_eq!(format!("{public:?}"), "AwsLcPublicKey { bits: 2048 }");
    assert_eq!(
        format!("{:?}", private.public_key().unwrap()),
        "AwsLcPublicKey { bits: 2048 }"
    );
}

/// What a client holds: trait objects, with keys of either backend side by side, chosen by
/// keyVersion, used from several threads.
#[test]
fn backends_mix_behind_trait_objects_and_threads() {
    type Verifier = Box<dyn ContentVerifier + Send + Sync>;
    let fast: Verifier = Box::new(AwsLcPublicKey::parse(&read("public_spki.pem")).unwrap());
    let default: Verifier = Box::new(PublicKey::parse(&read("rsa4096_spki.pem")).unwrap());
    let keys = PublicKeys::new()
        .with(1, fast)
        .unwrap()
        .with(2, default)
        .unwrap();
    let signers: [(u32, Arc<dyn ContentSigner + Send + Sync>); 2] = [
        (
            1,
            Arc::new(PrivateKey::parse(&read("private_pkcs1.pem")).unwrap()),
        ),
        (
            2,
            Arc::new(AwsLcPrivateKey::parse(&read("rsa4096_pkcs8.pem")).unwrap()),
        ),
    ];
    let keys = Arc::new(keys);
    // `boxed` gives the same type from a set of either backend (what a client stores).
    let lc_only: PublicKeys<message::BoxedVerifier> =
        PublicKeys::single(1, AwsLcPublicKey::parse(&read("public_spki.pem")).unwrap()).boxed();
    let content = SignContent::request("POST", "/p", "C", "T", b"{}");
    let header = message::sign_content(&signers[0].1, 1, &content).unwrap();
    assert_eq!(
        message::verify_content(&lc_only, &content, header.as_str()),
        Ok(1)
    );
    std::thread::scope(|s| {
        for (version, signer) in &signers {
            let keys = Arc::clone(&keys);
            s.spawn(move || {
                for i in 0..4 {
                    let body = format!(r#"{{"n":{i}}}"#);
                    let content = SignContent::request("POST", "/p", "C", "T", body.as_bytes());
                    let header = message::sign_content(signer, *version, &content).unwrap();
                    let used = message::verify_content(&keys, &content, header.as_str());
                    assert_eq!(used, Ok(*version));
                }
            });
        }
    });
}
