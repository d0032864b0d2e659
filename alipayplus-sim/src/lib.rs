//! An Alipay+ simulator over real HTTP on loopback, for integration tests and demos.
//!
//! It answers the Cashier Payment APIs (consultPayment, pay, inquiryPayment, cancelPayment,
//! refund) and the Auto Debit ones ([`autodebit`]: prepare with a consent page, applyToken,
//! cancelToken, agreement pay, authNotify, wallet-side unbinding) like Alipay+ does per
//! `shared/spec` (common.md, cashier.md, autodebit.md): every request's
//! signature is verified with the ACQP's public key (`INVALID_SIGNATURE` otherwise), every
//! answer is signed with the simulator's key, bodies are validated (`PARAM_ILLEGAL` naming the
//! field), idempotency keys are enforced, and payments follow a state machine
//! ([`payment`]). A simulated shopper approves or declines at the URL pay returns
//! ([`shopper`]); final results are pushed as signed notifyPayment calls, re-sent until the
//! ACQP acknowledges with a signed answer ([`notify`]). Faults can be injected per request or
//! per run ([`fault`]), through [`Simulator`] methods or the HTTP [`control`] API.
//!
//! Other stacks work against it as they would against Alipay+: absolute-form request targets
//! are accepted, answers name their headers in lower case as production does, unified
//! presentment (`CONNECT_WALLET`) is accepted, requests that break only rules the spec is
//! uncertain about are let pass (and logged), and [`SimConfig::tls`] serves HTTPS with a
//! certificate made at start ([`tls`]).
//!
//! ```
//! use alipayplus_sim::Simulator;
//!
//! let sim = Simulator::start_bundled()?; // a free port on 127.0.0.1
//! println!("Alipay+ at {} for Client-Id {}", sim.base_url(), sim.client_id());
//! // Point a client at sim.base_url() with Client-Id sim.client_id(), sign with
//! // sim.acqp_private_key()?, verify answers and notifications with sim.verifying_keys().
//! let signing_key = sim.acqp_private_key()?;
//! let verifying_keys = sim.verifying_keys();
//! assert!(sim.payments().is_empty());
//! # let _ = (signing_key, verifying_keys);
//! drop(sim); // stops the server and the notifier
//! # Ok::<(), alipayplus_sim::Error>(())
//! ```
//!
//! The README shows a whole downstream test (pay, the shopper approves, the result).
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

mod acqp;
mod answer;
mod api;
pub mod autodebit;
mod autodebit_books;
pub mod clock;
pub mod config;
pub mod control;
mod error;
pub mod fault;
mod gateway;
mod http;
pub mod keys;
pub mod notify;
mod notify_queue;
pub mod operations;
mod operations_books;
pub mod payment;
pub mod reports;
mod server;
pub mod shopper;
#[cfg(unix)]
pub mod sshd;
mod state;
mod sync;
pub mod tls;
mod worker;

pub use autodebit::{AgreementScript, AutoDebitConfig, Consent, TokenView, Unbinding};
pub use config::SimConfig;
pub use error::Error;
pub use fault::{Fault, FaultRule, NotifyFaults};
pub use notify::{Delivery, DeliveryKind, DeliveryOutcome, NotificationStatus};
pub use operations::{DisputeView, OpenDispute, OperationsConfig, OperationsView};
pub use payment::{PaymentStatus, PaymentView};
pub use state::CallRecord;

use state::{Shared, lock};

/// What `GET /sim` tells.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimInfo {
    /// The ACQP Client-Id the simulator accepts.
    pub client_id: String,
    /// Base URL of the APIs (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// keyVersion of the simulator's signatures.
    pub key_version: u32,
    /// `acquirerId` in answers.
    pub acquirer_id: String,
    /// `pspId` of the simulated wallet.
    pub psp_id: String,
    /// Wallets offered (paymentMethodType values).
    pub wallets: Vec<String>,
    /// Whether pay accepts `CONNECT_WALLET` (unified presentment) too.
    pub connect_wallet: bool,
    /// API names answered.
    pub apis: Vec<&'static str>,
}

pub(crate) fn info(shared: &Shared) -> SimInfo {
    SimInfo {
        client_id: shared.client_id.clone(),
        base_url: shared.base_url.clone(),
        key_version: shared.key_version,
        acquirer_id: shared.acquirer_id.clone(),
        psp_id: shared.psp_id.clone(),
        wallets: shared.wallets.clone(),
        connect_wallet: shared.connect_wallet,
        apis: api::names(),
    }
}

pub(crate) fn payments(shared: &Shared) -> Vec<PaymentView> {
    let store = lock(&shared.store);
    store
        .payments
        .values()
        .map(|p| p.view(&shared.base_url))
        .collect()
}

