//! Decoding key text (PEM, bare base64 with line breaks) leaves no unwiped copy of the key
//! behind: our decoding buffers are `Zeroizing` and sized once, so they are never reallocated
//! (a reallocation moves the bytes and frees the old block without wiping it).
//!
//! Measured with a counting global allocator (its own process, no harness threads): reading the
//! key from PEM or from base64 text makes no more reallocations than reading the same key from
//! DER, so the text stages add none.

use alipayplus_sign::PrivateKey;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn reallocations(f: impl FnOnce()) -> usize {
    let region = Region::new(GLOBAL);
    f();
    region.change().reallocations
}

fn main() {
    let der = include_bytes!("data/private_pkcs8.der").to_vec();
    let pem = include_str!("data/private_pkcs8.pem").to_string();
    let b64 = include_str!("data/private_pkcs8.b64").trim().to_string();
    // The portal's one-line form, and the same with line breaks every 64 characters.
    let wrapped: String = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");

    let baseline = reallocations(|| drop(PrivateKey::from_der(&der).unwrap()));
    for (what, n) in [
        (
            "PEM",
            reallocations(|| drop(PrivateKey::from_pem(&pem).unwrap())),
        ),
        (
            "base64",
            reallocations(|| drop(PrivateKey::from_base64(&b64).unwrap())),
        ),
        (
            "wrapped base64",
            reallocations(|| drop(PrivateKey::from_base64(&wrapped).unwrap())),
        ),
        (
            "parse(PEM)",
            reallocations(|| drop(PrivateKey::parse(pem.as_bytes()).unwrap())),
        ),
    ] {
        assert!(
            n <= baseline,
            "{what}: {n} reallocations, DER alone makes {baseline}: a decoding buffer grew (an unwiped copy)"
        );
    }
    println!("key_copies: ok (DER baseline {baseline} reallocations)");
}
