//! A sans-IO state machine that follows one payment to a final state.
//!
//! The [`PaymentTracker`] takes what happened (the pay result, inquiry results,
//! notifications, cancel results) together with the time, and answers what to do next
//! ([`Step`]). It never performs IO and never reads a clock. It follows the rules of the
//! Alipay+ specification (common §3.1, §3.4, §3.5; cashier §4, §6, §7):
//!
//! * `U` and "no verified response" are never failure: pay is retried with the **same**
//!   `paymentRequestId`, or the payment is inquired. The tracker never asks for a new id;
//!   [`Final::may_retry_with_new_id`] says when the caller may start a new attempt.
//! * `F` to the first pay is final (a new attempt needs a new id). On a **retry** (an attempt
//!   after one without a verified answer) only an `F` that speaks about the payment
//!   ([`CodeAbout::Subject`](alipayplus_types::CodeAbout::Subject) in the API description, e.g. `USER_BALANCE_NOT_ENOUGH`) proves
//!   it was not made; an `F` about the request only (token errors, `SYSTEM_ERROR`,
//!   `PROCESS_FAIL`, `PARAM_ILLEGAL`, gateway refusals, unknown codes) says nothing about the
//!   payment the earlier attempt may have created: it stays unknown and is inquired
//!   ([`speaks_about_payment`]).
//! * `REPEAT_REQ_INCONSISTENT`: the caller reused a `paymentRequestId` with other key fields
//!   (a bug on the caller's side). It ends in [`Final::RequestIdReused`]: never cancelled (the
//!   id may own another, paid order), never settled by what Alipay+ says about the payment
//!   that owns the id. Fix the id.
//! * Results from the notification and from polling update the same state, idempotently:
//!   duplicates are ignored, and a report contradicting an earlier final result is returned
//!   as [`Update::Conflict`] for the caller to log.
//! * When the payment window (e.g. `paymentExpiryTime`) has passed without a final result,
//!   the payment is cancelled, within the cancel window (until 00:15 UTC+8 of the day after
//!   the payment, T+1). If the window would end too close to that deadline, the tracker
//!   cancels earlier rather than lose the ability to cancel. Only a cancel confirmed by
//!   Alipay+ turns an unknown payment into a failure at once. A cancel answered
//!   `ORDER_NOT_EXIST` closes it as not charged only once no delayed pay can land any more
//!   (see [`TrackerPolicy::late_landing_margin`]).
//! * Unanswered cancels (and inquiries while Alipay+ does not answer) back off, doubling up to
//!   [`TrackerPolicy::max_cancel_interval`]; a payment makes at most
//!   [`TrackerPolicy::call_budget`] calls without a verified answer (about 330 through a
//!   24-hour outage with the default policies), then ends in [`Final::Unresolved`].
//! * If cancelling never succeeds and the cancel window closes, the tracker keeps inquiring
//!   for [`TrackerPolicy::settle_after_deadline`], then ends in [`Final::Unresolved`]: a final
//!   state that means "neither paid nor safe to charge again; reconcile by hand".
//!
//! ```
//! use core::time::Duration;
//! use alipayplus_client::time::Timestamp;
//! use alipayplus_client::tracker::{Step, Final, PaymentTracker, Report, ShopperRedirect, TrackerPolicy};
//!
//! let t0 = Timestamp::from_unix_secs(1_700_000_000);
//! let mut tracker = PaymentTracker::new("order-1", t0, t0 + Duration::from_secs(900), TrackerPolicy::cashier());
//! assert_eq!(tracker.next_step(t0), Step::Pay);
//! // pay answered U / PAYMENT_IN_PROCESS with a redirect URL:
//! tracker.on_pay(t0, Report::unknown("PAYMENT_IN_PROCESS"), Some(ShopperRedirect::Url("https://wallet.example/pay".into())));
//! assert_eq!(tracker.next_step(t0), Step::RedirectShopper(ShopperRedirect::Url("https://wallet.example/pay".into())));
//! assert!(matches!(tracker.next_step(t0), Step::WaitUntil(_)));
//! // the notification arrives:
//! tracker.on_notification(t0 + Duration::from_secs(30), Report::Success);
//! assert_eq!(tracker.next_step(t0 + Duration::from_secs(30)), Step::Finished(Final::Succeeded));
//! ```

