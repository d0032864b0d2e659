//! The same-bytes follow-up: a poll-style machine for an API with an idempotency key and no
//! inquiry of its own (refund: [`RefundFollower`](crate::refund::RefundFollower); declare, in
//! `alipayplus-operations`). It re-sends the **stored body unchanged**, under the same
//! idempotency key, until a verified answer says what happened.
//!
//! * [`Resender::poll`] returns [`Action::Send`] (the exact stored bytes; signing and the
//!   `Request-Time` stay the client's at send time), [`Action::WaitUntil`] (the back-off
//!   after an unknown outcome) or [`Action::Done`]. A send is **recorded before it is
//!   returned** (the attempt count, the call pending): store [`Resender::state`] right after
//!   `poll` and before sending. A call whose answer never came (a crash, a dropped future)
//!   counts as "no answer" at the next `poll`.
//! * Answers go in typed with the time the call was sent and answered
//!   ([`Resender::on_answer`]); a call that could not be signed with [`Resender::on_unsent`].
//! * What proves what (spec common.md §3.1, §3.3, §3.4): `S` is the outcome
//!   ([`Final::Succeeded`]). `U` and no verified response (timeout, bad signature, unparsable
//!   body) prove nothing: the same bytes go again after a back-off ([`ResendPolicy`]). A
//!   verified `F` ends the follow-up ([`Final::Refused`]): the same bytes would be refused the
//!   same way. Whether it proves the request was **not applied** depends on what its code is
//!   about and on the earlier attempts ([`Final::proves_not_applied`]): an `F` about the
//!   request only (signature, validation, an unknown code) after an attempt whose answer was
//!   lost leaves that attempt's outcome unknown.
//! * The run's [`Limit`] is the deadline: at it the run returns unresolved
//!   ([`Followed::keep_following`]) with its [`ResendState`] to store; resume it later with
//!   [`Resender::resume`] / [`Resender::from_bytes`] and the same bytes go again.
//! * [`ResendState`] (serde) is everything needed to resume: the API name, the idempotency
//!   key, the exact body and its SHA-256, the attempts, the back-off, the call pending.
//!   `Debug` shows the body's length only.
//!
//! UNCERTAIN (written down here, easy to change): the spec gives no retry cadence for refund
//! or declare; [`ResendPolicy::default`] re-sends after 5 s, doubling up to 5 minutes. The
//! spec lists no refund or declare failure codes of Alipay+ (cashier.md §8, customs.md §2):
//! codes the API description does not mark as about the subject count as about the request
//! (`CodeAbout::Request`: nothing proven about an earlier attempt).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::future::Future;
use core::marker::PhantomData;
use core::time::Duration;

use alipayplus_types::{Api, CodeAbout, HasResult, ResultCode, Timestamp};

use crate::client::{Client, Prepared};
use crate::config::ClientConfig;
use crate::error::RequestError;
use crate::follow::{self, FollowUp, Limit, Polled};
use crate::outcome::Outcome;
use crate::tracker::{BodyDigest, CallTimes};
use crate::transport::Transport;
use crate::transport_async::AsyncTransport;

/// When to re-send after an answer that proves nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResendPolicy {
    /// The wait after the first unknown outcome; doubles after each further one.
    pub retry_delay: Duration,
    /// The longest wait between two sends.
    pub max_retry_delay: Duration,
}

impl Default for ResendPolicy {
    /// 5 s, doubling up to 5 minutes (UNCERTAIN: the spec gives no cadence).
    fn default() -> Self {
        ResendPolicy::new(Duration::from_secs(5), Duration::from_secs(300))
    }
}

impl ResendPolicy {
    /// The policy with these waits.
    pub fn new(retry_delay: Duration, max_retry_delay: Duration) -> Self {
        ResendPolicy {
            retry_delay,
            max_retry_delay,
        }
    }

    fn backoff(&self, unknown: u32) -> Duration {
        let factor = 1u32 << unknown.saturating_sub(1).min(16);
        self.retry_delay
            .saturating_mul(factor)
            .min(self.max_retry_delay)
    }
}

