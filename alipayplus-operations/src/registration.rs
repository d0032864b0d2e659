//! Merchant registration (spec `registration.md`): register a merchant (or a store) with
//! Alipay+ and the wallets (MPPs), then follow each wallet's review.
//!
//! * [`checked_registration`] and [`inquiry_registration_status_request`] build the two
//!   outbound calls, validated before sending; send them with
//!   [`Client::call`](alipayplus_client::client::Client::call).
//! * [`handle_notify_registration_status`] verifies and parses the inbound
//!   notifyRegistrationStatus and returns a [`RegistrationEvent`] with the signed
//!   acknowledgement. It is idempotent: a re-delivery is acknowledged again, and the
//!   follow-up ignores what it already knows.
//! * [`RegistrationFollowUp`] is the poll-style follow-up machine, the shape of every
//!   follow-up (the payment follower, refund and declare): [`RegistrationFollowUp::poll`] says
//!   what to do next ([`Action`]: send this [`Call`], wait until, done) and takes the answers
//!   typed per API with their [`CallTimes`] ([`RegistrationFollowUp::on_registration`],
//!   [`RegistrationFollowUp::on_inquiry`]) and the notifications. When `poll` returns the
//!   registration, it has **already marked it sent**: store the follow-up
//!   ([`RegistrationFollowUp::to_bytes`]), then send. Answers alone cannot tell a crash between
//!   the send and the answer, and nothing finishes a follow-up that was never marked sent
//!   ([`Update::NotSent`]). [`RegistrationFollowUp::run`] and
//!   [`RegistrationFollowUp::run_async`] are the shared bounded loops
//!   ([`follow::run`]); the stored follow-up resumes alone
//!   ([`RegistrationFollowUp::from_bytes`]).
//!
//! Rules it follows (registration.md §1 workflow, §2 business rules):
//!
//! * `U` (or no verified answer) to registration: send the **same** request again (same
//!   `registrationRequestId`) until `S` or `F`, with back-off.
//! * `S` means accepted by Alipay+, **not** approved. The result comes per wallet, by
//!   notifyRegistrationStatus (one per wallet's review: several per registration, each merged
//!   into the state, none dropped) and by inquiryRegistrationStatus at a slow cadence
//!   ([`RegistrationPolicy::inquiry_interval`], a day by default as the guide suggests).
//! * `F`: the request was refused; fix it and send it with a new id ([`Final::Refused`]).
//! * Updates: an update (same `referenceMerchantId`, and same `referenceStoreId` for
//!   `IN_STORE_PAYMENT`) is accepted by Alipay+ only when the previous request for that
//!   merchant / store is older than 30 minutes or already processed.
//!   [`RegistrationFollowUp::update_request`] enforces it before anything is sent
//!   ([`Error::UpdateTooSoon`] with the time from which it may be sent).
//!
//! UNCERTAIN readings chosen here (registration.md): the registration is final when the
//! collective status is `COMPLETED` or `CANCELLED` (per-wallet `APPROVED` / `REJECTED` are each
//! wallet's final answer, `PENDING` is not); a per-wallet `PENDING` arriving after that wallet's
//! final answer is a stale snapshot and is ignored, while a final answer that changes (approved
//! then rejected) is kept and reported as [`Update::Reversed`]; "already processed" (the update
//! rule) means the previous request got `F` or its collective status is final; a notification
//! belongs to a follow-up by its `registrationRequestId` when it carries one, else only when it
//! names the same merchant **and** the same store as the request (a notification for a store
//! never matches a registration without one, nor the reverse); `merchantDisplayName` is
//! required when an online product is registered.
//!
//! A final state never goes back: once the registration is `COMPLETED` or `CANCELLED`, a later
//! report whose collective status says otherwise (`IN_REVIEW` or any status this version does
//! not know, the other final state) is not merged; it is returned as [`Update::Contradicted`]
//! for the caller to look at (e.g. ask Alipay+), and the follow-up stays finished. A `PENDING`
//! report then is read as an older snapshot delivered late (Alipay+ re-sends until
//! acknowledged, in no promised order): its collective status is ignored, its wallets' final
//! answers are merged as always. After a refusal (`F`), any status is a contradiction.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Outcome, Prepared};
use alipayplus_client::error::RequestError;
use alipayplus_client::follow::{self, FollowUp, Limit, Polled};
#[cfg(doc)]
use alipayplus_client::inbound::Refused;
use alipayplus_client::inbound::{Accepted, Handled};
use alipayplus_client::tracker::CallTimes;
use alipayplus_client::transport::{Request, Transport};
use alipayplus_client::transport_async::AsyncTransport;
use alipayplus_types::{
    InquiryRegistrationStatusRequest, InquiryRegistrationStatusResponse,
    NotifyRegistrationStatusRequest, ProductCode, PspRegistrationResult, RegistrationRequest,
    RegistrationResponse, RegistrationStatus, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// registration.md §2: an update is accepted only when the previous request for the same
/// merchant / store is older than this (or already processed).
pub const UPDATE_INTERVAL: Duration = Duration::from_secs(30 * 60);

/// Checks a registration request before it is sent and clones it: the rules live with the
/// type (`RegistrationRequest::validate` in alipayplus-types: lengths, `storeInfo` for
/// `IN_STORE_PAYMENT`, `websites` and `merchantDisplayName` for online products (UNCERTAIN
/// condition, careful reading), at least one product code, no product twice, an absolute
/// `http(s)` `registrationNotifyUrl`).
///
/// # Errors
/// [`RequestError::Invalid`] listing every problem: nothing may be sent.
pub fn checked_registration(
    request: &RegistrationRequest,
) -> Result<RegistrationRequest, RequestError> {
    crate::checked(request, |_, _| {})
}

/// What an inquiryRegistrationStatus asks about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RegistrationRef {
    /// One registration request.
    RequestId(String),
    /// A merchant (online products), or a store with its merchant (in-store).
    Merchant(RegistrationKey),
}

