//! Follow-ups: a machine's serialized state per kind and id, with what a worker needs to find
//! the ones due.

use alipayplus_types::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{Row, Tx, Value};
use crate::error::Error;
use crate::ids::{Kind, Seq, Version};
use crate::store::{Store, check_name};

pub(crate) const TABLE: &str = "follow_ups";
pub(crate) const WHAT: &str = "follow-up state";

/// When a follow-up is next due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Next {
    /// Due at this instant (now or later).
    At(Timestamp),
    /// Final: no more sends; never listed as due again.
    Final,
}

/// A follow-up as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredFollowUp<S> {
    /// The machine state.
    pub state: S,
    /// Its version (give it back to [`Store::save`]).
    pub version: Version,
    /// Whether it is final.
    pub is_final: bool,
    /// When it is next due (`None` once final).
    pub due_at: Option<Timestamp>,
}

/// A follow-up a worker should drive now: due, or with unconsumed inbox entries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DueFollowUp {
    /// The kind's stored name ([`Kind::name`]).
    pub kind: String,
    /// The id.
    pub id: String,
    /// When it is due.
    pub due_at: Option<Timestamp>,
    /// Its version.
    pub version: Version,
}

pub(crate) fn key_text(kind: Kind, id: &str) -> String {
    format!("{}/{id}", kind.name())
}

impl Store {
    /// Stores a new follow-up at version 1 (write-ahead rule 1: call it with the state that
    /// records the first send, before sending).
    ///
    /// # Errors
    /// [`Error::Exists`] when (kind, id) is stored already (nothing is overwritten);
    /// [`Error::InvalidInput`] for an empty or overlong name; [`Error::SealingKeyMissing`] for
    /// a secret kind without a key; [`Error::Serialize`], [`Error::Database`].
    pub fn create<S: Serialize + ?Sized>(
        &self,
        kind: Kind,
        id: &str,
        state: &S,
        next: Next,
        now: Timestamp,
    ) -> Result<Version, Error> {
        check_name("follow-up kind", kind.name())?;
        check_name("follow-up id", id)?;
        let (bytes, sealed) = self.encode(state, kind.secret(), (TABLE, kind.name(), id), WHAT)?;
        let (is_final, due) = split(next);
        self.backend.transact(|tx| {
            let n = tx.execute(
                "INSERT INTO follow_ups (kind, id, state, sealed, is_final, due_at, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7) ON CONFLICT (kind, id) DO NOTHING",
                &[
                    kind.name().into(),
                    id.into(),
                    bytes.into(),
                    sealed.into(),
                    is_final.into(),
                    due.into(),
                    now.unix_millis().into(),
                ],
            )?;
            if n == 0 {
                return Err(Error::Exists {
                    what: "follow-up",
                    key: key_text(kind, id),
                });
            }
            Ok(Version(1))
        })
    }

