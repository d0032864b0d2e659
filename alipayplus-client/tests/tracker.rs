//! The payment tracker's decisions on every path, and a randomized model of Alipay+ checking
//! that no payment is charged twice and every payment ends in a final state.

use core::time::Duration;

use alipayplus_client::time::Timestamp;
use alipayplus_client::tracker::{
    CancelReport, Final, InquiryReport, PaymentTracker, Report, ShopperRedirect, Step,
    TrackerPolicy, Update,
};

const ID: &str = "pay-0001";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// 2025-02-20T10:00:00+08:00 (02:00 UTC): the cancel deadline is 2025-02-21T00:15+08:00.
fn t0() -> Timestamp {
    Timestamp::parse_iso8601("2025-02-20T10:00:00+08:00").unwrap()
}

fn cashier(window: Duration) -> PaymentTracker {
    PaymentTracker::new(ID, t0(), t0() + window, TrackerPolicy::cashier())
}

fn url() -> ShopperRedirect {
    ShopperRedirect::Url("https://wallet.test/checkout/1".into())
}

fn in_process(tracker: &mut PaymentTracker, now: Timestamp) {
    assert_eq!(tracker.next_step(now), Step::Pay);
    assert_eq!(
        tracker.on_pay(now, Report::unknown("PAYMENT_IN_PROCESS"), Some(url())),
        Update::Progress
    );
    assert_eq!(tracker.next_step(now), Step::RedirectShopper(url()));
}

#[test]
fn success_at_once() {
    let mut t = cashier(secs(900));
    assert_eq!(t.payment_request_id(), ID);
    assert_eq!(t.next_step(t0()), Step::Pay);
    assert_eq!(
        t.on_pay(t0(), Report::Success, None),
        Update::Finished(Final::Succeeded)
    );
    assert_eq!(t.next_step(t0()), Step::Finished(Final::Succeeded));
    assert!(t.final_state().unwrap().is_paid());
}

#[test]
fn failure_is_final_and_allows_a_new_id() {
    let mut t = cashier(secs(900));
    t.next_step(t0());
    let update = t.on_pay(t0(), Report::failure("USER_BALANCE_NOT_ENOUGH"), None);
    let failed = Final::Failed {
        code: "USER_BALANCE_NOT_ENOUGH".into(),
    };
    assert_eq!(update, Update::Finished(failed.clone()));
    assert_eq!(t.next_step(t0() + secs(5)), Step::Finished(failed.clone()));
    assert!(failed.may_retry_with_new_id());
    assert!(!failed.is_paid());
}

#[test]
fn unknown_then_success_by_notification() {
    let mut t = cashier(secs(900));
    in_process(&mut t, t0());
    // Wait for the first inquiry; a notification comes first.
    let Step::WaitUntil(at) = t.next_step(t0()) else {
        panic!("expected a wait")
    };
    assert_eq!(at, t0() + TrackerPolicy::cashier().first_inquiry_after);
    assert_eq!(
        t.on_notification(t0() + secs(4), Report::Success),
        Update::Finished(Final::Succeeded)
    );
    assert_eq!(
        t.next_step(t0() + secs(4)),
        Step::Finished(Final::Succeeded)
    );
}

#[test]
fn unknown_then_success_by_inquiry_with_backoff() {
    let mut t = cashier(secs(900));
    in_process(&mut t, t0());
    let mut now = t0();
    let mut waits = Vec::new();
    for _ in 0..4 {
        let Step::WaitUntil(at) = t.next_step(now) else {
            panic!("expected a wait")
        };
        waits.push(at.since(now).as_secs());
        now = at;
        assert_eq!(t.next_step(now), Step::Inquire);
        assert_eq!(
            t.on_inquiry(
                now,
                InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS"))
            ),
            Update::Progress
        );
    }
    assert_eq!(waits, [10, 10, 20, 40], "polls back off");
    let Step::WaitUntil(at) = t.next_step(now) else {
        panic!("expected a wait")
    };
    assert_eq!(at.since(now), secs(60), "capped at the maximum interval");
    assert_eq!(
        t.on_inquiry(at, InquiryReport::Payment(Report::Success)),
        Update::Finished(Final::Succeeded)
    );
}

#[test]
fn unknown_until_the_window_ends_then_cancel() {
    let mut t = cashier(secs(300));
    in_process(&mut t, t0());
    let mut now = t0();
    let mut inquiries = 0;
    let action = loop {
        match t.next_step(now) {
            Step::WaitUntil(at) => {
                assert!(at > now);
                now = at;
            }
            Step::Inquire => {
                inquiries += 1;
                t.on_inquiry(
                    now,
                    InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS")),
                );
            }
            other => break other,
        }
    };
    assert_eq!(action, Step::Cancel);
    assert!(inquiries >= 5, "{inquiries}");
    assert!(now >= t0() + secs(300) + TrackerPolicy::cashier().cancel_margin);
    assert!(now <= t.cancel_deadline());
    // A lost cancel answer is retried, with the same id.
    assert_eq!(t.on_cancel(now, CancelReport::NoAnswer), Update::Progress);
    let Step::WaitUntil(at) = t.next_step(now) else {
        panic!("expected a wait before retrying the cancel")
    };
    assert_eq!(t.next_step(at), Step::Cancel);
    assert_eq!(
        t.on_cancel(at, CancelReport::Cancelled),
        Update::Finished(Final::Cancelled)
    );
    assert!(t.final_state().unwrap().may_retry_with_new_id());
}