pub(crate) fn payment(shared: &Shared, id: &str) -> Option<PaymentView> {
    let store = lock(&shared.store);
    let request_id = store
        .resolve(Some(id), None)
        .or_else(|| store.resolve(None, Some(id)))?;
    store
        .payments
        .get(&request_id)
        .map(|p| p.view(&shared.base_url))
}

/// A running simulator. Dropping it stops the server and the notifier (in-flight delays end
/// early) and joins their threads.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    threads: Vec<JoinHandle<()>>,
    // Dropped after the threads are joined: closes the listening socket.
    _server: Arc<tiny_http::Server>,
    tls_ca_pem: Option<String>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Binds `config.bind` (a free loopback port by default) and starts serving.
    ///
    /// # Errors
    /// [`Error::Bind`] when the address cannot be bound.
    pub fn start(config: SimConfig) -> Result<Simulator, Error> {
        let bind = config.bind.to_string();
        let bind_error = |reason: String| Error::Bind {
            addr: bind.clone(),
            reason,
        };
        // With TLS the HTTP server sits on a free loopback port behind the TLS front (see
        // [`tls`]), which takes the asked address.
        let (http_bind, front) = if config.tls {
            let tls = tls::setup().map_err(&bind_error)?;
            let listener =
                std::net::TcpListener::bind(config.bind).map_err(|e| bind_error(e.to_string()))?;
            (
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                Some((tls, listener)),
            )
        } else {
            (config.bind, None)
        };
        let server = tiny_http::Server::http(http_bind).map_err(|e| bind_error(e.to_string()))?;
        let http_addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| bind_error("not an IP listener".into()))?;
        let (addr, scheme) = match &front {
            Some((_, listener)) => (
                listener
                    .local_addr()
                    .map_err(|e| bind_error(e.to_string()))?,
                "https",
            ),
            None => (http_addr, "http"),
        };
        let workers = config.workers;
        let server = Arc::new(server);
        let shared = Arc::new(Shared::new(config, format!("{scheme}://{addr}")));
        let mut tls_ca_pem = None;
        let started = server::spawn_workers(&server, &shared, workers).and_then(|mut list| {
            let notifier = {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name("alipayplus-sim-notify".into())
                    .spawn(move || worker::run(&shared))?
            };
            list.push(notifier);
            if let Some((tls, listener)) = front {
                list.push(tls::spawn_front(
                    listener,
                    tls.config,
                    http_addr,
                    Arc::clone(&shared),
                )?);
                tls_ca_pem = Some(tls.ca_pem);
            }
            Ok(list)
        });
        let threads = match started {
            Ok(list) => list,
            Err(e) => {
                // Workers already started see the flag and end.
                shared.stop();
                return Err(bind_error(e.to_string()));
            }
        };
        Ok(Simulator {
            shared,
            addr,
            threads,
            _server: server,
            tls_ca_pem,
        })
    }

    /// Starts with [`SimConfig::bundled`].
    ///
    /// # Errors
    /// As [`SimConfig::bundled`] and [`Simulator::start`].
    pub fn start_bundled() -> Result<Simulator, Error> {
        Simulator::start(SimConfig::bundled()?)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` with [`SimConfig::tls`]): the host to point an
    /// Alipay+ client at.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// With [`SimConfig::tls`]: the PEM certificate of the CA made at start, which signed the
    /// server certificate (valid for `localhost` and `127.0.0.1`). A client trusts it as its
    /// only root; verification stays on.
    pub fn tls_ca_pem(&self) -> Option<&str> {
        self.tls_ca_pem.as_deref()
    }

    /// The ACQP Client-Id accepted.
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// keyVersion of the simulator's signatures (and of the ACQP's it accepts).
    pub fn key_version(&self) -> u32 {
        self.shared.key_version
    }

    /// The keys to verify the simulator's answers and notifications with: its public key under
    /// [`Simulator::key_version`], the "Alipay+ public key" of a client's configuration.
    pub fn verifying_keys(&self) -> alipayplus_sign::PublicKeys {
        alipayplus_sign::PublicKeys::single(
            self.shared.key_version,
            self.shared.sim_key.public_key(),
        )
    }

    /// The bundled test ACQP's private key ([`keys::acqp_private_key`]), to sign requests and
    /// acknowledgements with when started with [`SimConfig::bundled`] (as
    /// [`Simulator::start_bundled`] does). A simulator configured with [`SimConfig::new`]
    /// verifies with the ACQP key given there; sign with its private half instead.
    ///
    /// # Errors
    /// [`Error::Key`] if the bundled file does not parse (a broken checkout).
    pub fn acqp_private_key(&self) -> Result<alipayplus_sign::PrivateKey, Error> {
        keys::acqp_private_key()
    }

    /// What `GET /sim` tells.
    pub fn info(&self) -> SimInfo {
        info(&self.shared)
    }

    /// The shopper pays payment `id` (paymentRequestId or paymentId).
    ///
    /// # Errors
    /// [`Error::UnknownPayment`]; [`Error::InvalidTransition`] if it is not in process.
    pub fn approve(&self, id: &str) -> Result<PaymentView, Error> {
        shopper::approve(&self.shared, id)
    }

    /// The shopper declines payment `id` with payment result `code` (e.g. `RISK_REJECT`).
    ///
    /// # Errors
    /// As [`Simulator::approve`].
    pub fn decline(&self, id: &str, code: &str) -> Result<PaymentView, Error> {
        shopper::decline(&self.shared, id, code)
    }

    /// Every payment.
    pub fn payments(&self) -> Vec<PaymentView> {
        payments(&self.shared)
    }

    /// One payment by paymentRequestId or paymentId.
    pub fn payment(&self, id: &str) -> Option<PaymentView> {
        payment(&self.shared, id)
    }

    /// Adds a fault rule.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.shared.faults).add(rule);
    }

    /// The fault rules still active.
    pub fn faults(&self) -> Vec<FaultRule> {
        lock(&self.shared.faults).rules()
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Removes the fault rules aimed at one payment ([`FaultRule::for_payment`]), used or not;
    /// returns how many. A long run that aims faults at each of its payments drops them when
    /// the payment is done, so the rule list (checked in order on every call) stays short.
    pub fn remove_faults_for(&self, payment_request_id: &str) -> usize {
        lock(&self.shared.faults).remove_for(payment_request_id)
    }

    /// Sets the notification faults for notifications queued from now on.
    pub fn set_notify_faults(&self, faults: NotifyFaults) {
        *lock(&self.shared.notify_faults) = faults;
    }

    /// Sends the held notifications now, newest first; returns how many.
    pub fn release_notifications(&self) -> usize {
        self.shared.notify.release()
    }

    /// Where each payment's notification stands.
    pub fn notifications(&self) -> Vec<NotificationStatus> {
        self.shared.notify.statuses()
    }

    /// Every notification delivery attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.notify.deliveries()
    }

    /// Every API call answered so far.
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.shared.calls).clone()
    }

    /// Moves the protocol clock forward (expiry, cancel and refund windows), then closes
    /// payments that expired.
    pub fn advance_clock(&self, by: Duration) {
        self.shared
            .clock
            .advance_ms(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        worker::sweep_expired(&self.shared);
    }

    /// Waits until no notification is queued or being delivered (held ones excepted), at most
    /// `timeout`. True if settled.
    pub fn wait_notifications_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.shared.notify.is_idle() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The user agrees on the Auto Debit authorization page (`auth_url` as prepare returned
    /// it, or its ticket): a code is created, authNotify `AUTHCODE_CREATED` pushed if
    /// configured, and the redirect back returned.
    ///
    /// # Errors
    /// [`Error::UnknownAuthorization`].
    pub fn consent(&self, auth_url: &str) -> Result<Consent, Error> {
        autodebit::consent(&self.shared, auth_url, true)
    }

    /// The user declines on the authorization page: the redirect back carries no code.
    ///
    /// # Errors
    /// [`Error::UnknownAuthorization`].
    pub fn decline_consent(&self, auth_url: &str) -> Result<Consent, Error> {
        autodebit::consent(&self.shared, auth_url, false)
    }

    /// The user unbinds in the wallet: consultUnbinding (if configured), then the token is
    /// revoked and authNotify `TOKEN_CANCELED` pushed.
    ///
    /// # Errors
    /// [`Error::UnknownAuthorization`] for an unknown token.
    pub fn unbind(&self, access_token: &str) -> Result<Unbinding, Error> {
        autodebit::unbind(&self.shared, access_token)
    }

    /// The Auto Debit settings.
    pub fn autodebit_config(&self) -> AutoDebitConfig {
        autodebit::config(&self.shared)
    }

    /// Replaces the Auto Debit settings.
    pub fn set_autodebit_config(&self, config: AutoDebitConfig) {
        autodebit::set_config(&self.shared, config);
    }

    /// How the next agreement payment ends (queued; default: paid at once).
    pub fn script_agreement_payment(&self, script: AgreementScript) {
        autodebit::script(&self.shared, script);
    }

    /// Every token pair issued.
    pub fn tokens(&self) -> Vec<TokenView> {
        autodebit::tokens(&self.shared)
    }

    /// Writes the settlement reports of the cycles `request` names into its directory (see
    /// [`reports`]; the control API's `POST /sim/reports`).
    ///
    /// # Errors
    /// [`Error::BadControlRequest`] for a bad date or a directory that cannot be written.
    pub fn write_reports(
        &self,
        request: &reports::ReportRequest,
    ) -> Result<reports::ReportsWritten, Error> {
        reports::write(&self.shared, request)
    }

    /// Stops the simulator (same as dropping it).
    pub fn shutdown(self) {}
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shared.stop();
        for t in self.threads.drain(..) {
            // A worker that panicked has already reported it; nothing else to do here.
            let _ = t.join();
        }
    }
}
