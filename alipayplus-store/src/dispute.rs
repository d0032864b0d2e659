//! Dispute records (feature `operations`): the store behind the new / duplicate / conflict
//! decision of [`alipayplus_operations::dispute::decide`], in place of `MemoryDisputeStore`.

use alipayplus_client::client::ClientConfig;
use alipayplus_client::transport::Response;
use alipayplus_operations::dispute::{Decision, Dispute, DisputeDelivery, DisputeKind, decide};
use alipayplus_types::Timestamp;

use crate::backend::Row;
use crate::error::Error;
use crate::store::{Store, check_name};

const WHAT: &str = "dispute";

/// What [`Store::receive_dispute`] did with a delivery.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DisputeReceived {
    /// The decision ([`decide`] against the stored dispute).
    pub decision: Decision,
    /// The signed answer to send back (the decision is committed already).
    pub answer: Response,
}

impl DisputeReceived {
    /// Whether the dispute is new (to act on; duplicates were acted on the first time).
    pub fn is_new(&self) -> bool {
        self.decision == Decision::New
    }
}

/// A stored dispute.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StoredDispute {
    /// The dispute as first received (the reference of later decisions).
    pub dispute: Dispute,
    /// The request body as first received (unknown fields kept: reason, deadline, ...).
    pub body: serde_json::Value,
    /// When it was stored.
    pub received_at: Timestamp,
    /// When [`Store::mark_dispute_answered`] recorded the response call's success.
    pub answered_at: Option<Timestamp>,
}

const COLUMNS: &str = "record, body, received_at, answered_at";

impl Store {
    /// Decides on a verified dispute delivery against the stored one and stores it when new,
    /// in one transaction, then gives the signed answer: write-ahead rule 3, send the answer
    /// only when this returns `Ok`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or overlong `disputeRequestId`;
    /// [`Error::Database`] (nothing stored: do not answer, Alipay+ delivers again).
    pub fn receive_dispute(
        &self,
        config: &ClientConfig,
        delivery: &DisputeDelivery,
        now: Timestamp,
    ) -> Result<DisputeReceived, Error> {
        let incoming = &delivery.body.dispute;
        let (kind, id) = incoming.store_key();
        check_name("disputeRequestId", id)?;
        let record = serde_json::to_vec(incoming)
            .map_err(|source| Error::Serialize { what: WHAT, source })?;
        let body = serde_json::to_vec(&delivery.body.request)
            .map_err(|source| Error::Serialize { what: WHAT, source })?;
        let decision = self.backend.transact(|tx| {
            let rows = tx.query(
                &format!("SELECT {COLUMNS} FROM disputes WHERE kind = ?1 AND dispute_request_id = ?2"),
                &[kind.api().into(), id.into()],
            )?;
            let stored = rows.first().map(stored_dispute).transpose()?;
            let decision = decide(incoming, stored.as_ref().map(|s| &s.dispute));
            if decision == Decision::New {
                // ON CONFLICT: on PostgreSQL (READ COMMITTED) a concurrent delivery of the same
                // dispute may insert between the SELECT and here; then decide against its row.
                let n = tx.execute(
                    "INSERT INTO disputes (kind, dispute_request_id, payment_request_id, record, body, received_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (kind, dispute_request_id) DO NOTHING",
                    &[
                        kind.api().into(),
                        id.into(),
                        incoming.payment_request_id.as_str().into(),
                        record.into(),
                        body.into(),
                        now.unix_millis().into(),
                    ],
                )?;
                if n == 0 {
                    let rows = tx.query(
                        &format!("SELECT {COLUMNS} FROM disputes WHERE kind = ?1 AND dispute_request_id = ?2"),
                        &[kind.api().into(), id.into()],
                    )?;
                    let stored = rows.first().map(stored_dispute).transpose()?;
                    return Ok(decide(incoming, stored.as_ref().map(|s| &s.dispute)));
                }
            }
            Ok(decision)
        })?;
        Ok(DisputeReceived {
            answer: delivery.answer.complete(config, decision.verdict()),
            decision,
        })
    }

