//! The payment follow-up as a poll-style machine around the [`PaymentTracker`]: it says what
//! to do next ([`Action`]), the caller does it and feeds the answer back. No callbacks, no IO,
//! no clock: the caller passes the time.
//!
//! * [`PaymentFollower::poll`] returns [`Action::Send`] (a [`Call`]: which API and the exact
//!   body bytes; signing and the `Request-Time` stay the client's at send time),
//!   [`Action::Redirect`] (once per distinct redirect), [`Action::WaitUntil`] or
//!   [`Action::Done`]. When it returns a send, the machine has **already recorded** it (the
//!   first pay body's SHA-256, the attempt count, the call pending): store
//!   [`PaymentFollower::state`] right after `poll` and before sending, and the store is a
//!   write-ahead record. A call whose answer never came (a crash, a dropped future) counts as
//!   "no answer" at the next `poll`.
//! * Answers go in typed per API with the time the call was sent and answered
//!   ([`CallTimes`]): [`PaymentFollower::on_pay`], [`PaymentFollower::on_inquiry`],
//!   [`PaymentFollower::on_cancel`]; a call that could not be sent (e.g. the signer failed)
//!   with [`PaymentFollower::on_unsent`]. Inquiry, cancel and notification answers go through
//!   the tracker's guarded readers: an answer about another `paymentRequestId` settles nothing.
//! * Verified notifications go in with their time ([`PaymentFollower::on_notification`]); one
//!   that names this payment but does not match the order (amount) comes back as
//!   [`Notified::Mismatch`] and is not fed.
//! * Pay retries send the first pay's body **byte for byte**. Its digest, recorded before it
//!   first left, is what lets a `REPEAT_REQ_INCONSISTENT` prove that this order was not
//!   charged ([`Final::RequestIdReused`]).
//! * [`FollowerState`] (serde) is everything needed to resume: the tracker (with the digest
//!   and the redirect already given), the exact first pay body, the call pending.
//!   [`PaymentFollower::resume`] refuses a state whose body does not match its digest.
//!   `Debug` of the machine and of its state shows the body's length only (an Auto Debit
//!   body holds the access token).
//!
//! [`PaymentFollower::run`] (blocking) and
//! [`PaymentFollower::run_async`](crate::driver_async) are two short loops over this machine,
//! bounded the same way ([`Limit`]: a deadline and/or a call budget), reading the time from
//! the [`ClientConfig`]'s clock only. They return at a final state, at the bound, and at a
//! redirect (send the shopper there, then run again).
//!
//! A caller's own loop (the run loops are this, with a sleep): [`PaymentFollower::send`]
//! signs, sends and feeds a call through a [`Client`] (with your own HTTP stack, sign with
//! [`Call::sign`] and feed the typed outcome to `on_pay` / `on_inquiry` / `on_cancel`).
//!
//! ```
//! use alipayplus_client::driver::{Action, PaymentFollower};
//! use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
//! # use alipayplus_client::client::Client;
//! # use alipayplus_client::transport::Transport;
//! # use alipayplus_types::PayRequest;
//! # fn store(_: &[u8]) {}
//! # fn sleep_until(_: alipayplus_client::time::Timestamp) {}
//! # fn demo(client: &Client<impl Transport>, request: PayRequest)
//! #     -> Result<(), alipayplus_client::error::RequestError> {
//! let config = client.config();
//! let tracker = PaymentTracker::for_pay(&request, config.now(), TrackerPolicy::cashier());
//! let mut follower = PaymentFollower::new(request, tracker)?;
//! let state = loop {
//!     let now = config.now();
//!     match follower.poll(now) {
//!         Action::Send(call) => {
//!             store(&follower.state().to_bytes()); // write-ahead: the send is recorded
//!             let answered = follower.send(client, &call, now)?;
//!             println!("{} {} {:?}", answered.api.name(), answered.status.letter(), answered.update);
//!             store(&follower.state().to_bytes());
//!         }
//!         Action::Redirect(to) => { /* send the shopper there */ }
//!         // Sleep, or feed a verified notification that arrives first
//!         // (`follower.on_notification(config.now(), &notification)`).
//!         Action::WaitUntil(at) => sleep_until(at),
//!         Action::Done(state) => break state,
//!         _ => {}
//!     }
//! };
//! if state == Final::Succeeded { /* fulfil the order */ }
//! # Ok(()) }
//! ```

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use alipayplus_types::{
    Amount, CancelPaymentRequest, CancelPaymentResponse, InquiryPaymentRequest,
    InquiryPaymentResponse, NotifyPaymentRequest, PayRequest, PayResponse, Timestamp,
};

