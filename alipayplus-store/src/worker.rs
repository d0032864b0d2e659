//! The resuming worker: drives every unfinished payment follow-up stored in a [`Store`] at
//! its machine's cadence until it is final (or explicitly unresolved), blocking
//! ([`Worker::run`]) or async ([`Worker::run_async`]).
//!
//! The flow crates make the machines (`alipayplus_cashier` / `alipayplus_autodebit` build the
//! pay request and its [`PaymentTracker`](alipayplus_client::tracker::PaymentTracker); a
//! [`PaymentFollower`] follows it) and hand them to the worker with [`Worker::begin`]; from
//! then on the store is the only copy that matters. The worker keeps the write-ahead rules
//! of the [crate docs](crate):
//!
//! 1. the state `poll` returned with a send is saved before the bytes leave;
//! 2. an answer is fed and saved before the next send (the save that records the next send
//!    carries it; a wait or a final state is saved at once);
//! 3. the listener stores an inbound notification ([`Store::append_payment_notification`])
//!    before its signed acknowledgement; it never touches a follow-up. The worker driving the
//!    follow-up reads its inbox, parses the stored (verified) body, feeds it to the machine
//!    and marks it consumed in the same transaction as the state it led to.
//!
//! One writer per follow-up: a follow-up is claimed in the process while it is driven (two
//! threads of one worker never drive the same one), and every save is a compare-and-swap on
//! its version, so a second writer by mistake fails before it sends anything. (The
//! PostgreSQL backend replaces the in-process claim with a lease in the database.)
//!
//! After a restart nothing needs replaying: a send whose answer never came is stored with the
//! call pending and due at once; the machine counts it as unanswered at its next `poll` and
//! inquires (it never issues a new request id for a payment that may exist).
//!
//! ```
//! use alipayplus_client::driver::PaymentFollower;
//! # use alipayplus_client::client::Client;
//! # use alipayplus_client::transport::Transport;
//! use alipayplus_store::{Kind, Worker, Store};
//!
//! const CASHIER_PAY: Kind = Kind::new("cashier.pay");
//! # fn demo(store: &Store, client: &Client<impl Transport>, follower: PaymentFollower)
//! #     -> Result<(), alipayplus_store::Error> {
//! let worker = Worker::new(store, client, &[CASHIER_PAY]);
//! // At checkout: stored before anything is sent.
//! worker.begin(CASHIER_PAY, &follower)?;
//! // One pass: everything due is driven until it waits or is final.
//! for driven in worker.tick()? {
//!     if let Some(state) = &driven.final_state {
//!         println!("{} is final: {state:?}", driven.id);
//!     }
//! }
//! // Or on a thread of its own until stopped: `worker.run(&stop)`.
//! # Ok(()) }
//! ```

use std::collections::HashSet;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use alipayplus_client::client::Client;
use alipayplus_client::driver::{Action, Answered, Call, Notified, PaymentFollower};
use alipayplus_client::error::{NotificationMismatch, RequestError};
use alipayplus_client::tracker::{Final, ShopperRedirect};
use alipayplus_client::transport::Transport;
use alipayplus_client::transport_async::AsyncTransport;
use alipayplus_types::{NotifyPaymentRequest, Timestamp};

use crate::error::Error;
use crate::followup::Next;
use crate::ids::{Kind, Seq, Version};
use crate::inbox::{Appended, Inbound, Source};
use crate::store::Store;

/// Something a drive did that the caller may want to log or act on (the redirect).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A call was sent and its answer fed (and stored before the next send).
    Called(Answered),
    /// The shopper is to be sent here (Cashier). The redirect is stored in the follow-up's
    /// state (the tracker keeps it) before this is returned.
    Redirect(ShopperRedirect),
    /// A stored notification named this payment but did not match the order (amount): not
    /// fed, consumed. Do not fulfil on it; investigate.
    Mismatch(NotificationMismatch),
    /// An inbox entry of this follow-up that is not a notifyPayment body: consumed without
    /// being fed (it stays in the inbox for inspection).
    Unreadable(Seq),
    /// A call could not be signed, so nothing was sent; the machine counts it as unanswered.
    NotSent(RequestError),
}

/// What one drive of a follow-up did ([`Worker::drive`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Driven {
    /// The kind.
    pub kind: Kind,
    /// The `paymentRequestId`.
    pub id: String,
    /// What happened, in order.
    pub events: Vec<Event>,
    /// The final state once reached (also [`Final::Unresolved`]: reconcile, never charge again).
    pub final_state: Option<Final>,
    /// When it is next due (`None` once final).
    pub next_due: Option<Timestamp>,
}