/// Builds inquiryRegistrationStatus (read-only; repeat freely). The spec's condition is
/// self-referential (UNCERTAIN): read as "registrationRequestId, or referenceMerchantId
/// (+ referenceStoreId for an in-store registration)".
///
/// # Errors
/// [`RequestError::Invalid`] for an empty or too long id.
pub fn inquiry_registration_status_request(
    by: &RegistrationRef,
) -> Result<InquiryRegistrationStatusRequest, RequestError> {
    let mut request = InquiryRegistrationStatusRequest::new();
    match by {
        RegistrationRef::RequestId(id) => request.registration_request_id = Some(id.clone()),
        RegistrationRef::Merchant(key) => {
            request.reference_merchant_id = Some(key.reference_merchant_id.clone());
            request.reference_store_id = key.reference_store_id.clone();
        }
    }
    crate::checked(&request, |_, _| {})
}

/// The identity of a registration for updates (registration.md §2): the merchant, and for
/// `IN_STORE_PAYMENT` also the store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RegistrationKey {
    /// `referenceMerchantId`.
    pub reference_merchant_id: String,
    /// `referenceStoreId` (in-store registrations).
    pub reference_store_id: Option<String>,
}

impl RegistrationKey {
    /// The key of a registration request: the store counts only for `IN_STORE_PAYMENT`.
    pub fn of(request: &RegistrationRequest) -> Self {
        let in_store = request.product_codes.contains(&ProductCode::InStorePayment);
        RegistrationKey {
            reference_merchant_id: request.merchant_info.reference_merchant_id.clone(),
            reference_store_id: request
                .store_info
                .as_ref()
                .filter(|_| in_store)
                .map(|s| s.reference_store_id.clone()),
        }
    }
}

impl fmt::Display for RegistrationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reference_store_id {
            Some(store) => write!(f, "merchant {} / store {store}", self.reference_merchant_id),
            None => write!(f, "merchant {}", self.reference_merchant_id),
        }
    }
}

/// One wallet's (MPP's) status for one product, as merged by the follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PspStatus {
    /// `pspName`, e.g. `ALIPAY_CN` (empty when not sent).
    pub psp_name: String,
    /// The product this status is for (`None`: the entry named no product).
    pub product_code: Option<ProductCode>,
    /// The status (`None`: not sent).
    pub status: Option<RegistrationStatus>,
}

impl PspStatus {
    /// `APPROVED` or `REJECTED`: this wallet's final answer.
    pub fn is_final(&self) -> bool {
        matches!(
            self.status,
            Some(RegistrationStatus::Approved | RegistrationStatus::Rejected)
        )
    }

    fn expand(list: &[PspRegistrationResult]) -> Vec<PspStatus> {
        let mut out = Vec::new();
        for entry in list {
            let psp_name = entry.psp_name.clone().unwrap_or_default();
            let status = entry
                .registration_result
                .as_ref()
                .and_then(|r| r.registration_status.clone());
            let codes = entry.product_codes.as_deref().unwrap_or_default();
            if codes.is_empty() {
                out.push(PspStatus {
                    psp_name,
                    product_code: None,
                    status,
                });
            } else {
                out.extend(codes.iter().map(|c| PspStatus {
                    psp_name: psp_name.clone(),
                    product_code: Some(c.clone()),
                    status: status.clone(),
                }));
            }
        }
        out
    }
}

/// What a notifyRegistrationStatus (or an inquiry answer) reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegistrationEvent {
    /// The merchant (and store).
    pub key: RegistrationKey,
    /// `registrationRequestId`, when sent (UNCERTAIN field, SDK model only).
    pub registration_request_id: Option<String>,
    /// The collective status over every target wallet.
    pub overall: Option<RegistrationStatus>,
    /// Per wallet and product.
    pub psp_statuses: Vec<PspStatus>,
}

impl RegistrationEvent {
    /// The event of a notification body.
    pub fn from_notification(body: &NotifyRegistrationStatusRequest) -> Self {
        RegistrationEvent {
            key: RegistrationKey {
                reference_merchant_id: body.reference_merchant_id.clone(),
                reference_store_id: body.reference_store_id.clone(),
            },
            registration_request_id: body.registration_request_id.clone(),
            overall: body.registration_result.registration_status.clone(),
            psp_statuses: PspStatus::expand(
                body.psp_registration_result_list
                    .as_deref()
                    .unwrap_or_default(),
            ),
        }
    }
}

/// What a verified notifyRegistrationStatus says: the event and the body as received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RegistrationNotice {
    /// What it reports.
    pub event: RegistrationEvent,
    /// The parsed body (unknown fields in `extra`).
    pub request: NotifyRegistrationStatusRequest,
}

