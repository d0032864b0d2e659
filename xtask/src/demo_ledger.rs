//! The demo merchant's own records, kept as each section of `cargo xtask demo` sees its
//! payments and refunds succeed, for the day's reconciliation at its end
//! ([`crate::demo_reconcile`]), and the one-line summary of an outcome the sections print.
//! A module of its own so the sections import it and never each other.

use alipayplus_cashier::Transport;
use alipayplus_cashier::{Client, Outcome};
use alipayplus_cashier::{PaymentRef, inquiry_request};
use alipayplus_reconcile::{LedgerRecord, TransactionType};
use alipayplus_types::{HasResult, RefundResponse};

type Res<T> = Result<T, String>;

/// `S SUCCESS`, `U PAYMENT_IN_PROCESS`, or why no verified answer came.
pub(crate) fn summary<R: HasResult>(outcome: &Outcome<R>) -> String {
    match outcome {
        Outcome::NoVerifiedResponse(e) => format!("no verified response: {e}"),
        other => other
            .result()
            .map(|r| format!("{} {}", r.result_status.as_str(), r.code_str()))
            .unwrap_or_default(),
    }
}

/// The merchant's own record of a payment, as inquiryPayment states it (`paymentTime`, the
/// amount): what the day's reconciliation matches against the settlement reports.
pub(crate) fn paid_record<T: Transport>(client: &Client<T>, id: &str) -> Res<LedgerRecord> {
    let inquiry = client
        .call(&inquiry_request(&PaymentRef::RequestId(id.into())))
        .map_err(|e| e.to_string())?;
    let body = inquiry
        .body()
        .filter(|_| inquiry.is_success())
        .ok_or_else(|| format!("inquiry of {id}: {}", summary(&inquiry)))?;
    Ok(LedgerRecord {
        request_id: id.into(),
        transaction_type: TransactionType::Payment,
        amount: body.payment_amount.ok_or("inquiry without paymentAmount")?,
        time: body
            .payment_time
            .clone()
            .ok_or("inquiry without paymentTime")?,
    })
}

/// The merchant's own record of a successful refund (`refundTime` as Alipay+ gave it).
pub(crate) fn refund_record(id: &str, refund: &Outcome<RefundResponse>) -> Res<LedgerRecord> {
    let body = refund
        .body()
        .filter(|_| refund.is_success())
        .ok_or_else(|| format!("refund {id}: {}", summary(refund)))?;
    Ok(LedgerRecord {
        request_id: id.into(),
        transaction_type: TransactionType::Refund,
        amount: body.refund_amount.ok_or("refund without refundAmount")?,
        time: body
            .refund_time
            .clone()
            .ok_or("refund without refundTime")?,
    })
}
