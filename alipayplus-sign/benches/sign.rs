//! Benchmarks of the signing crate: `cargo bench -p alipayplus-sign`.
//!
//! Groups: content hashing (1 KB, 64 KB), header format and parse, key parse, RSA sign and
//! verify (this crate and the raw `rsa` crate underneath), and the whole non-RSA path (content +
//! SHA-256 of 1 KB + base64 + percent-encoding + header), whose budget is 2 µs.
#![allow(missing_docs)] // criterion's macros generate undocumented public items

use alipayplus_sign::{
    ContentSigner, ContentVerifier, Error, PrivateKey, PublicKey, RsaSignature, SignContent,
    SignatureHeader, message,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const PRIVATE_PEM: &[u8] = include_bytes!("../tests/data/private_pkcs8.pem");
const PRIVATE_B64: &[u8] = include_bytes!("../tests/data/private_pkcs8.b64");
const PUBLIC_PEM: &[u8] = include_bytes!("../tests/data/public_spki.pem");
const URI: &str = "/aps/api/v1/payments/pay";
const CLIENT: &str = "SANDBOX_5YBZ1A2YBZ9C01234";
const TIME: &str = "2024-05-17T12:08:56+08:00";

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

fn content_hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("content_sha256");
    for (name, len) in [("1KB", 1024), ("64KB", 64 * 1024)] {
        let body = body(len);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &body, |b, body| {
            b.iter(|| SignContent::request("POST", URI, CLIENT, TIME, black_box(body)).sha256())
        });
    }
    g.finish();
}

fn header(c: &mut Criterion) {
    let signature = [0xfbu8; 256];
    let formatted = SignatureHeader::new(1, &signature).unwrap();
    let mut g = c.benchmark_group("header");
    g.bench_function("format", |b| {
        b.iter(|| SignatureHeader::new(1, black_box(&signature)).unwrap())
    });
    g.bench_function("parse", |b| {
        b.iter(|| SignatureHeader::parse(black_box(formatted.as_str())).unwrap())
    });
    g.finish();
}

fn key_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("key_parse");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    g.bench_function("private_pkcs8_pem", |b| {
        b.iter(|| PrivateKey::parse(black_box(PRIVATE_PEM)).unwrap())
    });
    g.bench_function("private_pkcs8_base64", |b| {
        b.iter(|| PrivateKey::parse(black_box(PRIVATE_B64)).unwrap())
    });
    g.bench_function("public_spki_pem", |b| {
        b.iter(|| PublicKey::parse(black_box(PUBLIC_PEM)).unwrap())
    });
    g.finish();
}

fn rsa_ops(c: &mut Criterion) {
    use rsa::pkcs1v15::{SigningKey, VerifyingKey};
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
    use rsa::signature::hazmat::{PrehashSigner, PrehashVerifier};

    let key = PrivateKey::parse(PRIVATE_PEM).unwrap();
    let public = PublicKey::parse(PUBLIC_PEM).unwrap();
    let body = body(1024);
    let content = SignContent::request("POST", URI, CLIENT, TIME, &body);
    let signature = key.sign(&content).unwrap();
    let digest = content.sha256();

    let raw_signer = SigningKey::<sha2::Sha256>::new(
        rsa::PrivateKey::from_pkcs8_pem(std::str::from_utf8(PRIVATE_PEM).unwrap()).unwrap(),
    );
    let raw_verifier = VerifyingKey::<sha2::Sha256>::new(
        rsa::PublicKey::from_public_key_pem(std::str::from_utf8(PUBLIC_PEM).unwrap()).unwrap(),
    );
    let raw_signature = rsa::pkcs1v15::Signature::try_from(signature.as_bytes()).unwrap();

    let mut g = c.benchmark_group("rsa2048");
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    g.bench_function("sign", |b| {
        b.iter(|| key.sign(black_box(&content)).unwrap())
    });
    g.bench_function("verify", |b| {
        b.iter(|| {
            public
                .verify(black_box(&content), signature.as_bytes())
                .unwrap()
        })
    });
    // The `rsa` crate alone on the same prehash, to show what this crate's wrapper costs.
    g.bench_function("raw_rsa_crate_sign_prehash", |b| {
        b.iter(|| {
            let s: rsa::pkcs1v15::Signature = raw_signer.sign_prehash(black_box(&digest)).unwrap();
            s
        })
    });
    g.bench_function("raw_rsa_crate_verify_prehash", |b| {
        b.iter(|| {
            raw_verifier
                .verify_prehash(black_box(&digest), &raw_signature)
                .unwrap()
        })
    });
    g.finish();
}

/// Stands in for the RSA step so the rest of the path can be timed alone.
struct FixedSigner(RsaSignature);

impl ContentSigner for FixedSigner {
    fn sign(&self, content: &SignContent<'_>) -> Result<RsaSignature, Error> {
        // Hash as a real backend must; keep the result so it is not optimised away.
        black_box(content.sha256());
        Ok(self.0.clone())
    }
}

fn non_rsa_path(c: &mut Criterion) {
    let body = body(1024);
    let signer = FixedSigner(RsaSignature::from_slice(&[0xfb; 256]).unwrap());
    c.bench_function("non_rsa_path_1KB", |b| {
        b.iter(|| {
            message::sign_request(&signer, 1, "POST", URI, CLIENT, TIME, black_box(&body)).unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = content_hashing, header, key_parse, rsa_ops, non_rsa_path
}
criterion_main!(benches);
