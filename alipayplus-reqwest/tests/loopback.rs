//! The reqwest transport over real HTTP on loopback, against a tiny test server (the same
//! cases as alipayplus-ureq's), and byte for byte against the blocking ureq transport.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::inquiry::{PaymentRef, inquiry_request};
use alipayplus_client::time::Timestamp;
use alipayplus_client::transport::Request;
use alipayplus_client::transport_async::AsyncTransport;
use alipayplus_reqwest::{Error, ReqwestTransport};
use alipayplus_sign::PublicKeys;
use alipayplus_sim::keys;
use alipayplus_ureq::UreqTransport;

/// What the server saw: request line, headers (lower-cased names), body.
#[derive(Debug)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        request_line: request_line.trim_end().to_string(),
        headers,
        body,
    })
}

/// Serves each connection's requests with `respond` (keep-alive), reporting what it saw and
/// which connection carried it.
fn serve(
    respond: impl Fn(&Seen) -> Option<Vec<u8>> + Send + Sync + 'static,
) -> (String, mpsc::Receiver<(usize, Seen)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    let respond = std::sync::Arc::new(respond);
    thread::spawn(move || {
        for (conn, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let tx = tx.clone();
            let respond = respond.clone();
            thread::spawn(move || {
                while let Some(seen) = read_request(&mut stream) {
                    let answer = respond(&seen);
                    let _ = tx.send((conn, seen));
                    match answer {
                        Some(bytes) => {
                            if stream.write_all(&bytes).is_err() {
                                return;
                            }
                        }
                        None => {
                            // Hold the connection open without answering.
                            thread::sleep(Duration::from_secs(3));
                            return;
                        }
                    }
                }
            });
        }
    });
    (base, rx)
}

fn http_response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[tokio::test]
async fn round_trip_keeps_bytes_headers_and_reuses_the_connection() {
    let (base, seen) = serve(|_| {
        Some(http_response(
            "200 OK",
            &[
                (
                    "Signature",
                    "algorithm=RSA256,keyVersion=1,signature=abc%3D",
                ),
                ("Response-Time", "2025-02-21T05:43:09Z"),
                ("Content-Type", "application/json; charset=UTF-8"),
            ],
            br#"{"result":{"resultStatus":"S"}}"#,
        ))
    });
    let transport = ReqwestTransport::new().unwrap();
    let body = b"{\n  \"paymentRequestId\" : \"r1\"\n}".to_vec();
    for _ in 0..2 {
        let mut request = Request::post(format!("{base}/aps/api/v1/payments/pay"), body.clone());
        request.headers.insert("Client-Id", "SANDBOX_1");
        request
            .headers
            .insert("Request-Time", "2025-02-20T08:51:49.09Z");
        request
            .headers
            .insert("Content-Type", "application/json; charset=UTF-8");
        let response = transport.send(request).await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, br#"{"result":{"resultStatus":"S"}}"#);
        assert_eq!(
            response.headers.get("signature"),
            Some("algorithm=RSA256,keyVersion=1,signature=abc%3D")
        );
        assert_eq!(
            response.headers.get("RESPONSE-TIME"),
            Some("2025-02-21T05:43:09Z")
        );
    }
    let (c1, first) = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    let (c2, _second) = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first.request_line, "POST /aps/api/v1/payments/pay HTTP/1.1");
    assert_eq!(first.body, body, "body bytes must arrive exactly as signed");
    assert_eq!(first.header("client-id"), Some("SANDBOX_1"));
    assert_eq!(
        first.header("request-time"),
        Some("2025-02-20T08:51:49.09Z")
    );
    assert_eq!(c1, c2, "the shared client reuses its connection");
}

#[tokio::test]
async fn non_200_is_a_response_not_an_error_and_redirects_are_not_followed() {
    let (base, seen) = serve(|seen| {
        if seen.request_line.contains("/moved") {
            Some(http_response(
                "302 Found",
                &[("Location", "/elsewhere")],
                b"",
            ))
        } else {
            Some(http_response("500 Internal Server Error", &[], b"oops"))
        }
    });
    let transport = ReqwestTransport::new().unwrap();
    let response = transport
        .send(Request::post(format!("{base}/x"), b"{}".to_vec()))
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.body.as_slice()),
        (500, &b"oops"[..])
    );
    let response = transport
        .send(Request::post(format!("{base}/moved"), b"{}".to_vec()))
        .await
        .unwrap();
    assert_eq!(response.status, 302);
    let lines: Vec<String> = seen.try_iter().map(|(_, s)| s.request_line).collect();
    assert!(
        !lines.iter().any(|l| l.contains("/elsewhere")),
        "the redirect was followed: {lines:?}"
    );
}

