//! The Alipay+ inbound calls mounted as axum routes: notifyPayment (both products),
//! authNotify and consultUnbinding (Auto Debit) in [`routes`]; notifyRegistrationStatus,
//! initiateRetrieval and initiateEscalation (`alipayplus-operations`) in [`operations_routes`].
//!
//! Each route turns axum's request into the SDK's [`Request`] ([`sdk_request`]: the body is
//! read up to [`MAX_BODY_BYTES`] and within [`REQUEST_DEADLINE`] **before** anything is
//! verified, and the URI is the one Alipay+ called, even under a nested router), hands it to
//! the SDK's handler (verify, parse, sign the answer), tells your application ([`Merchant`],
//! [`MerchantOperations`]) and returns the SDK's answer as axum's response ([`axum_response`]).
//!
//! What a call gets:
//!
//! | call | answer |
//! |---|---|
//! | body longer than [`MAX_BODY_BYTES`] | HTTP 413, unsigned (nothing was verified) |
//! | body not received within [`REQUEST_DEADLINE`] | HTTP 408, unsigned |
//! | a method other than POST, a missing or wrong signature | the SDK's refusal (`METHOD_NOT_SUPPORTED`, `INVALID_SIGNATURE`), **unsigned**: the caller is not verified |
//! | verified, signed for another `Client-Id`, with [`InboundClientId::Refuse`] (the policy the examples and tests use) | the SDK's signed `INVALID_CLIENT`; your application is not told; Alipay+ re-sends |
//! | verified, signed for another `Client-Id`, with [`InboundClientId::Report`] | accepted: your application is told, with `client_id_is_ours = false` |
//! | verified, body does not parse | the SDK's signed `PARAM_ILLEGAL` |
//! | verified and parsed | your application is told (with `client_id_is_ours`), then the SDK's signed answer |
//!
//! The Client-Id policy is a parameter of every router ([`routes`], [`operations_routes`],
//! [`inbound_routes`]); choose [`InboundClientId::Refuse`] unless Alipay+ is known to sign
//! inbound calls with another client id than yours (the SDK's own default is
//! [`InboundClientId::Report`], see its docs for why).
//!
//! Acknowledge only what is stored: when your application returns [`Unavailable`], the route
//! answers HTTP 503 without a signature, which Alipay+ does not count as an acknowledgement,
//! so it re-sends the notification later.
//!
//! Disputes follow the sans-IO pattern of `alipayplus-operations`: the route verifies and
//! parses, asks [`MerchantOperations::stored_dispute`] what is stored under the
//! `disputeRequestId`, and answers with the pure [`decide`]: new (stored with
//! [`MerchantOperations::store_dispute`], then acknowledged), duplicate (acknowledged again,
//! not stored again) or conflict (another `paymentRequestId`: signed `F`
//! `REPEAT_REQ_INCONSISTENT`).
//!
//! [`StoreMerchant`] implements both traits on `alipayplus-store`: every verified event is
//! committed to the durable store (inbox, dispute records) before the route acknowledges it,
//! and a duplicate dispute is recognised across restarts.
//!
//! ```no_run
//! use std::sync::Arc;
//! use alipayplus_client::client::InboundClientId;
//! # use alipayplus_axum_example::{Merchant, Unavailable};
//! # use alipayplus_autodebit::AuthEvent;
//! # use alipayplus_axum_example::MerchantOperations;
//! # use alipayplus_operations::dispute::{Dispute, DisputeDelivery, DisputeKind};
//! # use alipayplus_operations::registration::RegistrationEvent;
//! # use alipayplus_types::{ConsultUnbindingRequest, NotifyPaymentRequest};
//! # struct Shop;
//! # impl MerchantOperations for Shop {
//! #     async fn registration_notified(&self, _: RegistrationEvent, _: bool) -> Result<(), Unavailable> { Ok(()) }
//! #     async fn stored_dispute(&self, _: DisputeKind, _: &str) -> Result<Option<Dispute>, Unavailable> { Ok(None) }
//! #     async fn store_dispute(&self, _: DisputeDelivery) -> Result<Option<Dispute>, Unavailable> { Ok(None) }
//! # }
//! # impl Merchant for Shop {
//! #     async fn payment_notified(&self, _: NotifyPaymentRequest, _: bool) -> Result<(), Unavailable> { Ok(()) }
//! #     async fn auth_notified(&self, _: AuthEvent, _: bool) -> Result<(), Unavailable> { Ok(()) }
//! #     async fn unbinding_requested(&self, _: ConsultUnbindingRequest, _: bool) -> Result<(), String> { Ok(()) }
//! # }
//! # async fn serve(config: alipayplus_client::client::ClientConfig) -> std::io::Result<()> {
//! // All six routes for an application that implements both traits; a foreign Client-Id is
//! // refused (signed INVALID_CLIENT) before your application hears of it.
//! let inbound = alipayplus_axum_example::inbound_routes(config, Arc::new(Shop), InboundClientId::Refuse);
//! let app = axum::Router::new().nest("/alipayplus", inbound);
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use alipayplus_autodebit::{
    AuthEvent, handle_auth_notify, handle_consult_unbinding, unbinding_refusal,
};
use alipayplus_client::client::{ClientConfig, InboundClientId};
use alipayplus_client::transport::{Request, Response};
use alipayplus_operations::dispute::{
    Decision, Dispute, DisputeDelivery, DisputeKind, decide, handle_initiate_escalation,
    handle_initiate_retrieval,
};
use alipayplus_operations::registration::{RegistrationEvent, handle_notify_registration_status};
use alipayplus_types::{ConsultUnbindingRequest, NotifyPaymentRequest};
use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::any;