/// How a same-bytes follow-up ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Final {
    /// `S`: the request was applied (the response is in [`Followed::response`]).
    Succeeded,
    /// A verified `F`: this request was refused.
    Refused {
        /// `result.resultCode`.
        code: String,
        /// The code is about the subject (the refund, the declaration), not only this
        /// request (`CodeAbout::Subject` in the API description).
        about_subject: bool,
        /// An earlier attempt got no verified answer (it may have been applied).
        earlier_attempt_unknown: bool,
    },
}

impl Final {
    /// Whether the request is proven **not** applied: refused with a code about the subject
    /// (an idempotent repeat answers with the first attempt's outcome), or refused at the
    /// only attempt that may have reached Alipay+. Only then may the same operation go under
    /// a **new** idempotency key.
    pub fn proves_not_applied(&self) -> bool {
        match self {
            Final::Succeeded => false,
            Final::Refused {
                about_subject,
                earlier_attempt_unknown,
                ..
            } => *about_subject || !*earlier_attempt_unknown,
        }
    }

    /// The refusal code, when refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Final::Refused { code, .. } => Some(code),
            Final::Succeeded => None,
        }
    }
}

/// What an answer did ([`Resender::on_answer`], [`Resender::on_unsent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Update {
    /// The follow-up is final.
    Final(Final),
    /// Nothing proven: the same bytes go again at this instant.
    ResendAt(Timestamp),
    /// No call was pending (an answer fed twice, or to a follow-up resumed since): ignored.
    Ignored,
}

/// Everything needed to resume a same-bytes follow-up: store it (e.g.
/// [`ResendState::to_bytes`]) and resume with [`Resender::resume`]. `Debug` redacts the body.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendState {
    api: String,
    request_id: String,
    body: String,
    body_digest: BodyDigest,
    policy: ResendPolicy,
    next_at: Timestamp,
    attempts: u32,
    unknown_attempts: u32,
    pending: Option<Timestamp>,
    final_state: Option<Final>,
}

impl ResendState {
    /// The state as bytes to store (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A state stored with [`ResendState::to_bytes`].
    ///
    /// # Errors
    /// [`RequestError::StoredState`] when the bytes are not a stored state.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        serde_json::from_slice(bytes).map_err(|e| RequestError::StoredState(e.to_string()))
    }

    /// The API name (`refund`, `declare`).
    pub fn api(&self) -> &str {
        &self.api
    }

    /// The idempotency key's value (`refundRequestId`, `customsDeclarationRequestId`).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The exact body every attempt sends.
    pub fn body(&self) -> &[u8] {
        self.body.as_bytes()
    }

    /// Attempts issued so far (each recorded before it left).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The final state, once reached.
    pub fn final_state(&self) -> Option<&Final> {
        self.final_state.as_ref()
    }
}

impl core::fmt::Debug for ResendState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResendState")
            .field("api", &self.api)
            .field("request_id", &self.request_id)
            .field("body", &Redacted(self.body.len()))
            .field("body_digest", &self.body_digest)
            .field("next_at", &self.next_at)
            .field("attempts", &self.attempts)
            .field("unknown_attempts", &self.unknown_attempts)
            .field("pending", &self.pending)
            .field("final_state", &self.final_state)
            .finish()
    }
}

struct Redacted(usize);

impl core::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "<{} bytes redacted>", self.0)
    }
}

/// A call to send now: the exact stored body of API `R`. Sign it at send time
/// ([`Call::sign`]), send it, and feed the answer to [`Resender::on_answer`]. `Debug` shows
/// the body's length only.
pub struct Call<R> {
    body: Vec<u8>,
    api: PhantomData<fn() -> R>,
}

impl<R: Api> Call<R> {
    /// The API name.
    pub fn api_name(&self) -> &'static str {
        R::NAME
    }

    /// The exact body to send.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Signs the body unchanged with `config` (its clock gives the `Request-Time`).
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent; report it with [`Resender::on_unsent`].
    pub fn sign(&self, config: &ClientConfig) -> Result<Prepared, RequestError> {
        config.sign_body::<R>(self.body.clone())
    }

    /// Signs the body with the client's config and sends it: the typed answer (not fed).
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent.
    pub fn transmit<T: Transport>(
        &self,
        client: &Client<T>,
    ) -> Result<Outcome<R::Response>, RequestError> {
        Ok(client.send::<R>(self.sign(client.config())?))
    }

    /// The async twin of [`Call::transmit`].
    ///
    /// # Errors
    /// [`RequestError::Sign`]: nothing was sent.
    pub async fn transmit_async<T: AsyncTransport>(
        &self,
        client: &Client<T>,
    ) -> Result<Outcome<R::Response>, RequestError> {
        Ok(client.send_async::<R>(self.sign(client.config())?).await)
    }
}

