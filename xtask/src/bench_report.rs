//! `cargo xtask bench-report`: OpenSSL and the signing backends in one sitting, written into the
//! README as a table.
//!
//! 1. `openssl speed -seconds 3 rsa2048` (the reference),
//! 2. `cargo bench -p alipayplus-sign --features aws-lc --bench backends` (criterion, results
//!    read from its `estimates.json` files in a fresh directory),
//! 3. `openssl speed -seconds 3 rsa2048` again: the reference is the mean of both runs, and a
//!    large difference between them says the machine was not steady,
//!
//! then the table (sign/s, verify/s, ratios to OpenSSL, thread scaling, the issue's targets) is
//! printed and written between the marker comments of README.md and
//! alipayplus-sign/README.md.
//!
//! Options: `--no-write` prints the table without touching the README.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The READMEs that carry the table (the project's and the signing crate's).
const READMES: [&str; 2] = ["README.md", "alipayplus-sign/README.md"];

/// The README section between these lines is rewritten by every run.
pub const BEGIN_MARKER: &str =
    "<!-- bench-report:begin (written by `cargo xtask bench-report`; do not edit by hand) -->";
/// End of the rewritten section.
pub const END_MARKER: &str = "<!-- bench-report:end -->";

const OPENSSL_ARGS: [&str; 4] = ["speed", "-seconds", "3", "rsa2048"];
const BENCH_ARGS: [&str; 7] = [
    "bench",
    "-p",
    "alipayplus-sign",
    "--features",
    "aws-lc",
    "--bench",
    "backends",
];

/// Issue 7's targets.
const TARGET_VS_OPENSSL: f64 = 0.95;
const TARGET_SCALING: f64 = 1.8;
/// Ours vs the `rsa` crate alone: within ±5% (two-sided, [`verdict_within`]).
const TARGET_VS_RAW_RSA: f64 = 0.05;

/// Signatures and verifications per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speed {
    /// Signatures per second.
    pub sign: f64,
    /// Verifications per second.
    pub verify: f64,
}

/// Everything the table is made of.
struct Measured {
    openssl_version: String,
    openssl: [Speed; 2],
    default: Speed,
    aws_lc: Speed,
    aws_lc_empty_body: Speed,
    raw_rsa: Speed,
    raw_aws_lc: Speed,
    /// Signatures per second with [1 thread, 2 threads].
    threads_default: [f64; 2],
    threads_aws_lc: [f64; 2],
    load: [String; 2],
    rustc: String,
    date: String,
}

