//! What every API route of the simulator shares: the [`Route`] entry, the [`Answer`] to
//! sign, the parse-validate-handle step [`typed`], and [`result`] objects from parts.

use alipayplus_types::{Api, HasResult};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::state::Shared;

/// One API: its name, path and handler.
pub(crate) struct Route {
    pub name: &'static str,
    pub path: &'static str,
    pub serve: fn(&Shared, &[u8]) -> Answer,
}

/// An answer body with its outcome (for the call log and fault injection).
pub(crate) struct Answer {
    pub body: Vec<u8>,
    pub status: String,
    pub code: String,
    /// Problems with the request the simulator let pass (uncertain rules), for the call log.
    pub tolerated: Vec<String>,
}

impl Answer {
    /// A body holding only `result`.
    pub(crate) fn result(code: &str, status: &str, message: &str) -> Self {
        let body = serde_json::json!({
            "result": { "resultCode": code, "resultStatus": status, "resultMessage": message }
        });
        Answer {
            body: body.to_string().into_bytes(),
            status: status.to_owned(),
            code: code.to_owned(),
            tolerated: Vec::new(),
        }
    }

    /// A typed response.
    pub(crate) fn of<R: Serialize + HasResult>(response: &R) -> Self {
        let result = response.result();
        match serde_json::to_vec(response) {
            Ok(body) => Answer {
                body,
                status: result.result_status.as_str().to_owned(),
                code: result.code_str().to_owned(),
                tolerated: Vec::new(),
            },
            Err(e) => Answer::result("UNKNOWN_EXCEPTION", "U", &format!("simulator: {e}")),
        }
    }
}

/// Parses and validates a request body, then answers it with `handle`. A body that does not
/// parse or validate gets `PARAM_ILLEGAL` naming the field. Problems that break only rules the
/// API description marks uncertain (`uncertain_rule`: the spec is UNCERTAIN) are let pass
/// and noted in the call log: the simulator must not fail a stack on a guess.
pub(crate) fn typed<A: Api + DeserializeOwned>(
    shared: &Shared,
    body: &[u8],
    handle: fn(&Shared, A) -> A::Response,
) -> Answer {
    let request: A = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return Answer::result("PARAM_ILLEGAL", "F", &format!("request body: {e}")),
    };
    let tolerated = match request.validate() {
        Ok(()) => Vec::new(),
        Err(errors) if errors.only_uncertain() => errors.iter().map(|e| e.to_string()).collect(),
        Err(errors) => return Answer::result("PARAM_ILLEGAL", "F", &errors.to_string()),
    };
    let mut answer = Answer::of(&handle(shared, request));
    answer.tolerated = tolerated;
    answer
}

/// A `result` object of API `C` from parts.
pub(crate) fn result<C: alipayplus_types::ResultCode>(
    code: &str,
    status: &str,
    message: &str,
) -> alipayplus_types::ApiResult<C> {
    alipayplus_types::ApiResult::new(
        C::from(code),
        alipayplus_types::ResultStatus::from(status),
        Some(message.to_owned()),
    )
}
