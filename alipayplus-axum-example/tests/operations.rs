//! The operations' routes over loopback with the simulator delivering real calls: a
//! registration approved by the simulator's wallets notifies the route, and the simulator's
//! control API opens a retrieval and an escalation against a paid payment, re-sends one
//! (duplicate) and sends one for another payment (conflict), the store being "down" once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipayplus_axum_example::{MerchantOperations, Unavailable, operations_routes};
use alipayplus_client::client::{Client, ClientConfig, Host, InboundClientId};
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_operations::dispute::{
    Dispute, DisputeDelivery, DisputeKind, checked_response_escalation, checked_response_retrieval,
};
use alipayplus_operations::registration::{
    Final, RegistrationEvent, RegistrationFollowUp, RegistrationPolicy, checked_registration,
};
use alipayplus_reqwest::ReqwestTransport;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{DeliveryOutcome, OpenDispute, OperationsConfig, SimConfig, Simulator, keys};
use alipayplus_types::{
    Amount, Currency, Env, Merchant as OrderMerchant, Order, OrderStatus, PayRequest,
    PaymentFactor, PaymentMethod, ProductCode, RefundType, RegistrationRequest,
    ResponseEscalationRequest, ResponseRetrievalRequest, StrBool, TerminalType, TransactionReceipt,
};

type Key = (DisputeKind, String);

/// The application behind the routes: keeps registration events and disputes, counts the
/// calls, and can be "down" (or answer lookups from a stale replica) on demand.
#[derive(Default)]
struct Shop {
    registrations: Mutex<Vec<RegistrationEvent>>,
    disputes: Mutex<BTreeMap<Key, (Dispute, serde_json::Value)>>,
    lookups: AtomicU32,
    /// Calls of `store_dispute`, and the disputes it inserted.
    store_calls: AtomicU32,
    inserted: AtomicU32,
    registrations_down_for: AtomicU32,
    disputes_down_for: AtomicU32,
    /// Lookups find nothing (a replica behind), as when two deliveries race.
    stale_lookups: AtomicBool,
}

fn down(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl MerchantOperations for Shop {
    async fn registration_notified(
        &self,
        event: RegistrationEvent,
        client_id_is_ours: bool,
    ) -> Result<(), Unavailable> {
        assert!(client_id_is_ours, "the routes refuse a foreign Client-Id");
        if down(&self.registrations_down_for) {
            return Err(Unavailable);
        }
        self.registrations.lock().unwrap().push(event);
        Ok(())
    }

    async fn stored_dispute(
        &self,
        kind: DisputeKind,
        id: &str,
    ) -> Result<Option<Dispute>, Unavailable> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if self.stale_lookups.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let disputes = self.disputes.lock().unwrap();
        Ok(disputes
            .get(&(kind, id.to_string()))
            .map(|(d, _)| d.clone()))
    }

    async fn store_dispute(
        &self,
        delivery: DisputeDelivery,
    ) -> Result<Option<Dispute>, Unavailable> {
        self.store_calls.fetch_add(1, Ordering::SeqCst);
        assert!(
            delivery.client_id_is_ours,
            "the routes refuse a foreign Client-Id"
        );
        if down(&self.disputes_down_for) {
            return Err(Unavailable);
        }
        let (kind, id) = delivery.body.dispute.store_key();
        let key = (kind, id.to_string());
        let mut disputes = self.disputes.lock().unwrap();
        if let Some((first, _)) = disputes.get(&key) {
            return Ok(Some(first.clone()));
        }
        self.inserted.fetch_add(1, Ordering::SeqCst);
        disputes.insert(
            key,
            (delivery.body.dispute.clone(), delivery.body.request.clone()),
        );
        Ok(None)
    }
}

impl Shop {
    fn dispute(&self, kind: DisputeKind, id: &str) -> Option<Dispute> {
        let disputes = self.disputes.lock().unwrap();
        disputes
            .get(&(kind, id.to_string()))
            .map(|(d, _)| d.clone())
    }
}