/// A verified notifyRegistrationStatus with its signed acknowledgement (send it after storing
/// the event): the client core's [`Accepted`] of a [`RegistrationNotice`].
pub type RegistrationNotification = Accepted<RegistrationNotice>;

/// Verifies and parses a notifyRegistrationStatus received at any URL. Every verified
/// delivery, re-deliveries included, gets the signed acknowledgement: the notification is a
/// status snapshot, and [`RegistrationFollowUp::on_notification`] ignores what it already
/// knows.
///
/// # Errors
/// [`Refused`] with the refusal to send back (unsigned when the caller is not verified) (bad method or signature: nothing in the
/// request is trusted; a body that does not parse: `PARAM_ILLEGAL`, Alipay+ re-sends).
pub fn handle_notify_registration_status(
    config: &ClientConfig,
    request: &Request,
) -> Handled<RegistrationNotice> {
    let accepted = config.accept_inbound::<NotifyRegistrationStatusRequest>(request)?;
    Ok(accepted.map(|request| RegistrationNotice {
        event: RegistrationEvent::from_notification(&request),
        request,
    }))
}

/// Timing of a [`RegistrationFollowUp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegistrationPolicy {
    /// First inquiry this long after the registration was accepted (notifications usually
    /// come first).
    pub first_inquiry_after: Duration,
    /// Then one inquiry per interval (the guide suggests once a day).
    pub inquiry_interval: Duration,
    /// Wait before re-sending after an unknown outcome; doubles up to
    /// [`RegistrationPolicy::max_retry_delay`].
    pub retry_delay: Duration,
    /// Upper bound of the retry delay.
    pub max_retry_delay: Duration,
}

impl Default for RegistrationPolicy {
    /// First inquiry after one hour, then daily; retries after 10 s doubling to 10 minutes.
    fn default() -> Self {
        RegistrationPolicy {
            first_inquiry_after: Duration::from_secs(3600),
            inquiry_interval: Duration::from_secs(86_400),
            retry_delay: Duration::from_secs(10),
            max_retry_delay: Duration::from_secs(600),
        }
    }
}

/// What is due ([`RegistrationFollowUp::next_step`], a read-only preview of what
/// [`RegistrationFollowUp::poll`] does).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Send [`RegistrationFollowUp::request`] (the same body and id every time).
    Register,
    /// Send [`RegistrationFollowUp::inquiry_request`].
    Inquire,
    /// Nothing before this instant (a notification may come earlier).
    WaitUntil(Timestamp),
    /// The registration has its final result.
    Finished(Final),
}

/// How a registration ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Final {
    /// Every wallet answered (collective `COMPLETED`); read each one's answer in
    /// [`RegistrationFollowUp::psp_statuses`] (a wallet may have rejected).
    Completed,
    /// The registration was cancelled (collective `CANCELLED`).
    Cancelled,
    /// Alipay+ refused the request (`F`): fix it and register with a new
    /// `registrationRequestId`. When `earlier_attempt_unknown`, an earlier attempt got no
    /// verified answer and may have been registered: inquire by merchant before re-registering.
    Refused {
        /// `resultCode`.
        code: String,
        /// An earlier attempt of the same id had an unknown outcome.
        earlier_attempt_unknown: bool,
    },
}

/// What an input changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Update {
    /// New information was merged.
    Changed,
    /// Nothing new (a re-delivery, a stale snapshot, an unknown outcome while waiting).
    Unchanged,
    /// A wallet's final answer changed (e.g. approved, then rejected): the later one is kept;
    /// check with the wallet / Alipay+ before acting on it.
    Reversed {
        /// The wallet.
        psp_name: String,
        /// The product.
        product_code: Option<ProductCode>,
    },
    /// The notification is about another registration.
    NotThisRegistration,
    /// Nothing was marked sent (by [`RegistrationFollowUp::poll`]): the input is ignored
    /// (a report cannot be about a registration this follow-up never sent).
    NotSent,
    /// The registration is final and this report says otherwise: it is not merged (a final
    /// state never goes back). Check with Alipay+ before acting on it.
    Contradicted {
        /// The collective status reported (`None`: the report carried none).
        reported: Option<RegistrationStatus>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    /// Not sent yet, or sent without a verified `S` / `F`: send (again) at `next_at`.
    Sending,
    /// Accepted (`S`); waiting for the wallets.
    Accepted,
    /// Final.
    Done(Final),
}

/// The sans-IO follow-up of one registration request (serde-storable: keep it with the
/// merchant and load it back when a notification comes).
///
/// ```
/// use core::time::Duration;
/// use alipayplus_operations::registration::{RegistrationFollowUp, RegistrationPolicy, Step};
/// use alipayplus_types::{RegistrationRequest, Timestamp};
///
/// let body = r#"{"registrationRequestId":"REG-1","productCodes":["AGREEMENT_PAYMENT"],
///   "merchantInfo":{"referenceMerchantId":"M1","merchantDisplayName":"Shop","merchantMCC":"5817",
///   "websites":[{"url":"https://shop.example"}],
///   "registrationDetail":{"legalName":"Shop Ltd","registrationType":"ENTERPRISE_REGISTRATION_NO","registrationNo":"123"}}}"#;
/// let request: RegistrationRequest = serde_json::from_str(body).unwrap();
/// let t0 = Timestamp::from_unix_secs(1_750_000_000);
/// let mut follow = RegistrationFollowUp::new(&request, t0, RegistrationPolicy::default()).unwrap();
/// assert_eq!(follow.next_step(t0), Step::Register);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationFollowUp {
    request: RegistrationRequest,
    key: RegistrationKey,
    policy: RegistrationPolicy,
    phase: Phase,
    next_at: Timestamp,
    first_sent_at: Option<Timestamp>,
    attempts: u32,
    unknown_attempts: u32,
    failed_inquiries: u32,
    inquiries: u32,
    overall: Option<RegistrationStatus>,
    psp_statuses: Vec<PspStatus>,
    /// The call `poll` issued and no answer was fed for yet (a crash between send and answer
    /// is seen at the next `poll`).
    #[serde(default)]
    pending: Option<Pending>,
}

