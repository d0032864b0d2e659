//! Merchant registration, disputes and customs declarations in the simulator
//! (`shared/spec/registration.md`, `dispute.md`, `customs.md`), on the gateway, payment books
//! and notifier of the Cashier simulator. The outbound APIs are in `api/registration.rs`,
//! `api/dispute.rs` and `api/customs.rs`; this module keeps their books, the control calls and
//! what Alipay+ sends on its own (notifyRegistrationStatus, initiateRetrieval,
//! initiateEscalation), all through the notifier (signed, re-sent until a signed `S`
//! acknowledgement; statuses under the keys `notifyRegistrationStatus#N`, `initiateRetrieval#N`,
//! `initiateEscalation#N`).
//!
//! * **Registration** is idempotent on `registrationRequestId` (same answer again). A
//!   registration starts `PENDING` at every wallet of the simulator
//!   ([`SimConfig::wallets`](crate::SimConfig)); each wallet's review
//!   (`POST /sim/operations/registrations/review`, [`crate::Simulator::review_registration`])
//!   sets its `APPROVED` / `REJECTED` and sends one notifyRegistrationStatus to the
//!   registration's `registrationNotifyUrl` (or [`OperationsConfig::registration_notify_url`])
//!   with that wallet's entry and the collective status (`COMPLETED` once every wallet
//!   answered). An update (same merchant, and store for `IN_STORE_PAYMENT`, new id) within 30
//!   minutes of an unprocessed earlier one is refused `F` `REGISTRATION_UPDATE_TOO_FREQUENT`
//!   (UNCERTAIN: the spec names no code).
//! * **Disputes**: `POST /sim/operations/disputes` ([`crate::Simulator::open_dispute`]) opens a
//!   retrieval or an escalation against a paid payment and sends initiateRetrieval /
//!   initiateEscalation to [`OperationsConfig::dispute_url`] + `/` + the API name (dispute.md
//!   §2 limits: retrievals 5 per payment, escalations 2, one ongoing each; the escalation amount
//!   at most the paid amount not refunded). Giving an existing `disputeRequestId` with another
//!   payment re-sends it as is, to probe the acquirer's `REPEAT_REQ_INCONSISTENT`. The
//!   responses are idempotent on `disputeRequestId` (responseEscalation: another `refundType`
//!   or `refundAmount` is `REPEAT_REQ_INCONSISTENT`); a refund above the escalation amount or
//!   in another currency than the payment's is `PARAM_ILLEGAL`; an unknown id
//!   `DISPUTE_NOT_EXIST` (UNCERTAIN name).
//! * **Customs**: only paid `ALIPAY_CN` payments in CNY can be declared (`ORDER_NOT_EXIST`,
//!   `ORDER_STATUS_INVALID`); their `customsDeclarationAmount` (in inquiryPayment and
//!   notifyPayment) is the paid amount. The declared total per payment may not exceed it
//!   (`TOTAL_DECLARATION_AMOUNT_EXCEED`); re-sending a `customsDeclarationRequestId` updates
//!   that declaration (its amount replaces the earlier one); with another payment it is
//!   `REPEAT_REQ_INCONSISTENT`. A declaration is `WAITING_FOR_PROCESSING` for one second of
//!   simulator time, then `CUSTOMS_ACCEPT_SUCCESS` (customs code `2`).

use std::collections::BTreeMap;

use alipayplus_types::{
    Amount, InitiateEscalationRequest, InitiateRetrievalRequest, NotifyRegistrationStatusRequest,
    ProductCode, RegistrationRequest, RegistrationStatus,
};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::http::{HttpRequest, HttpResponse};
use crate::operations_books::status;
pub use crate::operations_books::{DisputeView, OperationsConfig};
use crate::payment::Phase;
use crate::state::{Shared, lock};

pub use crate::payment::CUSTOMS_WALLET;

