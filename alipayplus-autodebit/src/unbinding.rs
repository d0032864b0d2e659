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
//! # use alipayplus_client::{ClientConfig, Request, Response};
//! # fn serve(config: &ClientConfig, request: Request, has_open_fares: impl Fn(&str) -> bool) -> Response {
//! use alipayplus_autodebit::{handle_consult_unbinding, unbinding_refusal};
//! match handle_consult_unbinding(config, &request) {
//!     Ok(consultation) => {
//!         let token = consultation.body.access_token.as_ref().map(|t| t.expose()).unwrap_or("");
//!         let decision = match has_open_fares(token) {
//!             true => Err(unbinding_refusal("outstanding fares must be paid first")),
//!             false => Ok(()),
//!         };
//!         consultation.answer.complete(config, decision)
//!     }
//!     Err(refused) => refused.answer,
//! }
//! # }
//! ```

use alipayplus_client::inbound::{Accepted, Deferred, Handled, Refusal};
use alipayplus_client::{ClientConfig, Request};
use alipayplus_types::{
    CancelTokenRequest, ConsultUnbindingRequest, ConsultUnbindingResultCode, Secret,
};

#[cfg(doc)]
use alipayplus_client::inbound::Refused;

use crate::prepare::AuthClient;

/// cancelToken: unbind from the merchant side. Idempotent on the token: on an unknown outcome
/// send it again. Alipay+ may also send authNotify `TOKEN_CANCELED` for it; on `S` tell the
/// [`TokenLifecycle`](crate::TokenLifecycle) ([`on_cancelled`](crate::TokenLifecycle::on_cancelled)).
pub fn cancel_token_request(merchant: &AuthClient, access_token: &Secret) -> CancelTokenRequest {
    CancelTokenRequest::new(access_token.clone(), merchant.id.clone())
}

/// A verified consultUnbinding, waiting for the merchant's decision: its body and the
/// [`Deferred`] answer the decision completes (`consultation.answer.complete(config,
/// decision)`, with [`unbinding_refusal`] to refuse).
pub type UnbindingConsultation = Accepted<ConsultUnbindingRequest, Deferred>;

/// The refusal of an unbinding: `PROCESS_FAIL` / `F` with the merchant's `reason` as
/// `resultMessage` (cut to its documented 256 characters; no refusal code is documented,
/// this is the generic business failure).
pub fn unbinding_refusal(reason: &str) -> Refusal {
    Refusal::new(ConsultUnbindingResultCode::ProcessFail.as_str(), reason)
}

/// Verifies and parses a consultUnbinding request received at any URL (the inbound handler
/// shape of [`alipayplus_client::inbound`]); the answer waits for the merchant's decision.
///
/// # Errors
/// [`Refused`] with the refusal to send back (unsigned for an unverified caller).
pub fn handle_consult_unbinding(
    config: &ClientConfig,
    request: &Request,
) -> Handled<ConsultUnbindingRequest, Deferred> {
    config.accept_inbound_deferred::<ConsultUnbindingRequest>(request)
}
