//! The crate's error type.

/// Why the simulator could not start or a control call was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key did not load (a bundled key file is broken, or a configured key is wrong).
    #[error("key could not be loaded: {0}")]
    Key(#[source] alipayplus_sign::Error),
    /// The HTTP server could not bind; choose another address or port.
    #[error("could not listen on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// What the server said.
        reason: String,
    },
    /// No payment has this paymentRequestId or paymentId.
    #[error("no payment with id {0:?}")]
    UnknownPayment(String),
    /// The shopper (or the clock) cannot move the payment from its current state.
    #[error("payment {id:?} is {state}: {action} is not possible")]
    InvalidTransition {
        /// The paymentRequestId.
        id: String,
        /// Its state.
        state: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// No Auto Debit authorization has this ticket, authorization URL or access token.
    #[error("no Auto Debit authorization or token {0:?}")]
    UnknownAuthorization(String),
    /// A control request body was not what the control API expects.
    #[error("bad control request: {0}")]
    BadControlRequest(String),
}
