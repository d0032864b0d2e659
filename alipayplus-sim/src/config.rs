//! [`SimConfig`]: who the simulator is, whom it trusts, and how it behaves.

use std::net::SocketAddr;
use std::time::Duration;

use alipayplus_sign::{PrivateKey, PublicKey};

use crate::clock::{Clock, SystemClock};
use crate::fault::{FaultRule, NotifyFaults};
use crate::{Error, keys};

/// Client-Id of the bundled test ACQP (the `SANDBOX_` prefix marks sandbox credentials).
pub const DEFAULT_CLIENT_ID: &str = "SANDBOX_SIM_ACQP_0001";

/// `paymentMethodType` of unified presentment (cashier.md §2.11), accepted by pay unless
/// [`SimConfig::connect_wallet`] is off.
pub const CONNECT_WALLET: &str = "CONNECT_WALLET";

/// Wallets offered by default ([`SimConfig::wallets`]).
pub const DEFAULT_WALLETS: [&str; 2] = ["SIMWALLET", "ALIPAY_CN"];

/// Notification re-send schedule used by default: first delivery at once, then re-sends after
/// these waits (Alipay+'s own schedule is not documented, common.md §3.5; this one is short so
/// a developer sees re-sends while testing).
pub const DEFAULT_NOTIFY_SCHEDULE_MS: [u64; 6] = [0, 1_000, 2_000, 5_000, 10_000, 30_000];

/// Configuration of a [`crate::Simulator`].
pub struct SimConfig {
    /// Address to listen on (default `127.0.0.1:0`: a free loopback port).
    pub bind: SocketAddr,
    /// The ACQP's Client-Id; requests with another get `INVALID_CLIENT`.
    pub client_id: String,
    /// The ACQP's public key: verifies requests and notification acknowledgements.
    pub acqp_public_key: PublicKey,
    /// The simulator's ("Alipay+") private key: signs responses and notifications.
    pub sim_private_key: PrivateKey,
    /// keyVersion put in the simulator's `Signature` headers.
    pub key_version: u32,
    /// `acquirerId` in answers.
    pub acquirer_id: String,
    /// `pspId` of the simulated wallet.
    pub psp_id: String,
    /// `walletBrandName` of the simulated wallet.
    pub wallet_brand_name: String,
    /// Payment methods consultPayment offers and pay accepts (`paymentMethodType`).
    pub wallets: Vec<String>,
    /// Whether pay also accepts [`CONNECT_WALLET`], the unified presentment (Alipay+ checkout:
    /// the shopper picks the wallet on the page) that the official Python SDK sends with
    /// `presentmentMode` `UNIFIED` (cashier.md §2.11). Default true. consultPayment does not
    /// list it: it is not a wallet.
    pub connect_wallet: bool,
    /// Notify URL used when pay carries no `paymentNotifyUrl` (the URL "configured with
    /// Alipay+"); none: such payments are not notified.
    pub default_notify_url: Option<String>,
    /// Waits before each notification delivery attempt: the first entry before the first
    /// attempt, then one per re-send; the number of entries is the number of attempts.
    pub notify_schedule: Vec<Duration>,
    /// Timeout of one notification delivery.
    pub notify_timeout: Duration,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// Notification faults active from the start.
    pub notify_faults: NotifyFaults,
    /// Largest request body read (bigger: `PARAM_ILLEGAL`).
    pub max_body_bytes: usize,
    /// Worker threads answering HTTP requests (each request is answered by one; a delayed
    /// answer holds its worker).
    pub workers: usize,
    /// Protocol time source.
    pub clock: Box<dyn Clock>,
    /// Serve HTTPS on [`SimConfig::bind`] with a certificate made at start (see
    /// [`crate::Simulator::tls_ca_pem`]); default false (plain HTTP).
    pub tls: bool,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys are left out (the private key's Debug redacts anyway; nothing to gain).
        f.debug_struct("SimConfig")
            .field("bind", &self.bind)
            .field("client_id", &self.client_id)
            .field("key_version", &self.key_version)
            .field("tls", &self.tls)
            .field("notify_schedule", &self.notify_schedule)
            .field("faults", &self.faults)
            .field("notify_faults", &self.notify_faults)
            .finish_non_exhaustive()
    }
}

impl SimConfig {
    /// The bundled keys ([`keys`]), [`DEFAULT_CLIENT_ID`], a free loopback port, the system
    /// clock and [`DEFAULT_NOTIFY_SCHEDULE_MS`].
    ///
    /// # Errors
    /// [`Error::Key`] if a bundled key does not load.
    pub fn bundled() -> Result<Self, Error> {
        Ok(Self::new(
            DEFAULT_CLIENT_ID,
            keys::acqp_public_key()?,
            keys::sim_private_key()?,
        ))
    }

    /// A configuration for another ACQP identity.
    pub fn new(client_id: &str, acqp_public_key: PublicKey, sim_private_key: PrivateKey) -> Self {
        SimConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            client_id: client_id.to_owned(),
            acqp_public_key,
            sim_private_key,
            key_version: 1,
            acquirer_id: "SIMACQUIRER0001".to_owned(),
            psp_id: "SIMWALLET0001".to_owned(),
            wallet_brand_name: "SimWallet".to_owned(),
            wallets: DEFAULT_WALLETS.iter().map(|w| (*w).to_owned()).collect(),
            connect_wallet: true,
            default_notify_url: None,
            notify_schedule: DEFAULT_NOTIFY_SCHEDULE_MS
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
            notify_timeout: Duration::from_secs(5),
            faults: Vec::new(),
            notify_faults: NotifyFaults::default(),
            max_body_bytes: 1024 * 1024,
            workers: 8,
            clock: Box::new(SystemClock),
            tls: false,
        }
    }

    /// Builder: a fast notification schedule for tests (`attempts` attempts, `gap` apart).
    pub fn with_fast_notifications(mut self, attempts: usize, gap: Duration) -> Self {
        self.notify_schedule = (0..attempts)
            .map(|i| if i == 0 { Duration::ZERO } else { gap })
            .collect();
        self.notify_timeout = Duration::from_secs(2);
        self
    }

    /// Builder: listen on this port of 127.0.0.1 (0: any free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.bind = SocketAddr::from(([127, 0, 0, 1], port));
        self
    }

    /// Builder: the wallets offered (`paymentMethodType` values, e.g. `["ALIPAY_CN", "GCASH"]`).
    pub fn with_wallets<I, S>(mut self, wallets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.wallets = wallets.into_iter().map(Into::into).collect();
        self
    }

    /// Builder: serve HTTPS (see [`SimConfig::tls`]).
    pub fn with_tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Builder: another protocol clock.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }
}
