//! `cargo xtask load --flows N --concurrency C [--seed S] --store postgres://URL --crash
//! --workers K` (issue 23): K merchant processes (each a client, a resuming worker with a
//! lease holder of its own, and a notification listener) share one store; the flows are dealt
//! out among them (flow n to process n mod K), and each also takes over what is due and unheld.
//!
//! Process 0 is killed (SIGKILL) and restarted as in `load_crash`: in each dangerous window in
//! turn (a send stored and not sent, a send whose answer the simulator holds, a notification
//! stored and not acknowledged) and at random moments. The first two are kills of a worker
//! while it holds the lease of the follow-up it is sending for. Its follow-ups wait for their
//! lease to run out ([`LEASE`]) and are taken over by whichever process claims them first (its
//! own next incarnation is another worker). The other processes run undisturbed.
//!
//! Every merchant process names itself to the simulator in the `Sim-Caller` header; the
//! simulator (not the store) counts calls for one payment in flight from two processes at once.
//! At the end: the load's invariants on what the store holds, 0 follow-ups lost, 0 acknowledged
//! notifications missing, 0 double charges, and 0 overlapping calls.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use alipayplus_client::client::Client;
use alipayplus_sim::{AutoDebitConfig, SimConfig, Simulator};
use alipayplus_types::Timestamp;
use alipayplus_ureq::UreqTransport;

use crate::load::{
    Args, Res, Rng, ScaledClock, TIMEOUT, bind, client_config, notify_faults, open_store,
};
use crate::load_crash::{
    LEASE, TOKEN_VAR, WINDOWS, Window, check_end, drain_notifications, stop_children, unix_ms,
};

struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    done: bool,
}

