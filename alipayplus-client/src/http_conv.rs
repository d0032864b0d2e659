//! Conversions between the plain [`transport`](crate::transport) types and the `http`
//! crate's request and response (feature `http`).

use crate::transport::{Headers, Request, Response};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::HttpConversionError;

fn headers_from(map: &http::HeaderMap) -> Headers {
    // Header values are visible ASCII in practice; other bytes are replaced (U+FFFD), which
    // can only make a signature check fail, never pass.
    map.iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

impl From<http::Request<Vec<u8>>> for Request {
    fn from(request: http::Request<Vec<u8>>) -> Self {
        let (parts, body) = request.into_parts();
        Request {
            method: parts.method.as_str().to_string(),
            uri: parts.uri.to_string(),
            headers: headers_from(&parts.headers),
            body,
        }
    }
}

impl TryFrom<Request> for http::Request<Vec<u8>> {
    type Error = HttpConversionError;

    fn try_from(request: Request) -> Result<Self, HttpConversionError> {
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.uri.as_str());
        for (name, value) in request.headers.iter() {
            builder = builder.header(name, value);
        }
        Ok(builder.body(request.body)?)
    }
}

impl From<http::Response<Vec<u8>>> for Response {
    fn from(response: http::Response<Vec<u8>>) -> Self {
        let (parts, body) = response.into_parts();
        Response {
            status: parts.status.as_u16(),
            headers: headers_from(&parts.headers),
            body,
        }
    }
}

impl TryFrom<Response> for http::Response<Vec<u8>> {
    type Error = HttpConversionError;

    fn try_from(response: Response) -> Result<Self, HttpConversionError> {
        let mut builder = http::Response::builder().status(response.status);
        for (name, value) in response.headers.iter() {
            builder = builder.header(name, value);
        }
        Ok(builder.body(response.body)?)
    }
}
