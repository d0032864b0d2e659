//! The inbound inbox: verified events stored before their acknowledgement (write-ahead rule
//! 3), recognised when re-delivered, consumed by the worker of their follow-up.

use core::fmt;

use alipayplus_types::Timestamp;

use crate::backend::Row;
use crate::error::Error;
use crate::ids::{Kind, Seq};
use crate::store::{Store, check_name};

const TABLE: &str = "inbox";
const WHAT: &str = "inbound event";

/// Which inbound API an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// notifyPayment (Cashier and Auto Debit payment results). Key it by `paymentRequestId`
    /// (common §3.3: the de-duplication key of notifications).
    NotifyPayment,
    /// authNotify (Auto Debit: token created or cancelled). Its body holds the access and
    /// refresh tokens, so it is always sealed. Key it by `authState` and `authNotifyType`.
    AuthNotify,
    /// notifyRegistrationStatus. Key it by `registrationRequestId` and the status.
    NotifyRegistrationStatus,
    /// initiateRetrieval. Key it by `disputeRequestId`.
    InitiateRetrieval,
    /// initiateEscalation. Key it by `disputeRequestId`.
    InitiateEscalation,
}

impl Source {
    /// The API name, as stored.
    pub fn api(self) -> &'static str {
        match self {
            Source::NotifyPayment => "notifyPayment",
            Source::AuthNotify => "authNotify",
            Source::NotifyRegistrationStatus => "notifyRegistrationStatus",
            Source::InitiateRetrieval => "initiateRetrieval",
            Source::InitiateEscalation => "initiateEscalation",
        }
    }

    /// Whether its body holds secrets (sealed).
    pub fn holds_secrets(self) -> bool {
        matches!(self, Source::AuthNotify)
    }

    fn from_api(api: &str) -> Option<Self> {
        [
            Source::NotifyPayment,
            Source::AuthNotify,
            Source::NotifyRegistrationStatus,
            Source::InitiateRetrieval,
            Source::InitiateEscalation,
        ]
        .into_iter()
        .find(|s| s.api() == api)
    }
}

/// A verified inbound event to store.
///
/// ```
/// use alipayplus_store::{Inbound, Kind, Source};
///
/// const PAY: Kind = Kind::new("cashier.pay");
/// let body = br#"{"paymentRequestId":"PAY-1","paymentResult":{"resultStatus":"S"}}"#;
/// let event = Inbound::new(Source::NotifyPayment, "PAY-1", body).for_follow_up(PAY, "PAY-1");
/// assert_eq!(event.source(), Source::NotifyPayment);
/// ```
#[derive(Clone, Copy)]
pub struct Inbound<'a> {
    source: Source,
    key: &'a str,
    follow_up: Option<(Kind, &'a str)>,
    body: &'a [u8],
}

impl<'a> Inbound<'a> {
    /// An event from `source`, recognised as a re-delivery by `key` (see [`Source`] for each
    /// source's key), with its verified body bytes.
    pub fn new(source: Source, key: &'a str, body: &'a [u8]) -> Self {
        Inbound {
            source,
            key,
            follow_up: None,
            body,
        }
    }

    /// For the follow-up (kind, id) whose worker will consume it.
    pub fn for_follow_up(mut self, kind: Kind, id: &'a str) -> Self {
        self.follow_up = Some((kind, id));
        self
    }

    /// The source.
    pub fn source(&self) -> Source {
        self.source
    }
}

