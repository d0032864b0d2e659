//! Leases: several worker processes share the follow-ups of one database, each follow-up driven
//! by one worker at a time.
//!
//! A worker claims due follow-ups ([`Store::claim_due`]): on PostgreSQL the rows are locked
//! with `FOR UPDATE SKIP LOCKED` (concurrent claimers skip each other's rows instead of
//! waiting), on SQLite the claiming transaction holds the write lock (`BEGIN IMMEDIATE`), so
//! two processes on one file behave the same. A claim writes the worker's id and an expiry
//! (`lease_owner`, `lease_until`) and returns the rows. The worker then:
//!
//! - saves every state through its lease ([`Store::save_leased`]): the lease is checked in the
//!   same transaction that saves the state recording a send, and renewed to `now + lease_for`
//!   there, so the send that follows is covered; a worker that lost its lease gets
//!   [`Error::LeaseLost`] and stops driving that follow-up (nothing written, nothing sent);
//! - reads the follow-up's inbox ([`Store::unconsumed`]) and consumes it in its leased save;
//! - renews while it waits ([`Store::renew`], [`Store::renew_all`]), releases what it stops
//!   driving ([`Store::release`]).
//!
//! A worker that dies stops renewing: its leases expire and another worker's claim takes the
//! follow-ups over, resuming them from their stored state (which records any send in flight, so
//! the new holder inquires). Workers' clocks (`now`) must agree to well within a lease; a
//! worker must not start a send later than its lease's expiry minus the call's timeout
//! ([`Held::lease_until`]).

use core::time::Duration;

use alipayplus_types::Timestamp;
use serde::Serialize;

use crate::backend::{Dialect, Row, Tx};
use crate::error::Error;
use crate::followup::{Next, TABLE, WHAT, consume, key_text, split};
use crate::ids::{Kind, Seq, Version};
use crate::store::{Store, check_name};

/// A worker: its id (unique per running process: a restarted process is a new worker and
/// takes its predecessor's follow-ups over once their leases expire) and its lease length.
///
/// ```
/// use std::time::Duration;
/// use alipayplus_store::LeaseHolder;
///
/// let worker = LeaseHolder::new(format!("shop-1/{}", std::process::id()), Duration::from_secs(30))?;
/// assert_eq!(worker.lease_for(), Duration::from_secs(30));
/// assert!(LeaseHolder::new("", Duration::from_secs(30)).is_err());
/// assert!(LeaseHolder::new("w", Duration::ZERO).is_err());
/// # Ok::<(), alipayplus_store::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    id: String,
    lease_for: Duration,
}

impl LeaseHolder {
    /// A worker with this id, whose claims and saves hold a follow-up for `lease_for`.
    ///
    /// Choose `lease_for` longer than a call's timeout plus the time a state takes to save
    /// (the send must finish inside the lease a save renewed), and renew well before it runs
    /// out; a dead worker's follow-ups wait that long before another worker takes them.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty, overlong or control-character id, or a zero or
    /// overlong (over a year) lease.
    pub fn new(id: impl Into<String>, lease_for: Duration) -> Result<Self, Error> {
        let id = id.into();
        check_name("worker id", &id)?;
        if lease_for.as_millis() == 0 || lease_for > Duration::from_secs(366 * 86_400) {
            return Err(Error::InvalidInput {
                what: "lease duration",
                reason: "must be between 1 ms and a year",
            });
        }
        Ok(LeaseHolder { id, lease_for })
    }

    /// The id, as stored in `lease_owner`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How long a claim, a leased save or a renewal holds a follow-up.
    pub fn lease_for(&self) -> Duration {
        self.lease_for
    }

    fn until(&self, now: Timestamp) -> i64 {
        (now + self.lease_for).unix_millis()
    }
}

