//! Test support: keys, a controllable clock, and a stateful fake Alipay+ (wallet included)
//! played by a closure transport.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alipayplus_autodebit::AuthClient;
use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::time::Timestamp;
use alipayplus_client::transport::{Request, Response};
use alipayplus_sign::{PrivateKey, PublicKey, PublicKeys, message};
use alipayplus_types::DateTime;
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "SANDBOX_5YC47N2ZQHJ004124";
pub const AUTH_CLIENT_ID: &str = "M202400001";
pub const REDIRECT: &str = "https://merchant.example.com/alipayplus/auth-return";
/// 2025-06-01T00:00:00Z
pub const T0_SECS: i64 = 1_748_736_000;
pub const ACCESS_TTL: Duration = Duration::from_secs(3600);
pub const REFRESH_TTL: Duration = Duration::from_secs(86_400);

pub fn acqp_key() -> PrivateKey {
    PrivateKey::parse(include_bytes!("../data/acqp_private_pkcs8.pem")).unwrap()
}
pub fn acqp_public() -> PublicKey {
    PublicKey::parse(include_bytes!("../data/acqp_public_spki.pem")).unwrap()
}
pub fn alipay_key() -> PrivateKey {
    PrivateKey::parse(include_bytes!("../data/alipay_private_pkcs8.pem")).unwrap()
}
pub fn alipay_public() -> PublicKey {
    PublicKey::parse(include_bytes!("../data/alipay_public_spki.pem")).unwrap()
}
pub fn other_key() -> PrivateKey {
    PrivateKey::parse(include_bytes!("../data/other_private_pkcs8.pem")).unwrap()
}

pub fn merchant() -> AuthClient {
    AuthClient::new(AUTH_CLIENT_ID, "Example Trading Pte. Ltd.").with_display_name("Example Shop")
}

/// A clock the test moves.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn new() -> Self {
        TestClock(Arc::new(AtomicI64::new(T0_SECS * 1000)))
    }
    /// A clock at the system time (for a fake answering a binary that uses `SystemClock`).
    pub fn at_system_now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        TestClock(Arc::new(AtomicI64::new(ms)))
    }
    pub fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.0.load(Ordering::SeqCst))
    }
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }
    pub fn secs_since_t0(&self) -> f64 {
        (self.0.load(Ordering::SeqCst) - T0_SECS * 1000) as f64 / 1000.0
    }
}

pub fn config(clock: &TestClock) -> ClientConfig {
    let c = clock.clone();
    ClientConfig::new(
        CLIENT_ID,
        Host::OtherRegionsAccelerated,
        acqp_key(),
        PublicKeys::single(1, alipay_public()),
        move || c.now(),
    )
    .unwrap()
}

fn iso(t: Timestamp) -> String {
    DateTime::from_unix(t.unix_millis().div_euclid(1000), 480)
        .unwrap()
        .as_str()
        .to_string()
}

/// How the fake answers the next pay.
#[derive(Clone, Debug)]
pub enum PayScript {
    Succeed,
    Fail(&'static str),
    /// U / PAYMENT_IN_PROCESS, then paymentResult U for this many inquiries, then S.
    Pending(u32),
    /// U forever (until cancelled).
    PendingForever,
    /// The payment succeeds but the answer is lost (transport error).
    LoseAnswer,
}

#[derive(Clone, Debug)]
pub struct Payment {
    pub status: &'static str,
    pub code: String,
    pub inquiries_left: Option<u32>,
    pub cancelled: bool,
    pub amount: Value,
    pub refunded: u64,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub refresh: String,
    pub access_expires: Timestamp,
    pub refresh_expires: Timestamp,
    pub revoked: bool,
}

/// One logged request: the path, the JSON body, the fake time in seconds since T0.
#[derive(Clone, Debug)]
pub struct Logged {
    pub path: String,
    pub body: Value,
    pub at: f64,
}

#[derive(Default)]
pub struct State {
    /// code -> (used, wallet)
    pub codes: HashMap<String, bool>,
    pub tokens: HashMap<String, Token>,
    pub payments: HashMap<String, Payment>,
    pub pay_script: VecDeque<PayScript>,
    pub last_prepare: Option<Value>,
    pub log: Vec<Logged>,
    pub counter: u32,
    /// applyToken answers U / UNKNOWN_EXCEPTION (unprocessed) this many times first.
    pub apply_token_unknown: u32,
}

/// The fake Alipay+ (with one wallet behind it).
#[derive(Clone)]
pub struct FakeAlipay {
    pub state: Arc<Mutex<State>>,
    pub clock: TestClock,
}

impl FakeAlipay {
    pub fn new(clock: &TestClock) -> Self {
        FakeAlipay {
            state: Arc::new(Mutex::new(State::default())),
            clock: clock.clone(),
        }
    }

