//! The resuming worker against the loopback simulator: each write-ahead rule checked at the
//! moment it matters (what the store holds when the bytes leave, when the next call leaves,
//! when the acknowledgement goes out), resuming from the store alone, and the async drive.

mod common;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alipayplus_cashier::cashier::{cashier_payment_factor, checked_pay as cashier_pay_request};
use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::driver::PaymentFollower;
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
use alipayplus_client::transport::{Request, Response, Transport};
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{FaultRule, SimConfig, Simulator, keys};
use alipayplus_store::worker::{Driven, Event};
use alipayplus_store::{Appended, Kind, Source, Store, Worker};
use alipayplus_types::{
    Amount, Currency, Env, Merchant, Order, PayRequest, PaymentMethod, TerminalType,
};
use alipayplus_ureq::UreqTransport;
use common::*;
use serde_json::Value;

const KINDS: [Kind; 2] = [PAY, AGREEMENT];

fn sim() -> Simulator {
    let config = SimConfig::bundled()
        .unwrap()
        .with_fast_notifications(5, Duration::from_millis(50));
    Simulator::start(config).unwrap()
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

fn ureq() -> UreqTransport {
    UreqTransport::builder()
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A quick policy: inquiries every 50 ms (or never, to wait for the notification).
fn policy(inquire: bool) -> TrackerPolicy {
    let mut p = TrackerPolicy::cashier();
    let every = if inquire {
        Duration::from_millis(50)
    } else {
        Duration::from_secs(3600)
    };
    p.first_inquiry_after = every;
    p.inquiry_interval = every;
    p.backoff = false;
    p.retry_delay = Duration::from_millis(20);
    p
}

fn follower(id: &str, notify_url: Option<String>, inquire: bool) -> PaymentFollower {
    let amount = Amount::new(Currency::USD, 1234);
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("O-{id}"),
            "test".into(),
            amount,
            Merchant::new("M1".into()),
        )
    };
    let mut request = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new("SIMWALLET".into()),
        cashier_payment_factor(None),
    );
    request.payment_redirect_url = Some("https://merchant.example/back".into());
    request.payment_notify_url = notify_url;
    let request = cashier_pay_request(&request).unwrap();
    let tracker = PaymentTracker::for_pay(&request, SystemClock.now(), policy(inquire));
    PaymentFollower::new(request, tracker).unwrap()
}

fn api_of(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or(uri)
}

/// The API name a stored state has pending (`"Pay"`, `"InquiryPayment"`, ...).
fn pending(state: &Value) -> Option<&str> {
    state["pending"]["api"].as_str()
}

