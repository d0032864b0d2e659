//! Alipay+ acquirer (ACQP) operations beside payment, on the client core of
//! `alipayplus-client`: merchant registration, disputes and customs declarations.
//!
//! | operation | feature | here |
//! |---|---|---|
//! | register a merchant (or store), follow its review per wallet | `registration` | [`registration`]: [`checked_registration`](registration::checked_registration), [`inquiry_registration_status_request`](registration::inquiry_registration_status_request), [`handle_notify_registration_status`](registration::handle_notify_registration_status), the sans-IO [`RegistrationFollowUp`](registration::RegistrationFollowUp) |
//! | answer a dispute opened by a wallet | `dispute` | [`dispute`]: [`handle_initiate_retrieval`](dispute::handle_initiate_retrieval), [`handle_initiate_escalation`](dispute::handle_initiate_escalation), the pure [`decide`](dispute::decide), [`MemoryDisputeStore`](dispute::MemoryDisputeStore), [`checked_response_retrieval`](dispute::checked_response_retrieval), [`checked_response_escalation`](dispute::checked_response_escalation) |
//! | declare an AlipayCN payment to China customs | `customs` | [`customs`]: [`checked_declare`](customs::checked_declare), [`inquire_declarations_request`](customs::inquire_declarations_request), [`DeclarationLedger`](customs::DeclarationLedger) |
//!
//! Every call is made the one way of the client core: build the typed request here (the
//! builder validates it and refuses what the spec forbids, before anything is sent), send it
//! with [`Client::call`](alipayplus_client::client::Client::call) (or sign and read it sans-IO
//! with [`ClientConfig::sign_request`](alipayplus_client::client::ClientConfig::sign_request) /
//! [`ClientConfig::read_response`](alipayplus_client::client::ClientConfig::read_response)),
//! then fold the outcome into the state it concerns. Every call is also available on an async
//! transport as
//! [`Client::call_async`](alipayplus_client::client::Client::call_async)`(&request).await`,
//! sharing every step but the IO with the blocking call. Inbound calls (notifyRegistrationStatus,
//! initiateRetrieval, initiateEscalation) are handled by `handle_x(&config, &request)`
//! functions that verify the signature and parse the body with
//! [`ClientConfig::accept_inbound`](alipayplus_client::client::ClientConfig::accept_inbound)
//! and return a typed event with the signed answer.
//!
//! ```no_run
//! # #[cfg(all(feature = "std", feature = "customs"))] {
//! use alipayplus_client::client::Client;
//! use alipayplus_operations::customs::inquire_declarations_request;
//! # fn demo<T: alipayplus_client::transport::Transport>(client: &Client<T>) -> Result<(), Box<dyn std::error::Error>> {
//! let request = inquire_declarations_request(&["DCL-1", "DCL-2"])?;
//! let outcome = client.call(&request)?;
//! for record in outcome.body().and_then(|b| b.declaration_records.as_ref()).into_iter().flatten() {
//!     println!("{:?}: {:?}", record.customs_declaration_request_id, record.declaration_request_status);
//! }
//! # Ok(()) }
//! # }
//! ```
//!
//! The crate is `no_std` + `alloc` with the default `std` feature off; it never reads a clock
//! (time is an input) and keeps no storage of its own beyond the in-memory dispute store for
//! tests and examples.
#![no_std]
#![forbid(unsafe_code)]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "registration", feature = "dispute", feature = "customs"))]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "customs")]
pub mod customs;
#[cfg(feature = "dispute")]
pub mod dispute;
mod error;
#[cfg(feature = "registration")]
pub mod registration;

pub use error::Error;

/// Checks `request` against every rule of its API (`validate()`: the description's rules and
/// the product rules beside them in `alipayplus-types`) plus the `context` rules a flow adds
/// (the dispute a response answers), through the client core's
/// [`check_request`](alipayplus_client::check_request), and clones it.
#[cfg(any(feature = "registration", feature = "dispute", feature = "customs"))]
pub(crate) fn checked<A: alipayplus_types::Api + Clone>(
    request: &A,
    context: impl FnOnce(&A, &mut alipayplus_types::ValidationErrors),
) -> Result<A, alipayplus_client::error::RequestError> {
    alipayplus_client::check_request(request, context)?;
    Ok(request.clone())
}