    /// The follow-up stored under (kind, id), if any.
    ///
    /// # Errors
    /// [`Error::SealingKeyMissing`] / [`Error::Unseal`] for a sealed state without the right
    /// key; [`Error::Deserialize`] when it is not an `S`; [`Error::Database`].
    pub fn load<S: DeserializeOwned>(
        &self,
        kind: Kind,
        id: &str,
    ) -> Result<Option<StoredFollowUp<S>>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                "SELECT state, sealed, is_final, due_at, version FROM follow_ups WHERE kind = ?1 AND id = ?2",
                &[kind.name().into(), id.into()],
            )
        })?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(StoredFollowUp {
            state: self.decode(
                row.bytes(0)?,
                row.boolean(1)?,
                (TABLE, kind.name(), id),
                WHAT,
            )?,
            is_final: row.boolean(2)?,
            due_at: row.opt_int(3)?.map(Timestamp::from_unix_millis),
            version: Version(row.int(4)?),
        }))
    }

    /// Replaces the state if the row is still at `expected` (compare-and-swap); the new
    /// version. Write-ahead rules 1 and 2: save the state `poll` returned with a send before
    /// sending, and the state that took in an answer before the next send.
    ///
    /// ```
    /// use alipayplus_store::{Error, Kind, Next, Options, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// const K: Kind = Kind::new("registration");
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// let v1 = store.create(K, "REG-1", &1u32, Next::At(t), t)?;
    /// let v2 = store.save(K, "REG-1", v1, &2u32, Next::At(t), t)?;
    /// // A writer still holding v1 is refused and writes nothing.
    /// assert!(matches!(store.save(K, "REG-1", v1, &9u32, Next::Final, t), Err(Error::Stale { .. })));
    /// assert_eq!(store.load::<u32>(K, "REG-1")?.unwrap().version, v2);
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// Several processes share the follow-ups through leases: a row a worker holds a live
    /// lease on is written only through that lease ([`Store::save_leased`]).
    ///
    /// # Errors
    /// [`Error::Stale`] when the row is at another version or missing (nothing written);
    /// [`Error::Leased`] while a worker holds its lease; [`Error::SealingKeyMissing`],
    /// [`Error::Serialize`], [`Error::Database`].
    pub fn save<S: Serialize + ?Sized>(
        &self,
        kind: Kind,
        id: &str,
        expected: Version,
        state: &S,
        next: Next,
        now: Timestamp,
    ) -> Result<Version, Error> {
        self.save_consuming(kind, id, expected, state, next, &[], now)
    }

    /// [`Store::save`], and in the same transaction marks these inbox entries of the
    /// follow-up consumed: the worker fed them to its machine, and their effect is in `state`.
    /// A crash leaves both written or neither (the entries are read again on resume).
    ///
    /// ```
    /// use alipayplus_store::{Inbound, Kind, Next, Options, Source, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// const PAY: Kind = Kind::new("cashier.pay");
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// let v1 = store.create(PAY, "PAY-1", &"paying", Next::At(t), t)?;
    /// // The listener: stored, then acknowledged.
    /// let body = br#"{"paymentRequestId":"PAY-1","paymentResult":{"resultStatus":"S"}}"#;
    /// store.append(&Inbound::new(Source::NotifyPayment, "PAY-1", body).for_follow_up(PAY, "PAY-1"), t)?;
    /// // The worker: feeds the entries to its machine, saves the result and consumes them at once.
    /// let entries = store.unconsumed(PAY, "PAY-1")?;
    /// let seqs: Vec<_> = entries.iter().map(|e| e.seq).collect();
    /// store.save_consuming(PAY, "PAY-1", v1, &"paid", Next::Final, &seqs, t)?;
    /// assert!(store.unconsumed(PAY, "PAY-1")?.is_empty());
    /// # Ok::<(), alipayplus_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Store::save`], plus [`Error::NotConsumable`] when an entry is not an unconsumed
    /// entry of this follow-up (nothing written).
    #[allow(clippy::too_many_arguments)]
    pub fn save_consuming<S: Serialize + ?Sized>(
        &self,
        kind: Kind,
        id: &str,
        expected: Version,
        state: &S,
        next: Next,
        consumed: &[Seq],
        now: Timestamp,
    ) -> Result<Version, Error> {
        let (bytes, sealed) = self.encode(state, kind.secret(), (TABLE, kind.name(), id), WHAT)?;
        let (is_final, due) = split(next);
        self.backend.transact(|tx| {
            let n = tx.execute(
                "UPDATE follow_ups SET state = ?1, sealed = ?2, is_final = ?3, due_at = ?4, \
                 version = version + 1, updated_at = ?5 \
                 WHERE kind = ?6 AND id = ?7 AND version = ?8 AND (?2 OR NOT sealed) \
                 AND (lease_owner IS NULL OR lease_until <= ?5)",
                &[
                    bytes.into(),
                    sealed.into(),
                    is_final.into(),
                    due.into(),
                    now.unix_millis().into(),
                    kind.name().into(),
                    id.into(),
                    expected.0.into(),
                ],
            )?;
            if n != 1 {
                return Err(stale(tx, kind, id, expected, now));
            }
            consume(tx, kind, id, consumed, now)?;
            Ok(Version(expected.0 + 1))
        })
    }

    /// Marks the follow-up final without changing its state (compare-and-swap): a worker
    /// that gives up on it as unresolved, or an operator closing it.
    ///
    /// ```
    /// use alipayplus_store::{Kind, Next, Options, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// const PAY: Kind = Kind::new("cashier.pay");
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// let v1 = store.create(PAY, "PAY-1", &"unknown after every inquiry", Next::At(t), t)?;
    /// store.mark_final(PAY, "PAY-1", v1, t)?;
    /// let row = store.load::<String>(PAY, "PAY-1")?.unwrap();
    /// assert!(row.is_final && row.state == "unknown after every inquiry");
    /// assert!(store.list_due(t, 10)?.is_empty());
    /// # Ok::<(), alipayplus_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Stale`], [`Error::Leased`] while a worker holds its lease, [`Error::Database`].
    pub fn mark_final(
        &self,
        kind: Kind,
        id: &str,
        expected: Version,
        now: Timestamp,
    ) -> Result<Version, Error> {
        self.backend.transact(|tx| {
            let n = tx.execute(
                "UPDATE follow_ups SET is_final = ?1, due_at = NULL, version = version + 1, updated_at = ?2 \
                 WHERE kind = ?3 AND id = ?4 AND version = ?5 \
                 AND (lease_owner IS NULL OR lease_until <= ?2)",
                &[
                    true.into(),
                    now.unix_millis().into(),
                    kind.name().into(),
                    id.into(),
                    expected.0.into(),
                ],
            )?;
            if n != 1 {
                return Err(stale(tx, kind, id, expected, now));
            }
            Ok(Version(expected.0 + 1))
        })
    }

    /// Unfinished follow-ups to drive now, earliest due first, at most `limit`: due at or
    /// before `now`, or holding unconsumed inbox entries (a notification wakes its follow-up
    /// early). On start, a worker resumes everything with `now` far ahead
    /// ([`Store::list_unfinished`]).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn list_due(&self, now: Timestamp, limit: u32) -> Result<Vec<DueFollowUp>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                "SELECT f.kind, f.id, f.due_at, f.version FROM follow_ups f \
                 WHERE f.is_final = ?1 AND (f.due_at <= ?2 OR EXISTS ( \
                   SELECT 1 FROM inbox i WHERE i.follow_kind = f.kind AND i.follow_id = f.id \
                   AND i.consumed_at IS NULL)) \
                 ORDER BY f.due_at, f.kind, f.id LIMIT ?3",
                &[
                    false.into(),
                    now.unix_millis().into(),
                    i64::from(limit).into(),
                ],
            )
        })?;
        rows.iter().map(due_row).collect()
    }

    /// Every unfinished follow-up, earliest due first, at most `limit`: what a worker resumes
    /// after a restart.
    ///
    /// ```
    /// use alipayplus_store::{Kind, Next, Options, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// const PAY: Kind = Kind::new("cashier.pay");
    /// let path = std::env::temp_dir().join(format!("resume-doc-{}.sqlite", std::process::id()));
    /// let url = format!("sqlite:{}", path.display());
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// {
    ///     let store = Store::open(&url, Options::default())?;
    ///     store.create(PAY, "PAY-1", &"inquiring", Next::At(t), t)?;
    ///     store.create(PAY, "PAY-2", &"paid", Next::Final, t)?;
    /// } // the process dies here
    /// let store = Store::open(&url, Options::default())?;
    /// let resume = store.list_unfinished(100)?;
    /// assert_eq!(resume.len(), 1);
    /// assert_eq!((resume[0].kind.as_str(), resume[0].id.as_str()), ("cashier.pay", "PAY-1"));
    /// let row = store.load::<String>(PAY, &resume[0].id)?.unwrap();
    /// assert_eq!(row.state, "inquiring");
    /// # drop(store);
    /// # for s in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{s}", path.display())); }
    /// # Ok::<(), alipayplus_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn list_unfinished(&self, limit: u32) -> Result<Vec<DueFollowUp>, Error> {
        self.list_due(Timestamp::from_unix_millis(i64::MAX), limit)
    }
}

