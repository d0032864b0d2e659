//! The notification queue: what is due to be delivered to the ACQP, re-sent on the schedule
//! until acknowledged, and what each delivery did (notifyPayment, authNotify and the
//! operations' notifications all go through it). The deliveries themselves are in
//! [`crate::notify`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::fault::NotifyFaults;
use crate::sync::lock;

/// Why a delivery was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryKind {
    /// First attempt.
    First,
    /// Re-send after an attempt that was not acknowledged.
    Retry,
    /// Extra copy after acknowledgement (fault injection).
    Duplicate,
}

/// What came of one delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum DeliveryOutcome {
    /// Signed `S` acknowledgement.
    Acknowledged,
    /// Signed answer with another status; `code` is its resultCode.
    Refused {
        /// The resultCode answered.
        code: String,
    },
    /// An answer that does not count: unsigned, badly signed, wrong Client-Id, unparsable.
    BadAck {
        /// What was wrong.
        reason: String,
    },
    /// An HTTP status other than 200.
    HttpStatus {
        /// The status.
        status: u16,
    },
    /// No answer (connection refused, timeout, ...).
    Failed {
        /// What happened.
        error: String,
    },
}

/// One notification delivery attempt.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The payment notified.
    pub payment_request_id: String,
    /// 1-based attempt number for this payment (duplicates count on).
    pub attempt: u32,
    /// Why it was sent.
    pub kind: DeliveryKind,
    /// `paymentResult.resultStatus` notified (`S` or `F`).
    pub result_status: String,
    /// Whether the request was signed correctly (false: `badSignatureFirst` fault).
    pub signed_correctly: bool,
    /// What came of it.
    pub outcome: DeliveryOutcome,
}

/// Where the notification of one payment stands.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationStatus {
    /// The payment.
    pub payment_request_id: String,
    /// Acknowledged by the ACQP.
    pub acknowledged: bool,
    /// Attempts made (duplicates included).
    pub attempts: u32,
    /// The schedule ran out without an acknowledgement.
    pub gave_up: bool,
    /// Held by the `hold` fault, waiting for a release.
    pub held: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Job {
    pub(crate) due: Instant,
    pub(crate) seq: u64,
    pub(crate) payment_request_id: String,
    pub(crate) url: String,
    pub(crate) body: Vec<u8>,
    pub(crate) result_status: String,
    /// Index into the schedule (first attempt 0).
    pub(crate) step: usize,
    pub(crate) kind: DeliveryKind,
    pub(crate) bad_signature: bool,
    pub(crate) duplicates: u32,
}

#[derive(Default)]
struct QueueState {
    jobs: BinaryHeap<Reverse<Job>>,
    held: Vec<Job>,
    seq: u64,
    in_flight: usize,
    deliveries: Vec<Delivery>,
    status: BTreeMap<String, NotificationStatus>,
}

/// The queue the notifier thread works through.
pub(crate) struct NotifyQueue {
    state: Mutex<QueueState>,
    cv: Condvar,
    /// The waits before each attempt (the first, then the re-sends).
    schedule: Vec<Duration>,
    stopping: AtomicBool,
}

/// A frozen notification, built when the payment became final.
pub(crate) struct Pending {
    pub payment_request_id: String,
    pub url: String,
    pub body: Vec<u8>,
    pub result_status: String,
}

impl NotifyQueue {
    /// A queue re-sending on `schedule`.
    pub(crate) fn new(schedule: Vec<Duration>) -> Self {
        NotifyQueue {
            state: Mutex::new(QueueState::default()),
            cv: Condvar::new(),
            schedule,
            stopping: AtomicBool::new(false),
        }
    }

    /// Stops handing out jobs (the simulator stops).
    pub(crate) fn stop(&self) {
        let _guard = lock(&self.state);
        self.stopping.store(true, Ordering::SeqCst);
        self.cv.notify_all();
    }