    pub fn client(
        &self,
    ) -> Client<impl Fn(Request) -> Result<Response, std::io::Error> + Send + Sync + 'static> {
        let fake = self.clone();
        Client::new(config(&self.clock), move |r: Request| fake.handle(r))
    }

    pub fn script(&self, s: PayScript) {
        self.state.lock().unwrap().pay_script.push_back(s);
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn calls(&self, api: &str) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.path.ends_with(api))
            .collect()
    }

    /// The user agrees on the authorization page: a code is created and the browser goes to
    /// the redirect URL with authCode and authState (appended to its query).
    pub fn consent(&self) -> (String, String) {
        let mut st = self.state.lock().unwrap();
        let prepare = st.last_prepare.clone().expect("prepare was called");
        st.counter += 1;
        let code = format!("2810011{:04}CODE", st.counter);
        st.codes.insert(code.clone(), false);
        let redirect = prepare["authRedirectUrl"].as_str().unwrap();
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let mut url = format!("{redirect}{sep}authCode={code}");
        if let Some(s) = prepare["authState"].as_str() {
            url.push_str(&format!("&authState={s}"));
        }
        (url, code)
    }

    /// A token issued directly (as if bound earlier), with the given expiry times.
    pub fn issue(&self, access_ttl: Duration, refresh_ttl: Duration) -> Value {
        let now = self.clock.now();
        let mut st = self.state.lock().unwrap();
        Self::issue_locked(&mut st, now, access_ttl, refresh_ttl)
    }

    fn issue_locked(st: &mut State, now: Timestamp, a: Duration, r: Duration) -> Value {
        st.counter += 1;
        let access = format!("28100113AT{:06}", st.counter);
        let refresh = format!("28100113RT{:06}", st.counter);
        let token = Token {
            refresh: refresh.clone(),
            access_expires: now + a,
            refresh_expires: now + r,
            revoked: false,
        };
        let out = json!({
            "accessToken": access,
            "accessTokenExpiryTime": iso(token.access_expires),
            "refreshToken": refresh,
            "refreshTokenExpiryTime": iso(token.refresh_expires),
            "customerBelongsTo": "GCASH",
        });
        st.tokens.insert(access, token);
        out
    }

    /// Wallet-side unbinding: the token is revoked.
    pub fn revoke(&self, access_token: &str) {
        let mut st = self.state.lock().unwrap();
        st.tokens.get_mut(access_token).unwrap().revoked = true;
    }

    pub fn handle(&self, request: Request) -> Result<Response, std::io::Error> {
        let path = request.path().to_string();
        let headers = request.headers.iter().map(|(n, v)| (n, v.as_bytes()));
        let acqp = PublicKeys::single(1, acqp_public());
        let verified =
            message::verify_request(&acqp, &request.method, &path, headers, &request.body)
                .expect("the request is correctly signed by the ACQP");
        assert_eq!(verified.client_id, CLIENT_ID);
        let body: Value = serde_json::from_slice(&request.body).expect("JSON request");
        let now = self.clock.now();
        let mut st = self.state.lock().unwrap();
        st.log.push(Logged {
            path: path.clone(),
            body: body.clone(),
            at: self.clock.secs_since_t0(),
        });
        let api = path.rsplit('/').next().unwrap_or_default().to_string();
        let (answer, lose) = match api.as_str() {
            "prepare" => {
                st.last_prepare = Some(body.clone());
                (
                    json!({"result": ok(), "authUrl": "https://wallet.example/authorize?ticket=1"}),
                    false,
                )
            }
            "applyToken" if st.apply_token_unknown > 0 => {
                st.apply_token_unknown -= 1;
                (json!({"result": unknown("UNKNOWN_EXCEPTION")}), false)
            }
            "applyToken" => (Self::apply_token(&mut st, now, &body), false),
            "cancelToken" => {
                let token = body["accessToken"].as_str().unwrap_or_default();
                match st.tokens.get_mut(token) {
                    Some(t) => {
                        t.revoked = true;
                        (json!({"result": ok()}), false)
                    }
                    None => (json!({"result": fail("INVALID_ACCESS_TOKEN")}), false),
                }
            }
            "pay" => Self::pay(&mut st, now, &body),
            "inquiryPayment" => (Self::inquiry(&mut st, &body), false),
            "cancelPayment" => {
                let id = body["paymentRequestId"].as_str().unwrap_or_default();
                match st.payments.get_mut(id) {
                    Some(p) => {
                        p.cancelled = true;
                        (json!({"result": ok(), "paymentRequestId": id}), false)
                    }
                    None => (json!({"result": fail("ORDER_NOT_EXIST")}), false),
                }
            }
            "refund" => {
                let id = body["paymentRequestId"].as_str().unwrap_or_default();
                let value: u64 = body["refundAmount"]["value"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                match st.payments.get_mut(id) {
                    Some(p) if p.status == "S" && !p.cancelled => {
                        p.refunded += value;
                        (
                            json!({"result": ok(), "refundId": format!("R-{id}"),
                                   "refundAmount": body["refundAmount"]}),
                            false,
                        )
                    }
                    _ => (json!({"result": fail("ORDER_STATUS_INVALID")}), false),
                }
            }
            other => panic!("unexpected API {other}"),
        };
        drop(st);
        if lose {
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "lost"));
        }
        // Signed at the fake's own time: the client checks freshness against its clock.
        let time = self
            .clock
            .now()
            .format(alipayplus_client::time::TimeFormat::Offset(480));
        Ok(signed_response_at(&path, &answer.to_string(), &time))
    }

    fn apply_token(st: &mut State, now: Timestamp, body: &Value) -> Value {
        match body["grantType"].as_str() {
            Some("AUTHORIZATION_CODE") => {
                let code = body["authCode"].as_str().unwrap_or_default();
                match st.codes.get(code).copied() {
                    None => json!({"result": fail("INVALID_AUTH_CODE")}),
                    Some(true) => json!({"result": fail("USED_CODE")}),
                    Some(false) => {
                        st.codes.insert(code.to_string(), true);
                        let mut t = Self::issue_locked(st, now, ACCESS_TTL, REFRESH_TTL);
                        t["result"] = ok();
                        t
                    }
                }
            }
            Some("REFRESH_TOKEN") => {
                let rt = body["refreshToken"].as_str().unwrap_or_default();
                let found = st
                    .tokens
                    .iter()
                    .find(|(_, t)| t.refresh == rt)
                    .map(|(a, t)| (a.clone(), t.clone()));
                match found {
                    None => json!({"result": fail("INVALID_REFRESH_TOKEN")}),
                    Some((_, t)) if t.revoked => json!({"result": fail("INVALID_REFRESH_TOKEN")}),
                    Some((_, t)) if now >= t.refresh_expires => {
                        json!({"result": fail("EXPIRED_REFRESH_TOKEN")})
                    }
                    Some((old, _)) => {
                        // Refresh rotates: the old pair stops working.
                        st.tokens.get_mut(&old).unwrap().revoked = true;
                        let mut t = Self::issue_locked(st, now, ACCESS_TTL, REFRESH_TTL);
                        t["result"] = ok();
                        t
                    }
                }
            }
            _ => json!({"result": fail("PARAM_ILLEGAL")}),
        }
    }

    fn pay(st: &mut State, now: Timestamp, body: &Value) -> (Value, bool) {
        let id = body["paymentRequestId"].as_str().unwrap().to_string();
        if let Some(p) = st.payments.get(&id) {
            // Idempotent: the same answer again.
            let answer = match p.status {
                "S" => json!({"result": ok(), "paymentId": format!("P-{id}")}),
                "F" => json!({"result": fail(&p.code)}),
                _ => {
                    json!({"result": unknown("PAYMENT_IN_PROCESS"), "paymentId": format!("P-{id}")})
                }
            };
            return (answer, false);
        }
        let token = body["paymentMethod"]["paymentMethodId"]
            .as_str()
            .unwrap_or_default();
        let token_code = match st.tokens.get(token) {
            None => Some("INVALID_ACCESS_TOKEN"),
            Some(t) if t.revoked => Some("INVALID_ACCESS_TOKEN"),
            Some(t) if now >= t.access_expires => Some("EXPIRED_ACCESS_TOKEN"),
            Some(_) => None,
        };
        if let Some(code) = token_code {
            return (json!({"result": fail(code)}), false);
        }
        let script = st.pay_script.pop_front().unwrap_or(PayScript::Succeed);
        let mut payment = Payment {
            status: "S",
            code: "SUCCESS".into(),
            inquiries_left: None,
            cancelled: false,
            amount: body["paymentAmount"].clone(),
            refunded: 0,
        };
        let (answer, lose) = match script {
            PayScript::Succeed => (
                json!({"result": ok(), "paymentId": format!("P-{id}")}),
                false,
            ),
            PayScript::LoseAnswer => (json!({}), true),
            PayScript::Fail(code) => {
                payment.status = "F";
                payment.code = code.into();
                (json!({"result": fail(code)}), false)
            }
            PayScript::Pending(n) => {
                payment.status = "U";
                payment.inquiries_left = Some(n);
                (json!({"result": unknown("PAYMENT_IN_PROCESS")}), false)
            }
            PayScript::PendingForever => {
                payment.status = "U";
                (json!({"result": unknown("PAYMENT_IN_PROCESS")}), false)
            }
        };
        st.payments.insert(id, payment);
        (answer, lose)
    }

    fn inquiry(st: &mut State, body: &Value) -> Value {
        let id = body["paymentRequestId"].as_str().unwrap_or_default();
        let Some(p) = st.payments.get_mut(id) else {
            return json!({"result": fail("ORDER_NOT_EXIST")});
        };
        if p.status == "U"
            && !p.cancelled
            && let Some(n) = p.inquiries_left.as_mut()
        {
            if *n == 0 {
                p.status = "S";
                p.code = "SUCCESS".into();
            } else {
                *n -= 1;
            }
        }
        let payment_result = match (p.cancelled, p.status) {
            (true, _) => json!({"resultCode": "ORDER_IS_CLOSED", "resultStatus": "F"}),
            (_, "S") => json!({"resultCode": "SUCCESS", "resultStatus": "S"}),
            (_, "F") => json!({"resultCode": p.code, "resultStatus": "F"}),
            _ => json!({"resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U"}),
        };
        json!({"result": ok(), "paymentResult": payment_result, "paymentRequestId": id,
               "paymentAmount": p.amount})
    }
}

