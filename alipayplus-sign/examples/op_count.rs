//! N signatures or verifications of the benchmark's content (1 KB body, RSA-2048), by the
//! default backend (`ours`) or by the `rsa` crate alone on the contiguous content (`raw`), as
//! `benches/backends.rs` times them. Run under `valgrind --tool=callgrind` it gives instruction
//! counts, which do not move with the machine's load the way wall-clock time does; run it with
//! N and with 0 and the difference divided by N is the cost of one operation without the
//! set-up. `alipayplus-sign/benches/op_count.sh` does that for the four cases and prints the
//! ratios the README's "within 5% of the `rsa` crate" rows are about.
//!
//! ```sh
//! cargo run --release -p alipayplus-sign --example op_count -- verify ours 20
//! ```

use std::hint::black_box;
use std::process::ExitCode;

use alipayplus_sign::{ContentSigner, ContentVerifier, PrivateKey, PublicKey, SignContent};

const PRIVATE_PEM: &[u8] = include_bytes!("../tests/data/private_pkcs8.pem");
const PRIVATE_DER: &[u8] = include_bytes!("../tests/data/private_pkcs8.der");
const PUBLIC_PEM: &[u8] = include_bytes!("../tests/data/public_spki.pem");
const PUBLIC_DER: &[u8] = include_bytes!("../tests/data/public_spki.der");
const URI: &str = "/aps/api/v1/payments/pay";
const CLIENT: &str = "SANDBOX_5YBZ1A2YBZ9C01234";
const TIME: &str = "2024-05-17T12:08:56+08:00";
const USAGE: &str = "usage: op_count <sign|verify> <ours|raw> N";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [op, who, n] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<u32>() else {
        eprintln!("N must be a whole number\n{USAGE}");
        return ExitCode::from(2);
    };
    let body: Vec<u8> = (0..1024).map(|i| b'a' + (i % 26) as u8).collect();
    let content = SignContent::request("POST", URI, CLIENT, TIME, &body);
    match (op.as_str(), who.as_str()) {
        ("sign", "ours") => sign_ours(&content, n),
        ("sign", "raw") => sign_raw(&content.to_vec(), n),
        ("verify", "ours") => verify_ours(&content, n),
        ("verify", "raw") => verify_raw(&content, n),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn sign_ours(content: &SignContent<'_>, n: u32) {
    let key = PrivateKey::parse(PRIVATE_PEM).expect("bundled test key");
    for _ in 0..n {
        black_box(key.sign(black_box(content)).expect("sign"));
    }
}

fn sign_raw(contiguous: &[u8], n: u32) {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::Signer;
    let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(
        rsa::PrivateKey::from_pkcs8_der(PRIVATE_DER).expect("bundled test key"),
    );
    for _ in 0..n {
        let s: rsa::pkcs1v15::Signature = key.sign(black_box(contiguous));
        black_box(s);
    }
}

fn verify_ours(content: &SignContent<'_>, n: u32) {
    let signature = PrivateKey::parse(PRIVATE_PEM)
        .and_then(|k| k.sign(content))
        .expect("bundled test key");
    let key = PublicKey::parse(PUBLIC_PEM).expect("bundled test key");
    for _ in 0..n {
        key.verify(black_box(content), signature.as_bytes())
            .expect("verify");
    }
}

fn verify_raw(content: &SignContent<'_>, n: u32) {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let signature = PrivateKey::parse(PRIVATE_PEM)
        .and_then(|k| k.sign(content))
        .expect("bundled test key");
    let contiguous = content.to_vec();
    let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(
        rsa::PublicKey::from_public_key_der(PUBLIC_DER).expect("bundled test key"),
    );
    for _ in 0..n {
        // Decoded in the loop, as the bench's raw row does: the signature arrives as bytes.
        let s = rsa::pkcs1v15::Signature::try_from(black_box(signature.as_bytes())).expect("len");
        key.verify(black_box(&contiguous), &s).expect("verify");
    }
}