use crate::cancel::cancel_request;
use crate::client::{Client, Prepared};
use crate::config::ClientConfig;
use crate::error::{NotificationMismatch, RequestError};
use crate::follow::{self, Decision, FollowUp, Polled};
use crate::inquiry::inquiry_request;
use crate::notify::check_notification;
use crate::outcome::Outcome;
use crate::payment_ref::PaymentRef;
use crate::tracker::{
    BodyDigest, CallTimes, CancelReport, Final, InquiryReport, PaymentTracker, Report,
    ShopperRedirect, Step, Update,
};
use crate::transport::Transport;

/// The API of a [`Call`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Api {
    /// pay (the first pay's body, byte for byte, on every attempt).
    Pay,
    /// inquiryPayment.
    InquiryPayment,
    /// cancelPayment.
    CancelPayment,
}

impl Api {
    /// The API name as Alipay+ spells it (`pay`, `inquiryPayment`, `cancelPayment`).
    pub fn name(self) -> &'static str {
        use alipayplus_types::Api as _;
        match self {
            Api::Pay => PayRequest::NAME,
            Api::InquiryPayment => InquiryPaymentRequest::NAME,
            Api::CancelPayment => CancelPaymentRequest::NAME,
        }
    }
}

/// A call to send now: the API and the exact body bytes. Sign it at send time
/// ([`Call::sign`]: a fresh `Request-Time` and signature), send it, and feed the answer to the
/// follower's `on_*` method of that API. `Debug` shows the body's length only.
#[derive(Clone, PartialEq, Eq)]
pub struct Call {
    api: Api,
    body: Vec<u8>,
}

impl Call {
    /// The API to call.
    pub fn api(&self) -> Api {
        self.api
    }

    /// The exact body to send.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Signs the body unchanged with `config` (its clock gives the `Request-Time`).
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent; report it with
    /// [`PaymentFollower::on_unsent`].
    pub fn sign(&self, config: &ClientConfig) -> Result<Prepared, RequestError> {
        let body = self.body.clone();
        match self.api {
            Api::Pay => config.sign_body::<PayRequest>(body),
            Api::InquiryPayment => config.sign_body::<InquiryPaymentRequest>(body),
            Api::CancelPayment => config.sign_body::<CancelPaymentRequest>(body),
        }
    }
}

impl core::fmt::Debug for Call {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Call")
            .field("api", &self.api)
            .field("body", &Redacted(self.body.len()))
            .finish()
    }
}

/// What to do next ([`PaymentFollower::poll`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Send this call now (already recorded as issued: store the state first), then feed its
    /// answer.
    Send(Call),
    /// Send the shopper here (returned once per distinct redirect), then poll again.
    Redirect(ShopperRedirect),
    /// Nothing to do before this instant: wait, or feed a verified notification that arrives
    /// first, then poll again.
    WaitUntil(Timestamp),
    /// The payment reached this final state.
    Done(Final),
}

/// What a notification did ([`PaymentFollower::on_notification`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notified {
    /// Fed to the tracker; what it changed.
    Fed(Update),
    /// About another payment: none of this follower's business.
    OtherPayment,
    /// Names this payment but does not match the order (amount): not fed. Do not fulfil on
    /// it; investigate.
    Mismatch(NotificationMismatch),
}

/// A call issued and not answered yet (stored: a crash between send and answer is seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Pending {
    api: Api,
    sent_at: Timestamp,
}

/// Everything needed to resume a follower: store it (e.g. [`FollowerState::to_bytes`]) with
/// the order, and resume with [`PaymentFollower::resume`]. `Debug` redacts the body.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct FollowerState {
    tracker: PaymentTracker,
    /// The exact pay body every attempt sends (JSON, so UTF-8).
    pay_body: String,
    /// Its SHA-256: checked when the state is resumed.
    body_digest: BodyDigest,
    pending: Option<Pending>,
    pay_attempts: u32,
    inquiries: u32,
    cancels: u32,
}

