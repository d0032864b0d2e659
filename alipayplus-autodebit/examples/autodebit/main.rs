//! Try Auto Debit against any endpoint (a sandbox, the local simulator).
//!
//! ```text
//! autodebit prepare --auth-client-id ID --auth-redirect-url URL [--auth-client-name NAME]
//!                   [--display-name NAME] [--wallet GCASH] [--terminal WEB|WAP|APP|MINI_APP]
//!                   [--os IOS|ANDROID] [--state STATE] [--reference-agreement-id ID]
//! autodebit apply-token --auth-client-id ID --auth-code CODE [--wallet GCASH]
//! autodebit refresh-token --auth-client-id ID --refresh-token RT
//! autodebit cancel-token --auth-client-id ID --access-token T
//! autodebit pay --access-token T --currency USD --value 1000 --request-id ID [--order-id ID]
//!               [--merchant-id ID] [--description TEXT] [--notify-url URL] [--follow yes]
//! autodebit redirect --url URL --state STATE
//! autodebit listen --port N [--store sqlite:PATH]
//! ```
//!
//! Environment (as the cashier example): `ALIPAYPLUS_BASE_URL` (https, or http to
//! 127.0.0.1/localhost), `ALIPAYPLUS_CLIENT_ID`, `ALIPAYPLUS_PRIVATE_KEY` and
//! `ALIPAYPLUS_PUBLIC_KEY` (paths to key files: PEM, DER or bare base64; PKCS#8/PKCS#1/SPKI),
//! optionally `ALIPAYPLUS_KEY_VERSION` (our keyVersion, default 1).
//!
//! Exit rules (as the cashier example): calls print the verified response body and exit 0
//! whatever its `resultStatus`; when no verified response was obtained (transport failure,
//! non-200, missing or bad signature, unparsable body) they print why on stderr and exit 1; a
//! request refused before sending exits 2; bad usage or configuration exits 64.
//!
//! * `prepare` sends a fresh random `authState` (or `--state`) and prints it on stderr: keep
//!   it to check the redirect back (`redirect --url URL --state STATE` prints the `authCode`
//!   as JSON and exits 0, or says why the redirect is refused and exits 1).
//! * `pay` charges with the access token as the payment method. With `--follow yes` it follows
//!   an unknown result with the Auto Debit cadence (same `paymentRequestId`, inquiry every 3 s
//!   for up to 60 s, then cancelPayment) and prints the final state as one JSON line.
//! * `listen` serves on 127.0.0.1:N (any path) authNotify (recognised by its path ending in
//!   `authNotify` or by `authorizationNotifyType` in the body), consultUnbinding (path ending in
//!   `consultUnbinding`; the answer allows the unbinding) and notifyPayment (anything else):
//!   each verified event is printed as one JSON line on stdout and answered with the signed
//!   acknowledgement; a request that fails verification or parsing gets the refusal
//!   documented in `alipayplus_client::inbound` (signed once the caller verified) and a line on
//!   stderr. A verified call signed for another `Client-Id` is refused (`INVALID_CLIENT`) unless
//!   `ALIPAYPLUS_FOREIGN_CLIENT_ID=report` (then printed, with a note on stderr). It serves
//!   until killed. With `--store sqlite:PATH` authNotify and notifyPayment are committed to
//!   `alipayplus-store`'s inbox before they are acknowledged (re-deliveries recognised, also
//!   after a restart); authNotify holds tokens, so `--store` needs the sealing key in
//!   `ALIPAYPLUS_STORE_KEY` (64 hex digits, never printed): without it the listener refuses
//!   to start (exit 64).

mod cli;
mod listen;

use std::process::ExitCode;

