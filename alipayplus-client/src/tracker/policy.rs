//! The timing rules of a [`PaymentTracker`](super::PaymentTracker): when to inquire, retry,
//! cancel and give up.

use core::time::Duration;

/// Timing rules of a tracker.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TrackerPolicy {
    /// Wait before the first inquiry after the payment was created (the notification usually
    /// comes first).
    pub first_inquiry_after: Duration,
    /// Interval between inquiries while the payment is in process.
    pub inquiry_interval: Duration,
    /// Double the inquiry interval after each unresolved inquiry, up to
    /// [`TrackerPolicy::max_inquiry_interval`].
    pub backoff: bool,
    /// Upper bound of the inquiry interval.
    pub max_inquiry_interval: Duration,
    /// How long after the end of the payment window to wait before cancelling.
    pub cancel_margin: Duration,
    /// Cancel at the latest this long before the cancel deadline (00:15 UTC+8 of T+1).
    pub deadline_margin: Duration,
    /// How many times pay is sent (the same `paymentRequestId`) when it gets no usable answer.
    pub max_pay_attempts: u32,
    /// Wait before re-sending pay or cancel after an unknown outcome.
    pub retry_delay: Duration,
    /// After the cancel deadline passed with no final result: keep inquiring this long, then
    /// end in [`Final::Unresolved`](super::Final::Unresolved).
    pub settle_after_deadline: Duration,
    /// The payment window when the pay request sets no `paymentExpiryTime`
    /// ([`PaymentTracker::for_pay`](super::PaymentTracker::for_pay)).
    pub default_window: Duration,
    /// The longest a pay request can take from being sent to being answered or abandoned: set
    /// it to your transport's whole-request timeout (default 60 s).
    #[serde(default = "default_pay_in_flight")]
    pub pay_in_flight: Duration,
    /// After cancelPayment answered `ORDER_NOT_EXIST`: the payment is closed as not charged
    /// only when an inquiry made once the last pay attempt plus
    /// [`TrackerPolicy::pay_in_flight`] plus this margin has passed still answers
    /// `ORDER_NOT_EXIST`; until then it is inquired (default 60 s).
    ///
    /// Our reading (the spec is silent on whether a delayed pay can still land after such a
    /// cancel): a pay still travelling (queued in a proxy, retried by a gateway) could create
    /// the payment after Alipay+ answered the cancel, so "does not exist" is only final once
    /// no pay can be in flight any more.
    #[serde(default = "default_late_landing_margin")]
    pub late_landing_margin: Duration,
    /// Cancels without an answer are re-sent after [`TrackerPolicy::retry_delay`], doubling
    /// up to this interval; inquiries without an answer and all calls after the first
    /// cancel use the same back-off (default 5 minutes).
    #[serde(default = "default_max_cancel_interval")]
    pub max_cancel_interval: Duration,
    /// The most calls without a verified answer one payment makes; then it ends in
    /// [`Final::Unresolved`](super::Final::Unresolved) (default 400; a 24-hour outage costs about 330 with the default
    /// policies).
    #[serde(default = "default_call_budget")]
    pub call_budget: u32,
}

fn default_pay_in_flight() -> Duration {
    Duration::from_secs(60)
}

fn default_late_landing_margin() -> Duration {
    Duration::from_secs(60)
}

fn default_max_cancel_interval() -> Duration {
    Duration::from_secs(300)
}

fn default_call_budget() -> u32 {
    400
}

impl TrackerPolicy {
    /// Cashier Payment (the shopper acts in the wallet; spec: rely on notifyPayment, poll with
    /// back-off until the payment expiry, then cancel). First inquiry after 10 s, then 10 s
    /// doubling to 60 s; cancel 60 s after the window; 3 pay attempts 2 s apart. Without a
    /// `paymentExpiryTime` the window is 15 minutes: Alipay+ documents no default (UNCERTAIN),
    /// so set `paymentExpiryTime` on the pay request to make both sides agree.
    pub fn cashier() -> Self {
        TrackerPolicy {
            first_inquiry_after: Duration::from_secs(10),
            inquiry_interval: Duration::from_secs(10),
            backoff: true,
            max_inquiry_interval: Duration::from_secs(60),
            cancel_margin: Duration::from_secs(60),
            deadline_margin: Duration::from_secs(120),
            max_pay_attempts: 3,
            retry_delay: Duration::from_secs(2),
            settle_after_deadline: Duration::from_secs(3600),
            default_window: Duration::from_secs(15 * 60),
            pay_in_flight: default_pay_in_flight(),
            late_landing_margin: default_late_landing_margin(),
            max_cancel_interval: default_max_cancel_interval(),
            call_budget: default_call_budget(),
        }
    }

    /// The published Auto Debit cadence: inquire every 3 s; with a payment window of 60 s
    /// (pass `start + 60 s` as the window end) the payment is then cancelled.
    pub fn auto_debit() -> Self {
        TrackerPolicy {
            first_inquiry_after: Duration::from_secs(3),
            inquiry_interval: Duration::from_secs(3),
            backoff: false,
            max_inquiry_interval: Duration::from_secs(3),
            cancel_margin: Duration::ZERO,
            deadline_margin: Duration::from_secs(120),
            max_pay_attempts: 3,
            retry_delay: Duration::from_secs(1),
            settle_after_deadline: Duration::from_secs(3600),
            default_window: Duration::from_secs(60),
            pay_in_flight: default_pay_in_flight(),
            late_landing_margin: default_late_landing_margin(),
            max_cancel_interval: default_max_cancel_interval(),
            call_budget: default_call_budget(),
        }
    }
}
