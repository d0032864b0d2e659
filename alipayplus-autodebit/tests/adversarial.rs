//! Hostile input to the Auto Debit entry points: the redirect URL the shopper returns on, and
//! the inbound authNotify / consultUnbinding bodies. Deterministic pseudo-random mutations (a
//! few thousand cases, about a second) must give a typed result, never a panic; a redirect
//! whose state is not the binding's never yields a code; refusals keep credentials out of
//! `Debug` and `Display`.

use alipayplus_autodebit::{
    AuthEvent, AuthState, Binding, CodeUpdate, Error, handle_auth_notify, handle_consult_unbinding,
    redirect::parse_redirect,
};
use alipayplus_client::client::{ClientConfig, Host};
use alipayplus_client::time::Timestamp;
use alipayplus_client::transport::Request;
use alipayplus_sign::{
    ContentSigner, ContentVerifier, Error as SignError, PublicKeys, RsaSignature, SignContent,
};

struct AcceptAll;
impl ContentVerifier for AcceptAll {
    fn verify(&self, _: &SignContent<'_>, _: &[u8]) -> Result<(), SignError> {
        Ok(())
    }
}

struct FixedSigner;
impl ContentSigner for FixedSigner {
    fn sign(&self, _: &SignContent<'_>) -> Result<RsaSignature, SignError> {
        RsaSignature::from_slice(&[7; 256])
    }
}

fn lenient_config() -> ClientConfig {
    ClientConfig::new(
        "SANDBOX_5YC47N2ZQHJ004124",
        Host::OtherRegionsAccelerated,
        FixedSigner,
        PublicKeys::single(1, AcceptAll),
        || Timestamp::from_unix_secs(1_748_736_000),
    )
    .unwrap()
}

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
    "%",
    "%2",
    "%FF",
    "%C3%A9",
    "%00",
    "+",
    "&",
    "=",
    "?",
    "#",
    "authCode=",
    "authState=",
    "&authCode=x",
    "&authState=",
    "é",
    "😀",
    "\"",
    "{",
    "}",
    "null",
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
                let end = (at + rng.below(12)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                out.splice(at..at, piece.iter().copied());
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + rng.below(24)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

const STATE: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn redirects_parse_or_fail_typed_and_never_skip_the_state_check() {
    let url = format!(
        "https://merchant.example.com/auth-return?order=1&authCode=2810011%2B1&authState={STATE}#frag"
    );
    let mut rng = Rng(0xabad_1dea_0000_0001);
    for _ in 0..6000 {
        let text = String::from_utf8_lossy(&mutate(&mut rng, url.as_bytes())).into_owned();
        let parsed = parse_redirect(&text);
        let mut binding = Binding::new(
            "M1",
            "https://merchant.example.com/auth-return",
            AuthState::parse(STATE).unwrap(),
        );
        match binding.on_redirect(&text) {
            Ok(update) => {
                assert_eq!(update, CodeUpdate::New);
                let back = parsed.expect("on_redirect accepted what parse_redirect refused");
                assert_eq!(back.auth_state.as_deref(), Some(STATE), "{text}");
                assert!(back.auth_code.is_some());
                assert!(binding.apply_token_request().is_ok());
            }
            Err(e) => {
                assert!(binding.apply_token_request().is_err(), "code taken on {e}");
                let shown = format!("{e} {e:?}");
                assert!(!shown.contains(STATE), "{shown}");
                assert!(!shown.contains("2810011"), "{shown}");
            }
        }
    }
    // A missing state is refused unless the binding opted out.
    let mut strict = Binding::new("M1", "https://m.test/r", AuthState::parse(STATE).unwrap());
    assert!(matches!(
        strict.on_redirect("/r?authCode=abc"),
        Err(Error::MissingState)
    ));
}

#[test]
fn auth_notify_and_consult_unbinding_survive_mutated_bodies() {
    let config = lenient_config();
    let seeds = [
        r#"{"authorizationNotifyType":"TOKEN_CREATED","authClientId":"M1","accessToken":"AT-TOPSECRET-0001","refreshToken":"RT-TOPSECRET-0002","accessTokenExpiryTime":"2025-06-01T08:00:00+08:00","refreshTokenExpiryTime":"2025-06-02T08:00:00+08:00","authState":"0123456789abcdef"}"#,
        r#"{"authorizationNotifyType":"AUTHCODE_CREATED","authClientId":"M1","authCode":"AC-TOPSECRET-0003","authState":"0123456789abcdef"}"#,
        r#"{"authorizationNotifyType":"TOKEN_CANCELED","authClientId":"M1","accessToken":"AT-TOPSECRET-0001"}"#,
        r#"{"authClientId":"M1","accessToken":"AT-TOPSECRET-0001","customerBelongsTo":"GCASH"}"#,
    ];
    let mut rng = Rng(0xabad_1dea_0000_0002);
    // How many mutated bodies got past verification into the parsers (each kind must).
    let (mut notified, mut consulted) = (0, 0);
    for seed in seeds {
        for _ in 0..1500 {
            let body = mutate(&mut rng, seed.as_bytes());
            let mut request = Request::post("/authNotify", body);
            request.headers.insert(
                "Signature",
                // Well-formed (URL-encoded base64 of 9 bytes), so the accept-all verifier lets
                // the body through to the parser under test.
                "algorithm=RSA256,keyVersion=1,signature=BwcH%2BwcH%2FwcH",
            );
            request
                .headers
                .insert("Client-Id", "SANDBOX_5YC47N2ZQHJ004124");
            request
                .headers
                .insert("Request-Time", "2025-06-01T08:00:00+08:00");
            match handle_auth_notify(&config, &request) {
                Ok(n) => {
                    notified += 1;
                    assert_eq!(n.answer.status, 200);
                    let _ = (n.body.event.dedup_key(), n.body.event.auth_client_id());
                    let shown = format!("{n:?}");
                    for secret in match &n.body.event {
                        AuthEvent::AuthCodeCreated { auth_code, .. } => vec![auth_code.expose()],
                        AuthEvent::TokenCreated { tokens, .. } => {
                            vec![tokens.access_token.expose()]
                        }
                        AuthEvent::TokenCanceled { access_token, .. } => {
                            vec![access_token.expose()]
                        }
                        _ => vec![],
                    } {
                        assert!(secret.len() < 4 || !shown.contains(secret), "{shown}");
                    }
                }
                Err(refused) => {
                    assert_eq!(refused.answer.status, 200);
                    let shown = format!("{refused:?} {}", refused.error);
                    assert!(!shown.contains("TOPSECRET"), "{shown}");
                }
            }
            match handle_consult_unbinding(&config, &request) {
                Ok(c) => {
                    consulted += 1;
                    let _ = c.answer.refuse(
                        &config,
                        &alipayplus_autodebit::unbinding_refusal(&"é".repeat(1000)),
                    );
                    let _ = c.answer.acknowledge(&config);
                }
                Err(refused) => {
                    let shown = format!("{refused:?} {}", refused.error);
                    assert!(!shown.contains("TOPSECRET"), "{shown}");
                }
            }
        }
    }
    assert!(
        notified > 100 && consulted > 100,
        "parsed: {notified} / {consulted}"
    );
}
