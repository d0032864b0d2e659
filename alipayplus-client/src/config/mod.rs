//! [`ClientConfig`]: the value every call and handler takes, composed of three concerns, each
//! with its impl in its own module:
//!
//! * [`Identity`] (who we are and whom we trust): client id, our signer and keyVersion, the
//!   Alipay+ public keys, the clock and the time format, an optional `Agent-Token`;
//! * [`OutboundPolicy`] (how we call Alipay+): the [`Host`] and the freshness window of
//!   responses;
//! * [`InboundPolicy`] (how calls from Alipay+ are checked): the `Request-Time` window, the
//!   foreign `Client-Id` rule ([`InboundClientId`]), the request URI signed ([`InboundUri`]).
//!
//! [`ClientConfig::new`] takes what every configuration needs and the default policies:
//!
//! ```
//! # use alipayplus_client::{ClientConfig, Host, InboundClientId, InboundPolicy, Timestamp};
//! # fn demo(key: alipayplus_sign::PrivateKey, alipay: alipayplus_sign::PublicKey)
//! #     -> Result<(), alipayplus_client::error::ConfigError> {
//! use alipayplus_sign::PublicKeys;
//! let config = ClientConfig::new(
//!     "SANDBOX_5YC47N2ZQHJ004124",
//!     Host::OtherRegionsAccelerated,
//!     key,
//!     PublicKeys::single(1, alipay),
//!     || Timestamp::from_unix_secs(1_740_041_509),
//! )?
//! .with_inbound(InboundPolicy::new().with_client_id(InboundClientId::Refuse));
//! assert_eq!(config.identity().key_version(), 1);
//! # Ok(()) }
//! ```

mod identity;
mod inbound;
mod outbound;

use alloc::string::String;

use alipayplus_sign::{ContentSigner, ContentVerifier, PublicKeys};

use crate::error::ConfigError;
use crate::time::{Clock, Timestamp};

pub use identity::Identity;
pub use inbound::{InboundClientId, InboundPolicy, InboundUri};
pub use outbound::{DEFAULT_RESPONSE_WINDOW, Host, OutboundPolicy};

/// Who we are and whom we trust ([`Identity`]), how we call Alipay+ ([`OutboundPolicy`]) and
/// how its calls are checked ([`InboundPolicy`]). Shared by
/// [`Client`](crate::client::Client) (outbound calls) and the inbound handlers.
///
/// `Debug` never shows key material.
#[derive(Debug)]
pub struct ClientConfig {
    identity: Identity,
    outbound: OutboundPolicy,
    inbound: InboundPolicy,
}

impl ClientConfig {
    /// A configuration with the default policies: [`Identity::new`] (client id, signer,
    /// Alipay+ public keys, clock) calling `host` ([`OutboundPolicy::new`]), with the default
    /// [`InboundPolicy`].
    ///
    /// # Errors
    /// [`ConfigError::InvalidClientId`] for an empty id or one with characters a header
    /// value cannot carry verbatim.
    pub fn new(
        client_id: impl Into<String>,
        host: Host,
        signer: impl ContentSigner + Send + Sync + 'static,
        public_keys: PublicKeys<impl ContentVerifier + Send + Sync + 'static>,
        clock: impl Clock + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        let identity = Identity::new(client_id, signer, public_keys, clock)?;
        Ok(ClientConfig::from_parts(
            identity,
            OutboundPolicy::new(host),
            InboundPolicy::default(),
        ))
    }

    /// A configuration of its three parts (e.g. an [`Identity`] with another keyVersion).
    pub fn from_parts(
        identity: Identity,
        outbound: OutboundPolicy,
        inbound: InboundPolicy,
    ) -> Self {
        ClientConfig {
            identity,
            outbound,
            inbound,
        }
    }

    /// The same configuration with this outbound policy.
    pub fn with_outbound(mut self, outbound: OutboundPolicy) -> Self {
        self.outbound = outbound;
        self
    }

    /// The same configuration with this inbound policy.
    pub fn with_inbound(mut self, inbound: InboundPolicy) -> Self {
        self.inbound = inbound;
        self
    }

    /// Who we are and whom we trust.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// How we call Alipay+.
    pub fn outbound(&self) -> &OutboundPolicy {
        &self.outbound
    }

    /// How calls from Alipay+ are checked.
    pub fn inbound(&self) -> &InboundPolicy {
        &self.inbound
    }

    /// Our client id ([`Identity::client_id`]).
    pub fn client_id(&self) -> &str {
        self.identity.client_id()
    }

    /// The current time of the configured clock ([`Identity::now`]): the time the follow-up
    /// loops and machines are driven with.
    pub fn now(&self) -> Timestamp {
        self.identity.now()
    }
}
