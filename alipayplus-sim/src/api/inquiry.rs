//! inquiryPayment: the payment's current result (cashier.md §6).

use alipayplus_types::{
    Api, InquiryPaymentRequest, InquiryPaymentResponse, PaymentResultCode, Transaction,
    TransactionStatus, TransactionType,
};

use crate::answer::{Answer, Route, result, typed};
use crate::clock::datetime;
use crate::payment::customer_id;
use crate::payment::{Payment, Phase};
use crate::state::{RefundRecord, Shared, lock};

type Refunds = std::collections::BTreeMap<String, RefundRecord>;

pub(super) const ROUTE: Route = Route {
    name: InquiryPaymentRequest::NAME,
    path: InquiryPaymentRequest::PATH,
    serve,
};

fn serve(shared: &Shared, body: &[u8]) -> Answer {
    typed(shared, body, handle)
}

fn handle(shared: &Shared, request: InquiryPaymentRequest) -> InquiryPaymentResponse {
    // Agreement payments whose time in process is over get their result first.
    crate::autodebit::settle_due(shared);
    let now = shared.clock.now_secs();
    let (response, expired) = {
        let mut guard = lock(&shared.store);
        let store = &mut *guard;
        let id = store.resolve(
            request.payment_request_id.as_deref(),
            request.payment_id.as_deref(),
        );
        let Some(payment) = id.and_then(|id| store.payments.get_mut(&id)) else {
            return InquiryPaymentResponse::new(result(
                "ORDER_NOT_EXIST",
                "F",
                "Order does not exist.",
            ));
        };
        let expired = payment.expire_if_due(now);
        let response = answer(shared, payment, &store.refunds);
        (
            response,
            expired.then(|| payment.payment_request_id.clone()),
        )
    };
    if let Some(id) = expired {
        crate::notify::payment_final(shared, &id);
    }
    response
}

fn answer(shared: &Shared, payment: &Payment, refunds: &Refunds) -> InquiryPaymentResponse {
    let outcome = payment.outcome();
    let mut response = InquiryPaymentResponse::new(result("SUCCESS", "S", "success"));
    response.payment_result = Some(result::<PaymentResultCode>(
        &outcome.code,
        outcome.status,
        &format!("payment is {}", payment.status().as_str()),
    ));
    response.payment_request_id = Some(payment.payment_request_id.clone());
    response.payment_id = Some(payment.payment_id.clone());
    response.acquirer_id = Some(shared.acquirer_id.clone());
    response.psp_id = Some(shared.psp_id.clone());
    response.payment_amount = Some(payment.amount());
    if payment.paid_at.is_some() {
        response.payment_time = payment.paid_at.and_then(datetime);
        response.customer_id = Some(customer_id(payment));
        response.wallet_brand_name = Some(shared.wallet_brand_name.clone());
        response.settlement_amount = Some(payment.amount());
    }
    response.transactions = Some(transactions(payment, refunds));
    response.customs_declaration_amount = crate::payment::customs_declaration_amount(payment);
    response
}

/// The payment and its refunds as `transactions` (UNCERTAIN for Alipay+ Cashier, cashier.md
/// §2.15; harmless to a client that ignores it).
fn transactions(payment: &Payment, refunds: &Refunds) -> Vec<Transaction> {
    let outcome = payment.outcome();
    let mut pay = Transaction::new();
    pay.transaction_type = Some(TransactionType::from("PAYMENT"));
    pay.transaction_status = Some(TransactionStatus::from(match payment.phase {
        Phase::InProcess => "PROCESSING",
        Phase::Succeeded => "SUCCESS",
        Phase::Failed { .. } => "FAIL",
        Phase::Cancelled { .. } => "CANCELLED",
    }));
    pay.transaction_result = Some(result(&outcome.code, outcome.status, "payment"));
    pay.transaction_id = Some(payment.payment_id.clone());
    pay.transaction_request_id = Some(payment.payment_request_id.clone());
    pay.transaction_amount = Some(payment.amount());
    let mut list = vec![pay];
    for refund_request_id in &payment.refunds {
        if let Some(record) = refunds.get(refund_request_id) {
            let mut t = Transaction::new();
            t.transaction_type = Some(TransactionType::from("REFUND"));
            t.transaction_status = Some(TransactionStatus::from("SUCCESS"));
            t.transaction_result = Some(result("SUCCESS", "S", "refund"));
            t.transaction_id = record.response.refund_id.clone();
            t.transaction_request_id = Some(refund_request_id.clone());
            t.transaction_amount = Some(record.amount);
            list.push(t);
        }
    }
    list
}