pub fn ok() -> Value {
    json!({"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"})
}
pub fn fail(code: &str) -> Value {
    json!({"resultCode": code, "resultStatus": "F", "resultMessage": code})
}
pub fn unknown(code: &str) -> Value {
    json!({"resultCode": code, "resultStatus": "U", "resultMessage": code})
}

/// A response signed by the fake Alipay+ at `time` (a `Response-Time` value).
pub fn signed_response_at(path: &str, body: &str, time: &str) -> Response {
    let signature = message::sign_response(
        &alipay_key(),
        1,
        "POST",
        path,
        CLIENT_ID,
        time,
        body.as_bytes(),
    )
    .unwrap();
    let mut response = Response::new(200, body.as_bytes().to_vec());
    response
        .headers
        .insert("Content-Type", "application/json; charset=UTF-8");
    response.headers.insert("Client-Id", CLIENT_ID);
    response.headers.insert("Response-Time", time);
    response.headers.insert("Signature", signature.as_str());
    response
}

/// An inbound call from Alipay+ (authNotify, consultUnbinding), signed with `key`.
pub fn inbound(path: &str, body: &Value, key: &PrivateKey) -> Request {
    let bytes = body.to_string().into_bytes();
    let time = "2025-06-01T08:00:02+08:00";
    let signature = message::sign_request(key, 1, "POST", path, CLIENT_ID, time, &bytes).unwrap();
    let mut request = Request::post(path, bytes);
    request
        .headers
        .insert("Content-Type", "application/json; charset=UTF-8");
    request.headers.insert("Client-Id", CLIENT_ID);
    request.headers.insert("Request-Time", time);
    request.headers.insert("Signature", signature.as_str());
    request
}

