//! HTTPS for clients that speak nothing else (the official SDKs): a certificate made at start
//! and a small TLS-terminating accept loop in front of the plain HTTP server.
//!
//! Design: `tiny_http` cannot take a custom stream (and its own TLS feature pulls an old
//! rustls), so the simulator keeps its HTTP server on a free loopback port and, with TLS on,
//! listens on the asked address itself. Each accepted connection gets a thread that does the
//! rustls handshake and copies bytes both ways between the TLS session and a plain loopback
//! connection to the HTTP server (a second thread carries the answers back). Requests reach
//! the handlers byte for byte as the client sent them, so routing, signatures, faults and the
//! call log are the same with and without TLS.
//!
//! The certificates: a local CA (written to a file for clients to trust, see
//! [`crate::Simulator::tls_ca_pem`]) and a server certificate it signs for `localhost` and
//! `127.0.0.1`, both made with rcgen at every start (nothing secret is stored). The crypto
//! provider is rustls' ring provider, named explicitly: the one ureq already uses in this
//! workspace, so no second provider is compiled in and no process-wide default is needed.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConnection;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::state::{Shared, lock};

/// Names the server certificate is valid for.
pub const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A connection idle this long (no byte from the client) is closed.
const IDLE: Duration = Duration::from_secs(60);

/// The TLS side made at start.
pub(crate) struct Tls {
    pub config: Arc<rustls::ServerConfig>,
    /// The CA certificate (PEM) clients trust.
    pub ca_pem: String,
}

/// Makes the CA, the server certificate and the rustls configuration.
pub(crate) fn setup() -> Result<Tls, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("TLS setup, {what}: {e}");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA", &e))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "alipayplus-sim local CA (test only)");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(|e| fail("CA key", &e))?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| fail("CA", &e))?;

    let names: Vec<String> = SERVER_NAMES.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).map_err(|e| fail("server", &e))?;
    params
        .distinguished_name
        .push(DnType::CommonName, "alipayplus-sim");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate().map_err(|e| fail("server key", &e))?;
    let cert = params
        .signed_by(&key, &ca)
        .map_err(|e| fail("server", &e))?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("protocol versions", &e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(|e| fail("certificate", &e))?;
    Ok(Tls {
        config: Arc::new(config),
        ca_pem: ca.pem(),
    })
}

/// Accepts TLS connections on `listener` until `shared` stops, relaying each to `inner`.
pub(crate) fn spawn_front(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    inner: SocketAddr,
    shared: Arc<Shared>,
) -> io::Result<JoinHandle<()>> {
    // Non-blocking accept, polled like the HTTP workers, so the loop sees the stop flag.
    listener.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("alipayplus-sim-tls".into())
        .spawn(move || {
            while !shared.is_stopping() {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let config = Arc::clone(&config);
                        // A failed spawn drops the connection; the client sees it closed.
                        let _ = std::thread::Builder::new()
                            .name("alipayplus-sim-tls-conn".into())
                            .spawn(move || {
                                // A client that breaks off (or fails the handshake) only ends
                                // its own connection.
                                let _ = relay(stream, config, inner);
                            });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
}

/// One connection: TLS from the client, plain HTTP to the inner server.
fn relay(
    client: TcpStream,
    config: Arc<rustls::ServerConfig>,
    inner: SocketAddr,
) -> io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_nodelay(true)?;
    client.set_read_timeout(Some(IDLE))?;
    let session = Arc::new(Mutex::new(
        ServerConnection::new(config).map_err(io::Error::other)?,
    ));
    let plain = TcpStream::connect(inner)?;
    plain.set_nodelay(true)?;
    let back = {
        let session = Arc::clone(&session);
        let from = plain.try_clone()?;
        let to = client.try_clone()?;
        std::thread::Builder::new()
            .name("alipayplus-sim-tls-back".into())
            .spawn(move || answers(&session, from, to))?
    };
    let result = requests(&session, &client, &plain);
    // Ends the inner connection's request side; the HTTP server then closes it, which ends
    // the answers thread.
    let _ = plain.shutdown(Shutdown::Write);
    if result.is_err() {
        let _ = client.shutdown(Shutdown::Both);
        let _ = plain.shutdown(Shutdown::Both);
    }
    let _ = back.join();
    result
}

/// Client → server: TLS records in, plaintext out to the HTTP server; handshake replies back.
fn requests(
    session: &Mutex<ServerConnection>,
    mut client: &TcpStream,
    mut plain: &TcpStream,
) -> io::Result<()> {
    let mut records = vec![0u8; 16 * 1024];
    let mut text = vec![0u8; 16 * 1024];
    loop {
        let n = client.read(&mut records)?;
        if n == 0 {
            return Ok(());
        }
        let mut input = &records[..n];
        let mut out = Vec::new();
        let mut closed = false;
        {
            let mut s = lock(session);
            while !input.is_empty() {
                if s.read_tls(&mut input)? == 0 {
                    break;
                }
                let state = s.process_new_packets();
                // Handshake messages, or the alert telling why it failed.
                while s.wants_write() {
                    s.write_tls(&mut client)?;
                }
                let state = state.map_err(io::Error::other)?;
                let mut available = state.plaintext_bytes_to_read();
                while available > 0 {
                    let want = available.min(text.len());
                    let k = s.reader().read(&mut text[..want])?;
                    if k == 0 {
                        break;
                    }
                    out.extend_from_slice(&text[..k]);
                    available -= k;
                }
                closed |= state.peer_has_closed();
            }
        }
        plain.write_all(&out)?;
        if closed {
            return Ok(());
        }
    }
}

/// Server → client: plaintext answers in, TLS records out.
fn answers(session: &Mutex<ServerConnection>, mut plain: TcpStream, mut client: TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = plain.read(&mut buf).unwrap_or(0);
        let mut s = lock(session);
        if n == 0 {
            s.send_close_notify();
        } else if s.writer().write_all(&buf[..n]).is_err() {
            break;
        }
        let mut sent = true;
        while sent && s.wants_write() {
            sent = s.write_tls(&mut client).is_ok();
        }
        if n == 0 || !sent {
            break;
        }
    }
    // Unblocks the requests side (its read returns).
    let _ = client.shutdown(Shutdown::Both);
}
