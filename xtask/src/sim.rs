//! `cargo xtask sim --port N`: the Alipay+ simulator standalone, for any ACQP stack.
//!
//! `--tls` serves HTTPS with a certificate made at start; the CA certificate to trust is
//! written under `target/alipayplus-sim/` and its path printed. `--wallets A,B` sets the
//! wallets offered; `--no-connect-wallet` refuses unified presentment (`CONNECT_WALLET`).

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
        match arg.as_str() {
            "--tls" => {
                config = config.with_tls();
                continue;
            }
            "--no-connect-wallet" => {
                config.connect_wallet = false;
                continue;
            }
            _ => {}
        }
        let value = rest.next();
        match (arg.as_str(), value) {
            ("--port", Some(v)) => match v.parse::<u16>() {
                Ok(port) => config = config.with_port(port),
                Err(_) => return usage(&format!("--port needs a number 0-65535, got {v:?}")),
            },
            ("--notify-url", Some(v)) => config.default_notify_url = Some(v.clone()),
            ("--wallets", Some(v)) => {
                let wallets: Vec<&str> = v.split(',').map(str::trim).collect();
                if wallets.iter().any(|w| w.is_empty()) {
                    return usage(&format!(
                        "--wallets needs names separated by commas, got {v:?}"
                    ));
                }
                config = config.with_wallets(wallets);
            }
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
    let ca_file = match sim.tls_ca_pem().map(|pem| write_ca(pem, sim.addr().port())) {
        None => None,
        Some(Ok(path)) => Some(path),
        Some(Err(e)) => {
            eprintln!("sim: could not write the TLS CA certificate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = keys::key_dir();
    let path = |name: &str| dir.join(name).display().to_string();
    println!("Alipay+ simulator listening on {}", sim.base_url());
    if let Some(ca) = &ca_file {
        println!(
            "  TLS CA certificate   {}  (made at start; trust it, e.g. SSL_CERT_FILE / curl --cacert; server names {})",
            ca.display(),
            alipayplus_sim::tls::SERVER_NAMES.join(", ")
        );
    }
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
    println!("  key files by client  (the same two keys in the forms each loads; keys/README.md)");
    for (client, private, public) in keys::CLIENT_FORMS {
        println!("    {client}:");
        println!("      sign with   {}", path(private));
        println!("      verify with {}", path(public));
    }
    println!("  keyVersion           {}", sim.info().key_version);
    println!(
        "  wallets              {}{}",
        sim.info().wallets.join(", "),
        if sim.info().connect_wallet {
            "; CONNECT_WALLET (unified presentment)"
        } else {
            ""
        }
    );
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

/// Writes the CA certificate where the user can find it (under the target directory), one
/// file per port: a restart replaces it, simulators on other ports keep theirs.
fn write_ca(pem: &str, port: u16) -> std::io::Result<std::path::PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    let dir = target.join("alipayplus-sim");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("tls-ca-{port}.pem"));
    std::fs::write(&path, pem)?;
    Ok(path)
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("sim: {problem}\n\nusage: cargo xtask {}", crate::SIM_USAGE);
    ExitCode::FAILURE
}