fn config(sim: &Simulator) -> ClientConfig {
    ClientConfig::new(
        sim.client_id(),
        Host::custom(sim.base_url()).unwrap(),
        keys::acqp_private_key().unwrap(),
        PublicKeys::single(1, keys::sim_public_key().unwrap()),
        SystemClock,
    )
    .unwrap()
}

/// Serves the operations' routes nested under `/acqp` on their own runtime and thread;
/// returns the base URL.
fn serve(config: ClientConfig, shop: Arc<Shop>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let app = axum::Router::new().nest(
        "/acqp",
        operations_routes(config, shop, InboundClientId::Refuse),
    );
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{addr}/acqp")
}

struct World {
    sim: Arc<Simulator>,
    base: String,
    shop: Arc<Shop>,
    client: Client<ReqwestTransport>,
}

fn world() -> World {
    let sim = Simulator::start(
        SimConfig::bundled()
            .unwrap()
            .with_fast_notifications(5, Duration::from_millis(50)),
    )
    .unwrap();
    let shop = Arc::new(Shop::default());
    let base = serve(config(&sim), shop.clone());
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(base.clone()),
    });
    let client = Client::new(config(&sim), ReqwestTransport::new().unwrap());
    World {
        sim: Arc::new(sim),
        base,
        shop,
        client,
    }
}

/// Waits until the simulator has nothing left to deliver.
async fn idle(sim: &Arc<Simulator>) {
    let sim = Arc::clone(sim);
    let settled =
        tokio::task::spawn_blocking(move || sim.wait_notifications_idle(Duration::from_secs(10)))
            .await
            .unwrap();
    assert!(settled, "the simulator's deliveries did not settle");
}

/// The outcomes of every attempt of the latest call of `api` (keys `api#N`, N increasing).
fn latest(sim: &Simulator, api: &str) -> Vec<DeliveryOutcome> {
    let number =
        |key: &str| -> Option<u64> { key.strip_prefix(api)?.strip_prefix('#')?.parse().ok() };
    let deliveries = sim.deliveries();
    let last = deliveries
        .iter()
        .filter_map(|d| number(&d.payment_request_id))
        .max()
        .expect("a delivery of the API");
    deliveries
        .into_iter()
        .filter(|d| number(&d.payment_request_id) == Some(last))
        .map(|d| d.outcome)
        .collect()
}

fn registration(id: &str, base: &str) -> RegistrationRequest {
    let mut r: RegistrationRequest = serde_json::from_value(serde_json::json!({
        "registrationRequestId": id,
        "productCodes": ["CASHIER_PAYMENT"],
        "merchantInfo": {
            "referenceMerchantId": "M-AX-1",
            "merchantDisplayName": "Axum Shop",
            "merchantMCC": "5817",
            "websites": [{"url": "https://shop.example.com", "websiteType": "WEB"}],
            "registrationDetail": {"legalName": "Axum Shop Ltd", "registrationType": "ENTERPRISE_REGISTRATION_NO", "registrationNo": "2026-1"}
        }
    }))
    .unwrap();
    r.registration_notify_url = Some(format!("{base}/notifyRegistrationStatus"));
    r
}

