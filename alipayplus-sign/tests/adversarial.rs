//! Hostile input to the parsers: deterministic pseudo-random mutations (a few thousand per
//! target, about a second) of `Signature` headers, message headers and key files must give a
//! value or a typed error, never a panic; nothing unsigned or altered verifies.

use alipayplus_sign::{
    Error, PrivateKey, PublicKey, PublicKeys, SignContent, SignatureHeader, message,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const PIECES: &[&str] = &[
    ",",
    "=",
    " ",
    "\t",
    "%",
    "%2",
    "%2B",
    "%3D",
    "%25",
    "%zz",
    "+",
    "/",
    "-",
    "_",
    "==",
    "algorithm=RSA256",
    "keyVersion=",
    "signature=",
    "SIGNATURE=",
    "4294967296",
    "é",
    "😀",
    "\u{0}",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                out.splice(at..at, piece.iter().copied());
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + rng.below(64)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

fn key() -> PrivateKey {
    PrivateKey::parse(include_bytes!("data/private_pkcs8.pem")).unwrap()
}

#[test]
fn signature_headers_parse_or_fail_typed() {
    let k = key();
    let content = SignContent::request("POST", "/p", "C", "T", b"{}");
    let signed = message::sign_content(&k, 1, &content).unwrap();
    let spaced = signed
        .as_str()
        .replace(',', " , ")
        .replace("algorithm", "ALGORITHM");
    let seeds = [
        signed.as_str().to_string(),
        spaced,
        "algorithm=RSA256,keyVersion=0,signature=AAAA".to_string(),
    ];
    let mut rng = Rng(0x5eed_0000_0000_0001);
    for seed in &seeds {
        for _ in 0..5000 {
            let bytes = mutate(&mut rng, seed.as_bytes());
            let text = String::from_utf8_lossy(&bytes);
            match SignatureHeader::parse(&text) {
                Ok(parsed) => {
                    assert!(!parsed.signature.is_empty());
                    assert!(parsed.signature.len() <= alipayplus_sign::MAX_SIGNATURE_LEN);
                }
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
    }
}

/// Mutated headers and bodies over a real signature: verification either fails with a typed
/// error or (when the mutation left the signed parts and the decoded signature unchanged)
/// succeeds on the same content. Nothing altered verifies.
#[test]
fn verify_request_never_accepts_altered_messages() {
    let k = key();
    let keys = PublicKeys::single(1, k.public_key());
    let body = br#"{"paymentRequestId":"pay-1","paymentAmount":{"currency":"USD","value":"1000"}}"#;
    let (uri, client, time) = ("/notify", "CLIENT", "2025-02-20T08:52:00+08:00");
    let sig = message::sign_request(&k, 1, "POST", uri, client, time, body).unwrap();
    let original = SignatureHeader::parse(sig.as_str()).unwrap().signature;
    let mut rng = Rng(0x5eed_0000_0000_0002);
    // Fewer rounds: each one that reaches RSA costs a verification.
    for round in 0..600 {
        let mut headers: Vec<(String, Vec<u8>)> = vec![
            ("Signature".into(), sig.as_str().as_bytes().to_vec()),
            ("Client-Id".into(), client.as_bytes().to_vec()),
            ("Request-Time".into(), time.as_bytes().to_vec()),
        ];
        let mut b = body.to_vec();
        match round % 3 {
            0 => b = mutate(&mut rng, body),
            1 => {
                let i = rng.below(headers.len());
                headers[i].1 = mutate(&mut rng, &headers[i].1);
            }
            _ => {
                let i = rng.below(headers.len());
                if rng.below(2) == 0 {
                    headers.remove(i);
                } else {
                    let copy = headers[i].clone();
                    headers.push(copy);
                }
            }
        }
        let result = message::verify_request(
            &keys,
            "POST",
            uri,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
            &b,
        );
        if let Ok(v) = result {
            assert_eq!(b, body, "an altered body verified");
            assert_eq!((v.client_id, v.time), (client, time));
            let value = &headers.iter().find(|(n, _)| n == "Signature").unwrap().1;
            let parsed = SignatureHeader::parse(std::str::from_utf8(value).unwrap()).unwrap();
            assert_eq!(parsed.signature, original);
        }
    }
}

#[test]
fn key_files_parse_or_fail_typed() {
    let seeds: [&[u8]; 4] = [
        include_bytes!("data/public_spki.pem"),
        include_bytes!("data/public_spki.der"),
        include_bytes!("data/public_pkcs1.der"),
        include_bytes!("data/public_spki.b64"),
    ];
    let mut rng = Rng(0x5eed_0000_0000_0003);
    for seed in seeds {
        for _ in 0..700 {
            let bytes = mutate(&mut rng, seed);
            match PublicKey::parse(&bytes) {
                Ok(k) => assert!((2048..=4096).contains(&k.bits())),
                Err(e) => assert!(
                    matches!(
                        e,
                        Error::UnrecognizedKey { .. }
                            | Error::KeyTooSmall { .. }
                            | Error::KeyTooLarge { .. }
                    ),
                    "{e:?}"
                ),
            }
        }
    }
    // Private keys: fewer rounds (a parse that succeeds checks the RSA key).
    let seeds: [&[u8]; 2] = [
        include_bytes!("data/private_pkcs1.der"),
        include_bytes!("data/private_pkcs8.pem"),
    ];
    for seed in seeds {
        for _ in 0..150 {
            let bytes = mutate(&mut rng, seed);
            if let Err(e) = PrivateKey::parse(&bytes) {
                let shown = format!("{e} {e:?}");
                assert!(shown.len() < 400, "{shown}");
            }
        }
    }
}