/// The update key of a registration (registration.md §2).
pub(crate) fn registration_key(request: &RegistrationRequest) -> String {
    let merchant = &request.merchant_info.reference_merchant_id;
    let store = request
        .store_info
        .as_ref()
        .filter(|_| request.product_codes.contains(&ProductCode::InStorePayment));
    match store {
        Some(s) => format!("{merchant}/{}", s.reference_store_id),
        None => merchant.clone(),
    }
}

fn push(shared: &Shared, api: &str, url: String, body: Vec<u8>) {
    let n = {
        let mut books = lock(&shared.operations);
        books.seq += 1;
        books.seq
    };
    let pending = crate::notify_queue::Pending {
        payment_request_id: format!("{api}#{n}"),
        url,
        body,
        result_status: "S".into(),
    };
    let faults = lock(&shared.notify_faults).clone();
    shared.notify.enqueue(pending, &faults);
}

/// A wallet reviews a registration (all wallets when `psp` is `None`); one notification per
/// wallet.
pub(crate) fn review(
    shared: &Shared,
    registration_request_id: &str,
    psp: Option<&str>,
    approve: bool,
) -> Result<Vec<String>, Error> {
    let decision = if approve {
        RegistrationStatus::Approved
    } else {
        RegistrationStatus::Rejected
    };
    let mut pushes = Vec::new();
    let reviewed = {
        let mut books = lock(&shared.operations);
        let default_url = books.config.registration_notify_url.clone();
        let reg = books
            .registrations
            .get_mut(registration_request_id)
            .ok_or_else(|| {
                Error::BadControlRequest(format!("no registration {registration_request_id:?}"))
            })?;
        let wallets: Vec<String> = match psp {
            Some(p) if reg.psps.contains_key(p) => vec![p.to_owned()],
            Some(p) => {
                return Err(Error::BadControlRequest(format!(
                    "{p:?} does not review this registration (wallets: {:?})",
                    reg.psps.keys().collect::<Vec<_>>()
                )));
            }
            None => reg.psps.keys().cloned().collect(),
        };
        let url = reg.request.registration_notify_url.clone().or(default_url);
        for wallet in &wallets {
            reg.psps.insert(wallet.clone(), decision.clone());
            let Some(url) = url.clone() else { continue };
            let mut body = NotifyRegistrationStatusRequest::new(
                reg.request.merchant_info.reference_merchant_id.clone(),
                status(reg.overall()),
            );
            body.reference_store_id = reg
                .request
                .store_info
                .as_ref()
                .filter(|_| reg.key.contains('/'))
                .map(|s| s.reference_store_id.clone());
            body.registration_request_id = Some(registration_request_id.to_owned());
            body.psp_registration_result_list = Some(vec![reg.psp_entry(wallet, &decision)]);
            pushes.push((url, serde_json::to_vec(&body).unwrap_or_default()));
        }
        wallets
    };
    for (url, body) in pushes {
        push(shared, "notifyRegistrationStatus", url, body);
    }
    Ok(reviewed)
}

/// What the control API asks for a dispute.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenDispute {
    /// `retrieval` or `escalation`.
    pub kind: String,
    /// The paid payment.
    pub payment_request_id: String,
    /// Escalations: the amount (default: the paid amount not refunded).
    #[serde(default)]
    pub escalation_amount: Option<Amount>,
    /// Re-send this known id (with `paymentRequestId` as given): a conflict probe.
    #[serde(default)]
    pub dispute_request_id: Option<String>,
}