/// Runs the report for the workspace at `root`; `args` are the options after `bench-report`.
pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let mut write = true;
    for arg in args {
        match arg.as_str() {
            "--no-write" => write = false,
            other => return Err(format!("unknown option `{other}` (known: --no-write)")),
        }
    }
    let criterion_home = target_dir(root).join("bench-report-criterion");
    if criterion_home.exists() {
        std::fs::remove_dir_all(&criterion_home)
            .map_err(|e| format!("cannot clear {}: {e}", criterion_home.display()))?;
    }

    let load_before = load_average();
    eprintln!("bench-report: load average before: {load_before}");
    if load_before
        .split_whitespace()
        .next()
        .and_then(|l| l.parse::<f64>().ok())
        .is_some_and(|l| l > 0.5)
    {
        eprintln!("bench-report: warning: the machine is busy; timings will be skewed");
    }
    let openssl_version = output("openssl", &["version"])?.trim().to_owned();
    eprintln!("bench-report: {} ...", OPENSSL_ARGS.join(" "));
    let first = parse_openssl_speed(&output("openssl", &OPENSSL_ARGS)?)?;

    eprintln!("bench-report: cargo {} ...", BENCH_ARGS.join(" "));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(BENCH_ARGS)
        .current_dir(root)
        .env("CRITERION_HOME", &criterion_home)
        .status()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if !status.success() {
        return Err(format!("cargo bench failed ({status})"));
    }

    eprintln!("bench-report: {} again ...", OPENSSL_ARGS.join(" "));
    let second = parse_openssl_speed(&output("openssl", &OPENSSL_ARGS)?)?;
    let load_after = load_average();

    let per_second = |path: &str, ops: f64| -> Result<f64, String> {
        let file = criterion_home.join(path).join("new/estimates.json");
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let nanos = median_nanos(&text)
            .ok_or_else(|| format!("no median point estimate in {}", file.display()))?;
        Ok(ops * 1e9 / nanos)
    };
    let speed = |name: &str| -> Result<Speed, String> {
        Ok(Speed {
            sign: per_second(&format!("backends_rsa2048/sign_{name}"), 1.0)?,
            verify: per_second(&format!("backends_rsa2048/verify_{name}"), 1.0)?,
        })
    };
    let threads = |name: &str| -> Result<[f64; 2], String> {
        Ok([
            per_second(&format!("sign_throughput_rsa2048/{name}/1"), 1.0)?,
            per_second(&format!("sign_throughput_rsa2048/{name}/2"), 2.0)?,
        ])
    };
    let measured = Measured {
        openssl_version,
        openssl: [first, second],
        default: speed("rsa")?,
        aws_lc: speed("aws_lc")?,
        aws_lc_empty_body: speed("aws_lc_empty_body")?,
        raw_rsa: speed("raw_rsa_crate")?,
        raw_aws_lc: speed("raw_aws_lc_rs")?,
        threads_default: threads("rsa")?,
        threads_aws_lc: threads("aws_lc")?,
        load: [load_before, load_after],
        rustc: output("rustc", &["--version"])
            .map(|v| v.trim().to_owned())
            .unwrap_or_default(),
        date: today(),
    };
    let table = render(&measured);
    println!("{table}");
    if write {
        for readme in READMES.map(|r| root.join(r)) {
            let text = std::fs::read_to_string(&readme)
                .map_err(|e| format!("cannot read {}: {e}", readme.display()))?;
            let updated =
                replace_section(&text, &table).map_err(|e| format!("{}: {e}", readme.display()))?;
            std::fs::write(&readme, updated)
                .map_err(|e| format!("cannot write {}: {e}", readme.display()))?;
            eprintln!("bench-report: table written to {}", readme.display());
        }
    }
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn output(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("`{program}` printed non-UTF-8 text"))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Reads sign/s and verify/s from `openssl speed rsa2048` output: the header line names the
/// columns (`sign verify sign/s verify/s`, more in OpenSSL 3.2+), the `rsa 2048 bits` line holds
/// the values in the same order.
pub fn parse_openssl_speed(text: &str) -> Result<Speed, String> {
    let mut header: Option<Vec<&str>> = None;
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.contains(&"sign/s") && tokens.contains(&"verify/s") {
            header = Some(tokens);
        } else if let (Some(columns), ["rsa", "2048", "bits", values @ ..]) =
            (&header, tokens.as_slice())
        {
            let column = |name: &str| -> Result<f64, String> {
                columns
                    .iter()
                    .position(|c| *c == name)
                    .and_then(|i| values.get(i))
                    .and_then(|v| v.parse::<f64>().ok())
                    .ok_or_else(|| format!("no {name} value in openssl's line `{line}`"))
            };
            return Ok(Speed {
                sign: column("sign/s")?,
                verify: column("verify/s")?,
            });
        }
    }
    Err("openssl speed printed no `rsa 2048 bits` line under a sign/s verify/s header".to_owned())
}

/// The median point estimate (nanoseconds per iteration) in a criterion `estimates.json`.
pub fn median_nanos(json: &str) -> Option<f64> {
    // {"mean":{...},"median":{"confidence_interval":{...},"point_estimate":N,...},...}
    let median = json.get(json.find("\"median\":")?..)?;
    let value = median.get(median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..)?;
    let end = value.find([',', '}'])?;
    value
        .get(..end)?
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| *n > 0.0)
}

