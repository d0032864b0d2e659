//! Customs declarations (spec `customs.md`): have AlipayCN push the payment order of a paid
//! AlipayCN payment to China customs, and read the customs' answer.
//!
//! * [`checked_declare`] checks a declare request (and clones it), [`inquire_declarations_request`]
//!   builds an inquiry from its ids; the rules are the requests' own, checked again by every
//!   send (`CNY` only, `referenceOrderId` for split declarations, region `CN`, 1 to 10 distinct
//!   ids per inquiry, lengths).
//! * [`DeclarationLedger`] keeps the declared total of one payment against its
//!   `customsDeclarationAmount` (from inquiryPayment: [`declarable_amount`], or notifyPayment:
//!   [`declarable_amount_notified`]). Re-sending the same `customsDeclarationRequestId` is an
//!   update that **replaces** its earlier amount, not an addition (customs.md §1 "declare or
//!   update"). [`DeclarationLedger::check`] refuses a declaration that would exceed the
//!   declarable amount before it is sent, [`DeclarationLedger::record_send`] checks it and
//!   stores the attempt before it leaves, [`DeclarationLedger::on_declare_outcome`] and
//!   [`DeclarationLedger::on_inquiry_outcome`] fold the answers in.
//!
//! [`DeclareFollowUp`] follows one declaration to a verified answer on the shape of every
//! follow-up: `poll` records the send (in the ledger and the same-bytes state) before it is
//! returned, the stored body goes again unchanged under its `customsDeclarationRequestId`
//! after an answer that proves nothing (`U`, a timeout, no verified response), until `S`, a
//! verified `F` or the run's bound; its stored [`DeclareState`] resumes alone.
//!
//! Money first: every attempt without a verified answer about the declaration may stand, so
//! the ledger keeps each such amount ([`Declared::unsettled`]) and counts the highest of them
//! (and the confirmed one) until a verified answer about that declaration settles it:
//!
//! * `S` to an attempt confirms its amount;
//! * `F` whose code speaks about the declaration
//!   ([`CodeAbout::Subject`](alipayplus_types::CodeAbout), marked in `spec/api/customs.toml`:
//!   `TOTAL_DECLARATION_AMOUNT_EXCEED`, `ORDER_NOT_EXIST`, `ORDER_STATUS_INVALID`) says that
//!   attempt did not apply; any other `F` (`SYSTEM_ERROR`, `PARAM_ILLEGAL`,
//!   `REPEAT_REQ_INCONSISTENT`, an unknown code) only says that request was refused and settles
//!   nothing, like `U` or no verified answer;
//! * an inquireDeclarationRequests answer: a record gives the amount that stands, a "not found"
//!   says nothing stands. Either settles only the attempts that can no longer land, those sent
//!   at least [`LedgerPolicy::in_flight`] + [`LedgerPolicy::late_landing_margin`] before the
//!   inquiry was **sent** (the payment tracker's rule for `ORDER_NOT_EXIST`, judged by the send
//!   time: a slow answer does not shorten the margin). `S` settles older attempts of other
//!   amounts by the same rule.
//!
//! UNCERTAIN readings chosen here (customs.md): `isSplit=false` declares the whole payment as
//! one order under its paymentRequestId, so it is the only declaration of that payment (split
//! and whole declarations do not mix); two split declarations under different ids may not
//! name the same `referenceOrderId` (update the first instead); `customs.region` must be `CN`
//! (the official SDK always sends it); amounts are minor units (fen); attempts are processed in
//! the order they arrive, so an attempt that can no longer land was replaced by whatever stands
//! after it; a "not found" after an `S` is a contradiction and the confirmed amount keeps
//! counting.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::future::Future;
use core::time::Duration;

