//! Test helpers: a raw signing ACQP client (ureq + alipayplus-sign, no SDK logic in between, so
//! the simulator's wire behaviour is what is tested) and an ACQP notify endpoint.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alipayplus_sign::{PrivateKey, PublicKeys, message};
use alipayplus_sim::{SimConfig, Simulator, keys};
use serde_json::{Value, json};

pub const PAY: &str = "/aps/api/v1/payments/pay";
pub const INQUIRY: &str = "/aps/api/v1/payments/inquiryPayment";
pub const CANCEL: &str = "/aps/api/v1/payments/cancelPayment";
pub const REFUND: &str = "/aps/api/v1/payments/refund";
pub const CONSULT: &str = "/aps/api/v1/payments/consultPayment";

/// A simulator with a fast notification schedule (5 attempts, 50 ms apart).
pub fn sim() -> Simulator {
    sim_with(|c| c)
}

pub fn sim_with(f: impl FnOnce(SimConfig) -> SimConfig) -> Simulator {
    let config = SimConfig::bundled()
        .expect("bundled keys")
        .with_fast_notifications(5, Duration::from_millis(50));
    Simulator::start(f(config)).expect("simulator starts")
}

pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(timeout))
            .build(),
    )
}

/// An answer as received.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body as JSON (Null if it is not).
    pub json: Value,
    /// Whether the answer's signature verified with the simulator's public key.
    pub verified: Result<(), String>,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.json["result"]["resultCode"]
            .as_str()
            .unwrap_or_default()
    }
    pub fn status_letter(&self) -> &str {
        self.json["result"]["resultStatus"]
            .as_str()
            .unwrap_or_default()
    }
    pub fn message(&self) -> &str {
        self.json["result"]["resultMessage"]
            .as_str()
            .unwrap_or_default()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The ACQP side, raw.
pub struct Acqp {
    pub base: String,
    pub client_id: String,
    pub key: PrivateKey,
    pub sim_keys: PublicKeys,
    pub agent: ureq::Agent,
}

impl Acqp {
    pub fn new(sim: &Simulator) -> Self {
        Acqp {
            base: sim.base_url().to_owned(),
            client_id: sim.client_id().to_owned(),
            key: keys::acqp_private_key().unwrap(),
            sim_keys: PublicKeys::single(1, keys::sim_public_key().unwrap()),
            agent: agent(Duration::from_secs(5)),
        }
    }

    pub fn call(&self, path: &str, body: &Value) -> Reply {
        self.call_bytes(path, body.to_string().as_bytes(), &self.key)
    }

    /// Signs `body` with `key` and posts it.
    pub fn call_bytes(&self, path: &str, body: &[u8], key: &PrivateKey) -> Reply {
        self.send(path, body, body, key, &[])
    }

    /// Signs `signed` but sends `sent`, with extra headers (replacing defaults of that name).
    pub fn send(
        &self,
        path: &str,
        signed: &[u8],
        sent: &[u8],
        key: &PrivateKey,
        extra: &[(&str, &str)],
    ) -> Reply {
        self.try_send(path, signed, sent, key, extra)
            .expect("an answer")
    }

    pub fn try_send(
        &self,
        path: &str,
        signed: &[u8],
        sent: &[u8],
        key: &PrivateKey,
        extra: &[(&str, &str)],
    ) -> Result<Reply, ureq::Error> {
        let time = "2026-11-23T10:00:00+08:00";
        let signature =
            message::sign_request(key, 1, "POST", path, &self.client_id, time, signed).unwrap();
        let mut headers = vec![
            ("Content-Type", "application/json; charset=UTF-8"),
            ("Client-Id", self.client_id.as_str()),
            ("Request-Time", time),
            ("Signature", signature.as_str()),
        ];
        for (n, v) in extra {
            headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n));
            if !v.is_empty() {
                headers.push((n, v));
            }
        }
        let mut request = self.agent.post(format!("{}{path}", self.base));
        for (n, v) in &headers {
            request = request.header(*n, *v);
        }
        let mut response = request.send(sent)?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let body = response.body_mut().read_to_vec()?;
        let verified = message::verify_response(
            &self.sim_keys,
            "POST",
            path,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
            &body,
        )
        .map(|_| ())
        .map_err(|e| e.to_string());
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            body,
            json,
            verified,
        })
    }

    pub fn get(&self, url: &str) -> (u16, Option<String>, String) {
        let mut r = self.agent.get(url).call().unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            r.status().as_u16(),
            location,
            r.body_mut().read_to_string().unwrap(),
        )
    }

    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut r = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            ("PUT", b) => self
                .agent
                .put(&url)
                .send(b.unwrap_or(Value::Null).to_string().as_bytes()),
            (_, b) => self
                .agent
                .post(&url)
                .send(b.unwrap_or(Value::Null).to_string().as_bytes()),
        }
        .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// A Cashier pay body.
