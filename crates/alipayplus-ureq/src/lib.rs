//! Blocking HTTP transport for the alipayplus-rs clients, on `ureq`.
//!
//! This crate will implement the client core's transport trait with one shared `ureq`
//! agent, configurable timeouts and proxies, and TLS certificate verification always on.
//! Nothing is implemented yet.
#![forbid(unsafe_code)]
