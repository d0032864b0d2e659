//! `cargo xtask <command>`: the project's chores.

use std::path::PathBuf;
use std::process::ExitCode;

mod bench_reconcile;
mod bench_report;
mod codegen;
mod demo;
mod demo_autodebit;
mod demo_endpoint;
mod demo_ledger;
mod demo_operations;
mod demo_reconcile;
mod fuzz;
mod load;
mod load_crash;
mod load_workers;
mod sim;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  codegen [--check]  generate alipayplus-types/src/generated/ from spec/api/*.toml
                     (--check: fail if the checked-in files are stale, write nothing)
  bench-report [--no-write]
                     openssl speed rsa2048 + the signing backends' benchmarks; writes the
                     table into README.md (--no-write: print it only)
  bench-reconcile [--rows N]
                     the release `reconcile` example against DuckDB on one generated cycle of
                     N rows (default 1,000,000), best of 3 at one (taskset -c 0) and two threads
  demo               the main job: the Cashier and Auto Debit flows against the simulator over HTTP
  load --flows N --concurrency C [--seed S] [--store sqlite:PATH|postgres://URL [--crash [--workers K]]]
                     load and fault run against the simulator with money invariants
                     (a release build: re-runs itself with cargo run --release);
                     --store: follow-ups and notifications kept in SQLite by the resuming
                     worker; --crash: the merchant side in a child process killed (SIGKILL)
                     in each dangerous window and restarted; --workers K: K merchant
                     processes sharing the store through leases, one killed and restarted,
                     the simulator counting calls in flight for one payment from two of them
  sim [--port N] [--tls] [--wallets A,B] [--no-connect-wallet] [--notify-url URL]
      [--auth-notify-url URL] [--consult-unbinding-url URL]
                     run the Alipay+ simulator on 127.0.0.1 (see alipayplus-sim); --tls:
                     HTTPS with a certificate made at start (its CA's path printed)
  fuzz [--seconds N] [TARGET...]
                     each cargo-fuzz target (fuzz/, nightly) for N seconds (default 30), one
                     at a time; prints executions and findings per target; crashes are
                     minimised into fuzz/regressions/ (replayed by cargo test -p fuzz-harness)
  help               this text";

/// `cargo xtask sim`'s options (the usage line `sim` prints on a bad option).
const SIM_USAGE: &str = "sim [--port N] [--tls] [--wallets A,B] [--no-connect-wallet] [--notify-url URL] [--auth-notify-url URL] [--consult-unbinding-url URL]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("help") | Some("--help") | None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("bench-report") => match bench_report::run(&workspace_root(), &args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench-report: {e}");
                ExitCode::FAILURE
            }
        },
        Some("codegen") => {
            let check = match args.get(1).map(String::as_str) {
                None => false,
                Some("--check") => true,
                Some(other) => {
                    eprintln!("unknown codegen option `{other}`\n\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            };
            match codegen::run(&workspace_root(), check) {
                Ok(msg) => {
                    println!("{msg}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("codegen: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("bench-reconcile") => bench_reconcile::main(&args[1..]),
        Some("demo") => demo::main(&args[1..]),
        Some("load") => load::main(&args[1..], run_load),
        // Hidden: the merchant side of `load --crash`, started by it.
        Some("load-merchant") => load_crash::merchant_main(&args[1..]),
        Some("sim") => sim::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some(other) => {
            eprintln!("unknown xtask command `{other}`; run `cargo xtask help`");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask's manifest dir is `<root>/xtask`.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The mode of `cargo xtask load`: in process, or the merchant side killed and restarted (one
/// process, or several sharing one database). Chosen here so the load module, which the crash
/// modes build on, does not import them.
fn run_load(args: &load::Args) -> load::Res<bool> {
    if args.crash && args.workers > 1 {
        load_workers::run(args)
    } else if args.crash {
        load_crash::run(args)
    } else {
        load::run(args)
    }
}