use alipayplus_client::client::{Client, Outcome};
use alipayplus_client::error::RequestError;
use alipayplus_client::follow::{self, FollowUp, Limit, Polled};
use alipayplus_client::resend::{Action, Call, Final, ResendPolicy, ResendState, Resender, Update};
use alipayplus_client::tracker::{CallTimes, TrackerPolicy};
use alipayplus_client::transport::Transport;
use alipayplus_client::transport_async::AsyncTransport;
use alipayplus_types::{
    Amount, CodeAbout, Currency, DeclareRequest, DeclareResponse,
    InquireDeclarationRequestsRequest, InquireDeclarationRequestsResponse, InquiryPaymentResponse,
    NotifyPaymentRequest, ResultCode, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The most ids one inquireDeclarationRequests may carry.
pub const MAX_INQUIRY_IDS: usize = 10;

/// Checks a declare request and clones it: every rule of declare (`CNY`, positive amount,
/// `referenceOrderId` when `isSplit` is true, lengths, `customs.region` = `CN`), the same
/// rules `Client::call` checks before sending.
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn checked_declare(request: &DeclareRequest) -> Result<DeclareRequest, RequestError> {
    crate::checked(request, |_, _| {})
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
    crate::checked(&request, |_, _| {})
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

/// One attempt of a declaration that got no verified answer about the declaration: its amount
/// may stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// `declarationAmount`, in fen.
    pub amount: u64,
    /// When it was (last) sent.
    pub sent_at: Timestamp,
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
    /// Amount Alipay+ confirmed (`S`, or an inquiry record), in fen.
    pub confirmed: Option<u64>,
    /// Attempts not settled yet, one per amount (the latest send of it): each may stand.
    pub unsettled: Vec<Attempt>,
}

impl Declared {
    /// What counts towards the total: the highest of the confirmed and unsettled amounts.
    pub fn counted(&self) -> u64 {
        self.unsettled
            .iter()
            .map(|a| a.amount)
            .fold(self.confirmed.unwrap_or(0), u64::max)
    }

    /// Whether an attempt is unsettled (inquire it: [`DeclarationLedger::unsettled_ids`]).
    pub fn is_unsettled(&self) -> bool {
        !self.unsettled.is_empty()
    }

    fn add_attempt(&mut self, amount: u64, sent_at: Timestamp) {
        match self.unsettled.iter_mut().find(|a| a.amount == amount) {
            Some(a) => a.sent_at = a.sent_at.max(sent_at),
            None => self.unsettled.push(Attempt { amount, sent_at }),
        }
    }

    /// Settles the attempts that can no longer land after a call sent at `asked_at`.
    fn settle_landed(&mut self, asked_at: Timestamp, window: Duration) {
        self.unsettled.retain(|a| a.sent_at + window > asked_at);
    }
}

/// How long a declare may still land after it was sent (defaults: the payment tracker's
/// [`TrackerPolicy::pay_in_flight`] and [`TrackerPolicy::late_landing_margin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LedgerPolicy {
    /// The longest a declare takes from being sent to being answered or abandoned: your
    /// transport's whole-request timeout.
    pub in_flight: Duration,
    /// Beyond that, how long a declare still travelling (queued in a proxy, retried by a
    /// gateway) may land.
    pub late_landing_margin: Duration,
}

impl Default for LedgerPolicy {
    fn default() -> Self {
        let tracker = TrackerPolicy::cashier();
        LedgerPolicy {
            in_flight: tracker.pay_in_flight,
            late_landing_margin: tracker.late_landing_margin,
        }
    }
}

impl LedgerPolicy {
    /// The policy with these durations.
    pub fn new(in_flight: Duration, late_landing_margin: Duration) -> Self {
        LedgerPolicy {
            in_flight,
            late_landing_margin,
        }
    }

    fn window(&self) -> Duration {
        self.in_flight.saturating_add(self.late_landing_margin)
    }
}

