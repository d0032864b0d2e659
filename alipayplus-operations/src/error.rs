//! The crate's error type.

#[cfg(any(feature = "registration", feature = "customs"))]
use alloc::string::String;

use alipayplus_client::error::RequestError;
#[cfg(feature = "customs")]
use alipayplus_types::Amount;

/// What went wrong in an operation step, and what to do about it. Nothing in it reached
/// Alipay+.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request fails validation or could not be signed: fix the listed fields.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// registration.md §2: an update of a registration is accepted only when the previous
    /// request for the same merchant (and store) is older than 30 minutes or already
    /// processed. Wait until `allowed_from_millis` (Unix milliseconds), or until the previous
    /// request has its final result.
    #[cfg(feature = "registration")]
    #[error(
        "update of {key} refused before sending: the previous registration request {previous_request_id} is not processed and younger than 30 minutes; send the update from {allowed_from_millis} (Unix ms) or once it is processed"
    )]
    UpdateTooSoon {
        /// The registration key (`referenceMerchantId` [+ `/` + `referenceStoreId`]).
        key: String,
        /// The previous `registrationRequestId`.
        previous_request_id: String,
        /// When the update may be sent, in Unix milliseconds.
        allowed_from_millis: i64,
    },
    /// The request given as an update registers another merchant / store than the follow-up:
    /// it is not an update of this registration (registration.md §2 "what counts as an
    /// update"). Start a follow-up of its own.
    #[cfg(feature = "registration")]
    #[error(
        "the request registers {found}, not {expected}: it is not an update of this registration"
    )]
    NotAnUpdate {
        /// The follow-up's registration key.
        expected: String,
        /// The request's registration key.
        found: String,
    },
    /// An update must carry a new `registrationRequestId` (re-sending the same id is a retry,
    /// which Alipay+ answers with the first result).
    #[cfg(feature = "registration")]
    #[error("an update needs a new registrationRequestId; {0} is the previous request's")]
    UpdateReusesRequestId(String),
    /// The declaration would bring the declared total of the payment above its
    /// `customsDeclarationAmount` (customs.md §2). Lower `declarationAmount`, or update an
    /// earlier declaration (same `customsDeclarationRequestId`) instead of adding one.
    #[cfg(feature = "customs")]
    #[error(
        "declaring {amount} for {payment_request_id} would bring its declared total to {total}, above its customsDeclarationAmount {limit}"
    )]
    DeclarationAboveLimit {
        /// The payment.
        payment_request_id: String,
        /// The amount asked.
        amount: Amount,
        /// The total it would make.
        total: Amount,
        /// The payment's `customsDeclarationAmount`.
        limit: Amount,
    },
    /// The declaration names another payment than the ledger's.
    #[cfg(feature = "customs")]
    #[error("the declaration is for payment {found}, not {expected}")]
    OtherPayment {
        /// The ledger's payment.
        expected: String,
        /// In the declaration.
        found: String,
    },
    /// Split and whole-payment declarations of one payment do not mix (customs.md §2:
    /// `isSplit=false` declares the payment as one order under its paymentRequestId).
    #[cfg(feature = "customs")]
    #[error("{0}")]
    SplitRule(&'static str),
    /// The inquiryPayment answer or notifyPayment carries no usable `customsDeclarationAmount`
    /// (not an AlipayCN payment, not paid, or not in CNY): nothing can be declared for it.
    #[cfg(feature = "customs")]
    #[error(
        "no CNY customsDeclarationAmount for this payment (only paid AlipayCN payments can be declared): {0}"
    )]
    NoDeclarableAmount(&'static str),
}