impl<R> Clone for Call<R> {
    fn clone(&self) -> Self {
        Call {
            body: self.body.clone(),
            api: PhantomData,
        }
    }
}

impl<R> PartialEq for Call<R> {
    fn eq(&self, other: &Self) -> bool {
        self.body == other.body
    }
}

impl<R> Eq for Call<R> {}

impl<R: Api> core::fmt::Debug for Call<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Call")
            .field("api", &R::NAME)
            .field("body", &Redacted(self.body.len()))
            .finish()
    }
}

/// What to do next ([`Resender::poll`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action<R: Api> {
    /// Send this call now (already recorded as issued: store the state first), then feed its
    /// answer.
    Send(Call<R>),
    /// Nothing to do before this instant (the back-off after an unknown outcome).
    WaitUntil(Timestamp),
    /// The follow-up reached this final state.
    Done(Final),
}

/// How a run ended ([`Resender::run`], `run_async`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Followed<R: Api> {
    /// The final state; `None` when the run reached its [`Limit`] first: unresolved, keep
    /// following (never treat it as failed, never re-issue under a new id).
    pub final_state: Option<Final>,
    /// The last verified answer's body, if any (e.g. the refund's `refundId`).
    pub response: Option<R::Response>,
    /// The idempotency key's value.
    pub request_id: String,
    /// Attempts issued so far (always the same body).
    pub attempts: u32,
    /// Where it stands: store it while [`Followed::keep_following`] and resume with
    /// [`Resender::resume`].
    pub state: ResendState,
}

impl<R: Api> Followed<R> {
    /// Unresolved, keep following: the run returned before a final state.
    pub fn keep_following(&self) -> bool {
        self.final_state.is_none()
    }

    /// Whether the request was applied (`S`).
    pub fn succeeded(&self) -> bool {
        self.final_state == Some(Final::Succeeded)
    }
}

/// Follows one request of API `R` to a verified answer by re-sending its exact bytes (see the
/// module docs). `Debug` shows the body's length only.
pub struct Resender<R: Api> {
    state: ResendState,
    response: Option<R::Response>,
}