/// The declarations of one payment against its `customsDeclarationAmount`
/// (serde-storable). Store it after [`DeclarationLedger::record_send`], before sending.
///
/// ```
/// use alipayplus_client::client::Outcome;
/// use alipayplus_operations::customs::DeclarationLedger;
/// use alipayplus_types::{Amount, Currency, DeclareRequest, DeclareResponse, Timestamp};
///
/// # fn send(_: &DeclareRequest) -> Outcome<DeclareResponse> { unimplemented!() }
/// let mut ledger = DeclarationLedger::new("PAY-1", Amount::new(Currency::CNY, 10_000)).unwrap();
/// let body = r#"{"paymentRequestId":"PAY-1","customsDeclarationRequestId":"DCL-1",
///   "customs":{"customsCode":"HANGZHOU","region":"CN"},
///   "merchantCustomsInfo":{"merchantCustomsCode":"C1","merchantCustomsName":"Shop"},
///   "declarationAmount":{"currency":"CNY","value":"6000"},"isSplit":"true","referenceOrderId":"O-1"}"#;
/// let first: DeclareRequest = serde_json::from_str(body).unwrap();
/// assert_eq!(ledger.check(&first).unwrap().minor(), 6000);
/// let sent_at = Timestamp::from_unix_secs(1_750_000_000);
/// ledger.record_send(&first, sent_at).unwrap();
/// // store the ledger, then send; fold the answer in:
/// # if false {
/// let outcome = send(&first);
/// ledger.on_declare_outcome(&first, sent_at, Timestamp::from_unix_secs(1_750_000_001), &outcome);
/// # }
/// assert_eq!(ledger.total().minor(), 6000, "counted until settled");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationLedger {
    payment_request_id: String,
    limit: Amount,
    declarations: Vec<Declared>,
    #[serde(default)]
    policy: LedgerPolicy,
}

impl DeclarationLedger {
    /// The ledger of `payment_request_id`, whose `customsDeclarationAmount` is `limit`, with
    /// the default [`LedgerPolicy`].
    ///
    /// # Errors
    /// [`Error::NoDeclarableAmount`] when `limit` is not in CNY.
    pub fn new(payment_request_id: impl Into<String>, limit: Amount) -> Result<Self, Error> {
        Ok(DeclarationLedger {
            payment_request_id: payment_request_id.into(),
            limit: cny(Some(limit))?,
            declarations: Vec::new(),
            policy: LedgerPolicy::default(),
        })
    }

