//! Auto Debit authorization APIs: prepare, applyToken, cancelToken (`autodebit.md` §2, §5,
//! §6). The behaviour is in [`crate::autodebit`].

use alipayplus_types::{Api, ApplyTokenRequest, CancelTokenRequest, PrepareRequest};

use crate::answer::{Answer, Route, typed};
use crate::state::Shared;

pub(super) const PREPARE: Route = Route {
    name: PrepareRequest::NAME,
    path: PrepareRequest::PATH,
    serve: |shared: &Shared, body: &[u8]| -> Answer {
        typed(shared, body, crate::autodebit::prepare)
    },
};

pub(super) const APPLY_TOKEN: Route = Route {
    name: ApplyTokenRequest::NAME,
    path: ApplyTokenRequest::PATH,
    serve: |shared: &Shared, body: &[u8]| -> Answer {
        typed(shared, body, crate::autodebit::apply_token)
    },
};

pub(super) const CANCEL_TOKEN: Route = Route {
    name: CancelTokenRequest::NAME,
    path: CancelTokenRequest::PATH,
    serve: |shared: &Shared, body: &[u8]| -> Answer {
        typed(shared, body, crate::autodebit::cancel_token)
    },
};
