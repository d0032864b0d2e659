//! `cargo xtask load --flows N --concurrency C [--seed S]`: a load and fault run with money
//! invariants (issue 14).
//!
//! Drives N complete flows, Cashier and Auto Debit mixed, through `alipayplus-ureq` against the
//! simulator on loopback, C at a time. Every flow gets faults drawn from the seed and aimed at
//! its own `paymentRequestId` (timeouts, answers lost after the simulator committed, `U`, 5xx,
//! unsigned, badly signed and tampered answers, on pay, inquiry, cancel and refund), and the
//! notifications are damaged on and off for the whole run (duplicates, late, held and released
//! out of order, badly signed first attempts). The merchant's listener receives them through
//! the client's inbound handler and hands them to the flows.
//!
//! Cashier flows: the shopper approves, declines or abandons (the tracker then cancels after
//! the window); a paid order is then refunded (in part, in full, in two parts) or reversed by a
//! merchant cancel; a failed order is paid again with a new id when the tracker allows it.
//! Auto Debit flows: one binding made at the start, then agreement payments with the same
//! faults and refunds.
//!
//! Time-bound rules run on a shared protocol clock that runs [`SCALE`] times faster than real
//! time, starting at 23:50 UTC+8 (so the early payments meet the T+1 cancel deadline at 00:15):
//! the simulator and the client read the same clock, and the tracker policies are the real
//! ones, with `pay_in_flight` covering the scaled transport timeout.
//!
//! At the end it checks, per merchant order and net of cancels and refunds, the simulator's
//! books against the client's records; it prints flows per second, p50/p99 per API and how
//! close the round trips came to what RSA allows on this machine (measured in the same run);
//! exits non-zero if an invariant broke.
//!
//! `--store sqlite:PATH`: the same flows with the follow-ups kept in alipayplus-store and
//! driven by its resuming worker (each send stored before it leaves, each answer before the
//! next send), and every verified notification stored before it is acknowledged; the checks
//! add the store's invariants (no follow-up lost, no acknowledged notification missing).
//! `--crash` (with `--store`): the merchant side runs as a child process killed and restarted
//! (see `load_crash`).
//!
//! The run is a release build: started from a debug build (`cargo xtask load`), it re-runs
//! itself with `cargo run --release`.

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use alipayplus_autodebit::payment::RESULT_WINDOW;
use alipayplus_autodebit::{
    AuthClient, AuthState, AuthorizationUrls, Binding, TokenSet, agreement_pay_request,
    checked_agreement_pay as agreement_pay,
};
use alipayplus_cashier::cashier::{cashier_payment_factor, checked_pay as cashier_pay_request};
use alipayplus_client::cancel::cancel_request;
use alipayplus_client::client::{Client, ClientConfig, Host, Outcome};
use alipayplus_client::driver::{Action, FollowerState, Notified, PaymentFollower};
use alipayplus_client::inquiry::PaymentRef;
use alipayplus_client::refund::refund_request;
use alipayplus_client::time::Timestamp;
use alipayplus_client::tracker::{Final, PaymentTracker, TrackerPolicy};
use alipayplus_client::transport::{Headers, Request, Response, Transport};
use alipayplus_sign::{PublicKeys, message};
use alipayplus_sim::{
    AutoDebitConfig, Fault, FaultRule, NotifyFaults, PaymentStatus, SimConfig, Simulator, keys,
};
use alipayplus_store::worker::Event;
use alipayplus_store::{Kind, Options as StoreOptions, SealingKey, Source, Store, Worker};
use alipayplus_types::{
    Amount, Currency, DateTime, Env, HasResult, Merchant, NotifyPaymentRequest, Order, PayRequest,
    PaymentMethod, Secret, TerminalType,
};
use alipayplus_ureq::UreqTransport;

pub(crate) type Res<T> = Result<T, String>;

/// Protocol time runs this many times faster than real time.
pub(crate) const SCALE: u32 = 120;
/// The client's whole-request timeout (real time): 48 s of protocol time.
pub(crate) const TIMEOUT: Duration = Duration::from_millis(400);
/// A flow still open after this much real time is stopped (and counted without a final state).
const FLOW_GUARD: Duration = Duration::from_secs(120);
/// How long (real time) a pay may still wait in the simulator's queue after the client gave
/// up on it: see [`scaled`].
const LANDING: Duration = Duration::from_secs(5);

const USAGE: &str = "usage: cargo xtask load --flows N --concurrency C [--seed S] [--store sqlite:PATH|postgres://URL [--crash [--workers K]]]";

pub(crate) struct Args {
    pub(crate) flows: usize,
    pub(crate) concurrency: usize,
    pub(crate) seed: u64,
    /// `--store sqlite:PATH`: the follow-ups and notifications go through alipayplus-store.
    pub(crate) store: Option<String>,
    /// `--crash`: the merchant side runs as a child process, killed and restarted.
    pub(crate) crash: bool,
    /// `--workers K` (with `--crash`): K merchant processes share the store through leases
    /// (`load_workers`); 1: the single child of `load_crash`.
    pub(crate) workers: usize,
    /// A merchant child's share of the flows: those `n` with `n % of == index`.
    pub(crate) part: (usize, usize),
}

