//! Plain HTTP request/response values, so handlers do not depend on the server crate.

/// A received request.
pub(crate) struct HttpRequest {
    pub method: String,
    /// Path and query as received.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the limit and was cut.
    pub body_too_large: bool,
}

impl HttpRequest {
    /// First header of that name (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// Value of a query parameter (no percent-decoding: the simulator's own links only).
    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        let query = self.target.split_once('?')?.1;
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

/// A response to send.
pub(crate) struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub(crate) fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        HttpResponse {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    pub(crate) fn json(status: u16, value: &impl serde::Serialize) -> Self {
        let body = serde_json::to_vec_pretty(value).unwrap_or_default();
        HttpResponse::new(status, "application/json; charset=UTF-8", body)
    }

    pub(crate) fn text(status: u16, text: &str) -> Self {
        HttpResponse::new(
            status,
            "text/plain; charset=UTF-8",
            text.as_bytes().to_vec(),
        )
    }

    pub(crate) fn html(status: u16, html: String) -> Self {
        HttpResponse::new(status, "text/html; charset=UTF-8", html.into_bytes())
    }

    pub(crate) fn error(status: u16, message: &str) -> Self {
        HttpResponse::json(status, &serde_json::json!({ "error": message }))
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}
