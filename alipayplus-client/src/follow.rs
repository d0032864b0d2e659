//! The bounded loops every follow-up machine shares: [`run`] (blocking) and [`run_async`].
//!
//! A follow-up machine ([`FollowUp`]) is sans-IO: it says what to do next
//! ([`Polled::Send`] a call it has already recorded as issued, [`Polled::WaitUntil`] an
//! instant, or [`Polled::Return`] what the loop ends with), takes the answers and says how the
//! loop ends. The payment follower ([`PaymentFollower`](crate::driver::PaymentFollower)), the
//! same-bytes follow-ups of refund ([`RefundFollower`](crate::refund::RefundFollower)) and
//! declare, and the registration follow-up all run on these two loops, which differ only in
//! how they wait and send (`.await`), and are bounded the same way ([`Limit`]: a deadline
//! and/or a call budget; at the bound the loop returns what [`FollowUp::unresolved`] says:
//! unresolved, keep following from the stored state). The time comes from the
//! [`ClientConfig`]'s clock only.
//!
//! Machines call these from their own `run` / `run_async`, with a `transmit` function that
//! signs and sends a call through a [`Client`](crate::client::Client) and returns its typed
//! answer.

use core::future::Future;
use core::time::Duration;

use alipayplus_types::Timestamp;

use crate::config::ClientConfig;
use crate::error::RequestError;
use crate::tracker::CallTimes;

/// The shortest wait handed to a wait function: a step due now (or past) is retried after a
/// millisecond rather than in a busy loop.
pub(crate) const MIN_WAIT: Duration = Duration::from_millis(1);

/// Where a run stops at the latest (every follow-up's `run` and `run_async`): a deadline of
/// the config's clock and/or a number of calls. At the bound the run returns unresolved
/// (`keep_following()`: store the state and follow on later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limit {
    /// No call is made and no wait goes past this instant.
    pub until: Option<Timestamp>,
    /// At most this many calls in the run.
    pub calls: Option<u32>,
}

impl Limit {
    /// No bound but the machine's own (the payment tracker always ends: see
    /// [`TrackerPolicy::call_budget`] and the cancel deadline; a same-bytes follow-up without
    /// a bound re-sends until a verified answer).
    ///
    /// [`TrackerPolicy::call_budget`]: crate::tracker::TrackerPolicy::call_budget
    pub fn none() -> Self {
        Limit::default()
    }

    /// Until `at` at the latest.
    pub fn until(at: Timestamp) -> Self {
        Limit {
            until: Some(at),
            calls: None,
        }
    }

    /// At most `calls` calls.
    pub fn calls(calls: u32) -> Self {
        Limit {
            until: None,
            calls: Some(calls),
        }
    }

    /// Whether the bound is reached at `now` after `calls` calls.
    pub fn reached(&self, now: Timestamp, calls: u32) -> bool {
        self.until.is_some_and(|u| now >= u) || self.calls.is_some_and(|c| calls >= c)
    }
}

/// What a machine says to its loop ([`FollowUp::step`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Polled<C, E> {
    /// Send this call now: the machine has already recorded it as issued.
    Send(C),
    /// Nothing to do before this instant.
    WaitUntil(Timestamp),
    /// The loop ends with this (a final state, or something for the caller such as a
    /// shopper redirect).
    Return(E),
}

/// A loop decision, for a machine's traces ([`FollowUp::trace`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Decision<'a, C> {
    /// The next step is this send; `budget_left` calls remain in the run's [`Limit`].
    Send {
        /// The call.
        call: &'a C,
        /// Calls left in the run's budget, if it has one.
        budget_left: Option<u32>,
    },
    /// The next step is a wait until this instant.
    Wait(Timestamp),
    /// The run's bound was reached after this many calls, before a final state.
    Bound(u32),
}

/// A sans-IO follow-up machine the shared loops run ([`run`], [`run_async`]).
pub trait FollowUp {
    /// A call to send (the API and its exact body).
    type Call: Clone;
    /// A call's typed answer.
    type Answer;
    /// What a wait brings: `()`-like "the time passed", or a verified notification.
    type Wake;
    /// What a loop ends with.
    type Ended;

    /// What the loop returns at once, before its bound is checked: `Some` when the machine is
    /// already final.
    fn finished(&mut self) -> Option<Self::Ended>;

    /// What the loop returns at its bound: unresolved, with the state to store.
    fn unresolved(&mut self) -> Self::Ended;

