//! `cargo xtask fuzz [--seconds N] [TARGET...]`: runs each cargo-fuzz target (fuzz/, nightly)
//! for N seconds, one at a time on one core, and prints executions and findings per target.
//!
//! Per target: `cargo +nightly fuzz run TARGET` on its committed corpus (`fuzz/corpus/TARGET`,
//! new inputs are added there), then the corpus is cut back to the 30 inputs that reach the
//! most code edges (greedy over libFuzzer's merge control file), so what is committed and
//! replayed stays small. A crash (libFuzzer's `crash-`, `oom-`, `timeout-` or `leak-`
//! artifact) is minimised with `cargo fuzz tmin` and copied to `fuzz/regressions/TARGET/`,
//! which `cargo test -p fuzz-harness` replays on stable: fix the parser, keep the case.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// `cargo xtask fuzz`'s options.
pub const USAGE: &str = "fuzz [--seconds N] [TARGET...]";

const DEFAULT_SECONDS: u64 = 30;
/// Optimised build with debug assertions and overflow checks on: an amount or length that
/// overflows is a finding, as it is in the stable replay (a debug build).
const DEBUG_ASSERTIONS: &str = "--debug-assertions";
/// Most corpus files kept per target.
const CORPUS_CAP: usize = 30;
const ARTIFACT_PREFIXES: [&str; 4] = ["crash-", "oom-", "timeout-", "leak-"];

/// What one target's run gave.
struct Run {
    target: String,
    executions: Option<u64>,
    seconds: f64,
    corpus_files: usize,
    findings: Vec<PathBuf>,
}

pub fn main(args: &[String]) -> ExitCode {
    let (seconds, only) = match parse_args(args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("{e}\nusage: cargo xtask {USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match run(&crate::workspace_root(), seconds, &only) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("fuzz: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: &[String]) -> Result<(u64, Vec<String>), String> {
    let mut seconds = DEFAULT_SECONDS;
    let mut only = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a number")?;
                seconds =
                    value.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                        format!("--seconds {value:?}: expected a positive integer")
                    })?;
            }
            other if other.starts_with('-') => {
                return Err(format!("unknown fuzz option `{other}`"));
            }
            target => only.push(target.to_string()),
        }
    }
    Ok((seconds, only))
}

/// Runs the targets; `Ok(false)` when a target found something.
fn run(root: &Path, seconds: u64, only: &[String]) -> Result<bool, String> {
    let started = Instant::now();
    let fuzz = |args: &[&str]| {
        let mut command = Command::new("cargo");
        command
            .arg("+nightly")
            .arg("fuzz")
            .args(args)
            .current_dir(root);
        command
    };
    let listed = output(fuzz(&["list"])).map_err(|e| {
        format!("{e}\n(cargo-fuzz and the nightly toolchain are needed: `cargo install cargo-fuzz`, `rustup toolchain install nightly`)")
    })?;
    let mut targets: Vec<String> = listed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if !only.is_empty() {
        if let Some(unknown) = only.iter().find(|t| !targets.contains(t)) {
            return Err(format!(
                "no fuzz target `{unknown}`; targets: {}",
                targets.join(", ")
            ));
        }
        targets.retain(|t| only.contains(t));
    }
    println!(
        "building {} fuzz targets (cargo +nightly fuzz build)...",
        targets.len()
    );
    status(fuzz(&["build", DEBUG_ASSERTIONS]))?;

    let mut runs = Vec::new();
    for target in &targets {
        println!("\n== {target}: {seconds} s");
        runs.push(run_target(root, target, seconds, &fuzz)?);
    }
    let wall = started.elapsed();
    print!("{}", table(&runs, seconds, wall));
    Ok(runs.iter().all(|r| r.findings.is_empty()))
}

