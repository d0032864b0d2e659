//! Properties of the payment follow-up over random event sequences (issue 14), run against
//! the poll-style machine (`PaymentFollower`, issue 20) and through it the tracker.
//!
//! A small model of the Alipay+ side (the truth: does the payment exist, is it in process,
//! paid, failed or cancelled) answers every call the tracker asks for, with faults chosen at
//! random: answers lost before or after Alipay+ committed, pays that land late, `U` and
//! gateway refusals, 5xx, answers about other `paymentRequestId`s, a `paymentRequestId`
//! owned by another order (`REPEAT_REQ_INCONSISTENT`), notifications that come late, twice
//! or about other payments, the shopper paying or not, outages up to 26 hours and time jumps
//! up to 3 days. Checked at every sequence:
//!
//! 1. a payment that may have been charged never ends as failed, and no new
//!    `paymentRequestId` is suggested ([`Final::may_retry_with_new_id`]) unless the truth
//!    proves the old one uncharged (no payment, failed or cancelled, and no pay still in
//!    flight that could land); `Succeeded` only when the truth is paid;
//! 2. every sequence ends in a final state (`Unresolved` included) by the policy's bound:
//!    `cancel deadline + settle_after_deadline` plus one back-off step (or at once after a
//!    time jump past it);
//! 3. the calls it asks for stay within [`TrackerPolicy::call_budget`] (unanswered ones and
//!    all of them), even through a day-long outage;
//! 4. its state survives storage at every step: a twin that is stored as bytes and resumed
//!    from them alone after every event behaves exactly like one that never is.
//!
//! Each sequence is driven by a vector of choices (0 = the plain, truthful answer), so
//! proptest shrinks a failure to the fewest faults that show it.

use core::time::Duration;

use alipayplus_client::client::{Outcome, Reply};
use alipayplus_client::driver::{Action, Api, Notified, PaymentFollower};
use alipayplus_client::error::ResponseError;
use alipayplus_client::time::Timestamp;
use alipayplus_client::tracker::{CallTimes, Final, PaymentTracker, TrackerPolicy, Update};
use alipayplus_client::transport::Response;
use alipayplus_types::{
    Amount, CancelPaymentResponse, Currency, InquiryPaymentResponse, Merchant,
    NotifyPaymentRequest, Order, PayRequest, PayResponse, PaymentFactor, PaymentMethod,
};
use proptest::prelude::*;
use serde_json::json;

const ID: &str = "order-1";

/// The order's pay request (USD 1.00, the amount of the notifications below).
fn pay_request() -> PayRequest {
    let usd = Amount::new(Currency::USD, 100);
    let order = Order::new("O-1".into(), "tea".into(), usd, Merchant::new("M-1".into()));
    let method = PaymentMethod::new("CONNECT_WALLET".into());
    PayRequest::new(ID.into(), order, usd, method, PaymentFactor::new())
}

/// What Alipay+ holds for the payment of this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    NotExist,
    Processing,
    Paid,
    Failed,
    Cancelled,
}

/// The choices of one sequence, consumed in order; exhausted choices read as 0.
struct Choices {
    values: Vec<u16>,
    at: usize,
}

