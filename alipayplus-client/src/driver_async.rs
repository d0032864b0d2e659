//! The async loop over the [`PaymentFollower`] machine: [`PaymentFollower::run_async`], on
//! any executor.
//!
//! It is the blocking [`PaymentFollower::run`] with `.await`: the same machine, the same
//! [`Limit`] (deadline and/or call budget), the same time source (the client config's clock),
//! the same bytes. It waits with a sleep function the caller gives (`tokio::time::sleep`,
//! `async_io::Timer::after`, ...), so the core stays free of any runtime. The sleep future's
//! output converts to a [`Wake`]: `()` (the time passed), or a verified notification that
//! arrived first (`select!` the sleep against a channel and return `Some(notification)`).
//!
//! Dropping the future (a shutdown, a request handler's time is up) is safe: a call in flight
//! stays recorded as pending in the follower's state and counts as unanswered at the next
//! poll.
//!
//! ```
//! use alipayplus_client::driver::{Limit, PaymentFollower};
//! use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
//! # use alipayplus_client::client::Client;
//! # use alipayplus_client::transport_async::AsyncTransport;
//! # use alipayplus_types::PayRequest;
//! # async fn demo(
//! #     client: &Client<impl AsyncTransport + Sync>,
//! #     request: PayRequest,
//! #     sleep: impl Fn(core::time::Duration) -> core::future::Ready<()>,
//! # ) -> Result<(), alipayplus_client::error::RequestError> {
//! let now = client.config().now();
//! let tracker = PaymentTracker::for_pay(&request, now, TrackerPolicy::cashier());
//! let mut follower = PaymentFollower::new(request, tracker)?;
//! // With tokio: `tokio::time::sleep`.
//! let limit = Limit::until(now + core::time::Duration::from_secs(600));
//! let followed = loop {
//!     let followed = follower.run_async(client, limit, &sleep).await?;
//!     match &followed.redirect {
//!         Some(_to) => { /* send the shopper there, then run on */ }
//!         None => break followed,
//!     }
//! };
//! if followed.final_state == Some(Final::Succeeded) { /* fulfil the order */ }
//! # Ok(()) }
//! ```

use core::future::Future;
use core::time::Duration;

use alipayplus_types::{CancelPaymentRequest, InquiryPaymentRequest, PayRequest};

use crate::client::Client;
use crate::driver::{Answer, Answered, Api, Call, Followed, Limit, PaymentFollower, Wake};
use crate::error::RequestError;
use crate::follow;
use crate::time::Timestamp;
use crate::tracker::CallTimes;
use crate::transport_async::AsyncTransport;

impl PaymentFollower {
    /// The async twin of [`PaymentFollower::run`] (the shared loop [`follow::run_async`]):
    /// runs until the payment is final, the `limit` is reached, or a redirect is to be handed
    /// to the shopper. Waits by awaiting `sleep(duration)`, whose output converts to a
    /// [`Wake`].
    ///
    /// The future is `Send` when the transport's futures, the sleep futures and `sleep` are
    /// (with a `Sync` client), so it can be spawned on a multi-threaded executor.
    ///
    /// # Errors
    /// [`RequestError`] only when the **first** pay could not be signed: nothing reached
    /// Alipay+. Later failures to send count as "no answer".
    pub async fn run_async<T, S, W>(
        &mut self,
        client: &Client<T>,
        limit: Limit,
        sleep: impl FnMut(Duration) -> S,
    ) -> Result<Followed, RequestError>
    where
        T: AsyncTransport,
        S: Future<Output = W>,
        W: Into<Wake>,
    {
        let transmit = |call: Call| async move { Self::transmit_async(client, &call).await };
        follow::run_async(self, client.config(), limit, sleep, transmit).await
    }

    /// The async twin of [`PaymentFollower::transmit`]: signs `call` and sends it; its typed
    /// answer (not fed).
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent.
    pub async fn transmit_async<T: AsyncTransport>(
        client: &Client<T>,
        call: &Call,
    ) -> Result<Answer, RequestError> {
        let p = call.sign(client.config())?;
        Ok(match call.api() {
            Api::Pay => Answer::Pay(client.send_async::<PayRequest>(p).await),
            Api::InquiryPayment => {
                Answer::Inquiry(client.send_async::<InquiryPaymentRequest>(p).await)
            }
            Api::CancelPayment => {
                Answer::Cancel(client.send_async::<CancelPaymentRequest>(p).await)
            }
        })
    }

    /// The async twin of [`PaymentFollower::send`]: signs `call` (returned by
    /// [`PaymentFollower::poll`] at `sent_at`), sends it, and feeds the answer.
    ///
    /// # Errors
    /// As [`PaymentFollower::send`].
    pub async fn send_async<T: AsyncTransport>(
        &mut self,
        client: &Client<T>,
        call: &Call,
        sent_at: Timestamp,
    ) -> Result<Answered, RequestError> {
        let answer = Self::transmit_async(client, call).await;
        let at = CallTimes::new(sent_at, client.config().now());
        self.answered(call.api(), at, answer)
    }
}