/// A follow-up a worker claimed: it holds the lease until [`Claimed::lease_until`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claimed {
    /// The kind's stored name ([`Kind::name`]).
    pub kind: String,
    /// The id.
    pub id: String,
    /// When it was due.
    pub due_at: Option<Timestamp>,
    /// Its version (load it, or save through the lease with it).
    pub version: Version,
    /// When the lease expires unless renewed.
    pub lease_until: Timestamp,
    /// The worker whose lease expired, when this claim took the follow-up over from another
    /// worker (it died, or stalled past its lease).
    pub taken_over_from: Option<String>,
}

/// What a leased write holds: the new version and the renewed lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Held {
    /// The row's new version.
    pub version: Version,
    /// The lease's new expiry: start no send that could outlast it.
    pub lease_until: Timestamp,
}

impl Store {
    /// Claims up to `limit` unfinished follow-ups that are due at `now` (or hold unconsumed
    /// inbox entries) and that no worker holds a live lease on, earliest due first; each is
    /// leased to `worker` until `now + worker.lease_for()`. Concurrent claimers (threads,
    /// processes, hosts) never get the same row: PostgreSQL skips the rows another claim has
    /// locked (`FOR UPDATE SKIP LOCKED`), SQLite serialises the claims. A follow-up whose
    /// lease expired is taken over ([`Claimed::taken_over_from`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use alipayplus_store::{Error, Kind, LeaseHolder, Next, Options, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// const PAY: Kind = Kind::new("cashier.pay");
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// store.create(PAY, "PAY-1", &"inquiring", Next::At(t), t)?;
    /// let a = LeaseHolder::new("a", Duration::from_secs(30))?;
    /// let b = LeaseHolder::new("b", Duration::from_secs(30))?;
    /// let mine = store.claim_due(&a, t, 10)?;
    /// assert_eq!(mine.len(), 1);
    /// assert!(store.claim_due(&b, t, 10)?.is_empty(), "a holds it");
    /// // a dies; 30 s later b takes it over, and a is refused if it comes back.
    /// let later = t + Duration::from_secs(31);
    /// let taken = store.claim_due(&b, later, 10)?;
    /// assert_eq!(taken[0].taken_over_from.as_deref(), Some("a"));
    /// let refused = store.save_leased(&a, PAY, "PAY-1", mine[0].version, &"sent", Next::At(later), &[], later);
    /// assert!(matches!(refused, Err(Error::LeaseLost { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn claim_due(
        &self,
        worker: &LeaseHolder,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Claimed>, Error> {
        let lock = match self.backend.dialect() {
            Dialect::Postgres => " FOR UPDATE OF f SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "SELECT f.kind, f.id, f.due_at, f.version, f.lease_owner FROM follow_ups f \
             WHERE f.is_final = ?1 AND (f.lease_owner IS NULL OR f.lease_until <= ?2) \
             AND (f.due_at <= ?2 OR EXISTS ( \
               SELECT 1 FROM inbox i WHERE i.follow_kind = f.kind AND i.follow_id = f.id \
               AND i.consumed_at IS NULL)) \
             ORDER BY f.due_at, f.kind, f.id LIMIT ?3{lock}"
        );
        let until = worker.until(now);
        self.backend.transact(|tx| {
            let rows = tx.query(
                &sql,
                &[
                    false.into(),
                    now.unix_millis().into(),
                    i64::from(limit).into(),
                ],
            )?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in &rows {
                let c = claimed_row(row, worker, until)?;
                tx.execute(
                    "UPDATE follow_ups SET lease_owner = ?1, lease_until = ?2 WHERE kind = ?3 AND id = ?4",
                    &[
                        worker.id.as_str().into(),
                        until.into(),
                        c.kind.as_str().into(),
                        c.id.as_str().into(),
                    ],
                )?;
                claimed.push(c);
            }
            Ok(claimed)
        })
    }