    /// The dispute stored under (kind, `disputeRequestId`).
    ///
    /// # Errors
    /// [`Error::Deserialize`], [`Error::Database`].
    pub fn dispute(
        &self,
        kind: DisputeKind,
        dispute_request_id: &str,
    ) -> Result<Option<StoredDispute>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {COLUMNS} FROM disputes WHERE kind = ?1 AND dispute_request_id = ?2"
                ),
                &[kind.api().into(), dispute_request_id.into()],
            )
        })?;
        rows.first().map(stored_dispute).transpose()
    }

    /// Disputes not yet answered (responseRetrieval / responseEscalation), oldest first, at
    /// most `limit`.
    ///
    /// # Errors
    /// [`Error::Deserialize`], [`Error::Database`].
    pub fn unanswered_disputes(&self, limit: u32) -> Result<Vec<StoredDispute>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {COLUMNS} FROM disputes WHERE answered_at IS NULL \
                     ORDER BY received_at, kind, dispute_request_id LIMIT ?1"
                ),
                &[i64::from(limit).into()],
            )
        })?;
        rows.iter().map(stored_dispute).collect()
    }

    /// Records that the dispute was answered (the response call succeeded).
    ///
    /// # Errors
    /// [`Error::NotFound`] when no such dispute is stored; [`Error::Database`].
    pub fn mark_dispute_answered(
        &self,
        kind: DisputeKind,
        dispute_request_id: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.backend.transact(|tx| {
            let n = tx.execute(
                "UPDATE disputes SET answered_at = ?1 WHERE kind = ?2 AND dispute_request_id = ?3",
                &[
                    now.unix_millis().into(),
                    kind.api().into(),
                    dispute_request_id.into(),
                ],
            )?;
            if n != 1 {
                return Err(Error::NotFound {
                    what: WHAT,
                    key: format!("{}/{dispute_request_id}", kind.api()),
                });
            }
            Ok(())
        })
    }
}

impl Store {
    /// Stores a verified dispute unless one is stored under its key (kind,
    /// `disputeRequestId`), in one transaction: `Ok(None)` when this one was stored, else the
    /// one stored first (the reference: [`decide`] against it). For callers that decide and
    /// sign the answer themselves (a web framework's route); [`Store::receive_dispute`] does
    /// both. Write-ahead rule 3: answer only when this returns `Ok`.
    ///
    /// ```
    /// use alipayplus_operations::dispute::{Dispute, DisputeKind};
    /// use alipayplus_store::{Options, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// let dispute: Dispute = serde_json::from_value(serde_json::json!({
    ///     "kind": "Retrieval", "disputeRequestId": "D-1", "paymentRequestId": "PAY-1",
    /// })).unwrap();
    /// let body = serde_json::json!({"disputeRequestId": "D-1", "paymentRequestId": "PAY-1"});
    /// assert!(store.insert_dispute(&dispute, &body, t)?.is_none());
    /// let first = store.insert_dispute(&dispute, &body, t)?.expect("stored before");
    /// assert_eq!(first.dispute, dispute);
    /// // The same id for another payment stores nothing: the first is the reference.
    /// let mut other = dispute.clone();
    /// other.payment_request_id = "PAY-2".into();
    /// let first = store.insert_dispute(&other, &body, t)?.expect("stored before");
    /// assert_eq!(first.dispute.payment_request_id, "PAY-1");
    /// assert!(store.dispute(DisputeKind::Retrieval, "D-1")?.is_some());
    /// # Ok::<(), alipayplus_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty or overlong `disputeRequestId`;
    /// [`Error::Database`] (nothing stored: do not answer, Alipay+ delivers again).
    pub fn insert_dispute(
        &self,
        dispute: &Dispute,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> Result<Option<StoredDispute>, Error> {
        let (kind, id) = dispute.store_key();
        check_name("disputeRequestId", id)?;
        let record = serde_json::to_vec(dispute)
            .map_err(|source| Error::Serialize { what: WHAT, source })?;
        let body =
            serde_json::to_vec(body).map_err(|source| Error::Serialize { what: WHAT, source })?;
        self.backend.transact(|tx| {
            let n = tx.execute(
                "INSERT INTO disputes (kind, dispute_request_id, payment_request_id, record, body, received_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (kind, dispute_request_id) DO NOTHING",
                &[
                    kind.api().into(),
                    id.into(),
                    dispute.payment_request_id.as_str().into(),
                    record.into(),
                    body.into(),
                    now.unix_millis().into(),
                ],
            )?;
            if n == 1 {
                return Ok(None);
            }
            let rows = tx.query(
                &format!("SELECT {COLUMNS} FROM disputes WHERE kind = ?1 AND dispute_request_id = ?2"),
                &[kind.api().into(), id.into()],
            )?;
            rows.first().map(stored_dispute).transpose()
        })
    }
}

fn stored_dispute(row: &Row) -> Result<StoredDispute, Error> {
    let de = |source| Error::Deserialize { what: WHAT, source };
    Ok(StoredDispute {
        dispute: serde_json::from_slice(&row.bytes(0)?).map_err(de)?,
        body: serde_json::from_slice(&row.bytes(1)?).map_err(de)?,
        received_at: Timestamp::from_unix_millis(row.int(2)?),
        answered_at: row.opt_int(3)?.map(Timestamp::from_unix_millis),
    })
}
