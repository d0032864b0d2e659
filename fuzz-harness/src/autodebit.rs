//! The Auto Debit redirect back from the wallet: `Binding::on_redirect` (alipayplus-autodebit
//! prepare.rs, redirect.rs).

use alipayplus_autodebit::redirect::parse_redirect;
use alipayplus_autodebit::{AuthState, Binding, CodeUpdate};
use alipayplus_types::Secret;

/// The state the binding expects (the spec example's).
pub const STATE: &str = "7f3c2a90-1d2e-4b6f-9a51-0c1d2e3f4a5b";

/// Input: one byte of flags (bit 0: the binding allows a missing state; bit 1: a code came
/// by notification first; bit 2: that code was already exchanged), then the URL.
///
/// A refused redirect leaves the binding unchanged; an accepted one carried the binding's
/// state (or none, when allowed) and a code, which the applyToken request can then use
/// unless it was exchanged; the same redirect again is a duplicate.
pub fn redirect(data: &[u8]) {
    let Some((&flags, url)) = data.split_first() else {
        return;
    };
    let url = String::from_utf8_lossy(url);
    let state = AuthState::parse(STATE).expect("the state is valid");
    let mut binding = Binding::new(
        "M202400001",
        "https://merchant.example.com/alipayplus/auth-return",
        state,
    );
    if flags & 1 != 0 {
        binding = binding.allow_missing_state();
    }
    if flags & 2 != 0 {
        let notified = Secret::new("281001133A0B1C2D3E4F".to_string());
        assert_eq!(
            binding.on_auth_code_notified(&notified, Some(STATE)).ok(),
            Some(CodeUpdate::New)
        );
        if flags & 4 != 0 {
            binding.mark_code_spent();
        }
    }
    let before = binding.clone();
    match binding.on_redirect(&url) {
        Err(_) => assert_eq!(binding, before, "a refused redirect changed the binding"),
        Ok(update) => {
            let back = parse_redirect(&url).expect("an accepted redirect parses");
            match back.auth_state.as_deref() {
                Some(s) => assert_eq!(s, STATE, "accepted with another state"),
                None => assert!(flags & 1 != 0, "accepted without a state"),
            }
            let code = back.auth_code.expect("accepted without a code");
            assert!(!code.expose().is_empty(), "accepted an empty code");
            match update {
                CodeUpdate::AlreadyExchanged => assert!(before.is_code_spent()),
                _ => assert!(binding.apply_token_request().is_ok()),
            }
            let again = binding.on_redirect(&url).ok();
            assert!(
                matches!(
                    again,
                    Some(CodeUpdate::Duplicate | CodeUpdate::AlreadyExchanged)
                ),
                "the same redirect twice gave {again:?}"
            );
        }
    }
}
