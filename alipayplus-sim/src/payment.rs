//! The payment state machine.
//!
//! ```text
//! pay ──► InProcess ──shopper approves──► Succeeded ──refund──► (partly / fully refunded)
//!             │ ├──shopper declines / expiry──► Failed(code)
//!             │ └──cancelPayment──► Cancelled
//!             Succeeded ──cancelPayment (before T+1 00:15 UTC+8, no refund yet)──► Cancelled (reversed)
//! ```
//!
//! Choices where the spec is UNCERTAIN (cashier.md §7, §8), kept here so they are easy to change:
//! * cancel of a succeeded payment is accepted until 00:15 (UTC+8) of the day after the
//!   payment was created, and the shopper is refunded in full ("reversed"); the spec says
//!   cancel is allowed until then and that Alipay+ refunds an already charged user. After a
//!   refund has been made, cancel is refused with `ORDER_STATUS_INVALID` (a reversal on top of a
//!   refund would pay the shopper back twice); after the window too.
//! * cancel of a cancelled payment answers `SUCCESS` again (spec: idempotent, same result).
//! * cancel of a failed payment answers `ORDER_IS_CLOSED` (F; nothing to cancel).
//! * refunds need a succeeded payment (`ORDER_STATUS_INVALID` otherwise), the payment's
//!   currency (`CURRENCY_NOT_SUPPORT` otherwise), a total not above the paid amount
//!   (`REFUND_AMOUNT_EXCEED`), and must come within a year of the payment (`REFUND_WINDOW_EXCEED`).
//! * an expired payment (past `paymentExpiryTime` while in process) fails with `ORDER_IS_CLOSED`
//!   and is notified like a declined one.

use alipayplus_types::{Amount, PayRequest};
use serde::Serialize;

/// Seconds in the refund window (one year).
pub const REFUND_WINDOW_SECS: i64 = 365 * 86_400;

/// Where a payment is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Phase {
    /// Created, waiting for the shopper.
    InProcess,
    /// Paid.
    Succeeded,
    /// Ended without money moving; `code` is the payment result code.
    Failed {
        /// Payment result code (e.g. `USER_BALANCE_NOT_ENOUGH`, `ORDER_IS_CLOSED`).
        code: String,
    },
    /// Cancelled by the ACQP; `reversed`: it had succeeded and the shopper was paid back.
    Cancelled {
        /// The payment had succeeded and was reversed.
        reversed: bool,
    },
}

/// The state a user of the simulator sees (refunds folded in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Waiting for the shopper.
    InProcess,
    /// Paid, nothing refunded.
    Success,
    /// Ended without payment.
    Failed,
    /// Cancelled (possibly reversed after success).
    Cancelled,
    /// Paid, part of it refunded.
    PartlyRefunded,
    /// Paid and refunded in full.
    FullyRefunded,
}

impl PaymentStatus {
    /// Whether the payment can still change by the shopper's or the clock's doing.
    pub fn is_final(self) -> bool {
        self != PaymentStatus::InProcess
    }

    /// Wire-like name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::InProcess => "IN_PROCESS",
            PaymentStatus::Success => "SUCCESS",
            PaymentStatus::Failed => "FAILED",
            PaymentStatus::Cancelled => "CANCELLED",
            PaymentStatus::PartlyRefunded => "PARTLY_REFUNDED",
            PaymentStatus::FullyRefunded => "FULLY_REFUNDED",
        }
    }
}

/// One payment as the simulator keeps it.
#[derive(Clone, Debug)]
pub struct Payment {
    /// The ACQP's id.
    pub payment_request_id: String,
    /// The simulator's id.
    pub payment_id: String,
    /// The pay request as first received (idempotency comparisons).
    pub request: PayRequest,
    /// Where it is.
    pub phase: Phase,
    /// Creation time (unix seconds, simulator clock).
    pub created_at: i64,
    /// Unix seconds after which an in-process payment closes.
    pub expires_at: Option<i64>,
    /// When it succeeded (unix seconds).
    pub paid_at: Option<i64>,
    /// Refunded so far, in minor units of the payment currency.
    pub refunded: u64,
    /// refundRequestIds of the refunds that succeeded, in order.
    pub refunds: Vec<String>,
    /// Where notifyPayment goes (none: not notified).
    pub notify_url: Option<String>,
    /// The shopper's redirect back to the merchant.
    pub redirect_url: Option<String>,
    /// Whether a final notification has been queued.
    pub notified: bool,
}

/// A payment result `(resultStatus, resultCode)` as pay, inquiry and notify report it.
pub(crate) struct Outcome {
    pub status: &'static str,
    pub code: String,
}

impl Payment {
    /// The amount asked.
    pub fn amount(&self) -> Amount {
        self.request.payment_amount
    }