/// Checks our answer to an inbound call is signed by us over `path`; returns its JSON body.
pub fn verify_answer(path: &str, answer: &Response) -> Value {
    let keys = PublicKeys::single(1, acqp_public());
    let headers = answer.headers.iter().map(|(n, v)| (n, v.as_bytes()));
    message::verify_response(&keys, "POST", path, headers, &answer.body)
        .expect("the answer is signed by the ACQP");
    assert_eq!(answer.status, 200);
    serde_json::from_slice(&answer.body).unwrap()
}

/// Serves `fake` over HTTP on a loopback port (one request per connection); returns the base URL.
pub fn serve_fake(fake: &FakeAlipay) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fake = fake.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some(request) = read_http(&mut stream) else {
                continue;
            };
            let response = match fake.handle(request) {
                Ok(r) => r,
                // A lost answer: close without responding.
                Err(_) => continue,
            };
            let _ = write_http(&mut stream, &response);
        }
    });
    base
}

/// Reads one HTTP/1.1 request (Content-Length bodies only).
pub fn read_http(stream: &mut std::net::TcpStream) -> Option<Request> {
    use std::io::{BufRead, BufReader, Read};
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut request = Request::post(target, Vec::new());
    request.method = method;
    let mut len = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        if n.eq_ignore_ascii_case("content-length") {
            len = v.trim().parse().ok()?;
        }
        request.headers.append(n.trim(), v.trim());
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    request.body = body;
    Some(request)
}

