//! The two signing backends side by side: `cargo bench -p alipayplus-sign --features aws-lc
//! --bench backends`. `cargo xtask bench-report` runs this beside `openssl speed rsa2048` and
//! writes the table into the README.
//!
//! - `backends_rsa2048`: sign and verify of the same content (1 KB body, RSA-2048) with the
//!   default backend (`rsa`), the `aws-lc` backend, and each library called directly on the
//!   contiguous content (`raw_*`), which is what the wrappers must stay close to; and the
//!   `aws-lc` backend on a content with an empty body (almost no hashing, like `openssl speed`).
//! - `sign_throughput_rsa2048`: N threads (1 and 2) signing at once with one shared key; each
//!   iteration is N signatures made in parallel, so criterion's throughput line is the total
//!   signatures per second.
#![allow(missing_docs)] // criterion's macros generate undocumented public items

use alipayplus_sign::{
    AwsLcPrivateKey, AwsLcPublicKey, ContentSigner, ContentVerifier, PrivateKey, PublicKey,
    SignContent,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

const PRIVATE_PEM: &[u8] = include_bytes!("../tests/data/private_pkcs8.pem");
const PRIVATE_DER: &[u8] = include_bytes!("../tests/data/private_pkcs8.der");
const PUBLIC_PEM: &[u8] = include_bytes!("../tests/data/public_spki.pem");
const PUBLIC_DER: &[u8] = include_bytes!("../tests/data/public_spki.der");
const URI: &str = "/aps/api/v1/payments/pay";
const CLIENT: &str = "SANDBOX_5YBZ1A2YBZ9C01234";
const TIME: &str = "2024-05-17T12:08:56+08:00";

fn body() -> Vec<u8> {
    (0..1024).map(|i| b'a' + (i % 26) as u8).collect()
}

fn backends(c: &mut Criterion) {
    let body = body();
    let content = SignContent::request("POST", URI, CLIENT, TIME, &body);
    let contiguous = content.to_vec();

    let rsa_key = PrivateKey::parse(PRIVATE_PEM).unwrap();
    let rsa_public = PublicKey::parse(PUBLIC_PEM).unwrap();
    let lc_key = AwsLcPrivateKey::parse(PRIVATE_PEM).unwrap();
    let lc_public = AwsLcPublicKey::parse(PUBLIC_PEM).unwrap();
    let signature = lc_key.sign(&content).unwrap();
    assert_eq!(signature, rsa_key.sign(&content).unwrap());

    // The libraries alone, on the contiguous content (they hash it themselves).
    let raw_rsa = {
        use rsa::pkcs8::DecodePrivateKey;
        rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(
            rsa::PrivateKey::from_pkcs8_der(PRIVATE_DER).unwrap(),
        )
    };
    let raw_rsa_public = {
        use rsa::pkcs8::DecodePublicKey;
        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(
            rsa::PublicKey::from_public_key_der(PUBLIC_DER).unwrap(),
        )
    };
    let raw_lc = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(PRIVATE_DER).unwrap();
    let raw_lc_public = aws_lc_rs::signature::ParsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        PUBLIC_DER,
    )
    .unwrap();
    let rng = aws_lc_rs::rand::SystemRandom::new();

    let mut g = c.benchmark_group("backends_rsa2048");
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    g.bench_function("sign_rsa", |b| {
        b.iter(|| rsa_key.sign(black_box(&content)).unwrap())
    });
    g.bench_function("sign_aws_lc", |b| {
        b.iter(|| lc_key.sign(black_box(&content)).unwrap())
    });
    // An empty body leaves ~80 bytes to hash: nearly the bare RSA operation that `openssl speed`
    // times, so the gap to OpenSSL can be split into hashing and the rest.
    let empty = SignContent::request("POST", URI, CLIENT, TIME, b"");
    let empty_signature = lc_key.sign(&empty).unwrap();
    g.bench_function("sign_aws_lc_empty_body", |b| {
        b.iter(|| lc_key.sign(black_box(&empty)).unwrap())
    });
    g.bench_function("verify_aws_lc_empty_body", |b| {
        b.iter(|| {
            lc_public
                .verify(black_box(&empty), empty_signature.as_bytes())
                .unwrap()
        })
    });
    g.bench_function("sign_raw_rsa_crate", |b| {
        use rsa::signature::Signer;
        b.iter(|| {
            let s: rsa::pkcs1v15::Signature = raw_rsa.sign(black_box(&contiguous));
            s
        })
    });
    g.bench_function("sign_raw_aws_lc_rs", |b| {
        let mut out = [0u8; 256];
        b.iter(|| {
            raw_lc
                .sign(
                    &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                    &rng,
                    black_box(&contiguous),
                    &mut out,
                )
                .unwrap();
            out[0]
        })
    });
    g.bench_function("verify_rsa", |b| {
        b.iter(|| {
            rsa_public
                .verify(black_box(&content), signature.as_bytes())
                .unwrap()
        })
    });
    g.bench_function("verify_aws_lc", |b| {
        b.iter(|| {
            lc_public
                .verify(black_box(&content), signature.as_bytes())
                .unwrap()
        })
    });
    g.bench_function("verify_raw_rsa_crate", |b| {
        use rsa::signature::Verifier;
        // The signature arrives as bytes (a header), so it is decoded in the loop, as our
        // verifier must do; decoding it once outside would time less work than ours.
        b.iter(|| {
            let signature =
                rsa::pkcs1v15::Signature::try_from(black_box(signature.as_bytes())).unwrap();
            raw_rsa_public
                .verify(black_box(&contiguous), &signature)
                .unwrap()
        })
    });
    g.bench_function("verify_raw_aws_lc_rs", |b| {
        b.iter(|| {
            raw_lc_public
                .verify_sig(black_box(&contiguous), signature.as_bytes())
                .unwrap()
        })
    });
    g.finish();
}

/// Wall time for `threads` threads to make `iters` signatures each with one shared signer,
/// started together.
fn parallel_sign<S: ContentSigner + Sync>(
    signer: &S,
    content: &SignContent<'_>,
    threads: usize,
    iters: u64,
) -> Duration {
    let start_line = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start_line.wait();
                    for _ in 0..iters {
                        black_box(signer.sign(black_box(content)).unwrap());
                    }
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        for worker in workers {
            worker.join().unwrap();
        }
        start.elapsed()
    })
}

fn throughput(c: &mut Criterion) {
    let body = body();
    let content = SignContent::request("POST", URI, CLIENT, TIME, &body);
    let rsa_key = PrivateKey::parse(PRIVATE_PEM).unwrap();
    let lc_key = AwsLcPrivateKey::parse(PRIVATE_PEM).unwrap();

    let mut g = c.benchmark_group("sign_throughput_rsa2048");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    for threads in [1usize, 2] {
        // One iteration = one signature per thread, so throughput = signatures per second.
        g.throughput(Throughput::Elements(threads as u64));
        g.bench_with_input(BenchmarkId::new("rsa", threads), &threads, |b, &n| {
            b.iter_custom(|iters| parallel_sign(&rsa_key, &content, n, iters))
        });
        g.bench_with_input(BenchmarkId::new("aws_lc", threads), &threads, |b, &n| {
            b.iter_custom(|iters| parallel_sign(&lc_key, &content, n, iters))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = backends, throughput
}
criterion_main!(benches);
