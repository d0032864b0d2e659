//! The async driver of the [`PaymentTracker`](crate::tracker::PaymentTracker):
//! [`PaymentFollower::run_async`], on any executor.
//!
//! It performs the same steps as the blocking [`PaymentFollower::run`] (same pay bytes on
//! every retry, the same guarded readers of inquiry, cancel and notification answers: the
//! per-step code is shared) over an [`AsyncTransport`], and waits with a sleep function the
//! caller gives (`tokio::time::sleep`, `async_io::Timer::after`, ...), so the core stays free
//! of any runtime.
//!
//! The sleep future's output says what happened meanwhile: `()` (the time passed), or a
//! [`Flow`]: `select!` the sleep against a channel of verified notifications and return
//! [`Flow::Notification`] when one arrives first, or [`Flow::Stop`] to stop (e.g. shutdown).
//!
//! ```
//! use alipayplus_client::driver::{Flow, PaymentFollower};
//! use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
//! # use alipayplus_client::client::Client;
//! # use alipayplus_client::time::Clock;
//! # use alipayplus_client::transport_async::AsyncTransport;
//! # use alipayplus_types::PayRequest;
//! # async fn demo(
//! #     client: &Client<impl AsyncTransport + Sync>,
//! #     clock: &(impl Clock + Sync),
//! #     request: PayRequest,
//! #     sleep: impl Fn(core::time::Duration) -> core::future::Ready<()>,
//! # ) -> Result<(), alipayplus_client::error::RequestError> {
//! let tracker = PaymentTracker::for_pay(&request, clock.now(), TrackerPolicy::cashier());
//! let mut follower = PaymentFollower::new(request, tracker)?;
//! // With tokio: `|wait| tokio::time::sleep(wait)`.
//! let followed = follower.run_async(client, clock, sleep, |_event| Flow::Continue).await?;
//! if followed.final_state == Some(Final::Succeeded) { /* fulfil the order */ }
//! # Ok(()) }
//! ```

use core::future::Future;
use core::time::Duration;

use alipayplus_types::PayRequest;

use crate::client::Client;
use crate::driver::{Event, Flow, Followed, PaymentFollower};
use crate::error::RequestError;
use crate::time::Clock;
use crate::tracker::Step;
use crate::transport_async::AsyncTransport;

/// The shortest wait handed to the sleep function: a step due now (or past) is retried
/// after a millisecond rather than in a busy loop.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// A sleep that ran its course: go on.
impl From<()> for Flow {
    fn from((): ()) -> Self {
        Flow::Continue
    }
}

impl PaymentFollower {
    /// Runs until the payment is final, or until `on` (or a sleep) answers [`Flow::Stop`]: the
    /// async twin of [`PaymentFollower::run`].
    ///
    /// `on` sees every [`Event`] as in the blocking driver, [`Event::Wait`] included (for logs:
    /// answer [`Flow::Continue`] to let the driver wait, or hand back a notification or a stop
    /// at once). The driver then awaits `sleep(until - now)`, whose output (`()` or a
    /// [`Flow`]) is handled like an answer of `on`. Can be called again after a stop: it
    /// resumes.
    ///
    /// The future is `Send` when the transport's futures, the sleep futures, `sleep`, `on`
    /// and the clock are (with `Sync` client and clock), so it can be spawned on a
    /// multi-threaded executor.
    ///
    /// # Errors
    /// [`RequestError`] only when the **first** pay could not be signed: nothing reached
    /// Alipay+. Later failures to send count as "no answer".
    pub async fn run_async<T, S, W>(
        &mut self,
        client: &Client<T>,
        clock: &impl Clock,
        mut sleep: impl FnMut(Duration) -> S,
        mut on: impl FnMut(Event<'_>) -> Flow,
    ) -> Result<Followed, RequestError>
    where
        T: AsyncTransport,
        S: Future<Output = W>,
        W: Into<Flow>,
    {
        loop {
            let now = clock.now();
            let flow = match self.next_step(now) {
                Step::Pay => match self.sign_pay(client.config(), clock, &mut on)? {
                    Ok(prepared) => {
                        let outcome = client.send_async::<PayRequest>(prepared).await;
                        self.on_pay_answer(now, clock, &outcome, &mut on)
                    }
                    Err(flow) => flow,
                },
                Step::Inquire => {
                    let outcome = client.call_async(&self.inquiry()).await;
                    self.on_inquiry_answer(now, clock, outcome, &mut on)
                }
                Step::Cancel => {
                    let outcome = client.call_async(&self.cancel()).await;
                    self.on_cancel_answer(now, clock, outcome, &mut on)
                }
                Step::RedirectShopper(to) => on(Event::Redirect(&to)),
                Step::WaitUntil(until) => match on(Event::Wait { until }) {
                    Flow::Continue => {
                        let wait = until.since(clock.now()).max(MIN_WAIT);
                        sleep(wait).await.into()
                    }
                    other => other,
                },
                Step::Finished(state) => return Ok(self.finish(state)),
            };
            if let Some(stopped) = self.settle(flow, clock, &mut on) {
                return Ok(stopped);
            }
        }
    }
}
