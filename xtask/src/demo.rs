//! `cargo xtask demo`: the project's main job. Starts the Alipay+ simulator on a free loopback
//! port and runs the Cashier flow over real HTTP through `alipayplus-ureq` and the
//! `alipayplus-cashier` client, printing each step; exits non-zero if anything is off.
//!
//! Steps: consultPayment; pay (tracked); the shopper approves at the URL pay returned;
//! notifyPayment arrives at the demo merchant's endpoint, is verified by the cashier
//! notifyPayment handler and acknowledged with a signed answer; inquiry confirms; a partial
//! refund; a second refund to the full amount (and one more is refused); then a second
//! payment the shopper never completes: the tracker inquires, then cancels it after a
//! 2-second window (short windows instead of the real 15 minutes). Then Auto Debit
//! ([`crate::demo_autodebit`]): bind a wallet, tokens, two charges, refresh, refund, unbind, and
//! a charge after unbinding that fails cleanly. Then the operations
//! ([`crate::demo_operations`]): register a merchant, answer a retrieval and an escalation,
//! declare a CNY payment to customs in two parts.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alipayplus_cashier::PaymentRef;
use alipayplus_cashier::cashier::cashier_payment_factor;
use alipayplus_cashier::cashier::checked_pay as cashier_pay_request;
use alipayplus_cashier::cashier::consult_with_cashier_flags;
use alipayplus_cashier::check_notification;
use alipayplus_cashier::inquiry_request;
use alipayplus_cashier::refund_request;
use alipayplus_cashier::{Action, Notified, PaymentFollower};
use alipayplus_cashier::{Client, ClientConfig, Host};
use alipayplus_cashier::{Clock, SystemClock};
use alipayplus_cashier::{Final, PaymentTracker, ShopperRedirect, Step, TrackerPolicy};
use alipayplus_cashier::{Headers, Request};
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{DeliveryOutcome, PaymentStatus, SimConfig, Simulator, keys};
use alipayplus_types::{
    Amount, ConsultPaymentRequest, Currency, DateTime, Env, Merchant, NotifyPaymentRequest, Order,
    PayRequest, PaymentMethod, TerminalType,
};
use alipayplus_ureq::UreqTransport;

use crate::demo_ledger::{paid_record, refund_record, summary};

type Res<T> = Result<T, String>;