/// Drives the payment follow-ups of some kinds: see the [module docs](self).
pub struct Worker<'a, T> {
    store: &'a Store,
    client: &'a Client<T>,
    kinds: Vec<Kind>,
    claims: Mutex<HashSet<(&'static str, String)>>,
    batch: u32,
    idle: Duration,
}

impl<T> core::fmt::Debug for Worker<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Worker")
            .field("kinds", &self.kinds)
            .field("batch", &self.batch)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

/// A follow-up claimed by this process while it is driven; released on drop.
struct Claim<'w> {
    claims: &'w Mutex<HashSet<(&'static str, String)>>,
    key: (&'static str, String),
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.claims.lock() {
            set.remove(&self.key);
        }
    }
}

/// One follow-up being driven: the sans-IO part shared by the blocking and async drives.
struct Drive {
    kind: Kind,
    id: String,
    follower: PaymentFollower,
    version: Version,
    consumed: Vec<Seq>,
    events: Vec<Event>,
}

/// What a drive does next.
enum Step {
    /// Send this call (its state is stored), polled at this time.
    Send(Call, Timestamp),
    /// Stop here: it waits, or it is final (stored).
    Stop(Driven),
}

impl<'a, T> Worker<'a, T> {
    /// A worker over `store`, sending through `client` (whose config's clock gives the time),
    /// driving the follow-ups of these `kinds` (each a [`PaymentFollower`] state: e.g.
    /// `cashier.pay`, and `autodebit.pay` as a kind holding secrets).
    pub fn new(store: &'a Store, client: &'a Client<T>, kinds: &[Kind]) -> Self {
        Worker {
            store,
            client,
            kinds: kinds.to_vec(),
            claims: Mutex::new(HashSet::new()),
            batch: 64,
            idle: Duration::from_millis(50),
        }
    }

    /// The longest [`Worker::run`] sleeps between passes (50 ms by default): how soon a
    /// stored notification or a follow-up coming due is seen.
    pub fn with_idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// How many due follow-ups one pass lists at most (64 by default).
    pub fn with_batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }

    fn now(&self) -> Timestamp {
        self.client.config().now()
    }

    fn kind(&self, name: &str) -> Option<Kind> {
        self.kinds.iter().copied().find(|k| k.name() == name)
    }

    /// Stores a new follow-up (before anything is sent: its first send is saved by the drive
    /// that makes it). It is due at once.
    ///
    /// # Errors
    /// [`Error::Exists`] when the `paymentRequestId` is stored under `kind` already (the
    /// stored one stands: never start a payment twice); as [`Store::create`].
    pub fn begin(&self, kind: Kind, follower: &PaymentFollower) -> Result<Version, Error> {
        let now = self.now();
        self.store.create(
            kind,
            follower.payment_request_id(),
            follower.state(),
            Next::At(now),
            now,
        )
    }

    fn claim(&self, kind: Kind, id: &str) -> Option<Claim<'_>> {
        let key = (kind.name(), id.to_owned());
        let mut set = self.claims.lock().ok()?;
        if !set.insert(key.clone()) {
            return None;
        }
        Some(Claim {
            claims: &self.claims,
            key,
        })
    }

    /// Claims and loads a follow-up, feeds it its inbox; `None` when another thread drives it,
    /// it is gone or final, or it is not due at `now` and has nothing in its inbox.
    fn start(&self, kind: Kind, id: &str, now: Timestamp) -> Result<Option<Drive>, Error> {
        let Some(row) = self
            .store
            .load::<alipayplus_client::driver::FollowerState>(kind, id)?
        else {
            return Ok(None);
        };
        if row.is_final {
            return Ok(None);
        }
        let entries = self.store.unconsumed(kind, id)?;
        if entries.is_empty() && row.due_at.is_some_and(|due| due > now) {
            return Ok(None);
        }
        let follower = PaymentFollower::resume(row.state).map_err(|_| Error::Corrupt {
            what: format!(
                "follow-up {}/{id} does not resume as a payment follower",
                kind.name()
            ),
        })?;
        let mut drive = Drive {
            kind,
            id: id.to_owned(),
            follower,
            version: row.version,
            consumed: Vec::new(),
            events: Vec::new(),
        };
        for entry in entries {
            drive.consumed.push(entry.seq);
            match serde_json::from_slice::<NotifyPaymentRequest>(&entry.body) {
                Ok(n) => {
                    if let Notified::Mismatch(m) = drive.follower.on_notification(now, &n) {
                        drive.events.push(Event::Mismatch(m));
                    }
                }
                Err(_) => drive.events.push(Event::Unreadable(entry.seq)),
            }
        }
        Ok(Some(drive))
    }

    /// The next step of a drive: polls the machine, saves what it decided (write-ahead), and
    /// returns the send to make or where the drive stops.
    fn step(&self, drive: &mut Drive, now: Timestamp) -> Result<Step, Error> {
        loop {
            let (next, stop) = match drive.follower.poll(now) {
                Action::Send(call) => {
                    // Rule 1 (and 2: the previous answer is in this state too).
                    self.save(drive, Next::At(now), now)?;
                    return Ok(Step::Send(call, now));
                }
                Action::Redirect(to) => {
                    drive.events.push(Event::Redirect(to));
                    continue;
                }
                Action::WaitUntil(at) => (Next::At(at), None),
                Action::Done(state) => (Next::Final, Some(state)),
                _ => (Next::At(now), None),
            };
            self.save(drive, next, now)?;
            return Ok(Step::Stop(Driven {
                kind: drive.kind,
                id: core::mem::take(&mut drive.id),
                events: core::mem::take(&mut drive.events),
                final_state: stop,
                next_due: match next {
                    Next::At(t) => Some(t),
                    _ => None,
                },
            }));
        }
    }

    fn save(&self, drive: &mut Drive, next: Next, now: Timestamp) -> Result<(), Error> {
        drive.version = self.store.save_consuming(
            drive.kind,
            &drive.id,
            drive.version,
            drive.follower.state(),
            next,
            &drive.consumed,
            now,
        )?;
        drive.consumed.clear();
        Ok(())
    }

    fn answered(drive: &mut Drive, answered: Result<Answered, RequestError>) {
        drive.events.push(match answered {
            Ok(a) => Event::Called(a),
            Err(e) => Event::NotSent(e),
        });
    }

    /// Lists the follow-ups due now (or with unconsumed inbox entries) of this worker's kinds.
    fn due(&self, now: Timestamp) -> Result<Vec<(Kind, String)>, Error> {
        Ok(self
            .store
            .list_due(now, self.batch)?
            .into_iter()
            .filter_map(|d| self.kind(&d.kind).map(|k| (k, d.id)))
            .collect())
    }
}

