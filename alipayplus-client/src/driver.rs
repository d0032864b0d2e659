//! A blocking driver of the [`PaymentTracker`]: does the next step, waits until its time or
//! until a notification arrives, feeds every answer back, until the payment is final.
//!
//! Both products follow their payments with it (Cashier with [`TrackerPolicy::cashier`],
//! Auto Debit with [`TrackerPolicy::auto_debit`]), and so does the demo. It keeps no rules of
//! its own: the tracker decides, the driver only performs.
//!
//! * Pay retries re-send the body of the first attempt **byte for byte** (with a fresh
//!   `Request-Time` and signature), so every attempt provably carries the same key fields
//!   (the follower tells its tracker so: a `REPEAT_REQ_INCONSISTENT` then proves this order
//!   was not charged, [`Final::RequestIdReused`]).
//! * [`PaymentFollower::run_until`] bounds a blocking run: at the bound it returns with
//!   `final_state: None` ("unresolved, keep following") and the tracker to store and resume.
//! * Inquiry, cancel and notification answers go through the tracker's guarded readers
//!   ([`PaymentTracker::on_inquiry_outcome`], [`PaymentTracker::on_notify_payment`]): an
//!   answer or a notification about another `paymentRequestId` settles nothing.
//! * A notification is also checked against the order's amount
//!   ([`check_notification`]); one that does not match is
//!   reported ([`Event::Mismatch`]) and not fed.
//! * A request that cannot be sent after the first pay (e.g. a remote signer failing for a
//!   while) counts as "no answer": the payment may exist, so it is followed on.
//!
//! [`TrackerPolicy::cashier`]: crate::tracker::TrackerPolicy::cashier
//! [`TrackerPolicy::auto_debit`]: crate::tracker::TrackerPolicy::auto_debit
//!
//! ```
//! use core::time::Duration;
//! use alipayplus_client::driver::{Event, Flow, PaymentFollower};
//! use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
//! # use alipayplus_client::client::Client;
//! # use alipayplus_client::time::Clock;
//! # use alipayplus_client::transport::Transport;
//! # use alipayplus_types::PayRequest;
//! # fn demo(client: &Client<impl Transport>, clock: &impl Clock, request: PayRequest)
//! #     -> Result<(), alipayplus_client::error::RequestError> {
//! let tracker = PaymentTracker::for_pay(&request, clock.now(), TrackerPolicy::cashier());
//! let mut follower = PaymentFollower::new(request, tracker)?;
//! let followed = follower.run(client, clock, |event| {
//!     match event {
//!         Event::Redirect(to) => { /* send the shopper there */ }
//!         Event::Wait { until } => { /* sleep until `until`, or return
//!                                       Flow::Notification(n) when one arrives first */ }
//!         _ => {}
//!     }
//!     Flow::Continue
//! })?;
//! if followed.final_state == Some(Final::Succeeded) { /* fulfil the order */ }
//! # Ok(()) }
//! ```

use alloc::boxed::Box;
use alloc::vec::Vec;

use alipayplus_types::{
    CancelPaymentRequest, CancelPaymentResponse, InquiryPaymentRequest, InquiryPaymentResponse,
    NotifyPaymentRequest, PayRequest, PayResponse, Timestamp,
};

use crate::cancel::cancel_request;
use crate::client::{Client, ClientConfig, Outcome, Prepared};
use crate::error::{NotificationMismatch, RequestError};
use crate::inquiry::{PaymentRef, inquiry_request};
use crate::notify::check_notification;
use crate::time::Clock;
use crate::tracker::{
    BodyDigest, CallTimes, CancelReport, Final, InquiryReport, PaymentTracker, Report,
    ShopperRedirect, Step, Update,
};
use crate::transport::Transport;

/// What the caller answers to an [`Event`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Flow {
    /// Go on.
    Continue,
    /// A verified notifyPayment arrived meanwhile: feed it, then go on.
    Notification(Box<NotifyPaymentRequest>),
    /// Stop now without a final state (e.g. a request handler's time is up). The tracker keeps
    /// where the payment stands: store it ([`PaymentFollower::tracker`]) and resume later.
    Stop,
}

impl From<Option<NotifyPaymentRequest>> for Flow {
    fn from(n: Option<NotifyPaymentRequest>) -> Self {
        n.map_or(Flow::Continue, |n| Flow::Notification(Box::new(n)))
    }
}

