//! Alipay+ Cashier Payment for acquirers.
//!
//! This crate will hold the client core (the one-method transport trait, the client
//! configuration and the generic signed call), the payment APIs both products use
//! (inquiryPayment, cancelPayment, refund, notifyPayment) and the Cashier flows
//! (consultPayment, pay, the notification handler and the sans-IO payment tracker).
//! Nothing is implemented yet.
#![forbid(unsafe_code)]
