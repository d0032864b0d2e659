//! Key loading: forms detected, weak and foreign keys refused, no key material leaks.

use alipayplus_sign::{
    ContentSigner, ContentVerifier, Error, KeyKind, PrivateKey, PublicKey, SignContent,
};
use std::path::PathBuf;

fn read(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn content() -> SignContent<'static> {
    SignContent::request("POST", "/aps/api/v1/payments/pay", "C", "T", b"{}")
}

#[test]
fn pasted_variants_of_the_same_key_load() {
    let pem = String::from_utf8(read("private_pkcs8.pem")).unwrap();
    let b64 = String::from_utf8(read("private_pkcs8.b64")).unwrap();
    let reference = PrivateKey::parse(pem.as_bytes()).unwrap();
    let expected = reference.sign(&content()).unwrap();

    let crlf = pem.replace('\n', "\r\n");
    let padded = format!("\n\n  {pem}\n\n");
    // The one-line base64 wrapped at 64 columns, as some tools print it.
    let wrapped: String = b64
        .trim()
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    for (name, text) in [("crlf", crlf), ("padded", padded), ("wrapped b64", wrapped)] {
        let key = PrivateKey::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.sign(&content()).unwrap(), expected, "{name}");
    }
    assert_eq!(
        PrivateKey::from_pem(&pem)
            .unwrap()
            .sign(&content())
            .unwrap(),
        expected
    );
}

#[test]
fn public_key_of_private_key_matches_the_published_one() {
    let private = PrivateKey::parse(&read("private_pkcs1.pem")).unwrap();
    let public = PublicKey::parse(&read("public_spki.pem")).unwrap();
    let sig = private.sign(&content()).unwrap();
    assert_eq!(public.verify(&content(), sig.as_bytes()), Ok(()));
    assert_eq!(
        private.public_key().to_spki_der().unwrap(),
        read("public_spki.der")
    );
    assert_eq!(public.to_pkcs1_der().unwrap(), read("public_pkcs1.der"));
    assert_eq!(
        private.to_pkcs8_der().unwrap().as_slice(),
        read("private_pkcs8.der")
    );
    assert_eq!(public.bits(), 2048);
    assert_eq!(private.bits(), 2048);
}

#[test]
fn keys_under_2048_bits_are_refused() {
    assert_eq!(
        PrivateKey::parse(&read("weak_1024_pkcs8.pem")).unwrap_err(),
        Error::KeyTooSmall {
            kind: KeyKind::Private,
            bits: 1024
        }
    );
    assert_eq!(
        PublicKey::parse(&read("weak_1024_spki.pem")).unwrap_err(),
        Error::KeyTooSmall {
            kind: KeyKind::Public,
            bits: 1024
        }
    );
}

#[test]
fn rsa_4096_keys_work_end_to_end() {
    let private = PrivateKey::parse(&read("rsa4096_pkcs8.pem")).unwrap();
    let public = PublicKey::parse(&read("rsa4096_spki.pem")).unwrap();
    assert_eq!(public.bits(), 4096);
    let sig = private.sign(&content()).unwrap();
    assert_eq!(sig.len(), 512);
    assert_eq!(public.verify(&content(), sig.as_bytes()), Ok(()));
    // A 2048-bit signature is refused by a 4096-bit key, and the other way round.
    let small = PrivateKey::parse(&read("private_pkcs8.pem")).unwrap();
    let small_sig = small.sign(&content()).unwrap();
    assert_eq!(
        public.verify(&content(), small_sig.as_bytes()),
        Err(Error::VerificationFailed)
    );
    assert_eq!(
        small.public_key().verify(&content(), sig.as_bytes()),
        Err(Error::VerificationFailed)
    );
}

#[test]
fn unrecognized_input_names_what_it_looked_like_and_the_forms_tried() {
    for (input, looked_like) in [
        (read("ec_p256_pkcs8.pem"), "PEM"),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
            "PEM",
        ),
        (vec![0x30, 0x03, 0x02, 0x01, 0x00], "DER"),
        (b"not a key at all!".to_vec(), "base64"),
        (b"".to_vec(), "base64"),
        (b"QUJD".to_vec(), "base64"),
    ] {
        let err = PrivateKey::parse(&input).unwrap_err();
        match &err {
            Error::UnrecognizedKey {
                kind: KeyKind::Private,
                looked_like: l,
                tried,
            } => {
                assert_eq!(*l, looked_like);
                assert!(tried.contains("PKCS#8") && tried.contains("PKCS#1"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("tried") && msg.contains("PEM") && msg.contains("DER"));
    }
    // A private key is not a public key and vice versa.
    assert!(matches!(
        PublicKey::parse(&read("private_pkcs8.pem")),
        Err(Error::UnrecognizedKey {
            kind: KeyKind::Public,
            ..
        })
    ));
    assert!(matches!(
        PrivateKey::parse(&read("public_spki.b64")),
        Err(Error::UnrecognizedKey {
            kind: KeyKind::Private,
            ..
        })
    ));
    let public_err = PublicKey::parse(b"garbage").unwrap_err().to_string();
    assert!(public_err.contains("SubjectPublicKeyInfo"), "{public_err}");
}

#[test]
fn encrypted_pem_gets_its_own_advice() {
    let pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert!(matches!(
        PrivateKey::parse(pem.as_bytes()),
        Err(Error::EncryptedKey)
    ));
}

#[test]
fn no_key_material_in_debug_or_errors() {
    let private = PrivateKey::parse(&read("private_pkcs8.pem")).unwrap();
    let public = PublicKey::parse(&read("public_spki.pem")).unwrap();
    assert_eq!(format!("{private:?}"), "PrivateKey { bits: 2048 }");
    assert_eq!(format!("{public:?}"), "PublicKey { bits: 2048 }");
    assert_eq!(
        format!("{:#?}", private.public_key()),
        "PublicKey {\n    bits: 2048,\n}"
    );

    // A corrupted key: errors must not echo any part of the input.
    let mut b64 = read("private_pkcs8.b64");
    b64.truncate(b64.len() / 2);
    let err = PrivateKey::parse(&b64).unwrap_err();
    let shown = format!("{err} {err:?}");
    let sample = std::str::from_utf8(&b64[40..60]).unwrap();
    assert!(!shown.contains(sample), "{shown}");
}
