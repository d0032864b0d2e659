//! `cargo xtask load --flows N --concurrency C [--seed S] --store sqlite:PATH --crash`: the
//! load with the merchant side (client, resuming worker, notification listener) in a child
//! process that the parent kills with `SIGKILL` (`Child::kill`) and starts again, while the
//! simulator keeps running in the parent.
//!
//! Kills are placed in each dangerous window, in turn, and at random moments:
//!
//! | window | how the child is caught in it |
//! |---|---|
//! | a send stored, its bytes not sent | the child's transport stops at its k-th call (the worker saved the state before calling it) and says so; the parent kills it |
//! | sent, answer not read | the child asks the simulator (control API) to hold the answer of its k-th call, sends, and says so; the parent kills it while the answer is held (confirmed at the end in the simulator's call log) |
//! | a notification stored, not acknowledged | the child's listener stops after storing its k-th notification; the parent kills it (the simulator delivers again) |
//! | random | the parent kills it at a random moment |
//!
//! At least one kill per 25 flows (twice the floor of one per 50), at least four. The child
//! on start resumes every unfinished follow-up from the store; the flows it had begun are
//! resumed, never begun again. At the end the parent checks the load's invariants on what the
//! store holds, plus: no follow-up lost, no acknowledged notification missing from the store,
//! no double charge in the simulator's books. Refunds are not part of a crash run (they are
//! not follow-ups in the store yet).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime};

use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::transport::{Request, Response, Transport};
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{AutoDebitConfig, Fault, FaultRule, NotifyFaults, SimConfig, Simulator, keys};
use alipayplus_store::{LeaseHolder, Options as StoreOptions, Store, Worker};
use alipayplus_types::{Secret, Timestamp};
use alipayplus_ureq::UreqTransport;

use crate::load::{
    AUTODEBIT_PAY, Args, Attempt, Ctx, Inbox, KINDS, Listener, OrderRecord, Res, Rng, ScaledClock,
    Sim, Stored, TIMEOUT, bind, check, check_store, client_config, notify_faults, open_store,
    pause, run_flows, sealing_key, stored_final, stored_kind,
};

/// The environment variable carrying the Auto Debit access token to the child.
pub(crate) const TOKEN_VAR: &str = "ALIPAYPLUS_LOAD_TOKEN";
/// How long the simulator holds an answer while the parent kills the child (real time).
pub(crate) const HOLD: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Window {
    SendStored,
    AnswerHeld,
    NotifyStored,
    Random,
}

pub(crate) const WINDOWS: [Window; 4] = [
    Window::SendStored,
    Window::AnswerHeld,
    Window::NotifyStored,
    Window::Random,
];

impl Window {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Window::SendStored => "send stored, bytes not sent",
            Window::AnswerHeld => "sent, answer held by the simulator",
            Window::NotifyStored => "notification stored, not acknowledged",
            Window::Random => "random moment",
        }
    }
}

/// How long a merchant process holds a follow-up after its last save, in protocol time: 10
/// minutes, 5 s real at x120. Longer than any call stays in the simulator's hands (the client's
/// 0.4 s timeout, a 0.55 s delay fault, the 3 s answer held while a process is killed), so a
/// takeover never meets a call of the dead process still in flight.
pub(crate) const LEASE: Duration = Duration::from_secs(600);