/// Writes one HTTP/1.1 response and closes.
pub fn write_http(stream: &mut std::net::TcpStream, response: &Response) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = format!("HTTP/1.1 {} X\r\n", response.status);
    for (n, v) in response.headers.iter() {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    ));
    stream.write_all(out.as_bytes())?;
    stream.write_all(&response.body)?;
    stream.flush()
}

/// Sends `request` to `base` over HTTP and reads the response (for talking to listeners).
pub fn post_http(base: &str, request: &Request) -> Response {
    use std::io::{BufRead, BufReader, Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut out = format!("POST {} HTTP/1.1\r\nHost: {addr}\r\n", request.uri);
    for (n, v) in request.headers.iter() {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    stream.write_all(out.as_bytes()).unwrap();
    stream.write_all(&request.body).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut response = Response::new(status, Vec::new());
    let mut len = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').unwrap();
        if n.eq_ignore_ascii_case("content-length") {
            len = v.trim().parse().unwrap();
        }
        response.headers.append(n.trim(), v.trim());
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    response.body = body;
    response
}

/// A GET without following redirects: the status and the `Location` header.
pub fn get_http(url: &str) -> (u16, Option<String>) {
    use std::io::{BufRead, BufReader, Write};
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut location = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap() == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':')
            && n.eq_ignore_ascii_case("location")
        {
            location = Some(v.trim().to_string());
        }
    }
    (status, location)
}

