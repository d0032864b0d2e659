//! Reconciles a folder of Alipay+ settlement reports with the merchant's own records.
//!
//! ```sh
//! cargo run -q -p alipayplus-reconcile --example reconcile -- --reports DIR --ledger FILE [--json]
//! ```
//!
//! DIR holds report files (other files are ignored with a note on stderr); FILE is CSV with
//! the header `transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime`
//! (any column order, value in minor units, time RFC 3339). Prints a table per cycle, or with
//! `--json` one JSON object. Exit 0: at least one cycle compared, every report file placed
//! and nothing found; 1: findings; 2: an input error (unreadable or unplaceable report file,
//! undatable cycle, no Transaction Detail Report: "nothing to reconcile").
//! `--peak-memory` adds the process's peak resident size (VmHWM, Linux) to stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use alipayplus_reconcile::fetch::LocalDir;
use alipayplus_reconcile::job::{self, CycleReport, Reconciliation, SettlementBatch, Verdict};
use alipayplus_reconcile::{Error, Finding, ReportOptions, RowTotals};
use alipayplus_types::{Amount, SignedAmount};
use serde_json::{Value, json};

const USAGE: &str = "usage: reconcile --reports DIR --ledger FILE [--json] [--peak-memory]";

struct Args {
    reports: PathBuf,
    ledger: PathBuf,
    json: bool,
    peak_memory: bool,
}

fn parse_args() -> Result<Args, String> {
    let (mut reports, mut ledger, mut json, mut peak_memory) = (None, None, false, false);
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--reports") => reports = args.next().map(PathBuf::from),
            Some("--ledger") => ledger = args.next().map(PathBuf::from),
            Some("--json") => json = true,
            Some("--peak-memory") => peak_memory = true,
            _ => return Err(format!("unexpected argument {arg:?}\n{USAGE}")),
        }
    }
    match (reports, ledger) {
        (Some(reports), Some(ledger)) => Ok(Args {
            reports,
            ledger,
            json,
            peak_memory,
        }),
        _ => Err(USAGE.to_string()),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let ledger_name = args.ledger.display().to_string();
    let open_ledger = || {
        std::fs::File::open(&args.ledger).map_err(|source| Error::Io {
            file: ledger_name.clone(),
            source,
        })
    };
    let result = job::reconcile(
        &LocalDir::new(&args.reports),
        &ledger_name,
        open_ledger,
        ReportOptions::default(),
    );
    if args.peak_memory {
        eprintln!(
            "peak resident size (VmHWM): {}",
            peak_rss().unwrap_or_else(|| "unknown".into())
        );
    }
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for (file, why) in &result.ignored {
        eprintln!("note: ignored {file}: {why}");
    }
    if args.json {
        println!("{}", to_json(&result));
    } else {
        print_table(&result);
    }
    ExitCode::from(match result.verdict() {
        Verdict::Clean => 0,
        Verdict::Findings(_) => 1,
    })
}

/// `VmHWM` from /proc/self/status (Linux): the peak resident set size the kernel measured.
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line["VmHWM:".len()..].trim().to_string())
}

fn money(a: Option<SignedAmount>) -> String {
    a.map_or_else(|| "-".into(), |a| a.to_string())
}

fn totals(t: &RowTotals) -> String {
    match (t.count, t.net()) {
        (0, _) => "0".into(),
        (n, Some(net)) => format!("{n}, net {net}"),
        (n, None) => format!("{n}, net not summable (several currencies)"),
    }
}

fn print_table(r: &Reconciliation) {
    for c in &r.cycles {
        print_cycle(c);
    }
    for s in &r.settlements {
        print_settlement(s);
    }
    for (date, n) in &r.uncompared_own {
        println!(
            "own records of {date}: {n}, no Transaction Detail Report for that cycle: not compared"
        );
    }
    let findings = r.findings().count();
    println!("\nmatched {}, findings {findings}", r.matched());
}

fn print_cycle(c: &CycleReport) {
    let date = c
        .date
        .map_or_else(|| "unknown date".into(), |d| d.to_string());
    println!("\n== clearing cycle {date} (00:00:00-23:59:59 UTC+8)");
    for b in &c.batches {
        println!("  batch            {b}");
    }
    println!("  files            {}", c.files.len());
    if let Some(res) = &c.result {
        println!("  own records      {}", totals(&res.own));
        println!("  report rows      {}", totals(&res.report));
        println!("  matched          {}", res.matched);
    }
    if let Some(s) = &c.summary_report {
        let count = s.count.map_or_else(|| "-".into(), |n| n.to_string());
        println!(
            "  summary report   totalCount {count}, net {}",
            money(s.net)
        );
    }
    for (fee_type, t) in &c.fees {
        let fee_type = if fee_type.is_empty() {
            "(no feeType)"
        } else {
            fee_type
        };
        println!("  fees {fee_type:<11} {}", totals(t));
    }
    for note in &c.notes {
        println!("  note             {note}");
    }
    let findings: Vec<&Finding> = c.findings().collect();
    println!("  findings         {}", findings.len());
    for f in findings {
        let subject = f.request_id.as_deref().or(f.file.as_deref()).unwrap_or("");
        let at = match (&f.file, f.line) {
            (Some(file), Some(line)) if f.request_id.is_some() => format!(" ({file}:{line})"),
            _ => String::new(),
        };
        println!("    {:<20} {subject}{at}: {}", f.kind.as_str(), f.detail);
    }
}