impl FollowerState {
    /// The state as bytes (JSON) to store.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain strings, numbers and enums: serializing cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A state stored with [`FollowerState::to_bytes`].
    ///
    /// # Errors
    /// [`RequestError::StoredState`] when the bytes are not a stored state.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        serde_json::from_slice(bytes).map_err(|e| RequestError::StoredState(e.to_string()))
    }

    /// The tracker: where the payment stands.
    pub fn tracker(&self) -> &PaymentTracker {
        &self.tracker
    }

    /// The exact pay body every attempt sends.
    pub fn pay_body(&self) -> &[u8] {
        self.pay_body.as_bytes()
    }
}

impl core::fmt::Debug for FollowerState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FollowerState")
            .field("tracker", &self.tracker)
            .field("pay_body", &Redacted(self.pay_body.len()))
            .field("body_digest", &self.body_digest)
            .field("pending", &self.pending)
            .field("pay_attempts", &self.pay_attempts)
            .field("inquiries", &self.inquiries)
            .field("cancels", &self.cancels)
            .finish()
    }
}

struct Redacted(usize);

impl core::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "<{} bytes redacted>", self.0)
    }
}

// The old path keeps compiling; the docs show `Limit` once, in `follow`.
#[doc(hidden)]
pub use crate::follow::Limit;

/// What a wait function's output says happened meanwhile: the time passed, or a verified
/// notifyPayment arrived. `()` (a plain sleep) and `Option<NotifyPaymentRequest>` (a channel
/// receive with a timeout) convert to it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Wake {
    /// The time passed.
    Elapsed,
    /// A verified notifyPayment arrived.
    Notification(Box<NotifyPaymentRequest>),
}

impl From<()> for Wake {
    fn from((): ()) -> Self {
        Wake::Elapsed
    }
}

impl From<Option<NotifyPaymentRequest>> for Wake {
    fn from(n: Option<NotifyPaymentRequest>) -> Self {
        n.map_or(Wake::Elapsed, |n| Wake::Notification(Box::new(n)))
    }
}

impl From<NotifyPaymentRequest> for Wake {
    fn from(n: NotifyPaymentRequest) -> Self {
        Wake::Notification(Box::new(n))
    }
}

/// How a run ended ([`PaymentFollower::run`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Followed {
    /// The final state (paid, failed with a code, cancelled, or unresolved); `None` when the
    /// run returned first (its [`Limit`], or a [`Followed::redirect`]): the payment is still
    /// open, keep following it (never treat it as failed).
    pub final_state: Option<Final>,
    /// The run returned to hand the shopper this redirect: send the shopper there, then run
    /// again.
    pub redirect: Option<ShopperRedirect>,
    /// The `paymentRequestId` used by every pay, inquiry and cancel.
    pub payment_request_id: String,
    /// The last verified pay answer (`paymentId`, `paymentTime`, ...), if any.
    pub pay_response: Option<PayResponse>,
    /// How many times pay was issued (always the same body).
    pub pay_attempts: u32,
    /// How many inquiries were issued.
    pub inquiries: u32,
    /// How many cancels were issued.
    pub cancels: u32,
    /// Notifications that named this payment but did not match the order: not fed.
    pub mismatches: Vec<NotificationMismatch>,
    /// Where the payment stands: store it while [`Followed::keep_following`] and resume with
    /// [`PaymentFollower::resume`].
    pub state: FollowerState,
}

impl Followed {
    /// The failure code, when the payment failed.
    pub fn failure_code(&self) -> Option<&str> {
        match &self.final_state {
            Some(Final::Failed { code }) => Some(code),
            _ => None,
        }
    }

    /// Unresolved, keep following: the run returned before a final state. The payment may
    /// exist: never treat it as failed; run again, or resume from [`Followed::state`] later.
    pub fn keep_following(&self) -> bool {
        self.final_state.is_none()
    }
}

/// An answer to a [`Call`], typed by its API ([`PaymentFollower::transmit`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Answer {
    /// The answer to pay.
    Pay(Outcome<PayResponse>),
    /// The answer to inquiryPayment.
    Inquiry(Outcome<InquiryPaymentResponse>),
    /// The answer to cancelPayment.
    Cancel(Outcome<CancelPaymentResponse>),
}