impl fmt::Debug for Inbound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbound")
            .field("source", &self.source)
            .field("key", &self.key)
            .field("follow_up", &self.follow_up)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What [`Store::append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Appended {
    /// Stored as a new entry: acknowledge it, the worker will take it.
    New(Seq),
    /// Stored before under the same source and key: acknowledge again, nothing new stored.
    Duplicate {
        /// The first entry.
        seq: Seq,
        /// Whether the body is byte for byte the first one's. A re-delivery with another body
        /// under the same key is kept out (the first stays the reference) and worth a log line.
        same_body: bool,
    },
}

impl Appended {
    /// The entry, new or first.
    pub fn seq(self) -> Seq {
        match self {
            Appended::New(seq) | Appended::Duplicate { seq, .. } => seq,
        }
    }
}

/// A stored inbound event. `Debug` shows the body's length, not the body.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxEntry {
    /// Its number.
    pub seq: Seq,
    /// The source API.
    pub source: Source,
    /// Its re-delivery key.
    pub key: String,
    /// The follow-up (kind name, id) it is for, if any.
    pub follow_up: Option<(String, String)>,
    /// The body as received (opened when sealed).
    pub body: Vec<u8>,
    /// When it was stored.
    pub received_at: Timestamp,
    /// When its follow-up's worker consumed it.
    pub consumed_at: Option<Timestamp>,
}

impl fmt::Debug for InboxEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxEntry")
            .field("seq", &self.seq)
            .field("source", &self.source)
            .field("key", &self.key)
            .field("follow_up", &self.follow_up)
            .field("body_len", &self.body.len())
            .field("received_at", &self.received_at)
            .field("consumed_at", &self.consumed_at)
            .finish()
    }
}

const ENTRY_COLUMNS: &str =
    "seq, source, event_key, follow_kind, follow_id, body, sealed, received_at, consumed_at";

impl Store {
    /// Stores a verified inbound event, once: write-ahead rule 3, call it before sending the
    /// signed acknowledgement, and acknowledge only when it returns `Ok`.
    ///
    /// ```
    /// use alipayplus_store::{Appended, Inbound, Options, Source, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// let event = Inbound::new(Source::NotifyPayment, "PAY-1", b"{}");
    /// let first = store.append(&event, t)?;
    /// assert!(matches!(first, Appended::New(_)));
    /// assert_eq!(store.append(&event, t)?, Appended::Duplicate { seq: first.seq(), same_body: true });
    /// # Ok::<(), alipayplus_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::SealingKeyMissing`] for an authNotify without a key; [`Error::InvalidInput`]
    /// for an empty or overlong key; [`Error::Database`]. On any error nothing is stored: do
    /// not acknowledge (Alipay+ delivers again).
    pub fn append(&self, event: &Inbound<'_>, now: Timestamp) -> Result<Appended, Error> {
        check_name("inbound event key", event.key)?;
        if let Some((kind, id)) = event.follow_up {
            check_name("follow-up kind", kind.name())?;
            check_name("follow-up id", id)?;
        }
        let api = event.source.api();
        let aad = (TABLE, api, event.key);
        let (body, sealed) = match (event.source.holds_secrets(), self.sealing_key()) {
            (false, _) => (event.body.to_vec(), false),
            (true, Some(key)) => (
                key.seal(
                    &crate::seal::row_aad(aad.0, aad.1, aad.2),
                    event.body.to_vec(),
                )?,
                true,
            ),
            (true, None) => return Err(Error::SealingKeyMissing { what: WHAT }),
        };
        let (kind, id) = match event.follow_up {
            Some((kind, id)) => (Some(kind.name()), Some(id)),
            None => (None, None),
        };
        let outcome = self.backend.transact(|tx| {
            let inserted = tx.query(
                "INSERT INTO inbox (source, event_key, follow_kind, follow_id, body, sealed, received_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (source, event_key) DO NOTHING RETURNING seq",
                &[
                    api.into(),
                    event.key.into(),
                    kind.into(),
                    id.into(),
                    body.into(),
                    sealed.into(),
                    now.unix_millis().into(),
                ],
            )?;
            if let Some(row) = inserted.first() {
                return Ok(Err(Seq(row.int(0)?)));
            }
            let first = tx.query(
                "SELECT seq, body, sealed FROM inbox WHERE source = ?1 AND event_key = ?2",
                &[api.into(), event.key.into()],
            )?;
            let row = first.first().ok_or_else(|| Error::Corrupt {
                what: String::from("inbox entry vanished during a conflicting insert"),
            })?;
            Ok(Ok((Seq(row.int(0)?), row.bytes(1)?, row.boolean(2)?)))
        })?;
        match outcome {
            Err(seq) => Ok(Appended::New(seq)),
            Ok((seq, stored, sealed)) => {
                let stored = self.open_bytes(stored, sealed, aad, WHAT)?;
                Ok(Appended::Duplicate {
                    seq,
                    same_body: stored == event.body,
                })
            }
        }
    }

    /// The unconsumed inbox entries of the follow-up (kind, id), oldest first: what its worker
    /// feeds to the machine before [`Store::save_consuming`].
    ///
    /// # Errors
    /// [`Error::SealingKeyMissing`] / [`Error::Unseal`] for a sealed body without the right
    /// key; [`Error::Corrupt`], [`Error::Database`].
    pub fn unconsumed(&self, kind: Kind, id: &str) -> Result<Vec<InboxEntry>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM inbox \
                     WHERE follow_kind = ?1 AND follow_id = ?2 AND consumed_at IS NULL ORDER BY seq"
                ),
                &[kind.name().into(), id.into()],
            )
        })?;
        rows.iter().map(|r| self.entry(r)).collect()
    }

    /// The entry stored for (source, key), consumed or not: whether an event that was
    /// acknowledged is in the store.
    ///
    /// # Errors
    /// As [`Store::unconsumed`].
    pub fn inbound(&self, source: Source, key: &str) -> Result<Option<InboxEntry>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                &format!("SELECT {ENTRY_COLUMNS} FROM inbox WHERE source = ?1 AND event_key = ?2"),
                &[source.api().into(), key.into()],
            )
        })?;
        rows.first().map(|r| self.entry(r)).transpose()
    }

    /// Unconsumed entries no worker will take, oldest first, at most `limit`: those linked to
    /// no follow-up, to one not stored, or to one already final (a notification arriving
    /// after its follow-up was given up as unresolved says something about money). Nothing
    /// passes silently: report them, then [`Store::consume_stray`].
    ///
    /// ```
    /// use alipayplus_store::{Inbound, Kind, Next, Options, Source, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// const PAY: Kind = Kind::new("cashier.pay");
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// store.create(PAY, "PAY-1", &"unresolved", Next::Final, t)?;
    /// let late = Inbound::new(Source::NotifyPayment, "PAY-1", b"{}").for_follow_up(PAY, "PAY-1");
    /// store.append(&late, t)?;
    /// let stray = store.stray_inbox(10)?;
    /// assert_eq!(stray.len(), 1);
    /// store.consume_stray(&[stray[0].seq], t)?;
    /// assert!(store.stray_inbox(10)?.is_empty());
    /// # Ok::<(), alipayplus_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Store::unconsumed`].
    pub fn stray_inbox(&self, limit: u32) -> Result<Vec<InboxEntry>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM inbox i WHERE i.consumed_at IS NULL AND NOT EXISTS ( \
                       SELECT 1 FROM follow_ups f WHERE f.kind = i.follow_kind AND f.id = i.follow_id \
                       AND f.is_final = ?1) \
                     ORDER BY i.seq LIMIT ?2"
                ),
                &[false.into(), i64::from(limit).into()],
            )
        })?;
        rows.iter().map(|r| self.entry(r)).collect()
    }

    /// Marks stray entries ([`Store::stray_inbox`]) consumed, all or none.
    ///
    /// # Errors
    /// [`Error::NotConsumable`] when an entry is consumed already or belongs to an unfinished
    /// follow-up (its worker consumes it); [`Error::Database`].
    pub fn consume_stray(&self, seqs: &[Seq], now: Timestamp) -> Result<(), Error> {
        self.backend.transact(|tx| {
            for seq in seqs {
                let n = tx.execute(
                    "UPDATE inbox SET consumed_at = ?1 WHERE seq = ?2 AND consumed_at IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.kind = inbox.follow_kind \
                       AND f.id = inbox.follow_id AND f.is_final = ?3)",
                    &[now.unix_millis().into(), seq.0.into(), false.into()],
                )?;
                if n != 1 {
                    return Err(Error::NotConsumable {
                        seq: seq.0,
                        key: String::from("(stray entries)"),
                    });
                }
            }
            Ok(())
        })
    }

    fn entry(&self, row: &Row) -> Result<InboxEntry, Error> {
        let api = row.text(1)?;
        let source = Source::from_api(&api).ok_or_else(|| Error::Corrupt {
            what: format!("inbox source {api:?} is not an inbound API"),
        })?;
        let key = row.text(2)?;
        let follow_up = match (row.opt_text(3)?, row.opt_text(4)?) {
            (Some(kind), Some(id)) => Some((kind, id)),
            _ => None,
        };
        let body = self.open_bytes(row.bytes(5)?, row.boolean(6)?, (TABLE, &api, &key), WHAT)?;
        Ok(InboxEntry {
            seq: Seq(row.int(0)?),
            source,
            key,
            follow_up,
            body,
            received_at: Timestamp::from_unix_millis(row.int(7)?),
            consumed_at: row.opt_int(8)?.map(Timestamp::from_unix_millis),
        })
    }
}
