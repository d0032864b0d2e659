//! The transport's error type.

/// Why a request got no HTTP response, or why the transport could not be built.
///
/// For a payment call every variant means "outcome unknown": inquire or retry with the same
/// request id, never treat it as a failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request itself is malformed (bad URL, method or header); fix the caller.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The proxy URL given to the builder is not usable.
    #[error("invalid proxy URL (expected e.g. http://host:port or socks5://host:port): {0}")]
    InvalidProxy(String),
    /// The host name did not resolve; check the base URL and DNS.
    #[error("host not found")]
    HostNotFound,
    /// The connection could not be established (refused, unreachable); retry later.
    #[error("connection failed: {0}")]
    Connect(String),
    /// A timeout elapsed; which phase is named. The request may have been processed: inquire.
    #[error("timed out ({0})")]
    Timeout(String),
    /// TLS failed, including an untrusted or invalid server certificate. Never bypassed.
    #[error("TLS failure: {0}")]
    Tls(String),
    /// The response body is larger than the configured limit.
    #[error("response body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: u64,
    },
    /// The server broke the HTTP protocol.
    #[error("HTTP protocol error: {0}")]
    Protocol(String),
    /// Reading or writing the connection failed midway (e.g. reset); the outcome is unknown.
    #[error("I/O error: {0}")]
    Io(String),
    /// Any other transport failure reported by ureq.
    #[error("transport failure: {0}")]
    Other(String),
}

impl Error {
    pub(crate) fn from_ureq(error: ureq::Error, limit: u64) -> Self {
        use ureq::Error as U;
        match error {
            U::Timeout(which) => Error::Timeout(format!("{which:?}")),
            U::HostNotFound => Error::HostNotFound,
            U::ConnectionFailed => Error::Connect("connection failed".into()),
            U::Rustls(e) => Error::Tls(e.to_string()),
            // rustls reports handshake failures (e.g. an untrusted certificate) inside io errors.
            U::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => {
                Error::Tls(e.to_string())
            }
            U::Io(e) => match e.kind() {
                std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::AddrNotAvailable
                | std::io::ErrorKind::NetworkUnreachable
                | std::io::ErrorKind::HostUnreachable => Error::Connect(e.to_string()),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    Error::Timeout(e.to_string())
                }
                _ => Error::Io(e.to_string()),
            },
            U::Tls(reason) => Error::Tls(reason.into()),
            U::BodyExceedsLimit(_) => Error::BodyTooLarge { limit },
            U::BadUri(uri) => Error::InvalidRequest(format!("bad URI: {uri}")),
            U::Http(e) => Error::InvalidRequest(e.to_string()),
            U::InvalidProxyUrl => Error::InvalidProxy("rejected by ureq".into()),
            U::Protocol(e) => Error::Protocol(e.to_string()),
            U::Pem(e) => Error::Tls(e.to_string()),
            other => Error::Other(other.to_string()),
        }
    }
}