    /// The next step at `now`; a send is recorded as issued before it is returned.
    fn step(&mut self, now: Timestamp) -> Polled<Self::Call, Self::Ended>;

    /// Feeds the answer to `call` (or why it could not be sent).
    ///
    /// # Errors
    /// When the loop must stop with an error (e.g. the very first send could not be signed:
    /// nothing reached Alipay+).
    fn feed(
        &mut self,
        call: &Self::Call,
        at: CallTimes,
        answer: Result<Self::Answer, RequestError>,
    ) -> Result<(), RequestError>;

    /// Feeds what a wait brought, at `now`.
    fn woke(&mut self, now: Timestamp, wake: Self::Wake);

    /// Records a loop decision (feature `tracing`); nothing by default.
    fn trace(&self, decision: Decision<'_, Self::Call>) {
        let _ = decision;
    }
}

/// What a loop does next.
enum Next<C, E> {
    Send(C),
    Wait(Duration),
    Return(E),
}

/// The loops' common step: return (final, bound, what the machine returns), wait, or send.
fn next<M: FollowUp>(
    m: &mut M,
    now: Timestamp,
    limit: Limit,
    calls: &mut u32,
) -> Next<M::Call, M::Ended> {
    if let Some(ended) = m.finished() {
        return Next::Return(ended);
    }
    if limit.reached(now, *calls) {
        m.trace(Decision::Bound(*calls));
        return Next::Return(m.unresolved());
    }
    match m.step(now) {
        Polled::Send(call) => {
            *calls = calls.saturating_add(1);
            let budget_left = limit.calls.map(|c| c.saturating_sub(*calls));
            m.trace(Decision::Send {
                call: &call,
                budget_left,
            });
            Next::Send(call)
        }
        Polled::WaitUntil(at) => {
            let at = limit.until.map_or(at, |u| at.min(u));
            m.trace(Decision::Wait(at));
            Next::Wait(at.since(now).max(MIN_WAIT))
        }
        Polled::Return(ended) => Next::Return(ended),
    }
}

/// Runs `m` until it ends or `limit` is reached: the blocking loop. `wait` is called with how
/// long to wait (e.g. `std::thread::sleep`) and its output converts to the machine's wake;
/// `transmit` signs and sends a call and returns its answer. The time comes from `config`.
///
/// # Errors
/// What [`FollowUp::feed`] returns.
pub fn run<M: FollowUp, W: Into<M::Wake>>(
    m: &mut M,
    config: &ClientConfig,
    limit: Limit,
    mut wait: impl FnMut(Duration) -> W,
    mut transmit: impl FnMut(&M::Call) -> Result<M::Answer, RequestError>,
) -> Result<M::Ended, RequestError> {
    let mut calls = 0;
    loop {
        let sent_at = config.now();
        match next(m, sent_at, limit, &mut calls) {
            Next::Return(ended) => return Ok(ended),
            Next::Wait(d) => {
                let wake = wait(d).into();
                m.woke(config.now(), wake);
            }
            Next::Send(call) => {
                let answer = transmit(&call);
                m.feed(&call, CallTimes::new(sent_at, config.now()), answer)?;
            }
        }
    }
}

/// The async twin of [`run`]: the same machine, bound and time source; waits by awaiting
/// `sleep(duration)` and sends by awaiting `transmit(call)`. Dropping the future is safe: a
/// call in flight stays recorded as issued in the machine's state and counts as unanswered at
/// its next step.
///
/// # Errors
/// What [`FollowUp::feed`] returns.
pub async fn run_async<M, S, W, F>(
    m: &mut M,
    config: &ClientConfig,
    limit: Limit,
    mut sleep: impl FnMut(Duration) -> S,
    mut transmit: impl FnMut(M::Call) -> F,
) -> Result<M::Ended, RequestError>
where
    M: FollowUp,
    S: Future<Output = W>,
    W: Into<M::Wake>,
    F: Future<Output = Result<M::Answer, RequestError>>,
{
    let mut calls = 0;
    loop {
        let sent_at = config.now();
        match next(m, sent_at, limit, &mut calls) {
            Next::Return(ended) => return Ok(ended),
            Next::Wait(d) => {
                let wake = sleep(d).await.into();
                m.woke(config.now(), wake);
            }
            Next::Send(call) => {
                let answer = transmit(call.clone()).await;
                m.feed(&call, CallTimes::new(sent_at, config.now()), answer)?;
            }
        }
    }
}