    /// The ledger with another [`LedgerPolicy`] (use your transport's timeout as
    /// [`LedgerPolicy::in_flight`]).
    pub fn with_policy(mut self, policy: LedgerPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The payment.
    pub fn payment_request_id(&self) -> &str {
        &self.payment_request_id
    }

    /// The payment's `customsDeclarationAmount`.
    pub fn limit(&self) -> Amount {
        self.limit
    }

    /// The declared total (every unsettled amount counted at its highest).
    pub fn total(&self) -> Amount {
        let sum = self
            .declarations
            .iter()
            .map(Declared::counted)
            .fold(0u64, u64::saturating_add);
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

    /// The declarations with an unsettled attempt: inquire them
    /// ([`inquire_declarations_request`], at most [`MAX_INQUIRY_IDS`] per call) and fold the
    /// answer in with [`DeclarationLedger::on_inquiry_outcome`].
    pub fn unsettled_ids(&self) -> Vec<&str> {
        self.declarations
            .iter()
            .filter(|d| d.is_unsettled())
            .map(|d| d.customs_declaration_request_id.as_str())
            .collect()
    }

    /// Checks `request` before it is sent (validation: [`checked_declare`]) and returns the
    /// total it would make. The same `customsDeclarationRequestId` as an earlier declaration
    /// is an update: its amount replaces the earlier one (both count until it is settled).
    ///
    /// # Errors
    /// [`Error::Request`] (validation), [`Error::OtherPayment`], [`Error::SplitRule`],
    /// [`Error::DeclarationAboveLimit`].
    pub fn check(&self, request: &DeclareRequest) -> Result<Amount, Error> {
        checked_declare(request)?;
        if request.payment_request_id != self.payment_request_id {
            return Err(Error::OtherPayment {
                expected: self.payment_request_id.clone(),
                found: request.payment_request_id.clone(),
            });
        }
        let id = &request.customs_declaration_request_id;
        let (same, others): (Vec<&Declared>, Vec<&Declared>) = self
            .declarations
            .iter()
            .partition(|d| d.customs_declaration_request_id == *id);
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
        let rest = others
            .iter()
            .map(|d| d.counted())
            .fold(0u64, u64::saturating_add);
        let asked = request.declaration_amount;
        // An update replaces the amount once it is settled; until then the earlier unsettled
        // amounts of the same id may still stand instead.
        let mine = same
            .iter()
            .flat_map(|d| d.unsettled.iter().map(|a| a.amount))
            .fold(asked.minor(), u64::max);
        let total = Amount::new(Currency::CNY, rest.saturating_add(mine));
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

    /// Checks `request` ([`DeclarationLedger::check`]) and records it as sent at `sent_at`:
    /// from now on its amount counts until a verified answer settles it. Call it, store the
    /// ledger, then send (a crash between the send and the answer then loses nothing).
    ///
    /// # Errors
    /// As [`DeclarationLedger::check`]; nothing is recorded.
    pub fn record_send(
        &mut self,
        request: &DeclareRequest,
        sent_at: Timestamp,
    ) -> Result<Amount, Error> {
        let total = self.check(request)?;
        self.entry(request)
            .add_attempt(request.declaration_amount.minor(), sent_at);
        Ok(total)
    }

    /// Folds the answer to `request` (sent at `sent_at`, answered at `answered_at`) in: `S`
    /// confirms its amount (replacing an earlier one under the same id); `F` about the
    /// declaration settles this attempt as not applied; anything else (`U`, no verified answer,
    /// `F` about the request only) keeps its amount counted until settled (send the same
    /// request again, or inquire).
    pub fn on_declare_outcome(
        &mut self,
        request: &DeclareRequest,
        sent_at: Timestamp,
        answered_at: Timestamp,
        outcome: &Outcome<DeclareResponse>,
    ) {
        let _ = answered_at; // the send time decides; kept for the shape of every answer
        if request.payment_request_id != self.payment_request_id {
            return;
        }
        let amount = request.declaration_amount.minor();
        let about_declaration = match outcome {
            Outcome::Failure(reply) => reply.body.result.result_code.about() == CodeAbout::Subject,
            _ => false,
        };
        let window = self.policy.window();
        match outcome {
            Outcome::Success(_) => {
                let entry = self.entry(request);
                entry.confirmed = Some(amount);
                entry.split = request.is_split.0;
                entry.reference_order_id = request.reference_order_id.clone();
                entry.unsettled.retain(|a| a.amount != amount);
                entry.settle_landed(sent_at, window);
            }
            Outcome::Failure(_) if about_declaration => {
                let id = &request.customs_declaration_request_id;
                if let Some(entry) = self
                    .declarations
                    .iter_mut()
                    .find(|d| d.customs_declaration_request_id == *id)
                {
                    entry
                        .unsettled
                        .retain(|a| a.amount != amount || a.sent_at > sent_at);
                }
            }
            _ => self.entry(request).add_attempt(amount, sent_at),
        }
        self.forget_settled();
    }

    /// Folds an inquireDeclarationRequests answer in (the inquiry sent at `sent_at`, answered
    /// at `answered_at`; only a verified `S` tells anything). A record of one of this payment's
    /// declarations confirms the amount that stands; a record or a "not found" settles the
    /// attempts sent at least [`LedgerPolicy::in_flight`] +
    /// [`LedgerPolicy::late_landing_margin`] before the inquiry was sent. Ids this ledger does
    /// not hold are ignored.
    pub fn on_inquiry_outcome(
        &mut self,
        sent_at: Timestamp,
        answered_at: Timestamp,
        outcome: &Outcome<InquireDeclarationRequestsResponse>,
    ) {
        let _ = answered_at; // judged by the send time (see the module docs)
        let Outcome::Success(reply) = outcome else {
            return;
        };
        let window = self.policy.window();
        for record in reply
            .body
            .declaration_records
            .as_deref()
            .unwrap_or_default()
        {
            let Some(id) = &record.customs_declaration_request_id else {
                continue;
            };
            let Some(entry) = self.find_mut(id) else {
                continue;
            };
            let amount = record
                .declaration_amount
                .filter(|a| a.currency == Currency::CNY)
                .map(|a| a.minor());
            if let Some(amount) = amount {
                entry.confirmed = Some(amount);
                entry.unsettled.retain(|a| a.amount != amount);
            }
            entry.settle_landed(sent_at, window);
        }
        for id in reply
            .body
            .declaration_requests_not_found
            .as_deref()
            .unwrap_or_default()
        {
            if let Some(entry) = self.find_mut(id) {
                entry.settle_landed(sent_at, window);
            }
        }
        self.forget_settled();
    }

    fn find_mut(&mut self, id: &str) -> Option<&mut Declared> {
        self.declarations
            .iter_mut()
            .find(|d| d.customs_declaration_request_id == id)
    }

    /// The entry of `request`'s id, created if absent.
    fn entry(&mut self, request: &DeclareRequest) -> &mut Declared {
        let id = &request.customs_declaration_request_id;
        let index = match self
            .declarations
            .iter()
            .position(|d| d.customs_declaration_request_id == *id)
        {
            Some(i) => i,
            None => {
                self.declarations.push(Declared {
                    customs_declaration_request_id: id.clone(),
                    split: request.is_split.0,
                    reference_order_id: request.reference_order_id.clone(),
                    confirmed: None,
                    unsettled: Vec::new(),
                });
                self.declarations.len() - 1
            }
        };
        &mut self.declarations[index]
    }

    fn forget_settled(&mut self) {
        self.declarations
            .retain(|d| d.confirmed.is_some() || d.is_unsettled());
    }
}

/// Everything needed to resume a [`DeclareFollowUp`]: the payment's ledger and the same-bytes
/// state of the declaration (its exact body). Store it after each `poll` that returns a send
/// (before sending) and after each answer. `Debug` redacts the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclareState {
    ledger: DeclarationLedger,
    resend: ResendState,
}

impl DeclareState {
    /// The state as bytes to store (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A state stored with [`DeclareState::to_bytes`].
    ///
    /// # Errors
    /// [`RequestError::StoredState`] when the bytes are not a stored state.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        serde_json::from_slice(bytes).map_err(|e| RequestError::StoredState(e.to_string()))
    }

    /// The payment's ledger.
    pub fn ledger(&self) -> &DeclarationLedger {
        &self.ledger
    }

    /// The declaration's same-bytes state.
    pub fn resend(&self) -> &ResendState {
        &self.resend
    }
}

/// How a run of a [`DeclareFollowUp`] ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeclareFollowed {
    /// The final state; `None` when the run reached its [`Limit`] first: unresolved, keep
    /// following (the amount keeps counting in the ledger).
    pub final_state: Option<Final>,
    /// The last verified declare answer, if any.
    pub response: Option<DeclareResponse>,
    /// `customsDeclarationRequestId` of every attempt.
    pub customs_declaration_request_id: String,
    /// Attempts issued (always the same body).
    pub attempts: u32,
    /// Where it stands: store it while [`DeclareFollowed::keep_following`] and resume with
    /// [`DeclareFollowUp::resume`].
    pub state: DeclareState,
}

