//! [`StoreMerchant`]: the routes' [`Merchant`] and [`MerchantOperations`] on
//! `alipayplus-store` (SQLite, or PostgreSQL with the store's `postgres` feature), for an
//! application that keeps every inbound event in the durable store before it is acknowledged.
//!
//! | call | stored (committed before the route answers) |
//! |---|---|
//! | notifyPayment | the store's inbox (source `notifyPayment`, key `paymentRequestId`), for the follow-up of the kind holding that id ([`CASHIER_PAY`], [`AUTODEBIT_PAY`] unless [`StoreMerchant::with_payment_kinds`] says otherwise): the store's [`Worker`](alipayplus_store::Worker) feeds it to the machine |
//! | authNotify | the inbox (source `authNotify`), **sealed** under the store's [`SealingKey`](alipayplus_store::SealingKey), keyed by the SHA-256 of the event's identity (its type and code or token), never by a token |
//! | notifyRegistrationStatus | the inbox (source `notifyRegistrationStatus`, key: the merchant, store and status) |
//! | initiateRetrieval / initiateEscalation | the store's dispute records ([`Store::insert_dispute`]), the reference of the new / duplicate / conflict decision across restarts |
//! | consultUnbinding | nothing: a question, answered by [`StoreMerchant::with_unbinding`] (allowed by default) |
//!
//! The routes hand the application parsed values, so the inbox holds them re-encoded as JSON
//! (the API's field names; fields this SDK version does not know are not kept), not the bytes
//! as received (`cashier listen --store` and `autodebit listen --store` keep those).
//!
//! A re-delivery is recognised by its key and acknowledged again, nothing stored twice. The
//! listener only appends: the worker driving a follow-up consumes its entries
//! ([`Store::unconsumed`], [`Store::save_consuming`]). An event signed for another `Client-Id`
//! (accepted only under [`InboundClientId::Report`](alipayplus_client::client::InboundClientId))
//! is stored linked to no follow-up, so it waits in [`Store::stray_inbox`] for someone to
//! decide instead of feeding a payment's machine.
//!
//! When the store fails (the disk, a lock held too long, authNotify without a sealing key),
//! the method returns [`Unavailable`]: the route answers HTTP 503 unsigned, Alipay+ delivers
//! again, and a line on stderr says why (store errors never hold tokens or keys).
//!
//! Store calls block (SQLite): they run on tokio's blocking pool (`spawn_blocking`), never on
//! the runtime's worker threads.

use std::sync::Arc;

use alipayplus_autodebit::{AuthEvent, TokenSet};
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_operations::dispute::{Dispute, DisputeDelivery, DisputeKind};
use alipayplus_operations::registration::RegistrationEvent;
use alipayplus_store::{Error, Inbound, Kind, Source, Store};
use alipayplus_types::{ConsultUnbindingRequest, NotifyPaymentRequest};
use serde::Serialize;
use sha2::Digest;

use crate::{Merchant, MerchantOperations, Unavailable};

/// The follow-up kind of a Cashier payment (the name agreed across the SDK).
pub const CASHIER_PAY: Kind = Kind::new("cashier.pay");
/// The follow-up kind of an Auto Debit agreement payment (its body holds the access token).
pub const AUTODEBIT_PAY: Kind = Kind::holding_secrets("autodebit.pay");

/// What decides a consultUnbinding (`Err(reason)` refuses it).
type UnbindingPolicy = dyn Fn(&ConsultUnbindingRequest) -> Result<(), String> + Send + Sync;

/// The routes' application on `alipayplus-store`: every verified event committed to the store
/// before the signed acknowledgement (the store's write-ahead rule 3). See the
/// [module docs](self) for what goes where.
///
/// ```no_run
/// use std::sync::Arc;
/// use alipayplus_axum_example::StoreMerchant;
/// use alipayplus_client::client::InboundClientId;
/// use alipayplus_store::{Options, SealingKey, Store};
///
/// # fn key_from_your_secret_manager() -> [u8; 32] { [0; 32] }
/// # async fn serve(config: alipayplus_client::client::ClientConfig) -> Result<(), Box<dyn std::error::Error>> {
/// // authNotify bodies hold tokens: without a sealing key they are never acknowledged.
/// let options = Options::default().with_sealing_key(SealingKey::from_bytes(key_from_your_secret_manager()));
/// let store = Arc::new(Store::open("sqlite:/var/lib/shop/alipayplus.sqlite", options)?);
/// // Payment notifications link to the follow-ups of `cashier.pay` and `autodebit.pay`.
/// let merchant = StoreMerchant::new(store);
/// let inbound = alipayplus_axum_example::inbound_routes(config, Arc::new(merchant), InboundClientId::Refuse);
/// let app = axum::Router::new().nest("/alipayplus", inbound);
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// axum::serve(listener, app).await?;
/// # Ok(())
/// # }
/// ```
pub struct StoreMerchant {
    store: Arc<Store>,
    payment_kinds: Vec<Kind>,
    unbinding: Box<UnbindingPolicy>,
}

