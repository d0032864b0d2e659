//! The crate's error type.

use alipayplus_client::error::RequestError;

/// What went wrong in an Auto Debit step, and what to do about it.
///
/// Never contains a credential (auth code, token, `authState`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The redirect back carries no `authState` although prepare sent one. Refuse it: without
    /// the state the redirect cannot be tied to this binding (CSRF). If your Alipay+ edition
    /// does not echo the state, use [`Binding::allow_missing_state`](crate::Binding::allow_missing_state).
    #[error("the redirect back carries no authState: refused (cannot be tied to this binding)")]
    MissingState,
    /// The redirect's `authState` is not this binding's: a forged or mixed-up redirect. Refuse
    /// it and do not exchange its code.
    #[error(
        "the redirect's authState does not match this binding: refused, do not exchange its code"
    )]
    StateMismatch,
    /// The redirect back carries no `authCode` (the user may have declined or closed the
    /// page): nothing to exchange; start a new binding.
    #[error(
        "the redirect back carries no authCode (the user may have declined): start a new binding"
    )]
    MissingAuthCode,
    /// A parameter appears more than once in the redirect: refused as ambiguous.
    #[error("the redirect back has {0} more than once: refused as ambiguous")]
    DuplicateParameter(&'static str),
    /// The redirect URL's query is not valid percent-encoded UTF-8.
    #[error("the redirect back is not a valid URL query: {0}")]
    BadRedirect(&'static str),
    /// The stored or given `authState` is not a usable state value.
    #[error("invalid authState: {0}")]
    InvalidState(&'static str),
    /// No auth code has reached this binding yet (neither by redirect nor by authNotify).
    #[error("no auth code has been received for this binding yet")]
    NoAuthCode,
    /// This binding's code was already exchanged (or its exchange failed definitely). Codes
    /// are single-use: keep the tokens from the first exchange, or start a new binding.
    #[error(
        "this binding's auth code was already exchanged (codes are single-use): keep the first tokens or bind again"
    )]
    CodeAlreadyExchanged,
    /// A verified answer or notification lacks a field the step needs.
    #[error("{api} {context} without {field}")]
    MissingField {
        /// The API (`applyToken`, `authNotify`).
        api: &'static str,
        /// When the field is required.
        context: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// The request was not sent (invalid or could not be signed); nothing reached Alipay+.
    #[error(transparent)]
    Request(#[from] RequestError),
}
