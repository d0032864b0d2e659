//! notifyPayment deliveries: signed POSTs to the payment's notify URL, re-sent on a schedule
//! until the ACQP acknowledges with a signed `S` answer (common.md §3.5).
//!
//! The body is frozen when the payment becomes final (a later cancel or refund does not
//! rewrite what was notified). The request is signed over the notify URL's path (no query:
//! whether Alipay+ signs the query is UNCERTAIN, common.md §2.2) with the ACQP's Client-Id.
//! An acknowledgement counts only if it is HTTP 200, signed by the ACQP over the same path,
//! echoes the Client-Id and says `resultStatus` `S`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use alipayplus_sign::message;
use alipayplus_types::{NotifyPaymentResultCode, ResultEnvelope};
use serde::Serialize;

use crate::fault::NotifyFaults;
use crate::state::{Shared, lock};

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
struct Job {
    due: Instant,
    seq: u64,
    payment_request_id: String,
    url: String,
    body: Vec<u8>,
    result_status: String,
    /// Index into the schedule (first attempt 0).
    step: usize,
    kind: DeliveryKind,
    bad_signature: bool,
    duplicates: u32,
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
#[derive(Default)]
pub(crate) struct NotifyQueue {
    state: Mutex<QueueState>,
    cv: Condvar,
}

/// A frozen notification, built when the payment became final.
pub(crate) struct Pending {
    pub payment_request_id: String,
    pub url: String,
    pub body: Vec<u8>,
    pub result_status: String,
}

impl NotifyQueue {
    pub(crate) fn wake(&self) {
        let _guard = lock(&self.state);
        self.cv.notify_all();
    }

    pub(crate) fn enqueue(&self, shared: &Shared, pending: Pending, faults: &NotifyFaults) {
        let first_wait = shared.notify_schedule.first().copied().unwrap_or_default()
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
    fn next(&self, shared: &Shared, max_wait: Duration) -> Option<Job> {
        let deadline = Instant::now() + max_wait;
        let mut st = lock(&self.state);
        loop {
            if shared.is_stopping() {
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

    fn finish(&self, shared: &Shared, job: Job, outcome: DeliveryOutcome, signed: bool) {
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
            (_, false) => match shared.notify_schedule.get(job.step + 1) {
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

/// The notifier thread: delivers due notifications and closes expired payments.
pub(crate) fn run(shared: &Shared) {
    let agent = agent(shared.notify_timeout);
    while !shared.is_stopping() {
        shared.sweep_expired();
        if let Some(job) = shared.notify.next(shared, Duration::from_millis(100)) {
            let signed = !job.bad_signature;
            let outcome = deliver(shared, &agent, &job);
            shared.notify.finish(shared, job, outcome, signed);
        }
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        // Loopback and test endpoints: never through a proxy from the environment.
        .proxy(None)
        .timeout_global(Some(timeout))
        .build();
    ureq::Agent::new_with_config(config)
}

fn deliver(shared: &Shared, agent: &ureq::Agent, job: &Job) -> DeliveryOutcome {
    let uri: ureq::http::Uri = match job.url.parse() {
        Ok(u) => u,
        Err(e) => {
            return DeliveryOutcome::Failed {
                error: format!("bad notify URL {:?}: {e}", job.url),
            };
        }
    };
    let path = match uri.path() {
        "" => "/",
        p => p,
    };
    let time = shared.clock.now_header();
    // A wrong signature: a real signature over other content.
    let signed_body: &[u8] = if job.bad_signature {
        b"not the body that was sent"
    } else {
        &job.body
    };
    let signature = match message::sign_request(
        &shared.sim_key,
        shared.key_version,
        "POST",
        path,
        &shared.client_id,
        &time,
        signed_body,
    ) {
        Ok(s) => s,
        Err(e) => {
            return DeliveryOutcome::Failed {
                error: format!("signing failed: {e}"),
            };
        }
    };
    let sent = agent
        .post(&job.url)
        .header("Content-Type", "application/json; charset=UTF-8")
        .header("Client-Id", &shared.client_id)
        .header("Request-Time", &time)
        .header("Signature", signature.as_str())
        .send(&job.body[..]);
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => {
            return DeliveryOutcome::Failed {
                error: e.to_string(),
            };
        }
    };
    let status = response.status().as_u16();
    if status != 200 {
        return DeliveryOutcome::HttpStatus { status };
    }
    let body = match response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
    {
        Ok(b) => b,
        Err(e) => {
            return DeliveryOutcome::Failed {
                error: e.to_string(),
            };
        }
    };
    check_ack(shared, path, response.headers(), &body)
}

fn check_ack(
    shared: &Shared,
    path: &str,
    headers: &ureq::http::HeaderMap,
    body: &[u8],
) -> DeliveryOutcome {
    let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
    let verified = match message::verify_response(&shared.acqp_keys, "POST", path, pairs, body) {
        Ok(v) => v,
        Err(e) => {
            return DeliveryOutcome::BadAck {
                reason: format!("acknowledgement signature: {e}"),
            };
        }
    };
    if verified.client_id != shared.client_id {
        return DeliveryOutcome::BadAck {
            reason: format!(
                "acknowledgement Client-Id {:?} is not {:?}",
                verified.client_id, shared.client_id
            ),
        };
    }
    match serde_json::from_slice::<ResultEnvelope<NotifyPaymentResultCode>>(body) {
        Ok(env) if env.result.result_status.is_success() => DeliveryOutcome::Acknowledged,
        Ok(env) => DeliveryOutcome::Refused {
            code: env.result.code_str().to_owned(),
        },
        Err(e) => DeliveryOutcome::BadAck {
            reason: format!("acknowledgement body: {e}"),
        },
    }
}

/// Freezes the notifyPayment body of a payment that just became final.
pub(crate) fn pending(shared: &Shared, payment: &crate::payment::Payment, url: String) -> Pending {
    use alipayplus_types::{ApiResult, NotifyPaymentRequest, PaymentResultCode, ResultStatus};
    let outcome = payment.outcome();
    let status = ResultStatus::from(outcome.status);
    let message = if status.is_success() {
        "success"
    } else {
        "payment failed"
    };
    let result = ApiResult::new(
        PaymentResultCode::from(outcome.code.as_str()),
        status.clone(),
        Some(message.to_owned()),
    );
    let mut body = NotifyPaymentRequest::new(result, payment.payment_request_id.clone());
    body.payment_id = Some(payment.payment_id.clone());
    body.acquirer_id = Some(shared.acquirer_id.clone());
    body.payment_amount = Some(payment.amount());
    if status.is_success() {
        body.psp_id = Some(shared.psp_id.clone());
        body.customer_id = Some(crate::api::customer_id(payment));
        body.wallet_brand_name = Some(shared.wallet_brand_name.clone());
        body.payment_time = payment.paid_at.and_then(crate::clock::datetime);
        body.settlement_amount = Some(payment.amount());
        // customs.md §2: the declarable amount of an AlipayCN payment (not in the notification
        // model, so sent as an extra field).
        if let Some(amount) = crate::operations::customs_declaration_amount(payment)
            && let Ok(value) = serde_json::to_value(amount)
        {
            body.extra.insert("customsDeclarationAmount".into(), value);
        }
    }
    Pending {
        payment_request_id: payment.payment_request_id.clone(),
        url,
        // Serializing plain data into a Vec cannot fail; an empty body would only be refused.
        body: serde_json::to_vec(&body).unwrap_or_default(),
        result_status: outcome.status.to_owned(),
    }
}