    /// The visible status.
    pub fn status(&self) -> PaymentStatus {
        match &self.phase {
            Phase::InProcess => PaymentStatus::InProcess,
            Phase::Failed { .. } => PaymentStatus::Failed,
            Phase::Cancelled { .. } => PaymentStatus::Cancelled,
            Phase::Succeeded if self.refunded == 0 => PaymentStatus::Success,
            Phase::Succeeded if self.refunded >= self.amount().minor() => {
                PaymentStatus::FullyRefunded
            }
            Phase::Succeeded => PaymentStatus::PartlyRefunded,
        }
    }

    /// The payment result to report.
    pub(crate) fn outcome(&self) -> Outcome {
        match &self.phase {
            Phase::InProcess => Outcome {
                status: "U",
                code: "PAYMENT_IN_PROCESS".into(),
            },
            Phase::Succeeded => Outcome {
                status: "S",
                code: "SUCCESS".into(),
            },
            Phase::Failed { code } => Outcome {
                status: "F",
                code: code.clone(),
            },
            Phase::Cancelled { .. } => Outcome {
                status: "F",
                code: "ORDER_IS_CLOSED".into(),
            },
        }
    }

    /// Closes an in-process payment whose expiry has passed. True if it did.
    pub(crate) fn expire_if_due(&mut self, now: i64) -> bool {
        match (self.phase == Phase::InProcess, self.expires_at) {
            (true, Some(at)) if now >= at => {
                self.phase = Phase::Failed {
                    code: "ORDER_IS_CLOSED".into(),
                };
                true
            }
            _ => false,
        }
    }

    /// The shopper pays.
    pub(crate) fn approve(&mut self, now: i64) -> Result<(), &'static str> {
        self.expire_if_due(now);
        match self.phase {
            Phase::InProcess => {
                self.phase = Phase::Succeeded;
                self.paid_at = Some(now);
                Ok(())
            }
            _ => Err(self.status().as_str()),
        }
    }

    /// The shopper (or the wallet) declines with a payment result code.
    pub(crate) fn decline(&mut self, code: &str, now: i64) -> Result<(), &'static str> {
        self.expire_if_due(now);
        match self.phase {
            Phase::InProcess => {
                self.phase = Phase::Failed { code: code.into() };
                Ok(())
            }
            _ => Err(self.status().as_str()),
        }
    }

    /// Last moment a cancel is accepted: 00:15 UTC+8 on the day after creation.
    pub fn cancel_deadline(&self) -> i64 {
        const UTC8: i64 = 8 * 3600;
        let local_day_start = (self.created_at + UTC8).div_euclid(86_400) * 86_400;
        local_day_start + 86_400 + 15 * 60 - UTC8
    }

    /// cancelPayment. `Ok` = answer `SUCCESS`; `Err(code)` = answer F with that code.
    pub(crate) fn cancel(&mut self, now: i64) -> Result<(), &'static str> {
        if now > self.cancel_deadline() && !matches!(self.phase, Phase::Cancelled { .. }) {
            return Err("ORDER_STATUS_INVALID");
        }
        match self.phase {
            Phase::InProcess => {
                self.phase = Phase::Cancelled { reversed: false };
                Ok(())
            }
            Phase::Cancelled { .. } => Ok(()),
            Phase::Failed { .. } => Err("ORDER_IS_CLOSED"),
            Phase::Succeeded if self.refunded == 0 => {
                self.phase = Phase::Cancelled { reversed: true };
                Ok(())
            }
            Phase::Succeeded => Err("ORDER_STATUS_INVALID"),
        }
    }

    /// Checks a refund of `amount` at `now`; on success records it.
    pub(crate) fn refund(
        &mut self,
        refund_request_id: &str,
        amount: &Amount,
        now: i64,
    ) -> Result<(), &'static str> {
        if self.phase != Phase::Succeeded {
            return Err("ORDER_STATUS_INVALID");
        }
        if amount.currency != self.amount().currency {
            return Err("CURRENCY_NOT_SUPPORT");
        }
        if now - self.paid_at.unwrap_or(self.created_at) > REFUND_WINDOW_SECS {
            return Err("REFUND_WINDOW_EXCEED");
        }
        let total = self
            .refunded
            .checked_add(amount.minor())
            .filter(|t| *t <= self.amount().minor())
            .ok_or("REFUND_AMOUNT_EXCEED")?;
        self.refunded = total;
        self.refunds.push(refund_request_id.to_owned());
        Ok(())
    }
}

/// What the control API shows of a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentView {
    /// The ACQP's id.
    pub payment_request_id: String,
    /// The simulator's id.
    pub payment_id: String,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The payment result code inquiry reports (`PAYMENT_IN_PROCESS`, `SUCCESS`, ...).
    pub result_code: String,
    /// The amount asked.
    pub amount: Amount,
    /// Refunded so far (minor units).
    pub refunded: u64,
    /// refundRequestIds of the refunds made.
    pub refunds: Vec<String>,
    /// Where notifyPayment goes.
    pub notify_url: Option<String>,
    /// The shopper's page.
    pub checkout_url: String,
}