    pub(crate) fn enqueue(&self, pending: Pending, faults: &NotifyFaults) {
        let first_wait = self.schedule.first().copied().unwrap_or_default()
            + Duration::from_millis(faults.late_ms);
        let mut st = lock(&self.state);
        st.seq += 1;
        let job = Job {
            due: Instant::now() + first_wait,
            seq: st.seq,
            payment_request_id: pending.payment_request_id.clone(),
            url: pending.url,
            body: pending.body,
            result_status: pending.result_status,
            step: 0,
            kind: DeliveryKind::First,
            bad_signature: faults.bad_signature_first,
            duplicates: faults.duplicates,
        };
        st.status.insert(
            pending.payment_request_id.clone(),
            NotificationStatus {
                payment_request_id: pending.payment_request_id,
                held: faults.hold,
                ..NotificationStatus::default()
            },
        );
        if faults.hold {
            st.held.push(job);
        } else {
            st.jobs.push(Reverse(job));
        }
        self.cv.notify_all();
    }

    /// Sends the held notifications now, newest first. Returns how many.
    pub(crate) fn release(&self) -> usize {
        let mut st = lock(&self.state);
        let held = std::mem::take(&mut st.held);
        let now = Instant::now();
        let count = held.len();
        for mut job in held.into_iter().rev() {
            st.seq += 1;
            job.seq = st.seq;
            job.due = now;
            if let Some(s) = st.status.get_mut(&job.payment_request_id) {
                s.held = false;
            }
            st.jobs.push(Reverse(job));
        }
        self.cv.notify_all();
        count
    }

    /// The next due job, waiting at most `max_wait`.
    pub(crate) fn next(&self, max_wait: Duration) -> Option<Job> {
        let deadline = Instant::now() + max_wait;
        let mut st = lock(&self.state);
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return None;
            }
            let now = Instant::now();
            let due = st.jobs.peek().map(|Reverse(j)| j.due);
            if due.is_some_and(|d| d <= now) {
                st.in_flight += 1;
                return st.jobs.pop().map(|Reverse(j)| j);
            }
            if now >= deadline {
                return None;
            }
            let wait = due.map_or(deadline, |d| d.min(deadline)) - now;
            st = match self.cv.wait_timeout(st, wait) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    pub(crate) fn finish(&self, job: Job, outcome: DeliveryOutcome, signed: bool) {
        let mut st = lock(&self.state);
        st.in_flight = st.in_flight.saturating_sub(1);
        let acked = outcome == DeliveryOutcome::Acknowledged;
        let attempt = {
            let s = st.status.entry(job.payment_request_id.clone()).or_default();
            s.attempts += 1;
            s.acknowledged |= acked;
            s.attempts
        };
        st.deliveries.push(Delivery {
            payment_request_id: job.payment_request_id.clone(),
            attempt,
            kind: job.kind,
            result_status: job.result_status.clone(),
            signed_correctly: signed,
            outcome,
        });
        let now = Instant::now();
        match (job.kind, acked) {
            (DeliveryKind::Duplicate, _) => {}
            (_, true) => {
                for _ in 0..job.duplicates {
                    st.seq += 1;
                    let seq = st.seq;
                    st.jobs.push(Reverse(Job {
                        due: now,
                        seq,
                        kind: DeliveryKind::Duplicate,
                        bad_signature: false,
                        ..job.clone()
                    }));
                }
            }
            (_, false) => match self.schedule.get(job.step + 1) {
                Some(wait) => {
                    st.seq += 1;
                    let seq = st.seq;
                    st.jobs.push(Reverse(Job {
                        due: now + *wait,
                        seq,
                        step: job.step + 1,
                        kind: DeliveryKind::Retry,
                        bad_signature: false,
                        ..job
                    }));
                }
                None => {
                    if let Some(s) = st.status.get_mut(&job.payment_request_id) {
                        s.gave_up = true;
                    }
                }
            },
        }
        self.cv.notify_all();
    }

    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.state).deliveries.clone()
    }

    pub(crate) fn statuses(&self) -> Vec<NotificationStatus> {
        lock(&self.state).status.values().cloned().collect()
    }

    /// Nothing queued or in flight (held notifications count as settled: they wait for a
    /// release).
    pub(crate) fn is_idle(&self) -> bool {
        let st = lock(&self.state);
        st.jobs.is_empty() && st.in_flight == 0
    }
}
