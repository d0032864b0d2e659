//! Alipay+ RSA256 message signing and verification for both directions.
#![no_std]
#![forbid(unsafe_code)]