impl Choices {
    fn pick(&mut self, n: u16) -> u16 {
        let v = self.values.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        v % n
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    auto_debit: bool,
    /// Seconds after a fixed day's 00:00 UTC+8 (the cancel deadline is 00:15 of T+1).
    start_offset_secs: u32,
    attested: bool,
    /// The id already belongs to another order's payment in this state.
    foreign: Option<u8>,
    /// Alipay+ closes a payment still in process at the end of its window.
    closes_at_expiry: bool,
    /// An outage (no answers at all): starts this many seconds after the start, lasts this long.
    outage: Option<(u32, u32)>,
    /// A bad network: faults are far more likely than plain answers.
    bad_network: bool,
    /// A smaller [`TrackerPolicy::call_budget`] than the default.
    call_budget: Option<u32>,
    choices: Vec<u16>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        any::<bool>(),
        0u32..86_400,
        any::<bool>(),
        prop_oneof![6 => Just(None), 1 => (0u8..4).prop_map(Some)],
        any::<bool>(),
        prop_oneof![
            2 => Just(None),
            1 => (0u32..600, 3_600u32..26 * 3_600).prop_map(Some)
        ],
        any::<bool>(),
        prop_oneof![Just(None), (5u32..400).prop_map(Some)],
        prop::collection::vec(any::<u16>(), 0..160),
    )
        .prop_map(
            |(
                auto_debit,
                start_offset_secs,
                attested,
                foreign,
                closes_at_expiry,
                outage,
                bad_network,
                call_budget,
                choices,
            )| {
                Scenario {
                    auto_debit,
                    start_offset_secs,
                    attested,
                    foreign,
                    closes_at_expiry,
                    outage,
                    bad_network,
                    call_budget,
                    choices,
                }
            },
        )
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn result(code: &str, status: &str) -> serde_json::Value {
    json!({"resultCode": code, "resultStatus": status, "resultMessage": code})
}

/// A verified reply with `body` (the raw response is not looked at by the tracker).
fn outcome<R: serde::de::DeserializeOwned>(status: &str, body: serde_json::Value) -> Outcome<R> {
    let reply = Reply {
        body: serde_json::from_value(body).expect("test body parses"),
        response: Response::new(200, Vec::new()),
        key_version: 1,
    };
    match status {
        "S" => Outcome::Success(reply),
        "F" => Outcome::Failure(reply),
        _ => Outcome::Unknown(reply),
    }
}

fn no_answer<R>() -> Outcome<R> {
    Outcome::NoVerifiedResponse(ResponseError::HttpStatus {
        response: Response::new(502, Vec::new()),
    })
}

fn notification(id: &str, code: &str, status: &str) -> NotifyPaymentRequest {
    serde_json::from_value(json!({
        "paymentResult": result(code, status),
        "paymentRequestId": id,
        "paymentId": "P-1",
        "paymentAmount": {"currency": "USD", "value": "100"},
        "paymentCreateTime": "2025-02-20T16:51:49+08:00",
        "paymentTime": "2025-02-20T16:51:59+08:00"
    }))
    .unwrap()
}

/// The Alipay+ side of one sequence.
struct World {
    now: Timestamp,
    truth: Truth,
    foreign: Option<Truth>,
    window_end: Timestamp,
    closes_at_expiry: bool,
    outage: Option<(Timestamp, Timestamp)>,
    /// Pays that got no answer and land at these instants.
    landing: Vec<Timestamp>,
    /// When the shopper acts on a payment in process (pays or gives up).
    shopper_at: Option<Timestamp>,
    /// Notifications on their way: (arrival, paid?).
    notices: Vec<(Timestamp, bool)>,
    /// How long after its attempt was reported a lost pay can still land: the transport's
    /// whole-request timeout plus the late-landing margin (the tracker's stated assumption).
    landing_within: Duration,
    pays: u32,
    /// A pay of this order got no answer before REPEAT_REQ_INCONSISTENT: without identical
    /// bodies, that attempt may be the payment owning the id.
    own_attempt_lost: bool,
    bad_network: bool,
}

impl World {
    fn in_outage(&self) -> bool {
        self.outage
            .is_some_and(|(a, b)| self.now >= a && self.now < b)
    }

    fn settle(&mut self, truth: Truth, c: &mut Choices) {
        self.truth = truth;
        match truth {
            Truth::Processing => {
                self.shopper_at = Some(self.now + secs(u64::from(c.pick(1_800))));
            }
            Truth::Paid | Truth::Failed => self.notify(truth == Truth::Paid, c),
            _ => {}
        }
    }

    fn notify(&mut self, paid: bool, c: &mut Choices) {
        // 0: none reaches us (we must inquire); else 1 to 3 copies, late and out of order.
        let copies = c.pick(4);
        for _ in 0..copies {
            let delay = match c.pick(3) {
                0 => u64::from(c.pick(30)),
                1 => u64::from(c.pick(3_600)),
                _ => u64::from(c.pick(u16::MAX)) * 3,
            };
            self.notices.push((self.now + secs(delay), paid));
        }
    }

