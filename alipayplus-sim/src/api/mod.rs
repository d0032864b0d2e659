//! The Alipay+ APIs the simulator answers: a table of routes by path, one module per API.
//!
//! A route's `serve` takes the verified request body and returns the answer to sign. The
//! [`gateway`](crate::gateway) does everything around it (method, media type, Client-Id,
//! signature, faults, signing). A product adds its APIs by adding modules and a table to
//! [`TABLES`]; Auto Debit, for instance: `apply_token.rs`, `cancel_token.rs`, `prepare.rs`
//! with an `AUTODEBIT` table, its books (tokens, bindings) beside the payments in
//! [`crate::state::Store`], and agreement payments (`paymentFactor.isAgreementPayment`, now
//! answered `INVALID_API` in [`pay`]) charged from the token.

use crate::answer::Route;

mod authorization;
mod cancel;
mod consult;
mod customs;
mod dispute;
mod inquiry;
mod pay;
mod refund;
mod registration;

/// Cashier Payment APIs (and the payment APIs Auto Debit shares).
const CASHIER: &[Route] = &[
    consult::ROUTE,
    pay::ROUTE,
    inquiry::ROUTE,
    cancel::ROUTE,
    refund::ROUTE,
];

/// Auto Debit authorization APIs (agreement pay is answered by the pay route).
const AUTO_DEBIT: &[Route] = &[
    authorization::PREPARE,
    authorization::APPLY_TOKEN,
    authorization::CANCEL_TOKEN,
];

/// Registration, disputes, customs (books in [`crate::operations`]).
const OPERATIONS: &[Route] = &[
    registration::REGISTRATION,
    registration::INQUIRY,
    dispute::RESPONSE_RETRIEVAL,
    dispute::RESPONSE_ESCALATION,
    customs::DECLARE,
    customs::INQUIRE,
];

/// Every route table; a product module appends its own.
const TABLES: &[&[Route]] = &[CASHIER, AUTO_DEBIT, OPERATIONS];

/// The route of a path.
pub(crate) fn find(path: &str) -> Option<&'static Route> {
    TABLES
        .iter()
        .flat_map(|t| t.iter())
        .find(|r| r.path == path)
}

/// Names of every API answered.
pub(crate) fn names() -> Vec<&'static str> {
    TABLES
        .iter()
        .flat_map(|t| t.iter())
        .map(|r| r.name)
        .collect()
}
