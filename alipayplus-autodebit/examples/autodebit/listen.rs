//! `listen --port N`: a minimal HTTP/1.1 server on 127.0.0.1 for authNotify, consultUnbinding
//! and notifyPayment.
//!
//! One request per connection (`Connection: close`), parsed with `httparse`; bounded header
//! and body sizes and a read timeout, so a bad client cannot make it panic or hang forever.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use alipayplus_autodebit::{handle_auth_notify, handle_consult_unbinding};
use alipayplus_client::client::ClientConfig;
use alipayplus_client::inbound::Refused;
use alipayplus_client::transport::{Headers, Request, Response};
use serde::Serialize;

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;

pub fn serve(config: &ClientConfig, port: u16) -> ExitCode {
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "listening for authNotify, consultUnbinding and notifyPayment on http://127.0.0.1:{port}/"
    );
    std::thread::scope(|scope| {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            scope.spawn(move || handle(config, stream));
        }
    });
    ExitCode::SUCCESS
}

/// Which inbound API a request is (routing only; each handler verifies the signature).
fn is_auth_notify(request: &Request) -> bool {
    request.path().ends_with("authNotify")
        || serde_json::from_slice::<serde_json::Value>(&request.body)
            .is_ok_and(|v| v.get("authorizationNotifyType").is_some())
}

fn accepted(body: &impl Serialize, answer: Response) -> Response {
    match serde_json::to_string(body) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("cannot print the event: {e}"),
    }
    answer
}

fn refused(request: &Request, refused: Refused) -> Response {
    eprintln!(
        "refused {} {}: {}",
        request.method, request.uri, refused.error
    );
    refused.answer
}

fn dispatch(config: &ClientConfig, request: &Request) -> Response {
    if request.path().ends_with("consultUnbinding") {
        return match handle_consult_unbinding(config, request) {
            Ok(c) => accepted(&c.body, c.allow(config)),
            Err(r) => refused(request, r),
        };
    }
    if is_auth_notify(request) {
        return match handle_auth_notify(config, request) {
            Ok(n) => accepted(&n.body, n.answer),
            Err(r) => refused(request, r),
        };
    }
    match config.handle_notify_payment(request) {
        Ok(n) => accepted(&n.body, n.answer),
        Err(r) => refused(request, r),
    }
}

fn handle(config: &ClientConfig, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let response = match read_request(&mut stream) {
        Ok(request) => dispatch(config, &request),
        Err(status) => {
            eprintln!("malformed HTTP request ({status})");
            Response::new(status, Vec::new())
        }
    };
    let _ = write_response(&mut stream, &response);
}

fn read_request(stream: &mut TcpStream) -> Result<Request, u16> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let (head_len, mut request) = loop {
        let n = stream.read(&mut chunk).map_err(|_| 400u16)?;
        if n == 0 {
            return Err(400);
        }
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
        let n = stream.read(&mut chunk).map_err(|_| 400u16)?;
        if n == 0 {
            return Err(400);
        }
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
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        _ => "",
    }
}