    /// The business outcome of a pay that reaches Alipay+ with no payment yet.
    fn new_payment(&mut self, c: &mut Choices) -> Truth {
        match c.pick(3) {
            0 => Truth::Processing,
            1 => Truth::Paid,
            _ => Truth::Failed,
        }
    }

    /// What pay answers for the current truth.
    fn pay_answer(&self) -> Outcome<PayResponse> {
        match self.truth {
            Truth::Paid => outcome(
                "S",
                json!({"result": result("SUCCESS", "S"), "paymentId": "P-1"}),
            ),
            Truth::Processing => outcome(
                "U",
                json!({"result": result("PAYMENT_IN_PROCESS", "U"), "normalUrl": "https://wallet.example/p"}),
            ),
            Truth::Failed => outcome(
                "F",
                json!({"result": result("USER_BALANCE_NOT_ENOUGH", "F")}),
            ),
            Truth::Cancelled => outcome("F", json!({"result": result("ORDER_IS_CLOSED", "F")})),
            Truth::NotExist => unreachable!("answered after the payment was made"),
        }
    }

    fn pay(&mut self, c: &mut Choices) -> Outcome<PayResponse> {
        self.pays += 1;
        if self.in_outage() {
            return no_answer();
        }
        if self.foreign.is_some() {
            // The id is taken: Alipay+ answers REPEAT_REQ_INCONSISTENT to the first pay that
            // reaches it (only the first may be lost: before any answer the tracker can only
            // take what Alipay+ says about the id for this order's payment).
            return if self.pays == 1 && c.pick(2) == 1 {
                self.own_attempt_lost = true;
                no_answer()
            } else {
                outcome(
                    "F",
                    json!({"result": result("REPEAT_REQ_INCONSISTENT", "F")}),
                )
            };
        }
        let fault = c.pick(if self.bad_network { 5 } else { 9 });
        match fault {
            // Lost before Alipay+ saw it.
            1 => return no_answer(),
            // Travels on and lands later (within the transport's whole-request timeout).
            2 => {
                let within = self.landing_within.as_secs() as u16;
                let d = u64::from(c.pick(within));
                self.landing.push(self.now + secs(d));
                return no_answer();
            }
            // A gateway refusal or U before the payment is touched.
            3 => {
                return match c.pick(3) {
                    0 => outcome("F", json!({"result": result("INVALID_SIGNATURE", "F")})),
                    1 => outcome("F", json!({"result": result("SYSTEM_ERROR", "F")})),
                    _ => outcome("U", json!({"result": result("UNKNOWN_EXCEPTION", "U")})),
                };
            }
            _ => {}
        }
        if self.truth == Truth::NotExist {
            let t = self.new_payment(c);
            self.settle(t, c);
        }
        // 4: committed, answer lost.
        if fault == 4 {
            no_answer()
        } else {
            self.pay_answer()
        }
    }

    fn inquiry(&mut self, c: &mut Choices) -> Outcome<InquiryPaymentResponse> {
        if self.in_outage() {
            return no_answer();
        }
        match c.pick(if self.bad_network { 4 } else { 8 }) {
            1 => return no_answer(),
            2 => return outcome("U", json!({"result": result("UNKNOWN_EXCEPTION", "U")})),
            3 => {
                // A (replayed or misrouted) answer about another payment.
                let paid = c.pick(2) == 0;
                let (code, status) = if paid {
                    ("SUCCESS", "S")
                } else {
                    ("ORDER_IS_CLOSED", "F")
                };
                return outcome(
                    "S",
                    json!({"result": result("SUCCESS", "S"), "paymentRequestId": "order-2",
                           "paymentResult": result(code, status)}),
                );
            }
            _ => {}
        }
        let truth = self.foreign.unwrap_or(self.truth);
        let payment = |code: &str, status: &str| {
            outcome(
                "S",
                json!({"result": result("SUCCESS", "S"), "paymentRequestId": ID,
                       "paymentResult": result(code, status)}),
            )
        };
        match truth {
            Truth::NotExist => outcome("F", json!({"result": result("ORDER_NOT_EXIST", "F")})),
            Truth::Processing => payment("PAYMENT_IN_PROCESS", "U"),
            Truth::Paid => payment("SUCCESS", "S"),
            Truth::Failed => payment("USER_BALANCE_NOT_ENOUGH", "F"),
            Truth::Cancelled => payment("ORDER_IS_CLOSED", "F"),
        }
    }

