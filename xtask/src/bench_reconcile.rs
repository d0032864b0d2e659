//! `cargo xtask bench-reconcile [--rows N]` (issue 24): the `reconcile` example against DuckDB
//! on the same files, in one sitting.
//!
//! 1. Writes one clearing cycle under `target/bench-reconcile/`: a Transaction Detail Report of
//!    N rows (default 1,000,000; the generator of the criterion benchmark) and a ledger of the
//!    same N own records in shuffled order.
//! 2. Builds the release `reconcile` example; installs DuckDB from PyPI into a venv under
//!    `target/bench-reconcile/venv` (pinned; skipped with a message when it cannot be
//!    installed).
//! 3. Times, best of 3, the example pinned to one core (`taskset -c 0`: `available_parallelism`
//!    then says 1) and on every core, and the committed query
//!    `alipayplus-reconcile/bench/duckdb.sql` at 1 thread (pinned) and 2 threads, in rounds of
//!    all four so that a busy moment of a shared machine hits both sides alike.
//!
//! Both sides must report N matched and no finding, or the run fails. Printed: seconds,
//! rows/s, each ratio to DuckDB at the same thread count, and each peak resident size
//! (`/usr/bin/time -f %M`). The example's time is the whole process (start, both files, exit);
//! DuckDB's is the query alone, measured inside Python (interpreter start and import excluded).

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

#[allow(dead_code)]
#[path = "../../alipayplus-reconcile/benches/support/generate.rs"]
mod generate;

const USAGE: &str = "usage: cargo xtask bench-reconcile [--rows N]";
const REPORT: &str =
    "transactionItems_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv";
const DUCKDB: &str = "duckdb==2.0.0";
const RUNS: usize = 3;

/// One timed run.
#[derive(Clone, Copy)]
struct Run {
    seconds: f64,
    /// Peak resident size in KiB, when `/usr/bin/time` could tell.
    peak_kib: Option<u64>,
}

pub fn main(args: &[String]) -> ExitCode {
    let mut rows = 1_000_000u64;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match (arg.as_str(), it.next().map(|v| v.parse::<u64>())) {
            ("--rows", Some(Ok(n))) if n > 0 => rows = n,
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    match run(&crate::workspace_root(), rows) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-reconcile: {e}");
            ExitCode::FAILURE
        }
    }
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn run(root: &Path, rows: u64) -> Result<(), String> {
    let target = target_dir(root);
    let dir = target.join("bench-reconcile");
    let reports = dir.join("reports");
    let ledger = dir.join("ledger.csv");
    write_inputs(&dir, &reports, &ledger, rows)?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "bench-reconcile: {rows} rows; report {:.0} MB, ledger {:.0} MB (shuffled), under {}",
        size(&reports.join(REPORT)) as f64 / 1e6,
        size(&ledger) as f64 / 1e6,
        dir.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--release", "-q", "-p", "alipayplus-reconcile"])
        .args(["--example", "reconcile"])
        .status()
        .map_err(|e| format!("{cargo}: {e}"))?;
    if !status.success() {
        return Err("building the reconcile example failed".into());
    }
    let exe = target.join("release").join("examples").join("reconcile");
    let mut ours_args: Vec<String> = vec![exe.display().to_string()];
    ours_args.extend(["--reports".into(), reports.display().to_string()]);
    ours_args.extend([
        "--ledger".into(),
        ledger.display().to_string(),
        "--json".into(),
    ]);
    let ours = |pinned: bool| -> Result<Run, String> {
        let (run, stdout) = timed(&ours_args, pinned, &dir)?;
        check_ours(&stdout, rows)?;
        Ok(run)
    };
    let duck_args = match duckdb_python(root, &dir) {
        Ok(python) => {
            let bench = root.join("alipayplus-reconcile/bench");
            Some(vec![
                python.display().to_string(),
                bench.join("duckdb_reconcile.py").display().to_string(),
                bench.join("duckdb.sql").display().to_string(),
                reports.join(REPORT).display().to_string(),
                ledger.display().to_string(),
            ])
        }
        Err(why) => {
            println!("DuckDB skipped: {why}");
            None
        }
    };
    let duck = |args: &[String], threads: u32| -> Result<Run, String> {
        let mut args = args.to_vec();
        args.push(threads.to_string());
        let (run, stdout) = timed(&args, threads == 1, &dir)?;
        let seconds = check_duckdb(&stdout, rows)?;
        Ok(Run {
            seconds,
            peak_kib: run.peak_kib,
        })
    };
    // Rounds of all four, so a busy moment on the shared machine hits both sides alike.
    let mut best: [Option<Run>; 4] = [None; 4];
    for _ in 0..RUNS {
        let mut runs = vec![Some(ours(true)?), Some(ours(false)?)];
        match &duck_args {
            Some(args) => runs.extend([Some(duck(args, 1)?), Some(duck(args, 2)?)]),
            None => runs.extend([None, None]),
        }
        for (slot, run) in best.iter_mut().zip(runs) {
            if let Some(run) = run
                && slot.is_none_or(|b| run.seconds < b.seconds)
            {
                *slot = Some(run);
            }
        }
    }
    let [Some(ours1), Some(ours2), d1, d2] = best else {
        return Err("no run of the example".into());
    };
    let duck = d1.zip(d2);
    print_table(rows, [ours1, ours2], duck);
    Ok(())
}

