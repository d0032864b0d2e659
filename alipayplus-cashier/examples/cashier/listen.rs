//! `listen --port N`: serves notifyPayment on 127.0.0.1 through the shared example listener
//! (`alipayplus-listen`: whole-request deadline, bounded connections, bounded sizes, no panic
//! when threads run out). Each request is verified before anything in its body is read. A
//! verified notification signed for another `Client-Id` is refused (`INVALID_CLIENT`, signed)
//! unless `ALIPAYPLUS_FOREIGN_CLIENT_ID=report`; then it is printed with a note on stderr.

use std::process::ExitCode;

use alipayplus_cashier::ClientConfig;
use alipayplus_cashier::InboundError;
use alipayplus_cashier::{Request, Response};
use alipayplus_listen::{Limits, serve};

pub fn serve_notifications(config: &ClientConfig, port: u16) -> ExitCode {
    eprintln!("listening for notifyPayment on http://127.0.0.1:{port}/ (any path)");
    let error = serve(("127.0.0.1", port), Limits::default(), |request| {
        handle(config, &request)
    });
    eprintln!("cannot listen on 127.0.0.1:{port}: {error}");
    ExitCode::from(1)
}

fn handle(config: &ClientConfig, request: &Request) -> Response {
    match alipayplus_cashier::handle_notify_payment(config, request) {
        Ok(accepted) => {
            if !accepted.client_id_is_ours {
                eprintln!(
                    "note: verified notification for Client-Id {:?}, not ours (reported)",
                    accepted.client_id
                );
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
