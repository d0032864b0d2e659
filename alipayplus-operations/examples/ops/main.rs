//! Try merchant registration, disputes and customs declarations against any endpoint (a
//! sandbox, the local simulator).
//!
//! ```text
//! ops register --request FILE
//! ops registration-status --registration-request-id ID
//! ops respond-retrieval --request FILE
//! ops respond-escalation --request FILE
//! ops declare --request FILE
//! ops inquire-declarations --declaration-request-id ID [--declaration-request-id ID ...]
//! ops listen --port N [--store sqlite:PATH]
//! ```
//!
//! FILE holds the API's request body as JSON (registration, responseRetrieval,
//! responseEscalation, declare).
//!
//! Environment (as the cashier and autodebit examples): `ALIPAYPLUS_BASE_URL` (https, or http
//! to 127.0.0.1/localhost), `ALIPAYPLUS_CLIENT_ID`, `ALIPAYPLUS_PRIVATE_KEY` and
//! `ALIPAYPLUS_PUBLIC_KEY` (paths to key files: PEM, DER or bare base64; PKCS#8/PKCS#1/SPKI),
//! optionally `ALIPAYPLUS_KEY_VERSION` (our keyVersion, default 1).
//!
//! Exit rules (as the cashier example): calls print the verified response body and exit 0
//! whatever its `resultStatus`; when no verified response was obtained (transport failure,
//! non-200, missing or bad signature, unparsable body) they print why on stderr and exit 1; a
//! request file that cannot be read, is not the API's JSON or fails validation exits 2, saying
//! what is wrong, before anything is sent; bad usage or configuration exits 64.
//!
//! `respond-escalation` checks what needs no context (refund type and amount shapes, evidence,
//! lengths); the bound of the refund by the escalation amount and the payment's currency needs
//! the stored escalation, which this stateless tool does not keep: in an application use
//! `alipayplus_operations::dispute::checked_response_escalation` with the dispute stored by the
//! handler.
//!
//! `listen` serves on 127.0.0.1:N notifyRegistrationStatus, initiateRetrieval and
//! initiateEscalation, choosing the API by the last path segment of the request (e.g.
//! `POST /anything/initiateRetrieval`; end each notify URL given to Alipay+ with the API name).
//! Each verified event is printed as one JSON line on stdout
//! (`{"api":...,"event":...,"clientIdIsOurs":true}`; a re-delivered dispute is acknowledged
//! again but printed once) and answered with the signed response; refusals (bad signature,
//! unparsable body, a dispute id reused for another payment, a call signed for another
//! `Client-Id`) get a line on stderr. A foreign `Client-Id` is refused unless
//! `ALIPAYPLUS_FOREIGN_CLIENT_ID=report` (then accepted, with `"clientIdIsOurs":false` and a
//! note on stderr). It serves until killed. Disputes are remembered in memory by default;
//! with `--store sqlite:PATH` registration notifications go to `alipayplus-store`'s inbox and
//! disputes to its dispute records, each committed before the signed answer, so a dispute
//! re-delivered after a restart on the same file is still a duplicate (or a conflict).

mod cli;
mod listen;

use std::process::ExitCode;

use alipayplus_client::client::{Client, Outcome};
use alipayplus_client::error::RequestError;
use alipayplus_listen::config_from_env;
use alipayplus_operations::customs::{checked_declare, inquire_declarations_request};
use alipayplus_operations::dispute::{check_response_escalation, check_response_retrieval};
use alipayplus_operations::registration::{
    RegistrationRef, checked_registration, inquiry_registration_status_request,
};
use alipayplus_types::{Api, HasResult};
use alipayplus_ureq::UreqTransport;
use cli::{Command, UsageError};
use serde::de::DeserializeOwned;

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
        Command::Listen { port, store } => listen::serve(&config, port, store.as_deref()),
        call => run_call(&Client::new(config, UreqTransport::new()), call),
    }
}

/// Why a request was not sent (exit 2).
enum NotSent {
    File(String),
    Invalid(RequestError),
}

/// Reads FILE as the request body of API `A`.
fn load<A: DeserializeOwned + Api>(path: &str) -> Result<A, NotSent> {
    let text =
        std::fs::read(path).map_err(|e| NotSent::File(format!("cannot read {path}: {e}")))?;
    serde_json::from_slice(&text)
        .map_err(|e| NotSent::File(format!("{path} is not a {} request body: {e}", A::NAME)))
}

fn call<A: Api>(client: &Client<UreqTransport>, request: Result<A, NotSent>) -> ExitCode {
    match request {
        Ok(r) => print(client.call(&r)),
        Err(NotSent::File(msg)) => {
            eprintln!("not sent: {msg}");
            ExitCode::from(2)
        }
        Err(NotSent::Invalid(e)) => print::<A::Response>(Err(e)),
    }
}

fn run_call(client: &Client<UreqTransport>, command: Command) -> ExitCode {
    let invalid = NotSent::Invalid;
    match command {
        Command::Register(file) => call(
            client,
            load(&file).and_then(|r| checked_registration(&r).map_err(invalid)),
        ),
        Command::RegistrationStatus(id) => call(
            client,
            inquiry_registration_status_request(&RegistrationRef::RequestId(id)).map_err(invalid),
        ),
        Command::RespondRetrieval(file) => call(
            client,
            load(&file).and_then(|r| check_response_retrieval(&r).map_err(invalid)),
        ),
        Command::RespondEscalation(file) => call(
            client,
            load(&file).and_then(|r| check_response_escalation(&r).map_err(invalid)),
        ),
        Command::Declare(file) => call(
            client,
            load(&file).and_then(|r| checked_declare(&r).map_err(invalid)),
        ),
        Command::InquireDeclarations(ids) => {
            call(client, inquire_declarations_request(&ids).map_err(invalid))
        }
        Command::Listen { .. } => unreachable!("handled in main"),
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