impl RegistrationFollowUp {
    /// Follows `request` from `now` (validated: [`checked_registration`]).
    ///
    /// # Errors
    /// [`RequestError::Invalid`]: nothing may be sent.
    pub fn new(
        request: &RegistrationRequest,
        now: Timestamp,
        policy: RegistrationPolicy,
    ) -> Result<Self, RequestError> {
        let request = checked_registration(request)?;
        Ok(RegistrationFollowUp {
            key: RegistrationKey::of(&request),
            request,
            policy,
            phase: Phase::Sending,
            next_at: now,
            first_sent_at: None,
            attempts: 0,
            unknown_attempts: 0,
            failed_inquiries: 0,
            inquiries: 0,
            overall: None,
            psp_statuses: Vec::new(),
            pending: None,
        })
    }

    /// The registration request (the same body on every attempt).
    pub fn request(&self) -> &RegistrationRequest {
        &self.request
    }

    /// `registrationRequestId`.
    pub fn registration_request_id(&self) -> &str {
        &self.request.registration_request_id
    }

    /// The merchant (and store) registered.
    pub fn key(&self) -> &RegistrationKey {
        &self.key
    }

    /// The inquiry of this registration (by its `registrationRequestId`).
    pub fn inquiry_request(&self) -> InquiryRegistrationStatusRequest {
        let mut request = InquiryRegistrationStatusRequest::new();
        request.registration_request_id = Some(self.request.registration_request_id.clone());
        request
    }

    /// Attempts of the registration call so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Successful inquiries so far.
    pub fn inquiries(&self) -> u32 {
        self.inquiries
    }

    /// Whether Alipay+ accepted the request (`S`, or a status about it arrived).
    pub fn is_accepted(&self) -> bool {
        !matches!(
            self.phase,
            Phase::Sending | Phase::Done(Final::Refused { .. })
        )
    }

    /// The collective status, as last reported.
    pub fn overall(&self) -> Option<&RegistrationStatus> {
        self.overall.as_ref()
    }

    /// Every wallet's status per product, merged from notifications and inquiries.
    pub fn psp_statuses(&self) -> &[PspStatus] {
        &self.psp_statuses
    }

    /// Whether `psp_name` approved (for `product`, or for an entry naming no product).
    pub fn is_approved_by(&self, psp_name: &str, product: &ProductCode) -> bool {
        self.psp_statuses.iter().any(|p| {
            p.psp_name == psp_name
                && p.status == Some(RegistrationStatus::Approved)
                && p.product_code.as_ref().is_none_or(|c| c == product)
        })
    }

    /// The final result, once there is one.
    pub fn final_state(&self) -> Option<&Final> {
        match &self.phase {
            Phase::Done(f) => Some(f),
            _ => None,
        }
    }

    /// What is due at `now`: a read-only preview ([`RegistrationFollowUp::poll`] does it and
    /// records the send).
    pub fn next_step(&self, now: Timestamp) -> Step {
        match &self.phase {
            Phase::Done(f) => Step::Finished(f.clone()),
            _ if now < self.next_at => Step::WaitUntil(self.next_at),
            Phase::Sending => Step::Register,
            Phase::Accepted => Step::Inquire,
        }
    }

    /// Marks the registration sent at `now` (by `poll`, before it returns the send).
    fn mark_sent(&mut self, now: Timestamp) {
        self.attempts += 1;
        self.first_sent_at.get_or_insert(now);
    }

    /// Whether the registration was marked sent (by [`RegistrationFollowUp::poll`]).
    pub fn is_sent(&self) -> bool {
        self.first_sent_at.is_some()
    }

    /// What to do next at `now` (see [`Action`]). When it returns the registration, the
    /// follow-up has already marked it sent: store it, then send. A call still pending from
    /// an earlier `poll` (its answer never fed: a crash, a dropped future) counts as
    /// unanswered first.
    pub fn poll(&mut self, now: Timestamp) -> Action {
        if let Some(p) = self.pending {
            self.on_unsent(CallTimes::new(p.sent_at, now));
        }
        let call = match self.next_step(now) {
            Step::Register => {
                self.mark_sent(now);
                Call {
                    api: RegistrationApi::Registration,
                    body: body_of(&self.request),
                }
            }
            Step::Inquire => Call {
                api: RegistrationApi::InquiryRegistrationStatus,
                body: body_of(&self.inquiry_request()),
            },
            Step::WaitUntil(at) => return Action::WaitUntil(at),
            Step::Finished(f) => return Action::Done(f),
        };
        self.pending = Some(Pending {
            api: call.api,
            sent_at: now,
        });
        Action::Send(call)
    }