pub(crate) fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The parent: simulator, kills, restarts, checks.
pub(crate) fn run(args: &Args) -> Res<bool> {
    let url = args.store.clone().ok_or("--crash needs --store")?;
    let base = Timestamp::parse_iso8601("2025-02-20T23:50:00+08:00").map_err(|e| e.to_string())?;
    let start_unix = unix_ms();
    let clock = ScaledClock {
        base_ms: base.unix_millis(),
        start: Instant::now(),
    };
    // Notifications keep being re-sent across a restart (40 attempts, 150 ms apart).
    let mut config = SimConfig::bundled()
        .map_err(|e| e.to_string())?
        .with_fast_notifications(40, Duration::from_millis(150))
        .with_clock(clock.clone());
    // Delayed and held answers hold a worker each.
    config.workers = args.concurrency * 2 + 16;
    let sim = Simulator::start(config).map_err(|e| e.to_string())?;
    sim.set_autodebit_config(AutoDebitConfig {
        access_token_ttl_secs: 365 * 86_400,
        ..AutoDebitConfig::default()
    });
    // A fresh store (refuses one holding this seed's flows), closed again: the child owns it.
    drop(open_store(&url, args.seed)?);
    let client = Client::new(
        client_config(&sim, &clock)?,
        UreqTransport::builder()
            .read_timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?,
    );
    let token = bind(&client, &sim)?;
    // The listener's port stays the same across restarts (it is in every pay request).
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    println!(
        "load --crash: {} flows, {} at a time, seed {}; simulator {} (protocol clock x{} from {}); merchant side in a child process on {url}, listening on 127.0.0.1:{port}",
        args.flows,
        args.concurrency,
        args.seed,
        sim.base_url(),
        crate::load::SCALE,
        base.format(alipayplus_client::time::TimeFormat::Offset(480)),
    );
    let child_args = |pause: &str| -> Vec<String> {
        vec![
            "load-merchant".into(),
            "--flows".into(),
            args.flows.to_string(),
            "--concurrency".into(),
            args.concurrency.to_string(),
            "--seed".into(),
            args.seed.to_string(),
            "--store".into(),
            url.clone(),
            "--sim".into(),
            sim.base_url().to_owned(),
            "--client-id".into(),
            sim.client_id().to_owned(),
            "--port".into(),
            port.to_string(),
            "--clock".into(),
            format!("{}:{start_unix}", base.unix_millis()),
            "--pause".into(),
            pause.to_owned(),
        ]
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let spawn = |pause: &str| -> Res<(Child, mpsc::Receiver<String>)> {
        let mut child = Command::new(&exe)
            .args(child_args(pause))
            .env(TOKEN_VAR, token.expose())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the merchant side: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok((child, rx))
    };

    let target = (args.flows.div_ceil(25)).max(4);
    let mut tally = [0usize; 4];
    let mut restarts = 0usize;
    let mut held: Vec<String> = Vec::new();
    let mut rng = Rng(args.seed ^ 0xC4A5_4C4A);
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(900);
    let mut incarnation = 0usize;
    let outcome: Res<Child> = std::thread::scope(|s| {
        s.spawn(|| notify_faults(&sim, args.seed, &done));
        let result = loop {
            let kills: usize = tally.iter().sum();
            let window = (kills < target).then(|| WINDOWS[incarnation % WINDOWS.len()]);
            incarnation += 1;
            // Spread over the run: a flow makes about four calls and one notification, so
            // the k-th of them falls anywhere in the next share of the run (each window is
            // tried within the first third of it).
            let c = args.concurrency as u64;
            let share = (args.flows / target) as u64;
            let pause = match window {
                Some(Window::SendStored) => {
                    format!("send:{}", 1 + rng.below((4 * share).max(3 * c)))
                }
                Some(Window::AnswerHeld) => {
                    format!("inflight:{}", 1 + rng.below((4 * share).max(3 * c)))
                }
                Some(Window::NotifyStored) => format!("notify:{}", 1 + rng.below(share.max(2 * c))),
                _ => "none".to_owned(),
            };
            let random_at = (window == Some(Window::Random))
                .then(|| Instant::now() + Duration::from_millis(200 + rng.below(2500)));
            let (mut child, lines) = match spawn(&pause) {
                Ok(c) => c,
                Err(e) => break Err(e),
            };
            let killed = loop {
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    break Err("the crash run took more than 15 minutes".to_owned());
                }
                let wait = random_at.map_or(Duration::from_secs(1), |at| {
                    at.saturating_duration_since(Instant::now())
                });
                match lines.recv_timeout(wait) {
                    Ok(line) if line.starts_with("PAUSED send") => {
                        break Ok(Some(Window::SendStored));
                    }
                    Ok(line) if line.starts_with("PAUSED notify") => {
                        break Ok(Some(Window::NotifyStored));
                    }
                    Ok(line) if line.starts_with("INFLIGHT ") => {
                        // The answer is held by the simulator (HOLD); the child's timeout is
                        // TIMEOUT: kill well inside both.
                        std::thread::sleep(Duration::from_millis(100));
                        held.push(line.trim_start_matches("INFLIGHT ").to_owned());
                        break Ok(Some(Window::AnswerHeld));
                    }
                    Ok(line) if line == "FLOWS DONE" => break Ok(None),
                    Ok(line) => println!("  merchant: {line}"),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if random_at.is_some_and(|at| Instant::now() >= at) {
                            break Ok(Some(Window::Random));
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let status = child.wait().map_err(|e| e.to_string());
                        break Err(format!("the merchant side exited on its own: {status:?}"));
                    }
                }
            };
            match killed {
                Ok(Some(window)) => {
                    // SIGKILL: no destructor, no flush, no goodbye.
                    let _ = child.kill();
                    let _ = child.wait();
                    tally[WINDOWS.iter().position(|w| *w == window).unwrap_or(3)] += 1;
                    restarts += 1;
                }
                Ok(None) => break Ok(child),
                Err(e) => break Err(e),
            }
        };
        done.store(true, Ordering::SeqCst);
        result
    });
    let mut child = outcome?;
    let elapsed = started.elapsed();
    // Every notification finishes while the listener is up: faults off, held ones out.
    let idle = drain_notifications(&sim);
    stop_children([&mut child])?;

    // What the merchant side knows is what the store holds.
    let (mut ok, confirmed) = check_end(&sim, &url, args, &held, idle)?;
    let kills: usize = tally.iter().sum();
    println!(
        "\n{} flows in {:.1} s with the merchant side killed {kills} times (SIGKILL) and restarted {restarts} times:",
        args.flows,
        elapsed.as_secs_f64()
    );
    for (w, n) in WINDOWS.iter().zip(tally) {
        println!("  {n:>6}  kills: {}", w.label());
    }
    println!(
        "  answers held while killed, confirmed in the simulator's call log: {confirmed} of {}",
        held.len()
    );
    let floor = args.flows.div_ceil(50);
    if kills < floor || tally.contains(&0) {
        ok = false;
        println!(
            "  kills: {kills}, at least {floor} (one per 50 flows) and one in every window needed  <-- BROKEN"
        );
    }
    if confirmed < held.len() {
        ok = false;
        println!("  an answer meant to be held was not  <-- BROKEN");
    }
    Ok(ok)
}