/// The report and the shuffled ledger, rewritten when the row count changed.
fn write_inputs(dir: &Path, reports: &Path, ledger: &Path, rows: u64) -> Result<(), String> {
    let stamp = dir.join("rows");
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(&rows.to_string())
        && ledger.exists()
        && reports.join(REPORT).exists()
    {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(reports);
    std::fs::create_dir_all(reports).map_err(|e| io(reports, e))?;
    let path = reports.join(REPORT);
    let mut out = BufWriter::new(std::fs::File::create(&path).map_err(|e| io(&path, e))?);
    let mut report = generate::Generated::report(rows);
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = report.read(&mut buf).map_err(|e| io(&path, e))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(|e| io(&path, e))?;
    }
    out.flush().map_err(|e| io(&path, e))?;
    // The ledger in an order unrelated to the report's (Fisher-Yates, xorshift64, fixed seed).
    let mut order: Vec<u64> = (0..rows).collect();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..order.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        order.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    let mut out = BufWriter::new(std::fs::File::create(ledger).map_err(|e| io(ledger, e))?);
    out.write_all(b"transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n")
        .map_err(|e| io(ledger, e))?;
    for i in order {
        out.write_all(generate::row(i, false).as_bytes())
            .map_err(|e| io(ledger, e))?;
    }
    out.flush().map_err(|e| io(ledger, e))?;
    std::fs::write(&stamp, rows.to_string()).map_err(|e| io(&stamp, e))
}

/// Runs `args` (pinned to core 0 with `taskset -c 0` when asked) under `/usr/bin/time`;
/// returns the wall time, the peak resident size and the standard output.
fn timed(args: &[String], pinned: bool, dir: &Path) -> Result<(Run, String), String> {
    let gnu_time = Path::new("/usr/bin/time").exists();
    let rss_file = dir.join("peak-rss");
    let mut argv: Vec<String> = Vec::new();
    if pinned {
        argv.extend(["taskset".into(), "-c".into(), "0".into()]);
    }
    if gnu_time {
        argv.extend([
            "/usr/bin/time".into(),
            "-f".into(),
            "%M".into(),
            "-o".into(),
            rss_file.display().to_string(),
        ]);
    }
    argv.extend(args.iter().cloned());
    let start = Instant::now();
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    let seconds = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "{} exited with {}: {}{}",
            args[0],
            out.status,
            stdout.chars().take(2000).collect::<String>(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let peak_kib = gnu_time
        .then(|| std::fs::read_to_string(&rss_file).ok())
        .flatten()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()));
    Ok((Run { seconds, peak_kib }, stdout))
}