impl core::fmt::Debug for StoreMerchant {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StoreMerchant")
            .field("store", &self.store)
            .field("payment_kinds", &self.payment_kinds)
            .finish_non_exhaustive()
    }
}

impl StoreMerchant {
    /// On this store (shared: the worker driving the follow-ups may use the same `Store`, or
    /// its own on the same file), linking payment notifications to the follow-ups of
    /// [`CASHIER_PAY`] and [`AUTODEBIT_PAY`]; consultUnbinding allowed.
    pub fn new(store: Arc<Store>) -> Self {
        StoreMerchant {
            store,
            payment_kinds: vec![CASHIER_PAY, AUTODEBIT_PAY],
            unbinding: Box::new(|_| Ok(())),
        }
    }

    /// The follow-up kinds a notifyPayment may be for (by default [`CASHIER_PAY`] and
    /// [`AUTODEBIT_PAY`]): its entry is linked to the one of them holding a follow-up with its
    /// `paymentRequestId`, for that follow-up's worker to consume
    /// ([`Store::append_payment_notification`]). A notification for none of them is stored
    /// too, linked to nothing ([`Store::stray_inbox`]).
    pub fn with_payment_kinds(mut self, kinds: &[Kind]) -> Self {
        self.payment_kinds = kinds.to_vec();
        self
    }

    /// What a consultUnbinding gets (`Err(reason)` refuses the wallet-side unbinding, e.g.
    /// outstanding fares); allowed by default.
    pub fn with_unbinding(
        mut self,
        policy: impl Fn(&ConsultUnbindingRequest) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.unbinding = Box::new(policy);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Runs `call` on the store on the blocking pool; a store error (or a lost task) is
    /// logged and becomes [`Unavailable`].
    async fn blocking<T: Send + 'static>(
        &self,
        what: &'static str,
        call: impl FnOnce(&Store) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Unavailable> {
        let store = Arc::clone(&self.store);
        match tokio::task::spawn_blocking(move || call(&store)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                eprintln!("{what} not stored ({e}): not acknowledged, Alipay+ delivers again");
                Err(Unavailable)
            }
            Err(e) => {
                eprintln!("{what} not stored (the store task failed: {e}): not acknowledged");
                Err(Unavailable)
            }
        }
    }
}

fn to_json(value: &impl Serialize, what: &'static str) -> Result<Vec<u8>, Unavailable> {
    serde_json::to_vec(value).map_err(|e| {
        eprintln!("{what} not stored (cannot encode it: {e}): not acknowledged");
        Unavailable
    })
}

/// An authNotify event as stored in the inbox (sealed): the notification's field names, the
/// token set as `alipayplus_autodebit::TokenSet` serializes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoredAuthEvent<'a> {
    authorization_notify_type: &'a str,
    auth_client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<&'a TokenSet>,
}

impl<'a> StoredAuthEvent<'a> {
    fn of(event: &'a AuthEvent) -> Self {
        let mut stored = StoredAuthEvent {
            authorization_notify_type: "",
            auth_client_id: event.auth_client_id(),
            auth_state: None,
            auth_code: None,
            access_token: None,
            tokens: None,
        };
        match event {
            AuthEvent::AuthCodeCreated {
                auth_code,
                auth_state,
                ..
            } => {
                stored.authorization_notify_type = "AUTHCODE_CREATED";
                stored.auth_code = Some(auth_code.expose());
                stored.auth_state = auth_state.as_deref();
            }
            AuthEvent::TokenCreated {
                tokens, auth_state, ..
            } => {
                stored.authorization_notify_type = "TOKEN_CREATED";
                stored.tokens = Some(tokens);
                stored.auth_state = auth_state.as_deref();
            }
            AuthEvent::TokenCanceled { access_token, .. } => {
                stored.authorization_notify_type = "TOKEN_CANCELED";
                stored.access_token = Some(access_token.expose());
            }
            AuthEvent::Unrecognized { notify_type, .. } => {
                stored.authorization_notify_type = notify_type;
            }
            // A kind of event this version does not name: its identity (type and credential)
            // is what `dedup_key` gives; kept under that type.
            _ => stored.authorization_notify_type = "UNKNOWN",
        }
        stored
    }
}

