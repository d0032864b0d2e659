//! `listen --port N`: serves notifyRegistrationStatus, initiateRetrieval and
//! initiateEscalation on 127.0.0.1 through the shared example listener (`alipayplus-listen`:
//! whole-request deadline, bounded connections, bounded sizes, no panic when threads run out),
//! choosing the API by the last path segment. Each request is verified before anything in its
//! body is read. A verified call signed for another `Client-Id` is refused (`INVALID_CLIENT`,
//! signed) unless `ALIPAYPLUS_FOREIGN_CLIENT_ID=report`; then it is accepted and its line says
//! `"clientIdIsOurs":false`.
//!
//! `--store sqlite:PATH` (default: kept in memory): registration notifications go to
//! alipayplus-store's inbox and disputes to its dispute records (the new / duplicate /
//! conflict decision against the stored one), each committed before the signed answer; not
//! stored, not acknowledged (HTTP 500, Alipay+ delivers again).

use std::process::ExitCode;
use std::sync::Mutex;

use alipayplus_client::client::ClientConfig;
use alipayplus_client::error::InboundError;
use alipayplus_client::inbound::Refused;
use alipayplus_client::transport::{Request, Response};
use alipayplus_listen::Limits;
use alipayplus_operations::dispute::{
    Decision, MemoryDisputeStore, handle_initiate_escalation, handle_initiate_retrieval,
};
use alipayplus_operations::registration::handle_notify_registration_status;
use alipayplus_store::{Inbound, Options, Source, Store};

/// The listener's state: the disputes seen (idempotency), in memory or in the store.
struct Listener<'a> {
    config: &'a ClientConfig,
    disputes: Mutex<MemoryDisputeStore>,
    store: Option<Store>,
}

pub fn serve(config: &ClientConfig, port: u16, store: Option<&str>) -> ExitCode {
    let store = match store.map(|url| Store::open(url, Options::default())) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("cannot open the store: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "listening for notifyRegistrationStatus, initiateRetrieval and initiateEscalation on http://127.0.0.1:{port}/"
    );
    let state = Listener {
        config,
        disputes: Mutex::new(MemoryDisputeStore::new()),
        store,
    };
    let error = alipayplus_listen::serve(("127.0.0.1", port), Limits::default(), |request| {
        dispatch(&state, &request)
    });
    eprintln!("cannot listen on 127.0.0.1:{port}: {error}");
    ExitCode::from(1)
}

/// One JSON line per verified event, with the Client-Id flag kept.
fn print(api: &str, event: &impl serde::Serialize, client_id: &str, client_id_is_ours: bool) {
    if !client_id_is_ours {
        eprintln!("note: verified {api} signed for Client-Id {client_id:?}, not ours (reported)");
    }
    let line =
        serde_json::json!({ "api": api, "event": event, "clientIdIsOurs": client_id_is_ours });
    match serde_json::to_string(&line) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("cannot print the event: {e}"),
    }
}

fn refused(request: &Request, refused: Refused) -> Response {
    let hint = match refused.error {
        InboundError::ClientIdMismatch => {
            " (set ALIPAYPLUS_FOREIGN_CLIENT_ID=report to accept and report it)"
        }
        _ => "",
    };
    eprintln!(
        "refused {} {}: {}{hint}",
        request.method, request.uri, refused.error
    );
    refused.answer
}

fn dispatch(state: &Listener<'_>, request: &Request) -> Response {
    let config = state.config;
    let api = request.path().rsplit('/').next().unwrap_or_default();
    let delivery = match api {
        "notifyRegistrationStatus" => {
            return match handle_notify_registration_status(config, request) {
                Ok(n) => {
                    if let Some(store) = &state.store {
                        // One entry per registration and status: re-deliveries recognised.
                        let key = format!(
                            "{}:{}",
                            serde_json::to_string(&n.body.event.key).unwrap_or_default(),
                            serde_json::to_string(&n.body.event.overall).unwrap_or_default()
                        );
                        let now = config.now();
                        let event =
                            Inbound::new(Source::NotifyRegistrationStatus, &key, &request.body);
                        if let Err(e) = store.append(&event, now) {
                            eprintln!("{api} not stored ({e}): not acknowledged");
                            return Response::new(500, Vec::new());
                        }
                    }
                    print(api, &n.body.event, &n.client_id, n.client_id_is_ours);
                    n.answer
                }
                Err(r) => refused(request, r),
            };
        }
        "initiateRetrieval" => handle_initiate_retrieval(config, request),
        "initiateEscalation" => handle_initiate_escalation(config, request),
        _ => {
            eprintln!(
                "no such API {api:?} in {} {} (end the URL with notifyRegistrationStatus, initiateRetrieval or initiateEscalation)",
                request.method, request.uri
            );
            return Response::new(404, Vec::new());
        }
    };
    let delivery = match delivery {
        Ok(d) => d,
        Err(r) => return refused(request, r),
    };
    let received = match &state.store {
        Some(store) => {
            let now = config.now();
            match store.receive_dispute(config, &delivery, now) {
                Ok(r) => (r.decision, r.answer),
                Err(e) => {
                    eprintln!("{api} not stored ({e}): not acknowledged");
                    return Response::new(500, Vec::new());
                }
            }
        }
        None => {
            let r = match state.disputes.lock() {
                Ok(mut store) => store.receive(config, &delivery),
                Err(poisoned) => poisoned.into_inner().receive(config, &delivery),
            };
            (r.decision, r.answer)
        }
    };
    let received = Received {
        decision: received.0,
        answer: received.1,
    };
    match &received.decision {
        Decision::New => print(
            api,
            &delivery.body.dispute,
            &delivery.client_id,
            delivery.client_id_is_ours,
        ),
        Decision::Duplicate => eprintln!(
            "{api} {} again: acknowledged again",
            delivery.body.dispute.dispute_request_id
        ),
        Decision::Conflict {
            stored_payment_request_id,
        } => eprintln!(
            "refused {api} {}: received before for payment {stored_payment_request_id}, now for {} (REPEAT_REQ_INCONSISTENT)",
            delivery.body.dispute.dispute_request_id, delivery.body.dispute.payment_request_id
        ),
        _ => {}
    }
    received.answer
}

/// A dispute delivery's decision and signed answer (memory or store).
struct Received {
    decision: Decision,
    answer: Response,
}
