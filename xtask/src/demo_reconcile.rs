//! The day's reconciliation, the last section of `cargo xtask demo`: the simulator writes the
//! settlement reports of every clearing cycle its settled payments and refunds touched
//! (`POST /sim/reports`) into the chroot of a real OpenSSH sshd in the Alipay+ SFTP layout,
//! `alipayplus_reconcile::sftp` fetches them (when openssh-server is installed; otherwise the
//! demo reads the simulator's folder directly and says so), and `alipayplus-reconcile` matches
//! them with the demo's own records (no finding); then once more with planted discrepancies (one amount changed, one row
//! dropped), which must be found exactly.
//!
//! Crossing midnight UTC+8 cannot make it flake: the simulator writes every cycle any of its
//! transactions fell into (not "today's"), and the own records carry the times Alipay+ gave
//! (`paymentTime` / `refundTime`), so both sides bucket every transaction into the same cycle.
//! Nothing here reads the clock.

use std::path::Path;
use std::time::Duration;

use alipayplus_reconcile::fetch::LocalDir;
use alipayplus_reconcile::job::{self, Reconciliation};
use alipayplus_reconcile::sftp::{
    self, Fetched, HostKeyPin, PRODUCTION_ROOT, ReportDay, SftpServer,
};
use alipayplus_reconcile::{Error, FindingKind, LedgerRecord, ReportOptions, TransactionType};
use alipayplus_sim::sshd::{self, KeyType, Sshd};

type Res<T> = Result<T, String>;

fn step(n: &str, what: &str, detail: impl std::fmt::Display) {
    println!("[{n:>3}] {what:<26} {detail}");
}

/// Reconciles the simulator at `sim_base_url` with `ledger` (every payment and refund the demo
/// saw succeed, with the time Alipay+ gave), writing reports under `report_dir` (its `clean/`
/// and `planted/` folders are replaced, and `ledger.csv` written beside them).
///
/// The ledger must list every payment and refund that the simulator settled in the run:
/// one it lacks is rightly a `missing_in_ledger` finding and fails the first pass.
pub fn run(sim_base_url: &str, report_dir: &Path, ledger: &[LedgerRecord]) -> Res<()> {
    let payment = ledger
        .iter()
        .find(|r| r.transaction_type == TransactionType::Payment)
        .ok_or("the demo's ledger has no payment to reconcile")?;
    std::fs::create_dir_all(report_dir).map_err(|e| format!("{}: {e}", report_dir.display()))?;
    let ledger_path = report_dir.join("ledger.csv");
    std::fs::write(&ledger_path, ledger_csv(ledger))
        .map_err(|e| format!("{}: {e}", ledger_path.display()))?;

    // 1. The reports as Alipay+ would deliver them (over SFTP when sshd is here): every row
    //    matches.
    let clean = report_dir.join("clean");
    deliver(sim_base_url, &clean)?;
    let result = reconcile(&clean, &ledger_path)?;
    describe(&result);
    let findings: Vec<String> = result
        .findings()
        .map(|f| format!("{} {}", f.kind, f.detail))
        .collect();
    step(
        "r2",
        "reconcile",
        format!(
            "matched {} of {} own records, findings {}",
            result.matched(),
            ledger.len(),
            findings.len()
        ),
    );
    if !findings.is_empty() || result.matched() != ledger.len() as u64 {
        return Err(format!("reconciliation of the clean reports: {findings:?}"));
    }

    // 2. Planted: one amount off by one minor unit, and one row dropped (the last record that
    //    is not that payment, if any).
    let changed = payment.request_id.clone();
    let value = i64::try_from(payment.amount.minor()).map_err(|e| e.to_string())? + 1;
    let dropped = ledger
        .iter()
        .rev()
        .find(|r| r.request_id != changed)
        .map(|r| r.request_id.clone());
    let planted = report_dir.join("planted");
    let plant = serde_json::json!({
        "changeAmount": [{"transactionRequestId": changed, "value": value}],
        "drop": dropped.iter().collect::<Vec<_>>(),
    });
    let written = write_reports(sim_base_url, &planted, plant)?;
    let dropped_text = dropped.as_deref().unwrap_or("none");
    step(
        "r3",
        "planted reports",
        format!("{written}; {changed} -> {value}, {dropped_text} dropped"),
    );
    let result = reconcile(&planted, &ledger_path)?;
    let mut found: Vec<(FindingKind, String)> = result
        .findings()
        .map(|f| {
            (
                f.kind,
                f.request_id.clone().or(f.file.clone()).unwrap_or_default(),
            )
        })
        .collect();
    for f in result.findings() {
        step(
            "r4",
            f.kind.as_str(),
            format!("{}: {}", f.request_id.as_deref().unwrap_or(""), f.detail),
        );
    }
    let mut want = vec![(FindingKind::AmountMismatch, changed)];
    want.extend(dropped.map(|id| (FindingKind::MissingInReport, id)));
    found.sort();
    want.sort();
    if found != want {
        return Err(format!(
            "planted discrepancies: expected {want:?}, found {found:?}"
        ));
    }
    step(
        "r5",
        "discrepancies found",
        format!("{} of {} planted, nothing else", found.len(), want.len()),
    );
    Ok(())
}

