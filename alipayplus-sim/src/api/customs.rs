//! declare and inquireDeclarationRequests (customs.md §2, §3); the rules are listed in
//! [`crate::operations`].

use alipayplus_types::{
    Amount, Api, ClearingChannel, DeclarationRecord, DeclarationRequestStatus, DeclareRequest,
    DeclareResponse, IdentityCheckResult, InquireDeclarationRequestsRequest,
    InquireDeclarationRequestsResponse,
};

use crate::answer::{Route, result, typed};
use crate::clock::datetime;
use crate::operations_books::Declaration;
use crate::payment::customs_declaration_amount;
use crate::state::{Shared, lock};

/// Simulator seconds a declaration waits before customs accepts it.
const CUSTOMS_DELAY_SECS: i64 = 1;

pub(super) const DECLARE: Route = Route {
    name: DeclareRequest::NAME,
    path: DeclareRequest::PATH,
    serve: |shared, body| typed(shared, body, declare),
};

pub(super) const INQUIRE: Route = Route {
    name: InquireDeclarationRequestsRequest::NAME,
    path: InquireDeclarationRequestsRequest::PATH,
    serve: |shared, body| typed(shared, body, inquire),
};

fn declare(shared: &Shared, request: DeclareRequest) -> DeclareResponse {
    let now = shared.clock.now_secs();
    let fail = |code: &str, message: &str| DeclareResponse::new(result(code, "F", message));
    let reused = lock(&shared.operations)
        .declarations
        .get(&request.customs_declaration_request_id)
        .is_some_and(|d| d.request.payment_request_id != request.payment_request_id);
    if reused {
        return fail(
            "REPEAT_REQ_INCONSISTENT",
            "this customsDeclarationRequestId was used for another payment",
        );
    }
    let (limit, payment_id) = {
        let store = lock(&shared.store);
        let Some(p) = store.payments.get(&request.payment_request_id) else {
            return fail("ORDER_NOT_EXIST", "Order does not exist.");
        };
        let Some(limit) = customs_declaration_amount(p) else {
            return fail(
                "ORDER_STATUS_INVALID",
                "only paid ALIPAY_CN payments in CNY can be declared",
            );
        };
        (limit, p.payment_id.clone())
    };
    let mut books = lock(&shared.operations);
    let id = request.customs_declaration_request_id.clone();
    let existing = books.declarations.get(&id);
    let others: u64 = books
        .declarations
        .iter()
        .filter(|(k, d)| **k != id && d.request.payment_request_id == request.payment_request_id)
        .map(|(_, d)| d.request.declaration_amount.minor())
        .sum();
    let total = others.saturating_add(request.declaration_amount.minor());
    if total > limit.minor() {
        return fail(
            "TOTAL_DECLARATION_AMOUNT_EXCEED",
            &format!(
                "the declared total {total} would exceed customsDeclarationAmount {}",
                limit.minor()
            ),
        );
    }
    let psp_id = existing
        .map(|d| d.psp_declaration_request_id.clone())
        .unwrap_or_else(|| shared.next_id("SIMDCL"));
    let identity = request.buyer_certificate.is_some();
    let code = request.customs.customs_code.clone();
    books.declarations.insert(
        id,
        Declaration {
            request,
            psp_declaration_request_id: psp_id.clone(),
            modified_at: now,
        },
    );
    let mut response = DeclareResponse::new(result("SUCCESS", "S", "success"));
    response.psp_payment_id = Some(payment_id);
    response.psp_declaration_request_id = Some(psp_id);
    response.psp_customs_code = Some(format!("SIM{}", code.to_ascii_uppercase()));
    response.clearing_channel = Some(ClearingChannel::Nucc);
    response.clearing_transaction_id = Some(shared.next_id("SIMCLR"));
    response.psp_order_amount = Some(Amount::new(limit.currency, limit.minor()));
    response.identity_check_result = identity.then_some(IdentityCheckResult::CheckPassed);
    response
}

fn inquire(
    shared: &Shared,
    request: InquireDeclarationRequestsRequest,
) -> InquireDeclarationRequestsResponse {
    let now = shared.clock.now_secs();
    let payment_ids: std::collections::BTreeMap<String, String> = lock(&shared.store)
        .payments
        .values()
        .map(|p| (p.payment_request_id.clone(), p.payment_id.clone()))
        .collect();
    let books = lock(&shared.operations);
    let mut records = Vec::new();
    let mut not_found = Vec::new();
    for id in &request.declaration_request_ids {
        let Some(d) = books.declarations.get(id) else {
            not_found.push(id.clone());
            continue;
        };
        let accepted = now - d.modified_at >= CUSTOMS_DELAY_SECS;
        let mut r = DeclarationRecord::new();
        r.customs_declaration_request_id = Some(id.clone());
        r.psp_declaration_request_id = Some(d.psp_declaration_request_id.clone());
        r.psp_payment_id = payment_ids.get(&d.request.payment_request_id).cloned();
        r.customs = Some(d.request.customs.clone());
        r.merchant_customs_info = Some(d.request.merchant_customs_info.clone());
        r.declaration_amount = Some(d.request.declaration_amount);
        r.is_split = Some(d.request.is_split);
        r.reference_order_id = d.request.reference_order_id.clone();
        r.modified_time = datetime(d.modified_at);
        if accepted {
            r.declaration_request_status = Some(DeclarationRequestStatus::CustomsAcceptSuccess);
            r.customs_result_code = Some("2".into());
            r.customs_result_description = Some("accepted".into());
            r.customs_result_returned_time = datetime(d.modified_at + CUSTOMS_DELAY_SECS);
        } else {
            r.declaration_request_status = Some(DeclarationRequestStatus::WaitingForProcessing);
        }
        records.push(r);
    }
    let mut response = InquireDeclarationRequestsResponse::new(result("SUCCESS", "S", "success"));
    response.declaration_records = Some(records);
    response.declaration_requests_not_found = (!not_found.is_empty()).then_some(not_found);
    response
}
