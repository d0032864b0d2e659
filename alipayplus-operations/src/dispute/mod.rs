//! Disputes (spec `dispute.md`): a wallet (MPP) opens a retrieval (request for information)
//! or an escalation (chargeback-like); Alipay+ forwards it with the inbound initiateRetrieval /
//! initiateEscalation, the acquirer acknowledges at once and answers later with
//! responseRetrieval / responseEscalation.
//!
//! Receiving, sans-IO so it fits any storage, blocking or async:
//!
//! 1. [`handle_initiate_retrieval`] / [`handle_initiate_escalation`] verify the signature and
//!    parse: a [`DisputeDelivery`] holding the typed [`Dispute`] (or a refusal);
//! 2. the caller looks up what it stored under [`Dispute::store_key`] (kind and
//!    `disputeRequestId`, the idempotency key, common §3.3);
//! 3. the pure [`decide`] says [`Decision::New`] (store it, act on it),
//!    [`Decision::Duplicate`] (same `paymentRequestId`: acknowledged again, reported once) or
//!    [`Decision::Conflict`] (another `paymentRequestId`: answered `F`
//!    `REPEAT_REQ_INCONSISTENT`, dispute.md §3, §5);
//! 4. the delivery's [`Deferred`] answer, completed with [`Decision::verdict`], is the signed
//!    answer: `delivery.answer.complete(config, decision.verdict())`.
//!
//! [`MemoryDisputeStore`] does 2–4 in memory for tests and examples.
//!
//! Answering: [`checked_response_retrieval`] and [`checked_response_escalation`] check the
//! answer against the dispute it answers before anything is sent: the id, the evidence shapes
//! and, for an escalation, the refund (not above `escalationAmount`, in the payment's currency,
//! present exactly when the decision needs one).
//!
//! UNCERTAIN readings chosen here (dispute.md): retrieval and escalation ids are separate key
//! spaces (two APIs, each with its own idempotency key); a repeated id with the same
//! `paymentRequestId` but another `escalationAmount` is a duplicate (the spec checks only the
//! payment) and the first stored dispute stays the reference; with `ACCEPT_REFUND` a
//! `refundAmount`, when sent, must equal `escalationAmount`; with `REFUSE_REFUND` neither
//! `refundAmount` nor `plannedRefundTime` is sent; an attachment carries `content` or `file`
//! and one of the dispute attachment types.

mod store;

use alloc::string::String;

use alipayplus_client::error::RequestError;
use alipayplus_client::inbound::{Accepted, Deferred, Handled, Refusal};
use alipayplus_client::{ClientConfig, Request};

#[cfg(doc)]
use alipayplus_client::inbound::Refused;
use alipayplus_types::validate::Path;
use alipayplus_types::{
    Amount, Currency, DateTime, InitiateEscalationRequest, InitiateRetrievalRequest, Problem,
    RefundType, ResponseEscalationRequest, ResponseRetrievalRequest, ValidationErrors,
};
use serde::{Deserialize, Serialize};

pub use store::{MemoryDisputeStore, Received};

/// The `resultCode` answered to a `disputeRequestId` reused for another payment.
pub const REPEAT_REQ_INCONSISTENT: &str = "REPEAT_REQ_INCONSISTENT";

/// Which inbound dispute API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DisputeKind {
    /// initiateRetrieval: the wallet asks for information (answer with responseRetrieval).
    Retrieval,
    /// initiateEscalation: the wallet escalates (answer with responseEscalation).
    Escalation,
}

impl DisputeKind {
    /// The inbound API name.
    pub fn api(self) -> &'static str {
        match self {
            DisputeKind::Retrieval => "initiateRetrieval",
            DisputeKind::Escalation => "initiateEscalation",
        }
    }
}

/// A dispute as received: what to store under [`Dispute::store_key`] (serde-storable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Dispute {
    /// Retrieval or escalation.
    pub kind: DisputeKind,
    /// `disputeRequestId` (Alipay+'s; echo it in the response call).
    pub dispute_request_id: String,
    /// `paymentRequestId` of our disputed payment.
    pub payment_request_id: String,
    /// `paymentId` (Alipay+'s), when sent.
    pub payment_id: Option<String>,
    /// `disputeOccurTime`, when sent.
    pub dispute_occur_time: Option<DateTime>,
    /// `escalationAmount` (escalations): the upper bound of a refund.
    pub escalation_amount: Option<Amount>,
}