impl Answer {
    fn status(&self) -> (AnswerStatus, Option<String>) {
        fn of<R: alipayplus_types::HasResult>(o: &Outcome<R>) -> (AnswerStatus, Option<String>) {
            let status = match o {
                Outcome::Success(_) => AnswerStatus::Success,
                Outcome::Failure(_) => AnswerStatus::Failure,
                Outcome::Unknown(_) => AnswerStatus::Unknown,
                Outcome::NoVerifiedResponse(_) => AnswerStatus::NoVerifiedResponse,
            };
            (status, o.code().map(String::from))
        }
        match self {
            Answer::Pay(o) => of(o),
            Answer::Inquiry(o) => of(o),
            Answer::Cancel(o) => of(o),
        }
    }
}

/// The status of a call's answer ([`Answered::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerStatus {
    /// `resultStatus` `S`.
    Success,
    /// `resultStatus` `F`.
    Failure,
    /// `resultStatus` `U`.
    Unknown,
    /// No verified response (transport failure, bad signature, unparsable body): unknown.
    NoVerifiedResponse,
    /// The call could not be signed, so it was not sent: counted as no answer.
    NotSent,
}

impl AnswerStatus {
    /// The status letter: `S`, `F`, or `U` (also for no verified response and not sent).
    pub fn letter(self) -> &'static str {
        match self {
            AnswerStatus::Success => "S",
            AnswerStatus::Failure => "F",
            _ => "U",
        }
    }
}

/// What a call sent by [`PaymentFollower::send`] (or `send_async`) brought (for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answered {
    /// The API called.
    pub api: Api,
    /// The answer's status.
    pub status: AnswerStatus,
    /// `result.resultCode` of a verified answer.
    pub code: Option<String>,
    /// When it was sent and answered.
    pub at: CallTimes,
    /// What the answer changed.
    pub update: Update,
}

/// Follows one payment to a final state: a poll-style machine (see the module docs).
/// `Debug` shows the body's length only.
#[derive(Clone)]
pub struct PaymentFollower {
    state: FollowerState,
    /// The order's amount, checked against notifications (read from the body).
    amount: Amount,
    pay_response: Option<PayResponse>,
    mismatches: Vec<NotificationMismatch>,
}

impl PaymentFollower {
    /// A follower for `request` (already given its product's flags) tracked by `tracker`.
    /// The request is validated and serialized once here; every pay attempt sends these bytes.
    /// A tracker that recorded its first pay send ([`PaymentTracker::first_pay_digest`]) only
    /// resumes with the very bytes sent then.
    ///
    /// # Errors
    /// [`RequestError`] when the request is invalid (nothing is sent);
    /// [`RequestError::PayBodyMismatch`] when its body is not the one the tracker recorded as
    /// first sent (e.g. rebuilt with another amount or expiry): resume from the stored
    /// [`FollowerState`] instead.
    pub fn new(request: PayRequest, tracker: PaymentTracker) -> Result<Self, RequestError> {
        crate::client::check_request(&request, |_, _| {})?;
        let body =
            serde_json::to_string(&request).map_err(|e| RequestError::Serialize(e.to_string()))?;
        let state = FollowerState {
            body_digest: BodyDigest::of(body.as_bytes()),
            pay_body: body,
            tracker,
            pending: None,
            pay_attempts: 0,
            inquiries: 0,
            cancels: 0,
        };
        Self::resume(state)
    }

    /// Resumes from a stored state alone.
    ///
    /// # Errors
    /// [`RequestError::StoredState`] when the body does not match the stored digest, is not a
    /// pay request of the tracker's `paymentRequestId`; [`RequestError::PayBodyMismatch`] when
    /// the tracker recorded another first body.
    pub fn resume(state: FollowerState) -> Result<Self, RequestError> {
        let id = state.tracker.payment_request_id();
        let digest = BodyDigest::of(state.pay_body.as_bytes());
        if digest != state.body_digest {
            return Err(RequestError::StoredState(
                "the pay body does not match its digest".into(),
            ));
        }
        if state
            .tracker
            .first_pay_digest()
            .is_some_and(|d| *d != digest)
        {
            return Err(RequestError::PayBodyMismatch {
                payment_request_id: id.into(),
            });
        }
        let request: PayRequest = serde_json::from_str(&state.pay_body)
            .map_err(|e| RequestError::StoredState(e.to_string()))?;
        if request.payment_request_id != id {
            return Err(RequestError::StoredState(
                "the pay body is another payment's".into(),
            ));
        }
        Ok(PaymentFollower {
            amount: request.payment_amount,
            state,
            pay_response: None,
            mismatches: Vec::new(),
        })
    }

