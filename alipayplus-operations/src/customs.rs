//! Customs declarations (spec `customs.md`): have AlipayCN push the payment order of a paid
//! AlipayCN payment to China customs, and read the customs' answer.
//!
//! * [`declare_request`] and [`inquire_declarations_request`] build the two calls, validated
//!   before sending (`CNY` only, `referenceOrderId` for split declarations, region `CN`, 1 to
//!   10 distinct ids per inquiry, lengths).
//! * [`DeclarationLedger`] keeps the declared total of one payment against its
//!   `customsDeclarationAmount` (from inquiryPayment: [`declarable_amount`], or notifyPayment:
//!   [`declarable_amount_notified`]). Re-sending the same `customsDeclarationRequestId` is an
//!   update that **replaces** its earlier amount, not an addition (customs.md §1 "declare or
//!   update"). [`DeclarationLedger::check`] refuses a declaration that would exceed the
//!   declarable amount before it is sent; [`DeclarationLedger::on_declare_outcome`] folds the
//!   answer in.
//!
//! Money first: a declaration whose outcome is unknown (`U`, no verified answer) may have been
//! accepted, so the ledger counts it (for an update, the larger of the old and new amounts)
//! until an `S` or `F` settles it.
//!
//! UNCERTAIN readings chosen here (customs.md): `isSplit=false` declares the whole payment as
//! one order under its paymentRequestId, so it is the only declaration of that payment (split
//! and whole declarations do not mix); two split declarations under different ids may not
//! name the same `referenceOrderId` (update the first instead); `customs.region` must be `CN`
//! (the official SDK always sends it); amounts are minor units (fen).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alipayplus_client::client::Outcome;
use alipayplus_client::error::RequestError;
use alipayplus_types::validate::Path;
use alipayplus_types::{
    Amount, Currency, DeclareRequest, DeclareResponse, InquireDeclarationRequestsRequest,
    InquiryPaymentResponse, NotifyPaymentRequest, Problem,
};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The most ids one inquireDeclarationRequests may carry.
pub const MAX_INQUIRY_IDS: usize = 10;

/// Validates a declare request before it is sent: the generated rules (`CNY`, positive amount,
/// `referenceOrderId` when `isSplit` is true, lengths) plus `customs.region` = `CN`.
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn declare_request(request: &DeclareRequest) -> Result<DeclareRequest, RequestError> {
    crate::checked(request, |r, errors| {
        if r.customs.region != "CN" {
            let rule = Problem::Rule("only CN (the customs of the Chinese mainland)");
            errors.push(&Path::ROOT.field("customs").field("region"), rule);
        }
    })
}

/// Builds inquireDeclarationRequests for 1 to 10 distinct `customsDeclarationRequestId`s
/// (read-only; repeat freely).
///
/// # Errors
/// [`RequestError::Invalid`]: no id, more than 10, an empty, too long or repeated id.
pub fn inquire_declarations_request<S: AsRef<str>>(
    ids: &[S],
) -> Result<InquireDeclarationRequestsRequest, RequestError> {
    let list: Vec<String> = ids.iter().map(|s| s.as_ref().to_string()).collect();
    let request = InquireDeclarationRequestsRequest::new(list);
    crate::checked(&request, |r, errors| {
        let path = Path::ROOT.field("declarationRequestIds");
        for (i, id) in r.declaration_request_ids.iter().enumerate() {
            if r.declaration_request_ids
                .get(..i)
                .unwrap_or_default()
                .contains(id)
            {
                errors.push(&path.index(i), Problem::Rule("listed twice"));
            }
        }
    })
}

/// The `customsDeclarationAmount` of a paid payment from its inquiryPayment answer.
///
/// # Errors
/// [`Error::NoDeclarableAmount`] when the inquiry or the payment did not succeed, or the
/// amount is absent or not in CNY.
pub fn declarable_amount(inquiry: &InquiryPaymentResponse) -> Result<Amount, Error> {
    if !inquiry.result.result_status.is_success() {
        return Err(Error::NoDeclarableAmount("the inquiry did not succeed"));
    }
    let paid = inquiry
        .payment_result
        .as_ref()
        .is_some_and(|r| r.result_status.is_success());
    if !paid {
        return Err(Error::NoDeclarableAmount("the payment did not succeed"));
    }
    cny(inquiry.customs_declaration_amount)
}