impl Payment {
    /// The control API's view.
    pub fn view(&self, base_url: &str) -> PaymentView {
        PaymentView {
            payment_request_id: self.payment_request_id.clone(),
            payment_id: self.payment_id.clone(),
            status: self.status(),
            result_code: self.outcome().code,
            amount: self.amount(),
            refunded: self.refunded,
            refunds: self.refunds.clone(),
            notify_url: self.notify_url.clone(),
            checkout_url: format!("{base_url}/shopper/checkout/{}", self.payment_id),
        }
    }
}

/// The wallet whose payments can be declared to customs.
pub const CUSTOMS_WALLET: &str = "ALIPAY_CN";

/// The wallet user id of a paid payment (stable per payment).
pub(crate) fn customer_id(payment: &Payment) -> String {
    format!("SIMUSER{}", payment.payment_id.get(6..).unwrap_or_default())
}

/// The `customsDeclarationAmount` of a payment: the paid amount of a paid AlipayCN payment in
/// CNY.
pub(crate) fn customs_declaration_amount(payment: &Payment) -> Option<Amount> {
    let declarable = payment.phase == Phase::Succeeded
        && payment.request.payment_method.payment_method_type == CUSTOMS_WALLET
        && payment.amount().currency == alipayplus_types::Currency::CNY;
    declarable.then(|| payment.amount())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alipayplus_types::{Currency, DateTime, Merchant, Order, PaymentFactor, PaymentMethod};

    fn payment(created: &str) -> Payment {
        let amount = Amount::new(Currency::USD, 100);
        let order = Order::new("o".into(), "d".into(), amount, Merchant::new("m".into()));
        Payment {
            payment_request_id: "p".into(),
            payment_id: "SIMPAY1".into(),
            request: PayRequest::new(
                "p".into(),
                order,
                amount,
                PaymentMethod::new("SIMWALLET".into()),
                PaymentFactor::new(),
            ),
            phase: Phase::InProcess,
            created_at: DateTime::parse(created).unwrap().unix_seconds(),
            expires_at: None,
            paid_at: None,
            refunded: 0,
            refunds: Vec::new(),
            notify_url: None,
            redirect_url: None,
            notified: false,
        }
    }

    fn at(text: &str) -> i64 {
        DateTime::parse(text).unwrap().unix_seconds()
    }

    #[test]
    fn cancel_deadline_is_0015_utc8_on_the_next_day() {
        let p = payment("2026-11-23T10:00:00+08:00");
        assert_eq!(p.cancel_deadline(), at("2026-11-24T00:15:00+08:00"));
        // 23:30 UTC on the 22nd is already the 23rd in UTC+8.
        let p = payment("2026-11-22T23:30:00Z");
        assert_eq!(p.cancel_deadline(), at("2026-11-24T00:15:00+08:00"));
        let p = payment("2026-11-23T23:59:59+08:00");
        assert_eq!(p.cancel_deadline(), at("2026-11-24T00:15:00+08:00"));
    }

    #[test]
    fn refunds_add_up_to_the_paid_amount_and_no_more() {
        let mut p = payment("2026-11-23T10:00:00+08:00");
        let now = p.created_at;
        let usd = |v| Amount::new(Currency::USD, v);
        assert_eq!(p.refund("r0", &usd(1), now), Err("ORDER_STATUS_INVALID"));
        p.approve(now).unwrap();
        assert_eq!(p.refund("r1", &usd(60), now), Ok(()));
        assert_eq!(p.status(), PaymentStatus::PartlyRefunded);
        assert_eq!(p.refund("r2", &usd(41), now), Err("REFUND_AMOUNT_EXCEED"));
        assert_eq!(p.refund("r3", &usd(40), now), Ok(()));
        assert_eq!(p.status(), PaymentStatus::FullyRefunded);
        assert_eq!(
            p.refund("r4", &usd(u64::MAX), now),
            Err("REFUND_AMOUNT_EXCEED")
        );
        assert_eq!(p.cancel(now), Err("ORDER_STATUS_INVALID"));
    }

    #[test]
    fn expiry_closes_only_payments_in_process() {
        let mut p = payment("2026-11-23T10:00:00+08:00");
        p.expires_at = Some(p.created_at + 60);
        assert!(!p.expire_if_due(p.created_at + 59));
        assert!(p.expire_if_due(p.created_at + 60));
        assert_eq!(p.outcome().code, "ORDER_IS_CLOSED");
        assert!(p.approve(p.created_at + 61).is_err());
        let mut paid = payment("2026-11-23T10:00:00+08:00");
        paid.expires_at = Some(paid.created_at + 60);
        paid.approve(paid.created_at).unwrap();
        assert!(!paid.expire_if_due(paid.created_at + 3600));
    }
}