#[tokio::test]
async fn request_timeout_is_a_typed_timeout() {
    let (base, _seen) = serve(|_| None);
    let transport = ReqwestTransport::builder()
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = transport
        .send(Request::post(format!("{base}/slow"), b"{}".to_vec()))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert!(
        std::error::Error::source(&error).is_some(),
        "the source is kept"
    );
}

#[tokio::test]
async fn refused_connection_is_a_typed_connect_error() {
    // Bind then drop to get a port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = ReqwestTransport::new()
        .unwrap()
        .send(Request::post(format!("http://127.0.0.1:{port}/"), vec![]))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Connect(_)), "{error:?}");
    // The message names the cause, not only reqwest's step.
    assert!(
        error.to_string().to_lowercase().contains("refused"),
        "{error}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_announced_or_not() {
    let (base, _seen) = serve(|seen| {
        if seen.request_line.contains("/chunked") {
            // No Content-Length: the limit is enforced while reading.
            let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            for _ in 0..4 {
                out.extend_from_slice(b"400\r\n");
                out.extend_from_slice(&[b'x'; 0x400]);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            Some(out)
        } else {
            Some(http_response("200 OK", &[], &[b'x'; 4096]))
        }
    });
    let transport = ReqwestTransport::builder()
        .max_response_bytes(1024)
        .build()
        .unwrap();
    for path in ["/big", "/chunked"] {
        let error = transport
            .send(Request::post(format!("{base}{path}"), vec![]))
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::BodyTooLarge { limit: 1024 }),
            "{path}: {error:?}"
        );
    }
}

#[tokio::test]
async fn tls_handshake_failure_is_a_typed_tls_error() {
    // A server that speaks plain HTTP at once: the TLS handshake must fail, never fall back.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let https = format!("https://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.write_all(&http_response("200 OK", &[], b"{}"));
            thread::sleep(Duration::from_millis(500));
        }
    });
    let error = ReqwestTransport::builder()
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
        .send(Request::post(format!("{https}/x"), vec![]))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Tls(_)), "{error:?}");
}

#[test]
fn debug_never_shows_proxy_credentials() {
    let transport = ReqwestTransport::builder()
        .proxy("http://user:hunter2@127.0.0.1:3128")
        .build()
        .unwrap();
    let builder = ReqwestTransport::builder().proxy("http://user:hunter2@127.0.0.1:3128");
    for shown in [format!("{transport:?}"), format!("{builder:?}")] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

#[tokio::test]
async fn bad_inputs_give_clear_errors() {
    let error = ReqwestTransport::builder()
        .proxy("not a proxy url ::")
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::InvalidProxy(_)), "{error:?}");
    for pem in [
        &b"not a certificate"[..],
        b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
    ] {
        let error = ReqwestTransport::builder()
            .add_root_certificate_pem(pem)
            .build()
            .unwrap_err();
        assert!(
            matches!(error, Error::InvalidRootCertificate { .. }),
            "{error:?}"
        );
    }
    let error = ReqwestTransport::new()
        .unwrap()
        .send(Request::post("no scheme here", vec![]))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
}

fn fixed_config(base: &str) -> ClientConfig {
    ClientConfig::new(
        "SANDBOX_SIM_ACQP_0001",
        Host::custom(base).unwrap(),
        keys::acqp_private_key().unwrap(),
        PublicKeys::single(1, keys::sim_public_key().unwrap()),
        || Timestamp::from_unix_secs(1_740_041_509),
    )
    .unwrap()
}

/// The same call through the blocking (ureq) and the async (reqwest) client, fixed clock: the
/// wire carries the same target, body and signed headers.
#[tokio::test]
async fn blocking_and_async_clients_put_the_same_bytes_on_the_wire() {
    let (base, seen) = serve(|_| Some(http_response("200 OK", &[], b"{}")));
    let request = inquiry_request(&PaymentRef::RequestId("order-42".into()));
    let blocking = Client::new(fixed_config(&base), UreqTransport::new());
    let async_client = Client::new(fixed_config(&base), ReqwestTransport::new().unwrap());
    let b = {
        let request = request.clone();
        tokio::task::spawn_blocking(move || blocking.call(&request).unwrap())
            .await
            .unwrap()
    };
    let a = async_client.call_async(&request).await.unwrap();
    // No signature on the answer: both unknown, the same way.
    assert!(b.is_unknown() && a.is_unknown());
    let (_, from_ureq) = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    let (_, from_reqwest) = seen.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(from_ureq.request_line, from_reqwest.request_line);
    assert_eq!(from_ureq.body, from_reqwest.body);
    for name in [
        "client-id",
        "request-time",
        "signature",
        "content-type",
        "content-length",
    ] {
        assert!(from_ureq.header(name).is_some(), "{name}");
        assert_eq!(from_ureq.header(name), from_reqwest.header(name), "{name}");
    }
}