/// Ticks until the follow-up is final (at most 10 s).
fn until_final<T: Transport>(worker: &Worker<'_, T>, id: &str) -> Vec<Driven> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all = Vec::new();
    while Instant::now() < deadline {
        let driven = worker.tick().unwrap();
        let done = driven.iter().any(|d| d.id == id && d.final_state.is_some());
        all.extend(driven);
        if done {
            return all;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{id} not final in 10 s");
}

#[test]
fn each_send_is_stored_before_it_leaves_and_each_answer_before_the_next_send() {
    let sim = sim();
    let path = db_path("worker-rules-1-2");
    let store = open(&path);
    let observer = open(&path);
    let id = "W-RULES-1";
    // What the store held each time bytes were about to leave, and each answer's body.
    let seen: Mutex<Vec<(String, Value)>> = Mutex::new(Vec::new());
    let answers: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let http = ureq();
    let transport = |request: Request| -> Result<Response, _> {
        let stored = observer.load::<Value>(PAY, id).unwrap().unwrap();
        seen.lock()
            .unwrap()
            .push((api_of(&request.uri).to_owned(), stored.state));
        let answer = http.send(request);
        if let Ok(r) = &answer {
            answers.lock().unwrap().push(r.body.clone());
        }
        answer
    };
    let client = Client::new(config(&sim), transport);
    let worker = Worker::new(&store, &client, &KINDS);
    worker.begin(PAY, &follower(id, None, true)).unwrap();
    // First drive: pay (answered U, in process, with the wallet's URL), then it waits.
    let first = worker.drive(PAY, id).unwrap().expect("due at once");
    assert!(first.final_state.is_none());
    assert!(
        first.events.iter().any(|e| matches!(e, Event::Redirect(_))),
        "the redirect is handed to the caller: {:?}",
        first.events
    );
    sim.approve(id).unwrap();
    let rest = until_final(&worker, id);
    assert_eq!(
        rest.last().unwrap().final_state,
        Some(Final::Succeeded),
        "{rest:?}"
    );

    let seen = seen.into_inner().unwrap();
    let answers = answers.into_inner().unwrap();
    assert!(seen.len() >= 2, "pay then at least one inquiry: {seen:?}");
    let names = |api: &str| match api {
        "pay" => "Pay",
        "inquiryPayment" => "InquiryPayment",
        other => panic!("unexpected call {other}"),
    };
    for (k, (api, stored)) in seen.iter().enumerate() {
        // Rule 1: the call leaving is the one stored as pending.
        assert_eq!(pending(stored), Some(names(api)), "send {k}: {stored}");
        // Rule 2: the previous call's answer was fed and stored before this send: its
        // pending entry is gone, and what it said (the wallet URL of the pay answer) is in
        // the stored state.
        if k > 0 {
            let sent_before: u64 = ["pay_attempts", "inquiries", "cancels"]
                .iter()
                .map(|f| stored[f].as_u64().unwrap())
                .sum();
            assert_eq!(sent_before, k as u64 + 1, "send {k}: every send recorded");
        }
    }
    let pay_answer: Value = serde_json::from_slice(&answers[0]).unwrap();
    let url = pay_answer["normalUrl"]
        .as_str()
        .or_else(|| pay_answer["redirectActionForm"]["redirectUrl"].as_str())
        .expect("the pay answer carries the wallet's URL");
    let stored_at_inquiry = seen[1].1.to_string();
    assert!(
        stored_at_inquiry.contains(url),
        "the pay answer is stored before the inquiry leaves: {stored_at_inquiry}"
    );
    // Final and stored so.
    let row = store.load::<Value>(PAY, id).unwrap().unwrap();
    assert!(row.is_final);
    assert!(store.list_unfinished(10).unwrap().is_empty());
}

/// The examples' listener with the store: verify, store, then acknowledge (rule 3).
fn listen(
    store: Arc<Store>,
    config: ClientConfig,
    acked: Arc<AtomicUsize>,
    before_ack: impl Fn(&Store, &str) + Send + Sync + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        alipayplus_listen::serve_on(listener, alipayplus_listen::Limits::default(), |request| {
            match alipayplus_client::notify::handle_notify_payment(&config, &request) {
                Ok(accepted) => {
                    let id = accepted.body.payment_request_id.clone();
                    match store.append_payment_notification(
                        &KINDS,
                        &id,
                        &request.body,
                        SystemClock.now(),
                    ) {
                        Ok(_) => {
                            before_ack(&store, &id);
                            acked.fetch_add(1, Ordering::SeqCst);
                            accepted.answer
                        }
                        // Not stored: no acknowledgement, Alipay+ delivers again.
                        Err(_) => Response::new(500, Vec::new()),
                    }
                }
                Err(refused) => refused.answer,
            }
        })
    });
    url
}

#[test]
fn a_notification_is_stored_before_its_acknowledgement_and_only_the_worker_feeds_it() {
    let sim = sim();
    let path = db_path("worker-rule-3");
    let store = Arc::new(open(&path));
    let acked = Arc::new(AtomicUsize::new(0));
    let versions_at_ack: Arc<Mutex<Vec<i64>>> = Arc::default();
    let v = Arc::clone(&versions_at_ack);
    let notify_url = listen(
        Arc::clone(&store),
        config(&sim),
        Arc::clone(&acked),
        move |store, id| {
            // Rule 3: at the acknowledgement the event is in the store...
            let entry = store
                .inbound(Source::NotifyPayment, id)
                .unwrap()
                .expect("stored before the acknowledgement");
            assert_eq!(entry.follow_up, Some((PAY.name().into(), id.into())));
            // ... and the listener wrote nothing else: the follow-up is the worker's.
            v.lock()
                .unwrap()
                .push(store.load::<Value>(PAY, id).unwrap().unwrap().version.get());
        },
    );
    let id = "W-RULE-3";
    let client = Client::new(config(&sim), ureq());
    let worker = Worker::new(&store, &client, &KINDS);
    // No inquiries: only the notification can end it.
    worker
        .begin(PAY, &follower(id, Some(notify_url), false))
        .unwrap();
    let first = worker.drive(PAY, id).unwrap().unwrap();
    assert!(first.final_state.is_none());
    let version_after_pay = store.load::<Value>(PAY, id).unwrap().unwrap().version;
    sim.approve(id).unwrap();
    assert!(sim.wait_notifications_idle(Duration::from_secs(10)));
    assert!(acked.load(Ordering::SeqCst) >= 1);
    assert!(
        versions_at_ack
            .lock()
            .unwrap()
            .iter()
            .all(|v| *v == version_after_pay.get()),
        "the listener never writes the follow-up"
    );
    // The stored notification wakes the follow-up (due now through its inbox).
    let due = store.list_due(SystemClock.now(), 10).unwrap();
    assert_eq!(due.len(), 1);
    let driven = until_final(&worker, id);
    assert_eq!(
        driven.last().unwrap().final_state,
        Some(Final::Succeeded),
        "{driven:?}"
    );
    // Fed and consumed in the same save; only pay was ever sent.
    assert!(store.unconsumed(PAY, id).unwrap().is_empty());
    let entry = store.inbound(Source::NotifyPayment, id).unwrap().unwrap();
    assert!(entry.consumed_at.is_some());
    let calls: Vec<_> = sim.calls().into_iter().map(|c| c.api).collect();
    assert_eq!(calls, ["pay"]);
    // A re-delivery is recognised and stored once.
    assert!(matches!(
        store
            .append_payment_notification(&KINDS, id, &entry.body, SystemClock.now())
            .unwrap(),
        Appended::Duplicate {
            same_body: true,
            ..
        }
    ));
}