/// The registration is accepted over the async client; each wallet's approval comes to the
/// route (the first while the shop is down: 503, not acknowledged, sent again) and the
/// follow-up merges them into COMPLETED.
#[tokio::test]
async fn a_registration_approved_by_the_wallets_is_notified_to_the_route() {
    let w = world();
    w.shop.registrations_down_for.store(1, Ordering::SeqCst);
    let request = checked_registration(&registration("REG-AX-1", &w.base)).unwrap();
    let mut follow =
        RegistrationFollowUp::new(&request, SystemClock.now(), RegistrationPolicy::default())
            .unwrap();
    follow.poll(SystemClock.now());
    let outcome = w.client.call_async(follow.request()).await.unwrap();
    follow.on_registration(SystemClock.now().into(), &outcome);
    assert!(follow.is_accepted(), "{:?}", outcome.code());

    let wallets = w.sim.review_registration("REG-AX-1", None, true).unwrap();
    assert_eq!(wallets.len(), 2, "{wallets:?}");
    idle(&w.sim).await;
    let events = w.shop.registrations.lock().unwrap().clone();
    assert_eq!(events.len(), wallets.len(), "one stored event per wallet");
    for event in &events {
        follow.on_notification(SystemClock.now(), event);
    }
    assert_eq!(follow.final_state(), Some(&Final::Completed));
    for wallet in &wallets {
        assert!(follow.is_approved_by(wallet, &ProductCode::CashierPayment));
    }

    let outcomes: Vec<DeliveryOutcome> = w
        .sim
        .deliveries()
        .into_iter()
        .filter(|d| {
            d.payment_request_id
                .starts_with("notifyRegistrationStatus#")
        })
        .map(|d| d.outcome)
        .collect();
    let not_acknowledged = outcomes
        .iter()
        .filter(|o| matches!(o, DeliveryOutcome::HttpStatus { status: 503 }))
        .count();
    assert_eq!(not_acknowledged, 1, "{outcomes:?}");
    assert_eq!(outcomes.len(), wallets.len() + 1, "{outcomes:?}");
    assert!(w.sim.notifications().iter().all(|n| n.acknowledged));
}

fn cashier_pay(id: &str, amount: Amount) -> PayRequest {
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("O-{id}"),
            "goods".into(),
            amount,
            OrderMerchant::new("M-AX-1".into()),
        )
    };
    let factor = PaymentFactor {
        is_cashier_payment: Some(StrBool(true)),
        ..PaymentFactor::new()
    };
    let mut request = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new("SIMWALLET".into()),
        factor,
    );
    request.payment_redirect_url = Some("https://shop.example.com/back".into());
    request
}

async fn paid(w: &World, id: &str, amount: Amount) {
    let outcome = w.client.call_async(&cashier_pay(id, amount)).await.unwrap();
    assert!(outcome.is_unknown(), "{:?}", outcome.code());
    w.sim.approve(id).unwrap();
}

fn open(
    sim: &Simulator,
    kind: &str,
    payment: &str,
    id: Option<&str>,
    amount: Option<Amount>,
) -> String {
    sim.open_dispute(&OpenDispute {
        kind: kind.into(),
        payment_request_id: payment.into(),
        escalation_amount: amount,
        dispute_request_id: id.map(String::from),
    })
    .unwrap()
    .dispute_request_id
}

fn refused_inconsistent() -> DeliveryOutcome {
    DeliveryOutcome::Refused {
        code: "REPEAT_REQ_INCONSISTENT".into(),
    }
}