impl<T: Transport> Worker<'_, T> {
    /// Drives the follow-up (kind, id) until it waits or is final: feeds its stored inbox,
    /// then poll, save, send, feed, ... `None` when there is nothing to do now (not due, final,
    /// unknown, or driven by another thread of this worker).
    ///
    /// # Errors
    /// [`Error::Stale`] when another writer changed it (nothing was sent after that); as
    /// [`Store::save`]. An error leaves the stored state as the last save wrote it.
    pub fn drive(&self, kind: Kind, id: &str) -> Result<Option<Driven>, Error> {
        let Some(_claim) = self.claim(kind, id) else {
            return Ok(None);
        };
        let Some(mut drive) = self.start(kind, id, self.now())? else {
            return Ok(None);
        };
        loop {
            match self.step(&mut drive, self.now())? {
                Step::Send(call, at) => {
                    let answered = drive.follower.send(self.client, &call, at);
                    Self::answered(&mut drive, answered);
                }
                Step::Stop(driven) => return Ok(Some(driven)),
            }
        }
    }

    /// One pass: drives every follow-up due now (or woken by a stored notification), at most
    /// the batch size. On start, the first pass resumes everything a crash left in flight
    /// (a send stored without its answer is due at once).
    ///
    /// # Errors
    /// As [`Worker::drive`]; a follow-up changed by another writer is skipped.
    pub fn tick(&self) -> Result<Vec<Driven>, Error> {
        let mut out = Vec::new();
        for (kind, id) in self.due(self.now())? {
            match self.drive(kind, &id) {
                Ok(Some(d)) => out.push(d),
                Ok(None) | Err(Error::Stale { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Passes until `stop` is set, sleeping at most the idle time between passes when nothing
    /// was due. Run it on several threads for several follow-ups at once (each follow-up is
    /// driven by one thread at a time). Returns every final follow-up it reached.
    ///
    /// # Errors
    /// As [`Worker::tick`] (a database error ends the run; start it again).
    pub fn run(&self, stop: &AtomicBool) -> Result<Vec<Driven>, Error> {
        let mut finals = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let driven = self.tick()?;
            if driven.is_empty() {
                std::thread::sleep(self.idle);
            }
            finals.extend(driven.into_iter().filter(|d| d.final_state.is_some()));
        }
        Ok(finals)
    }
}

impl<T: AsyncTransport> Worker<'_, T> {
    /// The async twin of [`Worker::drive`]: the same steps and saves, sending with
    /// `send_async`. Dropping the future mid-call is safe: the send was stored as pending.
    ///
    /// # Errors
    /// As [`Worker::drive`].
    pub async fn drive_async(&self, kind: Kind, id: &str) -> Result<Option<Driven>, Error> {
        let Some(_claim) = self.claim(kind, id) else {
            return Ok(None);
        };
        let Some(mut drive) = self.start(kind, id, self.now())? else {
            return Ok(None);
        };
        loop {
            match self.step(&mut drive, self.now())? {
                Step::Send(call, at) => {
                    let answered = drive.follower.send_async(self.client, &call, at).await;
                    Self::answered(&mut drive, answered);
                }
                Step::Stop(driven) => return Ok(Some(driven)),
            }
        }
    }

    /// The async twin of [`Worker::tick`].
    ///
    /// # Errors
    /// As [`Worker::tick`].
    pub async fn tick_async(&self) -> Result<Vec<Driven>, Error> {
        let mut out = Vec::new();
        for (kind, id) in self.due(self.now())? {
            match self.drive_async(kind, &id).await {
                Ok(Some(d)) => out.push(d),
                Ok(None) | Err(Error::Stale { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The async twin of [`Worker::run`], sleeping with `sleep` (e.g. `tokio::time::sleep`);
    /// several such futures on one worker drive follow-ups concurrently.
    ///
    /// # Errors
    /// As [`Worker::run`].
    pub async fn run_async<S: Future<Output = ()>>(
        &self,
        stop: &AtomicBool,
        mut sleep: impl FnMut(Duration) -> S,
    ) -> Result<Vec<Driven>, Error> {
        let mut finals = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let driven = self.tick_async().await?;
            if driven.is_empty() {
                sleep(self.idle).await;
            }
            finals.extend(driven.into_iter().filter(|d| d.final_state.is_some()));
        }
        Ok(finals)
    }
}

impl Store {
    /// The listener's half of write-ahead rule 3 for notifyPayment: stores the verified body
    /// (`body`: the request's bytes as received, `payment_request_id` read from it) for the
    /// follow-up of one of `kinds` holding that id, before the acknowledgement. Acknowledge
    /// only on `Ok`. A notification for no stored follow-up is kept too (see
    /// [`Store::stray_inbox`]).
    ///
    /// ```
    /// use alipayplus_store::{Appended, Kind, Next, Options, Store};
    /// use alipayplus_types::Timestamp;
    ///
    /// const PAY: Kind = Kind::new("cashier.pay");
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// store.create(PAY, "PAY-1", &"paying", Next::At(t), t)?;
    /// let body = br#"{"paymentRequestId":"PAY-1","paymentResult":{"resultStatus":"S"}}"#;
    /// let first = store.append_payment_notification(&[PAY], "PAY-1", body, t)?;
    /// assert!(matches!(first, Appended::New(_)));
    /// assert_eq!(store.unconsumed(PAY, "PAY-1")?.len(), 1);
    /// // A re-delivery is recognised: acknowledge it again, nothing new stored.
    /// assert!(matches!(store.append_payment_notification(&[PAY], "PAY-1", body, t)?, Appended::Duplicate { .. }));
    /// # Ok::<(), alipayplus_store::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Store::append`]: nothing stored, do not acknowledge.
    pub fn append_payment_notification(
        &self,
        kinds: &[Kind],
        payment_request_id: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Appended, Error> {
        let kind = self.kind_of(kinds, payment_request_id)?;
        let mut event = Inbound::new(Source::NotifyPayment, payment_request_id, body);
        if let Some(kind) = kind {
            event = event.for_follow_up(kind, payment_request_id);
        }
        self.append(&event, now)
    }

    /// Which of `kinds` holds a follow-up with this id.
    fn kind_of(&self, kinds: &[Kind], id: &str) -> Result<Option<Kind>, Error> {
        let rows = self.backend.read(|tx| {
            tx.query(
                "SELECT kind FROM follow_ups WHERE id = ?1",
                &[crate::backend::Value::from(id)],
            )
        })?;
        for row in rows {
            let name = row.text(0)?;
            if let Some(k) = kinds.iter().find(|k| k.name() == name) {
                return Ok(Some(*k));
            }
        }
        Ok(None)
    }
}
