//! Rows per second of the report parser alone and of parsing + matching one clearing cycle.
//!
//! `cargo bench -p alipayplus-reconcile --bench reconcile`

use std::hint::black_box;
use std::io::Read;

use alipayplus_reconcile::job::{read_ledger, read_report};
use alipayplus_reconcile::{ClearingDate, CycleMatcher, ReportKind, ReportOptions, ReportParser};
use alipayplus_types::Currency;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/generate.rs"]
mod generate;

const ROWS: u64 = 100_000;

fn bytes(mut r: impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).expect("generated");
    v
}

fn parser() -> ReportParser {
    ReportParser::new(
        "bench.csv",
        ReportKind::TransactionItems,
        Currency::SGD,
        ReportOptions::default(),
    )
}

fn matcher(ledger: &[u8]) -> CycleMatcher {
    let cycle = ClearingDate::from_batch_id("20250601").expect("date");
    let mut m = CycleMatcher::new(cycle);
    read_ledger(ledger, "ledger.csv", |r, line| {
        m.add_own("ledger.csv", line, r).map(|_| ())
    })
    .expect("ledger");
    m
}

fn bench(c: &mut Criterion) {
    let report = bytes(generate::Generated::report(ROWS));
    let ledger = bytes(generate::Generated::ledger(ROWS));
    let mut group = c.benchmark_group("reconcile");
    group.throughput(Throughput::Elements(ROWS));
    group.sample_size(10);
    group.bench_function("parse_100k_rows", |b| {
        b.iter(|| {
            let mut p = parser();
            let mut n = 0i64;
            read_report(&report[..], &mut p, |row| {
                n += row.transaction()?.amount.minor;
                Ok(())
            })
            .expect("parse");
            black_box(n)
        })
    });
    group.bench_function("parse_and_match_100k_rows", |b| {
        b.iter_batched(
            || matcher(&ledger),
            |mut m| {
                let mut p = parser();
                read_report(&report[..], &mut p, |row| {
                    m.report_row("bench.csv", &row.transaction()?)
                })
                .expect("parse");
                let result = m.finish();
                assert!(result.findings.is_empty());
                black_box(result.matched)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