impl DeclareFollowed {
    /// Unresolved, keep following: the run returned before a final state.
    pub fn keep_following(&self) -> bool {
        self.final_state.is_none()
    }
}

/// The same-bytes follow-up of one declaration of a payment, with the payment's
/// [`DeclarationLedger`]: the declare body is sent unchanged under its
/// `customsDeclarationRequestId` until `S`, a verified `F` or the run's [`Limit`] (the shape of
/// every follow-up: [`Resender`], the payment follower).
///
/// * [`DeclareFollowUp::poll`] records each send in the ledger (the amount counts from then
///   on) and in the same-bytes state **before** it returns it: store
///   [`DeclareFollowUp::state`], then send.
/// * Answers fold into both ([`DeclareFollowUp::on_answer`]): `S` confirms the amount, an `F`
///   about the declaration settles the attempt, anything else keeps it counted and the same
///   bytes go again after a back-off. An `F` ends the follow-up; whether it proves the
///   declaration was not applied: [`Final::proves_not_applied`] (the ledger keeps an
///   unproven amount counted until an inquiry settles it).
/// * [`DeclareFollowUp::run`] / [`DeclareFollowUp::run_async`]: the shared bounded loops.
/// * Declare the next part with the ledger back ([`DeclareFollowUp::into_ledger`]).
///
/// ```
/// use alipayplus_client::resend::{Action, ResendPolicy};
/// use alipayplus_operations::customs::{DeclarationLedger, DeclareFollowUp};
/// use alipayplus_types::{Amount, Currency, DeclareRequest, Timestamp};
///
/// let ledger = DeclarationLedger::new("PAY-1", Amount::new(Currency::CNY, 10_000)).unwrap();
/// let body = r#"{"paymentRequestId":"PAY-1","customsDeclarationRequestId":"DCL-1",
///   "customs":{"customsCode":"HANGZHOU","region":"CN"},
///   "merchantCustomsInfo":{"merchantCustomsCode":"C1","merchantCustomsName":"Shop"},
///   "declarationAmount":{"currency":"CNY","value":"6000"},"isSplit":"true","referenceOrderId":"O-1"}"#;
/// let request: DeclareRequest = serde_json::from_str(body).unwrap();
/// let now = Timestamp::from_unix_secs(1_750_000_000);
/// let mut follow = DeclareFollowUp::new(ledger, &request, now, ResendPolicy::default()).unwrap();
/// let Action::Send(call) = follow.poll(now) else { unreachable!() };
/// // Recorded before it leaves: the amount counts, the attempt is stored.
/// assert_eq!(follow.ledger().total().minor(), 6000);
/// let stored = follow.state().to_bytes(); // store, then sign and send `call.body()`
/// # let _ = (call, stored);
/// ```
#[derive(Debug, Clone)]
pub struct DeclareFollowUp {
    ledger: DeclarationLedger,
    resend: Resender<DeclareRequest>,
    request: DeclareRequest,
}

