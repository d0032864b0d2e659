//! notifyPayment deliveries: signed POSTs to the payment's notify URL, re-sent on a schedule
//! until the ACQP acknowledges with a signed `S` answer (common.md §3.5).
//!
//! The body is frozen when the payment becomes final (a later cancel or refund does not
//! rewrite what was notified). The request is signed over the notify URL's path (no query:
//! whether Alipay+ signs the query is UNCERTAIN, common.md §2.2) with the ACQP's Client-Id.
//! An acknowledgement counts only if it is HTTP 200, signed by the ACQP over the same path,
//! echoes the Client-Id and says `resultStatus` `S`.

use alipayplus_types::{NotifyPaymentResultCode, ResultEnvelope};

use crate::acqp::{self, Unverified, Verified};
pub use crate::notify_queue::{Delivery, DeliveryKind, DeliveryOutcome, NotificationStatus};
use crate::notify_queue::{Job, Pending};
use crate::payment::Phase;
use crate::state::{Shared, lock};

/// Delivers one notification; what came of it.
pub(crate) fn deliver(shared: &Shared, agent: &ureq::Agent, job: &Job) -> DeliveryOutcome {
    match acqp::call(shared, agent, &job.url, &job.body, job.bad_signature) {
        Ok(verified) => check_ack(shared, &verified),
        Err(Unverified::HttpStatus(status)) => DeliveryOutcome::HttpStatus { status },
        Err(Unverified::Signature(e)) => DeliveryOutcome::BadAck {
            reason: format!("acknowledgement signature: {e}"),
        },
        Err(Unverified::Url(e) | Unverified::Transport(e) | Unverified::Read(e)) => {
            DeliveryOutcome::Failed { error: e }
        }
        Err(Unverified::Sign(e)) => DeliveryOutcome::Failed {
            error: format!("signing failed: {e}"),
        },
    }
}

/// What a verified acknowledgement says: it must echo our Client-Id and say `S`.
fn check_ack(shared: &Shared, verified: &Verified) -> DeliveryOutcome {
    let body = &verified.body[..];
    if verified.client_id != shared.client_id {
        return DeliveryOutcome::BadAck {
            reason: format!(
                "acknowledgement Client-Id {:?} is not {:?}",
                verified.client_id, shared.client_id
            ),
        };
    }
    match serde_json::from_slice::<ResultEnvelope<NotifyPaymentResultCode>>(body) {
        Ok(env) if env.result.result_status.is_success() => DeliveryOutcome::Acknowledged,
        Ok(env) => DeliveryOutcome::Refused {
            code: env.result.code_str().to_owned(),
        },
        Err(e) => DeliveryOutcome::BadAck {
            reason: format!("acknowledgement body: {e}"),
        },
    }
}

/// Freezes the notifyPayment body of a payment that just became final.
pub(crate) fn pending(shared: &Shared, payment: &crate::payment::Payment, url: String) -> Pending {
    use alipayplus_types::{ApiResult, NotifyPaymentRequest, PaymentResultCode, ResultStatus};
    let outcome = payment.outcome();
    let status = ResultStatus::from(outcome.status);
    let message = if status.is_success() {
        "success"
    } else {
        "payment failed"
    };
    let result = ApiResult::new(
        PaymentResultCode::from(outcome.code.as_str()),
        status.clone(),
        Some(message.to_owned()),
    );
    let mut body = NotifyPaymentRequest::new(result, payment.payment_request_id.clone());
    body.payment_id = Some(payment.payment_id.clone());
    body.acquirer_id = Some(shared.acquirer_id.clone());
    body.payment_amount = Some(payment.amount());
    if status.is_success() {
        body.psp_id = Some(shared.psp_id.clone());
        body.customer_id = Some(crate::payment::customer_id(payment));
        body.wallet_brand_name = Some(shared.wallet_brand_name.clone());
        body.payment_time = payment.paid_at.and_then(crate::clock::datetime);
        body.settlement_amount = Some(payment.amount());
        // customs.md §2: the declarable amount of an AlipayCN payment (not in the notification
        // model, so sent as an extra field).
        if let Some(amount) = crate::payment::customs_declaration_amount(payment)
            && let Ok(value) = serde_json::to_value(amount)
        {
            body.extra.insert("customsDeclarationAmount".into(), value);
        }
    }
    Pending {
        payment_request_id: payment.payment_request_id.clone(),
        url,
        // Serializing plain data into a Vec cannot fail; an empty body would only be refused.
        body: serde_json::to_vec(&body).unwrap_or_default(),
        result_status: outcome.status.to_owned(),
    }
}

/// A payment reached a final state by the wallet's doing: notify the ACQP (once).
pub(crate) fn payment_final(shared: &Shared, payment_request_id: &str) {
    let pending = {
        let mut store = lock(&shared.store);
        let Some(p) = store.payments.get_mut(payment_request_id) else {
            return;
        };
        // Only the wallet's outcomes are notified; a cancel was the ACQP's own call.
        let wallet_final = matches!(p.phase, Phase::Succeeded | Phase::Failed { .. });
        if p.notified || !wallet_final {
            return;
        }
        p.notified = true;
        match p.notify_url.clone() {
            Some(url) => pending(shared, p, url),
            None => return,
        }
    };
    let faults = lock(&shared.notify_faults).clone();
    shared.notify.enqueue(pending, &faults);
}
