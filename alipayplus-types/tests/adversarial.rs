//! Hostile input to the hand-written core types and the generated bodies: deterministic
//! pseudo-random mutations (a few thousand per target, well under a second) must give a value
//! or a typed error, never a panic, and an error never repeats more than a bounded part of the
//! text it got.
#![cfg(all(feature = "cashier", feature = "autodebit"))]

use alipayplus_types::*;

/// xorshift64*: deterministic, so a failure replays.
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

/// Pieces that tend to hit edge cases of number, time and JSON handling.
const PIECES: &[&str] = &[
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-",
    "+",
    ".",
    "e",
    "9",
    "0",
    "99999999999999999999999",
    "-9223372036854775809",
    "18446744073709551616",
    "1e400",
    "\\u0000",
    "\\ud800",
    "é",
    "€",
    "😀",
    "T",
    "Z",
    "+23:59",
    "-24:00",
    ":60",
    "9999",
    "0000",
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
                let end = (at + rng.below(8)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                out.splice(at..at, piece.iter().copied());
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + rng.below(16)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            _ => out.insert(at, rng.next() as u8),
        }
    }
    out
}

/// Runs `check` over `rounds` mutations of each seed (and the seeds themselves).
fn fuzz(seeds: &[&str], rounds: usize, mut check: impl FnMut(&[u8])) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for seed in seeds {
        check(seed.as_bytes());
        for _ in 0..rounds {
            check(&mutate(&mut rng, seed.as_bytes()));
        }
    }
}

const MAX_ERROR_LEN: usize = 512;

fn bounded(error: &impl std::fmt::Display, input: &[u8]) {
    let text = error.to_string();
    assert!(
        text.len() <= MAX_ERROR_LEN,
        "error of {} bytes for input of {} bytes: {text:.200}",
        text.len(),
        input.len()
    );
}

#[test]
fn date_times_parse_or_fail_typed() {
    let seeds = [
        "2019-05-28T12:12:13+08:00",
        "2025-02-20T08:51:49.09Z",
        "2024-02-29T23:59:60-11:00",
        "9999-12-31T23:59:59.999999999999+23:59",
        "0000-01-01T00:00:00-23:59",
    ];
    fuzz(&seeds, 3000, |bytes| {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        match DateTime::parse(text) {
            Ok(t) => {
                assert_eq!(t.as_str(), text);
                let _ = (t.unix_seconds(), t.subsec_nanos(), t.offset_minutes());
            }
            Err(e) => bounded(&e, bytes),
        }
        let json = serde_json::to_string(text).unwrap();
        if let Err(e) = serde_json::from_str::<DateTime>(&json) {
            bounded(&e, bytes);
        }
    });
    for (secs, off) in [
        (i64::MAX, 0),
        (i64::MIN, 0),
        (i64::MAX, 1439),
        (i64::MIN, -1439),
        (0, i16::MAX),
        (0, i16::MIN),
        (253_402_300_799, 0),
        (253_402_300_800, 0),
        (-62_167_219_201, 0),
    ] {
        let _ = DateTime::from_unix(secs, off);
    }
}