/// Puts the simulator's clean reports into `clean` as Alipay+ delivers them: with Debian's
/// openssh-server installed (and root), the simulator writes them into the chroot of an sshd
/// started here, in the SFTP folder layout, and `alipayplus_reconcile::sftp` fetches each
/// generation date into `clean` (Ed25519 user key, host key pinned by fingerprint); otherwise
/// the simulator writes them into `clean` directly, and the demo says so.
fn deliver(base: &str, clean: &Path) -> Res<()> {
    if let Some(why) = sshd::unavailable() {
        let written = write_reports(base, clean, serde_json::json!({}))?;
        step(
            "r1",
            "settlement reports",
            format!("{written}; NOT over SFTP ({why}): read from the simulator's folder directly"),
        );
        return Ok(());
    }
    // sshd wants the chroot and every folder above it root-owned and not world-writable:
    // under target/, not the temporary folder.
    let base_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join(format!("demo-sftp-{}", std::process::id()));
    let result = deliver_over_sftp(base, clean, &base_dir);
    let _ = std::fs::remove_dir_all(&base_dir);
    result
}

fn deliver_over_sftp(base: &str, clean: &Path, base_dir: &Path) -> Res<()> {
    let sshd =
        Sshd::start(base_dir).map_err(|e| format!("starting sshd for the SFTP fetch: {e}"))?;
    let root = sshd.chroot().join(PRODUCTION_ROOT.trim_start_matches('/'));
    let (written, out) = write_reports_json(base, &root, serde_json::json!({"sftpLayout": true}))?;
    step(
        "r1",
        "settlement reports",
        format!(
            "{written}, into sshd's chroot under {PRODUCTION_ROOT}/{{clearing,settlement}}/<participantId>/<yyyyMMdd>"
        ),
    );
    let fingerprint = sshd.fingerprint(KeyType::Ed25519)?;
    let server = SftpServer::parse(
        &sshd.url(),
        sshd.user_key(KeyType::Ed25519),
        HostKeyPin::fingerprint(&fingerprint).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let participant = out["participantId"].as_str().unwrap_or_default();
    let dates: Vec<&str> = out["dates"]
        .as_array()
        .map(|d| d.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if dates.is_empty() {
        return Err("the simulator wrote no report folder to fetch".into());
    }
    let mut fetched = 0;
    for date in &dates {
        let day = ReportDay::new(participant, date).map_err(|e| e.to_string())?;
        match sftp::fetch_day(&server, &day, clean).map_err(|e| e.to_string())? {
            Fetched::Complete(files) => fetched += files.files.len(),
            Fetched::NoClearingFolder { folder } => {
                return Err(format!("SFTP: no clearing folder {folder}"));
            }
        }
    }
    step(
        "r1b",
        "SFTP fetch",
        format!(
            "{fetched} files of {} from OpenSSH sshd at {} (host key {fingerprint} pinned), \
             .part then rename, into {}",
            dates.join(", "),
            sshd.url(),
            clean.display()
        ),
    );
    Ok(())
}

/// The own records as the `reconcile` example's ledger CSV.
fn ledger_csv(ledger: &[LedgerRecord]) -> String {
    let mut csv = String::from(
        "transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n",
    );
    for r in ledger {
        csv += &format!(
            "{},{},{},{},{}\n",
            quoted(&r.request_id),
            r.transaction_type.as_str(),
            r.amount.minor(),
            r.amount.currency,
            r.time.as_str()
        );
    }
    csv
}

fn quoted(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// `POST /sim/reports` into a fresh `dir`; returns a one-line description.
fn write_reports(base: &str, dir: &Path, body: serde_json::Value) -> Res<String> {
    write_reports_json(base, dir, body).map(|(text, _)| text)
}

/// [`write_reports`], with the simulator's answer.
fn write_reports_json(
    base: &str,
    dir: &Path,
    mut body: serde_json::Value,
) -> Res<(String, serde_json::Value)> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    body["dir"] = serde_json::json!(dir);
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(10)))
            .build(),
    );
    let url = format!("{base}/sim/reports");
    let mut response = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("POST {url}: {e}"))?;
    if status != 200 {
        return Err(format!("POST {url}: HTTP {status}: {text}"));
    }
    let out: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("POST {url}: {e}"))?;
    let files = out["files"].as_array().map_or(0, Vec::len);
    let text = format!(
        "{files} files, cycles {}, {} detail rows",
        out["cycles"], out["rows"]
    );
    Ok((text, out))
}