impl Dispute {
    /// The dispute of an initiateRetrieval body.
    pub fn retrieval(body: &InitiateRetrievalRequest) -> Self {
        Dispute {
            kind: DisputeKind::Retrieval,
            dispute_request_id: body.dispute_request_id.clone(),
            payment_request_id: body.payment_request_id.clone(),
            payment_id: body.payment_id.clone(),
            dispute_occur_time: Some(body.dispute_occur_time.clone()),
            escalation_amount: None,
        }
    }

    /// The dispute of an initiateEscalation body.
    pub fn escalation(body: &InitiateEscalationRequest) -> Self {
        Dispute {
            kind: DisputeKind::Escalation,
            dispute_request_id: body.dispute_request_id.clone(),
            payment_request_id: body.payment_request_id.clone(),
            payment_id: body.payment_id.clone(),
            dispute_occur_time: body.dispute_occur_time.clone(),
            escalation_amount: Some(body.escalation_amount),
        }
    }

    /// Where to store and look it up: kind and `disputeRequestId`.
    pub fn store_key(&self) -> (DisputeKind, &str) {
        (self.kind, &self.dispute_request_id)
    }
}

/// What to do with a delivery, given what was stored under its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Decision {
    /// Not seen before: store it, act on it, acknowledge.
    New,
    /// The same `disputeRequestId` and `paymentRequestId` again: acknowledge again, do not act
    /// again.
    Duplicate,
    /// The same `disputeRequestId` with another `paymentRequestId`: answer `F`
    /// `REPEAT_REQ_INCONSISTENT`, keep what is stored.
    Conflict {
        /// The payment the stored dispute is about.
        stored_payment_request_id: String,
    },
}

/// The pure decision on a delivery (`stored`: what the caller found under
/// [`Dispute::store_key`]).
pub fn decide(incoming: &Dispute, stored: Option<&Dispute>) -> Decision {
    match stored {
        None => Decision::New,
        Some(s) if s.payment_request_id == incoming.payment_request_id => Decision::Duplicate,
        Some(s) => Decision::Conflict {
            stored_payment_request_id: s.payment_request_id.clone(),
        },
    }
}

impl Decision {
    /// What the answer says for this decision: acknowledged (`Ok`) for a new or duplicate
    /// dispute, refused with `F` / `REPEAT_REQ_INCONSISTENT` for a conflict. Complete the
    /// delivery's [`Deferred`] answer with it.
    pub fn verdict(&self) -> Result<(), Refusal> {
        match self {
            Decision::New | Decision::Duplicate => Ok(()),
            Decision::Conflict { .. } => Err(Refusal::new(
                REPEAT_REQ_INCONSISTENT,
                "this disputeRequestId was received for another paymentRequestId",
            )),
        }
    }
}

/// What a verified initiateRetrieval / initiateEscalation says: the dispute and the body as
/// received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DisputeNotice {
    /// The dispute.
    pub dispute: Dispute,
    /// The body as received (unknown fields kept: reason, deadline, ...).
    pub request: serde_json::Value,
}

/// A verified initiateRetrieval / initiateEscalation waiting for the decision: the client
/// core's [`Accepted`] of a [`DisputeNotice`] with a [`Deferred`] answer, completed by
/// `delivery.answer.complete(config, decision.verdict())`.
pub type DisputeDelivery = Accepted<DisputeNotice, Deferred>;

/// Verifies and parses an initiateRetrieval received at any URL (the inbound handler shape
/// of [`alipayplus_client::inbound`]); the answer waits for the [`decide`] decision.
///
/// # Errors
/// [`Refused`] with the refusal to send back, unsigned when the caller is not verified (see
/// [`alipayplus_client::inbound`]).
pub fn handle_initiate_retrieval(
    config: &ClientConfig,
    request: &Request,
) -> Handled<DisputeNotice, Deferred> {
    let accepted = config.accept_inbound_deferred::<InitiateRetrievalRequest>(request)?;
    let dispute = Dispute::retrieval(&accepted.body);
    Ok(notice(dispute, request, accepted))
}

/// Verifies and parses an initiateEscalation received at any URL (the inbound handler shape
/// of [`alipayplus_client::inbound`]); the answer waits for the [`decide`] decision.
///
/// # Errors
/// [`Refused`] with the refusal to send back, unsigned when the caller is not verified (see
/// [`alipayplus_client::inbound`]).
pub fn handle_initiate_escalation(
    config: &ClientConfig,
    request: &Request,
) -> Handled<DisputeNotice, Deferred> {
    let accepted = config.accept_inbound_deferred::<InitiateEscalationRequest>(request)?;
    let dispute = Dispute::escalation(&accepted.body);
    Ok(notice(dispute, request, accepted))
}