/// The parent: simulator, K merchant processes, kills of process 0, restarts, checks.
pub(crate) fn run(args: &Args) -> Res<bool> {
    let url = args.store.clone().ok_or("--workers needs --store")?;
    let k = args.workers;
    let base = Timestamp::parse_iso8601("2025-02-20T23:50:00+08:00").map_err(|e| e.to_string())?;
    let start_unix = unix_ms();
    let clock = ScaledClock {
        base_ms: base.unix_millis(),
        start: Instant::now(),
    };
    let mut config = SimConfig::bundled()
        .map_err(|e| e.to_string())?
        .with_fast_notifications(40, Duration::from_millis(150))
        .with_clock(clock.clone());
    config.workers = args.concurrency * 2 * k + 16;
    let sim = Simulator::start(config).map_err(|e| e.to_string())?;
    sim.set_autodebit_config(AutoDebitConfig {
        access_token_ttl_secs: 365 * 86_400,
        ..AutoDebitConfig::default()
    });
    drop(open_store(&url, args.seed)?);
    let client = Client::new(
        client_config(&sim, &clock)?,
        UreqTransport::builder()
            .read_timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?,
    );
    let token = bind(&client, &sim)?;
    // Each process's listener port stays the same across its restarts.
    let ports = (0..k)
        .map(|_| {
            TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|e| e.to_string())
        })
        .collect::<Res<Vec<u16>>>()?;
    println!(
        "load --crash --workers {k}: {} flows, {} at a time per process, seed {}; simulator {}; {k} merchant processes on {url} (leases of {} s protocol time, {:.1} s real)",
        args.flows,
        args.concurrency,
        args.seed,
        sim.base_url(),
        LEASE.as_secs(),
        LEASE.as_secs_f64() / f64::from(crate::load::SCALE),
    );
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let spawn = |i: usize, pause: &str| -> Res<Proc> {
        let mut child = Command::new(&exe)
            .args([
                "load-merchant",
                "--flows",
                &args.flows.to_string(),
                "--concurrency",
                &args.concurrency.to_string(),
                "--seed",
                &args.seed.to_string(),
                "--store",
                &url,
                "--sim",
                sim.base_url(),
                "--client-id",
                sim.client_id(),
                "--port",
                &ports[i].to_string(),
                "--clock",
                &format!("{}:{start_unix}", base.unix_millis()),
                "--part",
                &format!("{i}/{k}"),
                "--pause",
                pause,
            ])
            .env(TOKEN_VAR, token.expose())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start merchant process {i}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Proc {
            child,
            lines: rx,
            done: false,
        })
    };

    let target = (args.flows.div_ceil(25)).max(4);
    let mut tally = [0usize; 4];
    let mut held: Vec<String> = Vec::new();
    let mut rng = Rng(args.seed ^ 0x5EED_0F4B);
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(900);
    let mut incarnation = 0usize;
    let mut others = (1..k)
        .map(|i| spawn(i, "none"))
        .collect::<Res<Vec<Proc>>>()?;
    // Lines of the undisturbed processes: FLOWS DONE, or whatever they say.
    let poll_others = |others: &mut Vec<Proc>| -> Res<()> {
        for (i, p) in others.iter_mut().enumerate() {
            loop {
                match p.lines.try_recv() {
                    Ok(line) if line == "FLOWS DONE" => p.done = true,
                    Ok(line) => println!("  merchant {}: {line}", i + 1),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        let status = p.child.try_wait().map_err(|e| e.to_string())?;
                        return Err(format!(
                            "merchant process {} exited on its own: {status:?}",
                            i + 1
                        ));
                    }
                }
            }
        }
        Ok(())
    };
    let outcome: Res<Proc> = std::thread::scope(|s| {
        s.spawn(|| notify_faults(&sim, args.seed, &done));
        let result = loop {
            let kills: usize = tally.iter().sum();
            let window = (kills < target).then(|| WINDOWS[incarnation % WINDOWS.len()]);
            incarnation += 1;
            let c = args.concurrency as u64;
            let pause = match window {
                Some(Window::SendStored) => format!("send:{}", 1 + rng.below(3 * c)),
                Some(Window::AnswerHeld) => format!("inflight:{}", 1 + rng.below(3 * c)),
                Some(Window::NotifyStored) => format!("notify:{}", 1 + rng.below(2 * c)),
                _ => "none".to_owned(),
            };
            let random_at = (window == Some(Window::Random))
                .then(|| Instant::now() + Duration::from_millis(200 + rng.below(1500)));
            let mut victim = match spawn(0, &pause) {
                Ok(p) => p,
                Err(e) => break Err(e),
            };
            let killed = loop {
                if Instant::now() >= deadline {
                    let _ = victim.child.kill();
                    break Err("the run took more than 15 minutes".to_owned());
                }
                if let Err(e) = poll_others(&mut others) {
                    break Err(e);
                }
                let wait = random_at.map_or(Duration::from_millis(200), |at| {
                    at.saturating_duration_since(Instant::now())
                        .min(Duration::from_millis(200))
                });
                match victim.lines.recv_timeout(wait) {
                    Ok(line) if line.starts_with("PAUSED send") => {
                        break Ok(Some(Window::SendStored));
                    }
                    Ok(line) if line.starts_with("PAUSED notify") => {
                        break Ok(Some(Window::NotifyStored));
                    }
                    Ok(line) if line.starts_with("INFLIGHT ") => {
                        std::thread::sleep(Duration::from_millis(100));
                        held.push(line.trim_start_matches("INFLIGHT ").to_owned());
                        break Ok(Some(Window::AnswerHeld));
                    }
                    Ok(line) if line == "FLOWS DONE" => break Ok(None),
                    Ok(line) => println!("  merchant 0: {line}"),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if random_at.is_some_and(|at| Instant::now() >= at) {
                            break Ok(Some(Window::Random));
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let status = victim.child.wait().map_err(|e| e.to_string());
                        break Err(format!("merchant process 0 exited on its own: {status:?}"));
                    }
                }
            };
            match killed {
                Ok(Some(window)) => {
                    let _ = victim.child.kill();
                    let _ = victim.child.wait();
                    tally[WINDOWS.iter().position(|w| *w == window).unwrap_or(3)] += 1;
                }
                Ok(None) => {
                    victim.done = true;
                    break Ok(victim);
                }
                Err(e) => break Err(e),
            }
        };
        // The others finish their flows (and take over what process 0 left leased).
        let result = result.and_then(|victim| {
            while others.iter().any(|p| !p.done) {
                if Instant::now() >= deadline {
                    return Err("the run took more than 15 minutes".to_owned());
                }
                poll_others(&mut others)?;
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(victim)
        });
        done.store(true, Ordering::SeqCst);
        result
    });
    let victim = match outcome {
        Ok(v) => v,
        Err(e) => {
            for p in &mut others {
                let _ = p.child.kill();
            }
            return Err(e);
        }
    };
    let elapsed = started.elapsed();
    let idle = drain_notifications(&sim);
    let mut all = vec![victim];
    all.extend(others);
    stop_children(all.iter_mut().map(|p| &mut p.child))?;

    let (mut ok, confirmed) = check_end(&sim, &url, args, &held, idle)?;
    let calls = sim.calls();
    let overlaps = sim.overlapping_calls();
    let kills: usize = tally.iter().sum();
    println!(
        "\n{} flows in {:.1} s on {k} merchant processes sharing {url}; process 0 killed {kills} times (SIGKILL) and restarted:",
        args.flows,
        elapsed.as_secs_f64()
    );
    for (w, n) in WINDOWS.iter().zip(tally) {
        println!("  {n:>6}  kills: {}", w.label());
    }
    println!(
        "  {:>6}  of them while it held the lease of the follow-up it was sending for",
        tally[0] + tally[1]
    );
    println!(
        "  answers held while killed, confirmed in the simulator's call log: {confirmed} of {}",
        held.len()
    );
    let tracked = calls.len();
    println!(
        "  calls for one payment in flight from two processes at once (simulator): {}{}",
        overlaps.len(),
        if overlaps.is_empty() {
            String::new()
        } else {
            format!("  <-- BROKEN ({:?})", &overlaps[..overlaps.len().min(5)])
        }
    );
    // Payments called by more than one process (w0.PID, w1.PID, ...): a restarted process 0
    // is another incarnation of index 0; two indexes is a takeover by another process.
    let mut by_payment: HashMap<&str, HashSet<&str>> = HashMap::new();
    for c in &calls {
        if let (Some(p), Some(w)) = (c.payment_request_id.as_deref(), c.caller.as_deref()) {
            by_payment.entry(p).or_default().insert(w);
        }
    }
    let resumed = by_payment.values().filter(|w| w.len() > 1).count();
    let other_index = by_payment
        .values()
        .filter(|w| {
            let indexes: HashSet<_> = w.iter().map(|c| c.split('.').next()).collect();
            indexes.len() > 1
        })
        .count();
    println!(
        "  payments called by more than one merchant process: {resumed} ({other_index} by two process indexes: taken over by another process)"
    );
    println!("  calls answered by the simulator: {tracked}");
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
    ok &= overlaps.is_empty();
    Ok(ok)
}