/// A retrieval and an escalation against a paid payment reach the routes: new ones are
/// stored (the escalation after a 503 while the store is down) and acknowledged; the same
/// retrieval again is acknowledged without being stored again; the same id for another payment
/// gets the signed `F` `REPEAT_REQ_INCONSISTENT`, also when the lookup misses it and the store
/// finds it. Both are then answered over the async client.
#[tokio::test]
async fn disputes_are_stored_once_and_answered_new_duplicate_or_conflict() {
    let w = world();
    let amount = Amount::new(Currency::USD, 2000);
    paid(&w, "PAY-AX-1", amount).await;
    paid(&w, "PAY-AX-2", amount).await;

    let retrieval = open(&w.sim, "retrieval", "PAY-AX-1", None, None);
    idle(&w.sim).await;
    assert_eq!(
        latest(&w.sim, "initiateRetrieval"),
        [DeliveryOutcome::Acknowledged]
    );
    let stored = w.shop.dispute(DisputeKind::Retrieval, &retrieval).unwrap();
    assert_eq!(stored.payment_request_id, "PAY-AX-1");
    let (store_calls, inserted) = (
        || w.shop.store_calls.load(Ordering::SeqCst),
        || w.shop.inserted.load(Ordering::SeqCst),
    );
    assert_eq!((store_calls(), inserted()), (1, 1));
    {
        let disputes = w.shop.disputes.lock().unwrap();
        let body = &disputes[&(DisputeKind::Retrieval, retrieval.clone())].1;
        assert_eq!(
            body["disputeRequestId"],
            retrieval.as_str(),
            "the body is kept"
        );
    }

    // Duplicate: acknowledged again, found by the lookup, not offered to the store.
    let lookups = w.shop.lookups.load(Ordering::SeqCst);
    open(&w.sim, "retrieval", "PAY-AX-1", Some(&retrieval), None);
    idle(&w.sim).await;
    assert_eq!(
        latest(&w.sim, "initiateRetrieval"),
        [DeliveryOutcome::Acknowledged]
    );
    assert_eq!(w.shop.lookups.load(Ordering::SeqCst), lookups + 1);
    assert_eq!((store_calls(), inserted()), (1, 1));

    // Conflict: the same id for another payment, refused at every attempt; the stored
    // dispute stays the one of PAY-AX-1.
    open(&w.sim, "retrieval", "PAY-AX-2", Some(&retrieval), None);
    idle(&w.sim).await;
    let outcomes = latest(&w.sim, "initiateRetrieval");
    assert!(!outcomes.is_empty());
    assert!(
        outcomes.iter().all(|o| *o == refused_inconsistent()),
        "{outcomes:?}"
    );
    assert_eq!((store_calls(), inserted()), (1, 1), "decided on the lookup");
    // A racing delivery: the lookup misses the stored dispute, the insert finds it.
    w.shop.stale_lookups.store(true, Ordering::SeqCst);
    open(&w.sim, "retrieval", "PAY-AX-2", Some(&retrieval), None);
    idle(&w.sim).await;
    let outcomes = latest(&w.sim, "initiateRetrieval");
    assert!(
        outcomes.iter().all(|o| *o == refused_inconsistent()),
        "{outcomes:?}"
    );
    w.shop.stale_lookups.store(false, Ordering::SeqCst);
    let stored = w.shop.dispute(DisputeKind::Retrieval, &retrieval).unwrap();
    assert_eq!(stored.payment_request_id, "PAY-AX-1");
    assert!(store_calls() > 1, "the stale lookup sent it to the store");
    assert_eq!(inserted(), 1);

    // Escalation, the store down for the first delivery: 503, then stored and acknowledged.
    w.shop.disputes_down_for.store(1, Ordering::SeqCst);
    let limit = Amount::new(Currency::USD, 1500);
    let escalation = open(&w.sim, "escalation", "PAY-AX-1", None, Some(limit));
    idle(&w.sim).await;
    assert_eq!(
        latest(&w.sim, "initiateEscalation"),
        [
            DeliveryOutcome::HttpStatus { status: 503 },
            DeliveryOutcome::Acknowledged
        ]
    );
    let escalated = w
        .shop
        .dispute(DisputeKind::Escalation, &escalation)
        .unwrap();
    assert_eq!(escalated.escalation_amount, Some(limit));
    assert_eq!(inserted(), 2);

    // Both answered, validated against what the route stored.
    let mut answer = ResponseRetrievalRequest::new(retrieval.clone(), OrderStatus::Success);
    answer.transaction_receipt = Some(TransactionReceipt {
        reference_order_id: Some("O-PAY-AX-1".into()),
        order_amount: Some(amount),
        ..TransactionReceipt::new()
    });
    let answer = checked_response_retrieval(&answer, &stored).unwrap();
    let outcome = w.client.call_async(&answer).await.unwrap();
    assert!(outcome.is_success(), "{:?}", outcome.code());
    let mut decision = ResponseEscalationRequest::new(escalation, RefundType::AcceptPartialRefund);
    decision.refund_amount = Some(Amount::new(Currency::USD, 1600));
    assert!(checked_response_escalation(&decision, &escalated, Currency::USD).is_err());
    decision.refund_amount = Some(Amount::new(Currency::USD, 700));
    let decision = checked_response_escalation(&decision, &escalated, Currency::USD).unwrap();
    let outcome = w.client.call_async(&decision).await.unwrap();
    assert!(outcome.is_success(), "{:?}", outcome.code());
    assert!(
        w.sim
            .operations()
            .disputes
            .iter()
            .all(|d| d.response.is_some())
    );
}
