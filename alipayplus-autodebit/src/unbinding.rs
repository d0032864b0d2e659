//! consultUnbinding (spec `autodebit.md` §7, optional, inbound): before a wallet-side
//! unbinding, Alipay+ asks whether the merchant allows the token to be cancelled (e.g. no
//! outstanding fares). The merchant decides; the answer is signed.
//!
//! Fields are UNCERTAIN (spec): the request is parsed tolerantly (all fields optional,
//! unknown ones kept). The answer is `SUCCESS` / `S` to allow, `PROCESS_FAIL` / `F` with the
//! merchant's reason in `resultMessage` to refuse (no refusal code is documented; this is the
//! generic business failure). If the unbinding goes ahead, authNotify `TOKEN_CANCELED`
//! follows.
//!
//! ```no_run
//! # use alipayplus_client::{client::ClientConfig, transport::{Request, Response}};
//! # fn serve(config: &ClientConfig, request: Request, has_open_fares: impl Fn(&str) -> bool) -> Response {
//! use alipayplus_autodebit::handle_consult_unbinding;
//! match handle_consult_unbinding(config, &request) {
//!     Ok(consultation) => {
//!         let token = consultation.body.access_token.as_ref().map(|t| t.expose()).unwrap_or("");
//!         if has_open_fares(token) {
//!             consultation.refuse(config, "outstanding fares must be paid first")
//!         } else {
//!             consultation.allow(config)
//!         }
//!     }
//!     Err(refused) => refused.answer,
//! }
//! # }
//! ```

use alloc::string::{String, ToString};

use alipayplus_client::client::ClientConfig;
use alipayplus_client::inbound::{ACK_SUCCESS, Refused};
use alipayplus_client::transport::{Request, Response};
use alipayplus_types::{
    ApiResult, CancelTokenRequest, ConsultUnbindingRequest, ConsultUnbindingResultCode,
    ResultStatus, Secret,
};

use crate::prepare::AuthClient;

/// cancelToken: unbind from the merchant side. Idempotent on the token: on an unknown outcome
/// send it again. Alipay+ may also send authNotify `TOKEN_CANCELED` for it; on `S` tell the
/// [`TokenLifecycle`](crate::TokenLifecycle) ([`on_cancelled`](crate::TokenLifecycle::on_cancelled)).
pub fn cancel_token_request(merchant: &AuthClient, access_token: &Secret) -> CancelTokenRequest {
    CancelTokenRequest::new(access_token.clone(), merchant.id.clone())
}

/// A verified consultUnbinding, waiting for the merchant's decision.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UnbindingConsultation {
    /// The parsed body.
    pub body: ConsultUnbindingRequest,
    /// keyVersion of the Alipay+ key that verified the request.
    pub key_version: u32,
    /// The request's `Client-Id` (echoed in the answer).
    pub client_id: String,
    /// Whether [`client_id`](Self::client_id) is our client id
    /// ([`Accepted::client_id_is_ours`](alipayplus_client::inbound::Accepted::client_id_is_ours)):
    /// `false` only when the configuration reports a foreign Client-Id instead of refusing it
    /// ([`InboundClientId`](alipayplus_client::client::InboundClientId)); log it, and decide
    /// before acting.
    pub client_id_is_ours: bool,
    signed_uri: String,
}

impl UnbindingConsultation {
    /// The signed answer allowing the unbinding (`SUCCESS` / `S`).
    pub fn allow(&self, config: &ClientConfig) -> Response {
        config.signed_answer(
            &self.signed_uri,
            &self.client_id,
            ACK_SUCCESS.as_bytes().into(),
        )
    }

    /// The signed answer refusing the unbinding (`PROCESS_FAIL` / `F`, `reason` as
    /// `resultMessage`, cut to its documented 256 characters).
    pub fn refuse(&self, config: &ClientConfig, reason: &str) -> Response {
        let message: String = reason.chars().take(256).collect();
        let result = ApiResult::new(
            ConsultUnbindingResultCode::ProcessFail,
            ResultStatus::Failure,
            Some(message),
        );
        let body = serde_json::json!({ "result": result });
        config.signed_answer(
            &self.signed_uri,
            &self.client_id,
            body.to_string().into_bytes(),
        )
    }

    /// [`allow`](Self::allow) when `allowed`, else [`refuse`](Self::refuse) with `reason`.
    pub fn answer(&self, config: &ClientConfig, allowed: bool, reason: &str) -> Response {
        if allowed {
            self.allow(config)
        } else {
            self.refuse(config, reason)
        }
    }
}

/// Verifies and parses a consultUnbinding request received at any URL.
///
/// # Errors
/// [`Refused`] with the refusal to send back (unsigned for an unverified caller).
pub fn handle_consult_unbinding(
    config: &ClientConfig,
    request: &Request,
) -> Result<UnbindingConsultation, Refused> {
    let accepted = config.accept_inbound::<ConsultUnbindingRequest>(request)?;
    Ok(UnbindingConsultation {
        body: accepted.body,
        key_version: accepted.key_version,
        client_id: accepted.client_id,
        client_id_is_ours: accepted.client_id_is_ours,
        signed_uri: accepted.signed_uri,
    })
}