    /// Clears the pending call when it is `api`'s.
    fn answers(&mut self, api: RegistrationApi) {
        if self.pending.is_some_and(|p| p.api == api) {
            self.pending = None;
        }
    }

    /// The answer to the registration call (sent at `at.sent_at`, answered at
    /// `at.answered_at`; the back-off runs from the answer).
    pub fn on_registration(
        &mut self,
        at: CallTimes,
        outcome: &Outcome<RegistrationResponse>,
    ) -> Update {
        self.answers(RegistrationApi::Registration);
        self.on_registration_outcome(at.answered_at, outcome)
    }

    /// The answer to [`RegistrationFollowUp::inquiry_request`] (yours, or one `poll` issued).
    /// An `S` answer merges its statuses (and proves the registration exists, should the
    /// registration answer have been lost); anything else only schedules the next inquiry.
    pub fn on_inquiry(
        &mut self,
        at: CallTimes,
        outcome: &Outcome<InquiryRegistrationStatusResponse>,
    ) -> Update {
        self.answers(RegistrationApi::InquiryRegistrationStatus);
        self.on_inquiry_outcome(at.answered_at, outcome)
    }

    /// The pending call could not be sent (e.g. the signer failed) or its answer was lost: no
    /// answer (the registration may have reached Alipay+: it is sent again with the same id).
    pub fn on_unsent(&mut self, at: CallTimes) -> Update {
        let Some(pending) = self.pending.take() else {
            return Update::Unchanged;
        };
        let now = at.answered_at;
        match pending.api {
            RegistrationApi::Registration if matches!(self.phase, Phase::Sending) => {
                self.registration_unknown(now)
            }
            RegistrationApi::InquiryRegistrationStatus if !matches!(self.phase, Phase::Done(_)) => {
                self.inquiry_failed(now)
            }
            _ => Update::Unchanged,
        }
    }

    fn on_registration_outcome(
        &mut self,
        now: Timestamp,
        outcome: &Outcome<RegistrationResponse>,
    ) -> Update {
        if !self.is_sent() {
            return Update::NotSent;
        }
        if !matches!(self.phase, Phase::Sending) {
            return Update::Unchanged;
        }
        match outcome {
            Outcome::Success(_) => {
                self.phase = Phase::Accepted;
                self.next_at = now + self.policy.first_inquiry_after;
                Update::Changed
            }
            Outcome::Failure(reply) => {
                self.phase = Phase::Done(Final::Refused {
                    code: reply.body.result.code_str().to_string(),
                    earlier_attempt_unknown: self.unknown_attempts > 0,
                });
                Update::Changed
            }
            _ => self.registration_unknown(now),
        }
    }

    /// No verified `S` / `F` to the registration: send it again after a back-off.
    fn registration_unknown(&mut self, now: Timestamp) -> Update {
        self.unknown_attempts += 1;
        self.next_at = now + self.backoff(self.unknown_attempts);
        Update::Unchanged
    }

    /// No verified `S` to an inquiry: the next one sooner than the daily cadence.
    fn inquiry_failed(&mut self, now: Timestamp) -> Update {
        self.failed_inquiries += 1;
        let wait = self
            .backoff(self.failed_inquiries)
            .min(self.policy.inquiry_interval);
        self.next_at = now + wait;
        Update::Unchanged
    }

    fn on_inquiry_outcome(
        &mut self,
        now: Timestamp,
        outcome: &Outcome<InquiryRegistrationStatusResponse>,
    ) -> Update {
        if !self.is_sent() {
            return Update::NotSent;
        }
        match outcome {
            Outcome::Success(reply) => {
                if !matches!(self.phase, Phase::Done(_)) {
                    self.inquiries += 1;
                    self.failed_inquiries = 0;
                }
                let b = &reply.body;
                let overall = b
                    .registration_result
                    .as_ref()
                    .and_then(|r| r.registration_status.clone());
                let psps = PspStatus::expand(
                    b.psp_registration_result_list
                        .as_deref()
                        .unwrap_or_default(),
                );
                self.report(now, overall, psps)
            }
            _ if matches!(self.phase, Phase::Done(_)) => Update::Unchanged,
            _ => self.inquiry_failed(now),
        }
    }

    /// Whether `event` is about this registration: by `registrationRequestId` when the
    /// notification carries one, else only when it names the same merchant and the same store
    /// as the request (both without a store, or both the same store).
    pub fn concerns(&self, event: &RegistrationEvent) -> bool {
        match &event.registration_request_id {
            Some(id) => *id == self.request.registration_request_id,
            None => {
                let store = self
                    .request
                    .store_info
                    .as_ref()
                    .map(|s| s.reference_store_id.as_str());
                event.key.reference_merchant_id == self.key.reference_merchant_id
                    && event.key.reference_store_id.as_deref() == store
            }
        }
    }

    /// A verified notification (see [`handle_notify_registration_status`]). Re-deliveries
    /// change nothing ([`Update::Unchanged`]); one before the registration was marked sent is
    /// ignored ([`Update::NotSent`]); one contradicting a final state is not merged
    /// ([`Update::Contradicted`]).
    pub fn on_notification(&mut self, now: Timestamp, event: &RegistrationEvent) -> Update {
        if !self.concerns(event) {
            return Update::NotThisRegistration;
        }
        if !self.is_sent() {
            return Update::NotSent;
        }
        self.report(now, event.overall.clone(), event.psp_statuses.clone())
    }