/// Replaces what lies between the markers (which stay) with `table`.
pub fn replace_section(readme: &str, table: &str) -> Result<String, String> {
    let missing = || {
        format!(
            "README.md lacks the marker lines; add\n{BEGIN_MARKER}\n{END_MARKER}\nwhere the table goes"
        )
    };
    let begin = readme.find(BEGIN_MARKER).ok_or_else(missing)? + BEGIN_MARKER.len();
    let end = readme
        .get(begin..)
        .and_then(|rest| rest.find(END_MARKER))
        .ok_or_else(missing)?
        + begin;
    Ok(format!(
        "{}\n{}\n{}",
        &readme[..begin],
        table.trim(),
        &readme[end..]
    ))
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// "Within 5%" is two-sided: a wrapper measured well *faster* than the library it wraps means
/// the two rows did not time the same work, which is as much a finding as a slow wrapper.
fn verdict_within(value: f64, tolerance: f64) -> String {
    let off = (value - 1.0).abs();
    if off <= tolerance + 1e-9 {
        "met".to_owned()
    } else if value > 1.0 {
        format!(
            "**outside** (faster by {:.1}%: the rows differ in work or in machine load)",
            (value - 1.0) * 100.0
        )
    } else {
        format!("**missed** by {:.1}%", (1.0 - value - tolerance) * 100.0)
    }
}

fn verdict(value: f64, target: f64) -> String {
    if value >= target {
        "met".to_owned()
    } else {
        format!("**missed** by {:.1}%", (target - value) / target * 100.0)
    }
}

fn render(m: &Measured) -> String {
    let openssl = Speed {
        sign: (m.openssl[0].sign + m.openssl[1].sign) / 2.0,
        verify: (m.openssl[0].verify + m.openssl[1].verify) / 2.0,
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Measured {} on the 2-core development machine with `cargo xtask bench-report`: RSA-2048, \
         one key, a 1 KB body (our rows include SHA-256 of the whole ~1.1 KB content, which \
         `openssl speed` does not hash). OpenSSL: `openssl speed -seconds 3 rsa2048` before and after the \
         benchmarks ({:.0} / {:.0} sign/s, {:.0} / {:.0} verify/s; the mean is used). Ours: \
         median of criterion's samples, `cargo bench -p alipayplus-sign --features aws-lc --bench \
         backends`. Load average (1, 5, 15 min) before: {}, after: {}. {}; {}.",
        m.date,
        m.openssl[0].sign,
        m.openssl[1].sign,
        m.openssl[0].verify,
        m.openssl[1].verify,
        m.load[0],
        m.load[1],
        m.openssl_version,
        m.rustc,
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| signer / verifier | sign/s | verify/s | sign vs OpenSSL | verify vs OpenSSL |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    let rows = [
        ("OpenSSL (`openssl speed`)", openssl),
        (
            "`aws-lc` feature: `AwsLcPrivateKey` / `AwsLcPublicKey`",
            m.aws_lc,
        ),
        (
            "`aws-lc` feature, empty body (~80 bytes hashed, close to what `openssl speed` times)",
            m.aws_lc_empty_body,
        ),
        (
            "aws-lc-rs alone (`RsaKeyPair::sign`, `ParsedPublicKey::verify_sig`)",
            m.raw_aws_lc,
        ),
        (
            "default: `PrivateKey` / `PublicKey` (`rsa` crate)",
            m.default,
        ),
        (
            "`rsa` crate alone (`SigningKey<Sha256>`, `VerifyingKey<Sha256>`)",
            m.raw_rsa,
        ),
    ];
    for (name, speed) in rows {
        let _ = writeln!(
            s,
            "| {name} | {:.0} | {:.0} | {:.2}x | {:.2}x |",
            speed.sign,
            speed.verify,
            ratio(speed.sign, openssl.sign),
            ratio(speed.verify, openssl.verify),
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Signing from several threads with one shared key (`sign_throughput_rsa2048`):"
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| backend | 1 thread sign/s | 2 threads sign/s | scaling |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|");
    for (name, [one, two]) in [
        ("`aws-lc`", m.threads_aws_lc),
        ("default (`rsa`)", m.threads_default),
    ] {
        let _ = writeln!(
            s,
            "| {name} | {one:.0} | {two:.0} | {:.2}x |",
            ratio(two, one)
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "| target (issue 7) | measured | result |");
    let _ = writeln!(s, "|---|---:|---|");
    let checks = [
        (
            "`aws-lc` sign >= 0.95x OpenSSL",
            ratio(m.aws_lc.sign, openssl.sign),
            TARGET_VS_OPENSSL,
        ),
        (
            "`aws-lc` verify >= 0.95x OpenSSL",
            ratio(m.aws_lc.verify, openssl.verify),
            TARGET_VS_OPENSSL,
        ),
        (
            "`aws-lc`, 2 threads >= 1.8x 1 thread",
            ratio(m.threads_aws_lc[1], m.threads_aws_lc[0]),
            TARGET_SCALING,
        ),
        (
            "default, 2 threads >= 1.8x 1 thread",
            ratio(m.threads_default[1], m.threads_default[0]),
            TARGET_SCALING,
        ),
        (
            "default sign within 5% of the `rsa` crate alone",
            ratio(m.default.sign, m.raw_rsa.sign),
            TARGET_VS_RAW_RSA,
        ),
        (
            "default verify within 5% of the `rsa` crate alone",
            ratio(m.default.verify, m.raw_rsa.verify),
            TARGET_VS_RAW_RSA,
        ),
    ];
    for (name, value, target) in checks {
        let judged = if name.contains("within") {
            verdict_within(value, target)
        } else {
            verdict(value, target)
        };
        let _ = writeln!(s, "| {name} | {value:.2}x | {judged} |");
    }
    s
}

/// Today's date (UTC) as YYYY-MM-DD; a report stamp, read from the clock on purpose.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openssl_3_0_and_3_2_output() {
        let v30 = "Doing 2048 bits private rsa's for 3s: 13374 2048 bits private RSA's in 2.99s\n\
                   version: 3.0.19\n\
                   \x20                 sign    verify    sign/s verify/s\n\
                   rsa 2048 bits 0.000224s 0.000014s   4458.8  73252.8\n";
        assert_eq!(
            parse_openssl_speed(v30),
            Ok(Speed {
                sign: 4458.8,
                verify: 73252.8
            })
        );
        let v32 = "                   sign    verify    encrypt   decrypt   sign/s verify/s  encr./s  decr./s\n\
                   rsa  2048 bits 0.000600s 0.000017s 0.000017s 0.000590s   1666.0  58478.0  57610.0   1695.0\n";
        assert_eq!(
            parse_openssl_speed(v32),
            Ok(Speed {
                sign: 1666.0,
                verify: 58478.0
            })
        );
        assert!(parse_openssl_speed("rsa 2048 bits 1 2 3 4\n").is_err());
        assert!(
            parse_openssl_speed("sign verify sign/s verify/s\nrsa 2048 bits 0.1s 0.1s x y\n")
                .is_err()
        );
    }

    #[test]
    fn reads_the_median_of_criterion_estimates() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.0,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.5,"upper_bound":2.5},"point_estimate":248550.75,"standard_error":0.2},"slope":null}"#;
        assert_eq!(median_nanos(json), Some(248550.75));
        assert_eq!(median_nanos(r#"{"mean":{"point_estimate":2.0}}"#), None);
        assert_eq!(median_nanos(r#"{"median":{"point_estimate":0}}"#), None);
    }

    #[test]
    fn rewrites_only_the_marked_section() {
        let readme = format!("# t\n\nbefore\n{BEGIN_MARKER}\nold table\n{END_MARKER}\nafter\n");
        let once = replace_section(&readme, "| new |\n").unwrap();
        assert_eq!(
            once,
            format!("# t\n\nbefore\n{BEGIN_MARKER}\n| new |\n{END_MARKER}\nafter\n")
        );
        assert_eq!(replace_section(&once, "| new |").unwrap(), once);
        assert!(replace_section("# no markers\n", "x").is_err());
        assert!(replace_section(&format!("{END_MARKER}\n{BEGIN_MARKER}\n"), "x").is_err());
    }

    #[test]
    fn verdicts_say_by_how_much_a_target_is_missed() {
        assert_eq!(verdict(0.96, 0.95), "met");
        assert_eq!(verdict(0.95, 0.95), "met");
        assert_eq!(verdict(1.71, 1.8), "**missed** by 5.0%");
        assert_eq!(verdict_within(1.04, 0.05), "met");
        assert_eq!(verdict_within(0.95, 0.05), "met");
        assert!(verdict_within(1.07, 0.05).starts_with("**outside** (faster by 7.0%"));
        assert_eq!(verdict_within(0.90, 0.05), "**missed** by 5.0%");
    }

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