mod policy;
mod report;

pub use policy::TrackerPolicy;
pub use report::{
    CancelReport, InquiryReport, ORDER_NOT_EXIST, PAYMENT_IN_PROCESS, REPEAT_REQ_INCONSISTENT,
    Report, ShopperRedirect, cancel_report, inquiry_report, notification_report, pay_report,
    shopper_redirect, speaks_about_payment,
};

use alloc::string::String;
use core::time::Duration;

use alipayplus_types::{
    CancelPaymentResponse, InquiryPaymentResponse, NotifyPaymentRequest, PayRequest, PayResponse,
    Timestamp,
};

use crate::outcome::Outcome;

/// UTC+8, the zone of the cancel window, in milliseconds.
const UTC8_MS: i64 = 8 * 3600 * 1000;
const DAY_MS: i64 = 86_400_000;
const CANCEL_DEADLINE_AFTER_MIDNIGHT_MS: i64 = 15 * 60 * 1000;

/// When a call was sent and when its answer (or its failure) came back. Schedules run from
/// the answer; judgements about what Alipay+ could know run from the send (see
/// [`PaymentTracker::on_inquiry`]). A bare [`Timestamp`] converts to both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallTimes {
    /// When the request left (just before it was signed and sent).
    pub sent_at: Timestamp,
    /// When the answer came back, or the call was abandoned.
    pub answered_at: Timestamp,
}

impl CallTimes {
    /// A call sent at `sent_at` and answered at `answered_at`.
    pub fn new(sent_at: Timestamp, answered_at: Timestamp) -> Self {
        CallTimes {
            sent_at,
            answered_at,
        }
    }
}

impl From<Timestamp> for CallTimes {
    /// A call sent and answered at the same instant.
    fn from(at: Timestamp) -> Self {
        CallTimes::new(at, at)
    }
}

/// The SHA-256 of a pay body: the tracker's proof of the bytes its first pay carried
/// ([`PaymentTracker::record_pay_send`]). Stored as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BodyDigest([u8; 32]);

impl BodyDigest {
    /// The digest of `body`.
    pub fn of(body: &[u8]) -> Self {
        use sha2::Digest as _;
        BodyDigest(sha2::Sha256::digest(body).into())
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn hex(&self) -> String {
        use core::fmt::Write as _;
        let mut s = String::with_capacity(64);
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }
}

impl core::fmt::Debug for BodyDigest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "BodyDigest({})", self.hex())
    }
}

impl serde::Serialize for BodyDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> serde::Deserialize<'de> for BodyDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <alloc::borrow::Cow<'de, str>>::deserialize(d)?;
        let bytes = s.as_bytes();
        let mut out = [0u8; 32];
        if bytes.len() != 64 {
            return Err(serde::de::Error::custom("a body digest is 64 hex digits"));
        }
        for (i, pair) in bytes.chunks(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(h), Some(l)) => out[i] = (h * 16 + l) as u8,
                _ => return Err(serde::de::Error::custom("a body digest is 64 hex digits")),
            }
        }
        Ok(BodyDigest(out))
    }
}

/// A final state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Final {
    /// The payment succeeded: fulfil the order.
    Succeeded,
    /// The payment failed with this code; nothing was charged.
    Failed {
        /// The `resultCode` (of the payment, or `ORDER_NOT_EXIST`).
        code: String,
    },
    /// The payment was cancelled by cancelPayment; nothing is charged.
    Cancelled,
    /// No final result could be obtained and the cancel window has closed (or the call budget
    /// is spent). Do not fulfil and do not charge again with a new id; reconcile with Alipay+
    /// (settlement files, support).
    Unresolved,
    /// pay answered `REPEAT_REQ_INCONSISTENT`: the `paymentRequestId` was already used for a
    /// request with other key fields, a bug on the caller's side. Fix how ids are made. The
    /// payment that owns the id is not this order's to cancel or settle: the tracker never
    /// cancels it and ignores what Alipay+ says about it (inquire it only to show what exists
    /// there).
    RequestIdReused {
        /// Whether this order was provably not charged, so a new attempt with a **new** id is
        /// safe: true only when the tracker recorded the first send's digest before it left
        /// and every attempt was recorded with the same bytes
        /// ([`PaymentTracker::record_pay_send`]; the follower does). "Sent once" alone is not
        /// proof: an attempt before a restart may have carried other bytes. Otherwise an
        /// earlier attempt of this order (with other fields) may be the payment owning the id:
        /// reconcile before charging again.
        new_id_is_safe: bool,
    },
}

