//! authNotify (spec `autodebit.md` §4): Alipay+ tells that an auth code or an access token was
//! created, or that a token was cancelled (by our cancelToken, in the wallet, or by the MPP).
//!
//! [`handle_auth_notify`] uses the client core's inbound handling (verify the signature with
//! the Alipay+ keys, parse, signed answer): a verified, complete notification becomes an
//! [`AuthNotice`] (the [`AuthEvent`] and the body) with the signed acknowledgement
//! ([`ACK_SUCCESS`](alipayplus_client::inbound::ACK_SUCCESS)); a bad one gets a refusal (signed once verified)
//! (see [`alipayplus_client::inbound`]) so Alipay+ sends it again. A notification whose type
//! requires a field it lacks (`AUTHCODE_CREATED` without `authCode`, `TOKEN_CREATED` /
//! `TOKEN_CANCELED` without `accessToken`) is refused with `PARAM_ILLEGAL`, like a body that
//! does not parse: acknowledging it would lose the code or token for good. An unknown type is
//! acknowledged and returned as [`AuthEvent::Unrecognized`] (tolerant parsing).
//!
//! Notifications are re-sent until acknowledged, and the code also arrives by the redirect, so
//! handling must be idempotent: [`Binding::on_auth_code_notified`](crate::Binding::on_auth_code_notified)
//! and [`TokenLifecycle::on_auth_event`](crate::TokenLifecycle::on_auth_event) ignore repeats,
//! and [`AuthEvent::dedup_key`] gives a key to record processed events. Store the event, then
//! send the answer.

use alloc::format;
use alloc::string::String;

use alipayplus_client::error::InboundError;
use alipayplus_client::inbound::{Accepted, Handled, Refusal};
use alipayplus_client::{ClientConfig, Request};

#[cfg(doc)]
use alipayplus_client::inbound::Refused;
use alipayplus_types::{AuthNotifyRequest, AuthorizationNotifyType, Secret};

use crate::error::Error;
use crate::token::{TokenLifecycle, TokenSet, TokenUpdate, present};

/// What an authNotify reports.
///
/// `Debug` does not show codes or tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthEvent {
    /// `AUTHCODE_CREATED`: exchange the code with applyToken (it may also come by redirect).
    AuthCodeCreated {
        /// `authClientId`.
        auth_client_id: String,
        /// The code.
        auth_code: Secret,
        /// `authState`, if echoed: find the binding by it.
        auth_state: Option<String>,
    },
    /// `TOKEN_CREATED`: the tokens (also returned by applyToken).
    TokenCreated {
        /// `authClientId`.
        auth_client_id: String,
        /// The tokens.
        tokens: TokenSet,
        /// `authState`, if echoed.
        auth_state: Option<String>,
    },
    /// `TOKEN_CANCELED`: this access token no longer works (also after our own cancelToken).
    TokenCanceled {
        /// `authClientId`.
        auth_client_id: String,
        /// The revoked access token.
        access_token: Secret,
    },
    /// A type this version does not know; acknowledged, kept for the caller.
    Unrecognized {
        /// `authClientId`.
        auth_client_id: String,
        /// `authorizationNotifyType` as received.
        notify_type: String,
    },
}

impl AuthEvent {
    /// The event of a notification body.
    ///
    /// # Errors
    /// [`Error::MissingField`] when the type's required field is absent or empty.
    pub fn from_notification(n: &AuthNotifyRequest) -> Result<Self, Error> {
        let client = n.auth_client_id.clone();
        let missing = |context, field| Error::MissingField {
            api: "authNotify",
            context,
            field,
        };
        Ok(match &n.authorization_notify_type {
            AuthorizationNotifyType::AuthcodeCreated => AuthEvent::AuthCodeCreated {
                auth_client_id: client,
                auth_code: present(&n.auth_code)
                    .ok_or_else(|| missing("AUTHCODE_CREATED", "authCode"))?,
                auth_state: n.auth_state.clone(),
            },
            AuthorizationNotifyType::TokenCreated => AuthEvent::TokenCreated {
                auth_client_id: client,
                tokens: TokenSet::from_notification(n)?,
                auth_state: n.auth_state.clone(),
            },
            AuthorizationNotifyType::TokenCanceled => AuthEvent::TokenCanceled {
                auth_client_id: client,
                access_token: present(&n.access_token)
                    .ok_or_else(|| missing("TOKEN_CANCELED", "accessToken"))?,
            },
            AuthorizationNotifyType::Unrecognized(t) => AuthEvent::Unrecognized {
                auth_client_id: client,
                notify_type: t.clone(),
            },
        })
    }

