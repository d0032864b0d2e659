//! `listen --port N`: a minimal, self-contained HTTP/1.1 server on 127.0.0.1 for
//! notifyRegistrationStatus, initiateRetrieval and initiateEscalation (to be switched to the
//! shared example listener once it is published).
//!
//! One request per connection (`Connection: close`), parsed with `httparse`; bounded header
//! and body sizes, a deadline for the whole request (a slow client cannot hold a connection
//! open by trickling bytes), and at most [`MAX_CONNECTIONS`] connections at a time (more are
//! answered 503 at once), so a bad client can neither make it panic nor exhaust it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alipayplus_client::client::ClientConfig;
use alipayplus_client::inbound::Refused;
use alipayplus_client::transport::{Headers, Request, Response};
use alipayplus_operations::dispute::{
    Decision, MemoryDisputeStore, handle_initiate_escalation, handle_initiate_retrieval,
};
use alipayplus_operations::registration::handle_notify_registration_status;

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;
/// Time for a whole request to arrive, from the connection's acceptance.
const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// Connections served at the same time.
const MAX_CONNECTIONS: usize = 64;

/// The listener's state: the disputes seen (idempotency) and the connections open.
struct Listener<'a> {
    config: &'a ClientConfig,
    disputes: Mutex<MemoryDisputeStore>,
    open: AtomicUsize,
}

pub fn serve(config: &ClientConfig, port: u16) -> ExitCode {
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "listening for notifyRegistrationStatus, initiateRetrieval and initiateEscalation on http://127.0.0.1:{port}/"
    );
    let state = Listener {
        config,
        disputes: Mutex::new(MemoryDisputeStore::new()),
        open: AtomicUsize::new(0),
    };
    let state = &state;
    std::thread::scope(|scope| {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if state.open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                state.open.fetch_sub(1, Ordering::SeqCst);
                let _ = write_response(&mut stream, &Response::new(503, Vec::new()));
                continue;
            }
            scope.spawn(move || {
                handle(state, stream);
                state.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    ExitCode::SUCCESS
}

fn print(api: &str, event: &impl serde::Serialize) {
    match serde_json::to_string(&serde_json::json!({ "api": api, "event": event })) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("cannot print the event: {e}"),
    }
}

fn refused(request: &Request, refused: Refused) -> Response {
    eprintln!(
        "refused {} {}: {}",
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
                    print(api, &n.event);
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
    let received = match state.disputes.lock() {
        Ok(mut store) => store.receive(config, &delivery),
        Err(poisoned) => poisoned.into_inner().receive(config, &delivery),
    };
    match &received.decision {
        Decision::New => print(api, &delivery.dispute),
        Decision::Duplicate => eprintln!(
            "{api} {} again: acknowledged again",
            delivery.dispute.dispute_request_id
        ),
        Decision::Conflict {
            stored_payment_request_id,
        } => eprintln!(
            "refused {api} {}: received before for payment {stored_payment_request_id}, now for {} (REPEAT_REQ_INCONSISTENT)",
            delivery.dispute.dispute_request_id, delivery.dispute.payment_request_id
        ),
        _ => {}
    }
    received.answer
}

fn handle(state: &Listener<'_>, mut stream: TcpStream) {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let response = match read_request(&mut stream, deadline) {
        Ok(request) => dispatch(state, &request),
        Err(status) => {
            eprintln!("malformed or incomplete HTTP request ({status})");
            Response::new(status, Vec::new())
        }
    };
    let _ = stream.set_write_timeout(Some(REQUEST_DEADLINE));
    let _ = write_response(&mut stream, &response);
}

/// Reads once, with a read timeout of what is left of the deadline.
fn read_some(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<usize, u16> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(408);
    }
    stream.set_read_timeout(Some(left)).map_err(|_| 400u16)?;
    match stream.read(buf) {
        Ok(0) => Err(400),
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(408)
        }
        Err(_) => Err(400),
    }
}

fn read_request(stream: &mut TcpStream, deadline: Instant) -> Result<Request, u16> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let (head_len, mut request) = loop {
        let n = read_some(stream, &mut chunk, deadline)?;
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let mut h = Headers::new();
                for header in parsed.headers.iter() {
                    h.append(
                        header.name,
                        String::from_utf8_lossy(header.value).into_owned(),
                    );
                }
                let request = Request {
                    method: parsed.method.unwrap_or_default().to_string(),
                    uri: parsed.path.unwrap_or("/").to_string(),
                    headers: h,
                    body: Vec::new(),
                };
                break (len, request);
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => return Err(431),
            Err(_) => return Err(400),
        }
    };
    if request.headers.get("transfer-encoding").is_some() {
        return Err(411); // chunked bodies are not supported by this tool
    }
    let length: usize = match request.headers.get("content-length") {
        None => 0,
        Some(v) => v.trim().parse().map_err(|_| 400u16)?,
    };
    if length > MAX_BODY {
        return Err(413);
    }
    let mut body = buf.get(head_len..).unwrap_or_default().to_vec();
    while body.len() < length {
        let n = read_some(stream, &mut chunk, deadline)?;
        body.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    body.truncate(length);
    request.body = body;
    Ok(request)
}

fn write_response(stream: &mut TcpStream, response: &Response) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in response.headers.iter() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(&response.body)?;
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}
