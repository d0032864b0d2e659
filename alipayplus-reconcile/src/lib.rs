//! Reconciliation of Alipay+ settlement reports against the acquirer's own records.
//!
//! * [`name`]: report file names ([`ReportName`], anchored on the known prefix, the
//!   3-letter currency and the 3-digit seq; ambiguous names are an error).
//! * [`report`]: the streaming report parser core ([`ReportParser`]): `no_std` over bytes,
//!   columns by header name, bounded buffers ([`Limits`]).
//! * [`ledger`]: the merchant's own records ([`LedgerRecord`], [`LedgerParser`]).
//! * [`cycle`]: clearing cycles, 00:00:00–23:59:59 UTC+8 ([`ClearingDate`]).
//! * [`matcher`]: the sans-IO matcher of one cycle ([`CycleMatcher`], [`Finding`]).
//! * `fetch` and `job` (feature `std`): the fetcher trait with a local-directory
//!   implementation, and the daily job that reconciles a folder of reports with a ledger file.
//! * `sftp` (feature `sftp`): fetching a day's reports from the Alipay+ SFTP server into a
//!   local folder (host key pinned, `.part` then rename, complete when every listed file is there).
//!
//! The crate is `no_std` + `alloc` with default features off.
//!
//! ```
//! use alipayplus_reconcile::{ReportKind, ReportName};
//! let name = ReportName::parse("summary_P1_SGD_20250601_P1SGD_000.csv").unwrap();
//! assert_eq!(name.kind, ReportKind::Summary);
//! ```
#![no_std]
#![forbid(unsafe_code)]
// The parsers' and the matcher's crate-internal block-reading helpers serve the job's fast
// path (`bulk`, feature `std`); without `std` they are unused.
#![cfg_attr(not(feature = "std"), allow(dead_code))]
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
mod bulk;
pub mod cycle;
mod error;
#[cfg(feature = "std")]
pub mod fetch;
#[cfg(feature = "std")]
pub mod job;
pub mod ledger;
pub mod matcher;
pub mod name;
mod records;
pub mod report;
#[cfg(feature = "sftp")]
pub mod sftp;
mod table;

pub use cycle::ClearingDate;
pub use error::{Error, MAX_ECHO_CHARS};
pub use ledger::{LedgerParser, LedgerRecord};
pub use matcher::{CycleMatcher, CycleResult, Finding, FindingKind};
pub use name::{ReportKind, ReportName};
pub use records::Limits;
pub use report::{
    AmountForm, Event, FeeRow, ReportOptions, ReportParser, Row, RowTotals, Summary, TotalOverflow,
    TransactionRow, TransactionType,
};