    /// A report (notification or inquiry answer) about this sent registration.
    fn report(
        &mut self,
        now: Timestamp,
        overall: Option<RegistrationStatus>,
        psps: Vec<PspStatus>,
    ) -> Update {
        match &self.phase {
            Phase::Done(Final::Refused { .. }) => {
                // Alipay+ refused this request: no status can be about it.
                return match overall {
                    None if psps.is_empty() => Update::Unchanged,
                    reported => Update::Contradicted { reported },
                };
            }
            Phase::Done(done) => {
                // The same final state, or an older PENDING snapshot delivered late (re-sends
                // come out of order): the collective status stays, the wallets' answers are
                // merged. Anything else says the final state went back: surfaced, not merged.
                let agrees = matches!(
                    (&overall, done),
                    (None | Some(RegistrationStatus::Pending), _)
                        | (Some(RegistrationStatus::Completed), Final::Completed)
                        | (Some(RegistrationStatus::Cancelled), Final::Cancelled)
                );
                if !agrees {
                    return Update::Contradicted { reported: overall };
                }
                return self.merge(None, psps);
            }
            _ => {}
        }
        let update = self.merge(overall, psps);
        self.after_news(now);
        update
    }

    /// The update of this registration, checked before sending (registration.md §2): it must
    /// register the same merchant (and store), carry a new `registrationRequestId`, and come
    /// when this request is processed (`F`, or a final collective status) or at least 30
    /// minutes after it was first sent. Start a new follow-up with the returned request.
    ///
    /// # Errors
    /// [`Error::NotAnUpdate`], [`Error::UpdateReusesRequestId`], [`Error::UpdateTooSoon`],
    /// [`Error::Request`] (validation).
    pub fn update_request(
        &self,
        update: &RegistrationRequest,
        now: Timestamp,
    ) -> Result<RegistrationRequest, Error> {
        let found = RegistrationKey::of(update);
        if found != self.key {
            return Err(Error::NotAnUpdate {
                expected: self.key.to_string(),
                found: found.to_string(),
            });
        }
        if update.registration_request_id == self.request.registration_request_id {
            return Err(Error::UpdateReusesRequestId(
                update.registration_request_id.clone(),
            ));
        }
        let checked = checked_registration(update)?;
        let processed = matches!(self.phase, Phase::Done(_));
        if let (false, Some(sent)) = (processed, self.first_sent_at) {
            let allowed_from = sent + UPDATE_INTERVAL;
            if now < allowed_from {
                return Err(Error::UpdateTooSoon {
                    key: self.key.to_string(),
                    previous_request_id: self.request.registration_request_id.clone(),
                    allowed_from_millis: allowed_from.unix_millis(),
                });
            }
        }
        Ok(checked)
    }

    fn backoff(&self, n: u32) -> Duration {
        let factor = 1u32 << n.saturating_sub(1).min(16);
        self.policy
            .retry_delay
            .saturating_mul(factor)
            .min(self.policy.max_retry_delay)
    }

    /// News about the registration (marked sent before): it was accepted; final when the
    /// collective status is.
    fn after_news(&mut self, now: Timestamp) {
        let done = match self.overall {
            Some(RegistrationStatus::Completed) => Some(Final::Completed),
            Some(RegistrationStatus::Cancelled) => Some(Final::Cancelled),
            _ => None,
        };
        match done {
            Some(f) => self.phase = Phase::Done(f),
            None => {
                self.phase = Phase::Accepted;
                self.next_at = now + self.policy.inquiry_interval;
            }
        }
    }

    fn merge(&mut self, overall: Option<RegistrationStatus>, psps: Vec<PspStatus>) -> Update {
        let mut update = Update::Unchanged;
        if let Some(o) = overall
            && self.overall.as_ref() != Some(&o)
        {
            self.overall = Some(o);
            update = Update::Changed;
        }
        for incoming in psps {
            let slot = self.psp_statuses.iter_mut().find(|p| {
                p.psp_name == incoming.psp_name && p.product_code == incoming.product_code
            });
            match slot {
                None => {
                    self.psp_statuses.push(incoming);
                    if update == Update::Unchanged {
                        update = Update::Changed;
                    }
                }
                Some(known) if known.status == incoming.status => {}
                // A later PENDING (or nothing) after a final answer is a stale snapshot.
                Some(known) if known.is_final() && !incoming.is_final() => {}
                Some(known) => {
                    let reversed = known.is_final();
                    known.status = incoming.status;
                    update = if reversed {
                        Update::Reversed {
                            psp_name: known.psp_name.clone(),
                            product_code: known.product_code.clone(),
                        }
                    } else if matches!(update, Update::Reversed { .. }) {
                        update
                    } else {
                        Update::Changed
                    };
                }
            }
        }
        update
    }
}

/// The API of a registration [`Call`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RegistrationApi {
    /// registration (the same body and `registrationRequestId` on every attempt).
    Registration,
    /// inquiryRegistrationStatus (by `registrationRequestId`).
    InquiryRegistrationStatus,
}

impl RegistrationApi {
    /// The API name as Alipay+ spells it.
    pub fn name(self) -> &'static str {
        use alipayplus_types::Api as _;
        match self {
            RegistrationApi::Registration => RegistrationRequest::NAME,
            RegistrationApi::InquiryRegistrationStatus => InquiryRegistrationStatusRequest::NAME,
        }
    }
}