/// What the driver tells its caller, who answers with a [`Flow`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A call was made and its answer fed to the tracker (for logs).
    Called {
        /// The API name (`pay`, `inquiryPayment`, `cancelPayment`).
        api: &'static str,
        /// `S`, `F` or `U` (`U` also for no verified response, or a request not sent).
        status: &'static str,
        /// `result.resultCode` of a verified answer.
        code: Option<&'a str>,
        /// What the answer changed.
        update: &'a Update,
    },
    /// Send the shopper here (once per distinct redirect), then return.
    Redirect(&'a ShopperRedirect),
    /// Nothing to do before `until`: wait until then, or return earlier with a verified
    /// notification that arrives.
    Wait {
        /// When the next step is due.
        until: Timestamp,
    },
    /// A notification was fed to the tracker.
    Notified {
        /// What it changed.
        update: &'a Update,
    },
    /// A notification names this payment but does not match the order (amount or id): it was
    /// not fed. Do not fulfil on it; investigate.
    Mismatch(&'a NotificationMismatch),
}

/// How a followed payment ended ([`PaymentFollower::run`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Followed {
    /// The final state (paid, failed with a code, cancelled, or unresolved); `None` when the
    /// caller stopped the run first ([`Flow::Stop`]): the payment is still open, keep
    /// following it (never treat it as failed).
    pub final_state: Option<Final>,
    /// The `paymentRequestId` used by every pay, inquiry and cancel.
    pub payment_request_id: alloc::string::String,
    /// The last verified pay answer (`paymentId`, `paymentTime`, ...), if any.
    pub pay_response: Option<PayResponse>,
    /// How many times pay was sent (always the same body).
    pub pay_attempts: u32,
    /// How many inquiries were made.
    pub inquiries: u32,
    /// How many cancels were made.
    pub cancels: u32,
    /// Where the payment stands: store it with the order while
    /// [`Followed::keep_following`], and resume with [`PaymentFollower::new`].
    pub tracker: PaymentTracker,
}

impl Followed {
    /// The failure code, when the payment failed.
    pub fn failure_code(&self) -> Option<&str> {
        match &self.final_state {
            Some(Final::Failed { code }) => Some(code),
            _ => None,
        }
    }

    /// Unresolved, keep following: the run stopped (its bound or [`Flow::Stop`]) before a final
    /// state. The payment may exist: never treat it as failed; resume from
    /// [`Followed::tracker`] later.
    pub fn keep_following(&self) -> bool {
        self.final_state.is_none()
    }
}

/// Follows one payment: its pay request (kept as the exact bytes sent) and its tracker.
///
/// `Debug` shows the tracker and the body's length, never the body (an Auto Debit pay body
/// holds the access token).
#[derive(Clone)]
pub struct PaymentFollower {
    request: PayRequest,
    body: Vec<u8>,
    tracker: PaymentTracker,
    followed: Followed,
}

impl PaymentFollower {
    /// A follower for `request` (already given its product's flags) tracked by `tracker`.
    /// The request is validated and serialized once here; every pay attempt sends these bytes.
    ///
    /// A tracker that recorded its first pay send ([`PaymentTracker::first_pay_digest`]) only
    /// resumes with the very bytes sent then.
    ///
    /// # Errors
    /// [`RequestError`] when the request is invalid (nothing is sent);
    /// [`RequestError::PayBodyMismatch`] when its body is not the one the tracker recorded as
    /// first sent (e.g. rebuilt with another amount or expiry).
    pub fn new(request: PayRequest, tracker: PaymentTracker) -> Result<Self, RequestError> {
        request
            .validate()
            .map_err(|errors| RequestError::Invalid { api: "pay", errors })?;
        let body = serde_json::to_vec(&request)
            .map_err(|e| RequestError::Serialize(alloc::string::ToString::to_string(&e)))?;
        // A tracker that recorded its first send holds the digest of the bytes sent then:
        // a follower with other bytes (a rebuilt request) must not send under that id.
        if tracker
            .first_pay_digest()
            .is_some_and(|d| *d != BodyDigest::of(&body))
        {
            return Err(RequestError::PayBodyMismatch {
                payment_request_id: request.payment_request_id.clone(),
            });
        }
        let followed = Followed {
            final_state: None,
            payment_request_id: request.payment_request_id.clone(),
            pay_response: None,
            pay_attempts: 0,
            inquiries: 0,
            cancels: 0,
            tracker: tracker.clone(),
        };
        Ok(PaymentFollower {
            request,
            body,
            tracker,
            followed,
        })
    }

    /// The tracker (its state can be stored between runs).
    pub fn tracker(&self) -> &PaymentTracker {
        &self.tracker
    }

