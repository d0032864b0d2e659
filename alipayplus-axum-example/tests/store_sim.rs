//! `StoreMerchant` behind the routes, over loopback with the simulator (`tests/store.rs`
//! checks each route's rows without it): a notifyPayment is
//! stored before its acknowledgement and fed to the payment's follow-up by the store's worker;
//! a dispute stored by one server is the reference of the next one on the same file (a
//! restart), so the same id for another payment is still refused.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alipayplus_axum_example::stored::{CASHIER_PAY, StoreMerchant};
use alipayplus_axum_example::{operations_routes, routes};
use alipayplus_client::client::{Client, ClientConfig, Host, InboundClientId};
use alipayplus_client::driver::PaymentFollower;
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
use alipayplus_operations::dispute::DisputeKind;
use alipayplus_reqwest::ReqwestTransport;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{DeliveryOutcome, OpenDispute, OperationsConfig, SimConfig, Simulator, keys};
use alipayplus_store::{Options, SealingKey, Source, Store, Worker};
use alipayplus_types::{
    Amount, Currency, Env, Merchant as OrderMerchant, Order, PayRequest, PaymentFactor,
    PaymentMethod, StrBool, TerminalType,
};

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

fn db(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("axum-{name}-{}.sqlite", std::process::id()));
    for s in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{s}", path.display()));
    }
    format!("sqlite:{}", path.display())
}

fn open(url: &str) -> Arc<Store> {
    let options = Options::default().with_sealing_key(SealingKey::from_bytes([3; 32]));
    Arc::new(Store::open(url, options).unwrap())
}

/// Both routers on a `StoreMerchant` over `store`, under `/acqp`, on their own thread.
fn serve(sim: &Simulator, store: Arc<Store>) -> String {
    let merchant = Arc::new(StoreMerchant::new(store));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let app =
        axum::Router::new().nest(
            "/acqp",
            routes(config(sim), merchant.clone(), InboundClientId::Refuse).merge(
                operations_routes(config(sim), merchant, InboundClientId::Refuse),
            ),
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

fn sim() -> Arc<Simulator> {
    Arc::new(
        Simulator::start(
            SimConfig::bundled()
                .unwrap()
                .with_fast_notifications(5, Duration::from_millis(50)),
        )
        .unwrap(),
    )
}

async fn idle(sim: &Arc<Simulator>) {
    let sim = Arc::clone(sim);
    let settled =
        tokio::task::spawn_blocking(move || sim.wait_notifications_idle(Duration::from_secs(10)))
            .await
            .unwrap();
    assert!(settled, "the simulator's deliveries did not settle");
}

fn cashier_pay(id: &str, notify_url: Option<String>) -> PayRequest {
    let amount = Amount::new(Currency::USD, 2000);
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
    request.payment_notify_url = notify_url;
    request
}

#[tokio::test]
async fn a_stored_notification_is_fed_to_its_follow_up_by_the_worker() {
    let sim = sim();
    let store = open(&db("notify"));
    let base = serve(&sim, Arc::clone(&store));
    let client = Client::new(config(&sim), ReqwestTransport::new().unwrap());
    let worker = Worker::new(&store, &client, &[CASHIER_PAY]);
    let id = "PAY-AXS-1";
    let request = cashier_pay(id, Some(format!("{base}/notifyPayment")));
    // No inquiry within the test: only the notification can end it.
    let mut policy = TrackerPolicy::cashier();
    policy.first_inquiry_after = Duration::from_secs(3600);
    let tracker = PaymentTracker::for_pay(&request, SystemClock.now(), policy);
    worker
        .begin(
            CASHIER_PAY,
            &PaymentFollower::new(request, tracker).unwrap(),
        )
        .unwrap();
    let first = worker.drive_async(CASHIER_PAY, id).await.unwrap().unwrap();
    assert!(first.final_state.is_none());
    sim.approve(id).unwrap();
    idle(&sim).await;
    let entry = store
        .inbound(Source::NotifyPayment, id)
        .unwrap()
        .expect("acknowledged, so stored");
    assert!(entry.consumed_at.is_none(), "the route only stores it");
    let driven = worker.drive_async(CASHIER_PAY, id).await.unwrap().unwrap();
    assert_eq!(driven.final_state, Some(Final::Succeeded));
    assert!(store.unconsumed(CASHIER_PAY, id).unwrap().is_empty());
    let calls: Vec<_> = sim.calls().into_iter().map(|c| c.api).collect();
    assert_eq!(calls, ["pay"], "ended by the stored notification alone");
}

#[tokio::test]
async fn a_dispute_stored_before_a_restart_is_the_reference_after_it() {
    let sim = sim();
    let url = db("disputes");
    let client = Client::new(config(&sim), ReqwestTransport::new().unwrap());
    for id in ["PAY-AXS-2", "PAY-AXS-3"] {
        let outcome = client.call_async(&cashier_pay(id, None)).await.unwrap();
        assert!(outcome.is_unknown());
        sim.approve(id).unwrap();
    }
    let first = serve(&sim, open(&url));
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(first),
    });
    let retrieval = sim
        .open_dispute(&OpenDispute {
            kind: "retrieval".into(),
            payment_request_id: "PAY-AXS-2".into(),
            escalation_amount: None,
            dispute_request_id: None,
        })
        .unwrap()
        .dispute_request_id;
    idle(&sim).await;
    // "Restart": another server with its own store handle on the same file.
    let second = serve(&sim, open(&url));
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(second),
    });
    sim.open_dispute(&OpenDispute {
        kind: "retrieval".into(),
        payment_request_id: "PAY-AXS-3".into(),
        escalation_amount: None,
        dispute_request_id: Some(retrieval.clone()),
    })
    .unwrap();
    idle(&sim).await;
    let outcomes: Vec<_> = sim
        .deliveries()
        .into_iter()
        .filter(|d| d.payment_request_id.starts_with("initiateRetrieval"))
        .map(|d| d.outcome)
        .collect();
    assert_eq!(outcomes.first(), Some(&DeliveryOutcome::Acknowledged));
    assert!(
        outcomes[1..].iter().all(|o| *o
            == DeliveryOutcome::Refused {
                code: "REPEAT_REQ_INCONSISTENT".into()
            }),
        "{outcomes:?}"
    );
    let stored = open(&url)
        .dispute(DisputeKind::Retrieval, &retrieval)
        .unwrap()
        .unwrap();
    assert_eq!(stored.dispute.payment_request_id, "PAY-AXS-2");
}