    /// [`Store::create`] with the new follow-up leased to `worker` at once: the creating
    /// process sends its first call without another worker claiming the row in between.
    ///
    /// # Errors
    /// As [`Store::create`].
    pub fn create_leased<S: Serialize + ?Sized>(
        &self,
        worker: &LeaseHolder,
        kind: Kind,
        id: &str,
        state: &S,
        next: Next,
        now: Timestamp,
    ) -> Result<Held, Error> {
        check_name("follow-up kind", kind.name())?;
        check_name("follow-up id", id)?;
        let (bytes, sealed) = self.encode(state, kind.secret(), (TABLE, kind.name(), id), WHAT)?;
        let (is_final, due) = split(next);
        let until = worker.until(now);
        self.backend.transact(|tx| {
            let n = tx.execute(
                "INSERT INTO follow_ups (kind, id, state, sealed, is_final, due_at, lease_owner, lease_until, \
                 version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9) ON CONFLICT (kind, id) DO NOTHING",
                &[
                    kind.name().into(),
                    id.into(),
                    bytes.into(),
                    sealed.into(),
                    is_final.into(),
                    due.into(),
                    worker.id.as_str().into(),
                    until.into(),
                    now.unix_millis().into(),
                ],
            )?;
            if n == 0 {
                return Err(Error::Exists {
                    what: "follow-up",
                    key: key_text(kind, id),
                });
            }
            Ok(Held {
                version: Version(1),
                lease_until: Timestamp::from_unix_millis(until),
            })
        })
    }

    /// [`Store::save_consuming`] through `worker`'s lease: in one transaction, checks that
    /// `worker` still holds a live lease on the row (its id, expiry after `now`), that the row
    /// is at `expected`, saves the state, consumes the inbox entries, and renews the lease to
    /// `now + lease_for`. Call it with the state that records a send, before sending
    /// (write-ahead rule 1), and with every answer.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease expired or another worker holds it: stop driving
    /// this follow-up, send nothing (nothing was written). [`Error::Stale`] when the row is at
    /// another version; [`Error::NotConsumable`], [`Error::SealingKeyMissing`],
    /// [`Error::Serialize`], [`Error::Database`].
    #[allow(clippy::too_many_arguments)]
    pub fn save_leased<S: Serialize + ?Sized>(
        &self,
        worker: &LeaseHolder,
        kind: Kind,
        id: &str,
        expected: Version,
        state: &S,
        next: Next,
        consumed: &[Seq],
        now: Timestamp,
    ) -> Result<Held, Error> {
        let (bytes, sealed) = self.encode(state, kind.secret(), (TABLE, kind.name(), id), WHAT)?;
        let (is_final, due) = split(next);
        let until = worker.until(now);
        self.backend.transact(|tx| {
            let n = tx.execute(
                "UPDATE follow_ups SET state = ?1, sealed = ?2, is_final = ?3, due_at = ?4, \
                 version = version + 1, updated_at = ?5, lease_until = ?6 \
                 WHERE kind = ?7 AND id = ?8 AND version = ?9 AND (?2 OR NOT sealed) \
                 AND lease_owner = ?10 AND lease_until > ?5",
                &[
                    bytes.into(),
                    sealed.into(),
                    is_final.into(),
                    due.into(),
                    now.unix_millis().into(),
                    until.into(),
                    kind.name().into(),
                    id.into(),
                    expected.0.into(),
                    worker.id.as_str().into(),
                ],
            )?;
            if n != 1 {
                return Err(why_not_held(tx, worker, kind, id, Some(expected), now));
            }
            consume(tx, kind, id, consumed, now)?;
            Ok(Held {
                version: Version(expected.0 + 1),
                lease_until: Timestamp::from_unix_millis(until),
            })
        })
    }