impl<R> Resender<R>
where
    R: Api + serde::de::DeserializeOwned,
    R::Response: Clone,
{
    /// A follow-up of `request`, first sent at `now` or later. The request is validated and
    /// serialized once here; every attempt sends these bytes.
    ///
    /// # Errors
    /// [`RequestError::Invalid`] when the request is invalid or carries no idempotency key
    /// (re-sending is safe only under one); [`RequestError::Serialize`].
    pub fn new(request: &R, now: Timestamp, policy: ResendPolicy) -> Result<Self, RequestError> {
        crate::client::check_request(request, |_, _| {})?;
        let body =
            serde_json::to_string(request).map_err(|e| RequestError::Serialize(e.to_string()))?;
        let request_id = idempotency_key::<R>(&body).map_err(|errors| RequestError::Invalid {
            api: R::NAME,
            errors,
        })?;
        Ok(Resender {
            state: ResendState {
                api: R::NAME.into(),
                request_id,
                body_digest: BodyDigest::of(body.as_bytes()),
                body,
                policy,
                next_at: now,
                attempts: 0,
                unknown_attempts: 0,
                pending: None,
                final_state: None,
            },
            response: None,
        })
    }

    /// Resumes from a stored state alone.
    ///
    /// # Errors
    /// [`RequestError::StoredState`] when the state is another API's, its body does not match
    /// its digest, or is not a request of its idempotency key.
    pub fn resume(state: ResendState) -> Result<Self, RequestError> {
        let bad = |why: &str| Err(RequestError::StoredState(why.into()));
        if state.api != R::NAME {
            return bad("the state is another API's");
        }
        if BodyDigest::of(state.body.as_bytes()) != state.body_digest {
            return bad("the body does not match its digest");
        }
        if serde_json::from_str::<R>(&state.body).is_err() {
            return bad("the body is not a request of its API");
        }
        if idempotency_key::<R>(&state.body).ok().as_deref() != Some(state.request_id.as_str()) {
            return bad("the body is another request's");
        }
        Ok(Resender {
            state,
            response: None,
        })
    }

    /// Resumes from bytes stored with [`ResendState::to_bytes`].
    ///
    /// # Errors
    /// As [`ResendState::from_bytes`] and [`Resender::resume`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RequestError> {
        Self::resume(ResendState::from_bytes(bytes)?)
    }

    /// Everything needed to resume: store it after each [`Resender::poll`] that returns a
    /// send (before sending) and after each answer.
    pub fn state(&self) -> &ResendState {
        &self.state
    }

    /// The idempotency key's value of every attempt.
    pub fn request_id(&self) -> &str {
        &self.state.request_id
    }

    /// The exact body every attempt sends.
    pub fn body(&self) -> &[u8] {
        self.state.body.as_bytes()
    }

    /// The request every attempt sends (parsed from the stored body).
    pub fn request(&self) -> Option<R> {
        serde_json::from_str(&self.state.body).ok()
    }

    /// The final state, once reached.
    pub fn final_state(&self) -> Option<&Final> {
        self.state.final_state.as_ref()
    }

    /// The last verified answer's body fed (since this follow-up was made or resumed).
    pub fn response(&self) -> Option<&R::Response> {
        self.response.as_ref()
    }

    /// What to do next at `now` (see [`Action`]). A send is recorded as issued before it is
    /// returned; a call still pending from an earlier `poll` counts as unanswered first.
    pub fn poll(&mut self, now: Timestamp) -> Action<R> {
        if let Some(sent_at) = self.state.pending {
            self.on_unsent(CallTimes::new(sent_at, now));
        }
        if let Some(done) = &self.state.final_state {
            return Action::Done(done.clone());
        }
        if now < self.state.next_at {
            return Action::WaitUntil(self.state.next_at);
        }
        self.state.attempts = self.state.attempts.saturating_add(1);
        self.state.pending = Some(now);
        Action::Send(Call {
            body: self.state.body.clone().into_bytes(),
            api: PhantomData,
        })
    }

    /// Feeds the answer to the pending call. An answer to no pending call is ignored.
    pub fn on_answer(&mut self, at: CallTimes, outcome: &Outcome<R::Response>) -> Update {
        if self.state.pending.take().is_none() {
            return Update::Ignored;
        }
        if let Some(body) = outcome.body() {
            self.response = Some(body.clone());
        }
        let done = match outcome {
            Outcome::Success(_) => Final::Succeeded,
            Outcome::Failure(reply) => {
                let result = reply.body.result();
                Final::Refused {
                    code: result.code_str().into(),
                    about_subject: result.result_code.about() == CodeAbout::Subject,
                    earlier_attempt_unknown: self.state.unknown_attempts > 0,
                }
            }
            _ => return self.unknown(at),
        };
        self.state.final_state = Some(done.clone());
        Update::Final(done)
    }

    /// The pending call could not be sent (e.g. the signer failed) or its answer was lost: it
    /// counts as "no answer" (it, or an earlier attempt, may have reached Alipay+).
    pub fn on_unsent(&mut self, at: CallTimes) -> Update {
        if self.state.pending.take().is_none() {
            return Update::Ignored;
        }
        self.unknown(at)
    }

    fn unknown(&mut self, at: CallTimes) -> Update {
        let s = &mut self.state;
        s.unknown_attempts = s.unknown_attempts.saturating_add(1);
        s.next_at = at.answered_at + s.policy.backoff(s.unknown_attempts);
        Update::ResendAt(s.next_at)
    }

    /// Runs until a verified answer settles the request or the `limit` is reached (the
    /// shared loop [`follow::run`]). The time comes from the client's config; `wait` is
    /// called with how long to wait (e.g. `std::thread::sleep`).
    ///
    /// # Errors
    /// [`RequestError`] only when the **first** attempt could not be signed: nothing reached
    /// Alipay+. Later failures to sign count as "no answer".
    pub fn run<T: Transport>(
        &mut self,
        client: &Client<T>,
        limit: Limit,
        wait: impl FnMut(Duration),
    ) -> Result<Followed<R>, RequestError> {
        follow::run(self, client.config(), limit, wait, |call| {
            call.transmit(client)
        })
    }

    /// The async twin of [`Resender::run`] ([`follow::run_async`]): waits by awaiting
    /// `sleep(duration)`.
    ///
    /// # Errors
    /// As [`Resender::run`].
    pub async fn run_async<T, S>(
        &mut self,
        client: &Client<T>,
        limit: Limit,
        sleep: impl FnMut(Duration) -> S,
    ) -> Result<Followed<R>, RequestError>
    where
        T: AsyncTransport,
        S: Future<Output = ()>,
    {
        let transmit = |call: Call<R>| async move { call.transmit_async(client).await };
        follow::run_async(self, client.config(), limit, sleep, transmit).await
    }

    /// Signs `call` (returned by [`Resender::poll`] at `sent_at`), sends it, and feeds the
    /// answer: one step of a caller's own loop.
    ///
    /// # Errors
    /// As [`Resender::run`].
    pub fn send<T: Transport>(
        &mut self,
        client: &Client<T>,
        call: &Call<R>,
        sent_at: Timestamp,
    ) -> Result<Update, RequestError> {
        let answer = call.transmit(client);
        let at = CallTimes::new(sent_at, client.config().now());
        self.answered(at, answer)
    }

    /// Feeds an answer; `Err` only when the first attempt could not be signed (then nothing
    /// was sent, and the attempt is taken back).
    fn answered(
        &mut self,
        at: CallTimes,
        answer: Result<Outcome<R::Response>, RequestError>,
    ) -> Result<Update, RequestError> {
        match answer {
            Ok(outcome) => Ok(self.on_answer(at, &outcome)),
            Err(e) if self.state.attempts <= 1 && self.state.unknown_attempts == 0 => {
                self.state.pending = None;
                self.state.attempts = 0;
                Err(e)
            }
            Err(_) => Ok(self.on_unsent(at)),
        }
    }

    fn followed(&self) -> Followed<R> {
        Followed {
            final_state: self.state.final_state.clone(),
            response: self.response.clone(),
            request_id: self.state.request_id.clone(),
            attempts: self.state.attempts,
            state: self.state.clone(),
        }
    }
}