/// A call to send now: the API and the exact body. Sign it at send time ([`Call::sign`]),
/// send it, and feed the answer to [`RegistrationFollowUp::on_registration`] or
/// [`RegistrationFollowUp::on_inquiry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    api: RegistrationApi,
    body: Vec<u8>,
}

impl Call {
    /// The API to call.
    pub fn api(&self) -> RegistrationApi {
        self.api
    }

    /// The exact body to send.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Signs the body unchanged with `config` (its clock gives the `Request-Time`).
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent; report it with
    /// [`RegistrationFollowUp::on_unsent`].
    pub fn sign(&self, config: &ClientConfig) -> Result<Prepared, RequestError> {
        let body = self.body.clone();
        match self.api {
            RegistrationApi::Registration => config.sign_body::<RegistrationRequest>(body),
            RegistrationApi::InquiryRegistrationStatus => {
                config.sign_body::<InquiryRegistrationStatusRequest>(body)
            }
        }
    }
}

/// What to do next ([`RegistrationFollowUp::poll`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Send this call now (the registration is already marked sent: store the follow-up
    /// first), then feed its answer.
    Send(Call),
    /// Nothing to do before this instant: wait, or feed a verified notification that arrives
    /// first, then poll again.
    WaitUntil(Timestamp),
    /// The registration has its final result.
    Done(Final),
}

/// A call issued by `poll` and not answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    api: RegistrationApi,
    sent_at: Timestamp,
}

/// An answer to a [`Call`], typed by its API.
#[derive(Debug)]
#[non_exhaustive]
pub enum Answer {
    /// The answer to registration.
    Registration(Outcome<RegistrationResponse>),
    /// The answer to inquiryRegistrationStatus.
    Inquiry(Outcome<InquiryRegistrationStatusResponse>),
}

/// What a wait function's output says happened meanwhile: the time passed, or a verified
/// notifyRegistrationStatus arrived. `()` and `Option<RegistrationEvent>` convert to it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Wake {
    /// The time passed.
    Elapsed,
    /// A verified notification arrived ([`handle_notify_registration_status`]).
    Notification(Box<RegistrationEvent>),
}

impl From<()> for Wake {
    fn from((): ()) -> Self {
        Wake::Elapsed
    }
}

impl From<Option<RegistrationEvent>> for Wake {
    fn from(event: Option<RegistrationEvent>) -> Self {
        event.map_or(Wake::Elapsed, |e| Wake::Notification(Box::new(e)))
    }
}

/// How a run ended ([`RegistrationFollowUp::run`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Followed {
    /// The final result; `None` when the run reached its [`Limit`] first: unresolved, keep
    /// following (store [`Followed::state`]).
    pub final_state: Option<Final>,
    /// Attempts of the registration call so far.
    pub attempts: u32,
    /// Successful inquiries so far.
    pub inquiries: u32,
    /// What notifications received during the run's waits said that needs a look: a wallet's
    /// final answer reversed, or a report contradicting the final state (not merged).
    pub attention: Vec<Update>,
    /// The follow-up as it stands: store it (e.g. [`RegistrationFollowUp::to_bytes`]).
    pub state: RegistrationFollowUp,
}

impl Followed {
    /// Unresolved, keep following: the run returned before a final result.
    pub fn keep_following(&self) -> bool {
        self.final_state.is_none()
    }
}

