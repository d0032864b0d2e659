//! Plain HTTP request/response values, so handlers do not depend on the server crate.

/// A received request.
pub(crate) struct HttpRequest {
    pub method: String,
    /// Path and query (origin form, see [`origin_form`]).
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

/// The origin form (`/path?query`) of a request target. HTTP/1.1 servers must accept the
/// absolute form too (RFC 9112 §3.2.2), which the official Python SDK sends
/// (`POST https://host/aps/api/v1/payments/pay HTTP/1.1`); routing and signatures then use
/// the path, as the client signed it. Any other form is kept as received (and finds no route).
pub(crate) fn origin_form(target: &str) -> &str {
    let scheme_len = ["http://", "https://"].iter().find_map(|scheme| {
        target
            .get(..scheme.len())
            .filter(|s| s.eq_ignore_ascii_case(scheme))
            .map(str::len)
    });
    let Some(scheme_len) = scheme_len else {
        return target;
    };
    let rest = &target[scheme_len..];
    match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => &rest[i..],
        // `https://host?q` or `https://host`: the path is `/` (RFC 9112 §3.2.4).
        _ => "/",
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

#[cfg(test)]
mod tests {
    use super::origin_form;

    #[test]
    fn absolute_targets_become_origin_form() {
        let cases = [
            ("/aps/api/v1/payments/pay", "/aps/api/v1/payments/pay"),
            (
                "https://open-sea-global.alipayplus.com/aps/api/v1/payments/pay",
                "/aps/api/v1/payments/pay",
            ),
            (
                "HTTP://127.0.0.1:8080/sim/payments?x=1",
                "/sim/payments?x=1",
            ),
            ("https://127.0.0.1", "/"),
            ("https://127.0.0.1?x=/y", "/"),
            ("*", "*"),
            (
                "ftp://host/aps/api/v1/payments/pay",
                "ftp://host/aps/api/v1/payments/pay",
            ),
            ("https:", "https:"),
            ("", ""),
        ];
        for (target, want) in cases {
            assert_eq!(origin_form(target), want, "{target}");
        }
    }
}