/// The `customsDeclarationAmount` of a successful notifyPayment (customs.md §2: also returned
/// there; read from the body's unknown fields, as the notification model does not list it).
///
/// # Errors
/// [`Error::NoDeclarableAmount`] when the payment did not succeed, or the amount is absent,
/// malformed or not in CNY.
pub fn declarable_amount_notified(notification: &NotifyPaymentRequest) -> Result<Amount, Error> {
    if !notification.payment_result.result_status.is_success() {
        return Err(Error::NoDeclarableAmount("the payment did not succeed"));
    }
    let amount = notification
        .extra
        .get("customsDeclarationAmount")
        .and_then(|v| serde_json::from_value::<Amount>(v.clone()).ok());
    cny(amount)
}

fn cny(amount: Option<Amount>) -> Result<Amount, Error> {
    match amount {
        None => Err(Error::NoDeclarableAmount(
            "customsDeclarationAmount is absent",
        )),
        Some(a) if a.currency != Currency::CNY => Err(Error::NoDeclarableAmount(
            "customsDeclarationAmount is not in CNY",
        )),
        Some(a) => Ok(a),
    }
}

/// One declaration of the payment, as the ledger counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Declared {
    /// `customsDeclarationRequestId`.
    pub customs_declaration_request_id: String,
    /// `isSplit`.
    pub split: bool,
    /// `referenceOrderId` (split declarations).
    pub reference_order_id: Option<String>,
    /// Amount Alipay+ confirmed (`S`), in fen.
    pub confirmed: Option<u64>,
    /// Amount of an attempt whose outcome is unknown, in fen.
    pub unconfirmed: Option<u64>,
}

impl Declared {
    /// What counts towards the total: the larger of the confirmed and unconfirmed amounts.
    pub fn counted(&self) -> u64 {
        self.confirmed
            .unwrap_or(0)
            .max(self.unconfirmed.unwrap_or(0))
    }
}

/// The declarations of one payment against its `customsDeclarationAmount`
/// (serde-storable).
///
/// ```
/// use alipayplus_operations::customs::DeclarationLedger;
/// use alipayplus_types::{Amount, Currency, DeclareRequest};
///
/// let mut ledger = DeclarationLedger::new("PAY-1", Amount::new(Currency::CNY, 10_000)).unwrap();
/// let body = r#"{"paymentRequestId":"PAY-1","customsDeclarationRequestId":"DCL-1",
///   "customs":{"customsCode":"HANGZHOU","region":"CN"},
///   "merchantCustomsInfo":{"merchantCustomsCode":"C1","merchantCustomsName":"Shop"},
///   "declarationAmount":{"currency":"CNY","value":"6000"},"isSplit":"true","referenceOrderId":"O-1"}"#;
/// let first: DeclareRequest = serde_json::from_str(body).unwrap();
/// assert_eq!(ledger.check(&first).unwrap().minor(), 6000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationLedger {
    payment_request_id: String,
    limit: Amount,
    declarations: Vec<Declared>,
}

impl DeclarationLedger {
    /// The ledger of `payment_request_id`, whose `customsDeclarationAmount` is `limit`.
    ///
    /// # Errors
    /// [`Error::NoDeclarableAmount`] when `limit` is not in CNY.
    pub fn new(payment_request_id: impl Into<String>, limit: Amount) -> Result<Self, Error> {
        Ok(DeclarationLedger {
            payment_request_id: payment_request_id.into(),
            limit: cny(Some(limit))?,
            declarations: Vec::new(),
        })
    }

    /// The payment.
    pub fn payment_request_id(&self) -> &str {
        &self.payment_request_id
    }

    /// The payment's `customsDeclarationAmount`.
    pub fn limit(&self) -> Amount {
        self.limit
    }