    /// Resumes from bytes stored with [`FollowerState::to_bytes`].
    ///
    /// # Errors
    /// As [`FollowerState::from_bytes`] and [`PaymentFollower::resume`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        Self::resume(FollowerState::from_bytes(bytes)?)
    }

    /// Everything needed to resume: store it after each [`PaymentFollower::poll`] that returns
    /// a send (before sending) and after each answer.
    pub fn state(&self) -> &FollowerState {
        &self.state
    }

    /// The tracker.
    pub fn tracker(&self) -> &PaymentTracker {
        &self.state.tracker
    }

    /// The exact pay body every attempt sends.
    pub fn body(&self) -> &[u8] {
        self.state.pay_body.as_bytes()
    }

    /// The `paymentRequestId` of every pay, inquiry and cancel.
    pub fn payment_request_id(&self) -> &str {
        self.state.tracker.payment_request_id()
    }

    /// The final state, once reached.
    pub fn final_state(&self) -> Option<&Final> {
        self.state.tracker.final_state()
    }

    /// The last verified pay answer fed (since this follower was made or resumed).
    pub fn pay_response(&self) -> Option<&PayResponse> {
        self.pay_response.as_ref()
    }

    /// What to do next at `now` (see [`Action`]). A send is recorded as issued before it is
    /// returned; a call still pending from an earlier `poll` (its answer never fed) counts as
    /// unanswered first.
    pub fn poll(&mut self, now: Timestamp) -> Action {
        if let Some(p) = self.state.pending {
            // Never answered (a crash, a dropped future): no verified answer.
            self.on_unsent(CallTimes::new(p.sent_at, now));
        }
        let call = match self.state.tracker.next_step(now) {
            Step::Pay => {
                // The write-ahead proof of the bytes: recorded before they leave.
                let state = &mut self.state;
                state.tracker.record_pay_send(state.pay_body.as_bytes());
                self.state.pay_attempts = self.state.pay_attempts.saturating_add(1);
                Call {
                    api: Api::Pay,
                    body: self.state.pay_body.clone().into_bytes(),
                }
            }
            Step::Inquire => {
                self.state.inquiries = self.state.inquiries.saturating_add(1);
                Call {
                    api: Api::InquiryPayment,
                    body: body_of(&inquiry_request(&self.payment_ref())),
                }
            }
            Step::Cancel => {
                self.state.cancels = self.state.cancels.saturating_add(1);
                Call {
                    api: Api::CancelPayment,
                    body: body_of(&cancel_request(&self.payment_ref())),
                }
            }
            Step::RedirectShopper(to) => return Action::Redirect(to),
            Step::WaitUntil(at) => return Action::WaitUntil(at),
            Step::Finished(state) => return Action::Done(state),
        };
        self.state.pending = Some(Pending {
            api: call.api,
            sent_at: now,
        });
        Action::Send(call)
    }

    /// Whether `api` is the call pending; clears it.
    fn answers(&mut self, api: Api) -> bool {
        let pending = self.state.pending.is_some_and(|p| p.api == api);
        if pending {
            self.state.pending = None;
        }
        pending
    }

    /// Feeds the answer to the pending pay. An answer to no pending pay is ignored.
    pub fn on_pay(&mut self, at: CallTimes, outcome: &Outcome<PayResponse>) -> Update {
        if !self.answers(Api::Pay) {
            return Update::Ignored;
        }
        if let Some(body) = outcome.body() {
            self.pay_response = Some(body.clone());
        }
        self.state.tracker.on_pay_outcome(at, outcome)
    }

    /// Feeds the answer to the pending inquiry (an answer about another payment counts as no
    /// answer). An answer to no pending inquiry is ignored.
    pub fn on_inquiry(
        &mut self,
        at: CallTimes,
        outcome: &Outcome<InquiryPaymentResponse>,
    ) -> Update {
        if !self.answers(Api::InquiryPayment) {
            return Update::Ignored;
        }
        self.state.tracker.on_inquiry_outcome(at, outcome)
    }

    /// Feeds the answer to the pending cancel. An answer to no pending cancel is ignored.
    pub fn on_cancel(&mut self, at: CallTimes, outcome: &Outcome<CancelPaymentResponse>) -> Update {
        if !self.answers(Api::CancelPayment) {
            return Update::Ignored;
        }
        self.state.tracker.on_cancel_outcome(at, outcome)
    }

    /// The pending call could not be sent (e.g. the signer failed) or its answer was lost: it
    /// counts as "no answer" (an earlier pay may have reached Alipay+: never "not sent").
    pub fn on_unsent(&mut self, at: CallTimes) -> Update {
        let Some(pending) = self.state.pending.take() else {
            return Update::Ignored;
        };
        let tracker = &mut self.state.tracker;
        match pending.api {
            Api::Pay => tracker.on_pay(at, Report::Unknown(None), None),
            Api::InquiryPayment => tracker.on_inquiry(at, InquiryReport::NoAnswer),
            Api::CancelPayment => tracker.on_cancel(at, CancelReport::NoAnswer),
        }
    }

    /// Feeds a verified notifyPayment received at `now`, after checking it against the order
    /// ([`check_notification`]: `paymentRequestId` and amount).
    pub fn on_notification(
        &mut self,
        now: Timestamp,
        notification: &NotifyPaymentRequest,
    ) -> Notified {
        let id = self.state.tracker.payment_request_id();
        if notification.payment_request_id != id {
            return Notified::OtherPayment;
        }
        match check_notification(notification, id, &self.amount) {
            Err(mismatch) => Notified::Mismatch(mismatch),
            Ok(()) => Notified::Fed(self.state.tracker.on_notify_payment(now, notification)),
        }
    }

    fn payment_ref(&self) -> PaymentRef {
        PaymentRef::RequestId(self.payment_request_id().into())
    }

    /// Runs until the payment is final, the `limit` is reached, or a redirect is to be handed
    /// to the shopper ([`Followed::redirect`]: send the shopper there, then run again): the
    /// shared blocking loop ([`follow::run`]). Every call goes through `client`, the time
    /// comes from its config's clock. `wait` is called with how long to wait (e.g.
    /// `std::thread::sleep`, or a channel's `recv_timeout` returning a verified notification
    /// that arrives first: see [`Wake`]).
    ///
    /// # Errors
    /// [`RequestError`] only when the **first** pay could not be signed: nothing reached
    /// Alipay+. Later failures to send count as "no answer".
    pub fn run<T: Transport, W: Into<Wake>>(
        &mut self,
        client: &Client<T>,
        limit: Limit,
        wait: impl FnMut(Duration) -> W,
    ) -> Result<Followed, RequestError> {
        follow::run(self, client.config(), limit, wait, |call| {
            Self::transmit(client, call)
        })
    }

    /// Signs `call` with the client's config and sends it: its typed answer (not fed).
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent.
    pub fn transmit<T: Transport>(client: &Client<T>, call: &Call) -> Result<Answer, RequestError> {
        call.sign(client.config()).map(|p| match call.api {
            Api::Pay => Answer::Pay(client.send::<PayRequest>(p)),
            Api::InquiryPayment => Answer::Inquiry(client.send::<InquiryPaymentRequest>(p)),
            Api::CancelPayment => Answer::Cancel(client.send::<CancelPaymentRequest>(p)),
        })
    }

    /// Signs `call` (returned by [`PaymentFollower::poll`] at `sent_at`) with the client's
    /// config, sends it, and feeds the answer: one step of a caller's own loop.
    ///
    /// # Errors
    /// [`RequestError`] only when the **first** pay could not be signed: nothing reached
    /// Alipay+. Later failures to sign count as "no answer" ([`AnswerStatus::NotSent`]).
    pub fn send<T: Transport>(
        &mut self,
        client: &Client<T>,
        call: &Call,
        sent_at: Timestamp,
    ) -> Result<Answered, RequestError> {
        let answer = Self::transmit(client, call);
        let at = CallTimes::new(sent_at, client.config().now());
        self.answered(call.api, at, answer)
    }

    /// The follow-up decision that ends a loop (feature `tracing`): the final state, which
    /// carries no body, id of another order or secret (codes and flags only).
    fn trace_final(&self, _state: &Final) {
        #[cfg(feature = "tracing")]
        tracing::info!(
            target: "alipayplus.follow",
            payment_request_id = self.payment_request_id(),
            final_state = ?_state,
            "payment final"
        );
    }

    /// Feeds a call's answer; `Err` only when the first pay could not be signed.
    pub(crate) fn answered(
        &mut self,
        api: Api,
        at: CallTimes,
        answer: Result<Answer, RequestError>,
    ) -> Result<Answered, RequestError> {
        let (status, code) = match &answer {
            Ok(a) => a.status(),
            Err(_) => (AnswerStatus::NotSent, None),
        };
        let update = match answer {
            Ok(Answer::Pay(o)) => self.on_pay(at, &o),
            Ok(Answer::Inquiry(o)) => self.on_inquiry(at, &o),
            Ok(Answer::Cancel(o)) => self.on_cancel(at, &o),
            Err(e) if self.nothing_sent_before() => return Err(e),
            Err(_) => self.on_unsent(at),
        };
        Ok(Answered {
            api,
            status,
            code,
            at,
            update,
        })
    }

    /// The pending call is the first pay: nothing reached Alipay+ before it.
    fn nothing_sent_before(&self) -> bool {
        let t = &self.state.tracker;
        self.state.pending.is_some_and(|p| p.api == Api::Pay)
            && t.pay_sends() <= 1
            && t.last_pay_at().is_none()
    }

    fn followed(&self, final_state: Option<Final>, redirect: Option<ShopperRedirect>) -> Followed {
        Followed {
            final_state,
            redirect,
            payment_request_id: self.payment_request_id().into(),
            pay_response: self.pay_response.clone(),
            pay_attempts: self.state.pay_attempts,
            inquiries: self.state.inquiries,
            cancels: self.state.cancels,
            mismatches: self.mismatches.clone(),
            state: self.state.clone(),
        }
    }
}

