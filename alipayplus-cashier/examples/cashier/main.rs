//! Try the Cashier client against any endpoint (a sandbox, a local simulator).
//!
//! ```text
//! cashier pay --currency USD --value 1000 --request-id ID [--wallet ALIPAY_CN]
//!             [--order-id ID] [--merchant-id ID] [--description TEXT] [--terminal WEB|WAP|APP]
//!             [--os IOS|ANDROID] [--notify-url URL] [--redirect-url URL] [--expiry-minutes N]
//!             [--presentment-mode MODE]
//! cashier inquire --request-id ID
//! cashier cancel --request-id ID
//! cashier refund --request-id ID --refund-request-id RID --currency USD --value 500 [--reason TEXT]
//! cashier consult --currency USD --value 1000 [--user-region KR]
//! cashier listen --port N [--store sqlite:PATH]
//! ```
//!
//! Environment: `ALIPAYPLUS_BASE_URL` (https, or http to 127.0.0.1/localhost),
//! `ALIPAYPLUS_CLIENT_ID`, `ALIPAYPLUS_PRIVATE_KEY` and `ALIPAYPLUS_PUBLIC_KEY` (paths to key
//! files in any supported form: PEM, DER or bare base64; PKCS#8/PKCS#1/SPKI), optionally
//! `ALIPAYPLUS_KEY_VERSION` (our keyVersion, default 1).
//!
//! Calls print the verified response body and exit 0 whatever its `resultStatus`; when no
//! verified response was obtained (transport failure, non-200, missing or bad signature,
//! unparsable body) they print why on stderr and exit 1; a request refused before sending
//! exits 2; bad usage or configuration exits 64.
//!
//! `listen` serves notifyPayment POSTs on 127.0.0.1:N (any path): each verified notification
//! is printed as one JSON line on stdout and answered with the signed acknowledgement; a
//! request that fails verification or parsing gets the refusal documented in
//! `alipayplus_cashier::inbound` (signed once the caller verified) and a line on stderr. A
//! verified notification signed for another `Client-Id` is refused (`INVALID_CLIENT`) unless
//! `ALIPAYPLUS_FOREIGN_CLIENT_ID=report` (then printed, with a note on stderr). It serves until
//! killed. With `--store sqlite:PATH` each verified notification is committed to
//! `alipayplus-store`'s inbox (for the `cashier.pay` follow-up of its `paymentRequestId`)
//! before the acknowledgement goes out: not stored, not acknowledged (HTTP 500, Alipay+
//! delivers again); a re-delivery, also after a restart on the same file, is recognised,
//! acknowledged again and not printed twice. Without `--store` nothing is kept.

mod cli;
mod listen;

use std::process::ExitCode;
use std::time::Duration;

use alipayplus_cashier::PaymentRef;
use alipayplus_cashier::RequestError;
use alipayplus_cashier::cancel_request;
use alipayplus_cashier::cashier::cashier_payment_factor;
use alipayplus_cashier::cashier::checked_pay as cashier_pay_request;
use alipayplus_cashier::cashier::consult_with_cashier_flags;
use alipayplus_cashier::inquiry_request;
use alipayplus_cashier::{Client, Outcome};
use alipayplus_cashier::{Clock, SystemClock};
use alipayplus_listen::config_from_env;
use alipayplus_types::{
    Amount, ConsultPaymentRequest, Currency, DateTime, Env, HasResult, Merchant, Order, OsType,
    PayRequest, PaymentMethod, PresentmentMode, RefundRequest, TerminalType,
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
    let listening = matches!(command, Command::Listen { .. });
    let config = match config_from_env(listening) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("configuration error: {msg}");
            return ExitCode::from(64);
        }
    };
    match command {
        Command::Listen { port, store } => {
            listen::serve_notifications(&config, port, store.as_deref())
        }
        call => {
            let client = Client::new(config, UreqTransport::new());
            run_call(&client, call)
        }
    }
}

fn amount(args: &Args) -> Result<Amount, String> {
    let currency = Currency::new(args.required("currency")?).map_err(|e| e.to_string())?;
    let value = args.required("value")?;
    let minor: u64 = value
        .parse()
        .map_err(|_| format!("--value {value:?} must be an integer in minor units"))?;
    Ok(Amount::new(currency, minor))
}

fn run_call(client: &Client<UreqTransport>, command: Command) -> ExitCode {
    let result = match command {
        Command::Pay(args) => {
            pay_request(&args).map(|r| print(cashier_pay_request(&r).and_then(|r| client.call(&r))))
        }
        Command::Inquire(args) => args
            .required("request-id")
            .map(|id| print(client.call(&inquiry_request(&PaymentRef::RequestId(id.into()))))),
        Command::Cancel(args) => args
            .required("request-id")
            .map(|id| print(client.call(&cancel_request(&PaymentRef::RequestId(id.into()))))),
        Command::Refund(args) => refund_request(&args).map(|r| print(client.call(&r))),
        Command::Consult(args) => amount(&args).map(|a| {
            let mut req = ConsultPaymentRequest::new(a, cashier_payment_factor(None));
            req.user_region = args.optional("user-region").map(str::to_string);
            print(client.call(&consult_with_cashier_flags(&req)))
        }),
        Command::Listen { .. } => unreachable!("handled in main"),
    };
    result.unwrap_or_else(|msg| {
        eprintln!("error: {msg}");
        ExitCode::from(64)
    })
}

fn pay_request(args: &Args) -> Result<PayRequest, String> {
    let id = args.required("request-id")?;
    let amount = amount(args)?;
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
    let mut env = Env::new(terminal);
    env.os_type = match args.optional("os") {
        None => None,
        Some("IOS") => Some(OsType::Ios),
        Some("ANDROID") => Some(OsType::Android),
        Some(other) => return Err(format!("--os {other:?}: expected IOS or ANDROID")),
    };
    let order = Order {
        env: Some(env),
        ..Order::new(
            args.optional("order-id").unwrap_or(id).into(),
            args.optional("description")
                .unwrap_or("alipayplus-rs example order")
                .into(),
            amount,
            Merchant::new(args.optional("merchant-id").unwrap_or("M-EXAMPLE").into()),
        )
    };
    let mode = args.optional("presentment-mode").map(PresentmentMode::from);
    let mut req = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new(args.optional("wallet").unwrap_or("ALIPAY_CN").into()),
        cashier_payment_factor(mode),
    );
    req.payment_notify_url = args.optional("notify-url").map(str::to_string);
    // Required for Cashier; the official SDK's default is "/" (the merchant's site root).
    req.payment_redirect_url = Some(args.optional("redirect-url").unwrap_or("/").to_string());
    if let Some(m) = args.optional("expiry-minutes") {
        let minutes: u64 = m
            .parse()
            .map_err(|_| format!("--expiry-minutes {m:?} must be a whole number"))?;
        let at = SystemClock.now() + Duration::from_secs(minutes * 60);
        let t = DateTime::from_unix(at.unix_millis() / 1000, 0).map_err(|e| e.to_string())?;
        req.payment_expiry_time = Some(t);
    }
    Ok(req)
}

fn refund_request(args: &Args) -> Result<RefundRequest, String> {
    let mut req = RefundRequest::new(args.required("refund-request-id")?.into(), amount(args)?);
    req.payment_request_id = Some(args.required("request-id")?.into());
    req.refund_reason = args.optional("reason").map(str::to_string);
    Ok(req)
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
