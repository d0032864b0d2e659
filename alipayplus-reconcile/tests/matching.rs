//! The matcher and the daily job: every finding kind, cycle boundaries, multi-file cycles.

use std::path::PathBuf;

use alipayplus_reconcile::fetch::LocalDir;
use alipayplus_reconcile::job::{Reconciliation, reconcile};
use alipayplus_reconcile::{ClearingDate, Error, FindingKind, ReportOptions};
use alipayplus_types::DateTime;

const LEDGER_HEADER: &str = "transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n";
const DETAIL_HEADER: &str = "transactionId,transactionRequestId,transactionType,transactionTime,transactionAmountValue,transactionCurrency,settlementAmountValue,settlementCurrency\n";

/// A fresh directory under the target dir, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!(
            "alipayplus-reconcile-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).unwrap();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Transaction Detail Report from `(id, type, signed minor, time)` rows with a correct summary.
fn detail(rows: &[(&str, &str, i64, &str)]) -> String {
    let net: i64 = rows.iter().map(|r| r.2).sum();
    let mut s = format!(
        "totalCount,netTotalAmount,settlementCurrency\n{},{net},SGD\n\n{DETAIL_HEADER}",
        rows.len()
    );
    for (i, (id, t, v, time)) in rows.iter().enumerate() {
        s += &format!("T{i},{id},{t},{time},{v},SGD,{v},SGD\n");
    }
    s + "<END>\n"
}

fn ledger(rows: &[(&str, &str, u64, &str)]) -> String {
    let mut s = LEDGER_HEADER.to_string();
    for (id, t, v, time) in rows {
        s += &format!("{id},{t},{v},SGD,{time}\n");
    }
    s
}

fn run(dir: &Dir, ledger_text: &str) -> Result<Reconciliation, Error> {
    let text = ledger_text.to_string();
    reconcile(
        &LocalDir::new(&dir.0),
        "ledger.csv",
        || Ok(std::io::Cursor::new(text.clone().into_bytes())),
        ReportOptions::default(),
    )
}

fn kinds(r: &Reconciliation) -> Vec<(FindingKind, String)> {
    r.findings()
        .map(|f| {
            let subject = f.request_id.clone().or(f.file.clone()).unwrap_or_default();
            (f.kind, subject)
        })
        .collect()
}

const DAY1: &str = "transactionItems_P1_SGD_20250601_P1SGD_000.csv";
const T: &str = "2025-06-01T10:00:00+08:00";

#[test]
fn everything_matches() {
    let dir = Dir::new("ok");
    dir.write(
        DAY1,
        &detail(&[("PAY-1", "PAYMENT", 1500, T), ("RFD-1", "REFUND", -300, T)]),
    );
    let r = run(
        &dir,
        &ledger(&[("PAY-1", "PAYMENT", 1500, T), ("RFD-1", "REFUND", 300, T)]),
    )
    .unwrap();
    assert_eq!((r.matched(), kinds(&r)), (2, vec![]));
}

#[test]
fn every_finding_kind() {
    let dir = Dir::new("kinds");
    dir.write(
        DAY1,
        &detail(&[
            ("OK", "PAYMENT", 100, T),
            ("AMOUNT", "PAYMENT", 199, T),
            ("SIGN", "REFUND", 50, T),
            ("TYPE", "REFUND", -100, T),
            ("EXTRA", "PAYMENT", 100, T),
            ("DUP", "PAYMENT", 100, T),
            ("DUP", "PAYMENT", 100, T),
            ("EXTRA", "PAYMENT", 100, T),
        ]),
    );
    // A currency differs: written by hand.
    dir.write(
        "transactionItems_P1_SGD_20250601_P1SGD_001.csv",
        &format!(
            "totalCount,netTotalAmount\n1,100\n{DETAIL_HEADER}T9,CCY,PAYMENT,{T},100,USD,100,SGD\n"
        ),
    );
    // A summary that disagrees with its rows (3 stated, 1 present).
    dir.write(
        "transactionItems_P1_SGD_20250601_P1SGD_002.csv",
        &format!("totalCount,netTotalAmount\n3,100\n{DETAIL_HEADER}T10,SUMOK,PAYMENT,{T},100,SGD,100,SGD\n"),
    );
    let r = run(
        &dir,
        &ledger(&[
            ("OK", "PAYMENT", 100, T),
            ("AMOUNT", "PAYMENT", 200, T),
            ("SIGN", "REFUND", 50, T),
            ("TYPE", "PAYMENT", 100, T),
            ("DUP", "PAYMENT", 100, T),
            ("CCY", "PAYMENT", 100, T),
            ("SUMOK", "PAYMENT", 100, T),
            ("GONE", "REFUND", 70, T),
        ]),
    )
    .unwrap();
    let got = kinds(&r);
    let want = vec![
        (FindingKind::AmountMismatch, "AMOUNT".to_string()),
        (FindingKind::AmountMismatch, "SIGN".into()),
        (FindingKind::TypeMismatch, "TYPE".into()),
        (FindingKind::MissingInLedger, "EXTRA".into()),
        (FindingKind::DuplicateInReport, "DUP".into()),
        (FindingKind::DuplicateInReport, "EXTRA".into()),
        (FindingKind::CurrencyMismatch, "CCY".into()),
        (
            FindingKind::SummaryMismatch,
            "transactionItems_P1_SGD_20250601_P1SGD_002.csv".into(),
        ),
        (FindingKind::MissingInReport, "GONE".into()),
    ];
    assert_eq!(got, want);
    assert_eq!(r.matched(), 3); // OK, DUP (first), SUMOK
    let f = r
        .findings()
        .find(|f| f.kind == FindingKind::AmountMismatch)
        .unwrap();
    assert_eq!((f.file.as_deref(), f.line), (Some(DAY1), Some(6)));
}