/// After the last flow: notification faults off and held notifications out, then the queue
/// drained while the listener is up (reported). Whether it went idle.
pub(crate) fn drain_notifications(sim: &Simulator) -> bool {
    sim.set_notify_faults(NotifyFaults::default());
    sim.release_notifications();
    let draining = Instant::now();
    let idle = sim.wait_notifications_idle(Duration::from_secs(300));
    println!(
        "notifications: queue drained {:.1} s after the last flow ({})",
        draining.elapsed().as_secs_f64(),
        if idle { "idle" } else { "NOT idle" }
    );
    idle
}

/// Closes the children's stdin (which ends them), then waits up to 10 s, killing any still
/// running.
pub(crate) fn stop_children<'a>(children: impl IntoIterator<Item = &'a mut Child>) -> Res<()> {
    let mut children: Vec<&mut Child> = children.into_iter().collect();
    for child in &mut children {
        drop(child.stdin.take());
    }
    let stop_by = Instant::now() + Duration::from_secs(10);
    for child in children {
        while child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if Instant::now() >= stop_by {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(())
}

/// The end state: the invariants checked on the records as the store holds them (what the
/// merchant side knows), and how many of the `held` answers the simulator's call log confirms.
pub(crate) fn check_end(
    sim: &Simulator,
    url: &str,
    args: &Args,
    held: &[String],
    idle: bool,
) -> Res<(bool, usize)> {
    let store = Store::open(url, StoreOptions::default().with_sealing_key(sealing_key()))
        .map_err(|e| e.to_string())?;
    let records = records_from_store(&store, args)?;
    let mut ok = check(sim, &records, idle);
    ok &= check_store(sim, &store, &records)?;
    let calls = sim.calls();
    let confirmed = held
        .iter()
        .filter(|id| {
            calls.iter().any(|c| {
                c.payment_request_id.as_deref() == Some(id.as_str())
                    && c.fault.as_deref() == Some("delay")
            })
        })
        .count();
    Ok((ok, confirmed))
}

/// The client's records as the store holds them.
pub(crate) fn records_from_store(store: &Store, args: &Args) -> Res<Vec<OrderRecord>> {
    let mut records = Vec::with_capacity(args.flows);
    for n in 0..args.flows {
        let order = format!("LOAD-{}-{n}", args.seed);
        let mut record = OrderRecord {
            order: order.clone(),
            auto_debit: false,
            attempts: Vec::new(),
            mismatches: 0,
        };
        for attempt in 0..2 {
            let id = format!("{order}-A{attempt}");
            let Some(kind) = stored_kind(store, &id) else {
                if attempt == 0 {
                    eprintln!("  {id}: never stored (the flow was lost)");
                    record.attempts.push(Attempt::of(id, None));
                }
                break;
            };
            record.auto_debit = kind == AUTODEBIT_PAY;
            let state = stored_final(store, kind, &id)?.flatten();
            record.attempts.push(Attempt::of(id, state));
        }
        records.push(record);
    }
    Ok(records)
}

/// The child: `xtask load-merchant ...` (hidden; started by the parent above).
pub(crate) fn merchant_main(argv: &[String]) -> std::process::ExitCode {
    match merchant(argv) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load-merchant: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

struct ChildArgs {
    load: Args,
    sim: String,
    client_id: String,
    port: u16,
    base_ms: i64,
    start_unix: i64,
    pause: (String, usize),
}

fn parse_child(argv: &[String]) -> Res<ChildArgs> {
    let mut out = ChildArgs {
        load: Args {
            flows: 0,
            concurrency: 1,
            seed: 1,
            store: None,
            crash: true,
            workers: 1,
            part: (0, 1),
        },
        sim: String::new(),
        client_id: String::new(),
        port: 0,
        base_ms: 0,
        start_unix: 0,
        pause: (String::new(), 0),
    };
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<i64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--flows" => out.load.flows = num(value)? as usize,
            "--concurrency" => out.load.concurrency = num(value)? as usize,
            "--seed" => out.load.seed = value.parse().map_err(|e| format!("--seed: {e}"))?,
            "--store" => out.load.store = Some(value.clone()),
            "--sim" => out.sim = value.clone(),
            "--client-id" => out.client_id = value.clone(),
            "--port" => out.port = num(value)? as u16,
            "--clock" => {
                let (b, s) = value.split_once(':').ok_or("--clock BASE:START")?;
                out.base_ms = num(b)?;
                out.start_unix = num(s)?;
            }
            "--part" => {
                let (i, k) = value.split_once('/').ok_or("--part I/K")?;
                let (i, k) = (num(i)? as usize, num(k)? as usize);
                if k == 0 || i >= k {
                    return Err(format!("--part {value}: I below K"));
                }
                out.load.part = (i, k);
                out.load.workers = k;
            }
            "--pause" => {
                out.pause = match value.split_once(':') {
                    Some((w, k)) => (w.to_owned(), num(k)? as usize),
                    None => (String::new(), 0),
                };
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(out)
}

fn merchant(argv: &[String]) -> Res<()> {
    let a = parse_child(argv)?;
    let url = a.load.store.clone().ok_or("--store needed")?;
    let token = Secret::new(std::env::var(TOKEN_VAR).map_err(|_| format!("{TOKEN_VAR} unset"))?);
    // The parent's protocol clock, from the wall-clock instant it started.
    let since = Duration::from_millis(u64::try_from(unix_ms() - a.start_unix).unwrap_or(0));
    let clock = ScaledClock {
        base_ms: a.base_ms,
        start: Instant::now().checked_sub(since).ok_or("clock")?,
    };
    let config = || -> Res<ClientConfig> {
        ClientConfig::new(
            &a.client_id,
            Host::custom(&a.sim).map_err(|e| e.to_string())?,
            keys::acqp_private_key().map_err(|e| e.to_string())?,
            PublicKeys::single(1, keys::sim_public_key().map_err(|e| e.to_string())?),
            clock.clone(),
        )
        .map_err(|e| e.to_string())
    };
    let store = Arc::new(
        Store::open(
            &url,
            StoreOptions::default().with_sealing_key(sealing_key()),
        )
        .map_err(|e| e.to_string())?,
    );
    let control = Sim::Remote(a.sim.clone());
    let ureq = UreqTransport::builder()
        .read_timeout(TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let sends = AtomicUsize::new(0);
    let (window, k) = (a.pause.0.as_str(), a.pause.1);
    // Several merchant processes (--workers): this one's name, for its leases and for the
    // simulator's count of calls in flight for one payment from two processes.
    let (index, of) = a.load.part;
    let caller = format!("w{index}.{}", std::process::id());
    // The worker saved the state before calling this: the windows around the bytes leaving.
    let transport = |mut request: Request| -> Result<Response, alipayplus_ureq::Error> {
        if of > 1 {
            request.headers.insert("Sim-Caller", caller.clone());
        }
        let n = sends.fetch_add(1, Ordering::SeqCst) + 1;
        if n == k && (window == "send" || window == "inflight") {
            let api = request.uri.rsplit('/').next().unwrap_or("").to_owned();
            let id = serde_json::from_slice::<serde_json::Value>(&request.body)
                .ok()
                .and_then(|v| v["paymentRequestId"].as_str().map(String::from))
                .unwrap_or_default();
            if window == "send" {
                pause(&format!("send {api} {id}"));
            }
            let hold = u64::try_from(HOLD.as_millis()).unwrap_or(3000);
            control.add_fault(FaultRule::once(&api, Fault::Delay { ms: hold }).for_payment(&id));
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "INFLIGHT {id}");
            let _ = out.flush();
        }
        ureq.send(request)
    };
    let client = Client::new(config()?, transport);
    let inbox = Arc::new(Inbox {
        store: Some(Arc::clone(&store)),
        pause_at: if window == "notify" { k } else { 0 },
        ..Inbox::default()
    });
    // The port was the last incarnation's: retry while the kernel lets it go.
    let addr = format!("127.0.0.1:{}", a.port);
    let mut listener = Listener::start(&addr, config()?, Arc::clone(&inbox));
    let retry_until = Instant::now() + Duration::from_secs(5);
    while listener.is_err() && Instant::now() < retry_until {
        std::thread::sleep(Duration::from_millis(20));
        listener = Listener::start(&addr, config()?, Arc::clone(&inbox));
    }
    let listener = listener?;
    let mut worker = Worker::new(&store, &client, &KINDS);
    if of > 1 {
        let holder = LeaseHolder::new(caller.clone(), LEASE).map_err(|e| e.to_string())?;
        worker = worker.with_lease(holder);
    }
    // On start: every follow-up left due (a send stored without its answer, a notification
    // stored and not fed) is driven first.
    worker.tick().map_err(|e| e.to_string())?;
    let calls = AtomicU64::new(0);
    let ctx = Ctx {
        client: &client,
        sim: Sim::Remote(a.sim.clone()),
        clock: &clock,
        inbox: &inbox,
        notify_url: listener.url.clone(),
        token,
        calls: &calls,
        stored: Some(Stored {
            store: &store,
            worker: &worker,
            refunds: false,
        }),
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        if of > 1 {
            // Several processes: this one also takes over what is due and unheld (another
            // process's follow-ups once their lease ran out).
            s.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    let _ = worker.tick();
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
        }
        let _ = run_flows(&ctx, &a.load);
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "FLOWS DONE");
            let _ = out.flush();
        }
        // Keep acknowledging notifications until the parent closes stdin.
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        stop.store(true, Ordering::SeqCst);
    });
    drop(listener);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_child_command_line_parses() {
        let argv: Vec<String> = [
            "--flows",
            "10",
            "--concurrency",
            "2",
            "--seed",
            "7",
            "--store",
            "sqlite:x",
            "--sim",
            "http://127.0.0.1:1",
            "--client-id",
            "C",
            "--port",
            "9",
            "--clock",
            "100:200",
            "--pause",
            "send:3",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let a = parse_child(&argv).unwrap();
        assert_eq!((a.load.flows, a.load.concurrency, a.load.seed), (10, 2, 7));
        assert_eq!((a.base_ms, a.start_unix, a.port), (100, 200, 9));
        assert_eq!(a.pause, ("send".to_owned(), 3));
        assert!(parse_child(&["--bogus".into(), "1".into()]).is_err());
    }
}