use alipayplus_autodebit::{
    AuthClient, AuthState, Binding, agreement_pay_request, cancel_token_request,
    checked_agreement_pay, code_token_request, follow_agreement_payment, refresh_request,
};
use alipayplus_client::client::{Client, Outcome};
use alipayplus_client::error::RequestError;
use alipayplus_client::tracker::Final;
use alipayplus_listen::config_from_env;
use alipayplus_types::{
    Amount, Currency, HasResult, Merchant, Order, OsType, Secret, TerminalType,
};
use alipayplus_ureq::UreqTransport;
use cli::{Args, Command, UsageError};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(c) => c,
        Err(UsageError(msg)) => {
            eprintln!("error: {msg}\n\n{}", cli::USAGE);
            return ExitCode::from(64);
        }
    };
    if let Command::Redirect(args) = &command {
        return check_redirect(args);
    }
    let listening = matches!(command, Command::Listen { .. });
    let config = match config_from_env(listening) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("configuration error: {msg}");
            return ExitCode::from(64);
        }
    };
    match command {
        Command::Listen { port, store } => listen::serve_inbound(&config, port, store.as_deref()),
        call => {
            let client = Client::new(config, UreqTransport::new());
            run_call(&client, call).unwrap_or_else(|msg| {
                eprintln!("error: {msg}");
                ExitCode::from(64)
            })
        }
    }
}

fn run_call(client: &Client<UreqTransport>, command: Command) -> Result<ExitCode, String> {
    let merchant = |args: &Args| -> Result<AuthClient, String> {
        let id = args.required("auth-client-id")?;
        let name = args
            .optional("auth-client-name")
            .unwrap_or("alipayplus-rs example merchant");
        let mut m = AuthClient::new(id, name);
        if let Some(d) = args.optional("display-name") {
            m = m.with_display_name(d);
        }
        Ok(m)
    };
    Ok(match command {
        Command::Prepare(args) => {
            let m = merchant(&args)?;
            let (binding, terminal, os) = binding(&args, &m)?;
            eprintln!(
                "authState: {} (keep it to check the redirect back)",
                binding.state().as_str()
            );
            print(client.call(&binding.prepare_request(&m, terminal, os)))
        }
        Command::ApplyToken(args) => {
            let m = merchant(&args)?;
            let code = Secret::new(args.required("auth-code")?);
            print(client.call(&code_token_request(&m, &code, args.optional("wallet"))))
        }
        Command::RefreshToken(args) => {
            let m = merchant(&args)?;
            let rt = Secret::new(args.required("refresh-token")?);
            print(client.call(&refresh_request(&m, &rt)))
        }
        Command::CancelToken(args) => {
            let m = merchant(&args)?;
            let token = Secret::new(args.required("access-token")?);
            print(client.call(&cancel_token_request(&m, &token)))
        }
        Command::Pay(args) => pay(client, &args)?,
        Command::Redirect(_) | Command::Listen { .. } => unreachable!("handled in main"),
    })
}

fn binding(
    args: &Args,
    merchant: &AuthClient,
) -> Result<(Binding, TerminalType, Option<OsType>), String> {
    let state = match args.optional("state") {
        Some(s) => AuthState::parse(s).map_err(|e| format!("--state: {e}"))?,
        None => {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(|e| format!("no OS randomness: {e}"))?;
            AuthState::from_random_bytes(bytes)
        }
    };
    let mut b = Binding::new(
        merchant.id.clone(),
        args.required("auth-redirect-url")?,
        state,
    );
    if let Some(w) = args.optional("wallet") {
        b = b.with_wallet(w);
    }
    if let Some(r) = args.optional("reference-agreement-id") {
        b = b.with_reference_agreement_id(r);
    }
    let terminal = match args.optional("terminal").unwrap_or("WEB") {
        "WEB" => TerminalType::Web,
        "WAP" => TerminalType::Wap,
        "APP" => TerminalType::App,
        "MINI_APP" => TerminalType::MiniApp,
        other => {
            return Err(format!(
                "--terminal {other:?}: expected WEB, WAP, APP or MINI_APP"
            ));
        }
    };
    let os = match args.optional("os") {
        None => None,
        Some("IOS") => Some(OsType::Ios),
        Some("ANDROID") => Some(OsType::Android),
        Some(other) => return Err(format!("--os {other:?}: expected IOS or ANDROID")),
    };
    Ok((b, terminal, os))
}