#[test]
fn cycle_boundaries_at_midnight_utc8() {
    let dir = Dir::new("boundary");
    let last = "2025-06-01T23:59:59+08:00";
    let first_next = "2025-06-01T16:00:00Z"; // 2025-06-02T00:00:00+08:00
    dir.write(DAY1, &detail(&[("LATE", "PAYMENT", 100, last)]));
    dir.write(
        "transactionItems_P1_SGD_20250602_P1SGD_000.csv",
        &detail(&[("EARLY", "PAYMENT", 100, first_next)]),
    );
    let r = run(
        &dir,
        &ledger(&[
            ("LATE", "PAYMENT", 100, last),
            ("EARLY", "PAYMENT", 100, first_next),
        ]),
    )
    .unwrap();
    assert_eq!((r.matched(), kinds(&r)), (2, vec![]));
    let dates: Vec<String> = r
        .cycles
        .iter()
        .map(|c| c.date.unwrap().to_string())
        .collect();
    assert_eq!(dates, ["2025-06-01", "2025-06-02"]);
    // The same records one second off fall in the neighbour cycle and are found.
    let r = run(
        &dir,
        &ledger(&[
            ("LATE", "PAYMENT", 100, "2025-06-02T00:00:00+08:00"),
            ("EARLY", "PAYMENT", 100, "2025-06-01T15:59:59Z"),
        ]),
    )
    .unwrap();
    let got = kinds(&r);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.contains(&(FindingKind::MissingInLedger, "LATE".into())));
    assert!(got.contains(&(FindingKind::MissingInReport, "LATE".into())));
    let t = |s| ClearingDate::of(&DateTime::parse(s).unwrap());
    assert_eq!(
        t("2025-06-01T23:59:59.999+08:00"),
        t("2025-06-01T00:00:00+08:00")
    );
    assert_ne!(t("2025-06-01T23:59:59+08:00"), t("2025-06-01T16:00:00Z"));
}