/// Runs the demo; the exit code says whether every step checked out.
pub fn main(args: &[String]) -> ExitCode {
    if let Some(arg) = args.first() {
        eprintln!("demo: unexpected argument {arg:?}\n\nusage: cargo xtask demo");
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    match run() {
        Ok(()) => {
            println!(
                "\ndemo OK: every step checked out ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\ndemo FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn step(n: &str, what: &str, detail: impl std::fmt::Display) {
    println!("[{n:>3}] {what:<26} {detail}");
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Res<()> {
    if ok { Ok(()) } else { Err(what()) }
}

fn client_config(sim: &Simulator) -> Res<ClientConfig> {
    let key = keys::acqp_private_key().map_err(|e| e.to_string())?;
    let alipay = keys::sim_public_key().map_err(|e| e.to_string())?;
    let host = Host::custom(sim.base_url()).map_err(|e| e.to_string())?;
    ClientConfig::new(
        sim.client_id(),
        host,
        key,
        PublicKeys::single(1, alipay),
        SystemClock,
    )
    .map_err(|e| e.to_string())
}

fn run() -> Res<()> {
    let config = SimConfig::bundled()
        .map_err(|e| e.to_string())?
        .with_fast_notifications(5, Duration::from_millis(200));
    let sim = Simulator::start(config).map_err(|e| e.to_string())?;
    step(
        "sim",
        "Alipay+ simulator",
        format!("{} (Client-Id {})", sim.base_url(), sim.client_id()),
    );
    let merchant = MerchantEndpoint::start(crate::demo_endpoint::inbound(client_config(&sim)?)?)?;
    step("acq", "merchant notify endpoint", &merchant.notify_url);
    let transport = UreqTransport::builder()
        .read_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let client = Client::new(client_config(&sim)?, transport);
    let err = |e: alipayplus_cashier::RequestError| e.to_string();

    // 1. consultPayment
    let usd = |minor| Amount::new(Currency::USD, minor);
    let consult = client
        .call(&consult_with_cashier_flags(&ConsultPaymentRequest::new(
            usd(1000),
            cashier_payment_factor(None),
        )))
        .map_err(err)?;
    let wallets: Vec<String> = consult
        .body()
        .and_then(|b| b.payment_options.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|o| o.enabled.is_some_and(|e| e.0))
        .map(|o| o.payment_method_type)
        .collect();
    step(
        "1",
        "consultPayment USD 10.00",
        format!("{} -> wallets {wallets:?}", summary(&consult)),
    );
    ensure(consult.is_success() && !wallets.is_empty(), || {
        "consultPayment offered no wallet".into()
    })?;

    // 2. pay, followed by a tracker
    let id = format!("DEMO-PAY-{}", SystemClock.now().unix_millis());
    let request = pay_request(&id, usd(1000), &wallets[0], &merchant)?;
    let now = SystemClock.now();
    let mut tracker = PaymentTracker::for_pay(&request, now, TrackerPolicy::cashier());
    let paid = cashier_pay_request(&request)
        .and_then(|r| client.call(&r))
        .map_err(err)?;
    let update = tracker.on_pay_outcome(SystemClock.now(), &paid);
    step(
        "2",
        &format!("pay {id}"),
        format!(
            "USD 10.00 via {} -> {}; tracker: {update:?}",
            wallets[0],
            summary(&paid)
        ),
    );
    let url = match tracker.next_step(SystemClock.now()) {
        Step::RedirectShopper(ShopperRedirect::Url(u)) => u,
        other => {
            return Err(format!(
                "tracker should send the shopper to the wallet, said {other:?}"
            ));
        }
    };
    step("", "tracker: redirect shopper", &url);

    // 3. the shopper approves
    let (status, location) = shopper_visit(&format!("{url}?action=approve"))?;
    step(
        "3",
        "shopper approves",
        format!(
            "HTTP {status}, back to {}",
            location.as_deref().unwrap_or("-")
        ),
    );
    ensure(status == 303, || {
        format!("the wallet page answered HTTP {status}")
    })?;

    // 4. notifyPayment: verified and acknowledged
    let notification = merchant
        .notifications
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "no notifyPayment arrived within 10 s".to_string())?;
    check_notification(&notification, &id, &usd(1000)).map_err(|e| e.to_string())?;
    let update = tracker.on_notify_payment(SystemClock.now(), &notification);
    step(
        "4",
        "notifyPayment received",
        format!(
            "{} {}, signature verified, amount matches; signed ack sent; tracker: {update:?}",
            notification.payment_result.result_status.as_str(),
            notification.payment_result.code_str()
        ),
    );
    ensure(sim.wait_notifications_idle(Duration::from_secs(5)), || {
        "notification still in flight".into()
    })?;
    let deliveries = sim.deliveries();
    step(
        "",
        "simulator saw the ack",
        format!(
            "{:?} ({} delivery)",
            deliveries.first().map(|d| &d.outcome),
            deliveries.len()
        ),
    );
    ensure(
        deliveries.len() == 1 && deliveries[0].outcome == DeliveryOutcome::Acknowledged,
        || format!("the simulator did not get a verified acknowledgement: {deliveries:?}"),
    )?;
    ensure(tracker.final_state() == Some(&Final::Succeeded), || {
        "tracker did not finish as paid".into()
    })?;

    // 5. inquiry confirms
    let by_id = PaymentRef::RequestId(id.clone());
    let inquiry = client.call(&inquiry_request(&by_id)).map_err(err)?;
    let payment_result = inquiry
        .body()
        .and_then(|b| b.payment_result.as_ref())
        .map(|r| format!("{} {}", r.result_status.as_str(), r.code_str()))
        .unwrap_or_default();
    let update = tracker.on_inquiry_outcome(SystemClock.now(), &inquiry);
    step(
        "5",
        "inquiryPayment",
        format!(
            "{} / paymentResult {payment_result}; tracker: {update:?}",
            summary(&inquiry)
        ),
    );
    ensure(payment_result == "S SUCCESS", || {
        "inquiry does not confirm the payment".into()
    })?;
    let mut ledger = vec![paid_record(&client, &id)?];

    // 6, 7. refunds
    for (n, refund_id, minor, expect) in [
        ("6", "R1", 300, "S SUCCESS"),
        ("7", "R2", 700, "S SUCCESS"),
        ("", "R3", 1, "F REFUND_AMOUNT_EXCEED"),
    ] {
        let refund_id = format!("{id}-{refund_id}");
        let major = usd(minor).to_major_string().unwrap_or_default();
        let refund = client
            .call(&refund_request(&by_id, &refund_id, usd(minor)))
            .map_err(err)?;
        let view = sim.payment(&id).ok_or("payment vanished")?;
        step(
            n,
            &format!("refund {refund_id}"),
            format!(
                "USD {major} -> {}; refunded {} of 1000 minor units, {}",
                summary(&refund),
                view.refunded,
                view.status.as_str()
            ),
        );
        ensure(summary(&refund) == expect, || {
            format!("refund {refund_id}: expected {expect}")
        })?;
        if refund.is_success() {
            ledger.push(refund_record(&refund_id, &refund)?);
        }
    }
    ensure(
        sim.payment(&id).map(|p| p.status) == Some(PaymentStatus::FullyRefunded),
        || "payment not fully refunded".into(),
    )?;

    // 8. a payment that never completes: the tracker cancels it
    abandoned_payment(&client, &sim, &merchant, &wallets[0])?;

    let bad: Vec<_> = sim
        .deliveries()
        .into_iter()
        .filter(|d| d.outcome != DeliveryOutcome::Acknowledged)
        .collect();
    ensure(bad.is_empty(), || {
        format!("unacknowledged notification deliveries: {bad:?}")
    })?;
    // 9. Auto Debit on the same simulator.
    crate::demo_autodebit::run(&sim, &mut ledger)?;
    crate::demo_operations::run(&sim, &mut ledger)?;
    // 10. The day's reconciliation of everything above against the simulator's reports.
    let reports =
        std::env::temp_dir().join(format!("alipayplus-demo-reports-{}", std::process::id()));
    let result = crate::demo_reconcile::run(sim.base_url(), &reports, &ledger);
    let _ = std::fs::remove_dir_all(&reports);
    result
}

fn abandoned_payment(
    client: &Client<UreqTransport>,
    sim: &Simulator,
    merchant: &MerchantEndpoint,
    wallet: &str,
) -> Res<()> {
    let id = format!("DEMO-ABANDONED-{}", SystemClock.now().unix_millis());
    let request = pay_request(&id, Amount::new(Currency::USD, 2500), wallet, merchant)?;
    // The Cashier policy with a 2 s window (the real one is 15 minutes).
    let mut policy = TrackerPolicy::cashier();
    policy.first_inquiry_after = Duration::from_millis(700);
    policy.inquiry_interval = Duration::from_millis(700);
    policy.backoff = false;
    policy.cancel_margin = Duration::from_millis(300);
    policy.retry_delay = Duration::from_millis(200);
    let start = SystemClock.now();
    let tracker = PaymentTracker::new(&id, start, start + Duration::from_secs(2), policy);
    step(
        "8",
        &format!("pay {id}"),
        "USD 25.00; the shopper will never approve; window 2 s",
    );
    let give_up = Instant::now() + Duration::from_secs(20);
    let request = cashier_pay_request(&request).map_err(|e| e.to_string())?;
    let mut follower = PaymentFollower::new(request, tracker).map_err(|e| e.to_string())?;
    // The caller's own loop over the machine: every call, redirect and notification logged.
    let final_state = loop {
        let now = SystemClock.now();
        let at = format!("+{:.1} s", now.since(start).as_secs_f64());
        match follower.poll(now) {
            Action::Send(call) => {
                let answered = follower
                    .send(client, &call, now)
                    .map_err(|e| e.to_string())?;
                step(
                    "",
                    &format!("{at} {}", answered.api.name()),
                    format!(
                        "{} {}; tracker: {:?}",
                        answered.status.letter(),
                        answered.code.as_deref().unwrap_or(""),
                        answered.update
                    ),
                );
            }
            Action::Redirect(r) => step(
                "",
                &format!("{at} redirect shopper"),
                format!("{r:?} (ignored)"),
            ),
            Action::WaitUntil(until) => {
                ensure(Instant::now() < give_up, || {
                    "the tracker did not finish within 20 s".into()
                })?;
                let wait = until.since(now).min(Duration::from_millis(100));
                if let Ok(n) = merchant.notifications.recv_timeout(wait) {
                    let now = SystemClock.now();
                    let at = format!("+{:.1} s", now.since(start).as_secs_f64());
                    match follower.on_notification(now, &n) {
                        Notified::Fed(update) => {
                            step("", &format!("{at} notification"), format!("{update:?}"))
                        }
                        Notified::Mismatch(m) => step("", &format!("{at} notification refused"), m),
                        _ => {}
                    }
                }
            }
            Action::Done(state) => break state,
            other => return Err(format!("unexpected follow-up action {other:?}")),
        }
    };
    let view = sim.payment(&id).ok_or("payment vanished")?;
    step(
        "",
        "tracker decided",
        format!("{final_state:?}; simulator says {}", view.status.as_str()),
    );
    ensure(
        final_state == Final::Cancelled && view.status == PaymentStatus::Cancelled,
        || {
            format!(
                "expected a cancelled payment, got {final_state:?} / {:?}",
                view.status
            )
        },
    )
}

fn pay_request(
    id: &str,
    amount: Amount,
    wallet: &str,
    merchant: &MerchantEndpoint,
) -> Res<PayRequest> {
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("ORDER-{id}"),
            "alipayplus-rs demo order".into(),
            amount,
            Merchant::new("M-DEMO-0001".into()),
        )
    };
    let mut request = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new(wallet.into()),
        cashier_payment_factor(None),
    );
    request.payment_notify_url = Some(merchant.notify_url.clone());
    request.payment_redirect_url = Some(merchant.return_url.clone());
    let expiry = SystemClock.now().unix_millis() / 1000 + 600;
    request.payment_expiry_time =
        Some(DateTime::from_unix(expiry, 8 * 60).map_err(|e| e.to_string())?);
    Ok(request)
}

/// The shopper's browser: one GET, redirects not followed.
fn shopper_visit(url: &str) -> Res<(u16, Option<String>)> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(5)))
            .build(),
    );
    let response = agent
        .get(url)
        .call()
        .map_err(|e| format!("shopper GET {url}: {e}"))?;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((response.status().as_u16(), location))
}