#[test]
fn a_worker_dead_between_storing_the_pay_and_its_answer_is_resumed_from_the_store_alone() {
    let sim = sim();
    let path = db_path("worker-resume");
    let id = "W-RESUME";
    // The pay is processed by the simulator, then the process "dies" before the answer is
    // fed (a panic inside the transport, after the bytes left).
    {
        let store = open(&path);
        let http = ureq();
        let transport = |request: Request| -> Result<Response, alipayplus_ureq::Error> {
            let _ = http.send(request);
            panic!("killed between the send and its answer");
        };
        let client = Client::new(config(&sim), transport);
        let worker = Worker::new(&store, &client, &KINDS);
        worker.begin(PAY, &follower(id, None, true)).unwrap();
        let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.drive(PAY, id)));
        assert!(died.is_err());
    }
    assert!(sim.payment(id).is_some(), "the pay reached the simulator");
    // A new process: only the file.
    let store = open(&path);
    let stored = store.load::<Value>(PAY, id).unwrap().unwrap();
    assert_eq!(pending(&stored.state), Some("Pay"), "the send was stored");
    let unfinished = store.list_unfinished(10).unwrap();
    assert_eq!(unfinished.len(), 1);
    assert!(
        store.list_due(SystemClock.now(), 10).unwrap().len() == 1,
        "a send without its answer is due at once"
    );
    let client = Client::new(config(&sim), ureq());
    let worker = Worker::new(&store, &client, &KINDS);
    let first = worker.tick().unwrap();
    assert_eq!(first.len(), 1);
    sim.approve(id).unwrap();
    let driven = until_final(&worker, id);
    assert_eq!(driven.last().unwrap().final_state, Some(Final::Succeeded));
    // One payment, never a second request id; every pay carried the first bytes.
    assert_eq!(sim.payments().len(), 1);
}

/// Called by the transport inside a send.
type Hook = Box<dyn Fn() -> bool + Send>;

#[test]
fn a_follow_up_is_driven_by_one_thread_at_a_time() {
    let sim = sim();
    let path = db_path("worker-claim");
    let store = open(&path);
    let id = "W-CLAIM";
    let http = ureq();
    let inner: Mutex<Option<bool>> = Mutex::new(None);
    // While the worker is inside a send, driving the same follow-up again does nothing.
    let again: Arc<Mutex<Option<Hook>>> = Arc::default();
    let again_t = Arc::clone(&again);
    let transport = move |request: Request| -> Result<Response, alipayplus_ureq::Error> {
        if let Some(f) = again_t.lock().unwrap().as_ref() {
            let _ = f();
        }
        http.send(request)
    };
    let client = Client::new(config(&sim), transport);
    let worker = Worker::new(&store, &client, &KINDS);
    worker.begin(PAY, &follower(id, None, true)).unwrap();
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<bool>();
        *again.lock().unwrap() = Some(Box::new(move || {
            let _ = tx.send(());
            done_rx.recv().unwrap_or(false)
        }));
        let (worker, inner) = (&worker, &inner);
        s.spawn(move || {
            // Inside the first send: a second drive of the same follow-up is refused.
            rx.recv().unwrap();
            let second = worker.drive(PAY, id).unwrap();
            *inner.lock().unwrap() = Some(second.is_none());
            let _ = done_tx.send(true);
        });
        let first = worker.drive(PAY, id).unwrap();
        assert!(first.is_some());
    });
    assert_eq!(*inner.lock().unwrap(), Some(true));
    assert_eq!(sim.calls().len(), 1, "only the first drive sent");
}

/// A minimal executor: the async drive over a transport whose futures are ready at once.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