    fn cancel(&mut self, c: &mut Choices) -> Outcome<CancelPaymentResponse> {
        assert!(
            self.foreign.is_none(),
            "never cancel a payment owned by another order"
        );
        if self.in_outage() {
            return no_answer();
        }
        let fault = c.pick(if self.bad_network { 3 } else { 6 });
        if fault == 1 {
            return no_answer();
        }
        let answer = match self.truth {
            Truth::NotExist => outcome("F", json!({"result": result("ORDER_NOT_EXIST", "F")})),
            Truth::Processing | Truth::Paid | Truth::Cancelled => {
                self.truth = Truth::Cancelled;
                self.shopper_at = None;
                outcome("S", json!({"result": result("SUCCESS", "S")}))
            }
            Truth::Failed => outcome("F", json!({"result": result("ORDER_IS_CLOSED", "F")})),
        };
        // 2: committed, answer lost.
        if fault == 2 { no_answer() } else { answer }
    }

    /// The next instant something happens on the Alipay+ side (a landing, the shopper, the
    /// window closing, a notification arriving).
    fn next_event(&self) -> Option<Timestamp> {
        let mut at = self.landing.iter().copied().min();
        let mut consider = |t: Option<Timestamp>| {
            if let Some(t) = t {
                at = Some(at.map_or(t, |a: Timestamp| a.min(t)));
            }
        };
        consider(self.shopper_at);
        if self.closes_at_expiry && self.truth == Truth::Processing {
            consider(Some(self.window_end));
        }
        consider(self.notices.iter().map(|n| n.0).min());
        at
    }

    /// Applies what is due at `self.now`; returns the notifications delivered now.
    fn happen(&mut self, c: &mut Choices) -> Vec<bool> {
        let now = self.now;
        let landed = self.landing.iter().filter(|t| **t <= now).count();
        self.landing.retain(|t| *t > now);
        if landed > 0 && self.truth == Truth::NotExist {
            let t = self.new_payment(c);
            self.settle(t, c);
        }
        if self.closes_at_expiry && self.truth == Truth::Processing && now >= self.window_end {
            self.shopper_at = None;
            self.settle(Truth::Failed, c);
        }
        if self.shopper_at.is_some_and(|t| t <= now) {
            self.shopper_at = None;
            if self.truth == Truth::Processing {
                let paid = c.pick(3) != 0;
                self.settle(if paid { Truth::Paid } else { Truth::Failed }, c);
            }
        }
        let mut delivered: Vec<bool> = Vec::new();
        self.notices.retain(|(t, paid)| {
            if *t <= now {
                delivered.push(*paid);
                false
            } else {
                true
            }
        });
        delivered
    }
}

/// Two followers fed the same events: `plain` never leaves memory, `stored` is stored as bytes
/// and resumed from them alone after every event. They must agree on everything.
struct Twins {
    plain: PaymentFollower,
    stored: PaymentFollower,
}

impl Twins {
    fn feed<R: PartialEq + std::fmt::Debug>(&mut self, f: impl Fn(&mut PaymentFollower) -> R) -> R {
        let a = f(&mut self.plain);
        let b = f(&mut self.stored);
        assert_eq!(a, b, "a stored follower reacts like one kept in memory");
        self.roundtrip();
        a
    }

    fn poll(&mut self, now: Timestamp) -> Action {
        self.feed(|f| f.poll(now))
    }

