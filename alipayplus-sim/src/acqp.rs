//! Calling the ACQP: one signed POST to a URL of the acquirer (notifyPayment, authNotify, the
//! operations' notifications, consultUnbinding), and its answer verified.
//!
//! The request is signed over the URL's path (no query: whether Alipay+ signs the query is
//! UNCERTAIN, common.md §2.2) with the ACQP's Client-Id; the answer counts only if it is HTTP
//! 200 and signed by the ACQP over the same path. What the body says is the caller's to read.

use std::time::Duration;

use alipayplus_sign::message;

use crate::state::Shared;

/// The most of an answer body read.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// A verified answer of the ACQP.
pub(crate) struct Verified {
    /// The body (signature verified).
    pub body: Vec<u8>,
    /// The `Client-Id` the answer was signed for.
    pub client_id: String,
}

/// Why no verified answer came.
pub(crate) enum Unverified {
    /// The URL has no usable path.
    Url(String),
    /// Our signer failed.
    Sign(String),
    /// No response (connection, timeout).
    Transport(String),
    /// A status other than 200.
    HttpStatus(u16),
    /// The body could not be read.
    Read(String),
    /// The answer's signature is missing or wrong.
    Signature(String),
}

/// The agent every call to the ACQP uses: no redirects, no proxy (loopback and test
/// endpoints), statuses as answers, a whole-call timeout.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        // Loopback and test endpoints: never through a proxy from the environment.
        .proxy(None)
        .timeout_global(Some(timeout))
        .build();
    ureq::Agent::new_with_config(config)
}

/// The path a request to `url` is signed over (`/` when it has none).
pub(crate) fn signed_path(url: &str) -> Result<String, Unverified> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| Unverified::Url(format!("bad URL {url:?}: {e}")))?;
    Ok(match uri.path() {
        "" => "/".to_owned(),
        p => p.to_owned(),
    })
}

/// POSTs `body` to `url`, signed by the simulator (over other content when `bad_signature`:
/// a fault), and verifies the answer.
pub(crate) fn call(
    shared: &Shared,
    agent: &ureq::Agent,
    url: &str,
    body: &[u8],
    bad_signature: bool,
) -> Result<Verified, Unverified> {
    let path = signed_path(url)?;
    let time = shared.clock.now_header();
    // A wrong signature: a real signature over other content.
    let signed_body: &[u8] = if bad_signature {
        b"not the body that was sent"
    } else {
        body
    };
    let signature = message::sign_request(
        &shared.sim_key,
        shared.key_version,
        "POST",
        &path,
        &shared.client_id,
        &time,
        signed_body,
    )
    .map_err(|e| Unverified::Sign(e.to_string()))?;
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/json; charset=UTF-8")
        .header("Client-Id", &shared.client_id)
        .header("Request-Time", &time)
        .header("Signature", signature.as_str())
        .send(body)
        .map_err(|e| Unverified::Transport(e.to_string()))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(Unverified::HttpStatus(status));
    }
    let answer = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_vec()
        .map_err(|e| Unverified::Read(e.to_string()))?;
    let pairs = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()));
    let verified = message::verify_response(&shared.acqp_keys, "POST", &path, pairs, &answer)
        .map_err(|e| Unverified::Signature(e.to_string()))?;
    Ok(Verified {
        body: answer,
        client_id: verified.client_id.to_owned(),
    })
}