#[test]
fn the_async_drive_keeps_the_same_rules() {
    let sim = sim();
    let path = db_path("worker-async");
    let store = open(&path);
    let observer = open(&path);
    let id = "W-ASYNC";
    let http = ureq();
    let stored_pending: Mutex<Vec<Option<String>>> = Mutex::new(Vec::new());
    let transport = |request: Request| {
        let stored = observer.load::<Value>(PAY, id).unwrap().unwrap();
        stored_pending
            .lock()
            .unwrap()
            .push(pending(&stored.state).map(String::from));
        let answer = http.send(request);
        async move { answer }
    };
    let client = Client::new(config(&sim), transport);
    let worker = Worker::new(&store, &client, &KINDS);
    worker.begin(PAY, &follower(id, None, true)).unwrap();
    let first = block_on(worker.drive_async(PAY, id)).unwrap().unwrap();
    assert!(first.final_state.is_none());
    sim.approve(id).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let final_state = loop {
        assert!(Instant::now() < deadline, "not final in 10 s");
        let driven = block_on(worker.tick_async()).unwrap();
        if let Some(f) = driven.into_iter().find_map(|d| d.final_state) {
            break f;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(final_state, Final::Succeeded);
    let pending = stored_pending.into_inner().unwrap();
    assert!(pending.len() >= 2);
    assert_eq!(pending[0].as_deref(), Some("Pay"));
    assert!(
        pending[1..]
            .iter()
            .all(|p| p.as_deref() == Some("InquiryPayment"))
    );
}

#[test]
fn a_sealed_kind_needs_the_key_and_the_access_token_never_reaches_the_file_in_clear() {
    let sim = sim();
    let path = db_path("worker-sealed");
    let id = "W-SEALED";
    let client = Client::new(config(&sim), ureq());
    let follower = follower(id, None, true);
    let plain = open(&path);
    let worker = Worker::new(&plain, &client, &KINDS);
    assert!(matches!(
        worker.begin(AGREEMENT, &follower),
        Err(alipayplus_store::Error::SealingKeyMissing { .. })
    ));
    drop(worker);
    drop(plain);
    let store = open_sealed(&path);
    let worker = Worker::new(&store, &client, &KINDS);
    worker.begin(AGREEMENT, &follower).unwrap();
    sim.add_fault(FaultRule::once("pay", alipayplus_sim::Fault::Unsigned).for_payment(id));
    let _ = worker.drive(AGREEMENT, id).unwrap();
    let raw = raw_bytes(&path);
    assert!(
        !contains(&raw, b"O-W-SEALED"),
        "the pay body (holding the access token in Auto Debit) is sealed"
    );
}

#[test]
fn run_on_two_threads_resumes_and_finishes_every_follow_up_once() {
    let sim = sim();
    let path = db_path("worker-run");
    let ids: Vec<String> = (0..6).map(|n| format!("W-RUN-{n}")).collect();
    // Stored by a process that died before sending anything.
    {
        let store = open(&path);
        let client = Client::new(config(&sim), ureq());
        let worker = Worker::new(&store, &client, &KINDS);
        for id in &ids {
            worker.begin(PAY, &follower(id, None, true)).unwrap();
        }
    }
    let store = open(&path);
    let client = Client::new(config(&sim), ureq());
    let worker = Worker::new(&store, &client, &KINDS).with_idle(Duration::from_millis(5));
    let stop = std::sync::atomic::AtomicBool::new(false);
    let finals = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2).map(|_| s.spawn(|| worker.run(&stop))).collect();
        // The shopper approves each payment once it exists.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut approved = std::collections::HashSet::new();
        while !store.list_unfinished(100).unwrap().is_empty() {
            assert!(Instant::now() < deadline, "not all final in 20 s");
            for id in &ids {
                if !approved.contains(id) && sim.approve(id).is_ok() {
                    approved.insert(id.clone());
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::SeqCst);
        runs.into_iter()
            .flat_map(|r| r.join().unwrap().unwrap())
            .collect::<Vec<_>>()
    });
    let mut done: Vec<_> = finals.iter().map(|d| d.id.clone()).collect();
    done.sort();
    assert_eq!(done, ids, "each final once, by one of the threads");
    assert!(
        finals
            .iter()
            .all(|d| d.final_state == Some(Final::Succeeded))
    );
    for id in &ids {
        let pays = sim
            .calls()
            .into_iter()
            .filter(|c| c.api == "pay" && c.payment_request_id.as_deref() == Some(id.as_str()))
            .count();
        assert_eq!(
            pays, 1,
            "{id}: one pay, never sent twice by the two threads"
        );
    }
}