fn parse(args: &[String]) -> Res<Args> {
    let mut out = Args {
        flows: 0,
        concurrency: 0,
        seed: 1,
        store: None,
        crash: false,
        workers: 1,
        part: (0, 1),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--crash" {
            out.crash = true;
            continue;
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--flows" => out.flows = value.parse().map_err(bad)?,
            "--concurrency" => out.concurrency = value.parse().map_err(bad)?,
            "--seed" => out.seed = value.parse().map_err(bad)?,
            "--store"
                if value.starts_with("sqlite:")
                    || value.starts_with("postgres://")
                    || value.starts_with("postgresql://") =>
            {
                out.store = Some(value.clone());
            }
            "--store" => {
                return Err(format!(
                    "--store {value}: use sqlite:PATH or postgres://URL"
                ));
            }
            "--workers" => out.workers = value.parse().map_err(bad)?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if out.flows == 0 || out.concurrency == 0 {
        return Err("--flows and --concurrency are required (at least 1)".into());
    }
    if out.crash && out.store.is_none() {
        return Err("--crash needs --store sqlite:PATH (the merchant side resumes from it)".into());
    }
    if out.workers == 0 || (out.workers > 1 && !out.crash) {
        return Err("--workers K needs --crash (K merchant processes, at least 1)".into());
    }
    Ok(out)
}

/// Runs the load; the exit code says whether every invariant held. `run_mode` runs the
/// parsed arguments (the in-process load, or the crash modes built on this module).
pub fn main(args: &[String], run_mode: fn(&Args) -> Res<bool>) -> ExitCode {
    if cfg!(debug_assertions) {
        // RSA in a debug build is tens of times slower: the run is a release build.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["run", "--release", "--quiet", "-p", "xtask", "--", "load"])
            .args(args)
            .status();
        return match status {
            Ok(s) if s.success() => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("load: could not start the release build: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load: {e}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = run_mode(&args);
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("\nload FAILED: an invariant broke (see above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("\nload FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// splitmix64: a small seeded generator (the run's faults and choices follow the seed).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The protocol clock of the run, shared by the simulator and the client.
#[derive(Clone)]
pub(crate) struct ScaledClock {
    pub(crate) base_ms: i64,
    pub(crate) start: Instant,
}

impl ScaledClock {
    fn now_ms(&self) -> i64 {
        let real = i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.base_ms
            .saturating_add(real.saturating_mul(i64::from(SCALE)))
    }

    /// Real time to wait until protocol time `until`.
    fn real_until(&self, until: Timestamp) -> Duration {
        let ms = until.unix_millis().saturating_sub(self.now_ms()).max(0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(0) / u64::from(SCALE))
    }
}

impl alipayplus_sim::clock::Clock for ScaledClock {
    fn now_unix_millis(&self) -> i64 {
        self.now_ms()
    }
}

impl alipayplus_client::time::Clock for ScaledClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.now_ms())
    }
}

/// Latencies per API (microseconds), recorded by the transport.
#[derive(Default)]
struct Metrics {
    latencies: Mutex<HashMap<String, Vec<u32>>>,
    /// Answers that came back signed (a full round trip: four RSA operations).
    signed: AtomicU64,
}

impl Metrics {
    fn record(&self, uri: &str, took: Duration) {
        let api = uri.rsplit('/').next().unwrap_or(uri).to_owned();
        let us = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        if let Ok(mut map) = self.latencies.lock() {
            map.entry(api).or_default().push(us);
        }
    }
}

/// Notifications verified by the merchant's listener, handed to the flow of their payment
/// (with a store: stored first, the flow only woken).
#[derive(Default)]
pub(crate) struct Inbox {
    pub(crate) routes: Mutex<HashMap<String, mpsc::Sender<NotifyPaymentRequest>>>,
    pub(crate) accepted: AtomicUsize,
    pub(crate) refused: AtomicUsize,
    /// `--store`: each verified notification is stored before it is acknowledged.
    pub(crate) store: Option<Arc<Store>>,
    /// `--crash` child: stop for good (to be killed) between storing the n-th notification and
    /// acknowledging it (0: never).
    pub(crate) pause_at: usize,
}

/// How one payment (one `paymentRequestId`) of an order ended on the client's side.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    id: String,
    final_state: Option<Final>,
    /// Refunded, as the client was told (`S` refund answers).
    refunded: u64,
    /// A refund whose outcome stayed unknown (with the reason).
    refund_unknown: Option<String>,
    /// Reversed by a merchant cancel answered `S`.
    reversed: bool,
}

impl Attempt {
    /// A payment with this final state, not refunded nor reversed.
    pub(crate) fn of(id: String, final_state: Option<Final>) -> Self {
        Attempt {
            id,
            final_state,
            refunded: 0,
            refund_unknown: None,
            reversed: false,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct OrderRecord {
    pub(crate) order: String,
    pub(crate) auto_debit: bool,
    pub(crate) attempts: Vec<Attempt>,
    pub(crate) mismatches: u32,
}

/// The simulator as the merchant side reaches it: in this process, or over its control API
/// (the `--crash` child; the shopper and the aimed faults go through HTTP).
pub(crate) enum Sim<'a> {
    Local(&'a Simulator),
    Remote(String),
}

impl Sim<'_> {
    fn control(base: &str, path: &str, body: &str) -> Res<()> {
        ureq::post(format!("{base}{path}"))
            .header("Content-Type", "application/json")
            .send(body)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn approve(&self, id: &str) -> Res<()> {
        match self {
            Sim::Local(sim) => sim.approve(id).map(|_| ()).map_err(|e| e.to_string()),
            Sim::Remote(base) => Self::control(
                base,
                "/sim/shopper/approve",
                &serde_json::json!({ "id": id }).to_string(),
            ),
        }
    }

    fn decline(&self, id: &str, code: &str) -> Res<()> {
        match self {
            Sim::Local(sim) => sim.decline(id, code).map(|_| ()).map_err(|e| e.to_string()),
            Sim::Remote(base) => Self::control(
                base,
                "/sim/shopper/decline",
                &serde_json::json!({ "id": id, "code": code }).to_string(),
            ),
        }
    }

    pub(crate) fn add_fault(&self, rule: FaultRule) {
        match self {
            Sim::Local(sim) => sim.add_fault(rule),
            Sim::Remote(base) => {
                let body = serde_json::to_string(&rule).unwrap_or_default();
                if let Err(e) = Self::control(base, "/sim/faults", &body) {
                    eprintln!("  could not add a fault: {e}");
                }
            }
        }
    }

    fn remove_faults_for(&self, id: &str) {
        // Remote: the rules hit a given number of calls; what is left of them hits nothing
        // once the payment is final.
        if let Sim::Local(sim) = self {
            sim.remove_faults_for(id);
        }
    }
}

/// The store side of a `--store` run.
pub(crate) struct Stored<'a, T> {
    pub(crate) store: &'a Store,
    pub(crate) worker: &'a Worker<'a, T>,
    /// Refunds and reversals after a paid order (not kept in the store: off in `--crash`).
    pub(crate) refunds: bool,
}

pub(crate) struct Ctx<'a, T: Transport> {
    pub(crate) client: &'a Client<T>,
    pub(crate) sim: Sim<'a>,
    pub(crate) clock: &'a ScaledClock,
    pub(crate) inbox: &'a Inbox,
    pub(crate) notify_url: String,
    pub(crate) token: Secret,
    pub(crate) calls: &'a AtomicU64,
    pub(crate) stored: Option<Stored<'a, T>>,
}

/// The follow-up kinds of the load (the names agreed for the flows).
pub(crate) const CASHIER_PAY: Kind = Kind::new("cashier.pay");
pub(crate) const AUTODEBIT_PAY: Kind = Kind::holding_secrets("autodebit.pay");
pub(crate) const KINDS: [Kind; 2] = [CASHIER_PAY, AUTODEBIT_PAY];

/// The sealing key of the load's stores (a test key: the tokens are the simulator's).
pub(crate) fn sealing_key() -> SealingKey {
    SealingKey::from_bytes([0x4c; 32])
}

pub(crate) fn run(args: &Args) -> Res<bool> {
    let base = Timestamp::parse_iso8601("2025-02-20T23:50:00+08:00").map_err(|e| e.to_string())?;
    let clock = ScaledClock {
        base_ms: base.unix_millis(),
        start: Instant::now(),
    };
    let mut config = SimConfig::bundled()
        .map_err(|e| e.to_string())?
        .with_fast_notifications(8, Duration::from_millis(150))
        .with_clock(clock.clone());
    // Delayed answers hold a worker each.
    config.workers = args.concurrency * 2 + 8;
    let sim = Simulator::start(config).map_err(|e| e.to_string())?;
    let store = match &args.store {
        Some(url) => Some(Arc::new(open_store(url, args.seed)?)),
        None => None,
    };
    let inbox = Arc::new(Inbox {
        store: store.clone(),
        ..Inbox::default()
    });
    let listener = Listener::start(
        "127.0.0.1:0",
        client_config(&sim, &clock)?,
        Arc::clone(&inbox),
    )?;
    sim.set_autodebit_config(AutoDebitConfig {
        access_token_ttl_secs: 365 * 86_400,
        ..AutoDebitConfig::default()
    });

    // RSA costs measured before the load (the machine is shared: measured in the same run).
    let rsa = rsa_costs()?;
    let metrics = Metrics::default();
    let ureq = UreqTransport::builder()
        .read_timeout(TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let transport = |request: Request| -> Result<Response, _> {
        let uri = request.uri.clone();
        let started = Instant::now();
        let answer = ureq.send(request);
        metrics.record(&uri, started.elapsed());
        if let Ok(r) = &answer
            && r.status == 200
            && r.headers.get("signature").is_some()
        {
            // Signed by the simulator: both sides signed and verified.
            metrics.signed.fetch_add(1, Ordering::Relaxed);
        }
        answer
    };
    let client = Client::new(client_config(&sim, &clock)?, transport);
    let token = bind(&client, &sim)?;
    println!(
        "load: {} flows, {} at a time, seed {}; simulator {} (protocol clock x{SCALE} from {}){}",
        args.flows,
        args.concurrency,
        args.seed,
        sim.base_url(),
        base.format(alipayplus_client::time::TimeFormat::Offset(480)),
        match &args.store {
            Some(url) => format!("; follow-ups and notifications in {url}"),
            None => String::new(),
        }
    );

    let calls = AtomicU64::new(0);
    let worker = store.as_deref().map(|s| Worker::new(s, &client, &KINDS));
    let ctx = Ctx {
        client: &client,
        sim: Sim::Local(&sim),
        clock: &clock,
        inbox: &inbox,
        notify_url: listener.url.clone(),
        token,
        calls: &calls,
        stored: match (&store, &worker) {
            (Some(store), Some(worker)) => Some(Stored {
                store,
                worker,
                refunds: true,
            }),
            _ => None,
        },
    };
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let records = std::thread::scope(|s| {
        s.spawn(|| notify_faults(&sim, args.seed, &done));
        let records = run_flows(&ctx, args);
        done.store(true, Ordering::SeqCst);
        records
    });
    let elapsed = started.elapsed();
    // Let every notification finish: faults off, held ones out, re-sends done.
    sim.set_notify_faults(NotifyFaults::default());
    sim.release_notifications();
    // The simulator delivers notifications from one thread: a backlog built under load drains
    // now (re-sends included).
    let draining = Instant::now();
    let idle = sim.wait_notifications_idle(Duration::from_secs(300));
    println!(
        "notifications: queue drained {:.1} s after the last flow ({})",
        draining.elapsed().as_secs_f64(),
        if idle { "idle" } else { "NOT idle" }
    );
    let mut ok = check(&sim, &records, idle);
    if let Some(store) = &store {
        ok &= check_store(&sim, store, &records)?;
    }
    println!(
        "merchant listener: {} notifications accepted and acknowledged, {} refused (bad signatures)",
        inbox.accepted.load(Ordering::Relaxed),
        inbox.refused.load(Ordering::Relaxed)
    );
    report(args, elapsed, &metrics, &sim, rsa)?;
    drop(listener);
    Ok(ok)
}

/// Notification faults change every 200 ms; held ones are released (newest first).
pub(crate) fn notify_faults(sim: &Simulator, seed: u64, done: &AtomicBool) {
    let mut rng = Rng(seed ^ 0x5EED);
    while !done.load(Ordering::SeqCst) {
        sim.set_notify_faults(NotifyFaults {
            duplicates: u32::try_from(rng.below(3)).unwrap_or(0),
            late_ms: rng.below(300),
            hold: rng.chance(25),
            bad_signature_first: rng.chance(30),
        });
        std::thread::sleep(Duration::from_millis(200));
        sim.release_notifications();
    }
}

/// The flows, `concurrency` at a time; each flow's record.
pub(crate) fn run_flows<T: Transport + Sync>(ctx: &Ctx<'_, T>, args: &Args) -> Vec<OrderRecord> {
    let next = AtomicUsize::new(0);
    let records = Mutex::new(Vec::with_capacity(args.flows));
    std::thread::scope(|s| {
        for _ in 0..args.concurrency {
            s.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= args.flows {
                        break;
                    }
                    if n % args.part.1 != args.part.0 {
                        continue; // another merchant process's flow
                    }
                    let record = flow(ctx, args.seed, n);
                    if let Ok(mut r) = records.lock() {
                        r.push(record);
                    }
                    if (n + 1).is_multiple_of(1000) {
                        println!("  {} flows started", n + 1);
                    }
                }
            });
        }
    });
    records.into_inner().unwrap_or_default()
}

/// Opens the run's store; refuses one holding this seed's flows already (use a fresh PATH).
pub(crate) fn open_store(url: &str, seed: u64) -> Res<Store> {
    let store = Store::open(url, StoreOptions::default().with_sealing_key(sealing_key()))
        .map_err(|e| format!("store {url}: {e}"))?;
    let first = format!("LOAD-{seed}-0-A0");
    for kind in KINDS {
        if store
            .load::<serde_json::Value>(kind, &first)
            .map_err(|e| e.to_string())?
            .is_some()
        {
            return Err(format!(
                "store {url} already holds the flows of seed {seed}: give a fresh PATH"
            ));
        }
    }
    Ok(store)
}

/// The store's invariants: every payment the simulator knows is a follow-up in the store,
/// final (or explicitly unresolved); every notification acknowledged is in the store.
pub(crate) fn check_store(sim: &Simulator, store: &Store, records: &[OrderRecord]) -> Res<bool> {
    let mut lost = 0u32;
    let mut ids: Vec<String> = records
        .iter()
        .flat_map(|r| r.attempts.iter().map(|a| a.id.clone()))
        .collect();
    ids.extend(sim.payments().into_iter().map(|p| p.payment_request_id));
    ids.sort();
    ids.dedup();
    for id in &ids {
        let mut found = false;
        for kind in KINDS {
            if let Some(row) = store
                .load::<FollowerState>(kind, id)
                .map_err(|e| e.to_string())?
            {
                found = true;
                if !row.is_final || row.state.tracker().final_state().is_none() {
                    lost += 1;
                    eprintln!("  {id}: follow-up not final in the store");
                }
            }
        }
        if !found {
            lost += 1;
            eprintln!("  {id}: no follow-up in the store");
        }
    }
    let mut missing = 0u32;
    let acknowledged: Vec<_> = sim
        .notifications()
        .into_iter()
        .filter(|n| n.acknowledged)
        .collect();
    for n in &acknowledged {
        let stored = store
            .inbound(Source::NotifyPayment, &n.payment_request_id)
            .map_err(|e| e.to_string())?;
        if stored.is_none() {
            missing += 1;
            eprintln!(
                "  notification for {} acknowledged but not in the store",
                n.payment_request_id
            );
        }
    }
    let stray = store.stray_inbox(10_000).map_err(|e| e.to_string())?.len();
    println!(
        "store: {} follow-ups, {} notifications acknowledged ({stray} arrived after their follow-up was final)",
        ids.len(),
        acknowledged.len()
    );
    let rows = [
        (
            "follow-ups lost (not in the store, or not final nor explicitly unresolved)",
            lost,
        ),
        ("acknowledged notifications missing from the store", missing),
    ];
    for (what, n) in rows {
        println!(
            "  {n:>6}  {what}{}",
            if n == 0 { "" } else { "  <-- BROKEN" }
        );
    }
    Ok(rows.iter().all(|(_, n)| *n == 0))
}

pub(crate) fn client_config(sim: &Simulator, clock: &ScaledClock) -> Res<ClientConfig> {
    let key = keys::acqp_private_key().map_err(|e| e.to_string())?;
    let alipay = keys::sim_public_key().map_err(|e| e.to_string())?;
    let host = Host::custom(sim.base_url()).map_err(|e| e.to_string())?;
    ClientConfig::new(
        sim.client_id(),
        host,
        key,
        PublicKeys::single(1, alipay),
        clock.clone(),
    )
    .map_err(|e| e.to_string())
}

/// One Auto Debit binding for the run (made before the faults start): its access token.
pub(crate) fn bind<T: Transport>(client: &Client<T>, sim: &Simulator) -> Res<Secret> {
    let merchant = AuthClient::new("M-LOAD-0001", "Load Test Merchant");
    let mut binding = Binding::new(
        &merchant.id,
        "https://load-merchant.example/auto-debit/return",
        AuthState::from_random_bytes([7; 16]),
    );
    let prepared = client
        .call(&binding.prepare_request(&merchant, TerminalType::Web, None))
        .map_err(|e| e.to_string())?;
    let url = prepared
        .body()
        .filter(|_| prepared.is_success())
        .and_then(|b| {
            AuthorizationUrls::from_response(b)
                .for_terminal(&TerminalType::Web)
                .map(String::from)
        })
        .ok_or("prepare returned no authorization URL")?;
    let consent = sim.consent(&url).map_err(|e| e.to_string())?;
    binding
        .on_redirect(&consent.redirect_url)
        .map_err(|e| e.to_string())?;
    let exchange = binding.apply_token_request().map_err(|e| e.to_string())?;
    let tokens = client.call(&exchange).map_err(|e| e.to_string())?;
    let set = tokens
        .body()
        .filter(|_| tokens.is_success())
        .map(TokenSet::from_apply_token)
        .ok_or("applyToken did not succeed")?
        .map_err(|e| e.to_string())?;
    Ok(set.access_token)
}

/// The kind a follow-up is stored under, if it is stored.
pub(crate) fn stored_kind(store: &Store, id: &str) -> Option<Kind> {
    KINDS.into_iter().find(|k| {
        store
            .load::<serde_json::Value>(*k, id)
            .ok()
            .flatten()
            .is_some()
    })
}

/// Faults aimed at one payment: each API hit with some chance, once or twice (drawn always,
/// added when `add`).
fn aim_faults(sim: &Sim<'_>, rng: &mut Rng, id: &str, add: bool) {
    for api in ["pay", "inquiryPayment", "cancelPayment", "refund"] {
        if !rng.chance(35) {
            continue;
        }
        let fault = match rng.below(7) {
            0 => Fault::Delay {
                ms: u64::try_from(TIMEOUT.as_millis()).unwrap_or(400) + 150,
            },
            1 => Fault::UnknownResult { code: None },
            2 => Fault::HttpStatus {
                status: [500, 502, 503][usize::try_from(rng.below(3)).unwrap_or(0)],
            },
            3 => Fault::Unsigned,
            4 => Fault::BadSignature,
            5 => Fault::TamperedBody,
            _ => Fault::HttpStatus { status: 504 },
        };
        let mut rule = FaultRule::once(api, fault)
            .for_payment(id)
            .times(1 + u32::try_from(rng.below(2)).unwrap_or(0));
        // Mostly the hard case: the simulator committed, the answer is lost or damaged.
        if rng.chance(30) {
            rule = rule.unprocessed();
        }
        if add {
            sim.add_fault(rule);
        }
    }
}

/// A product's policy on the scaled clock. The late-landing rule is the one that meets real
/// time: a pay can wait in the simulator's accept queue (real time, long on a busy machine)
/// while the protocol clock runs [`SCALE`] times faster, so the time a pay may be in flight
/// and the margin after it are given in real time: the transport timeout, and [`LANDING`].
/// (The first 10,000-flow run, with the default 60 s protocol margin = 0.5 s real, caught a
/// pay that landed after it: a payment closed as `ORDER_NOT_EXIST` that the simulator then
/// charged.)
fn scaled(mut policy: TrackerPolicy) -> TrackerPolicy {
    policy.pay_in_flight = TIMEOUT * SCALE;
    policy.late_landing_margin = LANDING * SCALE;
    policy
}

/// What the shopper does with a Cashier payment.
#[derive(Clone, Copy, PartialEq)]
enum Shopper {
    /// Approves this long (protocol time) after the redirect.
    Approve(Duration),
    /// Declines (balance) after this long.
    Decline(Duration),
    /// Never comes back: the window ends, the tracker cancels.
    Abandon,
}

fn flow<T: Transport>(ctx: &Ctx<'_, T>, seed: u64, n: usize) -> OrderRecord {
    let mut rng = Rng(seed.wrapping_mul(0x1000_0000_01B3) ^ (n as u64));
    let auto_debit = rng.chance(40);
    let order = format!("LOAD-{seed}-{n}");
    let amount = 100 + rng.below(99_900);
    let mut record = OrderRecord {
        order: order.clone(),
        auto_debit,
        attempts: Vec::new(),
        mismatches: 0,
    };
    // A failed order is paid again with a new id, once, when the tracker allows it.
    for attempt in 0..2 {
        let id = format!("{order}-A{attempt}");
        // Resumed after a restart: its faults were aimed when it began (drawn again only to
        // keep the flow's draws in step).
        let resumed = ctx
            .stored
            .as_ref()
            .is_some_and(|s| stored_kind(s.store, &id).is_some());
        aim_faults(&ctx.sim, &mut rng, &id, !resumed);
        let (tx, rx) = mpsc::channel();
        if let Ok(mut routes) = ctx.inbox.routes.lock() {
            routes.insert(id.clone(), tx);
        }
        let shopper = match rng.below(10) {
            _ if attempt > 0 => Shopper::Approve(Duration::from_secs(5)),
            0..=5 => Shopper::Approve(Duration::from_secs(rng.below(60))),
            6 | 7 => Shopper::Decline(Duration::from_secs(rng.below(60))),
            _ => Shopper::Abandon,
        };
        let result = pay(ctx, &mut rng, &order, &id, amount, auto_debit, shopper, &rx);
        let (final_state, mismatches) = match result {
            Ok(r) => r,
            Err(e) => {
                eprintln!("  {id}: {e}");
                (None, 1)
            }
        };
        record.mismatches += mismatches;
        let mut a = Attempt {
            id: id.clone(),
            final_state: final_state.clone(),
            refunded: 0,
            refund_unknown: None,
            reversed: false,
        };
        let refunds = ctx.stored.as_ref().is_none_or(|s| s.refunds);
        if final_state == Some(Final::Succeeded) && refunds {
            after_paid(ctx, &mut rng, &mut a, amount);
        }
        ctx.sim.remove_faults_for(&id);
        // Late copies of its notification are still acknowledged, just not handed on.
        if let Ok(mut routes) = ctx.inbox.routes.lock() {
            routes.remove(&id);
        }
        let retry = final_state
            .as_ref()
            .is_some_and(|f| f.may_retry_with_new_id() && !matches!(f, Final::Cancelled));
        record.attempts.push(a);
        if !retry {
            break;
        }
    }
    record
}

/// Sends pay and follows it to a final state; returns it and the notifications that did not
/// match the order.
#[allow(clippy::too_many_arguments)]
fn pay<T: Transport>(
    ctx: &Ctx<'_, T>,
    rng: &mut Rng,
    order_id: &str,
    id: &str,
    minor: u64,
    auto_debit: bool,
    shopper: Shopper,
    rx: &mpsc::Receiver<NotifyPaymentRequest>,
) -> Res<(Option<Final>, u32)> {
    let clock = ctx.clock;
    let now = alipayplus_client::time::Clock::now(clock);
    let amount = Amount::new(Currency::USD, minor);
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            order_id.into(),
            "load test order".into(),
            amount,
            Merchant::new("M-LOAD-0001".into()),
        )
    };
    let mut follower = if auto_debit {
        let mut request = agreement_pay_request(id, order, amount, &ctx.token);
        request.payment_notify_url = Some(ctx.notify_url.clone());
        let request = agreement_pay(&request).map_err(|e| e.to_string())?;
        let tracker = PaymentTracker::new(
            id,
            now,
            now + RESULT_WINDOW,
            scaled(TrackerPolicy::auto_debit()),
        );
        PaymentFollower::new(request, tracker).map_err(|e| e.to_string())?
    } else {
        // Windows of 2 to 5 minutes, some of 40 (the early ones meet the T+1 deadline first).
        let window = if rng.chance(10) {
            40 * 60
        } else {
            120 + rng.below(180)
        };
        let mut request = PayRequest::new(
            id.into(),
            order,
            amount,
            PaymentMethod::new("SIMWALLET".into()),
            cashier_payment_factor(None),
        );
        request.payment_notify_url = Some(ctx.notify_url.clone());
        request.payment_redirect_url = Some(ctx.notify_url.replace("/notify", "/return"));
        let expiry = now.unix_millis() / 1000 + i64::try_from(window).unwrap_or(120);
        request.payment_expiry_time =
            Some(DateTime::from_unix(expiry, 8 * 60).map_err(|e| e.to_string())?);
        let request = cashier_pay_request(&request).map_err(|e| e.to_string())?;
        let tracker = PaymentTracker::for_pay(&request, now, scaled(TrackerPolicy::cashier()));
        PaymentFollower::new(request, tracker).map_err(|e| e.to_string())?
    };
    if let Some(stored) = &ctx.stored {
        let kind = if auto_debit {
            AUTODEBIT_PAY
        } else {
            CASHIER_PAY
        };
        return pay_stored(ctx, stored, kind, &follower, shopper, rx);
    }
    let guard = Instant::now() + FLOW_GUARD;
    let mut shopper_at: Option<Timestamp> = None;
    let mut mismatches = 0;
    // The caller's own loop over the machine: the shopper acts at its time, notifications
    // come from the listener while waiting.
    let final_state = loop {
        let now = alipayplus_client::time::Clock::now(clock);
        match follower.poll(now) {
            Action::Send(call) => {
                follower
                    .send(ctx.client, &call, now)
                    .map_err(|e| e.to_string())?;
                ctx.calls.fetch_add(1, Ordering::Relaxed);
            }
            Action::Redirect(_) if shopper_at.is_none() => {
                shopper_at = Some(match shopper {
                    Shopper::Approve(d) | Shopper::Decline(d) => now + d,
                    Shopper::Abandon => Timestamp::from_unix_millis(i64::MAX),
                });
            }
            Action::Redirect(_) => {}
            Action::WaitUntil(until) => {
                if Instant::now() >= guard {
                    break None;
                }
                if shopper_at.is_some_and(|at| now >= at) {
                    // Once only.
                    shopper_at = Some(Timestamp::from_unix_millis(i64::MAX));
                    // The payment may have closed meanwhile: the wallet then refuses.
                    let _ = match shopper {
                        Shopper::Approve(_) => ctx.sim.approve(id),
                        Shopper::Decline(_) => ctx.sim.decline(id, "USER_BALANCE_NOT_ENOUGH"),
                        Shopper::Abandon => continue,
                    };
                    continue;
                }
                let mut wait = clock.real_until(until);
                if let Some(at) = shopper_at {
                    wait = wait.min(clock.real_until(at));
                }
                if let Ok(n) = rx.recv_timeout(wait) {
                    let now = alipayplus_client::time::Clock::now(clock);
                    if let Notified::Mismatch(_) = follower.on_notification(now, &n) {
                        mismatches += 1;
                    }
                }
            }
            Action::Done(state) => break Some(state),
            other => return Err(format!("unexpected follow-up action {other:?}")),
        }
    };
    Ok((final_state, mismatches))
}