/// Opens a dispute and sends it to the acquirer.
pub(crate) fn open_dispute(shared: &Shared, ask: &OpenDispute) -> Result<DisputeView, Error> {
    let escalation = match ask.kind.as_str() {
        "retrieval" => false,
        "escalation" => true,
        other => {
            return Err(Error::BadControlRequest(format!(
                "kind {other:?}: expected retrieval or escalation"
            )));
        }
    };
    let api = if escalation {
        "initiateEscalation"
    } else {
        "initiateRetrieval"
    };
    let base = lock(&shared.operations)
        .config
        .dispute_url
        .clone()
        .ok_or_else(|| {
            Error::BadControlRequest("set disputeUrl first (PUT /sim/operations/config)".into())
        })?;
    let url = format!("{}/{api}", base.trim_end_matches('/'));
    let now = shared.clock.now_secs();
    let available = {
        let store = lock(&shared.store);
        let p = store
            .payments
            .get(&ask.payment_request_id)
            .ok_or_else(|| Error::UnknownPayment(ask.payment_request_id.clone()))?;
        if p.phase != Phase::Succeeded {
            return Err(Error::BadControlRequest(format!(
                "payment {:?} is {}: only paid payments are disputed",
                ask.payment_request_id,
                p.status().as_str()
            )));
        }
        (
            p.payment_id.clone(),
            Amount::new(
                p.amount().currency,
                p.amount().minor().saturating_sub(p.refunded),
            ),
        )
    };
    let (payment_id, available) = available;
    let view = {
        let mut books = lock(&shared.operations);
        if let Some(id) = &ask.dispute_request_id {
            let known =
                books.disputes.get(id).cloned().ok_or_else(|| {
                    Error::BadControlRequest(format!("no dispute {id:?} to re-send"))
                })?;
            DisputeView {
                payment_request_id: ask.payment_request_id.clone(),
                ..known
            }
        } else {
            let (max, kind) = if escalation {
                (2, "escalation")
            } else {
                (5, "retrieval")
            };
            let same: Vec<&DisputeView> = books
                .disputes
                .values()
                .filter(|d| d.payment_request_id == ask.payment_request_id && d.kind == kind)
                .collect();
            if same.len() >= max {
                return Err(Error::BadControlRequest(format!(
                    "at most {max} {kind}s per payment"
                )));
            }
            if same.iter().any(|d| d.response.is_none()) {
                return Err(Error::BadControlRequest(format!(
                    "a {kind} of this payment is ongoing"
                )));
            }
            let amount = ask.escalation_amount.unwrap_or(available);
            if escalation
                && (amount.currency != available.currency
                    || amount.minor() > available.minor()
                    || amount.minor() == 0)
            {
                return Err(Error::BadControlRequest(format!(
                    "escalation amount {amount} is not within the disputable {available}"
                )));
            }
            let view = DisputeView {
                kind: kind.into(),
                dispute_request_id: shared.next_id("SIMDSP"),
                payment_request_id: ask.payment_request_id.clone(),
                escalation_amount: escalation.then_some(amount),
                response: None,
            };
            books
                .disputes
                .insert(view.dispute_request_id.clone(), view.clone());
            view
        }
    };
    let occur = crate::clock::datetime(now);
    let body = if escalation {
        let amount = view.escalation_amount.unwrap_or(available);
        let mut b = InitiateEscalationRequest::new(
            view.dispute_request_id.clone(),
            view.payment_request_id.clone(),
            amount,
        );
        b.dispute_occur_time = occur;
        b.payment_id = Some(payment_id);
        serde_json::to_vec(&b)
    } else {
        let Some(occur) = occur else {
            return Err(Error::BadControlRequest(
                "the simulator clock is out of range".into(),
            ));
        };
        let mut b = InitiateRetrievalRequest::new(
            view.dispute_request_id.clone(),
            view.payment_request_id.clone(),
            occur,
        );
        b.payment_id = Some(payment_id);
        serde_json::to_vec(&b)
    };
    push(shared, api, url, body.unwrap_or_default());
    Ok(view)
}

/// Everything the operations books hold, for the control API.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationsView {
    /// Settings.
    pub config: OperationsConfig,
    /// Registrations: id, merchant key, collective and per-wallet statuses.
    pub registrations: Vec<serde_json::Value>,
    /// Disputes.
    pub disputes: Vec<DisputeView>,
    /// Declarations: id, payment, amount.
    pub declarations: Vec<serde_json::Value>,
}

