//! A small blocking HTTP/1.1 listener for the examples that receive Alipay+'s inbound calls
//! (`cashier listen`, `autodebit listen`, `ops listen`). Unpublished, path-only. It also
//! holds [`config_from_env`], the configuration all three examples read from the environment:
//! listening, they refuse a verified call signed for another `Client-Id` unless
//! `ALIPAYPLUS_FOREIGN_CLIENT_ID=report` ([`foreign_client_id_from_env`]).
//!
//! [`serve`] binds, accepts, reads one request per connection (`Connection: close`) into an
//! [`alipayplus_client::transport::Request`] and writes the [`Response`] the handler returns.
//! It holds against slow or greedy clients ([`Limits`]):
//!
//! * a **whole-request deadline**: reading the head and body must finish within
//!   [`Limits::request_deadline`] (each read waits only for the time left), so one byte every
//!   few seconds cannot keep a connection open; late requests get `408`;
//! * a **bounded number of connections** ([`Limits::max_connections`]): an excess connection
//!   is answered `503` at once and closed, never queued;
//! * **no panic on resource exhaustion**: a thread that cannot be spawned is answered `503`
//!   and the listener goes on;
//! * bounded head and body sizes (`431`, `413`), no chunked bodies (`411`); bodies are never
//!   parsed here: the handler verifies the signature before it reads anything in them.
//!
//! ```no_run
//! use alipayplus_client::transport::Response;
//! use alipayplus_listen::{Limits, serve};
//!
//! let error = serve("127.0.0.1:8080", Limits::default(), |request| {
//!     // e.g. alipayplus_client::notify::handle_notify_payment(&config, &request) ... answer
//!     Response::new(200, request.body)
//! });
//! eprintln!("cannot listen: {error}");
//! ```

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use alipayplus_client::transport::{Headers, Request, Response};
pub use env::{FOREIGN_CLIENT_ID_VAR, config_from_env, foreign_client_id_from_env};

mod env;

/// What a connection may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Connections served at once; more are refused with `503` (default 64).
    pub max_connections: usize,
    /// Time to receive a whole request, head and body (default 10 s).
    pub request_deadline: Duration,
    /// Largest request head in bytes (default 16 KiB).
    pub max_head: usize,
    /// Largest body in bytes (default 1 MiB).
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 64,
            request_deadline: Duration::from_secs(10),
            max_head: 16 * 1024,
            max_body: 1024 * 1024,
        }
    }
}

impl Limits {
    /// The defaults with another connection bound and deadline.
    pub fn new(max_connections: usize, request_deadline: Duration) -> Self {
        Limits {
            max_connections,
            request_deadline,
            ..Limits::default()
        }
    }
}

/// Binds `addr` and serves forever, calling `handler` with each request and sending back the
/// response it returns. Returns only when binding fails (or accepting fails for good).
pub fn serve<H>(addr: impl ToSocketAddrs, limits: Limits, handler: H) -> io::Error
where
    H: Fn(Request) -> Response + Sync,
{
    match TcpListener::bind(addr) {
        Ok(listener) => serve_on(listener, limits, handler),
        Err(e) => e,
    }
}

/// [`serve`] on a listener already bound (e.g. to port 0 in a test).
pub fn serve_on<H>(listener: TcpListener, limits: Limits, handler: H) -> io::Error
where
    H: Fn(Request) -> Response + Sync,
{
    accept_loop(listener, limits, &handler, &Hooks::default())
}

/// Test seams of the accept loop (production: none).
#[derive(Default)]
struct Hooks {
    /// Return after this many connections.
    stop_after: Option<usize>,
    /// Pretend spawning the thread for connection `n` (0-based) failed.
    spawn_fails: Option<fn(usize) -> bool>,
}