    fn roundtrip(&mut self) {
        let bytes = self.stored.state().to_bytes();
        let back = PaymentFollower::from_bytes(&bytes).unwrap();
        assert_eq!(back.state().to_bytes(), bytes);
        assert_eq!(bytes, self.plain.state().to_bytes());
        self.stored = back;
    }
}

fn foreign_truth(n: u8) -> Truth {
    [
        Truth::Processing,
        Truth::Paid,
        Truth::Failed,
        Truth::Cancelled,
    ][usize::from(n % 4)]
}

/// Runs one sequence and checks the properties; returns the calls made.
fn run(s: &Scenario) -> u32 {
    let day = Timestamp::parse_iso8601("2025-02-20T00:00:00+08:00").unwrap();
    let start = day + secs(u64::from(s.start_offset_secs));
    let mut policy = if s.auto_debit {
        TrackerPolicy::auto_debit()
    } else {
        TrackerPolicy::cashier()
    };
    if let Some(budget) = s.call_budget {
        policy.call_budget = budget;
    }
    let window_end = start + policy.default_window;
    let t = PaymentTracker::new(ID, start, window_end, policy.clone());
    let mut follower = PaymentFollower::new(pay_request(), t).unwrap();
    if !s.attested {
        // A state stored by a version that did not record sends: no digest is ever recorded.
        let mut state: serde_json::Value =
            serde_json::from_slice(&follower.state().to_bytes()).unwrap();
        state["tracker"]
            .as_object_mut()
            .unwrap()
            .remove("records_sends");
        follower = PaymentFollower::from_bytes(&serde_json::to_vec(&state).unwrap()).unwrap();
    }
    let mut twins = Twins {
        plain: follower.clone(),
        stored: follower,
    };
    let mut c = Choices {
        values: s.choices.clone(),
        at: 0,
    };
    let mut w = World {
        now: start,
        truth: Truth::NotExist,
        foreign: s.foreign.map(foreign_truth),
        window_end,
        closes_at_expiry: s.closes_at_expiry,
        // (With a taken id, an outage before the first answer leaves only what Alipay+ says
        // about the id: no tracker can tell whose payment that is.)
        outage: s.outage.filter(|_| s.foreign.is_none()).map(|(a, len)| {
            (
                start + secs(a.into()),
                start + secs(a.into()) + secs(len.into()),
            )
        }),
        landing: Vec::new(),
        shopper_at: None,
        notices: Vec::new(),
        landing_within: policy.pay_in_flight + policy.late_landing_margin,
        pays: 0,
        own_attempt_lost: false,
        bad_network: s.bad_network,
    };
    let give_up = twins.plain.tracker().cancel_deadline() + policy.settle_after_deadline;
    let slack = policy.max_cancel_interval + policy.retry_delay;
    let mut bound = give_up + slack;
    let (mut calls, mut unanswered) = (0u32, 0u32);
    let final_state = loop {
        assert!(
            w.now <= bound,
            "still open at {:?}, past the bound {bound:?}",
            w.now
        );
        for paid in w.happen(&mut c) {
            let (code, status) = if paid {
                ("SUCCESS", "S")
            } else {
                ("USER_BALANCE_NOT_ENOUGH", "F")
            };
            let n = notification(ID, code, status);
            let notified = twins.feed(|f| f.on_notification(w.now, &n));
            assert!(matches!(notified, Notified::Fed(_)), "{notified:?}");
        }
        if c.pick(12) == 1 {
            // A notification about another payment.
            let n = notification("order-2", "SUCCESS", "S");
            assert_eq!(
                twins.feed(|f| f.on_notification(w.now, &n)),
                Notified::OtherPayment
            );
        }
        let action = twins.poll(w.now);
        match action {
            Action::Done(f) => break f,
            Action::Send(call) => {
                // Alipay+ acts on the call when it arrives; some answers take time to come
                // back (judgements run from the send time, schedules from the answer).
                let sent = w.now;
                calls += 1;
                let slow = |w: &mut World, c: &mut Choices| {
                    if c.pick(10) == 1 {
                        w.now = w.now + secs(u64::from(c.pick(30)));
                    }
                    CallTimes::new(sent, w.now)
                };
                let update: Update = match call.api() {
                    Api::Pay => {
                        let o = w.pay(&mut c);
                        unanswered += u32::from(o.reply().is_none());
                        let at = slow(&mut w, &mut c);
                        twins.feed(|f| f.on_pay(at, &o))
                    }
                    Api::InquiryPayment => {
                        let o = w.inquiry(&mut c);
                        unanswered += u32::from(o.reply().is_none());
                        let at = slow(&mut w, &mut c);
                        twins.feed(|f| f.on_inquiry(at, &o))
                    }
                    Api::CancelPayment => {
                        let o = w.cancel(&mut c);
                        unanswered += u32::from(o.reply().is_none());
                        let at = slow(&mut w, &mut c);
                        twins.feed(|f| f.on_cancel(at, &o))
                    }
                    other => panic!("unexpected call {other:?}"),
                };
                assert_ne!(update, Update::Ignored, "an answer to the call just issued");
                continue;
            }
            Action::Redirect(_) => {}
            Action::WaitUntil(at) => {
                assert!(at > w.now, "a wait moves time on");
                let event = w.next_event().filter(|e| *e > w.now && *e < at);
                w.now = match c.pick(20) {
                    // The process was paused (a restart, a deploy): up to 3 days later. (Not
                    // with a taken id: a pause before any pay answer leaves the tracker only
                    // what Alipay+ says about the id, as with an outage.)
                    1 if w.foreign.is_none() => {
                        let jumped = w.now + secs(u64::from(c.pick(u16::MAX)) * 4);
                        bound = bound.max(jumped + slack);
                        jumped.max(at)
                    }
                    _ => event.unwrap_or(at),
                };
            }
            other => panic!("unexpected action {other:?}"),
        }
        // Some answers take time.
        if c.pick(10) == 1 {
            w.now = w.now + secs(u64::from(c.pick(30)));
        }
    };
    assert!(
        unanswered <= policy.call_budget,
        "{unanswered} unanswered calls, budget {}",
        policy.call_budget
    );
    // Answered calls are bounded by the timeline: all of them stay within the default budget.
    assert!(calls <= 400, "{calls} calls");

    // Pays still in flight land now: a payment closed as not charged must stay so.
    let in_flight = !w.landing.is_empty() && w.truth == Truth::NotExist && w.foreign.is_none();
    let charged_or_open = matches!(w.truth, Truth::Paid | Truth::Processing) || in_flight;
    if final_state.may_retry_with_new_id() {
        assert!(
            !charged_or_open,
            "{final_state:?} suggests a new id, but Alipay+ holds {:?} (pays in flight: {})",
            w.truth,
            w.landing.len()
        );
    }
    match &final_state {
        Final::Failed { .. } | Final::Cancelled => {
            assert!(!charged_or_open, "{final_state:?} vs {:?}", w.truth)
        }
        Final::Succeeded => assert_eq!(
            w.truth,
            Truth::Paid,
            "succeeded, but Alipay+ holds {:?}",
            w.truth
        ),
        Final::RequestIdReused { new_id_is_safe } => {
            assert!(
                w.foreign.is_some(),
                "REPEAT_REQ_INCONSISTENT only for a reused id"
            );
            assert_eq!(
                w.truth,
                Truth::NotExist,
                "no payment of this order under another id"
            );
            if w.own_attempt_lost && !s.attested {
                assert!(
                    !new_id_is_safe,
                    "a lost attempt with other bytes may own the id"
                );
            }
            if !s.attested {
                assert!(
                    !new_id_is_safe,
                    "no digest of the first send recorded: no proof of the bytes sent"
                );
            }
        }
        Final::Unresolved => {}
        other => panic!("unknown final state {other:?}"),
    }
    calls
}

proptest! {
    // ~1 ms a sequence: a few hundred of each kind run in well under a second.
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn tracker_is_money_safe_bounded_and_storable(s in scenario()) {
        run(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A day-long outage from the first pay on: every call goes unanswered, and the calls
    /// stay within the budget; the payment ends unresolved, never failed.
    #[test]
    fn a_day_long_outage_stays_within_the_call_budget(
        auto_debit in any::<bool>(),
        start_offset_secs in 0u32..86_400,
        len in 24 * 3_600u32..27 * 3_600,
    ) {
        let s = Scenario {
            auto_debit,
            start_offset_secs,
            attested: true,
            foreign: None,
            closes_at_expiry: true,
            outage: Some((0, len)),
            bad_network: false,
            call_budget: None,
            choices: Vec::new(),
        };
        let calls = run(&s);
        prop_assert!(calls <= 400);
    }
}

/// Found by the properties: a pay lands while the inquiries after the cancel's
/// ORDER_NOT_EXIST go unanswered; the tracker closed the payment as failed on the clock alone.
#[test]
fn a_late_landing_behind_unanswered_inquiries_is_not_closed_as_failed() {
    let s = Scenario {
        auto_debit: true,
        start_offset_secs: 0,
        attested: false,
        foreign: None,
        closes_at_expiry: false,
        outage: None,
        bad_network: true,
        call_budget: None,
        choices: vec![
            0, 1073, 16712, 32161, 4126, 0, 32097, 168, 2, 0, 2, 12, 0, 53546, 342, 0, 2, 772, 0,
            16497, 282, 0, 462, 12, 0, 26481, 2, 0, 42, 2, 0, 941, 34791, 3645, 0, 1665, 5522, 0,
            762, 6492, 0, 19377, 31612, 0, 942, 902, 0, 14403, 0, 0, 6903, 0, 1742, 0, 0, 0, 17871,
            93, 0, 0, 0, 0, 14605, 0, 0, 0, 0, 0, 0,
        ],
    };
    run(&s);
}

/// Found again while re-verifying the mutations on the machine (issue 20): a success
/// notification arrives while the last cancel's answer was lost (the cancel committed). Without
/// the wait for the cancel's fate, the payment ends `Succeeded` while Alipay+ holds it
/// cancelled. Kept as a fixed sequence: the random search meets it only in some runs.
#[test]
fn a_success_notification_behind_a_lost_cancel_answer_is_not_called_paid() {
    let s = Scenario {
        auto_debit: false,
        start_offset_secs: 0,
        attested: false,
        foreign: None,
        closes_at_expiry: false,
        outage: None,
        bad_network: true,
        call_budget: None,
        choices: vec![
            0, 19681, 412, 0, 2, 6912, 0, 3147, 514, 852, 0, 2, 2, 0, 30007, 6032, 2582, 0, 9802,
            652, 0, 840, 0, 0, 242, 52, 0, 9897, 0, 0, 2, 0, 0, 5, 2, 0, 242, 652, 0, 4061, 72, 0,
            2, 1522, 0, 29063, 0, 1382, 0, 57141, 232, 3902, 14836, 21943, 0, 1, 0, 1, 0, 1, 0,
            665, 0, 0,
        ],
    };
    run(&s);
}

/// The late-landing rule on the machine (issue 20): after a cancel's ORDER_NOT_EXIST, a pay
/// whose answer was lost lands later; closing on the next ORDER_NOT_EXIST without waiting for
/// the late-landing margin would call a charged payment failed.
#[test]
fn an_order_not_exist_close_waits_for_a_lost_pay_to_land() {
    let s = Scenario {
        auto_debit: true,
        start_offset_secs: 0,
        attested: false,
        foreign: None,
        closes_at_expiry: false,
        outage: None,
        bad_network: false,
        call_budget: None,
        choices: vec![
            0, 60472, 15472, 0, 3842, 28512, 0, 299, 1140, 112, 0, 1202, 42, 0, 31781, 2339, 52, 0,
            2, 322, 0, 26483, 0, 12, 0, 2, 2, 0, 19577, 0, 0,
        ],
    };
    run(&s);
}

/// A small call budget through a long outage: the payment ends `Unresolved` within it.
#[test]
fn a_small_call_budget_holds_through_an_outage() {
    let s = Scenario {
        auto_debit: false,
        start_offset_secs: 0,
        attested: false,
        foreign: None,
        closes_at_expiry: false,
        outage: Some((0, 21_274)),
        bad_network: false,
        call_budget: Some(5),
        choices: Vec::new(),
    };
    run(&s);
}
