//! The write-ahead rules under `SIGKILL`: a child process drives a follow-up in a tight loop
//! (store the send, then "send"; store the answer, then go on; store an inbound event, then
//! "acknowledge"), printing each outside effect only after the commit it depends on. The
//! parent kills it (`Child::kill`, SIGKILL on Unix) at varied moments, reopens the database
//! and checks that every effect printed is backed by a stored row, that the state is whole
//! (never torn, never older than a previous round), and restarts the child, which resumes from
//! the stored state alone.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use alipayplus_store::{Inbound, Next, Options, Source, Store};
use common::*;
use serde::{Deserialize, Serialize};

const CHILD: &str = "ALIPAYPLUS_STORE_CRASH_CHILD";
const ID: &str = "PAY-CRASH";
const MID_TX: &str = "ALIPAYPLUS_STORE_MID_TX_CHILD";

/// The follow-up's state: a send counter, the answer counter, and a log that must always be
/// exactly 1..=sent (a torn or mixed write would break it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Machine {
    sent: u64,
    answered: u64,
    consumed: u64,
    log: Vec<u64>,
}

impl Machine {
    fn whole(&self) -> bool {
        self.log.len() as u64 == self.sent
            && self.log.iter().copied().eq(1..=self.sent)
            && (self.answered == self.sent || self.answered + 1 == self.sent)
    }
}

fn child(path: &Path) -> ! {
    let store = Store::open(&url(path), Options::default()).unwrap();
    let (mut state, mut version) = match store.load::<Machine>(PAY, ID).unwrap() {
        Some(row) => (row.state, row.version),
        None => {
            let m = Machine::default();
            let v = store.create(PAY, ID, &m, Next::At(t(0)), t(0)).unwrap();
            (m, v)
        }
    };
    assert!(state.whole(), "resumed from a whole state");
    let mut out = std::io::stdout().lock();
    // An answer that was not stored before the kill: the resumed machine asks again (inquires).
    if state.answered < state.sent {
        state.answered = state.sent;
        version = store
            .save(PAY, ID, version, &state, Next::At(t(0)), t(0))
            .unwrap();
        writeln!(out, "ANSWERED {}", state.answered).unwrap();
        out.flush().unwrap();
    }
    loop {
        let k = state.sent + 1;
        // Rule 1: the send is stored, then the bytes leave.
        state.sent = k;
        state.log.push(k);
        version = store
            .save(PAY, ID, version, &state, Next::At(t(0)), t(0))
            .unwrap();
        writeln!(out, "SENT {k}").unwrap();
        out.flush().unwrap();
        // Rule 2: the answer is stored before the next send.
        state.answered = k;
        version = store
            .save(PAY, ID, version, &state, Next::At(t(0)), t(0))
            .unwrap();
        writeln!(out, "ANSWERED {k}").unwrap();
        out.flush().unwrap();
        // Rule 3: the inbound event is stored, then acknowledged.
        let key = format!("N-{k}");
        let body = key.clone().into_bytes();
        store
            .append(
                &Inbound::new(Source::NotifyPayment, &key, &body).for_follow_up(PAY, ID),
                t(0),
            )
            .unwrap();
        writeln!(out, "ACK {key}").unwrap();
        out.flush().unwrap();
        // The worker consumes the inbox with a state save, every few steps.
        if k % 3 == 0 {
            let seqs: Vec<_> = store
                .unconsumed(PAY, ID)
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect();
            state.consumed += seqs.len() as u64;
            version = store
                .save_consuming(PAY, ID, version, &state, Next::At(t(0)), &seqs, t(0))
                .unwrap();
        }
    }
}

#[derive(Default)]
struct Printed {
    last_sent: u64,
    last_answered: u64,
    acked: Vec<String>,
}

impl Printed {
    fn take(&mut self, line: &str) {
        // The harness's "test NAME ... " may open the child's first line.
        let line = line.rsplit("... ").next().unwrap_or(line);
        if let Some(k) = line.strip_prefix("SENT ") {
            self.last_sent = k.parse().unwrap();
        } else if let Some(k) = line.strip_prefix("ANSWERED ") {
            self.last_answered = k.parse().unwrap();
        } else if let Some(key) = line.strip_prefix("ACK ") {
            self.acked.push(key.to_owned());
        }
    }
}