/// The demo merchant's server: `POST /notify` through the cashier notifyPayment handler,
/// `GET /return` for the shopper coming back.
struct MerchantEndpoint {
    notify_url: String,
    return_url: String,
    notifications: mpsc::Receiver<NotifyPaymentRequest>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MerchantEndpoint {
    fn start(config: ClientConfig) -> Res<Self> {
        let server = tiny_http::Server::http("127.0.0.1:0").map_err(|e| e.to_string())?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or("merchant endpoint has no address")?;
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                if let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) {
                    serve(&config, &tx, request);
                }
            }
        });
        Ok(MerchantEndpoint {
            notify_url: format!("http://{addr}/notify"),
            return_url: format!("http://{addr}/return"),
            notifications: rx,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for MerchantEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    config: &ClientConfig,
    tx: &mpsc::Sender<NotifyPaymentRequest>,
    mut http: tiny_http::Request,
) {
    let mut body = Vec::new();
    let _ = http.as_reader().take(1024 * 1024).read_to_end(&mut body);
    if http.url().starts_with("/return") {
        let _ = http.respond(tiny_http::Response::from_string("thank you for your order"));
        return;
    }
    let mut headers = Headers::new();
    for h in http.headers() {
        headers.append(h.field.as_str().as_str(), h.value.as_str());
    }
    let request = Request {
        method: http.method().to_string(),
        uri: http.url().to_owned(),
        headers,
        body,
    };
    let answer = match alipayplus_cashier::handle_notify_payment(config, &request) {
        Ok(accepted) => {
            if !accepted.client_id_is_ours {
                // Only with ALIPAYPLUS_FOREIGN_CLIENT_ID=report; refused otherwise.
                eprintln!(
                    "merchant: notification signed for Client-Id {:?}, not ours (reported)",
                    accepted.client_id
                );
            }
            // Store first, then acknowledge (the receiver is the demo's order book).
            let _ = tx.send(accepted.body);
            accepted.answer
        }
        Err(refused) => {
            eprintln!("merchant: refused a notification: {}", refused.error);
            refused.answer
        }
    };
    let mut response = tiny_http::Response::from_data(answer.body).with_status_code(answer.status);
    for (name, value) in answer.headers.iter() {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = http.respond(response);
}