fn pay(client: &Client<UreqTransport>, args: &Args) -> Result<ExitCode, String> {
    let id = args.required("request-id")?;
    let currency = Currency::new(args.required("currency")?).map_err(|e| e.to_string())?;
    let value = args.required("value")?;
    let minor: u64 = value
        .parse()
        .map_err(|_| format!("--value {value:?} must be an integer in minor units"))?;
    let amount = Amount::new(currency, minor);
    let order = Order::new(
        args.optional("order-id").unwrap_or(id).into(),
        args.optional("description")
            .unwrap_or("alipayplus-rs example agreement payment")
            .into(),
        amount,
        Merchant::new(args.optional("merchant-id").unwrap_or("M-EXAMPLE").into()),
    );
    let token = Secret::new(args.required("access-token")?);
    let mut request = agreement_pay_request(id, order, amount, &token);
    request.payment_notify_url = args.optional("notify-url").map(str::to_string);
    match args.optional("follow") {
        None | Some("no") => Ok(print(
            checked_agreement_pay(&request).and_then(|r| client.call(&r)),
        )),
        Some("yes") => {
            let sleep = std::thread::sleep;
            match follow_agreement_payment(client, &request, sleep) {
                Err(e) => {
                    eprintln!("not sent: {e}");
                    Ok(ExitCode::from(2))
                }
                Ok(done) => {
                    let (state, code) = match &done.final_state {
                        Some(Final::Succeeded) => ("SUCCEEDED", None),
                        Some(Final::Failed { code }) => ("FAILED", Some(code.as_str())),
                        Some(Final::Cancelled) => ("CANCELLED", None),
                        _ => ("UNRESOLVED", None),
                    };
                    let line = serde_json::json!({
                        "paymentRequestId": done.payment_request_id,
                        "finalState": state,
                        "resultCode": code,
                        "paymentId": done.pay_response.as_ref().and_then(|r| r.payment_id.clone()),
                        "payAttempts": done.pay_attempts,
                        "inquiries": done.inquiries,
                    });
                    println!("{line}");
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Some(other) => Err(format!("--follow {other:?}: expected yes or no")),
    }
}

/// `redirect --url URL --state STATE`: checks a redirect back offline.
fn check_redirect(args: &Args) -> ExitCode {
    let parsed = (|| -> Result<(String, AuthState), String> {
        let url = args.required("url")?.to_string();
        let state = AuthState::parse(args.required("state")?).map_err(|e| e.to_string())?;
        Ok((url, state))
    })();
    let (url, state) = match parsed {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("error: {msg}\n\n{}", cli::USAGE);
            return ExitCode::from(64);
        }
    };
    let mut binding = Binding::new("-", "-", state);
    match binding
        .on_redirect(&url)
        .and_then(|_| binding.apply_token_request())
    {
        Ok(request) => {
            let code = request.auth_code.map(|c| c.expose().to_string());
            println!("{}", serde_json::json!({ "authCode": code }));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("refused: {e}");
            ExitCode::from(1)
        }
    }
}

/// Prints the verified body (exit 0), or why there is none (exit 1 / 2).
fn print<R: HasResult>(outcome: Result<Outcome<R>, RequestError>) -> ExitCode {
    match outcome {
        Err(e) => {
            eprintln!("not sent: {e}");
            ExitCode::from(2)
        }
        Ok(Outcome::NoVerifiedResponse(e)) => {
            eprintln!("no verified response (outcome unknown): {e}");
            if let Some(r) = e.response() {
                eprintln!(
                    "HTTP {} body: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
            }
            ExitCode::from(1)
        }
        Ok(outcome) => match outcome.reply() {
            Some(reply) => {
                println!("{}", String::from_utf8_lossy(&reply.response.body));
                ExitCode::SUCCESS
            }
            None => ExitCode::from(1),
        },
    }
}
