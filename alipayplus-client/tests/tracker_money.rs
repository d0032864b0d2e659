//! Money-safety rules of the tracker (issue 11): a reused id is a caller error that never
//! cancels or settles another order, a retry refused for the request stays unknown, a cancel
//! answered ORDER_NOT_EXIST waits for a late pay, and an outage costs a bounded number of calls.
//! Issue 19: a new id is safe only with the first send's digest recorded before it left, and
//! the close after ORDER_NOT_EXIST is judged by when the inquiry was sent.

use core::time::Duration;

use alipayplus_client::time::Timestamp;
use alipayplus_client::tracker::{
    CallTimes, CancelReport, Final, InquiryReport, PaymentTracker, Report, Step, TrackerPolicy,
    Update,
};

/// The bytes of this order's pay.
const BODY: &[u8] =
    br#"{"paymentRequestId":"pay-0001","paymentAmount":{"currency":"USD","value":"100"}}"#;

const ID: &str = "pay-0001";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn t0() -> Timestamp {
    Timestamp::parse_iso8601("2025-02-20T10:00:00+08:00").unwrap()
}

fn auto_debit() -> PaymentTracker {
    PaymentTracker::new(ID, t0(), t0() + secs(60), TrackerPolicy::auto_debit())
}

/// Drives `t` from `now` answering every call with `answer`, until it is final or `until`.
/// Returns the final state (if any), the time and how many calls were made.
fn drive(
    t: &mut PaymentTracker,
    mut now: Timestamp,
    until: Timestamp,
    mut answer: impl FnMut(&mut PaymentTracker, Timestamp, &Step) -> Update,
) -> (Option<Final>, Timestamp, u32) {
    let mut calls = 0;
    loop {
        let step = t.next_step(now);
        match &step {
            Step::Finished(f) => return (Some(f.clone()), now, calls),
            Step::WaitUntil(at) => {
                assert!(*at > now, "a wait moves time on");
                if *at > until {
                    return (None, now, calls);
                }
                now = *at;
            }
            Step::RedirectShopper(_) => {}
            Step::Pay | Step::Inquire | Step::Cancel => {
                calls += 1;
                answer(t, now, &step);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn repeat_req_inconsistent_is_a_caller_error_that_never_cancels_or_settles() {
    let mut t = auto_debit();
    assert_eq!(t.next_step(t0()), Step::Pay);
    t.record_pay_send(BODY);
    let update = t.on_pay(t0(), Report::failure("REPEAT_REQ_INCONSISTENT"), None);
    let reused = Final::RequestIdReused {
        new_id_is_safe: true,
    };
    // One attempt only, its send recorded before it left: nothing of this order reached
    // Alipay+ under that id.
    assert_eq!(update, Update::Finished(reused.clone()));
    assert!(!reused.is_paid());
    assert!(reused.may_retry_with_new_id());
    // Never a cancel, whatever time passes.
    assert_eq!(
        t.next_step(t0() + secs(86_400)),
        Step::Finished(reused.clone())
    );
    // What Alipay+ says about the payment that owns the id settles nothing here.
    let later = t0() + secs(5);
    assert_eq!(
        t.on_inquiry(later, InquiryReport::Payment(Report::Success)),
        Update::Ignored
    );
    assert_eq!(t.on_notification(later, Report::Success), Update::Ignored);
    assert_eq!(t.on_cancel(later, CancelReport::Cancelled), Update::Ignored);
    assert_eq!(
        t.on_inquiry(
            later,
            InquiryReport::Payment(Report::failure("RISK_REJECT"))
        ),
        Update::Ignored
    );
    assert_eq!(t.final_state(), Some(&reused));
}

#[test]
fn repeat_req_inconsistent_on_a_retry_allows_a_new_id_only_for_identical_attempts() {
    for identical in [false, true] {
        let mut t = auto_debit();
        t.next_step(t0());
        if identical {
            t.record_pay_send(BODY);
        }
        t.on_pay(t0(), Report::Unknown(None), None);
        let Step::WaitUntil(at) = t.next_step(t0()) else {
            panic!("a wait before the retry")
        };
        assert_eq!(t.next_step(at), Step::Pay);
        if identical {
            t.record_pay_send(BODY);
        }
        let update = t.on_pay(at, Report::failure("REPEAT_REQ_INCONSISTENT"), None);
        // Same bytes every time: the first attempt cannot have created a payment whose key
        // fields differ, so the id belongs to another order and ours was not charged. Without
        // that proof, the first attempt (other fields?) may be the payment that owns the id.
        let reused = Final::RequestIdReused {
            new_id_is_safe: identical,
        };
        assert_eq!(update, Update::Finished(reused.clone()), "{identical}");
        assert_eq!(reused.may_retry_with_new_id(), identical);
        assert_eq!(t.next_step(at + secs(600)), Step::Finished(reused));
    }
}

/// A tracker that recorded no digest for its first send (stored by an older version, or used
/// without the follower) never calls a new id safe, even after a single attempt: "sent once"
/// holds only for a send the tracker recorded before it left.
#[test]
fn without_a_recorded_first_send_no_new_id_is_safe() {
    let mut t = auto_debit();
    assert_eq!(t.next_step(t0()), Step::Pay);
    let update = t.on_pay(t0(), Report::failure("REPEAT_REQ_INCONSISTENT"), None);
    let reused = Final::RequestIdReused {
        new_id_is_safe: false,
    };
    assert_eq!(update, Update::Finished(reused.clone()));
    assert!(!reused.may_retry_with_new_id());
    assert!(t.first_pay_digest().is_none());
}

/// Issue 19 reproduction: the tracker is stored after the first pay left (no answer: a crash),
/// the order's request is rebuilt with another amount (or expiry) and sent under the same id;
/// Alipay+ answers REPEAT_REQ_INCONSISTENT because the first attempt owns the id. The old
/// tracker counted only answers, saw one attempt and said a new id was safe: a double charge.
#[test]
fn a_resumed_send_with_other_bytes_never_makes_a_new_id_safe() {
    let rebuilt: &[u8] =
        br#"{"paymentRequestId":"pay-0001","paymentAmount":{"currency":"USD","value":"120"}}"#;
    for recorded_first in [true, false] {
        let mut t = auto_debit();
        assert_eq!(t.next_step(t0()), Step::Pay);
        if recorded_first {
            t.record_pay_send(BODY);
        }
        // Stored, then the process died before the answer came. Without a recorded first
        // send: a state stored by an older version (which sent pay without recording it).
        let mut stored = serde_json::to_value(&t).unwrap();
        if !recorded_first {
            let obj = stored.as_object_mut().unwrap();
            for new in [
                "first_pay_digest",
                "pay_sends",
                "pay_bodies_differ",
                "records_sends",
            ] {
                obj.remove(new);
            }
        }
        let mut t: PaymentTracker = serde_json::from_value(stored).unwrap();
        assert_eq!(t.next_step(t0() + secs(5)), Step::Pay);
        t.record_pay_send(rebuilt);
        let update = t.on_pay(
            t0() + secs(5),
            Report::failure("REPEAT_REQ_INCONSISTENT"),
            None,
        );
        let reused = Final::RequestIdReused {
            new_id_is_safe: false,
        };
        assert_eq!(update, Update::Finished(reused.clone()), "{recorded_first}");
        assert!(!reused.may_retry_with_new_id());
    }
}

/// A recorded send whose answer was lost makes the next pay a retry: an `F` about the request
/// only then leaves the payment unknown (the first attempt may have created it).
#[test]
fn a_recorded_send_without_an_answer_makes_the_next_pay_a_retry() {
    let mut t = auto_debit();
    assert_eq!(t.next_step(t0()), Step::Pay);
    t.record_pay_send(BODY);
    let stored = serde_json::to_vec(&t).unwrap();
    let mut t: PaymentTracker = serde_json::from_slice(&stored).unwrap();
    assert_eq!(t.next_step(t0() + secs(5)), Step::Pay);
    t.record_pay_send(BODY);
    let update = t.on_pay(t0() + secs(5), Report::failure("SYSTEM_ERROR"), None);
    assert_eq!(update, Update::Progress, "unknown, not failed");
    assert_eq!(t.final_state(), None);
}

/// Issue 19 reproduction: after a cancel answered ORDER_NOT_EXIST, an inquiry sent before the
/// late-landing margin passed but answered after it proves nothing about the pays that land
/// after it was looked up: it must not close the payment. Judged by the send time.
#[test]
fn order_not_exist_close_is_judged_by_the_inquiry_send_time() {
    let mut t = auto_debit();
    t.next_step(t0());
    t.record_pay_send(BODY);
    t.on_pay(t0(), Report::Unknown(None), None);
    let cancel_at = to_cancel(&mut t);
    t.on_cancel(cancel_at, CancelReport::OrderNotFound);
    let policy = TrackerPolicy::auto_debit();
    let close_at = t.last_pay_at().unwrap() + policy.pay_in_flight + policy.late_landing_margin;
    assert_eq!(t.next_step(cancel_at), Step::Inquire);
    // Sent well before close_at, answered (slowly) after it.
    let sent = close_at - secs(50);
    let answered = close_at + secs(5);
    let update = t.on_inquiry(CallTimes::new(sent, answered), InquiryReport::OrderNotFound);
    assert_eq!(update, Update::Progress, "a slow answer does not close it");
    assert_eq!(t.final_state(), None);
    // An inquiry sent at or after close_at that still finds nothing closes it.
    let at = match t.next_step(answered) {
        Step::Inquire => answered,
        Step::WaitUntil(at) => {
            assert_eq!(t.next_step(at), Step::Inquire);
            at
        }
        other => panic!("unexpected {other:?}"),
    };
    assert!(at >= close_at);
    let update = t.on_inquiry(
        CallTimes::new(at, at + secs(1)),
        InquiryReport::OrderNotFound,
    );
    assert_eq!(
        update,
        Update::Finished(Final::Failed {
            code: "ORDER_NOT_EXIST".into()
        })
    );
}

/// On a retry after an attempt without a verified answer, an `F` that only speaks about the
/// request (token errors, system errors, parameter errors, gateway refusals) proves nothing
/// about the payment the first attempt may have created: it stays unknown and is inquired.
#[test]
fn on_a_retry_only_a_failure_about_the_payment_is_final() {
    for code in [
        "INVALID_ACCESS_TOKEN",
        "EXPIRED_ACCESS_TOKEN",
        "INVALID_TOKEN",
        "SYSTEM_ERROR",
        "PROCESS_FAIL",
        "PARAM_ILLEGAL",
        "INVALID_SIGNATURE",
        "ACCESS_DENIED",
        "A_CODE_NOBODY_DOCUMENTED",
    ] {
        let mut t = auto_debit();
        t.next_step(t0());
        t.on_pay(t0(), Report::Unknown(None), None);
        let Step::WaitUntil(at) = t.next_step(t0()) else {
            panic!("{code}: a wait before the retry")
        };
        assert_eq!(t.next_step(at), Step::Pay);
        assert_eq!(
            t.on_pay(at, Report::failure(code), None),
            Update::Progress,
            "{code}"
        );
        assert!(t.final_state().is_none(), "{code}");
        // Inquiry settles it: here the first attempt had been paid.
        let (end, _, _) = drive(&mut t, at, at + secs(3600), |t, now, step| match step {
            Step::Pay => t.on_pay(now, Report::failure(code), None),
            Step::Inquire => t.on_inquiry(now, InquiryReport::Payment(Report::Success)),
            _ => panic!("{code}: {step:?}"),
        });
        assert_eq!(end, Some(Final::Succeeded), "{code}");
    }
    // A business failure about the payment on a retry is the payment's result.
    for code in ["USER_BALANCE_NOT_ENOUGH", "RISK_REJECT", "ORDER_IS_CLOSED"] {
        let mut t = auto_debit();
        t.next_step(t0());
        t.on_pay(t0(), Report::Unknown(None), None);
        let Step::WaitUntil(at) = t.next_step(t0()) else {
            panic!()
        };
        t.next_step(at);
        assert_eq!(
            t.on_pay(at, Report::failure(code), None),
            Update::Finished(Final::Failed { code: code.into() }),
            "{code}"
        );
    }
    // On the first attempt any F is final: no earlier attempt exists.
    let mut t = auto_debit();
    t.next_step(t0());
    assert_eq!(
        t.on_pay(t0(), Report::failure("SYSTEM_ERROR"), None),
        Update::Finished(Final::Failed {
            code: "SYSTEM_ERROR".into()
        })
    );
}

/// Brings an auto-debit payment whose pay got no answer to its first cancel.
fn to_cancel(t: &mut PaymentTracker) -> Timestamp {
    let mut now = t0();
    loop {
        match t.next_step(now) {
            Step::Pay => {
                t.on_pay(now, Report::Unknown(None), None);
            }
            Step::Inquire => {
                t.on_inquiry(now, InquiryReport::NoAnswer);
            }
            Step::WaitUntil(at) => now = at,
            Step::Cancel => return now,
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn cancel_order_not_exist_waits_for_a_late_pay_before_closing() {
    let policy = TrackerPolicy::auto_debit();
    // A late pay lands: the inquiry after the cancel sees it.
    let mut t = auto_debit();
    let now = to_cancel(&mut t);
    assert_eq!(
        t.on_cancel(now, CancelReport::OrderNotFound),
        Update::Progress
    );
    assert!(t.final_state().is_none(), "not closed at once");
    assert_eq!(t.next_step(now), Step::Inquire);
    assert_eq!(
        t.on_inquiry(now, InquiryReport::Payment(Report::Success)),
        Update::Finished(Final::Succeeded)
    );

    // Nothing lands: closed as not charged once the last pay plus its time in flight plus the
    // margin has passed, not before.
    let mut t = auto_debit();
    let now = to_cancel(&mut t);
    t.on_cancel(now, CancelReport::OrderNotFound);
    let last_pay = t.last_pay_at().expect("pay was sent");
    let close = last_pay + policy.pay_in_flight + policy.late_landing_margin;
    assert!(
        close > now,
        "the test needs the landing window to reach past the cancel"
    );
    let mut inquiries = 0;
    let (end, at, _) = drive(&mut t, now, now + secs(86_400), |t, now, step| match step {
        Step::Inquire => {
            inquiries += 1;
            // The last one is made at the close: it confirms that nothing landed.
            assert!(now <= close, "no inquiry needed after the close");
            t.on_inquiry(now, InquiryReport::OrderNotFound)
        }
        _ => panic!("{step:?}"),
    });
    assert!(inquiries >= 2, "{inquiries}");
    assert!(at >= close, "closed at {at:?}, before {close:?}");
    let end = end.unwrap();
    assert_eq!(
        end,
        Final::Failed {
            code: "ORDER_NOT_EXIST".into()
        }
    );
    assert!(end.may_retry_with_new_id());

    // The inquiries go unanswered while a late pay lands: the clock alone never closes it
    // (found by the tracker properties): only an ORDER_NOT_EXIST asked after the close does.
    let mut t = auto_debit();
    let now = to_cancel(&mut t);
    t.on_cancel(now, CancelReport::OrderNotFound);
    let mut landed = false;
    let (end, _, _) = drive(&mut t, now, now + secs(86_400), |t, now, step| match step {
        Step::Inquire if now < close + secs(600) => t.on_inquiry(now, InquiryReport::NoAnswer),
        Step::Inquire => {
            landed = true;
            t.on_inquiry(now, InquiryReport::Payment(Report::Success))
        }
        _ => panic!("{step:?}"),
    });
    assert!(landed, "still asking after the close");
    assert_eq!(end, Some(Final::Succeeded));

    // The payment shows up in process: it exists after all, so it is cancelled again.
    let mut t = auto_debit();
    let now = to_cancel(&mut t);
    t.on_cancel(now, CancelReport::OrderNotFound);
    t.next_step(now);
    t.on_inquiry(
        now,
        InquiryReport::Payment(Report::unknown("PAYMENT_IN_PROCESS")),
    );
    let (end, _, _) = drive(&mut t, now, now + secs(3600), |t, now, step| match step {
        Step::Cancel => t.on_cancel(now, CancelReport::Cancelled),
        Step::Inquire => t.on_inquiry(now, InquiryReport::NoAnswer),
        _ => panic!("{step:?}"),
    });
    assert_eq!(end, Some(Final::Cancelled));
}

#[test]
fn unanswered_cancels_back_off_to_a_cap() {
    let policy = TrackerPolicy::auto_debit();
    let mut t = auto_debit();
    let mut now = to_cancel(&mut t);
    let mut gaps = Vec::new();
    for _ in 0..20 {
        assert_eq!(t.next_step(now), Step::Cancel);
        t.on_cancel(now, CancelReport::NoAnswer);
        let Step::WaitUntil(at) = t.next_step(now) else {
            panic!("a wait")
        };
        gaps.push(at.since(now));
        now = at;
    }
    // The back-off started with the unanswered inquiries before the cancel.
    assert!(gaps[0] >= policy.retry_delay, "{gaps:?}");
    for pair in gaps.windows(2) {
        assert!(
            pair[1] == (pair[0] * 2).min(policy.max_cancel_interval),
            "{gaps:?}"
        );
    }
    assert_eq!(*gaps.last().unwrap(), policy.max_cancel_interval);
    assert!(policy.max_cancel_interval <= secs(600));
}

/// A whole-day outage from the start of a payment, for both products: a few hundred calls at
/// most (the stated budget), never a failure.
#[test]
fn a_24_hour_outage_costs_a_few_hundred_calls() {
    // 00:20 UTC+8: the cancel deadline (00:15 UTC+8 next day) is almost 24 h away.
    let start = Timestamp::parse_iso8601("2025-02-20T00:20:00+08:00").unwrap();
    for policy in [TrackerPolicy::cashier(), TrackerPolicy::auto_debit()] {
        let budget = policy.call_budget;
        assert!(budget <= 500, "a few hundred: {budget}");
        let window = policy.default_window;
        let mut t = PaymentTracker::new(ID, start, start + window, policy.clone());
        let (end, at, calls) =
            drive(
                &mut t,
                start,
                start + secs(2 * 86_400),
                |t, now, step| match step {
                    Step::Pay => t.on_pay(now, Report::Unknown(None), None),
                    Step::Inquire => t.on_inquiry(now, InquiryReport::NoAnswer),
                    Step::Cancel => t.on_cancel(now, CancelReport::NoAnswer),
                    _ => unreachable!(),
                },
            );
        assert_eq!(end, Some(Final::Unresolved), "{policy:?}");
        assert!(at >= start + secs(86_000), "kept trying all day: {at:?}");
        assert!(calls <= budget, "{calls} calls > budget {budget}");
        assert!(calls >= 200, "still cancelling every few minutes: {calls}");
        assert_eq!(t.unanswered_calls(), calls);
    }
}

/// The budget is enforced: a tracker that used it up ends unresolved (never failed).
#[test]
fn a_spent_budget_ends_unresolved() {
    let mut policy = TrackerPolicy::auto_debit();
    policy.call_budget = 5;
    let mut t = PaymentTracker::new(ID, t0(), t0() + secs(60), policy);
    let (end, _, calls) = drive(
        &mut t,
        t0(),
        t0() + secs(86_400),
        |t, now, step| match step {
            Step::Pay => t.on_pay(now, Report::Unknown(None), None),
            Step::Inquire => t.on_inquiry(now, InquiryReport::NoAnswer),
            Step::Cancel => t.on_cancel(now, CancelReport::NoAnswer),
            _ => unreachable!(),
        },
    );
    assert_eq!(calls, 5);
    assert_eq!(end, Some(Final::Unresolved));
}

#[test]
fn counters_at_their_maximum_do_not_overflow() {
    let mut t = auto_debit();
    t.next_step(t0());
    let mut stored: serde_json::Value = serde_json::to_value(&t).unwrap();
    stored["pay_attempts"] = u32::MAX.into();
    stored["unanswered_calls"] = u32::MAX.into();
    let mut t: PaymentTracker = serde_json::from_value(stored).unwrap();
    // Any report: no panic in debug builds.
    t.on_pay(t0(), Report::Unknown(None), None);
    t.on_inquiry(t0(), InquiryReport::NoAnswer);
    t.on_cancel(t0(), CancelReport::NoAnswer);
    t.next_step(t0());
    assert_eq!(t.unanswered_calls(), u32::MAX);
}

/// A tracker stored before the fields of issue 11 existed still loads.
#[test]
fn an_older_stored_tracker_loads() {
    let t = auto_debit();
    let mut stored: serde_json::Value = serde_json::to_value(&t).unwrap();
    let obj = stored.as_object_mut().unwrap();
    for new in [
        "unanswered_calls",
        "late_interval",
        "last_pay_at",
        "first_pay_digest",
        "pay_sends",
        "pay_bodies_differ",
        "records_sends",
    ] {
        obj.remove(new);
    }
    let policy = obj.get_mut("policy").unwrap().as_object_mut().unwrap();
    for new in [
        "pay_in_flight",
        "late_landing_margin",
        "max_cancel_interval",
        "call_budget",
    ] {
        policy.remove(new);
    }
    let mut t: PaymentTracker = serde_json::from_value(stored).unwrap();
    assert_eq!(t.next_step(t0()), Step::Pay);
}

/// A success notification racing a cancel whose answer was lost: the cancel may have returned
/// the money, so the order is not called paid until the cancel's fate is known.
#[test]
fn a_success_notification_after_a_lost_cancel_answer_waits_for_the_cancel() {
    let mut t = auto_debit();
    let now = to_cancel(&mut t);
    t.on_cancel(now, CancelReport::NoAnswer);
    let later = now + secs(1);
    assert_eq!(t.on_notification(later, Report::Success), Update::Progress);
    assert_eq!(t.next_step(later), Step::Cancel, "cancel again at once");
    assert_eq!(
        t.on_cancel(later, CancelReport::Cancelled),
        Update::Finished(Final::Cancelled)
    );
    // The cancel was refused (the payment is final): the inquiry settles it as paid.
    let mut t = auto_debit();
    let now = to_cancel(&mut t);
    t.on_cancel(now, CancelReport::NoAnswer);
    t.on_notification(now, Report::Success);
    t.next_step(now);
    t.on_cancel(now, CancelReport::Rejected("ORDER_STATUS_INVALID".into()));
    assert_eq!(t.next_step(now), Step::Inquire);
    assert_eq!(
        t.on_inquiry(now, InquiryReport::Payment(Report::Success)),
        Update::Finished(Final::Succeeded)
    );
}
