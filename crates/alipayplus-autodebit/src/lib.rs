//! Alipay+ Auto Debit for acquirers.
//!
//! This crate will hold wallet binding (prepare, the redirect back, authNotify),
//! tokens (applyToken, cancelToken, the token lifecycle helper), consultUnbinding and
//! agreement payments, built on the client core of `alipayplus-cashier`.
//! Nothing is implemented yet.
#![forbid(unsafe_code)]
