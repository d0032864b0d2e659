//! Who we are and whom we trust: our client id, our signer and its keyVersion, the Alipay+
//! public keys, the clock of our signed times and their format, an optional `Agent-Token`.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

use alipayplus_sign::message::{self, BoxedVerifier};
use alipayplus_sign::{ContentSigner, ContentVerifier, PublicKeys, SignContent, SignatureHeader};

use crate::error::ConfigError;
use crate::time::{Clock, TimeFormat, Timestamp};

type Signer = Box<dyn ContentSigner + Send + Sync>;
type BoxClock = Box<dyn Clock + Send + Sync>;

/// The identity and keys of a [`ClientConfig`](crate::config::ClientConfig): client id,
/// signer, keyVersion of our signatures, Alipay+ public keys, clock and time format.
///
/// `Debug` never shows key material or the `Agent-Token`.
pub struct Identity {
    client_id: String,
    signer: Signer,
    key_version: u32,
    public_keys: PublicKeys<BoxedVerifier>,
    clock: BoxClock,
    time_format: TimeFormat,
    agent_token: Option<String>,
}

impl Identity {
    /// An identity.
    ///
    /// * `client_id`: the `Client-Id` assigned in the Alipay+ Developer Center.
    /// * `signer`: our private key ([`alipayplus_sign::PrivateKey`], or `AwsLcPrivateKey`
    ///   with the `aws-lc` feature for OpenSSL-speed signing) or any other [`ContentSigner`]
    ///   (KMS, HSM).
    /// * `public_keys`: the Alipay+ public keys by keyVersion, of either backend
    ///   ([`alipayplus_sign::PublicKey`], or `AwsLcPublicKey` with the `aws-lc` feature) or any
    ///   other [`ContentVerifier`].
    /// * `clock`: the time source for `Request-Time` / `Response-Time`
    ///   (`time::SystemClock` with `std`, or a closure).
    ///
    /// Defaults: keyVersion `1` in our `Signature` headers (the official SDKs' default),
    /// [`TimeFormat::default`], no `Agent-Token`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidClientId`] for an empty id or one with characters a header
    /// value cannot carry verbatim.
    pub fn new(
        client_id: impl Into<String>,
        signer: impl ContentSigner + Send + Sync + 'static,
        public_keys: PublicKeys<impl ContentVerifier + Send + Sync + 'static>,
        clock: impl Clock + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        let client_id = client_id.into();
        if client_id.is_empty() {
            return Err(ConfigError::InvalidClientId("it is empty"));
        }
        if !client_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::InvalidClientId(
                "only visible ASCII characters are allowed",
            ));
        }
        Ok(Identity {
            client_id,
            signer: Box::new(signer),
            key_version: 1,
            public_keys: public_keys.boxed(),
            clock: Box::new(clock),
            time_format: TimeFormat::default(),
            agent_token: None,
        })
    }

    /// The keyVersion written in our `Signature` headers (the version of our key pair
    /// registered with Alipay+).
    pub fn with_key_version(mut self, key_version: u32) -> Self {
        self.key_version = key_version;
        self
    }

    /// How `Request-Time` / `Response-Time` are written.
    pub fn with_time_format(mut self, format: TimeFormat) -> Self {
        self.time_format = format;
        self
    }

    /// Sends this `Agent-Token` with every request (only for an agent acting for the client;
    /// not part of the signed content).
    pub fn with_agent_token(mut self, token: impl Into<String>) -> Self {
        self.agent_token = Some(token.into());
        self
    }

    /// Our client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The signer (our private key).
    pub fn signer(&self) -> &(dyn ContentSigner + Send + Sync) {
        &*self.signer
    }

    /// The keyVersion of our signatures.
    pub fn key_version(&self) -> u32 {
        self.key_version
    }

    /// The Alipay+ public keys.
    pub fn public_keys(&self) -> &PublicKeys<BoxedVerifier> {
        &self.public_keys
    }

    /// The `Agent-Token` sent with every request, if any.
    pub fn agent_token(&self) -> Option<&str> {
        self.agent_token.as_deref()
    }

    /// The current time of the clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The current time, formatted as a `Request-Time` / `Response-Time` value.
    pub fn time_header(&self) -> String {
        self.clock.now().format(self.time_format)
    }

    /// The `Signature` header value of `content`, made with our signer and keyVersion.
    pub(crate) fn sign(
        &self,
        content: &SignContent<'_>,
    ) -> Result<SignatureHeader, alipayplus_sign::Error> {
        message::sign_content(&*self.signer, self.key_version, content)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("client_id", &self.client_id)
            .field("key_version", &self.key_version)
            .field("public_keys", &self.public_keys.len())
            .field("time_format", &self.time_format)
            .field(
                "agent_token",
                &self.agent_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}