pub mod stored;
pub use stored::StoreMerchant;

/// Largest inbound body read; a longer one is refused (413) before verification. Alipay+
/// notifications are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Time the whole body may take to arrive once the route starts (as `alipayplus-listen`'s
/// whole-request deadline, 10 s): each chunk waiting only for the time left, so a client
/// trickling one byte every few seconds is cut off with 408. The head is read by hyper before
/// the route runs (its own header timeout applies). Needs a tokio runtime with the time driver
/// (`#[tokio::main]` has it).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);

/// Route of notifyPayment under the router's mount point (the `paymentNotifyUrl` you send,
/// or the URL configured with Alipay+, ends with it).
pub const NOTIFY_PAYMENT: &str = "/notifyPayment";
/// Route of authNotify.
pub const AUTH_NOTIFY: &str = "/authNotify";
/// Route of consultUnbinding.
pub const CONSULT_UNBINDING: &str = "/consultUnbinding";
/// Route of notifyRegistrationStatus (the `registrationNotifyUrl` you send ends with it).
pub const NOTIFY_REGISTRATION_STATUS: &str = "/notifyRegistrationStatus";
/// Route of initiateRetrieval (the dispute URL configured with Alipay+, plus the API name).
pub const INITIATE_RETRIEVAL: &str = "/initiateRetrieval";
/// Route of initiateEscalation.
pub const INITIATE_ESCALATION: &str = "/initiateEscalation";

/// The merchant could not store what it was told: the call is not acknowledged, and Alipay+
/// sends it again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

/// What your application does with verified inbound calls. Each is called once per verified
/// delivery, re-sends and duplicates included: store idempotently (on `paymentRequestId`,
/// [`AuthEvent::dedup_key`]).
pub trait Merchant: Send + Sync + 'static {
    /// A verified notifyPayment: check it against the order
    /// ([`check_notification`](alipayplus_client::notify::check_notification)) and store it,
    /// or hand it to the payment's follower ([`Wake::Notification`](alipayplus_client::driver::Wake)).
    /// `client_id_is_ours` is `false` only under [`InboundClientId::Report`], for a call signed
    /// for another `Client-Id`: log it and decide before acting on it.
    fn payment_notified(
        &self,
        notification: NotifyPaymentRequest,
        client_id_is_ours: bool,
    ) -> impl Future<Output = Result<(), Unavailable>> + Send;

    /// A verified authNotify (auth code, token created, token cancelled): feed it to the
    /// binding or the token lifecycle. `client_id_is_ours` as for
    /// [`Merchant::payment_notified`].
    fn auth_notified(
        &self,
        event: AuthEvent,
        client_id_is_ours: bool,
    ) -> impl Future<Output = Result<(), Unavailable>> + Send;

    /// A verified consultUnbinding: `Ok` allows the wallet-side unbinding, `Err(reason)`
    /// refuses it (e.g. outstanding fares). `client_id_is_ours` as for
    /// [`Merchant::payment_notified`].
    fn unbinding_requested(
        &self,
        consultation: ConsultUnbindingRequest,
        client_id_is_ours: bool,
    ) -> impl Future<Output = Result<(), String>> + Send;
}