/// [`pay`] through the store: the worker drives the follow-up (each send stored before it
/// leaves, each answer before the next send, notifications read from the store's inbox); this
/// loop plays the shopper and waits. A follow-up found in the store (a restart) is resumed
/// from it, not begun again.
fn pay_stored<T: Transport>(
    ctx: &Ctx<'_, T>,
    stored: &Stored<'_, T>,
    kind: Kind,
    follower: &PaymentFollower,
    shopper: Shopper,
    rx: &mpsc::Receiver<NotifyPaymentRequest>,
) -> Res<(Option<Final>, u32)> {
    let clock = ctx.clock;
    let id = follower.payment_request_id();
    let now = alipayplus_client::time::Clock::now(clock);
    let shopper_time = |now: Timestamp| match shopper {
        Shopper::Approve(d) | Shopper::Decline(d) => now + d,
        Shopper::Abandon => Timestamp::from_unix_millis(i64::MAX),
    };
    let mut shopper_at = None;
    match stored_final(stored.store, kind, id)? {
        Some(Some(state)) => return Ok((Some(state), 0)),
        // Resumed: the redirect was given before the restart; the shopper acts from now.
        Some(None) => shopper_at = Some(shopper_time(now)),
        None => {
            stored
                .worker
                .begin(kind, follower)
                .map_err(|e| e.to_string())?;
        }
    }
    let guard = Instant::now() + FLOW_GUARD;
    let mut mismatches = 0;
    let mut next_due = now;
    loop {
        let driven = stored.worker.drive(kind, id).map_err(|e| e.to_string())?;
        // Driven by another merchant process (its lease): look again shortly.
        let mut floor = Duration::from_millis(1);
        if driven.is_none() {
            floor = Duration::from_millis(20);
        }
        if let Some(d) = driven {
            for event in &d.events {
                match event {
                    Event::Called(_) => {
                        ctx.calls.fetch_add(1, Ordering::Relaxed);
                    }
                    Event::Redirect(_) if shopper_at.is_none() => {
                        shopper_at = Some(shopper_time(alipayplus_client::time::Clock::now(clock)));
                    }
                    Event::Mismatch(_) | Event::Unreadable(_) => mismatches += 1,
                    _ => {}
                }
            }
            if let Some(state) = d.final_state {
                return Ok((Some(state), mismatches));
            }
            next_due = d.next_due.unwrap_or(next_due);
        } else if let Some(Some(state)) = stored_final(stored.store, kind, id)? {
            return Ok((Some(state), mismatches));
        }
        if Instant::now() >= guard {
            return Ok((None, mismatches));
        }
        let now = alipayplus_client::time::Clock::now(clock);
        if shopper_at.is_some_and(|at| now >= at) {
            shopper_at = Some(Timestamp::from_unix_millis(i64::MAX));
            // The payment may have closed meanwhile: the wallet then refuses.
            let _ = match shopper {
                Shopper::Approve(_) => ctx.sim.approve(id),
                Shopper::Decline(_) => ctx.sim.decline(id, "USER_BALANCE_NOT_ENOUGH"),
                Shopper::Abandon => Ok(()),
            };
            continue;
        }
        let mut wait = clock.real_until(next_due);
        if let Some(at) = shopper_at {
            wait = wait.min(clock.real_until(at));
        }
        // A notification stored by the listener wakes the follow-up (the worker reads it from
        // the store, not from this channel).
        let _ = rx.recv_timeout(wait.max(floor));
    }
}

