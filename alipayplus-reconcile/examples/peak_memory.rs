//! Reconciles one generated clearing cycle of N rows (default 1,000,000) with a generated
//! ledger of the same N records, both produced on the fly (nothing on disk), through the same
//! `job::reconcile` the `reconcile` example uses, then prints the rows, the time and the peak
//! resident size the kernel measured (VmHWM from /proc/self/status; Linux).
//!
//! ```sh
//! cargo run --release -q -p alipayplus-reconcile --example peak_memory -- [ROWS]
//! ```

use std::time::Instant;

use alipayplus_reconcile::fetch::Fetch;
use alipayplus_reconcile::job::reconcile;
use alipayplus_reconcile::{Error, ReportOptions};

#[path = "../benches/support/generate.rs"]
mod generate;

const FILE: &str =
    "transactionItems_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv";

/// A fetcher serving one generated Transaction Detail Report.
struct OneCycle(u64);

impl Fetch for OneCycle {
    type Reader = generate::Generated;
    fn list(&self) -> Result<Vec<String>, Error> {
        Ok(vec![FILE.to_string()])
    }
    fn open(&self, _name: &str) -> Result<generate::Generated, Error> {
        Ok(generate::Generated::report(self.0))
    }
}

fn vm(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> Result<(), Error> {
    let rows: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    println!("before: VmHWM {}", vm("VmHWM:"));
    let start = Instant::now();
    let result = reconcile(
        &OneCycle(rows),
        "generated-ledger.csv",
        || Ok(generate::Generated::ledger(rows)),
        ReportOptions::default(),
    )?;
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(result.matched(), rows, "every generated row matches");
    assert_eq!(result.findings().count(), 0);
    println!(
        "rows {rows}, matched {}, findings 0, {elapsed:.2} s ({:.0} rows/s, ledger read once)",
        result.matched(),
        rows as f64 / elapsed
    );
    println!("peak resident size (VmHWM): {}", vm("VmHWM:"));
    Ok(())
}