impl DeclareFollowUp {
    /// Follows `request` (checked against `ledger`: [`DeclarationLedger::check`]) from `now`.
    ///
    /// # Errors
    /// As [`DeclarationLedger::check`]; [`Error::Request`] when the request cannot be
    /// serialized.
    pub fn new(
        ledger: DeclarationLedger,
        request: &DeclareRequest,
        now: Timestamp,
        policy: ResendPolicy,
    ) -> Result<Self, Error> {
        ledger.check(request)?;
        let resend = Resender::new(request, now, policy)?;
        Ok(DeclareFollowUp {
            ledger,
            resend,
            request: request.clone(),
        })
    }

    /// Resumes from a stored state alone.
    ///
    /// # Errors
    /// [`RequestError::StoredState`] when the same-bytes state does not resume
    /// ([`Resender::resume`]) or its declaration is another payment's.
    pub fn resume(state: DeclareState) -> Result<Self, RequestError> {
        let resend = Resender::<DeclareRequest>::resume(state.resend)?;
        let request = resend
            .request()
            .ok_or_else(|| RequestError::StoredState("the declare body does not parse".into()))?;
        if request.payment_request_id != state.ledger.payment_request_id {
            return Err(RequestError::StoredState(
                "the declaration is another payment's than its ledger".into(),
            ));
        }
        Ok(DeclareFollowUp {
            ledger: state.ledger,
            resend,
            request,
        })
    }

