//! The generic signed call over an [`AsyncTransport`]: [`Client::call_async`] and
//! [`Client::send_async`].
//!
//! Only the IO differs from [`Client::call`] / [`Client::send`]: the request is validated,
//! serialized and signed by [`ClientConfig::sign_request`](crate::client::ClientConfig::sign_request)
//! (or re-signed by [`ClientConfig::sign_body`](crate::client::ClientConfig::sign_body)), and
//! the answer is verified, parsed and classified by
//! [`ClientConfig::read_response`](crate::client::ClientConfig::read_response), exactly as
//! on the blocking path; the same input with the same clock sends the same bytes.
//!
//! Every API is available (the call is generic over [`Api`]): build the typed request with
//! the flow crate's builder, then `client.call_async(&request).await`.
//!
//! The futures are `Send` when the transport's are and the client is `Sync` (every
//! [`ClientConfig`](crate::client::ClientConfig) is), so calls run inside axum handlers and
//! `tokio::spawn`. Signing happens on the calling task (one RSA-2048 signature, well under a
//! millisecond with the `aws-lc` backend); no executor is assumed.
//!
//! ```
//! # async fn demo(
//! #     config: alipayplus_client::client::ClientConfig,
//! # ) -> Result<(), alipayplus_client::error::RequestError> {
//! use alipayplus_client::client::Client;
//! use alipayplus_client::inquiry::{PaymentRef, inquiry_request};
//! use alipayplus_client::transport::{Request, Response};
//!
//! // Any async transport: alipayplus_reqwest::ReqwestTransport, or a closure.
//! let transport = |_request: Request| async {
//!     Err::<Response, _>(std::io::Error::from(std::io::ErrorKind::TimedOut))
//! };
//! let client = Client::new(config, transport);
//! let outcome = client
//!     .call_async(&inquiry_request(&PaymentRef::RequestId("order-42".into())))
//!     .await?;
//! assert!(outcome.is_unknown(), "no answer is never a failure");
//! # Ok(()) }
//! ```

use alloc::boxed::Box;

use alipayplus_types::Api;

use crate::client::{Client, Prepared};
use crate::error::{RequestError, TransportError};
use crate::outcome::Outcome;
use crate::transport_async::AsyncTransport;

impl<T: AsyncTransport> Client<T> {
    /// Calls API `A` over the async transport: validate, serialize, sign, send, verify, parse,
    /// classify (the async twin of [`Client::call`]).
    ///
    /// Never retries by itself; on an unknown outcome the caller (or the
    /// [`tracker`](crate::tracker)) retries with the same request id or inquires.
    ///
    /// # Errors
    /// [`RequestError`] when the request was not sent. Every answer, including transport
    /// failures, is an [`Outcome`].
    pub async fn call_async<A: Api>(
        &self,
        request: &A,
    ) -> Result<Outcome<A::Response>, RequestError> {
        let prepared = self.config().sign_request(request)?;
        Ok(self.send_async::<A>(prepared).await)
    }

    /// Sends a request signed by
    /// [`ClientConfig::sign_request`](crate::client::ClientConfig::sign_request) or
    /// [`ClientConfig::sign_body`](crate::client::ClientConfig::sign_body) for API `A` and
    /// reads the answer (the async twin of [`Client::send`]).
    pub async fn send_async<A: Api>(&self, prepared: Prepared) -> Outcome<A::Response> {
        #[cfg(feature = "tracing")]
        let trace = crate::trace::Outbound::start(
            A::NAME,
            self.config().identity().key_version(),
            &prepared.request.body,
        );
        let Prepared {
            request,
            signed_uri,
        } = prepared;
        let sending = AsyncTransport::send(self.transport(), request);
        // The transport's own events nest in the call's span (never held across an await).
        #[cfg(feature = "tracing")]
        let sending = tracing::Instrument::instrument(sending, trace.span().clone());
        let response = sending.await.map_err(|e| Box::new(e) as TransportError);
        let outcome = self.config().read_response::<A>(&signed_uri, response);
        #[cfg(feature = "tracing")]
        trace.finish(&outcome);
        outcome
    }
}