    /// Extends `worker`'s live lease on one follow-up to `now + lease_for`; the new expiry.
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the lease expired or another worker holds it (stop driving
    /// it); [`Error::Database`].
    pub fn renew(
        &self,
        worker: &LeaseHolder,
        kind: Kind,
        id: &str,
        now: Timestamp,
    ) -> Result<Timestamp, Error> {
        let until = worker.until(now);
        self.backend.transact(|tx| {
            let n = tx.execute(
                "UPDATE follow_ups SET lease_until = ?1 \
                 WHERE kind = ?2 AND id = ?3 AND lease_owner = ?4 AND lease_until > ?5",
                &[
                    until.into(),
                    kind.name().into(),
                    id.into(),
                    worker.id.as_str().into(),
                    now.unix_millis().into(),
                ],
            )?;
            if n != 1 {
                return Err(why_not_held(tx, worker, kind, id, None, now));
            }
            Ok(Timestamp::from_unix_millis(until))
        })
    }

    /// Extends every live lease `worker` holds on an unfinished follow-up to
    /// `now + lease_for` (one statement: the heartbeat of a worker driving many); how many.
    /// Leases that already expired are not revived (their follow-ups may be another's now:
    /// [`Store::save_leased`] tells the worker).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn renew_all(&self, worker: &LeaseHolder, now: Timestamp) -> Result<u64, Error> {
        let until = worker.until(now);
        self.backend.transact(|tx| {
            tx.execute(
                "UPDATE follow_ups SET lease_until = ?1 \
                 WHERE lease_owner = ?2 AND lease_until > ?3 AND is_final = ?4",
                &[
                    until.into(),
                    worker.id.as_str().into(),
                    now.unix_millis().into(),
                    false.into(),
                ],
            )
        })
    }

    /// Gives `worker`'s lease on the follow-up up (it stops driving it, e.g. on shutdown or
    /// once final): another worker may claim it at once when it is due. Whether the worker
    /// still held it (a lease already lost is left to its new holder).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn release(&self, worker: &LeaseHolder, kind: Kind, id: &str) -> Result<bool, Error> {
        self.backend.transact(|tx| {
            let n = tx.execute(
                "UPDATE follow_ups SET lease_owner = NULL, lease_until = NULL \
                 WHERE kind = ?1 AND id = ?2 AND lease_owner = ?3",
                &[kind.name().into(), id.into(), worker.id.as_str().into()],
            )?;
            Ok(n == 1)
        })
    }
}

fn claimed_row(row: &Row, worker: &LeaseHolder, until: i64) -> Result<Claimed, Error> {
    Ok(Claimed {
        kind: row.text(0)?,
        id: row.text(1)?,
        due_at: row.opt_int(2)?.map(Timestamp::from_unix_millis),
        version: Version(row.int(3)?),
        lease_until: Timestamp::from_unix_millis(until),
        // Its own lapsed lease is not a takeover.
        taken_over_from: row.opt_text(4)?.filter(|owner| *owner != worker.id),
    })
}

/// Why a leased write matched no row: the lease (lost first: that is what the worker must act
/// on), then the version, then a sealed state a kind without secrets would write in clear.
fn why_not_held(
    tx: &mut dyn Tx,
    worker: &LeaseHolder,
    kind: Kind,
    id: &str,
    expected: Option<Version>,
    now: Timestamp,
) -> Error {
    let row = match tx.query(
        "SELECT version, sealed, lease_owner, lease_until FROM follow_ups WHERE kind = ?1 AND id = ?2",
        &[kind.name().into(), id.into()],
    ) {
        Ok(rows) => rows.into_iter().next(),
        Err(e) => return e,
    };
    let Some(row) = row else {
        return Error::NotFound {
            what: "follow-up",
            key: key_text(kind, id),
        };
    };
    let owner = row.opt_text(2).ok().flatten();
    let until = row.opt_int(3).ok().flatten();
    let held = owner.as_deref() == Some(worker.id.as_str())
        && until.is_some_and(|u| u > now.unix_millis());
    if !held {
        return Error::LeaseLost {
            key: key_text(kind, id),
            worker: worker.id.clone(),
        };
    }
    let found = row.int(0).ok();
    match expected {
        Some(v) if found != Some(v.0) => Error::Stale {
            what: "follow-up",
            key: key_text(kind, id),
            expected: v.0,
            found,
        },
        _ => Error::InvalidInput {
            what: "follow-up kind",
            reason: "its stored state is sealed (it holds secrets): use Kind::holding_secrets, never write it back in clear",
        },
    }
}
