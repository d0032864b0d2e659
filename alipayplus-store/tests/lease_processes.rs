//! Several worker processes share the follow-ups of one database through leases (issue 23), on
//! SQLite (one file) and PostgreSQL: three child processes claim and drive 40 follow-ups (three
//! "sends" each, every send recorded through the lease before it goes out); the parent kills one
//! worker with SIGKILL while it holds leases. The survivors take its follow-ups over after the
//! lease expires and finish everything. The children log each send's start and end (wall clock,
//! one shared append-only file): no follow-up ever has two sends in flight from different
//! workers, none is lost, and the takeovers happened.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alipayplus_store::{Error, LeaseHolder, Next, Options, Store};
use alipayplus_types::Timestamp;
use common::*;

const CHILD: &str = "ALIPAYPLUS_STORE_LEASE_CHILD";
const ROWS: usize = 40;
const SENDS: u32 = 3;
const LEASE: Duration = Duration::from_secs(3);
/// A worker starts no send unless this much of its lease is left (the send takes ~5 ms).
const MARGIN: Duration = Duration::from_secs(2);

fn wall_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn now() -> Timestamp {
    Timestamp::from_unix_millis(i64::try_from(wall_nanos() / 1_000_000).unwrap())
}

fn log_line(log: &str, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
        .unwrap();
    // One write per line on an O_APPEND file: lines of several processes never interleave.
    f.write_all(format!("{line}\n").as_bytes()).unwrap();
}

/// A worker process: claims, drives each claimed follow-up to its end through the lease, until
/// nothing is left unfinished.
fn child(spec: &str) -> ! {
    let mut parts = spec.splitn(3, '|');
    let (id, log, url) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let store = Store::open(url, Options::default()).unwrap();
    let me = LeaseHolder::new(id, LEASE).unwrap();
    let mut out = std::io::stdout().lock();
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        let claimed = store.claim_due(&me, now(), 4).unwrap();
        if claimed.is_empty() {
            if store.list_unfinished(1).unwrap().is_empty() {
                writeln!(out, "DONE").unwrap();
                std::process::exit(0);
            }
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        for c in &claimed {
            if let Some(from) = &c.taken_over_from {
                writeln!(out, "TAKEOVER {} {from}", c.id).unwrap();
            }
        }
        writeln!(out, "CLAIMED {}", claimed.len()).unwrap();
        out.flush().unwrap();
        for c in claimed {
            drive(&store, &me, &c.id, log);
        }
    }
    panic!("{id}: follow-ups still unfinished after 90 s");
}

fn drive(store: &Store, me: &LeaseHolder, id: &str, log: &str) {
    let row = store.load::<u32>(PAY, id).unwrap().unwrap();
    let (mut sends, mut version) = (row.state, row.version);
    while sends < SENDS {
        // Write-ahead: the send is recorded (and the lease renewed) before it goes out.
        let held = match store.save_leased(
            me,
            PAY,
            id,
            version,
            &(sends + 1),
            Next::At(now()),
            &[],
            now(),
        ) {
            Ok(held) => held,
            Err(Error::LeaseLost { .. }) => return,
            Err(e) => panic!("{e}"),
        };
        (sends, version) = (sends + 1, held.version);
        if now() + MARGIN > held.lease_until {
            return; // too little lease left to send: the next holder inquires
        }
        log_line(log, &format!("S {id} {} {}", me.id(), wall_nanos()));
        std::thread::sleep(Duration::from_millis(5));
        log_line(log, &format!("E {id} {} {}", me.id(), wall_nanos()));
    }
    let _ = store.save_leased(me, PAY, id, version, &sends, Next::Final, &[], now());
}