fn run_target(
    root: &Path,
    target: &str,
    seconds: u64,
    fuzz: &dyn Fn(&[&str]) -> Command,
) -> Result<Run, String> {
    let corpus = root.join("fuzz/corpus").join(target);
    let artifacts = root.join("fuzz/artifacts").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let before = artifact_files(&artifacts);
    let started = Instant::now();
    let max_time = format!("-max_total_time={seconds}");
    // One process on one core (the machine is shared); 10 s per input is a hang.
    let out = fuzz(&[
        "run",
        DEBUG_ASSERTIONS,
        target,
        "--",
        &max_time,
        "-print_final_stats=1",
        "-timeout=10",
        "-rss_limit_mb=2048",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .output()
    .map_err(|e| format!("cargo fuzz run {target}: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&out.stderr);
    let executions = executions(&log);
    let mut findings: Vec<PathBuf> = artifact_files(&artifacts)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    if !out.status.success() && findings.is_empty() {
        // Not a finding libFuzzer wrote down: show why it stopped.
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "cargo fuzz run {target} failed:\n{}",
            tail.join("\n")
        ));
    }
    let mut regressions = Vec::new();
    for artifact in &findings {
        println!("   finding: {}", artifact.display());
        regressions.push(minimise(root, target, artifact, fuzz)?);
    }
    if !findings.is_empty() {
        findings = regressions;
    }
    // Keep the committed corpus small: the inputs that reach the most code.
    shrink_corpus(root, target, &corpus, fuzz)?;
    let corpus_files = std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
    println!(
        "   {} executions in {elapsed:.0} s, corpus {corpus_files} files, {} findings",
        executions.map_or("?".to_string(), |e| e.to_string()),
        findings.len()
    );
    Ok(Run {
        target: target.to_string(),
        executions,
        seconds: elapsed,
        corpus_files,
        findings,
    })
}

/// Keeps at most [`CORPUS_CAP`] inputs of a target's corpus, chosen greedily for the code
/// edges they reach (libFuzzer's merge control file lists each input's edges): most of the
/// coverage in a few small files, so the committed corpus and its replay stay small.
fn shrink_corpus(
    root: &Path,
    target: &str,
    corpus: &Path,
    fuzz: &dyn Fn(&[&str]) -> Command,
) -> Result<(), String> {
    let scratch = std::env::temp_dir().join(format!("xtask-fuzz-merge-{target}"));
    let _ = std::fs::remove_dir_all(&scratch);
    let merged = scratch.join("merged");
    std::fs::create_dir_all(&merged).map_err(|e| format!("{}: {e}", merged.display()))?;
    let control = scratch.join("control");
    let control_arg = format!("-merge_control_file={}", control.display());
    let merged_arg = merged.display().to_string();
    let corpus_arg = corpus.display().to_string();
    output(fuzz(&[
        "run",
        DEBUG_ASSERTIONS,
        target,
        &merged_arg,
        &corpus_arg,
        "--",
        "-merge=1",
        "-use_counters=0",
        &control_arg,
    ]))?;
    let text =
        std::fs::read_to_string(&control).map_err(|e| format!("{}: {e}", control.display()))?;
    let keep = greedy_cover(&text, CORPUS_CAP);
    // The control file starts with the number of inputs, then the number in the first
    // (output) folder, then one path per input, in index order.
    let count: usize = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    for (i, path) in text.lines().skip(2).take(count).enumerate() {
        let path = root.join(path);
        if !keep.contains(&i) && path.starts_with(corpus) {
            std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Indices of at most `cap` inputs of a libFuzzer merge control file, each adding the most
/// edges (`COV` lines) not reached by those chosen before it.
fn greedy_cover(control: &str, cap: usize) -> Vec<usize> {
    let mut edges: Vec<(usize, std::collections::BTreeSet<&str>)> = control
        .lines()
        .filter_map(|l| {
            let mut words = l.strip_prefix("COV ")?.split_whitespace();
            let index = words.next()?.parse().ok()?;
            Some((index, words.collect()))
        })
        .collect();
    let mut covered = std::collections::BTreeSet::new();
    let mut chosen = Vec::new();
    while chosen.len() < cap {
        let best = edges
            .iter()
            .enumerate()
            .map(|(at, (_, e))| (e.difference(&covered).count(), at))
            .max();
        let Some((_, at)) = best.filter(|(gain, _)| *gain > 0) else {
            break;
        };
        let (index, reached) = edges.swap_remove(at);
        covered.extend(reached);
        chosen.push(index);
    }
    chosen
}

/// `cargo fuzz tmin`, then the smallest input into `fuzz/regressions/TARGET/`.
fn minimise(
    root: &Path,
    target: &str,
    artifact: &Path,
    fuzz: &dyn Fn(&[&str]) -> Command,
) -> Result<PathBuf, String> {
    let artifact_arg = artifact.display().to_string();
    let out = fuzz(&[
        "tmin",
        DEBUG_ASSERTIONS,
        target,
        &artifact_arg,
        "--",
        "-runs=20000",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .output()
    .map_err(|e| format!("cargo fuzz tmin: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    // libFuzzer: "CRASH_MIN: failed to minimize beyond fuzz/artifacts/T/minimized-from-... (N bytes), exiting"
    let minimised = log
        .lines()
        .rev()
        .find_map(|l| l.split_whitespace().find(|w| w.contains("minimized-from-")))
        .map(|w| root.join(w.trim_end_matches(',')))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| artifact.to_path_buf());
    let dir = root.join("fuzz/regressions").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = artifact
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dest = dir.join(name);
    std::fs::copy(&minimised, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    println!("   regression case: {}", dest.display());
    Ok(dest)
}

/// libFuzzer's count of executions: `stat::number_of_executed_units: N` (with
/// `-print_final_stats=1`), else the `Done N runs in S second(s)` line.
fn executions(log: &str) -> Option<u64> {
    let stat = log.lines().rev().find_map(|l| {
        l.trim()
            .strip_prefix("stat::number_of_executed_units:")
            .and_then(|v| v.trim().parse().ok())
    });
    stat.or_else(|| {
        log.lines().rev().find_map(|l| {
            let rest = l.trim().strip_prefix("Done ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
    })
}

fn artifact_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            ARTIFACT_PREFIXES
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
        .collect()
}

fn table(runs: &[Run], seconds: u64, wall: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n| target | seconds | executions | executions/s | corpus files | findings |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for r in runs {
        let (execs, rate) = match r.executions {
            Some(e) => (
                e.to_string(),
                format!("{:.0}", e as f64 / r.seconds.max(1.0)),
            ),
            None => ("?".into(), "?".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {execs} | {rate} | {} | {} |",
            r.target,
            r.seconds,
            r.corpus_files,
            r.findings.len()
        );
    }
    let total: u64 = runs.iter().filter_map(|r| r.executions).sum();
    let findings: usize = runs.iter().map(|r| r.findings.len()).sum();
    let _ = writeln!(
        out,
        "\n`cargo xtask fuzz --seconds {seconds}`: {} targets, {total} executions, {findings} findings, wall-clock {:.1} min",
        runs.len(),
        wall.as_secs_f64() / 60.0
    );
    for r in runs {
        for f in &r.findings {
            let _ = writeln!(
                out,
                "finding in {}: {} (fix the parser; the case stays)",
                r.target,
                f.display()
            );
        }
    }
    out
}

/// Runs `command` quietly; its stdout, or its log when it fails.
fn output(mut command: Command) -> Result<String, String> {
    let out = command
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{command:?} failed ({}):\n{}",
            out.status,
            tail.join("\n")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn status(mut command: Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executions_from_final_stats_or_done_line() {
        let log = "#1024 pulse cov: 10\nDone 123456 runs in 31 second(s)\nstat::number_of_executed_units: 123457\nstat::peak_rss_mb: 40\n";
        assert_eq!(executions(log), Some(123457));
        assert_eq!(executions("Done 99 runs in 1 second(s)\n"), Some(99));
        assert_eq!(executions("==1== ERROR: libFuzzer: deadly signal\n"), None);
    }

    #[test]
    fn greedy_cover_takes_the_widest_inputs_first_up_to_the_cap() {
        let control =
            "4\n0\na\nb\nc\nd\nSTARTED 0 1\nFT 0 1\nCOV 0 1 2\nCOV 1 1 2 3 4\nCOV 2 5\nCOV 3 4\n";
        assert_eq!(greedy_cover(control, 10), vec![1, 2]);
        assert_eq!(greedy_cover(control, 1), vec![1]);
        assert_eq!(greedy_cover("", 10), Vec::<usize>::new());
    }

    #[test]
    fn arguments() {
        let args = |a: &[&str]| parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(args(&[]), Ok((30, vec![])));
        assert_eq!(
            args(&["--seconds", "5", "report"]),
            Ok((5, vec!["report".to_string()]))
        );
        assert!(args(&["--seconds", "0"]).is_err());
        assert!(args(&["--seconds"]).is_err());
        assert!(args(&["--jobs", "2"]).is_err());
    }
}
