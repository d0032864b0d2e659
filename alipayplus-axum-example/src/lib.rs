//! The Alipay+ inbound calls mounted as axum routes: notifyPayment (both products),
//! authNotify and consultUnbinding (Auto Debit).
//!
//! Each route turns axum's request into the SDK's [`Request`] ([`sdk_request`]: the body is
//! read up to [`MAX_BODY_BYTES`] **before** anything is verified, and the URI is the one
//! Alipay+ called, even under a nested router), hands it to the SDK's handler (verify, parse,
//! sign the answer), tells your application ([`Merchant`]) and returns the SDK's signed answer
//! as axum's response ([`axum_response`]). The SDK answers every refusal (bad signature,
//! another Client-Id, unparsable body, a method other than POST) with its signed answer.
//!
//! Acknowledge only what is stored: when [`Merchant`] returns [`Unavailable`], the route
//! answers HTTP 503 without a signature, which Alipay+ does not count as an acknowledgement,
//! so it re-sends the notification later.
//!
//! ```no_run
//! use std::sync::Arc;
//! # use alipayplus_axum_example::{Merchant, Unavailable};
//! # use alipayplus_autodebit::AuthEvent;
//! # use alipayplus_types::{ConsultUnbindingRequest, NotifyPaymentRequest};
//! # struct Shop;
//! # impl Merchant for Shop {
//! #     async fn payment_notified(&self, _: NotifyPaymentRequest) -> Result<(), Unavailable> { Ok(()) }
//! #     async fn auth_notified(&self, _: AuthEvent) -> Result<(), Unavailable> { Ok(()) }
//! #     async fn unbinding_requested(&self, _: ConsultUnbindingRequest) -> Result<(), String> { Ok(()) }
//! # }
//! # async fn serve(config: alipayplus_client::client::ClientConfig) -> std::io::Result<()> {
//! let app = axum::Router::new().nest(
//!     "/alipayplus",
//!     alipayplus_axum_example::routes(Arc::new(config), Arc::new(Shop)),
//! );
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::Arc;

use alipayplus_autodebit::{AuthEvent, handle_auth_notify, handle_consult_unbinding};
use alipayplus_client::client::ClientConfig;
use alipayplus_client::transport::{Request, Response};
use alipayplus_types::{ConsultUnbindingRequest, NotifyPaymentRequest};
use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::any;

/// Largest inbound body read; a longer one is refused (413) before verification. Alipay+
/// notifications are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Route of notifyPayment under the router's mount point (the `paymentNotifyUrl` you send,
/// or the URL configured with Alipay+, ends with it).
pub const NOTIFY_PAYMENT: &str = "/notifyPayment";
/// Route of authNotify.
pub const AUTH_NOTIFY: &str = "/authNotify";
/// Route of consultUnbinding.
pub const CONSULT_UNBINDING: &str = "/consultUnbinding";

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
    /// or hand it to the payment's follower ([`Flow::Notification`](alipayplus_client::driver::Flow)).
    fn payment_notified(
        &self,
        notification: NotifyPaymentRequest,
    ) -> impl Future<Output = Result<(), Unavailable>> + Send;

    /// A verified authNotify (auth code, token created, token cancelled): feed it to the
    /// binding or the token lifecycle.
    fn auth_notified(
        &self,
        event: AuthEvent,
    ) -> impl Future<Output = Result<(), Unavailable>> + Send;

    /// A verified consultUnbinding: `Ok` allows the wallet-side unbinding, `Err(reason)`
    /// refuses it (e.g. outstanding fares).
    fn unbinding_requested(
        &self,
        consultation: ConsultUnbindingRequest,
    ) -> impl Future<Output = Result<(), String>> + Send;
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
/// nest into your application's router. Every method is routed to the SDK, which answers
/// anything but POST with its signed `METHOD_NOT_SUPPORTED`.
pub fn routes<M: Merchant>(config: Arc<ClientConfig>, merchant: Arc<M>) -> Router {
    Router::new()
        .route(NOTIFY_PAYMENT, any(notify_payment::<M>))
        .route(AUTH_NOTIFY, any(auth_notify::<M>))
        .route(CONSULT_UNBINDING, any(consult_unbinding::<M>))
        .with_state(Inbound { config, merchant })
}

async fn notify_payment<M: Merchant>(
    State(inbound): State<Inbound<M>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let request = match sdk_request(request, MAX_BODY_BYTES).await {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    match inbound.config.handle_notify_payment(&request) {
        Ok(accepted) => match inbound.merchant.payment_notified(accepted.body).await {
            Ok(()) => axum_response(accepted.answer),
            Err(Unavailable) => not_acknowledged(),
        },
        Err(refused) => axum_response(refused.answer),
    }
}

async fn auth_notify<M: Merchant>(
    State(inbound): State<Inbound<M>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let request = match sdk_request(request, MAX_BODY_BYTES).await {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    match handle_auth_notify(&inbound.config, &request) {
        Ok(notified) => match inbound.merchant.auth_notified(notified.event).await {
            Ok(()) => axum_response(notified.answer),
            Err(Unavailable) => not_acknowledged(),
        },
        Err(refused) => axum_response(refused.answer),
    }
}

async fn consult_unbinding<M: Merchant>(
    State(inbound): State<Inbound<M>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let request = match sdk_request(request, MAX_BODY_BYTES).await {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    match handle_consult_unbinding(&inbound.config, &request) {
        Ok(consultation) => {
            let decision = inbound
                .merchant
                .unbinding_requested(consultation.body.clone())
                .await;
            let answer = match decision {
                Ok(()) => consultation.allow(&inbound.config),
                Err(reason) => consultation.refuse(&inbound.config, &reason),
            };
            axum_response(answer)
        }
        Err(refused) => axum_response(refused.answer),
    }
}

/// axum's request as the SDK's [`Request`]: method, the URI Alipay+ called (axum's
/// [`OriginalUri`] when the router is nested, so the signature is checked over the full
/// path), headers, and the body read up to `limit` bytes.
///
/// # Errors
/// HTTP 413 (unsigned: nothing was verified, so nothing is acknowledged) when the body is
/// longer than `limit` (announced or not), or could not be read.
pub async fn sdk_request(
    request: axum::extract::Request,
    limit: usize,
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
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    if let Some(OriginalUri(uri)) = parts.extensions.remove::<OriginalUri>() {
        parts.uri = uri;
    }
    Ok(Request::from(axum::http::Request::from_parts(
        parts,
        bytes.to_vec(),
    )))
}

/// The SDK's signed answer as axum's response (status, headers, body bytes as signed).
pub fn axum_response(answer: Response) -> axum::response::Response {
    match axum::http::Response::<Vec<u8>>::try_from(answer) {
        Ok(response) => response.map(Body::from),
        // The SDK's own headers are always valid; a failure here is a bug, never an ack.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn not_acknowledged() -> axum::response::Response {
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}