    /// The declared total (unknown outcomes counted).
    pub fn total(&self) -> Amount {
        let sum = self.declarations.iter().map(Declared::counted).sum();
        Amount::new(Currency::CNY, sum)
    }

    /// What may still be declared.
    pub fn remaining(&self) -> Amount {
        Amount::new(
            Currency::CNY,
            self.limit.minor().saturating_sub(self.total().minor()),
        )
    }

    /// The declarations.
    pub fn declarations(&self) -> &[Declared] {
        &self.declarations
    }

    /// Checks `request` before it is sent (validation: [`declare_request`]) and returns the
    /// total it would make. The same `customsDeclarationRequestId` as an earlier declaration
    /// is an update: its amount replaces the earlier one.
    ///
    /// # Errors
    /// [`Error::Request`] (validation), [`Error::OtherPayment`], [`Error::SplitRule`],
    /// [`Error::DeclarationAboveLimit`].
    pub fn check(&self, request: &DeclareRequest) -> Result<Amount, Error> {
        declare_request(request)?;
        if request.payment_request_id != self.payment_request_id {
            return Err(Error::OtherPayment {
                expected: self.payment_request_id.clone(),
                found: request.payment_request_id.clone(),
            });
        }
        let id = &request.customs_declaration_request_id;
        let others: Vec<&Declared> = self
            .declarations
            .iter()
            .filter(|d| d.customs_declaration_request_id != *id)
            .collect();
        let split = request.is_split.0;
        if !split && !others.is_empty() {
            return Err(Error::SplitRule(
                "a whole-payment declaration (isSplit=false) must be the payment's only declaration",
            ));
        }
        if others.iter().any(|d| !d.split) {
            return Err(Error::SplitRule(
                "the payment is declared whole (isSplit=false): no other declaration may be added",
            ));
        }
        let same_order = request.reference_order_id.as_ref().is_some_and(|o| {
            others
                .iter()
                .any(|d| d.reference_order_id.as_ref() == Some(o))
        });
        if split && same_order {
            return Err(Error::SplitRule(
                "this referenceOrderId is declared under another customsDeclarationRequestId: update that one (same id) instead",
            ));
        }
        let rest: u64 = others.iter().map(|d| d.counted()).sum();
        let asked = request.declaration_amount;
        let total = Amount::new(Currency::CNY, rest.saturating_add(asked.minor()));
        if total.minor() > self.limit.minor() {
            return Err(Error::DeclarationAboveLimit {
                payment_request_id: self.payment_request_id.clone(),
                amount: asked,
                total,
                limit: self.limit,
            });
        }
        Ok(total)
    }

    /// Folds the answer to `request` in: `S` confirms its amount (replacing an earlier one
    /// under the same id), `F` leaves what was there before, an unknown outcome counts it
    /// until settled (send the same request again, or inquire).
    pub fn on_declare_outcome(
        &mut self,
        request: &DeclareRequest,
        outcome: &Outcome<DeclareResponse>,
    ) {
        if request.payment_request_id != self.payment_request_id {
            return;
        }
        let id = &request.customs_declaration_request_id;
        let amount = request.declaration_amount.minor();
        let index = self
            .declarations
            .iter()
            .position(|d| d.customs_declaration_request_id == *id);
        let entry = match index {
            Some(i) => self.declarations.get_mut(i),
            None if outcome.is_failure() => return,
            None => {
                self.declarations.push(Declared {
                    customs_declaration_request_id: id.clone(),
                    split: request.is_split.0,
                    reference_order_id: request.reference_order_id.clone(),
                    confirmed: None,
                    unconfirmed: None,
                });
                self.declarations.last_mut()
            }
        };
        let Some(entry) = entry else { return };
        match outcome {
            Outcome::Success(_) => {
                entry.confirmed = Some(amount);
                entry.unconfirmed = None;
                entry.split = request.is_split.0;
                entry.reference_order_id = request.reference_order_id.clone();
            }
            Outcome::Failure(_) => entry.unconfirmed = None,
            _ => entry.unconfirmed = Some(amount),
        }
        self.declarations
            .retain(|d| d.confirmed.is_some() || d.unconfirmed.is_some());
    }
}