    /// The exact pay body every attempt sends.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Runs until the payment is final, or until `on` answers [`Flow::Stop`]. `on` sees every
    /// [`Event`] and may hand back a verified notifyPayment that arrived
    /// ([`Flow::Notification`]). Can be called again after a stop: it resumes.
    ///
    /// # Errors
    /// [`RequestError`] only when the **first** pay could not be signed: nothing reached
    /// Alipay+. Later failures to send count as "no answer".
    pub fn run<T: Transport>(
        &mut self,
        client: &Client<T>,
        clock: &impl Clock,
        on: impl FnMut(Event<'_>) -> Flow,
    ) -> Result<Followed, RequestError> {
        self.run_until(client, clock, Timestamp::from_unix_millis(i64::MAX), on)
    }

    /// [`PaymentFollower::run`], but returns at `until` at the latest: then
    /// [`Followed::final_state`] is `None` ([`Followed::keep_following`]): the payment is still
    /// open; store [`Followed::tracker`] and resume later. No wait reported to `on` goes past
    /// `until`.
    ///
    /// # Errors
    /// As [`PaymentFollower::run`].
    pub fn run_until<T: Transport>(
        &mut self,
        client: &Client<T>,
        clock: &impl Clock,
        until: Timestamp,
        mut on: impl FnMut(Event<'_>) -> Flow,
    ) -> Result<Followed, RequestError> {
        loop {
            let now = clock.now();
            let flow = match self.next_step(now) {
                Step::Finished(state) => return Ok(self.finish(state)),
                // The bound: unresolved, keep following later.
                _ if now >= until => return Ok(self.stopped()),
                Step::Pay => match self.sign_pay(client.config(), clock, &mut on)? {
                    Ok(prepared) => {
                        let outcome = client.send::<PayRequest>(prepared);
                        self.on_pay_answer(now, clock, &outcome, &mut on)
                    }
                    Err(flow) => flow,
                },
                Step::Inquire => {
                    let outcome = client.call(&self.inquiry());
                    self.on_inquiry_answer(now, clock, outcome, &mut on)
                }
                Step::Cancel => {
                    let outcome = client.call(&self.cancel());
                    self.on_cancel_answer(now, clock, outcome, &mut on)
                }
                Step::RedirectShopper(to) => on(Event::Redirect(&to)),
                Step::WaitUntil(at) => on(Event::Wait {
                    until: at.min(until),
                }),
            };
            if let Some(stopped) = self.settle(flow, clock, &mut on) {
                return Ok(stopped);
            }
        }
    }

    /// How the payment stands now, with the tracker to store (a stop before a final state).
    pub(crate) fn stopped(&mut self) -> Followed {
        self.followed.tracker = self.tracker.clone();
        self.followed.clone()
    }

    // The steps are split around their IO so that the async driver (`driver_async`) shares
    // everything but the sending.

    /// What the tracker says to do now.
    pub(crate) fn next_step(&mut self, now: Timestamp) -> Step {
        self.tracker.next_step(now)
    }

    /// Handles the caller's answer: feeds handed-back notifications; `Some` when it stopped.
    pub(crate) fn settle(
        &mut self,
        flow: Flow,
        clock: &impl Clock,
        on: &mut impl FnMut(Event<'_>) -> Flow,
    ) -> Option<Followed> {
        let mut next = flow;
        // A notification handed back while reporting one is handled the same way.
        while let Flow::Notification(n) = next {
            next = self.notified(clock.now(), &n, on);
        }
        match next {
            Flow::Stop => Some(self.stopped()),
            _ => None,
        }
    }

    /// The pay to send (the stored bytes, freshly signed), or the flow when it could not be
    /// signed after an earlier attempt (counted as no answer).
    pub(crate) fn sign_pay(
        &mut self,
        config: &ClientConfig,
        clock: &impl Clock,
        on: &mut impl FnMut(Event<'_>) -> Flow,
    ) -> Result<Result<Prepared, Flow>, RequestError> {
        match config.sign_body::<PayRequest>(self.body.clone()) {
            Ok(prepared) => {
                // Recorded before the bytes leave: the proof of what this attempt carried.
                self.tracker.record_pay_send(&self.body);
                Ok(Ok(prepared))
            }
            Err(e) if self.followed.pay_attempts == 0 => Err(e),
            Err(_) => {
                // An earlier pay may have reached Alipay+: unknown, never "not sent".
                let update = self
                    .tracker
                    .on_pay(clock.now(), Report::Unknown(None), None);
                Ok(Err(on(called(
                    "pay",
                    None::<&Outcome<PayResponse>>,
                    &update,
                ))))
            }
        }
    }

    /// Feeds a pay answer.
    pub(crate) fn on_pay_answer(
        &mut self,
        sent_at: Timestamp,
        clock: &impl Clock,
        outcome: &Outcome<PayResponse>,
        on: &mut impl FnMut(Event<'_>) -> Flow,
    ) -> Flow {
        self.followed.pay_attempts = self.followed.pay_attempts.saturating_add(1);
        if let Some(body) = outcome.body() {
            self.followed.pay_response = Some(body.clone());
        }
        let at = CallTimes::new(sent_at, clock.now());
        let update = self.tracker.on_pay_outcome(at, outcome);
        on(called("pay", Some(outcome), &update))
    }

    /// The inquiry this payment's follow-up sends.
    pub(crate) fn inquiry(&self) -> InquiryPaymentRequest {
        inquiry_request(&self.payment_ref())
    }

    /// Feeds an inquiry answer (`Err`: it could not be sent, counted as no answer).
    pub(crate) fn on_inquiry_answer(
        &mut self,
        sent_at: Timestamp,
        clock: &impl Clock,
        outcome: Result<Outcome<InquiryPaymentResponse>, RequestError>,
        on: &mut impl FnMut(Event<'_>) -> Flow,
    ) -> Flow {
        let at = CallTimes::new(sent_at, clock.now());
        let (update, outcome) = match outcome {
            Ok(outcome) => {
                self.followed.inquiries = self.followed.inquiries.saturating_add(1);
                (self.tracker.on_inquiry_outcome(at, &outcome), Some(outcome))
            }
            Err(_) => (self.tracker.on_inquiry(at, InquiryReport::NoAnswer), None),
        };
        on(called("inquiryPayment", outcome.as_ref(), &update))
    }

    /// The cancel this payment's follow-up sends.
    pub(crate) fn cancel(&self) -> CancelPaymentRequest {
        cancel_request(&self.payment_ref())
    }

    /// Feeds a cancel answer (`Err`: it could not be sent, counted as no answer).
    pub(crate) fn on_cancel_answer(
        &mut self,
        sent_at: Timestamp,
        clock: &impl Clock,
        outcome: Result<Outcome<CancelPaymentResponse>, RequestError>,
        on: &mut impl FnMut(Event<'_>) -> Flow,
    ) -> Flow {
        let at = CallTimes::new(sent_at, clock.now());
        let (update, outcome) = match outcome {
            Ok(outcome) => {
                self.followed.cancels = self.followed.cancels.saturating_add(1);
                (self.tracker.on_cancel_outcome(at, &outcome), Some(outcome))
            }
            Err(_) => (self.tracker.on_cancel(at, CancelReport::NoAnswer), None),
        };
        on(called("cancelPayment", outcome.as_ref(), &update))
    }

    /// Marks the payment final and returns how it ended.
    pub(crate) fn finish(&mut self, state: Final) -> Followed {
        self.followed.final_state = Some(state);
        self.stopped()
    }

    fn notified(
        &mut self,
        now: Timestamp,
        notification: &NotifyPaymentRequest,
        on: &mut impl FnMut(Event<'_>) -> Flow,
    ) -> Flow {
        let id = self.tracker.payment_request_id();
        // Another payment's notification is none of this follower's business.
        if notification.payment_request_id != id {
            return Flow::Continue;
        }
        match check_notification(notification, id, &self.request.payment_amount) {
            Err(mismatch) => on(Event::Mismatch(&mismatch)),
            Ok(()) => {
                let update = self.tracker.on_notify_payment(now, notification);
                on(Event::Notified { update: &update })
            }
        }
    }

    fn payment_ref(&self) -> PaymentRef {
        PaymentRef::RequestId(self.tracker.payment_request_id().into())
    }
}

impl core::fmt::Debug for PaymentFollower {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PaymentFollower")
            .field("payment_request_id", &self.request.payment_request_id)
            .field(
                "body",
                &format_args!("<{} bytes redacted>", self.body.len()),
            )
            .field("tracker", &self.tracker)
            .finish_non_exhaustive()
    }
}

fn called<'a, R: alipayplus_types::HasResult>(
    api: &'static str,
    outcome: Option<&'a Outcome<R>>,
    update: &'a Update,
) -> Event<'a> {
    Event::Called {
        api,
        status: outcome.map_or("U", Outcome::status_str),
        code: outcome.and_then(Outcome::code),
        update,
    }
}