impl Final {
    /// Whether the shopper paid.
    pub fn is_paid(&self) -> bool {
        matches!(self, Final::Succeeded)
    }

    /// Whether a new attempt with a **new** `paymentRequestId` cannot double charge.
    pub fn may_retry_with_new_id(&self) -> bool {
        match self {
            Final::Failed { .. } | Final::Cancelled => true,
            Final::RequestIdReused { new_id_is_safe } => *new_id_is_safe,
            Final::Succeeded | Final::Unresolved => false,
        }
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Step {
    /// Send pay, with the tracker's [`PaymentTracker::payment_request_id`] (first attempt or a
    /// retry: always the same id), then report with [`PaymentTracker::on_pay`].
    Pay,
    /// Send the shopper here (returned once per distinct redirect).
    RedirectShopper(ShopperRedirect),
    /// Nothing to do before this instant (unless a notification arrives).
    WaitUntil(Timestamp),
    /// Call inquiryPayment now and report with [`PaymentTracker::on_inquiry`].
    Inquire,
    /// Call cancelPayment now (same `paymentRequestId`) and report with
    /// [`PaymentTracker::on_cancel`].
    Cancel,
    /// The payment reached this final state.
    Finished(Final),
}

/// What a report changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Update {
    /// The report moved the payment on (not yet final).
    Progress,
    /// The payment reached this final state with this report.
    Finished(Final),
    /// Nothing changed: a duplicate, or a stale report (e.g. a late pay answer after the
    /// notification).
    Ignored,
    /// The report contradicts the final state already reached; `now` is the state kept. A
    /// confirmed cancel overrides an earlier success (Alipay+ returns the money), and a
    /// success overrides an earlier failure (the shopper paid: fulfil or refund, and never
    /// charge again); otherwise the first final state is kept. Log it for reconciliation.
    /// (A result after [`Final::Unresolved`] is not a conflict: it is
    /// [`Update::Finished`].)
    Conflict {
        /// The final state before the report.
        before: Final,
        /// The final state after the report.
        now: Final,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Phase {
    /// Pay must be (re)sent at `next_at`.
    Paying,
    /// Waiting for a result: notification or inquiry at `next_at`.
    Polling,
    /// Cancel must be (re)sent at `next_at`.
    Cancelling,
    /// Cancel was refused: inquire at `next_at` to learn the payment's state.
    Settling,
    /// Cancel answered `ORDER_NOT_EXIST`: inquire until an inquiry made at or after
    /// `close_at` (no delayed pay can land after it) also answers `ORDER_NOT_EXIST`, then close
    /// as not charged.
    Confirming {
        close_at: Timestamp,
    },
    Done(Final),
}

/// Follows one payment (one `paymentRequestId`) to a final state. See the module docs.
///
/// Serializable (serde), so it can be stored with the order and resumed after a restart.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PaymentTracker {
    payment_request_id: String,
    policy: TrackerPolicy,
    started_at: Timestamp,
    window_end: Timestamp,
    phase: Phase,
    next_at: Timestamp,
    interval: Duration,
    pay_attempts: u32,
    redirect: Option<ShopperRedirect>,
    redirect_pending: bool,
    /// Calls without a verified answer (pay, inquiry, cancel), against the budget.
    #[serde(default)]
    unanswered_calls: u32,
    /// The back-off of unanswered calls and of calls after the first cancel (zero: not started).
    #[serde(default)]
    late_interval: Duration,
    /// When the last pay attempt was answered (or abandoned).
    #[serde(default)]
    last_pay_at: Option<Timestamp>,
    /// SHA-256 of the pay body, recorded before the first send left
    /// ([`PaymentTracker::record_pay_send`]). Without it no new id is ever called safe.
    #[serde(default)]
    first_pay_digest: Option<BodyDigest>,
    /// How many pay sends were recorded (before they left).
    #[serde(default)]
    pay_sends: u32,
    /// A recorded pay send carried other bytes than the first one.
    #[serde(default)]
    pay_bodies_differ: bool,
    /// Made by a version that records sends: false in a state stored by an older version,
    /// which may have sent pay without recording it (then no digest is ever recorded).
    #[serde(default)]
    records_sends: bool,
    /// The last cancel got no answer: it may have reversed the payment.
    #[serde(default)]
    cancel_pending: bool,
}

impl PaymentTracker {
    /// A tracker for a payment about to be sent at `now`, whose payment window ends at
    /// `window_end` (the `paymentExpiryTime` sent, or for Auto Debit `now + 60 s`).
    pub fn new(
        payment_request_id: impl Into<String>,
        now: Timestamp,
        window_end: Timestamp,
        policy: TrackerPolicy,
    ) -> Self {
        let interval = policy.inquiry_interval;
        PaymentTracker {
            payment_request_id: payment_request_id.into(),
            policy,
            started_at: now,
            window_end,
            phase: Phase::Paying,
            next_at: now,
            interval,
            pay_attempts: 0,
            redirect: None,
            redirect_pending: false,
            unanswered_calls: 0,
            late_interval: Duration::ZERO,
            last_pay_at: None,
            first_pay_digest: None,
            pay_sends: 0,
            pay_bodies_differ: false,
            records_sends: true,
            cancel_pending: false,
        }
    }

    /// A tracker for `request`, about to be sent at `now`: the window ends at its
    /// `paymentExpiryTime`, or after [`TrackerPolicy::default_window`].
    pub fn for_pay(request: &PayRequest, now: Timestamp, policy: TrackerPolicy) -> Self {
        let window_end = match &request.payment_expiry_time {
            Some(t) => Timestamp::from(t),
            None => now + policy.default_window,
        };
        Self::new(request.payment_request_id.clone(), now, window_end, policy)
    }

    /// [`PaymentTracker::on_pay`] with a pay outcome.
    pub fn on_pay_outcome(
        &mut self,
        at: impl Into<CallTimes>,
        outcome: &Outcome<PayResponse>,
    ) -> Update {
        let (report, redirect) = pay_report(outcome);
        self.on_pay(at, report, redirect)
    }

    /// [`PaymentTracker::on_inquiry`] with an inquiryPayment outcome. A verified answer whose
    /// `paymentRequestId` is another payment's counts as no answer: a response signature does
    /// not cover the request it answers, so a replayed or misrouted answer must not settle
    /// this payment.
    pub fn on_inquiry_outcome(
        &mut self,
        at: impl Into<CallTimes>,
        outcome: &Outcome<InquiryPaymentResponse>,
    ) -> Update {
        let other_payment = outcome
            .body()
            .and_then(|b| b.payment_request_id.as_deref())
            .is_some_and(|id| id != self.payment_request_id);
        if other_payment {
            return self.on_inquiry(at, InquiryReport::NoAnswer);
        }
        self.on_inquiry(at, inquiry_report(outcome))
    }

    /// [`PaymentTracker::on_cancel`] with a cancelPayment outcome.
    pub fn on_cancel_outcome(
        &mut self,
        at: impl Into<CallTimes>,
        outcome: &Outcome<CancelPaymentResponse>,
    ) -> Update {
        self.on_cancel(at, cancel_report(outcome))
    }

    /// [`PaymentTracker::on_notification`] with a verified notifyPayment. A notification for
    /// another `paymentRequestId` is ignored.
    ///
    /// The tracker does not know the order's amount: check the notification first with
    /// [`check_notification`](crate::notify::check_notification) (spec: for `S`, compare
    /// `paymentRequestId` and `paymentAmount`) and do not report one that does not match.
    pub fn on_notify_payment(
        &mut self,
        now: Timestamp,
        notification: &NotifyPaymentRequest,
    ) -> Update {
        if notification.payment_request_id != self.payment_request_id {
            return Update::Ignored;
        }
        self.on_notification(now, notification_report(notification))
    }

    /// The `paymentRequestId` every pay, inquiry and cancel of this payment uses.
    pub fn payment_request_id(&self) -> &str {
        &self.payment_request_id
    }

    /// The final state, once reached.
    pub fn final_state(&self) -> Option<&Final> {
        match &self.phase {
            Phase::Done(f) => Some(f),
            _ => None,
        }
    }

    /// The last redirect pay returned, if any.
    pub fn redirect(&self) -> Option<&ShopperRedirect> {
        self.redirect.as_ref()
    }

    /// Records that pay is about to be sent with these exact `body` bytes: call it **before**
    /// the bytes leave, for every attempt (the follower,
    /// [`PaymentFollower`](crate::driver::PaymentFollower), does), and store the tracker
    /// before sending. The first call records the body's SHA-256
    /// ([`PaymentTracker::first_pay_digest`]); later calls compare with it.
    ///
    /// Only when every pay of this payment was recorded here, and all carried the first
    /// body's bytes, does a `REPEAT_REQ_INCONSISTENT` prove that the id belongs to another
    /// request and this order was not charged ([`Final::RequestIdReused`] with
    /// `new_id_is_safe`). A tracker with no digest recorded for the first send (stored by an
    /// older version, or used without recording) never calls a new id safe.
    pub fn record_pay_send(&mut self, body: &[u8]) {
        let digest = BodyDigest::of(body);
        match &self.first_pay_digest {
            // Only a send recorded before any pay was answered, by a tracker that records
            // from its start, is the first send.
            None if self.records_sends && self.pay_sends == 0 && self.pay_attempts == 0 => {
                self.first_pay_digest = Some(digest);
            }
            Some(first) if *first == digest => {}
            _ => self.pay_bodies_differ = true,
        }
        self.pay_sends = self.pay_sends.saturating_add(1);
    }

    /// The SHA-256 of the first pay body, when its send was recorded before it left
    /// ([`PaymentTracker::record_pay_send`]).
    pub fn first_pay_digest(&self) -> Option<&BodyDigest> {
        self.first_pay_digest.as_ref()
    }

    /// How many pay sends were recorded ([`PaymentTracker::record_pay_send`]).
    pub fn pay_sends(&self) -> u32 {
        self.pay_sends
    }

    /// Whether every pay of this payment provably carried the first body's bytes: the first
    /// send's digest was recorded before it left, every send was recorded, and all matched.
    fn sends_proven_identical(&self) -> bool {
        self.first_pay_digest.is_some()
            && !self.pay_bodies_differ
            && self.pay_sends >= self.pay_attempts
    }

    /// When the last pay attempt was reported, if any.
    pub fn last_pay_at(&self) -> Option<Timestamp> {
        self.last_pay_at
    }

    /// How many calls got no verified answer so far (see [`TrackerPolicy::call_budget`]).
    pub fn unanswered_calls(&self) -> u32 {
        self.unanswered_calls
    }

    fn count_unanswered(&mut self) {
        self.unanswered_calls = self.unanswered_calls.saturating_add(1);
    }

    /// Last moment a cancel is accepted: 00:15 UTC+8 of the day after the payment started.
    pub fn cancel_deadline(&self) -> Timestamp {
        // Saturating: a start time at the ends of the range (a clock far off, a tampered
        // stored tracker) gives a deadline at the end of the range, not an overflow.
        let local_day = self
            .started_at
            .unix_millis()
            .saturating_add(UTC8_MS)
            .div_euclid(DAY_MS);
        Timestamp::from_unix_millis(
            local_day
                .saturating_add(1)
                .saturating_mul(DAY_MS)
                .saturating_add(CANCEL_DEADLINE_AFTER_MIDNIGHT_MS - UTC8_MS),
        )
    }

    /// When the tracker cancels an unresolved payment: the end of the payment window plus the
    /// margin, but no later than the cancel deadline minus its margin.
    pub fn cancel_at(&self) -> Timestamp {
        let after_window = self.window_end + self.policy.cancel_margin;
        let latest = self.cancel_deadline() - self.policy.deadline_margin;
        after_window.min(latest)
    }

    fn give_up_at(&self) -> Timestamp {
        self.cancel_deadline() + self.policy.settle_after_deadline
    }

    /// The next thing to do at `now`. Call it again after each report and after each wait.
    pub fn next_step(&mut self, now: Timestamp) -> Step {
        if let Phase::Done(f) = &self.phase {
            return Step::Finished(f.clone());
        }
        if self.redirect_pending
            && let Some(r) = &self.redirect
        {
            self.redirect_pending = false;
            return Step::RedirectShopper(r.clone());
        }
        if matches!(self.phase, Phase::Paying | Phase::Polling) && now >= self.cancel_at() {
            self.phase = Phase::Cancelling;
            self.next_at = now;
        }
        if self.phase == Phase::Cancelling && now > self.cancel_deadline() {
            // Too late to cancel: keep asking for the result until giving up.
            self.phase = Phase::Settling;
            self.next_at = now;
        }
        let settling = matches!(self.phase, Phase::Settling | Phase::Confirming { .. });
        if (settling && now >= self.give_up_at())
            || self.unanswered_calls >= self.policy.call_budget
        {
            self.finish(Final::Unresolved);
            return Step::Finished(Final::Unresolved);
        }
        let action = match &self.phase {
            Phase::Paying => Step::Pay,
            Phase::Polling | Phase::Settling | Phase::Confirming { .. } => Step::Inquire,
            Phase::Cancelling => Step::Cancel,
            Phase::Done(f) => return Step::Finished(f.clone()),
        };
        if now >= self.next_at {
            action
        } else {
            Step::WaitUntil(self.next_at)
        }
    }

    fn finish(&mut self, f: Final) -> Update {
        self.phase = Phase::Done(f.clone());
        self.redirect_pending = false;
        Update::Finished(f)
    }

    /// A final report arriving after a final state: duplicate, resolution or conflict.
    fn after_final(&mut self, reported: Final) -> Update {
        let Phase::Done(before) = &self.phase else {
            return Update::Ignored;
        };
        if *before == reported {
            return Update::Ignored;
        }
        let before = before.clone();
        if matches!(before, Final::RequestIdReused { .. }) {
            // What Alipay+ says about the payment that owns the id is not about this order.
            return Update::Ignored;
        }
        let now = match (&before, &reported) {
            // "Unknown" was never a result: a definitive answer resolves it.
            (Final::Unresolved, _) => {
                self.phase = Phase::Done(reported.clone());
                return Update::Finished(reported);
            }
            // A confirmed cancel returns the money; proof of payment outweighs a failure
            // (the shopper paid, so fulfil or refund; never charge again).
            (Final::Succeeded, Final::Cancelled) | (Final::Failed { .. }, Final::Succeeded) => {
                reported
            }
            _ => before.clone(),
        };
        self.phase = Phase::Done(now.clone());
        Update::Conflict { before, now }
    }

    fn poll_later(&mut self, now: Timestamp) {
        self.next_at = now + self.interval;
        if self.policy.backoff {
            self.interval = self
                .interval
                .saturating_mul(2)
                .min(self.policy.max_inquiry_interval);
        }
    }

    /// Schedules the next call after an unanswered call (or any call after the first cancel):
    /// doubling from the retry delay up to [`TrackerPolicy::max_cancel_interval`].
    fn late_later(&mut self, now: Timestamp) {
        let interval = if self.late_interval.is_zero() {
            self.policy.retry_delay
        } else {
            self.late_interval
        };
        self.next_at = now + interval;
        self.late_interval = interval
            .saturating_mul(2)
            .min(self.policy.max_cancel_interval.max(self.policy.retry_delay));
    }

    fn final_of(report: &Report) -> Option<Final> {
        match report {
            Report::Success => Some(Final::Succeeded),
            Report::Failure(code) => Some(Final::Failed { code: code.clone() }),
            Report::Unknown(_) => None,
        }
    }

    /// Reports the answer to pay (`report`), with the redirect it carried, if any, and when
    /// the call was sent and answered ([`CallTimes`]; a bare [`Timestamp`] is both).
    pub fn on_pay(
        &mut self,
        at: impl Into<CallTimes>,
        report: Report,
        redirect: Option<ShopperRedirect>,
    ) -> Update {
        let now = at.into().answered_at;
        if matches!(self.phase, Phase::Done(_)) {
            return match Self::final_of(&report) {
                Some(f) => self.after_final(f),
                None => Update::Ignored,
            };
        }
        if self.phase != Phase::Paying {
            // A late answer to an earlier pay: only a final result matters.
            return match report {
                Report::Success => self.finish(Final::Succeeded),
                _ => Update::Ignored,
            };
        }
        self.pay_attempts = self.pay_attempts.saturating_add(1);
        self.last_pay_at = Some(now);
        // A recorded send whose answer was lost (a crash between send and answer) counts.
        let retry = self.pay_attempts.max(self.pay_sends) > 1;
        match report {
            Report::Success => self.finish(Final::Succeeded),
            Report::Failure(code) if code == REPEAT_REQ_INCONSISTENT => {
                // The id belongs to a request with other key fields (a caller bug). Never
                // cancel or settle from that payment: it may be another, paid order.
                // Safe only when every attempt provably carried the same bytes: then none of
                // them can be the request that owns the id. (`retry` alone is not enough: an
                // attempt before a restart may have carried other bytes.)
                let new_id_is_safe = self.sends_proven_identical();
                self.finish(Final::RequestIdReused { new_id_is_safe })
            }
            Report::Failure(code) if retry && !speaks_about_payment(&code) => {
                // This request was refused, but an earlier attempt got no answer and may have
                // created the payment: still unknown (the inquiry settles it).
                self.on_pay_unknown(now, Some(code), redirect)
            }
            Report::Failure(code) => self.finish(Final::Failed { code }),
            Report::Unknown(code) => {
                if code.is_none() {
                    self.count_unanswered();
                }
                self.on_pay_unknown(now, code, redirect)
            }
        }
    }

    fn on_pay_unknown(
        &mut self,
        now: Timestamp,
        code: Option<String>,
        redirect: Option<ShopperRedirect>,
    ) -> Update {
        // Common §3.4: pay is re-sent on a timeout or a U *other than* the in-process
        // code; PAYMENT_IN_PROCESS means Alipay+ has the payment (Auto Debit answers
        // it without a redirect): inquire.
        let in_process = code.as_deref() == Some(PAYMENT_IN_PROCESS);
        if let Some(r) = redirect
            && self.redirect.as_ref() != Some(&r)
        {
            self.redirect = Some(r);
            self.redirect_pending = true;
        }
        if in_process
            || self.redirect.is_some()
            || self.pay_attempts >= self.policy.max_pay_attempts
        {
            self.phase = Phase::Polling;
            self.next_at = (self.started_at + self.policy.first_inquiry_after)
                .max(now + self.policy.retry_delay);
        } else {
            // No redirect yet (e.g. timeout): send the same pay again.
            self.next_at = now + self.policy.retry_delay;
        }
        Update::Progress
    }

    /// Reports a notifyPayment (its `paymentResult`). Duplicates are harmless.
    ///
    /// A success notification that arrives while the last cancel got no answer does not end
    /// the payment: that cancel may have returned the money. The tracker cancels again at
    /// once to learn which (`Cancelled`, or refused because the payment is final, then
    /// inquired).
    pub fn on_notification(&mut self, now: Timestamp, payment_result: Report) -> Update {
        let Some(f) = Self::final_of(&payment_result) else {
            // notifyPayment never carries U (spec); nothing to learn.
            return Update::Ignored;
        };
        if matches!(self.phase, Phase::Done(_)) {
            return self.after_final(f);
        }
        if f == Final::Succeeded && self.cancel_pending {
            // A cancel whose answer was lost may have returned this money: learn its fate
            // (cancel again now: Cancelled, or refused because the payment is final) before
            // calling the order paid.
            self.next_at = now;
            return Update::Progress;
        }
        self.finish(f)
    }

    /// Reports the answer to inquiryPayment, with when it was sent and answered
    /// ([`CallTimes`]; a bare [`Timestamp`] is both). After a cancel answered
    /// `ORDER_NOT_EXIST`, the inquiry is judged by when it was **sent** (a slow answer proves
    /// nothing about the time it took).
    pub fn on_inquiry(&mut self, at: impl Into<CallTimes>, report: InquiryReport) -> Update {
        let at = at.into();
        let now = at.answered_at;
        if matches!(self.phase, Phase::Done(_)) {
            return match report {
                InquiryReport::Payment(r) => match Self::final_of(&r) {
                    Some(f) => self.after_final(f),
                    None => Update::Ignored,
                },
                _ => Update::Ignored,
            };
        }
        if report == InquiryReport::NoAnswer {
            self.count_unanswered();
        }
        if let Phase::Confirming { .. } = self.phase {
            return self.on_confirming_inquiry(at, report);
        }
        match report {
            InquiryReport::Payment(Report::Success) => self.finish(Final::Succeeded),
            InquiryReport::Payment(Report::Failure(code)) => self.finish(Final::Failed { code }),
            InquiryReport::OrderNotFound
                if self.phase == Phase::Polling
                    && self.redirect.is_none()
                    && self.pay_attempts < self.policy.max_pay_attempts =>
            {
                // The pay never reached Alipay+: send it again (same id, so still safe).
                self.phase = Phase::Paying;
                self.next_at = now;
                Update::Progress
            }
            InquiryReport::Payment(Report::Unknown(_))
            | InquiryReport::OrderNotFound
            | InquiryReport::NoAnswer => {
                if self.phase == Phase::Settling {
                    // After the first cancel every call backs off (the cancel window is long).
                    self.late_later(now);
                    if now < self.cancel_deadline() {
                        // Cancel was refused but the payment is still open: cancel again later.
                        self.phase = Phase::Cancelling;
                    }
                } else if report == InquiryReport::NoAnswer {
                    // Alipay+ does not answer: back off instead of polling at full speed.
                    self.late_later(now);
                } else {
                    self.poll_later(now);
                }
                Update::Progress
            }
        }
    }

    /// An inquiry after cancel answered `ORDER_NOT_EXIST` (see
    /// [`TrackerPolicy::late_landing_margin`]).
    fn on_confirming_inquiry(&mut self, at: CallTimes, report: InquiryReport) -> Update {
        let now = at.answered_at;
        match report {
            InquiryReport::Payment(Report::Success) => self.finish(Final::Succeeded),
            InquiryReport::Payment(Report::Failure(code)) => self.finish(Final::Failed { code }),
            InquiryReport::Payment(Report::Unknown(_)) => {
                // A delayed pay landed and is open: cancel it (the cancel window rules apply).
                self.phase = Phase::Cancelling;
                self.next_at = now;
                Update::Progress
            }
            InquiryReport::OrderNotFound => {
                let Phase::Confirming { close_at } = self.phase else {
                    unreachable!("only called while confirming")
                };
                if at.sent_at >= close_at {
                    // Asked after no pay can land any more: the payment does not exist. (By
                    // the send time: an answer arriving late was looked up earlier.)
                    // (Closing on the clock alone is not enough: a pay may have landed
                    // while the inquiries in between went unanswered.)
                    return self.finish(Final::Failed {
                        code: ORDER_NOT_EXIST.into(),
                    });
                }
                self.poll_later(now);
                self.next_at = self.next_at.min(close_at);
                Update::Progress
            }
            InquiryReport::NoAnswer => {
                self.late_later(now);
                Update::Progress
            }
        }
    }

    /// Reports the answer to cancelPayment, with when it was sent and answered
    /// ([`CallTimes`]; a bare [`Timestamp`] is both).
    pub fn on_cancel(&mut self, at: impl Into<CallTimes>, report: CancelReport) -> Update {
        let now = at.into().answered_at;
        if !matches!(self.phase, Phase::Done(_)) {
            self.cancel_pending = report == CancelReport::NoAnswer;
        }
        match report {
            CancelReport::Cancelled if matches!(self.phase, Phase::Done(_)) => {
                self.after_final(Final::Cancelled)
            }
            CancelReport::Cancelled => self.finish(Final::Cancelled),
            _ if matches!(self.phase, Phase::Done(_)) => Update::Ignored,
            CancelReport::OrderNotFound => {
                // Not closed at once: a pay still in flight could create the payment after
                // this answer (the spec is silent; see TrackerPolicy::late_landing_margin).
                let last_pay = self.last_pay_at.unwrap_or(self.started_at);
                let close_at =
                    last_pay + self.policy.pay_in_flight + self.policy.late_landing_margin;
                self.phase = Phase::Confirming { close_at };
                self.next_at = now;
                Update::Progress
            }
            CancelReport::Rejected(_) => {
                // Probably final already (paid or closed): ask.
                self.phase = Phase::Settling;
                self.next_at = now;
                Update::Progress
            }
            CancelReport::NoAnswer => {
                self.count_unanswered();
                self.phase = Phase::Cancelling;
                self.late_later(now);
                Update::Progress
            }
        }
    }
}
