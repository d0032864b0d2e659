//! Measures the store's write rate on this machine: follow-up saves (compare-and-swap, one
//! transaction each) and inbox appends, with `synchronous=NORMAL` and `FULL`.
//!
//! `cargo run --release -p alipayplus-store --example throughput -- [WRITES] [DIR]`
//! (default 20000 writes, files in the system temporary folder). A measurement command, not a
//! test: it asserts nothing about speed.

use std::time::Instant;

use alipayplus_store::{Durability, Inbound, Kind, Next, Options, Source, Store};
use alipayplus_types::Timestamp;

const PAY: Kind = Kind::new("cashier.pay");

#[derive(serde::Serialize)]
struct State {
    attempts: u32,
    /// About the size of a pay body kept in a follow-up state.
    body: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let writes: u32 = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let dir = args.next().map_or_else(std::env::temp_dir, Into::into);
    let now = Timestamp::from_unix_secs(1_751_000_000);
    for durability in [Durability::Normal, Durability::Full] {
        let path = dir.join(format!("alipayplus-store-throughput-{durability:?}.sqlite"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = Store::open(
            &format!("sqlite:{}", path.display()),
            Options::default().with_durability(durability),
        )?;
        let n = if durability == Durability::Full {
            writes / 10
        } else {
            writes
        };
        let body = "x".repeat(600);
        let started = Instant::now();
        let mut ids = Vec::new();
        for i in 0..n / 2 {
            let id = format!("PAY-{i}");
            let state = State {
                attempts: 0,
                body: body.clone(),
            };
            let v = store.create(PAY, &id, &state, Next::At(now), now)?;
            ids.push((id, v));
        }
        for (i, (id, v)) in ids.iter().enumerate() {
            let state = State {
                attempts: u32::try_from(i)?,
                body: body.clone(),
            };
            store.save(PAY, id, *v, &state, Next::Final, now)?;
        }
        let saves = started.elapsed();
        let started = Instant::now();
        for i in 0..n {
            let key = format!("N-{i}");
            store.append(
                &Inbound::new(Source::NotifyPayment, &key, body.as_bytes()),
                now,
            )?;
        }
        let appends = started.elapsed();
        println!(
            "{durability:?}: {n} follow-up writes (create + save) {:.0}/s, {n} inbox appends {:.0}/s",
            f64::from(n) / saves.as_secs_f64(),
            f64::from(n) / appends.as_secs_f64(),
        );
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    Ok(())
}
