//! The examples' configuration from the environment, one definition for `cashier`,
//! `autodebit` and `ops`, so the three read the same variables the same way.

use alipayplus_client::time::SystemClock;
use alipayplus_client::{
    ClientConfig, Host, Identity, InboundClientId, InboundPolicy, OutboundPolicy,
};
use alipayplus_sign::{PrivateKey, PublicKey, PublicKeys};

/// The variable that switches the listening examples from refusing a verified inbound call
/// signed for another `Client-Id` (the default: `refuse`) to accepting and reporting it
/// (`report`).
pub const FOREIGN_CLIENT_ID_VAR: &str = "ALIPAYPLUS_FOREIGN_CLIENT_ID";

/// The examples' rule for a verified inbound call whose `Client-Id` is not ours, from
/// [`FOREIGN_CLIENT_ID_VAR`]: unset or `refuse` → [`InboundClientId::Refuse`] (answered
/// `INVALID_CLIENT`, signed; Alipay+ re-sends), `report` → [`InboundClientId::Report`]
/// (accepted, the event carries `client_id_is_ours = false`). The examples refuse by default;
/// the library's default stays [`InboundClientId::Report`] (see its docs for why).
///
/// # Errors
/// A message naming the variable when it holds anything else.
pub fn foreign_client_id_from_env() -> Result<InboundClientId, String> {
    match std::env::var(FOREIGN_CLIENT_ID_VAR) {
        Err(std::env::VarError::NotPresent) => Ok(InboundClientId::Refuse),
        Ok(v) if v == "refuse" => Ok(InboundClientId::Refuse),
        Ok(v) if v == "report" => Ok(InboundClientId::Report),
        Ok(v) => Err(format!(
            "{FOREIGN_CLIENT_ID_VAR}: {v:?} is neither \"refuse\" (the default) nor \"report\""
        )),
        Err(e) => Err(format!("{FOREIGN_CLIENT_ID_VAR}: {e}")),
    }
}

/// The examples' configuration from the environment: `ALIPAYPLUS_BASE_URL`,
/// `ALIPAYPLUS_CLIENT_ID`, `ALIPAYPLUS_PRIVATE_KEY` and `ALIPAYPLUS_PUBLIC_KEY` (key file paths),
/// optionally `ALIPAYPLUS_KEY_VERSION` (default 1). A listening example needs no base URL (it
/// only answers) and follows [`foreign_client_id_from_env`] (refuse a foreign `Client-Id`
/// unless `ALIPAYPLUS_FOREIGN_CLIENT_ID=report`).
///
/// # Errors
/// A message naming the variable that is missing or wrong, fit to print before exiting.
pub fn config_from_env(listening: bool) -> Result<ClientConfig, String> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let host = match var("ALIPAYPLUS_BASE_URL") {
        Ok(base) => Host::custom(&base).map_err(|e| format!("ALIPAYPLUS_BASE_URL: {e}"))?,
        Err(_) if listening => Host::OtherRegionsAccelerated,
        Err(e) => return Err(e),
    };
    let client_id = var("ALIPAYPLUS_CLIENT_ID")?;
    let read = |name: &str| -> Result<Vec<u8>, String> {
        let path = var(name)?;
        std::fs::read(&path).map_err(|e| format!("{name}: cannot read {path}: {e}"))
    };
    let key = PrivateKey::parse(&read("ALIPAYPLUS_PRIVATE_KEY")?)
        .map_err(|e| format!("ALIPAYPLUS_PRIVATE_KEY: {e}"))?;
    let public = PublicKey::parse(&read("ALIPAYPLUS_PUBLIC_KEY")?)
        .map_err(|e| format!("ALIPAYPLUS_PUBLIC_KEY: {e}"))?;
    let key_version = match std::env::var("ALIPAYPLUS_KEY_VERSION") {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("ALIPAYPLUS_KEY_VERSION: {v:?} is not a number"))?,
        Err(_) => 1,
    };
    let identity = Identity::new(client_id, key, PublicKeys::single(1, public), SystemClock)
        .map_err(|e| e.to_string())?
        .with_key_version(key_version);
    let mut inbound = InboundPolicy::new();
    if listening {
        inbound = inbound.with_client_id(foreign_client_id_from_env()?);
    }
    Ok(ClientConfig::from_parts(
        identity,
        OutboundPolicy::new(host),
        inbound,
    ))
}