#[test]
fn amounts_and_scalars_parse_or_fail_typed() {
    let seeds = [
        r#"{"currency":"USD","value":"1000"}"#,
        r#"{"value":"18446744073709551615","currency":"KWD"}"#,
        r#"{"currency":"JPY","value":100}"#,
        r#"{"currency":"XXX","value":"-1"}"#,
    ];
    fuzz(&seeds, 3000, |bytes| {
        match serde_json::from_slice::<Amount>(bytes) {
            Ok(a) => {
                let _ = (a.to_major_string(), a.to_string());
                let _ = a.checked_add(&a);
                let _ = a.checked_sub(&Amount::new(a.currency, u64::MAX));
            }
            Err(e) => bounded(&e, bytes),
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        for currency in [Currency::USD, Currency::JPY, Currency::CLF] {
            if let Err(e) = Amount::from_major(currency, text) {
                bounded(&e, bytes);
            }
        }
        for e in [
            text.parse::<StrInt>().err(),
            text.parse::<StrBool>().err(),
            StrDecimal::new(text).err(),
            text.parse::<MinorUnits>().err(),
            Currency::new(text).err(),
        ]
        .into_iter()
        .flatten()
        {
            bounded(&e, bytes);
        }
    });
}

#[test]
fn errors_repeat_a_bounded_part_of_long_values() {
    let long = "9".repeat(100_000);
    let mixed = format!("2025-02-20T08:51:49{}", "é".repeat(50_000));
    for e in [
        DateTime::parse(&mixed).unwrap_err(),
        long.parse::<MinorUnits>().unwrap_err(),
        long.parse::<StrInt>().unwrap_err(),
        long.parse::<StrBool>().unwrap_err(),
        StrDecimal::new(&format!("{long}x")).unwrap_err(),
        Currency::new(&long).unwrap_err(),
        Amount::from_major(Currency::USD, &long).unwrap_err(),
        Amount::from_major(Currency::USD, &format!("{long}x")).unwrap_err(),
    ] {
        let text = e.to_string();
        assert!(text.len() < 400, "{} bytes: {text:.120}", text.len());
        assert!(text.contains('…'), "says it was cut: {text}");
    }
    // Through serde too: the message a response or notification parse error carries.
    let body = format!(r#"{{"currency":"USD","value":"{long}"}}"#);
    let e = serde_json::from_str::<Amount>(&body).unwrap_err();
    assert!(e.to_string().len() < 400, "{e:.120}");
    // A short value is repeated whole.
    assert_eq!(
        Currency::new("usd").unwrap_err(),
        Error::InvalidCurrency("usd".into())
    );
}

#[test]
fn bodies_parse_or_fail_typed() {
    let notify = r#"{"paymentResult":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentRequestId":"pay-1","paymentId":"2025022011","paymentAmount":{"currency":"USD","value":"1000"},"paymentTime":"2025-02-20T08:52:00+08:00","customerId":"C1","extra":{"a":[1,2,{"b":null}]}}"#;
    let auth = r#"{"authorizationNotifyType":"TOKEN_CREATED","authClientId":"M1","accessToken":"AT","refreshToken":"RT","accessTokenExpiryTime":"2025-02-20T08:52:00+08:00","refreshTokenExpiryTime":"2026-02-20T08:52:00Z","authState":"s"}"#;
    let pay = r#"{"result":{"resultCode":"PAYMENT_IN_PROCESS","resultStatus":"U","resultMessage":"x"},"paymentId":"1","paymentAmount":{"currency":"JPY","value":"100"},"paymentExpiryTime":"2025-02-20T08:52:00Z","normalUrl":"https://x.test/?a=1"}"#;
    fuzz(&[notify, auth, pay], 1500, |bytes| {
        if let Err(e) = serde_json::from_slice::<NotifyPaymentRequest>(bytes) {
            let _ = e.to_string();
        }
        if let Ok(n) = serde_json::from_slice::<AuthNotifyRequest>(bytes) {
            let _ = n.validate();
            for secret in [&n.access_token, &n.refresh_token, &n.auth_code]
                .into_iter()
                .flatten()
            {
                let shown = format!("{secret:?}");
                assert!(
                    secret.expose().len() < 3 || !shown.contains(secret.expose()),
                    "{shown}"
                );
            }
        }
        if let Ok(p) = serde_json::from_slice::<PayResponse>(bytes) {
            let _ = (p.result.action(), p.result.code_str(), p.validate());
        }
        let _ = serde_json::from_slice::<ResultEnvelope<CommonResultCode>>(bytes);
    });
    // Deep nesting is refused by serde_json's recursion limit, not a stack overflow.
    let deep = format!(
        r#"{{"result":{{"resultCode":"S","resultStatus":"S"}},"x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(serde_json::from_str::<PayResponse>(&deep).is_err());
}

/// A credential sent as something other than a string is refused without repeating it.
#[test]
fn credentials_of_the_wrong_type_stay_out_of_errors() {
    for value in [
        "28100113271",
        "-28100113271",
        "2810011.3271",
        "true",
        "1e30",
    ] {
        let body = format!(
            r#"{{"authorizationNotifyType":"AUTHCODE_CREATED","authClientId":"M1","authCode":{value}}}"#
        );
        let e = serde_json::from_str::<AuthNotifyRequest>(&body).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(value), "{shown}");
        assert!(shown.contains("credential"), "{shown}");
    }
    let n: AuthNotifyRequest = serde_json::from_str(
        r#"{"authorizationNotifyType":"AUTHCODE_CREATED","authClientId":"M1","authCode":"2810\u0031"}"#,
    )
    .unwrap();
    assert_eq!(n.auth_code.unwrap().expose(), "28101");
}
