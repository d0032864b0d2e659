//! The Auto Debit books of the simulator (tickets, auth codes, grants, settings, scripts): the
//! data; what is done with it is in [`crate::autodebit`].

use std::collections::{BTreeMap, VecDeque};

use alipayplus_types::PrepareRequest;
use serde::{Deserialize, Serialize};

/// Auto Debit settings (`PUT /sim/autodebit/config`, [`crate::Simulator::set_autodebit_config`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AutoDebitConfig {
    /// Where authNotify is pushed (none: not pushed).
    pub auth_notify_url: Option<String>,
    /// Where consultUnbinding is asked before a wallet-side unbinding (none: not asked).
    pub consult_unbinding_url: Option<String>,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_secs: i64,
    /// Lifetime of a refresh token, in seconds.
    pub refresh_token_ttl_secs: i64,
    /// Lifetime of an auth code, in seconds.
    pub auth_code_ttl_secs: i64,
    /// Push `AUTHCODE_CREATED` on consent.
    pub notify_auth_code: bool,
    /// Push `TOKEN_CREATED` when applyToken issues tokens.
    pub notify_token_created: bool,
    /// Push `TOKEN_CANCELED` when a token is revoked.
    pub notify_token_canceled: bool,
}

impl Default for AutoDebitConfig {
    fn default() -> Self {
        AutoDebitConfig {
            auth_notify_url: None,
            consult_unbinding_url: None,
            access_token_ttl_secs: 3600,
            refresh_token_ttl_secs: 30 * 86_400,
            auth_code_ttl_secs: 300,
            notify_auth_code: true,
            notify_token_created: true,
            notify_token_canceled: true,
        }
    }
}

/// How the next agreement payment ends (`POST /sim/autodebit/pay-script`,
/// [`crate::Simulator::script_agreement_payment`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgreementScript {
    /// Seconds (simulator clock) the payment stays `U` / `PAYMENT_IN_PROCESS`; 0: the result
    /// is answered at once.
    #[serde(default)]
    pub pending_secs: i64,
    /// `SUCCESS`, a payment failure code (e.g. `USER_BALANCE_NOT_ENOUGH`), or `NEVER` (stays
    /// `U` until cancelled).
    pub result: String,
}

impl AgreementScript {
    /// Paid at once (the default).
    pub fn success() -> Self {
        AgreementScript {
            pending_secs: 0,
            result: "SUCCESS".into(),
        }
    }
}

/// What the control API shows of a token pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// The merchant.
    pub auth_client_id: String,
    /// `ACTIVE`, `CANCELLED` (cancelToken / unbinding) or `ROTATED` (refreshed).
    pub state: &'static str,
    /// Unix seconds.
    pub access_token_expires_at: i64,
    /// Unix seconds.
    pub refresh_token_expires_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Ticket {
    pub(crate) request: PrepareRequest,
}

#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub(crate) ticket: String,
    pub(crate) issued_at: i64,
    pub(crate) used: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GrantState {
    Active,
    Cancelled,
    Rotated,
}

#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) ticket: String,
    pub(crate) refresh_token: String,
    pub(crate) access_expires: i64,
    pub(crate) refresh_expires: i64,
    pub(crate) state: GrantState,
}

/// The Auto Debit books.
#[derive(Default)]
pub(crate) struct Books {
    pub(crate) config: AutoDebitConfig,
    pub(crate) tickets: BTreeMap<String, Ticket>,
    pub(crate) prepare_keys: BTreeMap<(String, String), String>,
    pub(crate) codes: BTreeMap<String, Code>,
    /// By access token.
    pub(crate) grants: BTreeMap<String, Grant>,
    /// Refresh token → access token.
    pub(crate) refresh: BTreeMap<String, String>,
    pub(crate) scripts: VecDeque<AgreementScript>,
    /// Agreement payments in process: paymentRequestId → (due unix seconds, result).
    pub(crate) pending: BTreeMap<String, (i64, String)>,
    pub(crate) notify_seq: u64,
}

impl Books {
    pub(crate) fn views(&self) -> Vec<TokenView> {
        self.grants
            .iter()
            .map(|(access, g)| TokenView {
                access_token: access.clone(),
                refresh_token: g.refresh_token.clone(),
                auth_client_id: self
                    .tickets
                    .get(&g.ticket)
                    .map(|t| t.request.auth_client_id.clone())
                    .unwrap_or_default(),
                state: match g.state {
                    GrantState::Active => "ACTIVE",
                    GrantState::Cancelled => "CANCELLED",
                    GrantState::Rotated => "ROTATED",
                },
                access_token_expires_at: g.access_expires,
                refresh_token_expires_at: g.refresh_expires,
            })
            .collect()
    }

    pub(crate) fn auth_client_of(&self, ticket: &str) -> &str {
        self.tickets
            .get(ticket)
            .map_or("", |t| t.request.auth_client_id.as_str())
    }
}
