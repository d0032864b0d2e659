//! URL parsing, in one place: the base URL of a [`Host`](crate::config::Host) (checked, its
//! path prefix, shown without credentials) and the path / query of a request target
//! ([`Request::path`](crate::transport::Request::path)).

use alloc::format;
use alloc::string::{String, ToString};

/// What is wrong with a custom base URL (`https://host[:port][/prefix]`, or `http://` for a
/// real loopback host only), if anything.
pub(crate) fn base_url_problem(base_url: &str) -> Option<&'static str> {
    let Some((scheme, rest)) = base_url.split_once("://") else {
        return Some("expected https://host");
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Some("the host is missing");
    }
    if authority.contains('@') {
        return Some("credentials in the URL are not supported");
    }
    if rest.contains(['?', '#']) {
        return Some("a base URL has no query or fragment");
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("whitespace in the URL");
    }
    match scheme {
        "https" => None,
        "http" if is_loopback(authority) => None,
        "http" => Some("plain http is only allowed for a loopback host"),
        _ => Some("the scheme must be https"),
    }
}

/// The path prefix of a base URL (`https://gw.example/alipay` gives `/alipay`; empty when
/// there is none).
pub(crate) fn path_prefix(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    after_scheme.find('/').map_or("", |i| &after_scheme[i..])
}

/// Whether `authority` (`host[:port]`) names a real loopback address: `localhost`, an IPv4
/// address in 127.0.0.0/8 or `[::1]`, parsed (never a name that merely starts with `127.`).
pub(crate) fn is_loopback(authority: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, after)) => (
                ip.parse::<core::net::Ipv6Addr>()
                    .is_ok_and(|ip| ip.is_loopback()),
                after,
            ),
            None => return false,
        }
    } else {
        let end = authority.find(':').unwrap_or(authority.len());
        let host = &authority[..end];
        let ok = host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<core::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        (ok, &authority[end..])
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// `url` with any `user:password@` part replaced by `***@`, for error messages.
pub(crate) fn without_credentials(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..start], &rest[at..]),
        None => url.to_string(),
    }
}

/// Path part of an absolute URL or of a request target.
pub(crate) fn path(uri: &str) -> &str {
    let rest = path_and_query(uri);
    let end = rest.find('?').unwrap_or(rest.len());
    let path = &rest[..end];
    if path.is_empty() { "/" } else { path }
}

/// Path and query of an absolute URL or of a request target (no fragment).
///
/// The forms of RFC 9112 §3.2: origin-form (`/path?query`, the usual inbound target) is taken
/// as it is; absolute-form (`scheme://authority/path?query`) only when the text *starts* with a
/// scheme (letters, digits, `+`, `-`, `.`, beginning with a letter) followed by `://`, so a
/// URL inside a query (`/notify?next=https://m.example/x`) is never mistaken for one. Anything
/// else (asterisk-form, authority-form, empty) has no path: `""`.
pub(crate) fn path_and_query(uri: &str) -> &str {
    let rest = if uri.starts_with('/') {
        uri
    } else if let Some(after) = after_scheme(uri) {
        after
            .find(['/', '?', '#'])
            .map_or("", |j| after.get(j..).unwrap_or_default())
    } else {
        ""
    };
    let end = rest.find('#').unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default()
}

/// What follows `scheme://` when `uri` starts with a scheme (RFC 3986 §3.1).
fn after_scheme(uri: &str) -> Option<&str> {
    let (scheme, after) = uri.split_once("://")?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_of_urls_and_targets() {
        assert_eq!(
            path("https://h.test/aps/api/v1/payments/pay"),
            "/aps/api/v1/payments/pay"
        );
        assert_eq!(path("https://h.test:8443/a/b?x=1#f"), "/a/b");
        assert_eq!(path("http://h.test"), "/");
        assert_eq!(path("http://h.test?x"), "/");
        assert_eq!(path("/notify?id=1"), "/notify");
        assert_eq!(path(""), "/");
        assert_eq!(path_and_query("https://h.test:1/a/b?x=1#f"), "/a/b?x=1");
        assert_eq!(path_and_query("/n?id=1"), "/n?id=1");
        // Found by fuzzing: "://" in an origin-form target's path or query is no scheme.
        assert_eq!(path("/n?return=https://shop.test/x"), "/n");
        assert_eq!(path_and_query("/n?r=https://s/x#f"), "/n?r=https://s/x");
        assert_eq!(path("/://"), "/://");
    }

    #[test]
    fn base_urls() {
        assert_eq!(base_url_problem("https://gw.example/alipay"), None);
        assert_eq!(base_url_problem("http://127.0.0.1:8080"), None);
        assert_eq!(base_url_problem("http://[::1]:1"), None);
        assert!(base_url_problem("http://127.attacker.example").is_some());
        assert!(base_url_problem("ftp://h").is_some());
        assert_eq!(path_prefix("https://gw.example/alipay"), "/alipay");
        assert_eq!(path_prefix("https://gw.example"), "");
        assert_eq!(without_credentials("https://u:p@h/x"), "https://***@h/x");
    }
}