impl RegistrationFollowUp {
    /// The follow-up as bytes to store (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Resumes from bytes stored with [`RegistrationFollowUp::to_bytes`] alone.
    ///
    /// # Errors
    /// [`RequestError::StoredState`] when the bytes are not a stored follow-up, or its request
    /// no longer validates or is not the registration of its merchant key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        let follow: RegistrationFollowUp =
            serde_json::from_slice(bytes).map_err(|e| RequestError::StoredState(e.to_string()))?;
        checked_registration(&follow.request)
            .map_err(|e| RequestError::StoredState(e.to_string()))?;
        if RegistrationKey::of(&follow.request) != follow.key {
            return Err(RequestError::StoredState(
                "the merchant key is not the request's".into(),
            ));
        }
        Ok(follow)
    }

    /// Runs until the registration is final or the `limit` is reached: the shared blocking
    /// loop ([`follow::run`]). Every call goes through `client`; the time comes from its
    /// config's clock. `wait` is called with how long to wait (the accepted registration is
    /// inquired daily by default: bound the run, store [`Followed::state`] and run again
    /// later), and may return a verified notification that arrives first ([`Wake`]).
    ///
    /// # Errors
    /// [`RequestError`] only when the **first** registration could not be signed: nothing
    /// reached Alipay+. Later failures to send count as "no answer".
    pub fn run<T: Transport, W: Into<Wake>>(
        &mut self,
        client: &Client<T>,
        limit: Limit,
        wait: impl FnMut(Duration) -> W,
    ) -> Result<Followed, RequestError> {
        let mut run = Run::new(self);
        follow::run(&mut run, client.config(), limit, wait, |call| {
            Self::transmit(client, call)
        })
    }

    /// The async twin of [`RegistrationFollowUp::run`] ([`follow::run_async`]): waits by
    /// awaiting `sleep(duration)`, whose output converts to a [`Wake`].
    ///
    /// # Errors
    /// As [`RegistrationFollowUp::run`].
    pub async fn run_async<T, S, W>(
        &mut self,
        client: &Client<T>,
        limit: Limit,
        sleep: impl FnMut(Duration) -> S,
    ) -> Result<Followed, RequestError>
    where
        T: AsyncTransport,
        S: Future<Output = W>,
        W: Into<Wake>,
    {
        let transmit = |call: Call| async move { Self::transmit_async(client, &call).await };
        let mut run = Run::new(self);
        follow::run_async(&mut run, client.config(), limit, sleep, transmit).await
    }

    /// Signs `call` with the client's config and sends it: its typed answer (not fed).
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent.
    pub fn transmit<T: Transport>(client: &Client<T>, call: &Call) -> Result<Answer, RequestError> {
        let prepared = call.sign(client.config())?;
        Ok(match call.api {
            RegistrationApi::Registration => {
                Answer::Registration(client.send::<RegistrationRequest>(prepared))
            }
            RegistrationApi::InquiryRegistrationStatus => {
                Answer::Inquiry(client.send::<InquiryRegistrationStatusRequest>(prepared))
            }
        })
    }

    /// The async twin of [`RegistrationFollowUp::transmit`].
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent.
    pub async fn transmit_async<T: AsyncTransport>(
        client: &Client<T>,
        call: &Call,
    ) -> Result<Answer, RequestError> {
        let prepared = call.sign(client.config())?;
        Ok(match call.api {
            RegistrationApi::Registration => {
                Answer::Registration(client.send_async::<RegistrationRequest>(prepared).await)
            }
            RegistrationApi::InquiryRegistrationStatus => Answer::Inquiry(
                client
                    .send_async::<InquiryRegistrationStatusRequest>(prepared)
                    .await,
            ),
        })
    }

    /// Signs `call` (returned by [`RegistrationFollowUp::poll`] at `sent_at`), sends it, and
    /// feeds the answer: one step of a caller's own loop.
    ///
    /// # Errors
    /// As [`RegistrationFollowUp::run`].
    pub fn send<T: Transport>(
        &mut self,
        client: &Client<T>,
        call: &Call,
        sent_at: Timestamp,
    ) -> Result<Update, RequestError> {
        let answer = Self::transmit(client, call);
        let at = CallTimes::new(sent_at, client.config().now());
        self.answered(at, answer)
    }

    /// Feeds an answer; `Err` only when the first registration could not be signed (nothing
    /// was sent: the mark is taken back).
    fn answered(
        &mut self,
        at: CallTimes,
        answer: Result<Answer, RequestError>,
    ) -> Result<Update, RequestError> {
        match answer {
            Ok(Answer::Registration(o)) => Ok(self.on_registration(at, &o)),
            Ok(Answer::Inquiry(o)) => Ok(self.on_inquiry(at, &o)),
            Err(e) if self.first_registration_pending() => {
                self.pending = None;
                self.attempts = 0;
                self.first_sent_at = None;
                Err(e)
            }
            Err(_) => Ok(self.on_unsent(at)),
        }
    }

    /// The pending call is the first registration: nothing reached Alipay+ before it.
    fn first_registration_pending(&self) -> bool {
        self.pending
            .is_some_and(|p| p.api == RegistrationApi::Registration)
            && self.attempts <= 1
            && self.unknown_attempts == 0
    }

    fn followed(&self, attention: Vec<Update>) -> Followed {
        Followed {
            final_state: self.final_state().cloned(),
            attempts: self.attempts,
            inquiries: self.inquiries,
            attention,
            state: self.clone(),
        }
    }
}

/// A run of a follow-up: the machine and what the run's waits brought that needs a look.
struct Run<'a> {
    follow: &'a mut RegistrationFollowUp,
    attention: Vec<Update>,
}

impl<'a> Run<'a> {
    fn new(follow: &'a mut RegistrationFollowUp) -> Self {
        Run {
            follow,
            attention: Vec::new(),
        }
    }

    fn ended(&self) -> Followed {
        self.follow.followed(self.attention.clone())
    }
}

impl FollowUp for Run<'_> {
    type Call = Call;
    type Answer = Answer;
    type Wake = Wake;
    type Ended = Followed;

    fn finished(&mut self) -> Option<Followed> {
        self.follow.final_state().is_some().then(|| self.ended())
    }

    fn unresolved(&mut self) -> Followed {
        self.ended()
    }

    fn step(&mut self, now: Timestamp) -> Polled<Call, Followed> {
        match self.follow.poll(now) {
            Action::Send(call) => Polled::Send(call),
            Action::WaitUntil(at) => Polled::WaitUntil(at),
            Action::Done(_) => Polled::Return(self.ended()),
        }
    }

    fn feed(
        &mut self,
        _call: &Call,
        at: CallTimes,
        answer: Result<Answer, RequestError>,
    ) -> Result<(), RequestError> {
        self.follow.answered(at, answer).map(|_| ())
    }

    fn woke(&mut self, now: Timestamp, wake: Wake) {
        if let Wake::Notification(event) = wake {
            let update = self.follow.on_notification(now, &event);
            if matches!(
                update,
                Update::Reversed { .. } | Update::Contradicted { .. }
            ) {
                self.attention.push(update);
            }
        }
    }
}

/// The JSON body of a request (plain strings: serializing cannot fail).
fn body_of<T: Serialize>(request: &T) -> Vec<u8> {
    serde_json::to_vec(request).unwrap_or_default()
}