/// What your application does with the verified inbound calls of the operations
/// (`alipayplus-operations`): registration notifications and disputes.
pub trait MerchantOperations: Send + Sync + 'static {
    /// A verified notifyRegistrationStatus (one per wallet's review; re-deliveries too):
    /// store it, or feed it to the registration's follow-up
    /// ([`RegistrationFollowUp::on_notification`](alipayplus_operations::registration::RegistrationFollowUp::on_notification),
    /// which ignores what it already knows). `client_id_is_ours` as for
    /// [`Merchant::payment_notified`].
    fn registration_notified(
        &self,
        event: RegistrationEvent,
        client_id_is_ours: bool,
    ) -> impl Future<Output = Result<(), Unavailable>> + Send;

    /// The dispute stored under this kind and `disputeRequestId`
    /// ([`Dispute::store_key`]), if any.
    fn stored_dispute(
        &self,
        kind: DisputeKind,
        dispute_request_id: &str,
    ) -> impl Future<Output = Result<Option<Dispute>, Unavailable>> + Send;

    /// A new dispute (nothing was stored under its key): store it (the dispute, serde-storable,
    /// and its body with the reason and deadline) and act on it (answer later with
    /// responseRetrieval / responseEscalation). The delivery carries
    /// [`client_id_is_ours`](DisputeDelivery::client_id_is_ours), as for
    /// [`Merchant::payment_notified`].
    ///
    /// Insert only if absent (e.g. a unique key on kind and `disputeRequestId`): when a
    /// concurrent delivery stored one first, keep it and return it (`Ok(Some(stored))`), and
    /// the route decides again against it, so a racing delivery for another payment still
    /// gets `REPEAT_REQ_INCONSISTENT`. `Ok(None)`: stored.
    fn store_dispute(
        &self,
        delivery: DisputeDelivery,
    ) -> impl Future<Output = Result<Option<Dispute>, Unavailable>> + Send;
}

/// The routes' shared state.
struct Inbound<M> {
    config: Arc<ClientConfig>,
    merchant: Arc<M>,
}

impl<M> Clone for Inbound<M> {
    fn clone(&self) -> Self {
        Inbound {
            config: Arc::clone(&self.config),
            merchant: Arc::clone(&self.merchant),
        }
    }
}

/// The three routes ([`NOTIFY_PAYMENT`], [`AUTH_NOTIFY`], [`CONSULT_UNBINDING`]), to merge or
/// nest into your application's router, with `client_ids` deciding what a verified call
/// signed for another `Client-Id` gets (see the crate docs; [`InboundClientId::Refuse`] is the
/// careful choice). Every method is routed to the SDK, which answers anything but POST with
/// its unsigned `METHOD_NOT_SUPPORTED`.
pub fn routes<M: Merchant>(
    config: ClientConfig,
    merchant: Arc<M>,
    client_ids: InboundClientId,
) -> Router {
    payment_router(state(config, merchant, client_ids))
}

/// The three routes of the operations ([`NOTIFY_REGISTRATION_STATUS`],
/// [`INITIATE_RETRIEVAL`], [`INITIATE_ESCALATION`]), mounted on their own, with the Client-Id
/// policy as in [`routes`].
pub fn operations_routes<M: MerchantOperations>(
    config: ClientConfig,
    merchant: Arc<M>,
    client_ids: InboundClientId,
) -> Router {
    operations_router(state(config, merchant, client_ids))
}