impl<R> FollowUp for Resender<R>
where
    R: Api + serde::de::DeserializeOwned,
    R::Response: Clone,
{
    type Call = Call<R>;
    type Answer = Outcome<R::Response>;
    type Wake = ();
    type Ended = Followed<R>;

    fn finished(&mut self) -> Option<Followed<R>> {
        self.state.final_state.is_some().then(|| self.followed())
    }

    fn unresolved(&mut self) -> Followed<R> {
        self.followed()
    }

    fn step(&mut self, now: Timestamp) -> Polled<Call<R>, Followed<R>> {
        match self.poll(now) {
            Action::Send(call) => Polled::Send(call),
            Action::WaitUntil(at) => Polled::WaitUntil(at),
            Action::Done(_) => Polled::Return(self.followed()),
        }
    }

    fn feed(
        &mut self,
        _call: &Call<R>,
        at: CallTimes,
        answer: Result<Outcome<R::Response>, RequestError>,
    ) -> Result<(), RequestError> {
        self.answered(at, answer).map(|_| ())
    }

    fn woke(&mut self, _now: Timestamp, (): ()) {}
}

impl<R: Api> core::fmt::Debug for Resender<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Resender")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<R: Api> Clone for Resender<R>
where
    R::Response: Clone,
{
    fn clone(&self) -> Self {
        Resender {
            state: self.state.clone(),
            response: self.response.clone(),
        }
    }
}

/// The value of `R`'s idempotency key in `body` (a non-empty string).
fn idempotency_key<R: Api>(body: &str) -> Result<String, alipayplus_types::ValidationErrors> {
    use alipayplus_types::Problem;
    use alipayplus_types::validate::Path;
    let mut errors = alipayplus_types::ValidationErrors::new();
    let Some(field) = R::IDEMPOTENCY_FIELDS.first() else {
        let problem = Problem::Rule("the API has no idempotency key: re-sending is not safe");
        errors.push(&Path::ROOT, problem);
        return Err(errors);
    };
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    match value.get(*field).and_then(serde_json::Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.into()),
        _ => {
            let condition = "the idempotency key of a re-sent request";
            errors.push(&Path::ROOT.field(field), Problem::Missing { condition });
            Err(errors)
        }
    }
}