    /// `authClientId` of the notification.
    pub fn auth_client_id(&self) -> &str {
        match self {
            AuthEvent::AuthCodeCreated { auth_client_id, .. }
            | AuthEvent::TokenCreated { auth_client_id, .. }
            | AuthEvent::TokenCanceled { auth_client_id, .. }
            | AuthEvent::Unrecognized { auth_client_id, .. } => auth_client_id,
        }
    }

    /// A key identifying the event across re-deliveries (spec §4: `authorizationNotifyType` +
    /// code / token). It contains the credential: keep it where the tokens are kept.
    pub fn dedup_key(&self) -> String {
        match self {
            AuthEvent::AuthCodeCreated { auth_code, .. } => {
                format!("AUTHCODE_CREATED:{}", auth_code.expose())
            }
            AuthEvent::TokenCreated { tokens, .. } => {
                format!("TOKEN_CREATED:{}", tokens.access_token.expose())
            }
            AuthEvent::TokenCanceled { access_token, .. } => {
                format!("TOKEN_CANCELED:{}", access_token.expose())
            }
            AuthEvent::Unrecognized { notify_type, .. } => format!("{notify_type}:"),
        }
    }
}

/// What a verified authNotify says: the event and the body as received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthNotice {
    /// What happened.
    pub event: AuthEvent,
    /// The parsed body (unknown fields are in `extra`).
    pub request: AuthNotifyRequest,
}

/// A verified authNotify with its signed acknowledgement (send it after storing the event):
/// the client core's [`Accepted`] of an [`AuthNotice`].
pub type AuthNotification = Accepted<AuthNotice>;

/// Verifies and parses an authNotify request received at any URL (the inbound handler shape
/// of [`alipayplus_client::inbound`]).
///
/// # Errors
/// [`Refused`] with the refusal to send back (bad method or signature: unsigned, nothing in the
/// request is trusted; unparsable or incomplete body: `PARAM_ILLEGAL`).
pub fn handle_auth_notify(config: &ClientConfig, request: &Request) -> Handled<AuthNotice> {
    let accepted = config.accept_inbound::<AuthNotifyRequest>(request)?;
    match AuthEvent::from_notification(&accepted.body) {
        Ok(event) => Ok(accepted.map(|request| AuthNotice { event, request })),
        Err(e) => {
            let error = InboundError::Parse {
                error: format!("{e}"),
                body: request.body.clone(),
            };
            let refusal = Refusal::new("PARAM_ILLEGAL", "a required field is missing");
            Err(accepted.refuse(config, error, &refusal))
        }
    }
}

impl TokenLifecycle {
    /// A verified authNotify event about this binding. `TOKEN_CANCELED` for our access token
    /// cancels it (a repeat, or one for another token, is ignored); `TOKEN_CREATED` with a
    /// newer token replaces ours (a repeat or a stale one, expiring no later than ours, is
    /// ignored). Other events change nothing.
    pub fn on_auth_event(&mut self, event: &AuthEvent) -> TokenUpdate {
        match event {
            AuthEvent::TokenCanceled { access_token, .. }
                if *access_token == self.tokens.access_token =>
            {
                self.on_cancelled()
            }
            AuthEvent::TokenCreated { tokens, .. } => {
                if tokens.access_token == self.tokens.access_token {
                    return TokenUpdate::Ignored;
                }
                let newer = match (
                    tokens.access_token_expires_at,
                    self.tokens.access_token_expires_at,
                ) {
                    (Some(new), Some(old)) => new > old,
                    _ => true,
                };
                if newer {
                    self.on_refreshed(tokens.clone())
                } else {
                    TokenUpdate::Ignored
                }
            }
            _ => TokenUpdate::Ignored,
        }
    }
}