fn reconcile(dir: &Path, ledger: &Path) -> Res<Reconciliation> {
    let name = ledger.display().to_string();
    let open = || {
        std::fs::File::open(ledger).map_err(|source| Error::Io {
            file: name.clone(),
            source,
        })
    };
    job::reconcile(&LocalDir::new(dir), &name, open, ReportOptions::default())
        .map_err(|e| e.to_string())
}

/// One line per cycle and settlement batch.
fn describe(result: &Reconciliation) {
    for c in &result.cycles {
        let date = c.date.map_or_else(|| "unknown".into(), |d| d.to_string());
        let (own, report) = c
            .result
            .as_ref()
            .map_or((0, 0), |r| (r.own.count, r.report.count));
        let fees: Vec<String> = c
            .fees
            .iter()
            .map(|(t, tot)| {
                format!(
                    "{t} {}",
                    tot.net().map_or_else(|| "-".into(), |n| n.to_string())
                )
            })
            .collect();
        step(
            "",
            &format!("cycle {date}"),
            format!(
                "own {own}, report rows {report}, fees [{}]",
                fees.join(", ")
            ),
        );
    }
    for s in &result.settlements {
        let amount = s.summary.get("settlementAmountValue").unwrap_or("-");
        step(
            "",
            "settlement batch",
            format!(
                "{} amount {amount} (minor units; relation to fees UNCERTAIN, shown)",
                s.batch
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use alipayplus_sign::{PrivateKey, message};
    use alipayplus_sim::{Simulator, keys};
    use alipayplus_types::{Amount, Currency, DateTime};
    use serde_json::{Value, json};

    use super::*;

    fn call(sim: &Simulator, key: &PrivateKey, path: &str, body: &Value) -> Value {
        let body = body.to_string();
        let time = "2026-11-23T10:00:00+08:00";
        let signature =
            message::sign_request(key, 1, "POST", path, sim.client_id(), time, body.as_bytes())
                .unwrap();
        let mut response = ureq::post(format!("{}{path}", sim.base_url()))
            .header("Content-Type", "application/json; charset=UTF-8")
            .header("Client-Id", sim.client_id())
            .header("Request-Time", time)
            .header("Signature", signature.as_str())
            .send(body)
            .unwrap();
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }

    fn pay_body(id: &str, value: u64) -> Value {
        json!({
            "paymentRequestId": id,
            "order": {
                "referenceOrderId": format!("ORDER-{id}"),
                "orderDescription": "reconcile demo test",
                "orderAmount": { "currency": "USD", "value": value.to_string() },
                "merchant": { "referenceMerchantId": "M0001" },
                "env": { "terminalType": "WEB" }
            },
            "paymentAmount": { "currency": "USD", "value": value.to_string() },
            "paymentMethod": { "paymentMethodType": "SIMWALLET" },
            "paymentFactor": { "isCashierPayment": "true", "isInStorePayment": "false" },
            "settlementStrategy": { "settlementCurrency": "USD" },
            "paymentRedirectUrl": "https://merchant.example/return"
        })
    }

    fn record(id: &str, t: TransactionType, minor: u64, time: &Value) -> LedgerRecord {
        LedgerRecord {
            request_id: id.into(),
            transaction_type: t,
            amount: Amount::new(Currency::USD, minor),
            time: DateTime::parse(time.as_str().expect("a time")).unwrap(),
        }
    }

    #[test]
    fn clean_reports_match_and_planted_discrepancies_are_found() {
        let sim = Simulator::start_bundled().unwrap();
        let key = keys::acqp_private_key().unwrap();
        let mut ledger = Vec::new();
        for (id, value) in [("RECON-1", 1000), ("RECON-2", 250)] {
            let paid = call(&sim, &key, "/aps/api/v1/payments/pay", &pay_body(id, value));
            assert_eq!(paid["result"]["resultStatus"], "U", "{paid}");
            sim.approve(id).unwrap();
            let inquiry = call(
                &sim,
                &key,
                "/aps/api/v1/payments/inquiryPayment",
                &json!({"paymentRequestId": id}),
            );
            ledger.push(record(
                id,
                TransactionType::Payment,
                value,
                &inquiry["paymentTime"],
            ));
        }
        let refund = call(
            &sim,
            &key,
            "/aps/api/v1/payments/refund",
            &json!({"paymentRequestId": "RECON-1", "refundRequestId": "RECON-1-R",
                    "refundAmount": {"currency": "USD", "value": "300"}}),
        );
        ledger.push(record(
            "RECON-1-R",
            TransactionType::Refund,
            300,
            &refund["refundTime"],
        ));
        let dir = std::env::temp_dir().join(format!("xtask-demo-reconcile-{}", std::process::id()));
        run(sim.base_url(), &dir, &ledger).unwrap();
        // A ledger missing a settled refund fails the clean pass.
        let err = run(sim.base_url(), &dir, &ledger[..2]).unwrap_err();
        assert!(err.contains("missing_in_ledger"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