/// All six routes ([`routes`] and [`operations_routes`]) sharing one configuration, for an
/// application implementing both traits.
pub fn inbound_routes<M: Merchant + MerchantOperations>(
    config: ClientConfig,
    merchant: Arc<M>,
    client_ids: InboundClientId,
) -> Router {
    let inbound = state(config, merchant, client_ids);
    payment_router(inbound.clone()).merge(operations_router(inbound))
}

fn state<M>(config: ClientConfig, merchant: Arc<M>, client_ids: InboundClientId) -> Inbound<M> {
    Inbound {
        config: Arc::new(
            config.with_inbound(alipayplus_client::InboundPolicy::new().with_client_id(client_ids)),
        ),
        merchant,
    }
}

fn payment_router<M: Merchant>(inbound: Inbound<M>) -> Router {
    Router::new()
        .route(NOTIFY_PAYMENT, any(notify_payment::<M>))
        .route(AUTH_NOTIFY, any(auth_notify::<M>))
        .route(CONSULT_UNBINDING, any(consult_unbinding::<M>))
        .with_state(inbound)
}

fn operations_router<M: MerchantOperations>(inbound: Inbound<M>) -> Router {
    Router::new()
        .route(
            NOTIFY_REGISTRATION_STATUS,
            any(notify_registration_status::<M>),
        )
        .route(INITIATE_RETRIEVAL, any(initiate_retrieval::<M>))
        .route(INITIATE_ESCALATION, any(initiate_escalation::<M>))
        .with_state(inbound)
}

async fn notify_payment<M: Merchant>(
    State(inbound): State<Inbound<M>>,
    InboundRequest(request): InboundRequest,
) -> axum::response::Response {
    match alipayplus_client::notify::handle_notify_payment(&inbound.config, &request) {
        Ok(accepted) => {
            let stored = inbound
                .merchant
                .payment_notified(accepted.body, accepted.client_id_is_ours)
                .await;
            acknowledge_if_stored(stored, accepted.answer)
        }
        Err(refused) => axum_response(refused.answer),
    }
}

async fn auth_notify<M: Merchant>(
    State(inbound): State<Inbound<M>>,
    InboundRequest(request): InboundRequest,
) -> axum::response::Response {
    match handle_auth_notify(&inbound.config, &request) {
        Ok(notified) => {
            let stored = inbound
                .merchant
                .auth_notified(notified.body.event, notified.client_id_is_ours)
                .await;
            acknowledge_if_stored(stored, notified.answer)
        }
        Err(refused) => axum_response(refused.answer),
    }
}

async fn consult_unbinding<M: Merchant>(
    State(inbound): State<Inbound<M>>,
    InboundRequest(request): InboundRequest,
) -> axum::response::Response {
    match handle_consult_unbinding(&inbound.config, &request) {
        Ok(consultation) => {
            let decision = inbound
                .merchant
                .unbinding_requested(consultation.body.clone(), consultation.client_id_is_ours)
                .await;
            let decision = decision.map_err(|reason| unbinding_refusal(&reason));
            let answer = consultation.answer.complete(&inbound.config, decision);
            axum_response(answer)
        }
        Err(refused) => axum_response(refused.answer),
    }
}

async fn notify_registration_status<M: MerchantOperations>(
    State(inbound): State<Inbound<M>>,
    InboundRequest(request): InboundRequest,
) -> axum::response::Response {
    match handle_notify_registration_status(&inbound.config, &request) {
        Ok(notified) => {
            let stored = inbound
                .merchant
                .registration_notified(notified.body.event, notified.client_id_is_ours)
                .await;
            acknowledge_if_stored(stored, notified.answer)
        }
        Err(refused) => axum_response(refused.answer),
    }
}

