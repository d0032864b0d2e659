//! Fault injection: what can go wrong between the ACQP and Alipay+, on purpose.
//!
//! A [`FaultRule`] matches API calls (by API name and/or paymentRequestId) and damages the
//! answer with a [`Fault`]. `times: Some(n)` hits the next `n` matching calls (per request);
//! `times: None` hits every matching call for the rest of the run (per run). Rules are checked
//! in the order added; the first match wins.
//!
//! `process` says whether the simulator carries out the request before damaging the answer.
//! `true` (the default) is the hard case for a client: the payment or refund happened but the
//! answer was lost, unsigned, forged or `U`, so only an idempotent retry or an inquiry tells.
//! `false` models a request that never reached the business logic.
//!
//! Notification faults are a separate [`NotifyFaults`] setting.

use serde::{Deserialize, Serialize};

/// One way to damage the answer to an API call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Fault {
    /// Answer correctly but only after `ms` milliseconds (longer than the client's timeout: a
    /// timeout).
    Delay {
        /// Milliseconds to wait before answering.
        ms: u64,
    },
    /// Answer a signed `U` result (`UNKNOWN_EXCEPTION` unless `code` names another).
    UnknownResult {
        /// The `resultCode` to send with status `U`.
        #[serde(default)]
        code: Option<String>,
    },
    /// Answer with this HTTP status (e.g. 500, 502, 503) and a plain-text, unsigned body.
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// Answer the correct body with no `Signature` header.
    Unsigned,
    /// Answer the correct body with a signature that does not verify (one byte changed).
    BadSignature,
    /// Sign the correct body but send a different one (`resultStatus` flipped, amounts changed):
    /// a response tampered with in transit.
    TamperedBody,
}

impl Fault {
    /// Short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Delay { .. } => "delay",
            Fault::UnknownResult { .. } => "unknownResult",
            Fault::HttpStatus { .. } => "httpStatus",
            Fault::Unsigned => "unsigned",
            Fault::BadSignature => "badSignature",
            Fault::TamperedBody => "tamperedBody",
        }
    }
}

fn default_true() -> bool {
    true
}

/// A fault and which calls it hits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// API name as Alipay+ spells it (`"pay"`, `"inquiryPayment"`, ...); `None`: every API.
    #[serde(default)]
    pub api: Option<String>,
    /// Only calls whose body has this `paymentRequestId`; `None`: any.
    #[serde(default)]
    pub payment_request_id: Option<String>,
    /// The damage.
    pub fault: Fault,
    /// How many matching calls it hits; `None`: all of them (per run).
    #[serde(default)]
    pub times: Option<u32>,
    /// Carry out the request before damaging the answer (default `true`).
    #[serde(default = "default_true")]
    pub process: bool,
}

impl FaultRule {
    /// A rule hitting the next matching call of `api` once, processing the request.
    pub fn once(api: &str, fault: Fault) -> Self {
        FaultRule {
            api: Some(api.to_owned()),
            payment_request_id: None,
            fault,
            times: Some(1),
            process: true,
        }
    }

    /// A rule hitting every call of every API for the rest of the run.
    pub fn always(fault: Fault) -> Self {
        FaultRule {
            api: None,
            payment_request_id: None,
            fault,
            times: None,
            process: true,
        }
    }

    /// Builder: hit `n` calls.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Builder: only calls about this paymentRequestId.
    pub fn for_payment(mut self, payment_request_id: &str) -> Self {
        self.payment_request_id = Some(payment_request_id.to_owned());
        self
    }

    /// Builder: do not carry out the request (it "never arrived").
    pub fn unprocessed(mut self) -> Self {
        self.process = false;
        self
    }

    fn matches(&self, api: &str, payment_request_id: Option<&str>) -> bool {
        self.api.as_deref().is_none_or(|a| a == api)
            && self
                .payment_request_id
                .as_deref()
                .is_none_or(|p| Some(p) == payment_request_id)
            && self.times != Some(0)
    }
}

/// The active rules.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    rules: Vec<FaultRule>,
}

impl FaultPlan {
    pub(crate) fn new(rules: Vec<FaultRule>) -> Self {
        FaultPlan { rules }
    }

    pub(crate) fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// Drops the rules aimed at one payment (spent or not); returns how many.
    pub(crate) fn remove_for(&mut self, payment_request_id: &str) -> usize {
        let before = self.rules.len();
        self.rules
            .retain(|r| r.payment_request_id.as_deref() != Some(payment_request_id));
        before - self.rules.len()
    }

    pub(crate) fn rules(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    /// Takes the fault for a call (counting down `times`; spent rules are dropped).
    pub(crate) fn take(
        &mut self,
        api: &str,
        payment_request_id: Option<&str>,
    ) -> Option<FaultRule> {
        let index = self
            .rules
            .iter()
            .position(|r| r.matches(api, payment_request_id))?;
        let rule = self.rules.get_mut(index)?;
        let hit = rule.clone();
        if let Some(n) = rule.times.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.rules.remove(index);
            }
        }
        Some(hit)
    }
}

/// Notification faults (per run; change them with the control API at any time).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NotifyFaults {
    /// Extra copies of every notification, sent after the first acknowledged delivery
    /// (duplicates).
    pub duplicates: u32,
    /// Milliseconds added before the first delivery (late notifications).
    pub late_ms: u64,
    /// Hold new notifications until released; a release sends the held ones newest first
    /// (out of order).
    pub hold: bool,
    /// Sign the first attempt of each notification with a wrong signature: the ACQP must
    /// refuse it; the re-send is signed correctly.
    pub bad_signature_first: bool,
}