fn check_ours(stdout: &str, rows: u64) -> Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim()).map_err(|e| format!("the example's JSON: {e}"))?;
    let findings = v["findings"].as_array().map_or(usize::MAX, Vec::len);
    if v["matched"].as_u64() != Some(rows) || findings != 0 {
        return Err(format!(
            "the reconcile example reported matched {}, findings {findings}; expected {rows} and 0",
            v["matched"]
        ));
    }
    Ok(())
}

/// Checks DuckDB's counts; returns its query time.
fn check_duckdb(stdout: &str, rows: u64) -> Result<f64, String> {
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim()).map_err(|e| format!("DuckDB's JSON: {e}"))?;
    let findings: u64 = [
        "missing_in_report",
        "missing_in_ledger",
        "currency_mismatch",
        "type_mismatch",
        "amount_mismatch",
        "duplicate_in_report",
        "summary_mismatch",
    ]
    .iter()
    .map(|k| v[k].as_u64().unwrap_or(u64::MAX / 16))
    .sum();
    if v["matched"].as_u64() != Some(rows) || findings != 0 {
        return Err(format!(
            "DuckDB reported matched {}, findings {findings}; expected {rows} and 0: {v}",
            v["matched"]
        ));
    }
    v["seconds"]
        .as_f64()
        .ok_or_else(|| format!("DuckDB's output has no seconds: {v}"))
}

/// The venv's python with DuckDB installed (like the interop step's venv), or why not.
fn duckdb_python(root: &Path, dir: &Path) -> Result<PathBuf, String> {
    let venv = dir.join("venv");
    let python = venv.join("bin").join("python");
    let stamp = venv.join(".installed");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(DUCKDB) {
        return Ok(python);
    }
    println!("installing {DUCKDB} from PyPI into {}", venv.display());
    let system = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let _ = std::fs::remove_dir_all(&venv);
    let ok = |c: &mut Command| c.current_dir(root).status().is_ok_and(|s| s.success());
    if !ok(Command::new(&system).args(["-m", "venv"]).arg(&venv)) {
        return Err(format!(
            "`{system} -m venv` failed (Debian: apt-get install python3-venv)"
        ));
    }
    let pip = venv.join("bin").join("pip");
    if !ok(Command::new(&pip).args(["install", "--quiet", "--disable-pip-version-check", DUCKDB])) {
        return Err(format!("`pip install {DUCKDB}` failed"));
    }
    std::fs::write(&stamp, DUCKDB).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(python)
}

fn print_table(rows: u64, ours: [Run; 2], duck: Option<(Run, Run)>) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "\nbest of {RUNS}; {cores} cores; load average after the runs {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("| run | threads | seconds | rows/s | vs DuckDB (same threads) | peak RSS |");
    println!("|---|---|---|---|---|---|");
    let mb = |r: &Run| {
        r.peak_kib
            .map_or("-".into(), |k| format!("{:.0} MB", k as f64 / 1024.0))
    };
    let line = |name: &str, threads: &str, r: &Run, vs: Option<&Run>| {
        let ratio = vs.map_or("-".into(), |d| {
            let x = d.seconds / r.seconds;
            if x >= 1.0 {
                format!("{x:.2}x faster")
            } else {
                format!("{:.2}x slower", 1.0 / x)
            }
        });
        println!(
            "| {name} | {threads} | {:.3} | {:.2} M | {ratio} | {} |",
            r.seconds,
            rows as f64 / r.seconds / 1e6,
            mb(r)
        );
    };
    let (d1, d2) = match &duck {
        Some((a, b)) => (Some(a), Some(b)),
        None => (None, None),
    };
    line("`reconcile` example, `taskset -c 0`", "1", &ours[0], d1);
    line("`reconcile` example, both cores", "2", &ours[1], d2);
    if let (Some(a), Some(b)) = (d1, d2) {
        line("DuckDB 2.0.0 query, `taskset -c 0`", "1", a, None);
        line("DuckDB 2.0.0 query", "2", b, None);
    }
}