fn due_row(row: &Row) -> Result<DueFollowUp, Error> {
    Ok(DueFollowUp {
        kind: row.text(0)?,
        id: row.text(1)?,
        due_at: row.opt_int(2)?.map(Timestamp::from_unix_millis),
        version: Version(row.int(3)?),
    })
}

pub(crate) fn split(next: Next) -> (bool, Option<i64>) {
    match next {
        Next::At(t) => (false, Some(t.unix_millis())),
        Next::Final => (true, None),
    }
}

/// Why a compare-and-swap failed: [`Error::Leased`] when a worker holds the row's lease,
/// [`Error::Stale`] with the version found, or a sealed state that a kind without secrets
/// would have written back in clear.
fn stale(tx: &mut dyn Tx, kind: Kind, id: &str, expected: Version, now: Timestamp) -> Error {
    let row = tx
        .query(
            "SELECT version, sealed, lease_owner, lease_until FROM follow_ups WHERE kind = ?1 AND id = ?2",
            &[kind.name().into(), id.into()],
        )
        .ok()
        .and_then(|rows| rows.into_iter().next());
    let found = row.as_ref().and_then(|r| r.int(0).ok());
    let leased_until = row.as_ref().and_then(|r| r.opt_int(3).ok().flatten());
    if let Some(until) = leased_until.filter(|u| *u > now.unix_millis()) {
        return Error::Leased {
            key: key_text(kind, id),
            until: Timestamp::from_unix_millis(until),
        };
    }
    if found == Some(expected.0) && !kind.secret() {
        return Error::InvalidInput {
            what: "follow-up kind",
            reason: "its stored state is sealed (it holds secrets): use Kind::holding_secrets, never write it back in clear",
        };
    }
    Error::Stale {
        what: "follow-up",
        key: key_text(kind, id),
        expected: expected.0,
        found,
    }
}

pub(crate) fn consume(
    tx: &mut dyn Tx,
    kind: Kind,
    id: &str,
    consumed: &[Seq],
    now: Timestamp,
) -> Result<(), Error> {
    for seq in consumed {
        let n = tx.execute(
            "UPDATE inbox SET consumed_at = ?1 \
             WHERE seq = ?2 AND follow_kind = ?3 AND follow_id = ?4 AND consumed_at IS NULL",
            &[
                now.unix_millis().into(),
                seq.0.into(),
                kind.name().into(),
                Value::from(id),
            ],
        )?;
        if n != 1 {
            return Err(Error::NotConsumable {
                seq: seq.0,
                key: key_text(kind, id),
            });
        }
    }
    Ok(())
}
