//! Shared state: the configuration, the payment and refund books, fault rules, the call log
//! and the notification queue. Every handler module works on a `&Shared`; a product module
//! (Auto Debit) adds its own books here.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use alipayplus_sign::{PrivateKey, PublicKeys};
use alipayplus_types::{Amount, RefundResponse};
use serde::Serialize;

pub(crate) use crate::sync::lock;

use crate::autodebit_books::Books as AutoDebitBooks;
use crate::clock::SimClock;
use crate::config::SimConfig;
use crate::fault::{FaultPlan, NotifyFaults};
use crate::notify_queue::NotifyQueue;
use crate::operations_books::Books as OperationsBooks;
use crate::payment::Payment;

/// A refund the simulator answered (S or F after processing), kept for idempotent repeats.
#[derive(Clone, Debug)]
pub(crate) struct RefundRecord {
    pub payment_request_id: String,
    pub amount: Amount,
    pub response: RefundResponse,
}

/// The books.
#[derive(Default)]
pub(crate) struct Store {
    /// By paymentRequestId.
    pub payments: BTreeMap<String, Payment>,
    /// paymentId → paymentRequestId.
    pub payment_ids: BTreeMap<String, String>,
    /// By refundRequestId.
    pub refunds: BTreeMap<String, RefundRecord>,
}

impl Store {
    /// The paymentRequestId a request names, by paymentRequestId or else paymentId.
    pub(crate) fn resolve(
        &self,
        payment_request_id: Option<&str>,
        payment_id: Option<&str>,
    ) -> Option<String> {
        match (payment_request_id, payment_id) {
            (Some(p), _) if self.payments.contains_key(p) => Some(p.to_owned()),
            (Some(_), _) => None,
            (None, Some(id)) => self.payment_ids.get(id).cloned(),
            (None, None) => None,
        }
    }
}

/// One answered API call, for tests and the control API.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    /// API name (`pay`, `refund`, ...); the path when no API matched.
    pub api: String,
    /// paymentRequestId in the request body, if any.
    pub payment_request_id: Option<String>,
    /// HTTP status sent.
    pub http_status: u16,
    /// `resultStatus` sent (before a body-tampering fault), if any.
    pub result_status: Option<String>,
    /// `resultCode` sent, if any.
    pub result_code: Option<String>,
    /// Fault applied, if any.
    pub fault: Option<String>,
    /// Problems with the request that break only rules the API description marks uncertain,
    /// which the simulator let pass (e.g. `settlementStrategy.settlementCurrency: missing`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tolerated: Vec<String>,
}

/// Everything the request workers and the notifier share.
pub(crate) struct Shared {
    pub client_id: String,
    pub acqp_keys: PublicKeys,
    pub sim_key: PrivateKey,
    pub key_version: u32,
    pub acquirer_id: String,
    pub psp_id: String,
    pub wallet_brand_name: String,
    pub wallets: Vec<String>,
    pub connect_wallet: bool,
    pub default_notify_url: Option<String>,
    pub notify_timeout: Duration,
    pub max_body_bytes: usize,
    pub clock: SimClock,
    /// `http://127.0.0.1:PORT`, set once bound.
    pub base_url: String,
    pub store: Mutex<Store>,
    pub faults: Mutex<FaultPlan>,
    pub notify_faults: Mutex<NotifyFaults>,
    pub calls: Mutex<Vec<CallRecord>>,
    pub notify: NotifyQueue,
    /// The Auto Debit books ([`crate::autodebit`]).
    pub autodebit: Mutex<AutoDebitBooks>,
    /// Registration, dispute and customs books ([`crate::operations`]).
    pub operations: Mutex<OperationsBooks>,
    ids: AtomicU64,
    stopping: AtomicBool,
    stop_lock: Mutex<()>,
    stop_cv: Condvar,
}

impl Shared {
    pub(crate) fn new(config: SimConfig, base_url: String) -> Self {
        Shared {
            acqp_keys: PublicKeys::single(config.key_version, config.acqp_public_key),
            client_id: config.client_id,
            sim_key: config.sim_private_key,
            key_version: config.key_version,
            acquirer_id: config.acquirer_id,
            psp_id: config.psp_id,
            wallet_brand_name: config.wallet_brand_name,
            wallets: config.wallets,
            connect_wallet: config.connect_wallet,
            default_notify_url: config.default_notify_url,
            notify_timeout: config.notify_timeout,
            max_body_bytes: config.max_body_bytes,
            clock: SimClock::new(config.clock),
            base_url,
            store: Mutex::new(Store::default()),
            faults: Mutex::new(FaultPlan::new(config.faults)),
            notify_faults: Mutex::new(config.notify_faults),
            calls: Mutex::new(Vec::new()),
            notify: NotifyQueue::new(config.notify_schedule),
            autodebit: Mutex::new(AutoDebitBooks::default()),
            operations: Mutex::new(OperationsBooks::default()),
            ids: AtomicU64::new(1),
            stopping: AtomicBool::new(false),
            stop_lock: Mutex::new(()),
            stop_cv: Condvar::new(),
        }
    }

    /// Whether pay accepts this `paymentMethodType`: an offered wallet, or unified
    /// presentment when enabled.
    pub(crate) fn accepts_method(&self, method: &str) -> bool {
        self.wallets.iter().any(|w| w == method)
            || (self.connect_wallet && method == crate::config::CONNECT_WALLET)
    }

    /// A fresh id: `prefix` + date-like digits + a counter (unique within the run).
    pub(crate) fn next_id(&self, prefix: &str) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        format!(
            "{prefix}{:010}{n:08}",
            self.clock.now_secs().rem_euclid(10_000_000_000)
        )
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    pub(crate) fn stop(&self) {
        let _guard = lock(&self.stop_lock);
        self.stopping.store(true, Ordering::SeqCst);
        self.stop_cv.notify_all();
        self.notify.stop();
    }

    /// Sleeps `d`, returning early when the simulator stops (delays never hold up shutdown).
    pub(crate) fn sleep(&self, d: Duration) {
        let deadline = std::time::Instant::now() + d;
        let mut guard = lock(&self.stop_lock);
        while !self.is_stopping() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            guard = match self.stop_cv.wait_timeout(guard, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Records an answered call.
    pub(crate) fn record(&self, call: CallRecord) {
        lock(&self.calls).push(call);
    }
}
