//! The axum routes over loopback with the simulator delivering real notifications: a Cashier
//! payment followed by the async driver that takes its notifyPayment from the route, the
//! Auto Debit authNotify and consultUnbinding calls, and the notification faults.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alipayplus_autodebit::{AuthClient, AuthEvent, AuthState, AuthorizationUrls, Binding};
use alipayplus_axum_example::{MAX_BODY_BYTES, Merchant, Unavailable, routes};
use alipayplus_client::client::{Client, ClientConfig, Host, InboundClientId};
use alipayplus_client::driver::{Limit, PaymentFollower, Wake};
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
use alipayplus_client::transport::Request;
use alipayplus_client::transport_async::AsyncTransport;
use alipayplus_reqwest::ReqwestTransport;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{AutoDebitConfig, DeliveryOutcome, NotifyFaults, SimConfig, Simulator, keys};
use alipayplus_types::{
    Amount, ConsultUnbindingRequest, Currency, Env, Merchant as OrderMerchant,
    NotifyPaymentRequest, Order, PayRequest, PaymentFactor, PaymentMethod, StrBool, TerminalType,
};
use tokio::sync::mpsc;

/// The application behind the routes: records what it is told, forwards payment
/// notifications to the follower, refuses the first unbinding, and can be "down".
struct Shop {
    payments: mpsc::UnboundedSender<NotifyPaymentRequest>,
    auth: Mutex<Vec<AuthEvent>>,
    consultations: AtomicU32,
    down_for: AtomicU32,
}