/// The inbox key of an authNotify: SHA-256 (hex) of [`AuthEvent::dedup_key`], which holds
/// the code or token and must not be stored in clear.
fn auth_key(event: &AuthEvent) -> String {
    sha256_hex(event.dedup_key().as_bytes())
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The inbox key of a registration notification: the merchant and store, then the collective
/// status, as JSON (as `ops listen --store` keys them; a later status of the same registration
/// is a new event); its SHA-256 when longer than a store key may be.
fn registration_key(event: &RegistrationEvent) -> Result<String, Unavailable> {
    let what = "notifyRegistrationStatus";
    let merchant = String::from_utf8(to_json(&event.key, what)?).map_err(|_| Unavailable)?;
    let status = String::from_utf8(to_json(&event.overall, what)?).map_err(|_| Unavailable)?;
    let key = format!("{merchant}:{status}");
    Ok(if key.len() <= 256 {
        key
    } else {
        sha256_hex(key.as_bytes())
    })
}

impl Merchant for StoreMerchant {
    async fn payment_notified(
        &self,
        notification: NotifyPaymentRequest,
        client_id_is_ours: bool,
    ) -> Result<(), Unavailable> {
        let body = to_json(&notification, "notifyPayment")?;
        let id = notification.payment_request_id;
        let kinds = if client_id_is_ours {
            self.payment_kinds.clone()
        } else {
            Vec::new()
        };
        let now = SystemClock.now();
        if !client_id_is_ours {
            eprintln!("notifyPayment for {id} signed for another Client-Id: kept unlinked");
        }
        self.blocking("notifyPayment", move |store| {
            store.append_payment_notification(&kinds, &id, &body, now)
        })
        .await
        .map(drop)
    }

    async fn auth_notified(
        &self,
        event: AuthEvent,
        _client_id_is_ours: bool,
    ) -> Result<(), Unavailable> {
        // Linked to no follow-up either way: the binding's code reads them by key.
        let body = to_json(&StoredAuthEvent::of(&event), "authNotify")?;
        let key = auth_key(&event);
        let now = SystemClock.now();
        self.blocking("authNotify", move |store| {
            store.append(&Inbound::new(Source::AuthNotify, &key, &body), now)
        })
        .await
        .map(drop)
    }

    async fn unbinding_requested(
        &self,
        consultation: ConsultUnbindingRequest,
        _client_id_is_ours: bool,
    ) -> Result<(), String> {
        (self.unbinding)(&consultation)
    }
}

impl MerchantOperations for StoreMerchant {
    async fn registration_notified(
        &self,
        event: RegistrationEvent,
        _client_id_is_ours: bool,
    ) -> Result<(), Unavailable> {
        let body = to_json(&event, "notifyRegistrationStatus")?;
        let key = registration_key(&event)?;
        let now = SystemClock.now();
        self.blocking("notifyRegistrationStatus", move |store| {
            store.append(
                &Inbound::new(Source::NotifyRegistrationStatus, &key, &body),
                now,
            )
        })
        .await
        .map(drop)
    }

    async fn stored_dispute(
        &self,
        kind: DisputeKind,
        dispute_request_id: &str,
    ) -> Result<Option<Dispute>, Unavailable> {
        let id = dispute_request_id.to_string();
        self.blocking("dispute", move |store| store.dispute(kind, &id))
            .await
            .map(|stored| stored.map(|s| s.dispute))
    }

    async fn store_dispute(
        &self,
        delivery: DisputeDelivery,
    ) -> Result<Option<Dispute>, Unavailable> {
        let now = SystemClock.now();
        self.blocking("dispute", move |store| {
            store.insert_dispute(&delivery.body.dispute, &delivery.body.request, now)
        })
        .await
        .map(|first| first.map(|s| s.dispute))
    }
}
