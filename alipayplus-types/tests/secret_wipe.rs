//! `Secret` (access and refresh tokens, auth codes) is wiped when dropped.

use alipayplus_types::Secret;
use zeroize::{Zeroize, ZeroizeOnDrop};

fn wiped_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn secrets_are_wiped_on_drop_and_on_demand() {
    wiped_on_drop::<Secret>();
    let mut token = Secret::new("28100113A1C2");
    let copy = token.clone();
    token.zeroize();
    assert_eq!(token.expose(), "");
    // A clone is its own buffer, wiped on its own drop.
    assert_eq!(copy.expose(), "28100113A1C2");
}