impl Merchant for Shop {
    async fn payment_notified(
        &self,
        n: NotifyPaymentRequest,
        client_id_is_ours: bool,
    ) -> Result<(), Unavailable> {
        assert!(client_id_is_ours, "the routes refuse a foreign Client-Id");
        if self
            .down_for
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Unavailable);
        }
        let _ = self.payments.send(n);
        Ok(())
    }

    async fn auth_notified(&self, event: AuthEvent, ours: bool) -> Result<(), Unavailable> {
        assert!(ours, "the routes refuse a foreign Client-Id");
        self.auth.lock().unwrap().push(event);
        Ok(())
    }

    async fn unbinding_requested(
        &self,
        _c: ConsultUnbindingRequest,
        ours: bool,
    ) -> Result<(), String> {
        assert!(ours, "the routes refuse a foreign Client-Id");
        if self.consultations.fetch_add(1, Ordering::SeqCst) == 0 {
            Err("outstanding fares".into())
        } else {
            Ok(())
        }
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

/// Serves the routes nested under `/acqp` on their own runtime and thread (the simulator's
/// blocking calls never stall them); returns the base URL.
fn serve(config: ClientConfig, shop: Arc<Shop>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let app = axum::Router::new().nest("/acqp", routes(config, shop, InboundClientId::Refuse));
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
    sim: Simulator,
    base: String,
    shop: Arc<Shop>,
    payments: mpsc::UnboundedReceiver<NotifyPaymentRequest>,
    client: Client<ReqwestTransport>,
}

fn world(faults: NotifyFaults) -> World {
    let sim = Simulator::start(
        SimConfig::bundled()
            .unwrap()
            .with_fast_notifications(5, Duration::from_millis(50)),
    )
    .unwrap();
    sim.set_notify_faults(faults);
    let (tx, rx) = mpsc::unbounded_channel();
    let shop = Arc::new(Shop {
        payments: tx,
        auth: Mutex::new(Vec::new()),
        consultations: AtomicU32::new(0),
        down_for: AtomicU32::new(0),
    });
    let base = serve(config(&sim), shop.clone());
    sim.set_autodebit_config(AutoDebitConfig {
        auth_notify_url: Some(format!("{base}/authNotify")),
        consult_unbinding_url: Some(format!("{base}/consultUnbinding")),
        ..AutoDebitConfig::default()
    });
    let client = Client::new(config(&sim), ReqwestTransport::new().unwrap());
    World {
        sim,
        base,
        shop,
        payments: rx,
        client,
    }
}

fn cashier_pay(id: &str, notify_url: String) -> PayRequest {
    let amount = Amount::new(Currency::USD, 1234);
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("O-{id}"),
            "test".into(),
            amount,
            OrderMerchant::new("M1".into()),
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
    request.payment_redirect_url = Some("https://merchant.example/back".into());
    request.payment_notify_url = Some(notify_url);
    request
}

/// The Cashier payment the async driver follows: it waits with tokio's sleep raced against
/// the notifications the route receives, so the notifyPayment (after a forged first delivery,
/// a 503 while the shop is down, and with a duplicate) ends it before any inquiry.
#[tokio::test]
async fn a_cashier_payment_ends_on_the_notification_the_route_received() {
    let w = world(NotifyFaults {
        duplicates: 1,
        bad_signature_first: true,
        ..NotifyFaults::default()
    });
    w.shop.down_for.store(1, Ordering::SeqCst);
    let request = cashier_pay("AX-1", format!("{}/notifyPayment", w.base));
    let tracker = PaymentTracker::for_pay(&request, SystemClock.now(), TrackerPolicy::cashier());
    let mut follower = PaymentFollower::new(request, tracker).unwrap();
    let sim = &w.sim;
    // The sleep's futures outlive each call of the sleep function: they share the receiver.
    let payments = Arc::new(tokio::sync::Mutex::new(w.payments));
    let sleep = |wait| {
        let payments = Arc::clone(&payments);
        async move {
            let mut payments = payments.lock().await;
            tokio::select! {
                () = tokio::time::sleep(wait) => Wake::Elapsed,
                n = payments.recv() => Wake::from(n),
            }
        }
    };
    let followed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let followed = follower.run_async(&w.client, Limit::none(), sleep).await?;
            match followed.redirect {
                // The shopper pays in the wallet.
                Some(_) => {
                    sim.approve("AX-1").unwrap();
                }
                None => break Ok::<_, alipayplus_client::error::RequestError>(followed),
            }
        }
    })
    .await
    .expect("the notification ends the run well before the first inquiry (10 s)")
    .unwrap();
    assert_eq!(followed.final_state, Some(Final::Succeeded));
    assert_eq!(followed.inquiries, 0, "settled by the notification");

    assert!(w.sim.wait_notifications_idle(Duration::from_secs(10)));
    let outcomes: Vec<_> = w
        .sim
        .deliveries()
        .into_iter()
        .filter(|d| d.payment_request_id == "AX-1")
        .map(|d| d.outcome)
        .collect();
    // Forged: refused by the SDK with an unsigned INVALID_SIGNATURE (an unverified caller gets
    // no private-key work), which the simulator records as an acknowledgement it cannot
    // verify; then the shop was down (503, not acknowledged); then acknowledged, and the
    // duplicate too.
    assert!(
        matches!(&outcomes[0], DeliveryOutcome::BadAck { reason } if reason.contains("Signature")),
        "{outcomes:?}"
    );
    assert!(
        matches!(outcomes[1], DeliveryOutcome::HttpStatus { .. }),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes[2..],
        [DeliveryOutcome::Acknowledged, DeliveryOutcome::Acknowledged]
    );
}

