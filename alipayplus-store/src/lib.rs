//! Durable state for an Alipay+ acquirer, on SQLite or PostgreSQL: the follow-ups that may still lead to a
//! send, the inbound events acknowledged, dispute records, customs declaration ledgers and
//! Auto Debit token sets.
//!
//! Every decision the SDK makes about money lives in a value the caller must keep (a follow-up
//! machine's state, a token set, a ledger). This crate keeps them in one database file so a
//! merchant server that is killed at any instant resumes without losing an obligation and
//! without charging twice.
//!
//! ```
//! use alipayplus_store::{Kind, Next, Options, Store};
//! use alipayplus_types::Timestamp;
//!
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Polling { attempts: u32 }
//!
//! const PAY: Kind = Kind::new("cashier.pay");
//! let store = Store::open("sqlite::memory:", Options::default())?;
//! let now = Timestamp::from_unix_secs(1_751_000_000);
//! let v1 = store.create(PAY, "PAY-1", &Polling { attempts: 1 }, Next::At(now), now)?;
//! // ... the call goes out, an answer comes back ...
//! let v2 = store.save(PAY, "PAY-1", v1, &Polling { attempts: 2 }, Next::Final, now)?;
//! let row = store.load::<Polling>(PAY, "PAY-1")?.expect("stored");
//! assert_eq!((row.state, row.version, row.is_final), (Polling { attempts: 2 }, v2, true));
//! # Ok::<(), alipayplus_store::Error>(())
//! ```
//!
//! # What is stored
//!
//! | table | what | key | written by |
//! |---|---|---|---|
//! | `follow_ups` | a follow-up machine's serialized state (JSON), sealed when its [`Kind`] holds secrets | kind, id | the one worker driving it ([`Store::create`], [`Store::save`], [`Store::save_consuming`]) |
//! | `inbox` | verified inbound events (notifyPayment, authNotify, notifyRegistrationStatus, disputes) | source API, event key | the listener ([`Store::append`]); consumed by the worker |
//! | `disputes` | received disputes, the reference of the new / duplicate / conflict decision | kind, `disputeRequestId` | the listener (`Store::receive_dispute`, feature `operations`) |
//! | `records`, space `declaration_ledger` | one customs ledger per payment | `paymentRequestId` | the declaring code (`Store::save_ledger`, feature `operations`) |
//! | `records`, space `token_set` | Auto Debit access/refresh tokens, always sealed | binding id | [`Store::save_tokens`] |
//!
//! Keys and signer material are never stored.
//!
//! # Write-ahead rules
//!
//! A crash at any instant leaves every row either as it was or as it was written: each call
//! below is one transaction, committed before it returns. What keeps the money safe is the
//! order in which callers use them:
//!
//! 1. **A send is stored before the bytes leave.** When a follow-up machine returns a send
//!    (and has recorded in its state that the send is issued: the first pay's digest, the
//!    attempt count), save that state and only then send. A restart then finds the send
//!    recorded and follows it up (inquires) instead of forgetting it or issuing a new request
//!    id for a payment that may have been made.
//! 2. **An answer is stored before the next send.** Feed the answer to the machine and save
//!    the state before acting on what it says next, so the next decision is made from the
//!    stored answer, never from one lost in memory.
//! 3. **An inbound event is stored before its signed acknowledgement.** Verify, [`Store::append`]
//!    (or `Store::receive_dispute`), and only then answer `S`: Alipay+ stops re-delivering once
//!    acknowledged, so an acknowledged event that was not stored would be lost.
//!
//! One writer per follow-up: the listener only appends to the inbox; the worker driving a
//! follow-up reads [`Store::unconsumed`] and, in the same transaction as its next state,
//! marks what it fed to the machine consumed ([`Store::save_consuming`]).
//! Entries no worker will take (no follow-up, or one already final: a late notification)
//! are listed by [`Store::stray_inbox`], never dropped. [`Store::save`] is a
//! compare-and-swap on the row's [`Version`], so a second writer by mistake fails with
//! [`Error::Stale`] instead of overwriting. Each rule has a test killing a writer process
//! with `SIGKILL` (`tests/crash.rs`).
//!
//! The [`Worker`] keeps these rules for the payment follow-ups (`cashier.pay`,
//! `autodebit.pay`): it resumes every unfinished one after a restart and drives it at its
//! machine's cadence, blocking or async (see [`worker`]; its tests check each rule at the
//! instant it matters, `tests/worker.rs`).
//!
//! # Several processes: leases
//!
//! Several worker processes (instances behind a load balancer, a rolling deploy) share the
//! follow-ups of one database, each follow-up driven by one [`LeaseHolder`] at a time:
//! [`Store::claim_due`] leases due follow-ups to a worker (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`; SQLite: the write lock), [`Store::save_leased`] re-checks and renews the lease in
//! the transaction that records each send, and a worker that lost its lease gets
//! [`Error::LeaseLost`] and stops. A dead worker's leases expire and another worker takes its
//! follow-ups over. Plain [`Store::save`] refuses a row under a live lease ([`Error::Leased`]).
//!
//! # Durability
//!
//! The database runs in WAL mode with [`Durability::Normal`] (`synchronous=NORMAL`) by
//! default: a commit survives the process being killed (the kernel has the write), but the
//! last commits may be lost if the machine loses power or the kernel crashes. That is the
//! failure of a deploy or an OOM kill, the common one. [`Durability::Full`]
//! (`synchronous=FULL`, one field of [`Options`]) syncs the log at every commit and survives a
//! power loss too, at the cost of an fsync per write.
//!
//! # Secrets
//!
//! Auto Debit pay bodies (in a follow-up's state) and token sets hold access and refresh
//! tokens. They are sealed with AES-256-GCM (ring, already in the dependency tree through
//! rustls) under a [`SealingKey`] the caller provides in [`Options::sealing_key`]; the row's
//! table, kind and id are authenticated with it, so a sealed value copied to another row does
//! not open. Without a key, storing or reading them fails with [`Error::SealingKeyMissing`].
//! `Debug` of the key, of inbox entries and of this crate's errors never shows them.
//!
//! # Backends
//!
//! [`Store::open`] takes a URL: `sqlite:PATH` (or `sqlite::memory:`), or with feature
//! `postgres` `postgres://USER@HOST:PORT/DB` (several processes sharing the follow-ups, see
//! the crate README). Same API on both; the schema ([`schema::MIGRATIONS`]) is written once,
//! with the few differences spelled out in [`schema::Dialect`]. Without the feature a
//! `postgres://` URL fails with [`Error::BackendUnavailable`].
// docs.rs (`--cfg docsrs`, nightly): feature-gated items show the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

/// The README's example compiles and runs (doctest only).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod backend;
#[cfg(feature = "operations")]
mod dispute;
mod error;
mod followup;
mod ids;
mod inbox;
mod lease;
#[cfg(feature = "operations")]
mod ledger;
mod records;
pub mod schema;
mod seal;
mod store;
pub mod worker;

pub use backend::Durability;
#[cfg(feature = "operations")]
pub use dispute::{DisputeReceived, StoredDispute};
pub use error::Error;
pub use followup::{DueFollowUp, Next, StoredFollowUp};
pub use ids::{Kind, Seq, Version};
pub use inbox::{Appended, Inbound, InboxEntry, Source};
pub use lease::{Claimed, Held, LeaseHolder};
pub use records::StoredRecord;
pub use seal::SealingKey;
pub use store::{Options, Store};
pub use worker::Worker;
