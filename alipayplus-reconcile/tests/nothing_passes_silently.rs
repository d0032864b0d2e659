//! Issue 19, reconciliation: a run says "clean" only when it compared. Each test reproduces a
//! defect found before the fix (placing by file name alone, skipped ambiguous names, empty
//! folders, undatable cycles, first-one-wins duplicate columns, unchecked sums).

use std::path::PathBuf;

use alipayplus_reconcile::fetch::LocalDir;
use alipayplus_reconcile::job::{Reconciliation, Verdict, reconcile};
use alipayplus_reconcile::{Error, FindingKind, ReportOptions};

const LEDGER_HEADER: &str = "transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n";
const DETAIL_HEADER: &str = "transactionId,transactionRequestId,transactionType,transactionTime,transactionAmountValue,transactionCurrency,settlementAmountValue,settlementCurrency\n";
/// The name from the issue: the agreement id holds `_`, so the name splits four ways.
const UNDERSCORE: &str =
    "transactionItems_1022182743758679985_USD_20250319_AGR_459470_ALIPAY_CN_000.csv";
const T: &str = "2025-03-19T10:00:00+08:00";

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!(
            "alipayplus-reconcile-silent-{}-{name}",
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

fn run(dir: &Dir, ledger: &str) -> Result<Reconciliation, Error> {
    let text = ledger.to_string();
    reconcile(
        &LocalDir::new(&dir.0),
        "ledger.csv",
        || Ok(std::io::Cursor::new(text.clone().into_bytes())),
        ReportOptions::default(),
    )
}

/// A USD Transaction Detail Report whose summary states `summary_ids` (e.g.
/// `clearingBatchId,settlementCurrency` / `20250319,USD`) before the totals.
fn detail(summary_ids: (&str, &str), rows: &[(&str, i64)]) -> String {
    let net: i64 = rows.iter().map(|r| r.1).sum();
    let (names, values) = summary_ids;
    let mut s = format!(
        "totalCount,netTotalAmount{names}\n{},{net}{values}\n\n{DETAIL_HEADER}",
        rows.len()
    );
    for (i, (id, v)) in rows.iter().enumerate() {
        let t = if *v < 0 { "REFUND" } else { "PAYMENT" };
        s += &format!("T{i},{id},{t},{T},{v},USD,{v},USD\n");
    }
    s
}

const IDS: (&str, &str) = (",clearingBatchId,settlementCurrency", ",20250319,USD");

fn ledger(rows: &[(&str, u64)]) -> String {
    let mut s = LEDGER_HEADER.to_string();
    for (id, v) in rows {
        s += &format!("{id},PAYMENT,{v},USD,{T}\n");
    }
    s
}

#[test]
fn an_underscore_agreement_id_is_placed_by_the_files_summary() {
    let dir = Dir::new("underscore");
    dir.write(UNDERSCORE, &detail(IDS, &[("PAY-1", 1500)]));
    // The fee report's summary names no batch: it takes the detail report's placing.
    dir.write(
        "feeItems_1022182743758679985_USD_20250319_AGR_459470_ALIPAY_CN_000.csv",
        "totalCount\n1\nfeeType,feeAmountValue,feeCurrency\nSERVICE,-2,USD\n",
    );
    let r = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap();
    assert_eq!(r.matched(), 1);
    assert_eq!(r.verdict(), Verdict::Clean);
    assert_eq!(r.cycles.len(), 1);
    assert_eq!(r.cycles[0].files.len(), 2);
    assert_eq!(
        r.cycles[0].batches,
        ["1022182743758679985_USD_20250319_AGR_459470_ALIPAY_CN"]
    );
    assert_eq!(r.cycles[0].fees.len(), 1);
    // A finding in that file is found, not skipped.
    let r = run(&dir, &ledger(&[("PAY-1", 1400)])).unwrap();
    assert_eq!(r.verdict(), Verdict::Findings(1));
}

#[test]
fn a_report_file_that_cannot_be_placed_is_an_error_naming_it() {
    let dir = Dir::new("unplaceable");
    // Its summary says nothing about its batch, and no detail report shares its ids.
    dir.write(UNDERSCORE, &detail(("", ""), &[("PAY-1", 1500)]));
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(matches!(err, Error::UnplaceableReport { .. }), "{err}");
    assert!(err.to_string().contains(UNDERSCORE), "{err}");
    // A summary that contradicts the name (another batch) is no placing either.
    dir.write(
        UNDERSCORE,
        &detail(
            (",clearingBatchId,settlementCurrency", ",20250320,USD"),
            &[("PAY-1", 1500)],
        ),
    );
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(matches!(err, Error::UnplaceableReport { .. }), "{err}");
    // A report-file name without a valid structure is an error, not a note.
    let dir = Dir::new("badname");
    dir.write(
        "transactionItems_P_SGD_20250319_PSGD_000.csv",
        &detail(("", ""), &[("PAY-1", 1500)]),
    );
    dir.write("summary_P_SGD_000.csv", "totalCount\n0\n");
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(err.to_string().contains("summary_P_SGD_000.csv"), "{err}");
}

#[test]
fn nothing_to_reconcile_is_an_error_naming_the_folder() {
    let dir = Dir::new("empty");
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(matches!(err, Error::NothingToReconcile { .. }), "{err}");
    assert!(err.to_string().contains("nothing to reconcile"), "{err}");
    assert!(
        err.to_string().contains(&dir.0.display().to_string()),
        "{err}"
    );
    // Only a Summary Report, and files that are not reports: still nothing compared.
    dir.write(
        "summary_P_USD_20250319_PUSD_000.csv",
        "totalCount,netTotalAmount,settlementCurrency\n1,1500,USD\n",
    );
    dir.write("transactionItems_P_USD_20250319_PUSD_000.csv.part", "x");
    dir.write("transactionItems_P_USD_20250319_PUSD_000.txt", "x");
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(matches!(err, Error::NothingToReconcile { .. }), "{err}");
}

#[test]
fn a_clearing_report_without_its_detail_report_is_an_error() {
    let dir = Dir::new("nodetail");
    dir.write(
        "transactionItems_P_USD_20250319_PUSD_000.csv",
        &detail(IDS, &[("PAY-1", 1500)]),
    );
    dir.write(
        "feeItems_P_USD_20250320_PUSD_000.csv",
        "totalCount\n1\nfeeType,feeAmountValue\nSERVICE,-2\n",
    );
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(matches!(err, Error::NoDetailReport { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("feeItems_P_USD_20250320_PUSD_000.csv"),
        "{err}"
    );
}

#[test]
fn an_undatable_cycle_is_an_error() {
    let dir = Dir::new("undatable");
    // clearingBatchId is not yyyyMMdd and the rows carry no transactionTime.
    dir.write(
        "transactionItems_P_USD_CB000123_PUSD_000.csv",
        "totalCount,netTotalAmount\n1,1500\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency\nPAY-1,PAYMENT,1500,USD\n",
    );
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(matches!(err, Error::UndatableCycle { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("transactionItems_P_USD_CB000123_PUSD_000.csv"),
        "{err}"
    );
}

#[test]
fn other_files_are_noted_and_uncompared_cycles_are_listed_not_found() {
    let dir = Dir::new("notes");
    dir.write(
        "transactionItems_P_USD_20250319_PUSD_000.csv",
        &detail(IDS, &[("PAY-1", 1500)]),
    );
    dir.write("transactionItems_P_USD_20250319_PUSD_001.csv.part", "x");
    dir.write("notes.txt", "x");
    dir.write("report_P_USD_20250319_PUSD_000.csv", "x");
    let mut text = ledger(&[("PAY-1", 1500)]);
    text += "LATER,PAYMENT,100,USD,2025-03-25T10:00:00+08:00\n";
    let r = run(&dir, &text).unwrap();
    assert_eq!(r.verdict(), Verdict::Clean);
    assert_eq!(r.ignored.len(), 3);
    assert_eq!(r.uncompared_own.len(), 1);
    assert_eq!(r.uncompared_own[0].0.to_string(), "2025-03-25");
}

#[test]
fn the_library_verdict_tells_clean_from_findings() {
    let dir = Dir::new("verdict");
    dir.write(
        "transactionItems_P_USD_20250319_PUSD_000.csv",
        &detail(IDS, &[("PAY-1", 1500), ("PAY-2", 100)]),
    );
    let r = run(&dir, &ledger(&[("PAY-1", 1500), ("PAY-2", 100)])).unwrap();
    assert_eq!((r.verdict(), r.compared_cycles()), (Verdict::Clean, 1));
    let r = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap();
    assert_eq!(r.verdict(), Verdict::Findings(1));
    assert_eq!(
        r.findings().next().map(|f| f.kind),
        Some(FindingKind::MissingInLedger)
    );
}

#[test]
fn a_column_named_twice_is_an_error_naming_file_and_column() {
    let dir = Dir::new("dupcol");
    let name = "transactionItems_P_USD_20250319_PUSD_000.csv";
    // The detail header names transactionAmountValue twice.
    dir.write(
        name,
        "totalCount\n1\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionAmountValue\nPAY-1,PAYMENT,1500,USD,1\n",
    );
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateColumn { file, line: 3, column } if file == name && column == "transactionAmountValue"),
        "{err}"
    );
    // The summary header.
    dir.write(
        name,
        &format!(
            "totalCount,totalCount\n1,2\n{DETAIL_HEADER}T1,PAY-1,PAYMENT,{T},1500,USD,1500,USD\n"
        ),
    );
    let err = run(&dir, &ledger(&[("PAY-1", 1500)])).unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateColumn { line: 1, column, .. } if column == "totalCount"),
        "{err}"
    );
    // The ledger header.
    dir.write(name, &detail(IDS, &[("PAY-1", 1500)]));
    let dup = format!("transactionTime,{LEDGER_HEADER}{T},PAY-1,PAYMENT,1500,USD,{T}\n");
    let err = run(&dir, &dup).unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateColumn { file, line: 1, column } if file == "ledger.csv" && column == "transactionTime"),
        "{err}"
    );
}

#[test]
fn sums_that_overflow_are_errors_naming_file_and_line() {
    let dir = Dir::new("overflow");
    let name = "transactionItems_P_USD_20250319_PUSD_000.csv";
    let big = i64::MAX;
    dir.write(
        name,
        &format!(
            "totalCount\n2\n{DETAIL_HEADER}T1,PAY-1,PAYMENT,{T},{big},USD,{big},USD\nT2,PAY-2,PAYMENT,{T},1,USD,1,USD\n"
        ),
    );
    let err = run(&dir, &ledger(&[("PAY-1", big as u64)])).unwrap_err();
    assert!(
        matches!(&err, Error::AmountOverflow { file, line: 5, .. } if file == name),
        "{err}"
    );
    // The own records of the cycle.
    dir.write(name, &detail(IDS, &[("PAY-1", 1)]));
    let err = run(&dir, &ledger(&[("PAY-1", big as u64), ("PAY-2", 1)])).unwrap_err();
    assert!(
        matches!(&err, Error::AmountOverflow { file, line: 3, .. } if file == "ledger.csv"),
        "{err}"
    );
}