fn notice<N>(
    dispute: Dispute,
    request: &Request,
    accepted: Accepted<N, Deferred>,
) -> DisputeDelivery {
    // The body parsed as the typed request just above, so it is JSON.
    let body = serde_json::from_slice(&request.body).unwrap_or(serde_json::Value::Null);
    accepted.map(|_| DisputeNotice {
        dispute,
        request: body,
    })
}

/// Checks a responseRetrieval against `retrieval` (the dispute stored when it came: the id and
/// kind) and every rule of the request ([`check_response_retrieval`]), and clones it.
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn checked_response_retrieval(
    request: &ResponseRetrievalRequest,
    retrieval: &Dispute,
) -> Result<ResponseRetrievalRequest, RequestError> {
    crate::checked(request, |r, errors| {
        answers(
            &r.dispute_request_id,
            retrieval,
            DisputeKind::Retrieval,
            errors,
        );
    })
}

/// Validates a responseRetrieval on its own, when the stored retrieval is not at hand: the
/// generated rules, a known `responseCode` and the evidence shapes.
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn check_response_retrieval(
    request: &ResponseRetrievalRequest,
) -> Result<ResponseRetrievalRequest, RequestError> {
    crate::checked(request, |_, _| {})
}

/// Checks a responseEscalation against `escalation` (the dispute stored when it came) for a
/// payment in `payment_currency`: the id and kind, the refund bound of dispute.md §6 (not
/// above `escalationAmount`, in the payment's currency), plus every rule of the request
/// ([`check_response_escalation`]), and clones it.
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn checked_response_escalation(
    request: &ResponseEscalationRequest,
    escalation: &Dispute,
    payment_currency: Currency,
) -> Result<ResponseEscalationRequest, RequestError> {
    crate::checked(request, |r, errors| {
        answers(
            &r.dispute_request_id,
            escalation,
            DisputeKind::Escalation,
            errors,
        );
        refund(r, escalation, payment_currency, errors);
    })
}

/// Validates a responseEscalation on its own, when the stored escalation is not at hand: the
/// generated rules (`refundAmount` for `ACCEPT_PARTIAL_REFUND`, lengths), a known
/// `refundType`, no refund with `REFUSE_REFUND`, and the evidence shapes. The refund bound
/// needs the escalation: prefer [`checked_response_escalation`].
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn check_response_escalation(
    request: &ResponseEscalationRequest,
) -> Result<ResponseEscalationRequest, RequestError> {
    crate::checked(request, |_, _| {})
}

fn answers(id: &str, dispute: &Dispute, kind: DisputeKind, errors: &mut ValidationErrors) {
    let path = Path::ROOT.field("disputeRequestId");
    if dispute.kind != kind {
        let rule = match kind {
            DisputeKind::Retrieval => "the dispute given is an escalation, not a retrieval",
            DisputeKind::Escalation => "the dispute given is a retrieval, not an escalation",
        };
        errors.push(&path, Problem::Rule(rule));
    }
    if id != dispute.dispute_request_id {
        errors.push(
            &path,
            Problem::Rule("not the disputeRequestId of the dispute answered"),
        );
    }
}

/// The refund against the escalation: bound, full-refund amount, currency.
fn refund(
    r: &ResponseEscalationRequest,
    escalation: &Dispute,
    currency: Currency,
    errors: &mut ValidationErrors,
) {
    let path = Path::ROOT.field("refundAmount");
    let Some(limit) = escalation.escalation_amount else {
        let rule = Problem::Rule("the escalation has no escalationAmount to bound the refund");
        errors.push(&path, rule);
        return;
    };
    let accepting = matches!(
        r.refund_type,
        RefundType::AcceptRefund | RefundType::AcceptPartialRefund
    );
    if let Some(a) = r.refund_amount.filter(|_| accepting) {
        if r.refund_type == RefundType::AcceptRefund && a.minor() != limit.minor() {
            let rule = Problem::Rule(
                "a full refund is the escalationAmount; use ACCEPT_PARTIAL_REFUND for less",
            );
            errors.push(&path, rule);
        } else if a.minor() > limit.minor() {
            let problem = Problem::AboveMaximum {
                max: limit.minor(),
                actual: a.minor(),
            };
            errors.push(&path.field("value"), problem);
        }
        if a.currency != currency {
            let problem = Problem::CurrencyMismatch {
                expected: currency,
                actual: a.currency,
            };
            errors.push(&path.field("currency"), problem);
        }
    }
    if accepting && limit.currency != currency {
        let rule = Problem::Rule(
            "the escalationAmount is in another currency than the payment: check the escalation with Alipay+",
        );
        errors.push(&path, rule);
    }
}
