//! Inbound policy: how calls from Alipay+ are checked beyond their signature (the
//! `Request-Time` window, a foreign `Client-Id`, the request URI signed).

use core::time::Duration;

/// What to do with a verified inbound call whose `Client-Id` is not ours.
///
/// The spec does not confirm which `Client-Id` Alipay+ sends on inbound calls (common §1.2
/// says it identifies the client; no inbound example shows it). The signature is the
/// authority: if Alipay+ sent another id, refusing would make every notification be refused
/// and re-sent forever. So by default the call is accepted and the mismatch reported
/// ([`Accepted::client_id_is_ours`](crate::inbound::Accepted::client_id_is_ours)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InboundClientId {
    /// Accept it and report the mismatch with the event (default).
    #[default]
    Report,
    /// Refuse it (`INVALID_CLIENT`, signed: the caller verified); Alipay+ re-sends.
    Refuse,
}

/// Which request URI an inbound call's signature is checked against (spec common §2.2:
/// Alipay+ signs the path it called; whether a notify URL's query string is included is
/// UNCERTAIN, and the spec recommends the fallback only behind an explicit option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InboundUri {
    /// The path only (default).
    #[default]
    Path,
    /// The path first, then path and query when the URL has one. Both are the request's own
    /// URI, so this does not let a forged request through; choose it when your notify URL
    /// carries a query string and notifications fail verification.
    PathThenPathAndQuery,
}

/// How calls from Alipay+ are checked once their signature verified. The default accepts any
/// `Request-Time`, reports (accepts) a foreign `Client-Id`, and checks the path only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InboundPolicy {
    window: Option<Duration>,
    client_id: InboundClientId,
    uri: InboundUri,
}

impl InboundPolicy {
    /// The default policy.
    pub fn new() -> Self {
        InboundPolicy::default()
    }

    /// The freshness window of inbound calls' `Request-Time`: `None` (default) accepts any
    /// time. Alipay+ re-sends notifications on a schedule it does not document, so a window
    /// can refuse a genuine late re-send; if you set one, make it generous (48 hours or
    /// more). The parsed time is always exposed
    /// ([`Accepted::request_time`](crate::inbound::Accepted::request_time)).
    pub fn with_window(mut self, window: Option<Duration>) -> Self {
        self.window = window;
        self
    }

    /// What to do with a verified inbound call for another `Client-Id` (default: accept and
    /// report it).
    pub fn with_client_id(mut self, rule: InboundClientId) -> Self {
        self.client_id = rule;
        self
    }

    /// Which request URI inbound signatures are checked against (default: the path).
    pub fn with_uri(mut self, uri: InboundUri) -> Self {
        self.uri = uri;
        self
    }

    /// The `Request-Time` window, if any.
    pub fn window(&self) -> Option<Duration> {
        self.window
    }

    /// The `Client-Id` rule.
    pub fn client_id(&self) -> InboundClientId {
        self.client_id
    }

    /// The request URI rule.
    pub fn uri(&self) -> InboundUri {
        self.uri
    }
}