impl FollowUp for PaymentFollower {
    type Call = Call;
    type Answer = Answer;
    type Wake = Wake;
    type Ended = Followed;

    fn finished(&mut self) -> Option<Followed> {
        let state = self.final_state().cloned()?;
        self.trace_final(&state);
        Some(self.followed(Some(state), None))
    }

    fn unresolved(&mut self) -> Followed {
        self.followed(None, None)
    }

    fn step(&mut self, now: Timestamp) -> Polled<Call, Followed> {
        match self.poll(now) {
            Action::Send(call) => Polled::Send(call),
            Action::Redirect(to) => Polled::Return(self.followed(None, Some(to))),
            Action::WaitUntil(at) => Polled::WaitUntil(at),
            Action::Done(state) => {
                self.trace_final(&state);
                Polled::Return(self.followed(Some(state), None))
            }
        }
    }

    fn feed(
        &mut self,
        call: &Call,
        at: CallTimes,
        answer: Result<Answer, RequestError>,
    ) -> Result<(), RequestError> {
        self.answered(call.api, at, answer).map(|_| ())
    }

    fn woke(&mut self, now: Timestamp, wake: Wake) {
        if let Wake::Notification(n) = wake
            && let Notified::Mismatch(m) = self.on_notification(now, &n)
        {
            self.mismatches.push(m);
        }
    }

    fn trace(&self, _decision: Decision<'_, Call>) {
        #[cfg(feature = "tracing")]
        match _decision {
            Decision::Send { call, budget_left } => tracing::debug!(
                target: "alipayplus.follow",
                payment_request_id = self.payment_request_id(),
                next = call.api.name(),
                budget_left,
                "next step: send"
            ),
            Decision::Wait(until) => tracing::debug!(
                target: "alipayplus.follow",
                payment_request_id = self.payment_request_id(),
                until = ?until,
                "next step: wait"
            ),
            Decision::Bound(calls) => tracing::info!(
                target: "alipayplus.follow",
                payment_request_id = self.payment_request_id(),
                calls,
                "bound reached before a final state: unresolved, store the state and keep following"
            ),
        }
    }
}

/// The JSON body of a request built here (plain strings: serializing cannot fail).
fn body_of<T: serde::Serialize>(request: &T) -> Vec<u8> {
    serde_json::to_vec(request).unwrap_or_default()
}

impl core::fmt::Debug for PaymentFollower {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PaymentFollower")
            .field("state", &self.state)
            .field("amount", &self.amount)
            .finish_non_exhaustive()
    }
}