fn print_settlement(s: &SettlementBatch) {
    println!("\n== settlement batch {}", s.batch);
    for (name, value) in &s.summary.fields {
        println!("  {name:<22} {value}");
    }
    for (batch, amount) in &s.rows {
        println!(
            "  clearing batch {:<12} {}",
            batch.as_deref().unwrap_or("-"),
            money(*amount)
        );
    }
    println!("  rows total             {}", totals(&s.total));
    println!("  note                   {}", job::SETTLEMENT_RELATION);
}

fn amount_json(a: SignedAmount) -> Value {
    json!({"currency": a.currency.as_str(), "value": a.minor.to_string()})
}

fn unsigned_json(a: Amount) -> Value {
    json!({"currency": a.currency.as_str(), "value": a.minor().to_string()})
}

fn totals_json(t: &RowTotals) -> Value {
    json!({"count": t.count, "net": t.net().map(amount_json)})
}

fn finding_json(f: &Finding, c: &CycleReport) -> Value {
    let mut v = json!({"kind": f.kind.as_str(), "detail": f.detail});
    let o = v.as_object_mut().expect("object");
    match &f.request_id {
        Some(id) => {
            o.insert("transactionRequestId".into(), json!(id));
            if let Some(file) = &f.file {
                o.insert("reportFile".into(), json!(file));
            }
        }
        None => {
            o.insert("file".into(), json!(f.file));
        }
    }
    if let Some(line) = f.line {
        o.insert("line".into(), json!(line));
    }
    if let Some(date) = c.date {
        o.insert("cycle".into(), json!(date.to_string()));
    }
    if let Some((t, a)) = &f.ledger {
        o.insert("ledgerType".into(), json!(t.as_str()));
        o.insert("ledgerAmount".into(), unsigned_json(*a));
    }
    if let Some((t, a)) = &f.report {
        o.insert("reportType".into(), json!(t.as_str()));
        o.insert("reportAmount".into(), amount_json(*a));
    }
    v
}

fn to_json(r: &Reconciliation) -> Value {
    let cycles: Vec<Value> = r
        .cycles
        .iter()
        .map(|c| {
            json!({
                "cycle": c.date.map(|d| d.to_string()),
                "batches": c.batches,
                "files": c.files,
                "compared": c.result.is_some(),
                "own": c.result.as_ref().map(|res| totals_json(&res.own)),
                "report": c.result.as_ref().map(|res| totals_json(&res.report)),
                "matched": c.result.as_ref().map_or(0, |res| res.matched),
                "summaryReport": c.summary_report.map(|s| json!({"totalCount": s.count, "net": s.net.map(amount_json)})),
                "fees": c.fees.iter().map(|(t, tot)| json!({"feeType": t, "count": tot.count, "total": tot.net().map(amount_json)})).collect::<Vec<_>>(),
                "findings": c.findings().count(),
                "notes": c.notes,
            })
        })
        .collect();
    let settlements: Vec<Value> = r
        .settlements
        .iter()
        .map(|s| {
            json!({
                "batch": s.batch,
                "files": s.files,
                "summary": s.summary.fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "rows": s.rows.iter().map(|(b, a)| json!({"clearingBatchId": b, "amount": a.map(amount_json)})).collect::<Vec<_>>(),
                "total": totals_json(&s.total),
                "relation": job::SETTLEMENT_RELATION,
            })
        })
        .collect();
    let findings: Vec<Value> = r
        .cycles
        .iter()
        .flat_map(|c| c.findings().map(move |f| finding_json(f, c)))
        .collect();
    json!({
        "cycles": cycles,
        "settlements": settlements,
        "matched": r.matched(),
        "findings": findings,
        "ignored": r.ignored.iter().map(|(f, why)| json!({"file": f, "reason": why})).collect::<Vec<_>>(),
        "uncompared": r.uncompared_own.iter().map(|(d, n)| json!({"cycle": d.to_string(), "ownRecords": n})).collect::<Vec<_>>(),
    })
}
