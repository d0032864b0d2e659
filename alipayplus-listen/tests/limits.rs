//! The listener holds: a whole-request deadline against slow clients, a bound on connections
//! (excess ones refused at once), and requests handed over whole.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use alipayplus_listen::{Limits, Request, Response, serve_on};

/// Starts a listener in the background; returns its address.
fn start(limits: Limits) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        serve_on(listener, limits, |request: Request| {
            let path = request.path().to_string();
            let mut r = Response::new(200, request.body);
            r.headers.insert("X-Path", path);
            r
        })
    });
    addr
}

fn answer(stream: &mut TcpStream) -> String {
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    out
}

#[test]
fn a_request_is_handed_over_whole() {
    let addr = start(Limits::default());
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"POST /n?x=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        .unwrap();
    let out = answer(&mut s);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("X-Path: /n"), "{out}");
    assert!(out.ends_with("hello"), "{out}");
}

/// One byte every 300 ms would keep a per-read timeout of 1 s happy forever; the deadline of
/// the whole request ends it.
#[test]
fn a_trickling_client_is_cut_at_the_request_deadline() {
    let addr = start(Limits::new(8, Duration::from_secs(1)));
    let mut s = TcpStream::connect(addr).unwrap();
    let started = Instant::now();
    let head = b"POST /n HTTP/1.1\r\nContent-Length: 100\r\n\r\n";
    let mut cut = false;
    for byte in head.iter().chain([b'x'; 100].iter()) {
        if s.write_all(&[*byte]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    let out = answer(&mut s);
    assert!(
        cut || out.starts_with("HTTP/1.1 408"),
        "still open after {:?}: {out}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Idle connections beyond the bound are refused at once with 503, not queued; served again
/// once the others are gone.
#[test]
fn excess_connections_are_refused() {
    let addr = start(Limits::new(2, Duration::from_secs(3)));
    let idle: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = TcpStream::connect(addr).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let started = Instant::now();
    let out = answer(&mut extra);
    assert!(out.starts_with("HTTP/1.1 503"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(idle);
    // The idle ones end at their deadline at the latest; then a request is served.
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let out = answer(&mut s);
        if out.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "never served again: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn oversized_and_chunked_requests_are_refused() {
    let addr = start(Limits::default());
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
        .unwrap();
    assert!(answer(&mut s).starts_with("HTTP/1.1 413"));
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    assert!(answer(&mut s).starts_with("HTTP/1.1 411"));
}