pub fn pay_body(id: &str, value: u64, notify_url: Option<&str>) -> Value {
    let mut body = json!({
        "paymentRequestId": id,
        "order": {
            "referenceOrderId": format!("ORDER-{id}"),
            "orderDescription": "Simulator test order",
            "orderAmount": { "currency": "USD", "value": value.to_string() },
            "merchant": { "referenceMerchantId": "M0001" },
            "env": { "terminalType": "WEB" }
        },
        "paymentAmount": { "currency": "USD", "value": value.to_string() },
        "paymentMethod": { "paymentMethodType": "SIMWALLET" },
        "paymentFactor": { "isCashierPayment": "true", "isInStorePayment": "false" },
        "paymentRedirectUrl": "https://merchant.example/return"
    });
    if let Some(url) = notify_url {
        body["paymentNotifyUrl"] = json!(url);
    }
    body
}

/// How the test notify endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckMode {
    /// Signed `S` acknowledgement.
    Good,
    /// HTTP 500.
    ServerError,
    /// `S` body without a signature.
    Unsigned,
}

/// One notification received.
#[derive(Clone, Debug)]
pub struct Received {
    pub payment_request_id: String,
    pub result_status: String,
    pub verified: bool,
    pub at: Instant,
    pub acked: bool,
}

/// The ACQP's notify endpoint: verifies with the simulator's public key, answers per the
/// scripted modes (then `Good`), signs acknowledgements with the ACQP key.
pub struct NotifyEndpoint {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl NotifyEndpoint {
    pub fn start(script: Vec<AckMode>) -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let addr = server.server_addr().to_ip().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (r, s) = (Arc::clone(&received), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let key = keys::acqp_private_key().unwrap();
            let sim_keys = PublicKeys::single(1, keys::sim_public_key().unwrap());
            let mut script = script.into_iter();
            while !s.load(std::sync::atomic::Ordering::SeqCst) {
                let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(20)) else {
                    continue;
                };
                let mut body = Vec::new();
                std::io::Read::read_to_end(req.as_reader(), &mut body).unwrap();
                let headers: Vec<(String, String)> = req
                    .headers()
                    .iter()
                    .map(|h| (h.field.as_str().to_string(), h.value.to_string()))
                    .collect();
                let path = req.url().to_owned();
                let verified = message::verify_request(
                    &sim_keys,
                    "POST",
                    &path,
                    headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
                    &body,
                )
                .is_ok();
                let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let mode = script.next().unwrap_or(AckMode::Good);
                let (ack, code) = if verified {
                    ("S", "SUCCESS")
                } else {
                    ("F", "INVALID_SIGNATURE")
                };
                let ack_body = format!(
                    r#"{{"result":{{"resultCode":"{code}","resultStatus":"{ack}","resultMessage":"x"}}}}"#
                );
                let client_id = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("client-id"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let time = "2026-11-23T10:00:01+08:00";
                let sig = message::sign_response(
                    &key,
                    1,
                    "POST",
                    &path,
                    &client_id,
                    time,
                    ack_body.as_bytes(),
                )
                .unwrap();
                r.lock().unwrap().push(Received {
                    payment_request_id: json["paymentRequestId"].as_str().unwrap_or("").into(),
                    result_status: json["paymentResult"]["resultStatus"]
                        .as_str()
                        .unwrap_or("")
                        .into(),
                    verified,
                    at: Instant::now(),
                    acked: verified && mode == AckMode::Good,
                });
                let h = |n: &str, v: &str| tiny_http::Header::from_bytes(n, v).unwrap();
                let response = match mode {
                    AckMode::ServerError => {
                        tiny_http::Response::from_data(b"oops".to_vec()).with_status_code(500)
                    }
                    AckMode::Unsigned => tiny_http::Response::from_data(ack_body.into_bytes())
                        .with_header(h("Client-Id", &client_id))
                        .with_header(h("Response-Time", time)),
                    AckMode::Good => tiny_http::Response::from_data(ack_body.into_bytes())
                        .with_header(h("Client-Id", &client_id))
                        .with_header(h("Response-Time", time))
                        .with_header(h("Signature", sig.as_str())),
                };
                let _ = req.respond(response);
            }
        });
        NotifyEndpoint {
            url: format!("http://{addr}/acqp/notify"),
            received,
            stop,
            thread: Some(thread),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until `n` notifications have arrived.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        while self.received.lock().unwrap().len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.received()
    }
}

impl Drop for NotifyEndpoint {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
