//! `listen --port N`: serves notifyPayment on 127.0.0.1 through the shared example listener
//! (`alipayplus-listen`: whole-request deadline, bounded connections, bounded sizes, no panic
//! when threads run out). Each request is verified before anything in its body is read. A
//! verified notification signed for another `Client-Id` is refused (`INVALID_CLIENT`, signed)
//! unless `ALIPAYPLUS_FOREIGN_CLIENT_ID=report`; then it is printed with a note on stderr.
//!
//! `--store sqlite:PATH` (default: nothing kept, the notification is printed): each verified
//! notification is stored in alipayplus-store's inbox before it is acknowledged (not stored,
//! not acknowledged: HTTP 500, Alipay+ delivers again), for the follow-up `cashier.pay` of its
//! `paymentRequestId`; a re-delivery is recognised and acknowledged again.

use std::process::ExitCode;

use alipayplus_cashier::{ClientConfig, Clock, InboundError, Request, Response, SystemClock};
use alipayplus_listen::{Limits, serve};
use alipayplus_store::{Appended, Kind, Options, Store};

/// The follow-up kind of a Cashier payment (the name agreed across the SDK).
const CASHIER_PAY: Kind = Kind::new("cashier.pay");

pub fn serve_notifications(config: &ClientConfig, port: u16, store: Option<&str>) -> ExitCode {
    let store = match store.map(|url| Store::open(url, Options::default())) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("cannot open the store: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!("listening for notifyPayment on http://127.0.0.1:{port}/ (any path)");
    let error = serve(("127.0.0.1", port), Limits::default(), |request| {
        handle(config, store.as_ref(), &request)
    });
    eprintln!("cannot listen on 127.0.0.1:{port}: {error}");
    ExitCode::from(1)
}

fn handle(config: &ClientConfig, store: Option<&Store>, request: &Request) -> Response {
    match alipayplus_cashier::handle_notify_payment(config, request) {
        Ok(accepted) => {
            if !accepted.client_id_is_ours {
                eprintln!(
                    "note: verified notification for Client-Id {:?}, not ours (reported)",
                    accepted.client_id
                );
            }
            if let Some(store) = store {
                let id = &accepted.body.payment_request_id;
                // Stored before the acknowledgement (the store's write-ahead rule 3).
                // Another Client-Id's notification (accepted only under `report`) feeds no
                // follow-up: stored unlinked, for a person to look at (`Store::stray_inbox`).
                let kinds: &[Kind] = if accepted.client_id_is_ours {
                    &[CASHIER_PAY]
                } else {
                    &[]
                };
                match store.append_payment_notification(kinds, id, &request.body, SystemClock.now())
                {
                    Ok(Appended::Duplicate { same_body, .. }) => {
                        eprintln!(
                            "re-delivery of the notification for {id} (same body: {same_body})"
                        );
                        return accepted.answer;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("notification for {id} not stored ({e}): not acknowledged");
                        return Response::new(500, Vec::new());
                    }
                }
            }
            match serde_json::to_string(&accepted.body) {
                Ok(line) => println!("{line}"),
                Err(e) => eprintln!("cannot print the notification: {e}"),
            }
            accepted.answer
        }
        Err(refused) => {
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
    }
}