/// `None`: not stored; `Some(None)`: stored, not final; `Some(Some(state))`: final.
pub(crate) fn stored_final(store: &Store, kind: Kind, id: &str) -> Res<Option<Option<Final>>> {
    let row = store
        .load::<FollowerState>(kind, id)
        .map_err(|e| e.to_string())?;
    Ok(row.map(|r| {
        if r.is_final {
            r.state.tracker().final_state().cloned()
        } else {
            None
        }
    }))
}

/// Outcome letter of a call: `S`, `F` or `U` (`U` also for no verified answer).
fn letter<R: HasResult>(outcome: &Outcome<R>) -> char {
    match outcome {
        Outcome::Success(_) => 'S',
        Outcome::Failure(_) => 'F',
        _ => 'U',
    }
}

/// A paid order: refunded (in part, in full, in two parts), reversed by a cancel, or kept.
fn after_paid<T: Transport>(ctx: &Ctx<'_, T>, rng: &mut Rng, a: &mut Attempt, amount: u64) {
    let by_id = PaymentRef::RequestId(a.id.clone());
    match rng.below(10) {
        0 => {
            // Merchant cancel (reversal) of the paid order, retried until answered.
            for _ in 0..20 {
                let Ok(o) = ctx.client.call(&cancel_request(&by_id)) else {
                    continue;
                };
                ctx.calls.fetch_add(1, Ordering::Relaxed);
                match letter(&o) {
                    'S' => {
                        a.reversed = true;
                        return;
                    }
                    'F' => return,
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        1..=5 => {
            let parts: Vec<u64> = match rng.below(3) {
                0 => vec![amount],
                1 => vec![1 + rng.below(amount - 1)],
                _ => {
                    let first = 1 + rng.below(amount - 1);
                    vec![first, amount - first]
                }
            };
            for (k, part) in parts.into_iter().enumerate() {
                let refund_id = format!("{}-R{k}", a.id);
                let request = refund_request(&by_id, &refund_id, Amount::new(Currency::USD, part));
                let mut answered = false;
                // The same refundRequestId until answered (an unknown refund may exist).
                for _ in 0..20 {
                    let Ok(o) = ctx.client.call(&request) else {
                        continue;
                    };
                    ctx.calls.fetch_add(1, Ordering::Relaxed);
                    match letter(&o) {
                        'S' => {
                            a.refunded += part;
                            answered = true;
                        }
                        'F' => answered = true,
                        _ => {}
                    }
                    if answered {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                if !answered {
                    a.refund_unknown = Some(format!("refund {refund_id}: no answer in 20 tries"));
                }
            }
        }
        _ => {}
    }
}

/// The invariants, per merchant order, from the simulator's books and the client's records.
pub(crate) fn check(sim: &Simulator, records: &[OrderRecord], notifications_idle: bool) -> bool {
    let books: HashMap<String, _> = sim
        .payments()
        .into_iter()
        .map(|p| (p.payment_request_id.clone(), p))
        .collect();
    let charged = |status: PaymentStatus| {
        matches!(
            status,
            PaymentStatus::Success | PaymentStatus::PartlyRefunded | PaymentStatus::FullyRefunded
        )
    };
    let (mut double, mut believed_failed, mut no_final, mut mismatch) = (0, 0, 0, 0);
    let mut unresolved: Vec<String> = Vec::new();
    let mut finals: HashMap<String, usize> = HashMap::new();
    for r in records {
        let mut charges = 0;
        mismatch += r.mismatches;
        for a in &r.attempts {
            let view = books.get(&a.id);
            let is_charged = view.is_some_and(|v| charged(v.status));
            charges += usize::from(is_charged);
            let name = match &a.final_state {
                None => "none".to_owned(),
                Some(f) => format!("{f:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap_or("")
                    .to_owned(),
            };
            *finals.entry(name).or_default() += 1;
            let status = view.map(|v| v.status);
            let agrees = match &a.final_state {
                None => {
                    no_final += 1;
                    eprintln!("  {}: no final state; simulator {status:?}", a.id);
                    true
                }
                Some(Final::Unresolved) => {
                    unresolved.push(format!(
                        "{}: unresolved (no final answer within the policy's bounds); simulator {status:?}",
                        a.id
                    ));
                    true
                }
                Some(f) if f.may_retry_with_new_id() && is_charged => {
                    believed_failed += 1;
                    eprintln!("  {}: client {f:?}, simulator charged ({status:?})", a.id);
                    true
                }
                Some(Final::Succeeded) if a.reversed => status == Some(PaymentStatus::Cancelled),
                Some(Final::Succeeded) => is_charged,
                Some(Final::Cancelled) => status == Some(PaymentStatus::Cancelled),
                Some(Final::Failed { .. }) => {
                    matches!(
                        status,
                        None | Some(PaymentStatus::Failed | PaymentStatus::Cancelled)
                    )
                }
                Some(other) => {
                    eprintln!("  {}: unexpected final state {other:?}", a.id);
                    false
                }
            };
            let refunded = view.map_or(0, |v| v.refunded);
            let refund_agrees = a.refund_unknown.is_some() || refunded == a.refunded;
            if let Some(why) = &a.refund_unknown {
                unresolved.push(format!("{}: {why}", a.id));
            }
            if !agrees || !refund_agrees {
                mismatch += 1;
                eprintln!(
                    "  {}: client {:?} refunded {} reversed {}; simulator {status:?} refunded {refunded}",
                    a.id, a.final_state, a.refunded, a.reversed
                );
            }
        }
        if charges > 1 {
            double += 1;
            eprintln!("  order {}: charged {charges} times", r.order);
        }
    }
    let unacked: Vec<_> = sim
        .notifications()
        .into_iter()
        .filter(|n| !n.acknowledged)
        .collect();
    for n in unacked.iter().take(10) {
        eprintln!("  notification never acknowledged: {n:?}");
    }
    let mut finals: Vec<_> = finals.into_iter().collect();
    finals.sort();
    let ad = records.iter().filter(|r| r.auto_debit).count();
    println!(
        "\norders: {} ({} Cashier, {ad} Auto Debit), payments: {}; final states: {}",
        records.len(),
        records.len() - ad,
        records.iter().map(|r| r.attempts.len()).sum::<usize>(),
        finals
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for u in &unresolved {
        println!("  explicit: {u}");
    }
    let rows = [
        ("double charges", double),
        (
            "payments believed failed that the simulator charged",
            believed_failed,
        ),
        (
            "payments without a final state (or explicit unresolved)",
            no_final,
        ),
        (
            "notifications never acknowledged",
            unacked.len() as u32 + u32::from(!notifications_idle),
        ),
        ("mismatches between the two sides", mismatch),
    ];
    println!("invariants:");
    for (what, n) in rows {
        println!(
            "  {n:>6}  {what}{}",
            if n == 0 { "" } else { "  <-- BROKEN" }
        );
    }
    rows.iter().all(|(_, n)| *n == 0)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

fn report(
    args: &Args,
    elapsed: Duration,
    metrics: &Metrics,
    sim: &Simulator,
    (sign, verify): (f64, f64),
) -> Res<()> {
    let secs = elapsed.as_secs_f64();
    let map = metrics.latencies.lock().map_err(|e| e.to_string())?;
    let mut apis: Vec<_> = map.iter().collect();
    apis.sort_by_key(|(k, _)| k.to_string());
    let api_calls: usize = apis.iter().map(|(_, v)| v.len()).sum();
    let all_deliveries = sim.deliveries();
    let deliveries = all_deliveries.len();
    // Deliveries answered with a signed acknowledgement or refusal: four RSA operations.
    let signed_deliveries = all_deliveries
        .iter()
        .filter(|d| {
            matches!(
                d.outcome,
                alipayplus_sim::DeliveryOutcome::Acknowledged
                    | alipayplus_sim::DeliveryOutcome::Refused { .. }
            )
        })
        .count();
    println!(
        "\n{} flows in {secs:.1} s: {:.1} flows/s; {api_calls} API calls + {deliveries} notification deliveries",
        args.flows,
        args.flows as f64 / secs
    );
    println!(
        "  {:<16} {:>8} {:>9} {:>9}",
        "API", "calls", "p50 ms", "p99 ms"
    );
    for (api, v) in apis {
        let mut v = v.clone();
        v.sort_unstable();
        println!(
            "  {api:<16} {:>8} {:>9.2} {:>9.2}",
            v.len(),
            percentile(&v, 0.5),
            percentile(&v, 0.99)
        );
    }
    // Each round trip (an API call or a notification delivery) costs four RSA operations:
    // sign and verify on each side.
    let per_trip = 2.0 * (sign + verify);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bound = cores as f64 / per_trip;
    let trips = (api_calls + deliveries) as f64 / secs;
    println!(
        "RSA (default backend, measured before the load): sign {:.3} ms, verify {:.3} ms; 2 signs + 2 verifies per round trip -> {:.0} round trips/s on {cores} cores",
        sign * 1000.0,
        verify * 1000.0,
        bound
    );
    let full = (metrics.signed.load(Ordering::Relaxed) as usize + signed_deliveries) as f64 / secs;
    println!(
        "round trips: {trips:.0}/s in all; {full:.0}/s signed both ways = {:.0}% of the RSA bound",
        100.0 * full / bound
    );
    Ok(())
}

/// Seconds per sign and per verify of a typical request with the default backend.
fn rsa_costs() -> Res<(f64, f64)> {
    let key = keys::acqp_private_key().map_err(|e| e.to_string())?;
    let public = PublicKeys::single(1, keys::acqp_public_key().map_err(|e| e.to_string())?);
    let body = br#"{"paymentRequestId":"LOAD-1-1-A0","paymentAmount":{"currency":"USD","value":"1000"},"order":{"referenceOrderId":"LOAD-1-1"}}"#;
    let (uri, client, time) = (
        "/aps/api/v1/payments/pay",
        "SANDBOX_SIM_ACQP_0001",
        "2025-02-20T08:51:49Z",
    );
    let sign_once = || message::sign_request(&key, 1, "POST", uri, client, time, body);
    let header = sign_once().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let signs = 100;
    for _ in 0..signs {
        sign_once().map_err(|e| e.to_string())?;
    }
    let sign = started.elapsed().as_secs_f64() / f64::from(signs);
    let headers = [
        ("signature", header.as_str().as_bytes()),
        ("client-id", client.as_bytes()),
        ("request-time", time.as_bytes()),
    ];
    let verifies = 1000;
    let started = Instant::now();
    for _ in 0..verifies {
        message::verify_request(&public, "POST", uri, headers, body).map_err(|e| e.to_string())?;
    }
    let verify = started.elapsed().as_secs_f64() / f64::from(verifies);
    Ok((sign, verify))
}

/// The merchant's notification listener: `POST /notify` through the client's notifyPayment
/// handler (verified, signed answers; refused ones are re-sent by the simulator).
pub(crate) struct Listener {
    pub(crate) url: String,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Listener {
    pub(crate) fn start(addr: &str, config: ClientConfig, inbox: Arc<Inbox>) -> Res<Self> {
        let server = tiny_http::Server::http(addr).map_err(|e| e.to_string())?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or("listener has no address")?;
        let server = Arc::new(server);
        let config = Arc::new(config);
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..4)
            .map(|_| {
                let (server, config, inbox, stop) = (
                    Arc::clone(&server),
                    Arc::clone(&config),
                    Arc::clone(&inbox),
                    Arc::clone(&stop),
                );
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        if let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) {
                            serve(&config, &inbox, request);
                        }
                    }
                })
            })
            .collect();
        Ok(Listener {
            url: format!("http://{addr}/notify"),
            stop,
            threads,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn serve(config: &ClientConfig, inbox: &Inbox, mut http: tiny_http::Request) {
    let mut body = Vec::new();
    let _ = http.as_reader().take(1024 * 1024).read_to_end(&mut body);
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
    let answer = match alipayplus_client::notify::handle_notify_payment(config, &request) {
        Ok(accepted) => {
            let id = &accepted.body.payment_request_id;
            if let Some(store) = &inbox.store {
                // Write-ahead rule 3: stored, then acknowledged; not stored, not acknowledged.
                let now = config.now();
                if let Err(e) = store.append_payment_notification(&KINDS, id, &request.body, now) {
                    eprintln!("  notification for {id} not stored ({e}): not acknowledged");
                    let _ = http.respond(tiny_http::Response::empty(500));
                    return;
                }
                let n = inbox.accepted.load(Ordering::Relaxed) + 1;
                if inbox.pause_at == n {
                    pause(&format!("notify {id}"));
                }
            }
            inbox.accepted.fetch_add(1, Ordering::Relaxed);
            // Hand it to its flow (if still following), then acknowledge.
            if let Ok(routes) = inbox.routes.lock()
                && let Some(tx) = routes.get(&accepted.body.payment_request_id)
            {
                let _ = tx.send(accepted.body);
            }
            accepted.answer
        }
        Err(refused) => {
            inbox.refused.fetch_add(1, Ordering::Relaxed);
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

/// Stops this process for good (the parent kills it): says where on stdout first.
pub(crate) fn pause(what: &str) -> ! {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "PAUSED {what}");
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Res<Args> {
        parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn the_command_line_of_the_issue_parses() {
        let a = args(&["--flows", "300", "--concurrency", "16", "--seed", "14"]).unwrap();
        assert_eq!((a.flows, a.concurrency, a.seed), (300, 16, 14));
        let a = args(&["--concurrency", "2", "--flows", "5"]).unwrap();
        assert_eq!((a.flows, a.concurrency, a.seed), (5, 2, 1));
        assert!(args(&["--flows", "5"]).is_err(), "concurrency is required");
        assert!(args(&["--flows", "0", "--concurrency", "1"]).is_err());
        assert!(args(&["--flows", "x", "--concurrency", "1"]).is_err());
        assert!(args(&["--flows", "1", "--concurrency", "1", "--fast", "1"]).is_err());
        assert!(args(&["--flows"]).is_err(), "a flag without its value");
        let a = args(&[
            "--flows",
            "50",
            "--concurrency",
            "4",
            "--store",
            "sqlite:/tmp/x.db",
            "--crash",
        ])
        .unwrap();
        assert_eq!(a.store.as_deref(), Some("sqlite:/tmp/x.db"));
        assert!(a.crash);
        assert!(
            args(&["--flows", "5", "--concurrency", "1", "--crash"]).is_err(),
            "--crash needs a store"
        );
        assert!(args(&["--flows", "5", "--concurrency", "1", "--store", "pg:x"]).is_err());
        let a = args(&[
            "--flows",
            "40",
            "--concurrency",
            "4",
            "--store",
            "postgres://postgres@127.0.0.1:5432/postgres",
            "--crash",
            "--workers",
            "3",
        ])
        .unwrap();
        assert_eq!((a.workers, a.crash), (3, true));
        assert!(
            args(&["--flows", "5", "--concurrency", "1", "--workers", "2"]).is_err(),
            "--workers needs --crash"
        );
    }

    #[test]
    fn percentiles_and_the_clock_scale() {
        let v: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile(&v, 0.5), 51.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
        let clock = ScaledClock {
            base_ms: 0,
            start: Instant::now(),
        };
        let in_a_minute = Timestamp::from_unix_millis(60_000);
        // A protocol minute is half a real second at x120.
        assert!(clock.real_until(in_a_minute) <= Duration::from_millis(500));
        assert!(clock.real_until(in_a_minute) >= Duration::from_millis(400));
    }

    #[test]
    fn the_seed_decides_the_draws() {
        let (mut a, mut b) = (Rng(14), Rng(14));
        let draws: Vec<u64> = (0..8).map(|_| a.below(1000)).collect();
        assert_eq!(draws, (0..8).map(|_| b.below(1000)).collect::<Vec<_>>());
        let mut c = Rng(15);
        assert_ne!(draws, (0..8).map(|_| c.below(1000)).collect::<Vec<_>>());
    }
}
