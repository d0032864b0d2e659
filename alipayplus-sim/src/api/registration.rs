//! registration and inquiryRegistrationStatus (registration.md §2, §3); the books and the
//! wallets' reviews are in [`crate::operations`].

use alipayplus_types::{
    Api, InquiryRegistrationStatusRequest, InquiryRegistrationStatusResponse, RegistrationRequest,
    RegistrationResponse,
};

use crate::answer::{Answer, Route, result, typed};
use crate::operations::registration_key;
use crate::operations_books::Registration;
use crate::state::{Shared, lock};

/// registration.md §2: an update needs the previous request to be older than this (or processed).
const UPDATE_INTERVAL_SECS: i64 = 30 * 60;

pub(super) const REGISTRATION: Route = Route {
    name: RegistrationRequest::NAME,
    path: RegistrationRequest::PATH,
    serve: |shared, body| typed(shared, body, register),
};

pub(super) const INQUIRY: Route = Route {
    name: InquiryRegistrationStatusRequest::NAME,
    path: InquiryRegistrationStatusRequest::PATH,
    serve: serve_inquiry,
};

fn serve_inquiry(shared: &Shared, body: &[u8]) -> Answer {
    typed(shared, body, inquire)
}

fn register(shared: &Shared, request: RegistrationRequest) -> RegistrationResponse {
    let now = shared.clock.now_secs();
    let mut books = lock(&shared.operations);
    let id = request.registration_request_id.clone();
    if books.registrations.contains_key(&id) {
        // Idempotent: the same id gets the same (accepted) answer, whatever the body.
        return RegistrationResponse::new(result("SUCCESS", "S", "success"));
    }
    let key = registration_key(&request);
    if let Some(previous) = books
        .latest
        .get(&key)
        .and_then(|p| books.registrations.get(p))
    {
        let processed = previous.result().0.registration_status
            == Some(alipayplus_types::RegistrationStatus::Completed);
        if !processed && now - previous.created_at < UPDATE_INTERVAL_SECS {
            return RegistrationResponse::new(result(
                "REGISTRATION_UPDATE_TOO_FREQUENT",
                "F",
                &format!(
                    "the previous registration request {:?} for {key} is not processed and younger than 30 minutes",
                    previous.request.registration_request_id
                ),
            ));
        }
    }
    let psps = shared
        .wallets
        .iter()
        .map(|w| (w.clone(), alipayplus_types::RegistrationStatus::Pending))
        .collect();
    books.latest.insert(key.clone(), id.clone());
    books.registrations.insert(
        id,
        Registration {
            request,
            key,
            created_at: now,
            psps,
        },
    );
    RegistrationResponse::new(result("SUCCESS", "S", "success"))
}

fn inquire(
    shared: &Shared,
    request: InquiryRegistrationStatusRequest,
) -> InquiryRegistrationStatusResponse {
    let books = lock(&shared.operations);
    let id = match (
        &request.registration_request_id,
        &request.reference_merchant_id,
    ) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(merchant)) => {
            let key = match &request.reference_store_id {
                Some(store) => format!("{merchant}/{store}"),
                None => merchant.clone(),
            };
            books.latest.get(&key).cloned()
        }
        (None, None) => None,
    };
    let Some(reg) = id.and_then(|id| books.registrations.get(&id)) else {
        return InquiryRegistrationStatusResponse::new(result(
            "REGISTRATION_NOT_EXIST",
            "F",
            "no such registration",
        ));
    };
    let (overall, list) = reg.result();
    let mut response = InquiryRegistrationStatusResponse::new(result("SUCCESS", "S", "success"));
    response.registration_result = Some(overall);
    response.psp_registration_result_list = Some(list);
    response
}