async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Auto Debit: authNotify (code, token created, token cancelled) and consultUnbinding (refused
/// once by the shop, then allowed) reach the application through the routes.
#[tokio::test]
async fn auth_notify_and_consult_unbinding_reach_the_shop() {
    let w = world(NotifyFaults::default());
    let merchant = AuthClient::new("M-SIM-0001", "Sim Merchant Pte. Ltd.");
    let mut binding = Binding::new(
        "M-SIM-0001",
        "https://merchant.example.com/auth-return",
        AuthState::from_random_bytes([3; 16]),
    )
    .with_wallet("SIMWALLET");
    let prepared = w
        .client
        .call_async(&binding.prepare_request(&merchant, TerminalType::Web, None))
        .await
        .unwrap();
    let page = AuthorizationUrls::from_response(prepared.body().unwrap())
        .for_terminal(&TerminalType::Web)
        .unwrap()
        .to_string();
    let consent = w.sim.consent(&page).unwrap();
    binding.on_redirect(&consent.redirect_url).unwrap();
    let applied = w
        .client
        .call_async(&binding.apply_token_request().unwrap())
        .await
        .unwrap();
    assert!(applied.is_success(), "{applied:?}");
    let token = applied.body().unwrap().access_token.clone().unwrap();
    let shop = w.shop.clone();
    let count =
        move |f: fn(&AuthEvent) -> bool| shop.auth.lock().unwrap().iter().filter(|e| f(e)).count();
    wait_for("AUTHCODE_CREATED and TOKEN_CREATED", || {
        count(|e| matches!(e, AuthEvent::AuthCodeCreated { .. })) == 1
            && count(|e| matches!(e, AuthEvent::TokenCreated { .. })) == 1
    })
    .await;

    // The wallet-side unbinding asks first: refused, the token stays.
    let sim = Arc::new(w.sim);
    let unbind = |sim: Arc<Simulator>, token: String| {
        tokio::task::spawn_blocking(move || sim.unbind(&token).unwrap())
    };
    let first = unbind(sim.clone(), token.expose().to_string())
        .await
        .unwrap();
    assert!(!first.unbound, "{first:?}");
    assert_eq!(first.consult_result.as_deref(), Some("PROCESS_FAIL"));
    let second = unbind(sim.clone(), token.expose().to_string())
        .await
        .unwrap();
    assert!(second.unbound, "{second:?}");
    assert_eq!(second.consult_result.as_deref(), Some("SUCCESS"));
    wait_for("TOKEN_CANCELED", || {
        count(|e| matches!(e, AuthEvent::TokenCanceled { .. })) == 1
    })
    .await;
}

/// Sends `head` then `body` on a fresh connection; returns the response's status line.
fn raw_exchange(base: &str, head: String, body: Vec<u8>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let authority = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer and close before the whole body is written.
    let _ = stream.write_all(&body);
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

/// Bodies over the limit are refused before verification (413, unsigned), announced or
/// streamed (chunked); a GET gets the SDK's unsigned refusal.
#[tokio::test]
async fn oversized_bodies_and_other_methods_are_refused() {
    let w = world(NotifyFaults::default());
    let base = w.base.clone();
    let (announced, streamed) = tokio::task::spawn_blocking(move || {
        let path = "/acqp/notifyPayment";
        let n = MAX_BODY_BYTES + 1;
        let announced = raw_exchange(
            &base,
            format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n"),
            vec![b' '; n],
        );
        let mut chunked = Vec::new();
        for _ in 0..(n / 4096 + 1) {
            chunked.extend_from_slice(b"1000\r\n");
            chunked.extend_from_slice(&[b' '; 4096]);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let streamed = raw_exchange(
            &base,
            format!("POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            chunked,
        );
        (announced, streamed)
    })
    .await
    .unwrap();
    assert_eq!(announced, "HTTP/1.1 413 Payload Too Large");
    assert_eq!(streamed, "HTTP/1.1 413 Payload Too Large");

    let transport = ReqwestTransport::new().unwrap();
    let mut get = Request::post(format!("{}/authNotify", w.base), Vec::new());
    get.method = "GET".into();
    let response = AsyncTransport::send(&transport, get).await.unwrap();
    assert_eq!(response.status, 200);
    // Refused before verification: unsigned (no private-key work for an unverified caller).
    assert!(response.headers.get("signature").is_none());
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["result"]["resultCode"], "METHOD_NOT_SUPPORTED");
    assert!(w.shop.auth.lock().unwrap().is_empty());
}
