//! [`StoreMerchant`]: [`Merchant`] and [`MerchantOperations`] kept in `alipayplus-store`
//! (SQLite), so what the routes acknowledge survives a restart.
//!
//! | call | kept as |
//! |---|---|
//! | notifyPayment | an inbox entry for the payment's follow-up (`cashier.pay` / `autodebit.pay`, by `paymentRequestId`): the store's [`Worker`](alipayplus_store::Worker) feeds it to the machine. A call signed for another `Client-Id` (only under `InboundClientId::Report`) is kept unlinked, for a person to look at ([`Store::stray_inbox`]) |
//! | authNotify | an inbox entry, sealed (it holds the code or the tokens), keyed by the SHA-256 of the event's natural key (never the token itself) |
//! | consultUnbinding | nothing: allowed (this store knows of no outstanding fare) |
//! | notifyRegistrationStatus | an inbox entry per registration and status |
//! | initiateRetrieval / initiateEscalation | a dispute record ([`Store::receive_dispute`]: decided and inserted in one transaction; a racing delivery finds the first) |
//!
//! Every method returns only once the row is committed (the store's write-ahead rule 3: the
//! route then sends the signed acknowledgement); a database error is [`Unavailable`] (HTTP
//! 503, Alipay+ re-sends). SQLite commits take well under a millisecond in WAL `NORMAL`, so
//! they run on the route's task; with `Durability::Full` (an fsync per commit) move them to a
//! blocking pool.

use std::sync::Arc;

use alipayplus_autodebit::AuthEvent;
use alipayplus_client::client::ClientConfig;
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_operations::dispute::{Dispute, DisputeDelivery, DisputeKind};
use alipayplus_operations::registration::RegistrationEvent;
use alipayplus_store::{Inbound, Kind, Source, Store};
use alipayplus_types::{ConsultUnbindingRequest, NotifyPaymentRequest};
use serde_json::json;

use crate::{Merchant, MerchantOperations, Unavailable};

/// The follow-up kind of a Cashier payment (the name agreed across the SDK).
pub const CASHIER_PAY: Kind = Kind::new("cashier.pay");
/// The follow-up kind of an Auto Debit agreement payment (its body holds the access token).
pub const AUTODEBIT_PAY: Kind = Kind::holding_secrets("autodebit.pay");

/// The routes' application on a [`Store`] (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct StoreMerchant {
    store: Arc<Store>,
    config: Arc<ClientConfig>,
    kinds: Vec<Kind>,
}

impl StoreMerchant {
    /// On `store` (opened with a sealing key: authNotify bodies hold tokens), with the
    /// `config` the routes verify with (dispute answers are signed with it), linking payment
    /// notifications to follow-ups of `cashier.pay` and `autodebit.pay`.
    pub fn new(store: Arc<Store>, config: Arc<ClientConfig>) -> Self {
        StoreMerchant {
            store,
            config,
            kinds: vec![CASHIER_PAY, AUTODEBIT_PAY],
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

fn now() -> alipayplus_types::Timestamp {
    SystemClock.now()
}

fn unavailable(what: &str, e: &alipayplus_store::Error) -> Unavailable {
    eprintln!("{what} not stored ({e}): not acknowledged");
    Unavailable
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The authNotify event as stored (sealed): its fields, secrets included.
fn auth_body(event: &AuthEvent) -> serde_json::Value {
    match event {
        AuthEvent::AuthCodeCreated {
            auth_client_id,
            auth_code,
            auth_state,
        } => json!({"authorizationNotifyType": "AUTHCODE_CREATED", "authClientId": auth_client_id,
            "authCode": auth_code.expose(), "authState": auth_state}),
        AuthEvent::TokenCreated {
            auth_client_id,
            tokens,
            auth_state,
        } => json!({"authorizationNotifyType": "TOKEN_CREATED", "authClientId": auth_client_id,
            "tokens": serde_json::to_value(tokens).unwrap_or_default(), "authState": auth_state}),
        AuthEvent::TokenCanceled {
            auth_client_id,
            access_token,
        } => json!({"authorizationNotifyType": "TOKEN_CANCELED", "authClientId": auth_client_id,
            "accessToken": access_token.expose()}),
        AuthEvent::Unrecognized {
            auth_client_id,
            notify_type,
        } => json!({"authorizationNotifyType": notify_type, "authClientId": auth_client_id}),
        _ => json!({"authorizationNotifyType": "UNKNOWN"}),
    }
}

impl Merchant for StoreMerchant {
    async fn payment_notified(
        &self,
        notification: NotifyPaymentRequest,
        client_id_is_ours: bool,
    ) -> Result<(), Unavailable> {
        let id = notification.payment_request_id.as_str();
        let body = serde_json::to_vec(&notification).map_err(|_| Unavailable)?;
        let stored = if client_id_is_ours {
            self.store
                .append_payment_notification(&self.kinds, id, &body, now())
        } else {
            eprintln!("notifyPayment for {id} signed for another Client-Id: kept unlinked");
            self.store
                .append(&Inbound::new(Source::NotifyPayment, id, &body), now())
        };
        stored
            .map(|_| ())
            .map_err(|e| unavailable("notifyPayment", &e))
    }

    async fn auth_notified(
        &self,
        event: AuthEvent,
        _client_id_is_ours: bool,
    ) -> Result<(), Unavailable> {
        let key = sha256_hex(event.dedup_key().as_bytes());
        let body = auth_body(&event).to_string();
        self.store
            .append(
                &Inbound::new(Source::AuthNotify, &key, body.as_bytes()),
                now(),
            )
            .map(|_| ())
            .map_err(|e| unavailable("authNotify", &e))
    }

    async fn unbinding_requested(
        &self,
        _consultation: ConsultUnbindingRequest,
        _client_id_is_ours: bool,
    ) -> Result<(), String> {
        Ok(())
    }
}

impl MerchantOperations for StoreMerchant {
    async fn registration_notified(
        &self,
        event: RegistrationEvent,
        _client_id_is_ours: bool,
    ) -> Result<(), Unavailable> {
        let key = format!(
            "{}:{}",
            serde_json::to_string(&event.key).unwrap_or_default(),
            serde_json::to_string(&event.overall).unwrap_or_default()
        );
        let body = serde_json::to_vec(&event).map_err(|_| Unavailable)?;
        self.store
            .append(
                &Inbound::new(Source::NotifyRegistrationStatus, &key, &body),
                now(),
            )
            .map(|_| ())
            .map_err(|e| unavailable("notifyRegistrationStatus", &e))
    }

    async fn stored_dispute(
        &self,
        kind: DisputeKind,
        dispute_request_id: &str,
    ) -> Result<Option<Dispute>, Unavailable> {
        self.store
            .dispute(kind, dispute_request_id)
            .map(|d| d.map(|s| s.dispute))
            .map_err(|e| unavailable("dispute lookup", &e))
    }

    async fn store_dispute(
        &self,
        delivery: DisputeDelivery,
    ) -> Result<Option<Dispute>, Unavailable> {
        let received = self
            .store
            .receive_dispute(&self.config, &delivery, now())
            .map_err(|e| unavailable("dispute", &e))?;
        if received.is_new() {
            return Ok(None);
        }
        // Stored first by a racing delivery: the route decides again against it.
        let (kind, id) = delivery.body.dispute.store_key();
        self.stored_dispute(kind, id).await
    }
}