fn accept_loop<H>(listener: TcpListener, limits: Limits, handler: &H, hooks: &Hooks) -> io::Error
where
    H: Fn(Request) -> Response + Sync,
{
    let active = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let mut failures = 0u32;
        for (n, stream) in listener.incoming().enumerate() {
            let mut stream = match stream {
                Ok(s) => {
                    failures = 0;
                    s
                }
                Err(e) => {
                    // Out of descriptors and the like: pause instead of spinning; give up only
                    // if it never recovers.
                    failures += 1;
                    if failures > 1000 {
                        return e;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            if active.fetch_add(1, Ordering::SeqCst) >= limits.max_connections {
                active.fetch_sub(1, Ordering::SeqCst);
                refuse(&mut stream, 503);
                continue;
            }
            // The stream moves into the thread; keep a handle to answer if none can start.
            let fallback = stream.try_clone();
            let active = &active;
            let spawned = if hooks.spawn_fails.is_some_and(|fails| fails(n)) {
                Err(io::Error::other("spawn refused by the test hook"))
            } else {
                std::thread::Builder::new()
                    .name("listen-conn".into())
                    .spawn_scoped(scope, move || {
                        handle(stream, limits, handler);
                        active.fetch_sub(1, Ordering::SeqCst);
                    })
                    .map(drop)
            };
            if let Err(e) = spawned {
                active.fetch_sub(1, Ordering::SeqCst);
                eprintln!("cannot start a thread for a connection ({e}): refused (503)");
                if let Ok(mut s) = fallback {
                    refuse(&mut s, 503);
                }
            }
            if hooks.stop_after.is_some_and(|max| n + 1 >= max) {
                break;
            }
        }
        io::Error::other("the listener stopped accepting")
    })
}

/// Answers `status` without reading the request, and closes.
fn refuse(stream: &mut TcpStream, status: u16) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = write_response(stream, &Response::new(status, Vec::new()));
}

fn handle(mut stream: TcpStream, limits: Limits, handler: &(impl Fn(Request) -> Response + Sync)) {
    let _ = stream.set_write_timeout(Some(limits.request_deadline));
    let deadline = Instant::now() + limits.request_deadline;
    let response = match read_request(&mut stream, limits, deadline) {
        Ok(request) => handler(request),
        Err(status) => {
            eprintln!("malformed or late HTTP request ({status})");
            Response::new(status, Vec::new())
        }
    };
    let _ = write_response(&mut stream, &response);
}

/// Reads into `chunk`, waiting at most until `deadline`. `Err(408)` when it has passed.
fn read_by(stream: &mut TcpStream, chunk: &mut [u8], deadline: Instant) -> Result<usize, u16> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(408);
    }
    stream.set_read_timeout(Some(left)).map_err(|_| 400u16)?;
    match stream.read(chunk) {
        Ok(0) => Err(400),
        Ok(n) => Ok(n),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(408)
        }
        Err(_) => Err(400),
    }
}

/// Reads one request (head, then a `Content-Length` body) by `deadline`.
fn read_request(stream: &mut TcpStream, limits: Limits, deadline: Instant) -> Result<Request, u16> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let (head_len, mut request) = loop {
        let n = read_by(stream, &mut chunk, deadline)?;
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
            Ok(httparse::Status::Partial) if buf.len() < limits.max_head => continue,
            Ok(httparse::Status::Partial) => return Err(431),
            Err(_) => return Err(400),
        }
    };
    if request.headers.get("transfer-encoding").is_some() {
        return Err(411); // chunked bodies are not supported here
    }
    let length: usize = match request.headers.get("content-length") {
        None => 0,
        Some(v) => v.trim().parse().map_err(|_| 400u16)?,
    };
    if length > limits.max_body {
        return Err(413);
    }
    let mut body = buf.get(head_len..).unwrap_or_default().to_vec();
    while body.len() < length {
        let n = read_by(stream, &mut chunk, deadline)?;
        body.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    body.truncate(length);
    request.body = body;
    Ok(request)
}

fn write_response(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
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
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread that cannot be spawned: the connection gets `503`, the listener goes on.
    #[test]
    fn a_failed_thread_spawn_refuses_the_connection_without_panicking() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = |_r: Request| Response::new(200, b"ok".to_vec());
        let client = std::thread::spawn(move || {
            let mut answers = Vec::new();
            for _ in 0..2 {
                let mut s = TcpStream::connect(addr).unwrap();
                s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                    .unwrap();
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                answers.push(out);
            }
            answers
        });
        let hooks = Hooks {
            stop_after: Some(2),
            spawn_fails: Some(|n| n == 0),
        };
        accept_loop(listener, Limits::default(), &handler, &hooks);
        let answers = client.join().unwrap();
        assert!(answers[0].starts_with("HTTP/1.1 503"), "{}", answers[0]);
        assert!(answers[1].starts_with("HTTP/1.1 200"), "{}", answers[1]);
    }
}