/// The Auto Debit calls of one merchant, the way an integrator writes them: build the request
/// with the crate's builders, send it with `Client::call`, fold the outcome into the state it
/// concerns. Keeps the tests short; every method is one of the crate's documented steps.
pub struct Calls<'a, T> {
    pub client: &'a Client<T>,
    pub merchant: &'a AuthClient,
}

type Called<R> =
    Result<alipayplus_client::client::Outcome<R>, alipayplus_client::error::RequestError>;

impl<'a, T: alipayplus_client::transport::Transport> Calls<'a, T> {
    pub fn new(client: &'a Client<T>, merchant: &'a AuthClient) -> Self {
        Calls { client, merchant }
    }

    pub fn prepare(
        &self,
        binding: &alipayplus_autodebit::Binding,
        terminal: alipayplus_types::TerminalType,
        os: Option<alipayplus_types::OsType>,
    ) -> Called<alipayplus_types::PrepareResponse> {
        self.client
            .call(&binding.prepare_request(self.merchant, terminal, os))
    }

    pub fn exchange_code(
        &self,
        binding: &mut alipayplus_autodebit::Binding,
    ) -> Result<
        alipayplus_client::client::Outcome<alipayplus_types::ApplyTokenResponse>,
        alipayplus_autodebit::Error,
    > {
        let request = binding.apply_token_request()?;
        let outcome = self.client.call(&request)?;
        binding.on_apply_token_outcome(&outcome);
        Ok(outcome)
    }

    pub fn apply_token_with_code(
        &self,
        code: &alipayplus_types::Secret,
        wallet: Option<&str>,
    ) -> Called<alipayplus_types::ApplyTokenResponse> {
        let request = alipayplus_autodebit::code_token_request(self.merchant, code, wallet);
        self.client.call(&request)
    }

    pub fn refresh_token(
        &self,
        refresh_token: &alipayplus_types::Secret,
    ) -> Called<alipayplus_types::ApplyTokenResponse> {
        let request = alipayplus_autodebit::refresh_request(self.merchant, refresh_token);
        self.client.call(&request)
    }

    pub fn refresh(
        &self,
        life: &mut alipayplus_autodebit::TokenLifecycle,
    ) -> Result<
        alipayplus_client::client::Outcome<alipayplus_types::ApplyTokenResponse>,
        alipayplus_autodebit::Error,
    > {
        let request = life.refresh_request(self.merchant)?;
        let outcome = self.client.call(&request)?;
        life.on_refresh_outcome(&outcome)?;
        Ok(outcome)
    }

    pub fn cancel_token(
        &self,
        token: &alipayplus_types::Secret,
    ) -> Called<alipayplus_types::CancelTokenResponse> {
        let request = alipayplus_autodebit::cancel_token_request(self.merchant, token);
        self.client.call(&request)
    }

    pub fn pay(
        &self,
        request: &alipayplus_types::PayRequest,
    ) -> Called<alipayplus_types::PayResponse> {
        alipayplus_autodebit::checked_agreement_pay(request).and_then(|r| self.client.call(&r))
    }

    pub fn pay_and_follow(
        &self,
        request: &alipayplus_types::PayRequest,
        sleep: impl FnMut(Duration),
    ) -> Result<alipayplus_autodebit::Followed, alipayplus_client::error::RequestError> {
        alipayplus_autodebit::follow_agreement_payment(self.client, request, sleep)
    }
}