#[test]
fn cancel_refused_because_already_paid_is_settled_by_inquiry() {
    let mut t = cashier(secs(60));
    in_process(&mut t, t0());
    let mut now = t0();
    loop {
        match t.next_step(now) {
            Step::WaitUntil(at) => now = at,
            Step::Inquire => {
                t.on_inquiry(now, InquiryReport::NoAnswer);
            }
            Step::Cancel => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        t.on_cancel(now, CancelReport::Rejected("ORDER_STATUS_INVALID".into())),
        Update::Progress
    );
    assert_eq!(t.next_step(now), Step::Inquire);
    assert_eq!(
        t.on_inquiry(now, InquiryReport::Payment(Report::Success)),
        Update::Finished(Final::Succeeded)
    );
}

#[test]
fn duplicate_and_late_notifications_are_harmless() {
    let mut t = cashier(secs(900));
    in_process(&mut t, t0());
    assert_eq!(
        t.on_notification(t0() + secs(20), Report::Success),
        Update::Finished(Final::Succeeded)
    );
    for _ in 0..3 {
        assert_eq!(
            t.on_notification(t0() + secs(25), Report::Success),
            Update::Ignored
        );
    }
    // A late, stale pay answer and a late inquiry agreeing change nothing.
    assert_eq!(
        t.on_pay(
            t0() + secs(30),
            Report::unknown("PAYMENT_IN_PROCESS"),
            Some(url())
        ),
        Update::Ignored
    );
    assert_eq!(
        t.on_inquiry(t0() + secs(30), InquiryReport::Payment(Report::Success)),
        Update::Ignored
    );
    // A contradicting late report is surfaced, and the first final state kept.
    assert_eq!(
        t.on_notification(t0() + secs(40), Report::failure("RISK_REJECT")),
        Update::Conflict {
            before: Final::Succeeded,
            now: Final::Succeeded
        }
    );
    assert_eq!(
        t.next_step(t0() + secs(40)),
        Step::Finished(Final::Succeeded)
    );
    // notifyPayment never carries U; one that does teaches nothing.
    let mut t2 = cashier(secs(900));
    in_process(&mut t2, t0());
    assert_eq!(
        t2.on_notification(t0(), Report::unknown("X")),
        Update::Ignored
    );
    assert!(t2.final_state().is_none());
}

#[test]
fn late_success_after_a_failure_wins_and_results_resolve_unresolved() {
    let mut t = cashier(secs(900));
    t.next_step(t0());
    t.on_pay(t0(), Report::failure("RISK_REJECT"), None);
    let failed = Final::Failed {
        code: "RISK_REJECT".into(),
    };
    assert_eq!(
        t.on_notification(t0() + secs(5), Report::Success),
        Update::Conflict {
            before: failed,
            now: Final::Succeeded
        }
    );
    let end = t.final_state().unwrap();
    assert!(end.is_paid() && !end.may_retry_with_new_id());

    // Unresolved, then the notification finally arrives: resolved, not a conflict.
    let mut t = cashier(secs(60));
    in_process(&mut t, t0());
    let mut now = t0();
    loop {
        match t.next_step(now) {
            Step::WaitUntil(at) => now = at,
            Step::Inquire => {
                t.on_inquiry(now, InquiryReport::NoAnswer);
            }
            Step::Cancel => {
                t.on_cancel(now, CancelReport::NoAnswer);
            }
            Step::Finished(f) => {
                assert_eq!(f, Final::Unresolved);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        t.on_notification(now, Report::Success),
        Update::Finished(Final::Succeeded)
    );
}

#[test]
fn late_success_notification_after_cancel_keeps_cancelled() {
    let mut t = cashier(secs(60));
    in_process(&mut t, t0());
    let mut now = t0();
    while t.next_step(now) != Step::Cancel {
        match t.next_step(now) {
            Step::WaitUntil(at) => now = at,
            Step::Inquire => {
                t.on_inquiry(now, InquiryReport::NoAnswer);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    t.on_cancel(now, CancelReport::Cancelled);
    assert_eq!(
        t.on_notification(now + secs(5), Report::Success),
        Update::Conflict {
            before: Final::Cancelled,
            now: Final::Cancelled
        }
    );
}

#[test]
fn transport_errors_on_pay_retry_the_same_id_then_poll() {
    let mut t = cashier(secs(900));
    let mut now = t0();
    let mut pays = 0;
    loop {
        match t.next_step(now) {
            Step::Pay => {
                pays += 1;
                t.on_pay(now, Report::Unknown(None), None);
            }
            Step::WaitUntil(at) => now = at,
            Step::Inquire => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pays, TrackerPolicy::cashier().max_pay_attempts);
    assert_eq!(t.payment_request_id(), ID, "retries never change the id");
    // The pay never landed: Alipay+ does not know the order; it is sent again (same id).
    // Here all attempts are used, so the tracker keeps polling and later cancels.
    t.on_inquiry(now, InquiryReport::OrderNotFound);
    let mut guard = 0;
    loop {
        guard += 1;
        assert!(guard < 1000);
        match t.next_step(now) {
            Step::WaitUntil(at) => now = at,
            Step::Inquire => {
                t.on_inquiry(now, InquiryReport::OrderNotFound);
            }
            Step::Cancel => {
                t.on_cancel(now, CancelReport::OrderNotFound);
            }
            Step::Finished(f) => {
                assert_eq!(
                    f,
                    Final::Failed {
                        code: "ORDER_NOT_EXIST".into()
                    }
                );
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn order_not_found_after_a_lost_pay_resends_pay() {
    let mut t = cashier(secs(900));
    assert_eq!(t.next_step(t0()), Step::Pay);
    t.on_pay(t0(), Report::Unknown(None), None);
    // Caller inquires on its own (allowed at any time):
    t.on_inquiry(t0() + secs(1), InquiryReport::OrderNotFound);
    let Step::WaitUntil(at) = t.next_step(t0() + secs(1)) else {
        panic!("expected a wait")
    };
    assert_eq!(t.next_step(at), Step::Pay);
}

#[test]
fn a_stored_tracker_resumes_where_it_was() {
    let mut t = cashier(secs(900));
    in_process(&mut t, t0());
    let stored = serde_json::to_string(&t).unwrap();
    let mut resumed: PaymentTracker = serde_json::from_str(&stored).unwrap();
    assert_eq!(resumed.payment_request_id(), ID);
    assert_eq!(resumed.next_step(t0()), t.next_step(t0()));
    assert_eq!(
        resumed.on_notification(t0() + secs(3), Report::Success),
        Update::Finished(Final::Succeeded)
    );
}

#[test]
fn repeat_req_inconsistent_is_a_caller_error_not_a_payment_to_follow() {
    let mut t = cashier(secs(900));
    t.next_step(t0());
    // The send recorded before it left (the follower does): the proof of the bytes sent.
    t.record_pay_send(b"{}");
    let reused = Final::RequestIdReused {
        new_id_is_safe: true,
    };
    assert_eq!(
        t.on_pay(t0(), Report::failure("REPEAT_REQ_INCONSISTENT"), None),
        Update::Finished(reused.clone())
    );
    assert_eq!(t.next_step(t0()), Step::Finished(reused));
}

#[test]
fn cancel_happens_before_the_deadline_even_if_the_window_is_longer() {
    // Created 23:50 UTC+8 with a 2 h window: the cancel deadline (00:15 UTC+8 next day)
    // comes first, so the tracker cancels before it.
    let start = Timestamp::parse_iso8601("2025-02-20T23:50:00+08:00").unwrap();
    let mut t = PaymentTracker::new(ID, start, start + secs(7200), TrackerPolicy::cashier());
    assert_eq!(
        t.cancel_deadline(),
        Timestamp::parse_iso8601("2025-02-21T00:15:00+08:00").unwrap()
    );
    assert!(t.cancel_at() < t.cancel_deadline());
    t.next_step(start);
    t.on_pay(start, Report::unknown("PAYMENT_IN_PROCESS"), Some(url()));
    let mut now = start;
    loop {
        match t.next_step(now) {
            Step::WaitUntil(at) => now = at,
            Step::RedirectShopper(_) => {}
            Step::Inquire => {
                t.on_inquiry(now, InquiryReport::NoAnswer);
            }
            Step::Cancel => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(now < t.cancel_deadline());
    // Just after midnight UTC+8 the deadline is still the same day's 00:15.
    let early = Timestamp::parse_iso8601("2025-02-21T00:05:00+08:00").unwrap();
    let t2 = PaymentTracker::new(ID, early, early + secs(60), TrackerPolicy::cashier());
    assert_eq!(
        t2.cancel_deadline(),
        Timestamp::parse_iso8601("2025-02-22T00:15:00+08:00").unwrap()
    );
}

#[test]
fn cancel_never_answering_ends_unresolved_not_failed() {
    let mut t = cashier(secs(60));
    in_process(&mut t, t0());
    let mut now = t0();
    let mut guard = 0;
    let end = loop {
        guard += 1;
        assert!(guard < 100_000, "must finish");
        match t.next_step(now) {
            Step::WaitUntil(at) => now = at,
            Step::Inquire => {
                t.on_inquiry(now, InquiryReport::NoAnswer);
            }
            Step::Cancel => {
                t.on_cancel(now, CancelReport::NoAnswer);
            }
            Step::Finished(f) => break f,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(end, Final::Unresolved);
    assert!(!end.is_paid() && !end.may_retry_with_new_id());
    assert!(now >= t.cancel_deadline());
}

#[test]
fn auto_debit_cadence_is_every_3s_for_60s_then_cancel() {
    let mut t = PaymentTracker::new(ID, t0(), t0() + secs(60), TrackerPolicy::auto_debit());
    t.next_step(t0());
    t.on_pay(t0(), Report::unknown("PAYMENT_IN_PROCESS"), None);
    t.on_pay(t0(), Report::unknown("PAYMENT_IN_PROCESS"), None);
    t.on_pay(t0(), Report::unknown("PAYMENT_IN_PROCESS"), None);
    let mut now = t0();
    let mut inquiry_times = Vec::new();
    loop {
        match t.next_step(now) {
            Step::WaitUntil(at) => now = at,
            Step::Pay => {
                t.on_pay(now, Report::unknown("PAYMENT_IN_PROCESS"), None);
            }
            Step::Inquire => {
                inquiry_times.push(now.since(t0()).as_secs());
                t.on_inquiry(
                    now,
                    InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS")),
                );
            }
            Step::Cancel => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(now.since(t0()), secs(60));
    assert_eq!(inquiry_times.first(), Some(&3));
    assert!(
        inquiry_times.windows(2).all(|w| w[1] - w[0] == 3),
        "{inquiry_times:?}"
    );
}

// ---- randomized model ------------------------------------------------------------------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Missing,
    InProcess,
    Paid,
    Declined,
    Cancelled,
}

/// Alipay+ as seen through an unreliable network: requests or answers get lost, answers are
/// sometimes U, the shopper pays (or declines, or never acts) at some time, notifications are
/// delayed, duplicated or lost.
struct Model {
    rng: Rng,
    order: Order,
    ids_seen: Vec<String>,
    charges: u32,
    shopper_acts_at: Option<Timestamp>,
    shopper_pays: bool,
    expiry: Timestamp,
    notifications: Vec<(Timestamp, Order)>,
    loss: u64,
    /// Chance (percent) that the gateway refuses a pay or cancel request before looking at
    /// the payment (`INVALID_SIGNATURE`, e.g. during a key rotation).
    rejects: u64,
    /// How long after the expiry Alipay+ closes an unpaid order by itself (maybe never).
    closes_after: Option<Duration>,
}

impl Model {
    fn lost(&mut self) -> bool {
        self.rng.chance(self.loss)
    }

    fn advance(&mut self, now: Timestamp) {
        if let Some(at) = self.shopper_acts_at
            && now >= at
            && self.order == Order::InProcess
        {
            self.shopper_acts_at = None;
            if at < self.expiry {
                self.order = if self.shopper_pays {
                    self.charges += 1;
                    Order::Paid
                } else {
                    Order::Declined
                };
                let copies = 1 + self.rng.below(3);
                for _ in 0..copies {
                    if !self.rng.chance(30) {
                        let delay = Duration::from_secs(self.rng.below(600));
                        self.notifications.push((at + delay, self.order));
                    }
                }
            }
        }
        if let Some(after) = self.closes_after
            && self.order == Order::InProcess
            && now >= self.expiry + after
        {
            // Alipay+ closes an expired order (a failure the ACQP learns by inquiry).
            self.order = Order::Declined;
        }
    }

    fn next_event(&self) -> Option<Timestamp> {
        let n = self.notifications.iter().map(|(t, _)| *t).min();
        match (n, self.shopper_acts_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn rejected(&mut self) -> bool {
        self.rejects > 0 && self.rng.chance(self.rejects)
    }

    fn pay(&mut self, id: &str, now: Timestamp) -> (Report, Option<ShopperRedirect>) {
        if self.lost() {
            return (Report::Unknown(None), None); // request lost
        }
        if self.rejected() {
            return (Report::failure("INVALID_SIGNATURE"), None); // not processed
        }
        if !self.ids_seen.iter().any(|s| s == id) {
            self.ids_seen.push(id.to_string());
        }
        if self.order == Order::Missing {
            self.order = Order::InProcess;
            self.shopper_acts_at = Some(now + Duration::from_secs(self.rng.below(1500)));
        }
        if self.lost() {
            return (Report::Unknown(None), None); // answer lost
        }
        match self.order {
            Order::InProcess => (
                Report::unknown("PAYMENT_IN_PROCESS"),
                Some(ShopperRedirect::Url("https://wallet.test/x".into())),
            ),
            Order::Paid => (Report::Success, None),
            Order::Declined => (Report::failure("USER_BALANCE_NOT_ENOUGH"), None),
            Order::Cancelled => (Report::failure("ORDER_IS_CLOSED"), None),
            Order::Missing => unreachable!(),
        }
    }

    fn inquire(&mut self) -> InquiryReport {
        if self.lost() || self.rng.chance(10) {
            return InquiryReport::NoAnswer;
        }
        match self.order {
            Order::Missing => InquiryReport::OrderNotFound,
            Order::InProcess => InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS")),
            Order::Paid => InquiryReport::Payment(Report::Success),
            Order::Declined => InquiryReport::Payment(Report::failure("USER_BALANCE_NOT_ENOUGH")),
            Order::Cancelled => InquiryReport::Payment(Report::failure("ORDER_IS_CLOSED")),
        }
    }

    fn cancel(&mut self) -> CancelReport {
        if self.lost() {
            return CancelReport::NoAnswer;
        }
        if self.rejected() {
            return CancelReport::Rejected("INVALID_SIGNATURE".into());
        }
        let answer = match self.order {
            Order::Missing => CancelReport::OrderNotFound,
            Order::InProcess | Order::Cancelled => {
                self.order = Order::Cancelled;
                CancelReport::Cancelled
            }
            Order::Paid => {
                // Spec: a cancel after the charge returns the money.
                self.order = Order::Cancelled;
                self.charges -= 1;
                CancelReport::Cancelled
            }
            Order::Declined => CancelReport::Rejected("ORDER_STATUS_INVALID".into()),
        };
        if self.lost() {
            CancelReport::NoAnswer
        } else {
            answer
        }
    }
}

fn run_model(seed: u64, loss: u64, rejects: u64) {
    let start = t0() + Duration::from_secs(seed % 86_400);
    let window = Duration::from_secs(900);
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let shopper_pays = rng.chance(60);
    let closes_after = rng.chance(50).then(|| Duration::from_secs(rng.below(300)));
    let mut model = Model {
        rng,
        order: Order::Missing,
        ids_seen: Vec::new(),
        charges: 0,
        shopper_acts_at: None,
        shopper_pays,
        expiry: start + window,
        notifications: Vec::new(),
        loss,
        rejects,
        closes_after,
    };
    let mut tracker = PaymentTracker::new(
        format!("id-{seed}"),
        start,
        start + window,
        TrackerPolicy::cashier(),
    );
    let mut now = start;
    let mut steps = 0;
    let end = loop {
        steps += 1;
        assert!(steps < 10_000, "seed {seed}: no final state");
        model.advance(now);
        // Deliver due notifications (possibly duplicated, late, after a final state).
        let (due, later): (Vec<_>, Vec<_>) =
            model.notifications.drain(..).partition(|(t, _)| *t <= now);
        model.notifications = later;
        for (_, order) in due {
            let report = match order {
                Order::Paid => Report::Success,
                _ => Report::failure("USER_BALANCE_NOT_ENOUGH"),
            };
            tracker.on_notification(now, report);
        }
        match tracker.next_step(now) {
            Step::Pay => {
                let id = tracker.payment_request_id().to_string();
                let (report, redirect) = model.pay(&id, now);
                tracker.on_pay(now, report, redirect);
            }
            Step::RedirectShopper(_) => {}
            Step::Inquire => {
                let report = model.inquire();
                tracker.on_inquiry(now, report);
            }
            Step::Cancel => {
                let report = model.cancel();
                tracker.on_cancel(now, report);
            }
            Step::WaitUntil(at) => {
                assert!(at > now, "seed {seed}: waiting must move time forward");
                now = match model.next_event() {
                    Some(e) if e > now && e < at => e,
                    _ => at,
                };
            }
            Step::Finished(f) => break f,
            other => panic!("seed {seed}: unexpected {other:?}"),
        }
    };
    assert!(
        model.ids_seen.len() <= 1,
        "seed {seed}: one paymentRequestId only"
    );
    assert!(model.charges <= 1, "seed {seed}: charged twice");
    match end {
        Final::Succeeded => assert_eq!(model.order, Order::Paid, "seed {seed}"),
        Final::Cancelled => assert_eq!(model.order, Order::Cancelled, "seed {seed}"),
        // Cancelled: a cancel whose answer was lost, then a retry refused at the gateway; the
        // inquiry reports the closed order as a failed payment (nothing charged either way).
        Final::Failed { .. } => assert!(
            matches!(
                model.order,
                Order::Missing | Order::Declined | Order::Cancelled
            ),
            "seed {seed}: failed but {:?}",
            model.order
        ),
        Final::Unresolved => assert!(
            loss > 0 || rejects > 0,
            "seed {seed}: unresolved on a perfect network"
        ),
        other => panic!("seed {seed}: {other:?}"),
    }
    // Once paid and reported paid, the charge stands; once failed/cancelled, nothing charged.
    if end.may_retry_with_new_id() {
        assert_eq!(
            model.charges, 0,
            "seed {seed}: a new id would double charge"
        );
    }
}

#[test]
fn randomized_model_never_double_charges_and_always_finishes() {
    for seed in 1..400 {
        run_model(seed, 0, 0);
        run_model(seed, 20, 0);
        run_model(seed, 60, 0);
        run_model(seed, 20, 30);
        run_model(seed, 0, 50);
    }
}

/// The cancel deadline is 00:15 UTC+8 of the day after the payment's UTC+8 calendar day,
/// whatever offset the start time was written in (offsets are fixed: no DST rules apply).
#[test]
fn cancel_deadline_table_across_zones_and_day_boundaries() {
    let cases = [
        // (payment started, deadline)
        ("2025-02-20T23:59:00+08:00", "2025-02-21T00:15:00+08:00"),
        ("2025-02-20T23:59:59.999+08:00", "2025-02-21T00:15:00+08:00"),
        ("2025-02-21T00:00:00+08:00", "2025-02-22T00:15:00+08:00"),
        ("2025-02-21T00:00:00.001+08:00", "2025-02-22T00:15:00+08:00"),
        ("2025-02-21T00:14:00+08:00", "2025-02-22T00:15:00+08:00"),
        ("2025-02-21T00:16:00+08:00", "2025-02-22T00:15:00+08:00"),
        // UTC: 16:00Z is midnight UTC+8.
        ("2025-02-20T15:59:59Z", "2025-02-21T00:15:00+08:00"),
        ("2025-02-20T16:00:00Z", "2025-02-22T00:15:00+08:00"),
        ("2025-02-20T00:00:00Z", "2025-02-21T00:15:00+08:00"),
        // West of UTC: the UTC+8 day is already the next one.
        ("2025-02-20T10:59:59-05:00", "2025-02-21T00:15:00+08:00"),
        ("2025-02-20T11:00:00-05:00", "2025-02-22T00:15:00+08:00"),
        ("2025-02-20T03:59:00-12:00", "2025-02-21T00:15:00+08:00"),
        ("2025-02-20T04:00:00-12:00", "2025-02-22T00:15:00+08:00"),
        // East of UTC+8: the UTC+8 day may still be the previous one.
        ("2025-02-21T01:59:00+10:00", "2025-02-21T00:15:00+08:00"),
        ("2025-02-21T05:59:59+14:00", "2025-02-21T00:15:00+08:00"),
        ("2025-02-21T06:00:00+14:00", "2025-02-22T00:15:00+08:00"),
        ("2025-02-20T21:29:59+05:30", "2025-02-21T00:15:00+08:00"),
        ("2025-02-20T21:30:00+05:30", "2025-02-22T00:15:00+08:00"),
        // Around a New York DST change (the written offset is what counts).
        ("2025-03-09T01:59:00-05:00", "2025-03-10T00:15:00+08:00"),
        ("2025-03-09T03:00:00-04:00", "2025-03-10T00:15:00+08:00"),
        ("2025-03-09T11:59:59-04:00", "2025-03-10T00:15:00+08:00"),
        ("2025-03-09T12:00:00-04:00", "2025-03-11T00:15:00+08:00"),
        // Month, leap day and year boundaries.
        ("2024-02-28T23:30:00+08:00", "2024-02-29T00:15:00+08:00"),
        ("2024-02-29T23:30:00+08:00", "2024-03-01T00:15:00+08:00"),
        ("2024-12-31T23:59:59+08:00", "2025-01-01T00:15:00+08:00"),
        ("2024-12-31T16:00:00Z", "2025-01-02T00:15:00+08:00"),
        // Before 1970 (negative Unix time).
        ("1969-12-31T23:00:00+08:00", "1970-01-01T00:15:00+08:00"),
    ];
    for (start, deadline) in cases {
        let s = Timestamp::parse_iso8601(start).unwrap();
        let t = PaymentTracker::new(ID, s, s + secs(60), TrackerPolicy::auto_debit());
        assert_eq!(
            t.cancel_deadline(),
            Timestamp::parse_iso8601(deadline).unwrap(),
            "started {start}"
        );
        assert!(t.cancel_at() <= t.cancel_deadline(), "started {start}");
    }
}

/// A payment started at 23:59 UTC+8 whose cancels go unanswered: cancel is still sent at
/// 00:14 and at 00:15:00 (T+1), never after; after the deadline the payment is only inquired
/// and ends unresolved, never failed; a late success still resolves it.
#[test]
fn cancel_at_the_edges_of_the_deadline() {
    let at = |s: &str| Timestamp::parse_iso8601(s).unwrap();
    let start = at("2025-02-20T23:59:00+08:00");
    let mut t = PaymentTracker::new(ID, start, start + secs(900), TrackerPolicy::cashier());
    in_process(&mut t, start);
    // cancel_at: the window (00:14 + 60 s margin) is later than deadline - 120 s = 00:13.
    assert_eq!(t.cancel_at(), at("2025-02-21T00:13:00+08:00"));
    assert_eq!(t.next_step(at("2025-02-21T00:14:00+08:00")), Step::Cancel);
    t.on_cancel(at("2025-02-21T00:14:00+08:00"), CancelReport::NoAnswer);
    assert_eq!(
        t.next_step(at("2025-02-21T00:14:00+08:00")),
        Step::WaitUntil(at("2025-02-21T00:14:02+08:00"))
    );
    assert_eq!(t.next_step(at("2025-02-21T00:15:00+08:00")), Step::Cancel);
    t.on_cancel(at("2025-02-21T00:15:00+08:00"), CancelReport::NoAnswer);
    // 00:16: too late to cancel.
    let late = at("2025-02-21T00:16:00+08:00");
    assert_eq!(t.next_step(late), Step::Inquire);
    t.on_inquiry(late, InquiryReport::OrderNotFound);
    let mut now = late;
    let end = loop {
        match t.next_step(now) {
            Step::WaitUntil(w) => now = w,
            Step::Inquire => {
                t.on_inquiry(
                    now,
                    InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS")),
                );
            }
            Step::Finished(f) => break f,
            other => panic!("no cancel after the deadline, got {other:?} at {now:?}"),
        }
    };
    assert_eq!(end, Final::Unresolved);
    assert!(!end.may_retry_with_new_id());
    assert_eq!(
        t.on_notification(now + secs(1), Report::Success),
        Update::Finished(Final::Succeeded)
    );

    // Started just after midnight UTC+8: a whole day to cancel; the window decides.
    let start = at("2025-02-21T00:00:30+08:00");
    let t = PaymentTracker::new(ID, start, start + secs(900), TrackerPolicy::cashier());
    assert_eq!(t.cancel_at(), start + secs(960));
}

/// What each answer does to an open payment: only S/F of the payment (pay, notification,
/// inquiry paymentResult) or a confirmed cancel end it; U, no answer, ORDER_NOT_EXIST on an
/// inquiry and a refused cancel never make it failed.
#[test]
fn only_definite_answers_end_an_open_payment() {
    let failed = |c: &str| Some(Final::Failed { code: c.into() });
    type Feed = fn(&mut PaymentTracker, Timestamp) -> Update;
    let cases: [(&str, Feed, Option<Final>); 12] = [
        (
            "inquiry S/S",
            |t, n| t.on_inquiry(n, InquiryReport::Payment(Report::Success)),
            Some(Final::Succeeded),
        ),
        (
            "inquiry S/F",
            |t, n| t.on_inquiry(n, InquiryReport::Payment(Report::failure("RISK_REJECT"))),
            failed("RISK_REJECT"),
        ),
        (
            "inquiry S/U",
            |t, n| {
                t.on_inquiry(
                    n,
                    InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS")),
                )
            },
            None,
        ),
        (
            "inquiry S/U no code",
            |t, n| t.on_inquiry(n, InquiryReport::Payment(Report::Unknown(None))),
            None,
        ),
        (
            "inquiry F/ORDER_NOT_EXIST",
            |t, n| t.on_inquiry(n, InquiryReport::OrderNotFound),
            None,
        ),
        (
            "inquiry no answer",
            |t, n| t.on_inquiry(n, InquiryReport::NoAnswer),
            None,
        ),
        (
            "notification S",
            |t, n| t.on_notification(n, Report::Success),
            Some(Final::Succeeded),
        ),
        (
            "notification F",
            |t, n| t.on_notification(n, Report::failure("ORDER_IS_CLOSED")),
            failed("ORDER_IS_CLOSED"),
        ),
        (
            "notification U (not in the spec)",
            |t, n| t.on_notification(n, Report::unknown("X")),
            None,
        ),
        (
            "cancel S",
            |t, n| t.on_cancel(n, CancelReport::Cancelled),
            Some(Final::Cancelled),
        ),
        (
            "cancel refused",
            |t, n| t.on_cancel(n, CancelReport::Rejected("ORDER_STATUS_INVALID".into())),
            None,
        ),
        (
            "cancel no answer",
            |t, n| t.on_cancel(n, CancelReport::NoAnswer),
            None,
        ),
    ];
    for (what, step, expected) in cases {
        for redirect in [true, false] {
            let mut t = cashier(secs(900));
            assert_eq!(t.next_step(t0()), Step::Pay);
            let r = redirect.then(url);
            t.on_pay(t0(), Report::unknown("PAYMENT_IN_PROCESS"), r);
            let update = step(&mut t, t0() + secs(20));
            assert_eq!(
                t.final_state().cloned(),
                expected,
                "{what}, redirect {redirect}"
            );
            match &expected {
                Some(f) => assert_eq!(update, Update::Finished(f.clone()), "{what}"),
                None => assert!(
                    matches!(update, Update::Progress | Update::Ignored),
                    "{what}: {update:?}"
                ),
            }
        }
    }
}

/// A pay retry (after an attempt whose answer was lost) refused at the gateway, e.g.
/// `INVALID_SIGNATURE` during a key rotation, says nothing about the payment the first attempt
/// may have created: the payment stays unknown (no new id allowed) and is followed. The same
/// code on the first attempt, and a business failure on a retry, are final.
#[test]
fn a_gateway_rejection_of_a_pay_retry_is_not_a_failed_payment() {
    const REQUEST_REJECTED_CODES: &[&str] = &[
        "INVALID_SIGNATURE",
        "KEY_NOT_FOUND",
        "INVALID_CLIENT",
        "INVALID_CLIENT_STATUS",
        "ACCESS_DENIED",
        "INVALID_API",
        "METHOD_NOT_SUPPORTED",
        "MEDIA_TYPE_NOT_ACCEPTABLE",
        "NO_INTERFACE_DEF",
        "MSG_PARSE_ERROR",
        "FUNCTION_NOT_MATCH",
    ];
    for &code in REQUEST_REJECTED_CODES {
        // First attempt refused: nothing was processed, a definite failure.
        let mut t = PaymentTracker::new(ID, t0(), t0() + secs(60), TrackerPolicy::auto_debit());
        t.next_step(t0());
        assert_eq!(
            t.on_pay(t0(), Report::failure(code), None),
            Update::Finished(Final::Failed { code: code.into() })
        );
        // A retry refused after a lost answer: unknown; retried, then inquired, cancelled.
        let mut t = PaymentTracker::new(ID, t0(), t0() + secs(60), TrackerPolicy::auto_debit());
        let mut now = t0();
        let mut pays = 0;
        let mut first = true;
        let end = loop {
            match t.next_step(now) {
                Step::Pay => {
                    pays += 1;
                    let report = if first {
                        Report::Unknown(None)
                    } else {
                        Report::failure(code)
                    };
                    first = false;
                    assert_eq!(t.on_pay(now, report, None), Update::Progress, "{code}");
                }
                Step::WaitUntil(at) => now = at,
                // The first attempt had landed: Alipay+ reports the payment in process.
                Step::Inquire => {
                    t.on_inquiry(
                        now,
                        InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS")),
                    );
                }
                Step::Cancel => {
                    t.on_cancel(now, CancelReport::Cancelled);
                }
                Step::Finished(f) => break f,
                other => panic!("{code}: unexpected {other:?}"),
            }
        };
        assert_eq!(pays, TrackerPolicy::auto_debit().max_pay_attempts, "{code}");
        assert_eq!(end, Final::Cancelled, "{code}");
    }
    // A business failure on a retry is the payment's result (idempotent on the id).
    let mut t = cashier(secs(900));
    t.next_step(t0());
    t.on_pay(t0(), Report::Unknown(None), None);
    assert_eq!(
        t.on_pay(
            t0() + secs(2),
            Report::failure("USER_BALANCE_NOT_ENOUGH"),
            None
        ),
        Update::Finished(Final::Failed {
            code: "USER_BALANCE_NOT_ENOUGH".into()
        })
    );
}

/// A verified inquiry answer about another payment (the response signature does not cover the
/// request, so a replayed or misrouted answer verifies) must not settle this one.
#[test]
fn an_inquiry_answer_about_another_payment_settles_nothing() {
    use alipayplus_client::client::{Outcome, Reply};
    use alipayplus_client::transport::Response;
    use alipayplus_types::InquiryPaymentResponse;

    let answer = |id: &str, status: &str| {
        let body = format!(
            r#"{{"result":{{"resultCode":"SUCCESS","resultStatus":"S"}},"paymentRequestId":"{id}","paymentResult":{{"resultCode":"SUCCESS","resultStatus":"{status}"}}}}"#
        );
        let parsed: InquiryPaymentResponse = serde_json::from_str(&body).unwrap();
        Outcome::Success(Reply {
            body: parsed,
            response: Response::new(200, body.into_bytes()),
            key_version: 1,
        })
    };
    let mut tracker = cashier(secs(600));
    in_process(&mut tracker, t0());
    let later = t0() + secs(30);
    assert_eq!(tracker.next_step(later), Step::Inquire);
    tracker.on_inquiry_outcome(later, &answer("pay-other", "S"));
    assert_eq!(tracker.final_state(), None);
    tracker.on_inquiry_outcome(later, &answer("pay-other", "F"));
    assert_eq!(tracker.final_state(), None);
    // Its own answer settles it.
    tracker.on_inquiry_outcome(later, &answer(ID, "S"));
    assert_eq!(tracker.final_state(), Some(&Final::Succeeded));
}

/// Extreme times and policies (a stored tracker restored from a database, a clock far off):
/// every decision is computed without an arithmetic panic.
#[test]
fn extreme_times_and_policies_do_not_panic() {
    let huge = Duration::MAX;
    let mut policies = vec![TrackerPolicy::cashier(), TrackerPolicy::auto_debit()];
    let mut p = TrackerPolicy::cashier();
    p.inquiry_interval = huge;
    p.max_inquiry_interval = huge;
    p.first_inquiry_after = huge;
    p.cancel_margin = huge;
    p.deadline_margin = huge;
    p.retry_delay = huge;
    p.settle_after_deadline = huge;
    p.default_window = huge;
    p.max_pay_attempts = u32::MAX;
    policies.push(p);
    for policy in policies {
        for start in [i64::MIN, -1, 0, i64::MAX - 1, i64::MAX] {
            let now = Timestamp::from_unix_millis(start);
            for end in [Timestamp::from_unix_millis(i64::MIN), now, now + huge] {
                let mut t = PaymentTracker::new(ID, now, end, policy.clone());
                let _ = (t.cancel_deadline(), t.cancel_at());
                for step in 0..8 {
                    let at = match step % 3 {
                        0 => now,
                        1 => now + huge,
                        _ => Timestamp::from_unix_millis(i64::MIN),
                    };
                    match t.next_step(at) {
                        Step::Pay => {
                            t.on_pay(at, Report::unknown("PAYMENT_IN_PROCESS"), Some(url()));
                        }
                        Step::Inquire => {
                            t.on_inquiry(at, InquiryReport::NoAnswer);
                        }
                        Step::Cancel => {
                            t.on_cancel(at, CancelReport::NoAnswer);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}