fn spawn(id: &str, log: &str, url: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "worker_processes_share_follow_ups_and_take_over_a_killed_one",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, format!("{id}|{log}|{url}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[test]
fn worker_processes_share_follow_ups_and_take_over_a_killed_one() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
    }
    for db in dbs("processes") {
        let store = db.open();
        let start = now();
        for i in 0..ROWS {
            store
                .create(PAY, &format!("P-{i:02}"), &0u32, Next::At(start), start)
                .unwrap();
        }
        let log = format!("{}.log", db_path("processes-log").display());
        let _ = std::fs::remove_file(&log);

        // w0 starts alone, and is killed while it holds leases, in the middle of its sends.
        let mut victim = spawn("w0", &log, &db.url);
        let mut lines = BufReader::new(victim.stdout.take().unwrap()).lines();
        loop {
            let line = lines.next().expect("w0 said nothing").unwrap();
            if line.starts_with("CLAIMED") {
                break;
            }
        }
        let waiting = Instant::now();
        while std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("S P-")
            .count()
            < 5
        {
            assert!(
                waiting.elapsed() < Duration::from_secs(30),
                "w0 does not send"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        victim.kill().unwrap();
        let killed_at = wall_nanos();
        assert!(!victim.wait().unwrap().success());

        let survivors: Vec<_> = ["w1", "w2"]
            .iter()
            .map(|id| spawn(id, &log, &db.url))
            .collect();
        let mut takeovers = 0;
        for mut proc in survivors {
            let out = BufReader::new(proc.stdout.take().unwrap());
            for line in out.lines() {
                let line = line.unwrap();
                takeovers += usize::from(line.starts_with("TAKEOVER") && line.ends_with(" w0"));
            }
            assert!(
                proc.wait().unwrap().success(),
                "{:?}: a survivor failed",
                db.backend
            );
        }
        assert!(
            takeovers >= 1,
            "{:?}: w0's leased follow-ups were taken over",
            db.backend
        );

        // None lost: every follow-up final with its three sends recorded.
        assert!(store.list_unfinished(10).unwrap().is_empty());
        for i in 0..ROWS {
            let row = store
                .load::<u32>(PAY, &format!("P-{i:02}"))
                .unwrap()
                .unwrap();
            assert!(
                row.is_final && row.state == SENDS,
                "{:?} P-{i:02}: {row:?}",
                db.backend
            );
        }

        // No follow-up with two sends in flight from different workers at once. A send w0
        // started and never ended lasted until its kill.
        let text = std::fs::read_to_string(&log).unwrap();
        let mut open: HashMap<(String, String), u128> = HashMap::new();
        let mut spans: HashMap<String, Vec<(u128, u128, String)>> = HashMap::new();
        for line in text.lines() {
            let f: Vec<_> = line.split(' ').collect();
            let (id, w, at) = (
                f[1].to_owned(),
                f[2].to_owned(),
                f[3].parse::<u128>().unwrap(),
            );
            match f[0] {
                "S" => assert!(open.insert((id, w), at).is_none()),
                _ => {
                    let s = open.remove(&(id.clone(), w.clone())).unwrap();
                    spans.entry(id).or_default().push((s, at, w));
                }
            }
        }
        for ((id, w), s) in open {
            assert_eq!(w, "w0", "only the killed worker leaves a send unfinished");
            spans.entry(id).or_default().push((s, killed_at, w));
        }
        let mut overlaps = 0;
        for list in spans.values_mut() {
            list.sort();
            overlaps += list
                .windows(2)
                .filter(|p| p[0].2 != p[1].2 && p[1].0 < p[0].1)
                .count();
        }
        assert_eq!(
            overlaps, 0,
            "{:?}: sends in flight from two workers at once",
            db.backend
        );
        let sends: usize = spans.values().map(Vec::len).sum();
        // Every send recorded went out, but the one w0 may have recorded just before its kill.
        let recorded = ROWS * SENDS as usize;
        assert!(
            sends == recorded || sends + 1 == recorded,
            "{:?}: {sends} sends logged, {recorded} recorded",
            db.backend
        );
        eprintln!(
            "{:?}: {sends} sends, {takeovers} takeovers from the killed worker, 0 overlaps",
            db.backend
        );
    }
}