    /// Resumes from bytes stored with [`DeclareState::to_bytes`].
    ///
    /// # Errors
    /// As [`DeclareState::from_bytes`] and [`DeclareFollowUp::resume`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        Self::resume(DeclareState::from_bytes(bytes)?)
    }

    /// Everything needed to resume.
    pub fn state(&self) -> DeclareState {
        DeclareState {
            ledger: self.ledger.clone(),
            resend: self.resend.state().clone(),
        }
    }

    /// The payment's ledger.
    pub fn ledger(&self) -> &DeclarationLedger {
        &self.ledger
    }

    /// The ledger back (to declare the next part, or to inquire unsettled attempts).
    pub fn into_ledger(self) -> DeclarationLedger {
        self.ledger
    }

    /// The declaration every attempt sends.
    pub fn request(&self) -> &DeclareRequest {
        &self.request
    }

    /// The exact body every attempt sends.
    pub fn body(&self) -> &[u8] {
        self.resend.body()
    }

    /// The final state, once reached.
    pub fn final_state(&self) -> Option<&Final> {
        self.resend.final_state()
    }

    /// What to do next at `now` ([`Action`]); a send is recorded in the ledger and the
    /// same-bytes state before it is returned.
    pub fn poll(&mut self, now: Timestamp) -> Action<DeclareRequest> {
        let action = self.resend.poll(now);
        if let Action::Send(_) = action {
            // Checked at `new`: the same id and amount again never changes the total.
            self.ledger
                .entry(&self.request)
                .add_attempt(self.request.declaration_amount.minor(), now);
        }
        action
    }

    /// Feeds the answer to the pending declare into the same-bytes state and the ledger.
    pub fn on_answer(&mut self, at: CallTimes, outcome: &Outcome<DeclareResponse>) -> Update {
        let update = self.resend.on_answer(at, outcome);
        if update != Update::Ignored {
            self.ledger
                .on_declare_outcome(&self.request, at.sent_at, at.answered_at, outcome);
        }
        update
    }

    /// The pending declare could not be sent or its answer was lost: no answer (its amount
    /// keeps counting).
    pub fn on_unsent(&mut self, at: CallTimes) -> Update {
        self.resend.on_unsent(at)
    }

    /// Runs until a verified answer or the `limit` (the shared loop
    /// [`follow::run`]); the time comes from the client's
    /// config.
    ///
    /// # Errors
    /// [`RequestError`] only when the first attempt could not be signed (nothing was sent;
    /// its amount stays counted in the ledger until an inquiry settles it).
    pub fn run<T: Transport>(
        &mut self,
        client: &Client<T>,
        limit: Limit,
        wait: impl FnMut(Duration),
    ) -> Result<DeclareFollowed, RequestError> {
        follow::run(self, client.config(), limit, wait, |call| {
            call.transmit(client)
        })
    }

    /// The async twin of [`DeclareFollowUp::run`]
    /// ([`follow::run_async`]).
    ///
    /// # Errors
    /// As [`DeclareFollowUp::run`].
    pub async fn run_async<T, S>(
        &mut self,
        client: &Client<T>,
        limit: Limit,
        sleep: impl FnMut(Duration) -> S,
    ) -> Result<DeclareFollowed, RequestError>
    where
        T: AsyncTransport,
        S: Future<Output = ()>,
    {
        let transmit =
            |call: Call<DeclareRequest>| async move { call.transmit_async(client).await };
        follow::run_async(self, client.config(), limit, sleep, transmit).await
    }

    fn followed(&self) -> DeclareFollowed {
        DeclareFollowed {
            final_state: self.resend.final_state().cloned(),
            response: self.resend.response().cloned(),
            customs_declaration_request_id: self.request.customs_declaration_request_id.clone(),
            attempts: self.resend.state().attempts(),
            state: self.state(),
        }
    }
}

impl FollowUp for DeclareFollowUp {
    type Call = Call<DeclareRequest>;
    type Answer = Outcome<DeclareResponse>;
    type Wake = ();
    type Ended = DeclareFollowed;

    fn finished(&mut self) -> Option<DeclareFollowed> {
        self.final_state().is_some().then(|| self.followed())
    }

    fn unresolved(&mut self) -> DeclareFollowed {
        self.followed()
    }

    fn step(&mut self, now: Timestamp) -> Polled<Self::Call, DeclareFollowed> {
        match self.poll(now) {
            Action::Send(call) => Polled::Send(call),
            Action::WaitUntil(at) => Polled::WaitUntil(at),
            _ => Polled::Return(self.followed()),
        }
    }

    fn feed(
        &mut self,
        call: &Self::Call,
        at: CallTimes,
        answer: Result<Outcome<DeclareResponse>, RequestError>,
    ) -> Result<(), RequestError> {
        match answer {
            Ok(outcome) => {
                self.on_answer(at, &outcome);
                Ok(())
            }
            Err(e) => self.resend.feed(call, at, Err(e)),
        }
    }

    fn woke(&mut self, _now: Timestamp, (): ()) {}
}
