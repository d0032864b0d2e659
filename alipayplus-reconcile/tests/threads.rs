//! Issue 24: parallelism does not change results. The same folder reconciled on 1 to 8
//! threads gives the same findings in the same order, the same totals and the same errors,
//! with files large enough for many blocks, findings spread over them, ids named twice across
//! blocks, and files only the streaming parser may read (quotes, CRLF).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use alipayplus_reconcile::fetch::LocalDir;
use alipayplus_reconcile::job::reconcile_with_threads;
use alipayplus_reconcile::{FindingKind, ReportOptions};

const LEDGER_HEADER: &str = "transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n";
const DETAIL_HEADER: &str = "transactionId,transactionRequestId,transactionType,transactionTime,transactionAmountValue,transactionCurrency,settlementAmountValue,settlementCurrency,pspId,referenceMerchantId\n";
const ROWS: u64 = 40_000;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    let path = std::env::temp_dir().join(format!(
        "alipayplus-reconcile-threads-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(path.join("reports")).unwrap();
    Dir(path)
}

fn id(i: u64) -> String {
    if i % 10 == 9 {
        format!("RFD{i:012}")
    } else {
        // Some ids too long to be kept inline.
        format!(
            "PAY{i:012}{}",
            if i % 7 == 0 { "-LONG-REQUEST-ID" } else { "" }
        )
    }
}

/// A report of rows `range`, with planted differences, and the matching summary.
fn report(range: std::ops::Range<u64>, eol: &str, quote_one: bool) -> String {
    let mut rows = String::new();
    let (mut count, mut net) = (0u64, 0i64);
    for i in range {
        let refund = i % 10 == 9;
        let mut v = (1 + i % 5000) as i64;
        if i % 1013 == 0 {
            v += 1; // amount mismatch
        }
        let v = if refund { -v } else { v };
        let t = if refund { "REFUND" } else { "PAYMENT" };
        let mut rid = id(i);
        if i % 4999 == 0 {
            rid = format!("UNKNOWN-{}", i % 3); // unknown ids, repeated across blocks
        }
        if i % 7919 == 0 && (25_000..32_000).contains(&i) {
            rid = id(5); // a known id named again, in a later file
        }
        let rid = if quote_one && i % 1000 == 1 {
            format!("\"{rid}\"")
        } else {
            rid
        };
        let secs = i % 86_400;
        let time = format!(
            "2025-06-01T{:02}:{:02}:{:02}+08:00",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        rows += &format!("{i},{rid},{t},{time},{v},SGD,{v},SGD,1022172000000000001,M1{eol}");
        count += 1;
        net += v;
    }
    format!(
        "totalCount,netTotalAmount,settlementCurrency,clearingBatchId{eol}{count},{net},SGD,20250601{eol}{eol}{}{rows}<END>{eol}",
        DETAIL_HEADER.replace('\n', eol)
    )
}

fn ledger(n: u64) -> String {
    let mut s = LEDGER_HEADER.to_string();
    // Shuffled: every 7th record first, then the rest.
    for i in (0..n)
        .filter(|i| i % 7 == 3)
        .chain((0..n).filter(|i| i % 7 != 3))
    {
        let (t, v) = if i % 10 == 9 {
            ("REFUND", 1 + i % 5000)
        } else {
            ("PAYMENT", 1 + i % 5000)
        };
        let secs = i % 86_400;
        s += &format!(
            "{},{t},{v},SGD,2025-06-01T{:02}:{:02}:{:02}+08:00\n",
            id(i),
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
    }
    // Own records of other days: counted, not compared.
    s += "LATER-1,PAYMENT,5,SGD,2025-06-03T10:00:00+08:00\nLATER-2,PAYMENT,5,SGD,2025-06-04T10:00:00+08:00\n";
    s
}

fn run(d: &Dir, threads: usize) -> String {
    let ledger = d.0.join("ledger.csv");
    let result = reconcile_with_threads(
        &LocalDir::new(d.0.join("reports")),
        "ledger.csv",
        || Ok(std::fs::File::open(&ledger).unwrap()),
        ReportOptions::default(),
        NonZeroUsize::new(threads).unwrap(),
    );
    match result {
        Ok(r) => format!("{:?}\n{:?}\n{:?}", r.cycles, r.uncompared_own, r.verdict()),
        Err(e) => format!("error {e}"),
    }
}

fn same_for_any_thread_count(d: &Dir) -> String {
    let one = run(d, 1);
    for threads in [2, 3, 4, 8] {
        assert!(run(d, threads) == one, "{threads} threads differ from 1");
    }
    one
}

#[test]
fn the_same_findings_in_the_same_order_for_any_thread_count() {
    let d = dir("blocks");
    let name = |seq: u32| format!("transactionItems_P_SGD_20250601_PSGD_{seq:03}.csv");
    let files = [
        (0..15_000, "\n", false),
        (15_000..25_000, "\r\n", false),
        (25_000..32_000, "\n", false),
        (32_000..ROWS, "\n", true),
    ];
    for (seq, (range, eol, quote)) in files.into_iter().enumerate() {
        let text = report(range, eol, quote);
        std::fs::write(d.0.join("reports").join(name(seq as u32)), text).unwrap();
    }
    std::fs::write(d.0.join("ledger.csv"), ledger(ROWS + 5)).unwrap();
    let out = same_for_any_thread_count(&d);
    // What is in it: every kind planted, in file order, then the unmatched own records.
    let ledger_path = d.0.join("ledger.csv");
    let r = reconcile_with_threads(
        &LocalDir::new(d.0.join("reports")),
        "ledger.csv",
        || Ok(std::fs::File::open(&ledger_path).unwrap()),
        ReportOptions::default(),
        NonZeroUsize::new(2).unwrap(),
    )
    .unwrap();
    let kinds: Vec<FindingKind> = r.findings().map(|f| f.kind).collect();
    for kind in [
        FindingKind::AmountMismatch,
        FindingKind::MissingInLedger,
        FindingKind::DuplicateInReport,
        FindingKind::MissingInReport,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} not found");
    }
    let lines: Vec<u64> = r
        .findings()
        .filter(|f| f.file.as_deref() == Some(name(1).as_str()))
        .filter_map(|f| f.line)
        .collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "file order");
    assert_eq!(r.uncompared_own.len(), 2);
    // The block reader read the LF and the CRLF files; the streaming parser the one with an
    // id named again and the quoted one.
    let notes = r.cycles[0].notes.join("\n");
    assert!(
        !notes.contains(&name(0)) && !notes.contains(&name(1)),
        "{notes}"
    );
    assert!(
        notes.contains(&name(2)) && notes.contains(&name(3)),
        "{notes}"
    );
    assert!(out.contains("MissingInReport"));
    // Lines as the streaming parser counts them (summary header, values, blank line, detail
    // header, then one line per row), in a later block of the LF file and in the CRLF file.
    let line_of = |i: u64| {
        r.findings()
            .find(|f| f.request_id.as_deref() == Some(id(i).as_str()))
            .map(|f| (f.kind, f.file.clone().unwrap_or_default(), f.line))
    };
    assert_eq!(
        line_of(13_169),
        Some((FindingKind::AmountMismatch, name(0), Some(4 + 13_169 + 1)))
    );
    assert_eq!(
        line_of(15_195),
        Some((FindingKind::AmountMismatch, name(1), Some(4 + 195 + 1)))
    );
}

#[test]
fn errors_are_the_same_for_any_thread_count() {
    let d = dir("errors");
    let name = "transactionItems_P_SGD_20250601_PSGD_000.csv";
    std::fs::write(d.0.join("reports").join(name), report(0..ROWS, "\n", false)).unwrap();
    // A duplicate own record far into the ledger, after a bad one.
    let mut text = ledger(ROWS);
    text += &format!("{},PAYMENT,1,SGD,2025-06-01T10:00:00+08:00\n", id(12));
    std::fs::write(d.0.join("ledger.csv"), &text).unwrap();
    let out = same_for_any_thread_count(&d);
    assert!(out.starts_with("error ledger.csv: line"), "{out}");
    assert!(out.contains("appears twice"), "{out}");
    // A malformed report row in a late block.
    std::fs::write(d.0.join("ledger.csv"), ledger(ROWS)).unwrap();
    let bad = report(0..ROWS, "\n", false).replace("\n39000,", "\n39000,x,");
    std::fs::write(d.0.join("reports").join(name), bad).unwrap();
    let out = same_for_any_thread_count(&d);
    assert!(out.starts_with(&format!("error {name}: line")), "{out}");
}