async fn initiate_retrieval<M: MerchantOperations>(
    State(inbound): State<Inbound<M>>,
    InboundRequest(request): InboundRequest,
) -> axum::response::Response {
    match handle_initiate_retrieval(&inbound.config, &request) {
        Ok(delivery) => dispute_received(&inbound, delivery).await,
        Err(refused) => axum_response(refused.answer),
    }
}

async fn initiate_escalation<M: MerchantOperations>(
    State(inbound): State<Inbound<M>>,
    InboundRequest(request): InboundRequest,
) -> axum::response::Response {
    match handle_initiate_escalation(&inbound.config, &request) {
        Ok(delivery) => dispute_received(&inbound, delivery).await,
        Err(refused) => axum_response(refused.answer),
    }
}

/// Looks up what is stored under the dispute's key, decides, stores a new one, answers.
async fn dispute_received<M: MerchantOperations>(
    inbound: &Inbound<M>,
    delivery: DisputeDelivery,
) -> axum::response::Response {
    let (kind, id) = delivery.body.dispute.store_key();
    let stored = match inbound.merchant.stored_dispute(kind, id).await {
        Ok(stored) => stored,
        Err(Unavailable) => return not_acknowledged(),
    };
    let mut decision = decide(&delivery.body.dispute, stored.as_ref());
    if decision == Decision::New {
        match inbound.merchant.store_dispute(delivery.clone()).await {
            Ok(None) => {}
            // A concurrent delivery stored first: decide against what it stored.
            Ok(Some(first)) => decision = decide(&delivery.body.dispute, Some(&first)),
            Err(Unavailable) => return not_acknowledged(),
        }
    }
    axum_response(
        delivery
            .answer
            .complete(&inbound.config, decision.verdict()),
    )
}

/// axum's request as the SDK's [`Request`]: method, the URI Alipay+ called (axum's
/// [`OriginalUri`] when the router is nested, so the signature is checked over the full
/// path), headers, and the body read up to `limit` bytes within `deadline`.
///
/// # Errors
/// Unsigned (nothing was verified, so nothing is acknowledged): HTTP 413 when the body is
/// longer than `limit` (announced or not) or could not be read; HTTP 408 when it did not
/// arrive within `deadline`.
pub async fn sdk_request(
    request: axum::extract::Request,
    limit: usize,
    deadline: Duration,
) -> Result<Request, axum::response::Response> {
    let (mut parts, body) = request.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    }
    let bytes = tokio::time::timeout(deadline, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| StatusCode::REQUEST_TIMEOUT.into_response())?
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    if let Some(OriginalUri(uri)) = parts.extensions.remove::<OriginalUri>() {
        parts.uri = uri;
    }
    Ok(Request::from(axum::http::Request::from_parts(
        parts,
        bytes.to_vec(),
    )))
}

/// Extractor: the inbound call as the SDK's [`Request`], read by [`sdk_request`] with
/// [`MAX_BODY_BYTES`] and [`REQUEST_DEADLINE`], so every route refuses an oversized or late
/// body before verification the same way.
struct InboundRequest(Request);

impl<S: Send + Sync> axum::extract::FromRequest<S> for InboundRequest {
    type Rejection = axum::response::Response;

    async fn from_request(request: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        sdk_request(request, MAX_BODY_BYTES, REQUEST_DEADLINE)
            .await
            .map(Self)
    }
}

/// The SDK's signed answer as axum's response (status, headers, body bytes as signed).
pub fn axum_response(answer: Response) -> axum::response::Response {
    match axum::http::Response::<Vec<u8>>::try_from(answer) {
        Ok(response) => response.map(Body::from),
        // The SDK's own headers are always valid; a failure here is a bug, never an ack.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The signed acknowledgement once the merchant has stored the event; 503 (re-sent later by
/// Alipay+) when it could not.
fn acknowledge_if_stored(
    stored: Result<(), Unavailable>,
    answer: Response,
) -> axum::response::Response {
    match stored {
        Ok(()) => axum_response(answer),
        Err(Unavailable) => not_acknowledged(),
    }
}

fn not_acknowledged() -> axum::response::Response {
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}