#[test]
fn write_ahead_rules_survive_sigkill() {
    if let Ok(path) = std::env::var(CHILD) {
        child(Path::new(&path));
    }
    if std::env::var(MID_TX).is_ok() {
        return; // the other test's child
    }
    let path = db_path("crash");
    let mut printed = Printed::default();
    let mut previous = Machine::default();
    // Kill after this many printed lines: at once, early, and deep into the loop; the child
    // keeps writing while the parent reads, so each kill lands at an arbitrary instant.
    let kills = [1usize, 2, 5, 17, 40, 90, 150, 260];
    for (round, lines) in kills.into_iter().enumerate() {
        let mut proc = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "write_ahead_rules_survive_sigkill",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(proc.stdout.take().unwrap());
        let mut seen = 0;
        let mut line = String::new();
        while seen < lines {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let mut err = String::new();
                proc.stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("round {round}: the child stopped by itself: {err}");
            }
            if line.ends_with('\n') {
                printed.take(line.trim_end());
                seen += usize::from(
                    line.starts_with("SENT")
                        || line.starts_with("ANSWERED")
                        || line.starts_with("ACK"),
                );
            }
        }
        proc.kill().unwrap();
        let status = proc.wait().unwrap();
        assert!(!status.success(), "round {round}: killed, not exited");
        // What the child printed before it died also left the process: it must be stored.
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        for l in rest.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            printed.take(l.trim_end());
        }

        let store = open(&path);
        let row = store
            .load::<Machine>(PAY, ID)
            .unwrap()
            .expect("created before any send");
        let state = row.state;
        assert!(state.whole(), "round {round}: torn state {state:?}");
        assert!(
            state.sent >= printed.last_sent,
            "round {round}: send {} left before it was stored",
            printed.last_sent
        );
        assert!(
            state.answered >= printed.last_answered,
            "round {round}: answer acted on but not stored"
        );
        assert!(
            state.answered + 1 >= state.sent,
            "round {round}: a send went out before the previous answer was stored"
        );
        assert!(
            state.sent >= previous.sent && state.answered >= previous.answered,
            "round {round}: went back"
        );
        for key in &printed.acked {
            assert!(
                store.inbound(Source::NotifyPayment, key).unwrap().is_some(),
                "round {round}: {key} acknowledged but not stored"
            );
        }
        let consumed = store.unconsumed(PAY, ID).unwrap().len() as u64;
        let all = (1..=state.sent)
            .filter(|k| {
                store
                    .inbound(Source::NotifyPayment, &format!("N-{k}"))
                    .unwrap()
                    .is_some()
            })
            .count() as u64;
        assert_eq!(
            state.consumed + consumed,
            all,
            "round {round}: consumed entries and state moved together"
        );
        let conn = rusqlite::Connection::open(&path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        previous = state;
    }
    assert!(
        previous.sent >= 100,
        "the rounds went deep enough: {}",
        previous.sent
    );
}

/// The child of [`a_kill_inside_an_open_transaction_leaves_the_old_state`]: a new state and an
/// inbox entry written in one transaction that is never committed.
fn child_mid_transaction(path: &Path) -> ! {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute_batch(
        "BEGIN IMMEDIATE; \
         UPDATE follow_ups SET state = CAST('{\"torn\":true}' AS BLOB), version = version + 1; \
         INSERT INTO inbox (source, event_key, body, sealed, received_at) \
           VALUES ('notifyPayment', 'N-UNCOMMITTED', x'00', 0, 0);",
    )
    .unwrap();
    // Enough uncommitted pages that SQLite spills some into the WAL before the kill.
    for i in 0..2000 {
        conn.execute(
            "INSERT INTO records (space, id, value, sealed, version, updated_at) VALUES ('x', ?1, zeroblob(4096), 0, 1, 0)",
            [i],
        )
        .unwrap();
    }
    // Straight to the pipe (println! would be captured by the test harness).
    let mut out = std::io::stdout().lock();
    writeln!(out, "IN-TX").unwrap();
    out.flush().unwrap();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

#[test]
fn a_kill_inside_an_open_transaction_leaves_the_old_state() {
    if let Ok(path) = std::env::var(MID_TX) {
        child_mid_transaction(Path::new(&path));
    }
    if std::env::var(CHILD).is_ok() {
        return; // the other test's child
    }
    let path = db_path("midtx");
    let v1 = open(&path)
        .create(PAY, ID, &Machine::default(), Next::At(t(0)), t(0))
        .unwrap();
    let mut proc = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_kill_inside_an_open_transaction_leaves_the_old_state",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(MID_TX, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(proc.stdout.take().unwrap());
    let mut line = String::new();
    while !line.trim_end().ends_with("IN-TX") {
        line.clear();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "the child died before its transaction"
        );
    }
    proc.kill().unwrap();
    proc.wait().unwrap();

    let store = open(&path);
    let row = store.load::<Machine>(PAY, ID).unwrap().unwrap();
    assert_eq!(
        (row.state, row.version),
        (Machine::default(), v1),
        "the old state, whole"
    );
    assert!(
        store
            .inbound(Source::NotifyPayment, "N-UNCOMMITTED")
            .unwrap()
            .is_none()
    );
    // The killed writer's lock is gone: the store writes at once.
    store
        .save(PAY, ID, v1, &Machine::default(), Next::Final, t(1))
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let leftovers: i64 = conn
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leftovers, 0);
}
