//! Runs the built `reconcile` example on fixture folders: output, JSON and exit codes 0/1/2.

use std::path::{Path, PathBuf};
use std::process::Command;

const SAMPLE: &str = include_str!("fixtures/reconcile-transactionItems-sample.csv");
const NAME: &str =
    "transactionItems_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv";
const LEDGER: &str = "transactionCurrency,transactionRequestId,transactionType,transactionAmountValue,transactionTime\n\
                      SGD,PAY20250601000001,PAYMENT,1500,2025-06-01T10:00:00+08:00\n\
                      SGD,RFD20250601000001,REFUND,300,2025-06-01T03:00:00Z\n";

/// `cargo test` builds the examples next to the test binaries' `deps` folder.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir
        .join("examples")
        .join(format!("reconcile{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "build the example first: {}", path.display());
    path
}

fn setup(name: &str, report: &str, ledger: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "alipayplus-reconcile-ex-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    std::fs::write(dir.join("reports").join(NAME), report).unwrap();
    std::fs::write(dir.join("reports").join("notes.txt"), "x").unwrap();
    std::fs::write(dir.join("ledger.csv"), ledger).unwrap();
    dir
}

fn run(dir: &Path, json: bool) -> (i32, String, String) {
    let mut cmd = Command::new(example());
    cmd.arg("--reports")
        .arg(dir.join("reports"))
        .arg("--ledger")
        .arg(dir.join("ledger.csv"));
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn all_matched_exits_0() {
    let (code, stdout, stderr) = run(&setup("ok", SAMPLE, LEDGER), false);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("clearing cycle 2025-06-01"), "{stdout}");
    assert!(stdout.contains("matched 2, findings 0"), "{stdout}");
    assert!(stderr.contains("ignored notes.txt"), "{stderr}");
}

#[test]
fn findings_exit_1_with_json() {
    let report = SAMPLE.replace("1500,SGD,1500", "1400,SGD,1400");
    let (code, stdout, _) = run(&setup("diff", &report, LEDGER), true);
    assert_eq!(code, 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["matched"], 1);
    let findings = v["findings"].as_array().unwrap();
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["amount_mismatch", "summary_mismatch"]);
    assert_eq!(findings[0]["transactionRequestId"], "PAY20250601000001");
    assert_eq!(findings[0]["reportAmount"]["value"], "1400");
    assert_eq!(findings[1]["file"], NAME);
    assert!(findings[1].get("transactionRequestId").is_none());
    assert_eq!(v["cycles"][0]["cycle"], "2025-06-01");
}

#[test]
fn unreadable_input_exits_2_naming_file_and_line() {
    let report = SAMPLE.replace("-300,SGD,-300", "-3.00,SGD,-300");
    let (code, _, stderr) = run(&setup("bad", &report, LEDGER), false);
    assert_eq!(code, 2);
    assert!(stderr.contains(&format!("{NAME}: line 5:")), "{stderr}");
    let (code, _, stderr) = run(
        &setup("badledger", SAMPLE, "transactionRequestId\nX\n"),
        true,
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("ledger.csv: line 1:"), "{stderr}");
    let out = Command::new(example()).arg("--reports").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A folder with exactly `files` and the sample ledger.
fn setup_files(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "alipayplus-reconcile-ex-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join("reports").join(file), text).unwrap();
    }
    std::fs::write(dir.join("ledger.csv"), LEDGER).unwrap();
    dir
}

/// Issue 19: an agreement id with `_` is placed by the file's own summary and compared
/// (before: "ambiguous", skipped, exit 0 with matched 0).
#[test]
fn underscore_agreement_ids_are_placed_by_the_summary_and_compared() {
    let name = "transactionItems_1022188000000000001_SGD_20250601_AGR_459470_ALIPAY_CN_000.csv";
    let (code, stdout, stderr) = run(&setup_files("underscore", &[(name, SAMPLE)]), false);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("matched 2, findings 0"), "{stdout}");
    assert!(
        stdout.contains("1022188000000000001_SGD_20250601_AGR_459470_ALIPAY_CN"),
        "{stdout}"
    );
}

/// Issue 19: exit 2 (never 0) on an unplaceable report file, a folder with no Transaction
/// Detail Report and an undatable cycle, each naming what is wrong.
#[test]
fn nothing_compared_exits_2() {
    // The summary states no clearingBatchId: the name's four splits cannot be told apart.
    let name = "transactionItems_1022188000000000001_SGD_20250601_AGR_459470_ALIPAY_CN_000.csv";
    let no_ids = SAMPLE.replace(
        "totalCount,netTotalAmount,settlementCurrency,clearingBatchId\n2,1200,SGD,20250601",
        "totalCount,netTotalAmount\n2,1200",
    );
    assert_ne!(no_ids, SAMPLE);
    let (code, _, stderr) = run(&setup_files("unplaceable", &[(name, &no_ids)]), false);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(name), "{stderr}");
    // No Transaction Detail Report: an empty folder, or only a summary_ file.
    let (code, _, stderr) = run(&setup_files("empty", &[]), false);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nothing to reconcile"), "{stderr}");
    assert!(stderr.contains("reports"), "{stderr}");
    let summary = "summary_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv";
    let (code, _, stderr) = run(
        &setup_files("summaryonly", &[(summary, "totalCount\n2\n")]),
        true,
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("nothing to reconcile"), "{stderr}");
    // A batch id that is not a date, and rows without a transactionTime.
    let undated = "transactionItems_P_SGD_CB01_PSGD_000.csv";
    let text = "totalCount\n1\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency\nPAY20250601000001,PAYMENT,1500,SGD\n";
    let (code, _, stderr) = run(&setup_files("undated", &[(undated, text)]), false);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(undated), "{stderr}");
}