#[test]
fn multi_file_cycles_and_other_cycles_not_compared() {
    let dir = Dir::new("multi");
    for seq in 0..3 {
        let id = format!("PAY-{seq}");
        dir.write(
            &format!("transactionItems_P_1_SGD_20250601_P_1SGD_{seq:03}.csv"),
            &detail(&[(&id, "PAYMENT", 100, T)]),
        );
    }
    dir.write("README.txt", "not a report");
    dir.write(
        "summary_P_1_SGD_20250601_P_1SGD_000.csv",
        "totalCount,netTotalAmount,settlementCurrency\n3,300,SGD\n",
    );
    dir.write(
        "feeItems_P_1_SGD_20250601_P_1SGD_000.csv",
        "totalCount\n2\nfeeType,feeAmountValue,feeCurrency,transactionRequestId\nSERVICE,-2,SGD,PAY-0\nINTERCHANGE,-1,SGD,PAY-0\n",
    );
    dir.write(
        "settlement_P_1_SGD_S20250603001_P_1SGD_000.csv",
        "settlementBatchId,settlementAmountValue,settlementCurrency,valueDate\nS20250603001,297,SGD,2025-06-03\nclearingBatchId,settlementAmountValue,settlementCurrency\n20250601,297,SGD\n",
    );
    let r = run(
        &dir,
        &ledger(&[
            ("PAY-0", "PAYMENT", 100, T),
            ("PAY-1", "PAYMENT", 100, T),
            ("PAY-2", "PAYMENT", 100, T),
            ("LATER", "PAYMENT", 100, "2025-06-05T10:00:00+08:00"),
        ]),
    )
    .unwrap();
    assert_eq!((r.matched(), kinds(&r)), (3, vec![]));
    assert_eq!(r.cycles.len(), 1);
    assert_eq!(r.cycles[0].files.len(), 5);
    assert_eq!(r.cycles[0].fees.len(), 2);
    assert_eq!(r.ignored.len(), 1);
    assert_eq!(r.uncompared_own.len(), 1);
    assert_eq!(r.uncompared_own[0].1, 1);
    assert_eq!(r.settlements.len(), 1);
    assert_eq!(r.settlements[0].total.net().unwrap().minor, 297);
    // The Summary Report disagreeing with the details is a summary_mismatch naming it.
    dir.write(
        "summary_P_1_SGD_20250601_P_1SGD_000.csv",
        "totalCount,netTotalAmount,settlementCurrency\n4,300,SGD\n",
    );
    let r = run(
        &dir,
        &ledger(&[
            ("PAY-0", "PAYMENT", 100, T),
            ("PAY-1", "PAYMENT", 100, T),
            ("PAY-2", "PAYMENT", 100, T),
        ]),
    )
    .unwrap();
    assert_eq!(
        kinds(&r),
        [(
            FindingKind::SummaryMismatch,
            "summary_P_1_SGD_20250601_P_1SGD_000.csv".into()
        )]
    );
}

#[test]
fn empty_cycle_with_own_records_finds_them_missing() {
    let dir = Dir::new("empty");
    dir.write(DAY1, "totalCount,netTotalAmount\n0,0\n\n<END>\n");
    let r = run(&dir, &ledger(&[("PAY-1", "PAYMENT", 100, T)])).unwrap();
    assert_eq!(kinds(&r), [(FindingKind::MissingInReport, "PAY-1".into())]);
    let r = run(&dir, LEDGER_HEADER).unwrap();
    assert_eq!((r.matched(), kinds(&r)), (0, vec![]));
}

#[test]
fn a_cycle_dated_by_its_rows_when_the_batch_id_is_not_a_date() {
    let dir = Dir::new("rowdate");
    dir.write(
        "transactionItems_P1_SGD_CB000123_P1SGD_000.csv",
        &detail(&[("PAY-1", "PAYMENT", 100, T)]),
    );
    let r = run(&dir, &ledger(&[("PAY-1", "PAYMENT", 100, T)])).unwrap();
    assert_eq!((r.matched(), kinds(&r)), (1, vec![]));
    assert_eq!(r.cycles[0].date.unwrap().to_string(), "2025-06-01");
}

#[test]
fn bad_inputs_are_errors_naming_file_and_line() {
    let dir = Dir::new("bad");
    dir.write(
        DAY1,
        &format!("totalCount\n1\n{DETAIL_HEADER}T1,PAY-1,PAYMENT,{T},1x,SGD,1,SGD\n"),
    );
    let err = run(&dir, &ledger(&[("PAY-1", "PAYMENT", 100, T)])).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!("{DAY1}: line 4:")),
        "{err}"
    );
    dir.write(DAY1, &detail(&[("PAY-1", "PAYMENT", 100, T)]));
    let dup = ledger(&[("PAY-1", "PAYMENT", 100, T), ("PAY-1", "PAYMENT", 100, T)]);
    let err = run(&dir, &dup).unwrap_err();
    assert!(
        matches!(err, Error::DuplicateLedgerRecord { line: 3, .. }),
        "{err}"
    );
    let err = run(&dir, "transactionRequestId,transactionType\nA,PAYMENT\n").unwrap_err();
    assert!(matches!(err, Error::MissingColumn { line: 1, .. }), "{err}");
    let err = run(&dir, &format!("{LEDGER_HEADER}A,PAYMENT,-1,SGD,{T}\n")).unwrap_err();
    assert!(err.to_string().starts_with("ledger.csv: line 2:"), "{err}");
    let err = run(&dir, &format!("{LEDGER_HEADER}A,CAPTURE,1,SGD,{T}\n")).unwrap_err();
    assert!(err.to_string().contains("CAPTURE"), "{err}");
}