pub(crate) fn view(shared: &Shared) -> OperationsView {
    let books = lock(&shared.operations);
    OperationsView {
        config: books.config.clone(),
        registrations: books
            .registrations
            .iter()
            .map(|(id, r)| {
                serde_json::json!({
                    "registrationRequestId": id,
                    "key": r.key,
                    "registrationStatus": r.overall().as_str(),
                    "psps": r.psps.iter().map(|(p, s)| (p.clone(), s.as_str().to_owned())).collect::<BTreeMap<_, _>>(),
                })
            })
            .collect(),
        disputes: books.disputes.values().cloned().collect(),
        declarations: books
            .declarations
            .iter()
            .map(|(id, d)| {
                serde_json::json!({
                    "customsDeclarationRequestId": id,
                    "paymentRequestId": d.request.payment_request_id,
                    "declarationAmount": d.request.declaration_amount,
                })
            })
            .collect(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review {
    registration_request_id: String,
    #[serde(default)]
    psp_name: Option<String>,
    /// `APPROVED` or `REJECTED`.
    decision: String,
}

fn parse<T: serde::de::DeserializeOwned>(request: &HttpRequest) -> Result<T, HttpResponse> {
    serde_json::from_slice(&request.body)
        .map_err(|e| HttpResponse::error(400, &Error::BadControlRequest(e.to_string()).to_string()))
}

fn reply<T: Serialize>(result: Result<T, Error>) -> HttpResponse {
    match result {
        Ok(v) => HttpResponse::json(200, &v),
        Err(e @ Error::UnknownPayment(_)) => HttpResponse::error(404, &e.to_string()),
        Err(e) => HttpResponse::error(409, &e.to_string()),
    }
}

/// The control calls under `/sim/operations`.
pub(crate) fn control(shared: &Shared, request: &HttpRequest) -> HttpResponse {
    let method = request.method.to_ascii_uppercase();
    let path = request.path().trim_end_matches('/');
    let answered = match (method.as_str(), path) {
        ("GET", "/sim/operations") => Ok(HttpResponse::json(200, &view(shared))),
        ("PUT" | "POST", "/sim/operations/config") => parse::<OperationsConfig>(request).map(|c| {
            lock(&shared.operations).config = c.clone();
            HttpResponse::json(200, &c)
        }),
        ("POST", "/sim/operations/registrations/review") => parse::<Review>(request).map(|r| {
            let approve = match r.decision.as_str() {
                "APPROVED" => true,
                "REJECTED" => false,
                _ => {
                    return HttpResponse::error(400, "decision: expected APPROVED or REJECTED");
                }
            };
            reply(review(
                shared,
                &r.registration_request_id,
                r.psp_name.as_deref(),
                approve,
            ))
        }),
        ("POST", "/sim/operations/disputes") => {
            parse::<OpenDispute>(request).map(|d| reply(open_dispute(shared, &d)))
        }
        _ => Ok(HttpResponse::error(
            404,
            "no such control call; see GET /sim",
        )),
    };
    answered.unwrap_or_else(|e| e)
}

impl crate::Simulator {
    /// Sets where registration notifications and disputes go.
    pub fn set_operations_config(&self, config: OperationsConfig) {
        lock(&self.shared.operations).config = config;
    }

    /// A wallet (`psp`, or every wallet) approves or rejects a registration; each sends its
    /// notifyRegistrationStatus. Returns the wallets that reviewed.
    pub fn review_registration(
        &self,
        registration_request_id: &str,
        psp: Option<&str>,
        approve: bool,
    ) -> Result<Vec<String>, Error> {
        review(&self.shared, registration_request_id, psp, approve)
    }

    /// Opens a retrieval or an escalation against a paid payment and sends it to the
    /// acquirer.
    pub fn open_dispute(&self, ask: &OpenDispute) -> Result<DisputeView, Error> {
        open_dispute(&self.shared, ask)
    }

    /// The registrations, disputes and declarations.
    pub fn operations(&self) -> OperationsView {
        view(&self.shared)
    }
}
