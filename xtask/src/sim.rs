//! `cargo xtask sim --port N`: the Alipay+ simulator standalone, for any ACQP stack.

use std::process::ExitCode;
use std::time::Duration;

use alipayplus_sim::{SimConfig, Simulator, keys};

/// Parses the options, starts the simulator and serves until the process is stopped.
pub fn main(args: &[String]) -> ExitCode {
    let mut config = match SimConfig::bundled() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut autodebit = alipayplus_sim::AutoDebitConfig::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = rest.next();
        match (arg.as_str(), value) {
            ("--port", Some(v)) => match v.parse::<u16>() {
                Ok(port) => config = config.with_port(port),
                Err(_) => return usage(&format!("--port needs a number 0-65535, got {v:?}")),
            },
            ("--notify-url", Some(v)) => config.default_notify_url = Some(v.clone()),
            ("--auth-notify-url", Some(v)) => autodebit.auth_notify_url = Some(v.clone()),
            ("--consult-unbinding-url", Some(v)) => {
                autodebit.consult_unbinding_url = Some(v.clone());
            }
            _ => return usage(&format!("unknown or incomplete option {arg:?}")),
        }
    }
    let sim = match Simulator::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    sim.set_autodebit_config(autodebit);
    let dir = keys::key_dir();
    let path = |name: &str| dir.join(name).display().to_string();
    println!("Alipay+ simulator listening on {}", sim.base_url());
    println!("  Client-Id            {}", sim.client_id());
    println!(
        "  API host             {}  (e.g. POST {}/aps/api/v1/payments/pay)",
        sim.base_url(),
        sim.base_url()
    );
    println!(
        "  sign requests with   {}  (test ACQP private key; bare base64 beside it as .b64)",
        path(keys::file::ACQP_PRIVATE)
    );
    println!(
        "  verify answers with  {}  (the simulator's \"Alipay+\" public key)",
        path(keys::file::SIM_PUBLIC)
    );
    println!("  keyVersion           {}", sim.info().key_version);
    println!("  wallets              {}", sim.info().wallets.join(", "));
    println!(
        "  shopper              GET the normalUrl from pay, add ?action=approve or ?action=decline"
    );
    println!(
        "  auto debit           GET the authUrl from prepare, add ?action=agree (redirect back with authCode)"
    );
    println!(
        "  control API          GET {}/sim  (payments, shopper, faults, notifications, clock: see alipayplus-sim docs)",
        sim.base_url()
    );
    println!("Try it with the cashier example (another shell):");
    println!(
        "  export ALIPAYPLUS_BASE_URL={} ALIPAYPLUS_CLIENT_ID={}",
        sim.base_url(),
        sim.client_id()
    );
    println!(
        "  export ALIPAYPLUS_PRIVATE_KEY={} ALIPAYPLUS_PUBLIC_KEY={}",
        path(keys::file::ACQP_PRIVATE),
        path(keys::file::SIM_PUBLIC)
    );
    println!(
        "  cargo run -q -p alipayplus-cashier --example cashier -- pay --wallet SIMWALLET --currency USD --value 1000 --request-id P1"
    );
    println!("Press Ctrl-C to stop.");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "sim: {problem}\n\nusage: cargo xtask sim [--port N] [--notify-url URL] [--auth-notify-url URL] [--consult-unbinding-url URL]"
    );
    ExitCode::FAILURE
}
