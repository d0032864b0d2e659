//! Tokens (spec `autodebit.md` §5, §6): the pair applyToken or authNotify `TOKEN_CREATED`
//! issues, and a sans-IO helper that says, given the time, whether to use the access token,
//! refresh it now, or bind again.
//!
//! Rules ([`TokenLifecycle::decide`]):
//!
//! | situation | decision |
//! |---|---|
//! | cancelled (cancelToken `S`, or authNotify `TOKEN_CANCELED`) | [`TokenDecision::Rebind`] |
//! | refresh refused (`F`: invalid / expired refresh token, ...; not a gateway rejection such as `INVALID_SIGNATURE`, which changes nothing) | [`TokenDecision::Rebind`] |
//! | access token expired, expiring within the refresh margin, or reported invalid by pay | [`TokenDecision::RefreshNow`] while the refresh token is valid; else use it until it expires, then [`TokenDecision::Rebind`] |
//! | otherwise | [`TokenDecision::Use`] |
//!
//! A refresh is never advised at or after `refreshTokenExpiryTime` (spec: force re-binding).
//! An unknown expiry (a notification without it) counts as "not expired": pay will say when
//! the token stops working.
//!
//! ```
//! use core::time::Duration;
//! use alipayplus_autodebit::{TokenDecision, TokenLifecycle, TokenSet};
//! use alipayplus_types::Timestamp;
//! use alipayplus_types::Secret;
//!
//! let t0 = Timestamp::from_unix_secs(1_751_000_000);
//! let tokens = TokenSet::new(Secret::new("AT1"), Some(t0 + Duration::from_secs(3600)))
//!     .with_refresh(Secret::new("RT1"), Some(t0 + Duration::from_secs(86_400)));
//! let life = TokenLifecycle::new(tokens);
//! assert_eq!(life.decide(t0), TokenDecision::Use);
//! assert_eq!(life.decide(t0 + Duration::from_secs(3400)), TokenDecision::RefreshNow);
//! ```

use alloc::string::String;
use core::time::Duration;

use alipayplus_client::client::Outcome;
use alipayplus_types::{
    ApplyTokenRequest, ApplyTokenResponse, AuthNotifyRequest, CodeAbout, GrantType, ResultCode,
    Secret, Timestamp,
};

use crate::error::Error;
use crate::prepare::AuthClient;

/// An access token with its refresh token and expiry times.
///
/// `Debug` does not show the tokens. Serializes (serde) with the tokens in clear, for storage
/// with the merchant's other credentials.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token: `paymentMethod.paymentMethodId` of agreement payments.
    pub access_token: Secret,
    /// `accessTokenExpiryTime`, if known.
    pub access_token_expires_at: Option<Timestamp>,
    /// The refresh token, if issued.
    pub refresh_token: Option<Secret>,
    /// `refreshTokenExpiryTime`, if known.
    pub refresh_token_expires_at: Option<Timestamp>,
    /// The wallet that issued the token (`customerBelongsTo` / `pspId`), if said.
    pub wallet: Option<String>,
}

impl TokenSet {
    /// An access token expiring at `expires_at` (if known), without a refresh token.
    pub fn new(access_token: Secret, expires_at: Option<Timestamp>) -> Self {
        TokenSet {
            access_token,
            access_token_expires_at: expires_at,
            refresh_token: None,
            refresh_token_expires_at: None,
            wallet: None,
        }
    }

    /// With a refresh token expiring at `expires_at` (if known).
    pub fn with_refresh(mut self, refresh_token: Secret, expires_at: Option<Timestamp>) -> Self {
        self.refresh_token = Some(refresh_token);
        self.refresh_token_expires_at = expires_at;
        self
    }

    /// The tokens of a successful applyToken answer.
    ///
    /// # Errors
    /// [`Error::MissingField`] when the answer has no (non-empty) `accessToken`.
    pub fn from_apply_token(response: &ApplyTokenResponse) -> Result<Self, Error> {
        let access = present(&response.access_token).ok_or(Error::MissingField {
            api: "applyToken",
            context: "answered S",
            field: "accessToken",
        })?;
        Ok(TokenSet {
            access_token: access,
            access_token_expires_at: response
                .access_token_expiry_time
                .as_ref()
                .map(Timestamp::from),
            refresh_token: present(&response.refresh_token),
            refresh_token_expires_at: response
                .refresh_token_expiry_time
                .as_ref()
                .map(Timestamp::from),
            wallet: response
                .customer_belongs_to
                .clone()
                .or_else(|| response.psp_id.clone()),
        })
    }

    /// The tokens of an authNotify `TOKEN_CREATED`.
    ///
    /// # Errors
    /// [`Error::MissingField`] when it has no (non-empty) `accessToken`.
    pub fn from_notification(notification: &AuthNotifyRequest) -> Result<Self, Error> {
        let access = present(&notification.access_token).ok_or(Error::MissingField {
            api: "authNotify",
            context: "TOKEN_CREATED",
            field: "accessToken",
        })?;
        Ok(TokenSet {
            access_token: access,
            access_token_expires_at: notification
                .access_token_expiry_time
                .as_ref()
                .map(Timestamp::from),
            refresh_token: present(&notification.refresh_token),
            refresh_token_expires_at: notification
                .refresh_token_expiry_time
                .as_ref()
                .map(Timestamp::from),
            wallet: notification
                .customer_belongs_to
                .clone()
                .or_else(|| notification.psp_id.clone()),
        })
    }

    fn refresh_usable(&self, now: Timestamp) -> bool {
        self.refresh_token.is_some() && self.refresh_token_expires_at.is_none_or(|t| now < t)
    }
}

/// applyToken `AUTHORIZATION_CODE` with a code received outside a [`Binding`](crate::Binding)
/// (and the wallet in tile mode). Prefer [`Binding::apply_token_request`](crate::Binding::apply_token_request),
/// which never sends a code twice.
pub fn code_token_request(
    merchant: &AuthClient,
    auth_code: &Secret,
    customer_belongs_to: Option<&str>,
) -> ApplyTokenRequest {
    ApplyTokenRequest {
        auth_code: Some(auth_code.clone()),
        customer_belongs_to: customer_belongs_to.map(String::from),
        ..ApplyTokenRequest::new(merchant.id.clone(), GrantType::AuthorizationCode)
    }
}

/// applyToken `REFRESH_TOKEN`: a new token pair (the old one is replaced). Only while the
/// refresh token is valid ([`TokenLifecycle::decide`]); fold the answer in with
/// [`TokenLifecycle::on_refresh_outcome`].
pub fn refresh_request(merchant: &AuthClient, refresh_token: &Secret) -> ApplyTokenRequest {
    ApplyTokenRequest {
        refresh_token: Some(refresh_token.clone()),
        ..ApplyTokenRequest::new(merchant.id.clone(), GrantType::RefreshToken)
    }
}

pub(crate) fn present(s: &Option<Secret>) -> Option<Secret> {
    s.as_ref().filter(|s| !s.expose().is_empty()).cloned()
}

/// What to do with the stored token now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenDecision {
    /// Charge with the access token.
    Use,
    /// Call applyToken with `REFRESH_TOKEN` now
    /// ([`TokenLifecycle::refresh_request`]), then use the new token.
    RefreshNow,
    /// The authorization is gone: send the user through a new binding (prepare).
    Rebind(RebindReason),
}

/// Why a new binding is needed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum RebindReason {
    /// The token was cancelled (cancelToken, or authNotify `TOKEN_CANCELED` from the wallet).
    Cancelled,
    /// The access token is expired or invalid and the refresh token is expired.
    RefreshTokenExpired,
    /// The access token is expired or invalid and no refresh token was issued.
    NoRefreshToken,
    /// applyToken refused the refresh (`F`) with this code.
    RefreshRefused(String),
    /// pay reported that the wallet user is gone (`USER_NOT_EXIST`).
    UserGone,
}

/// What a report changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenUpdate {
    /// The stored token's state changed (persist it).
    Changed,
    /// Nothing changed: a duplicate, a stale or unrelated report, or an unknown (`U`) outcome.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Status {
    Active,
    /// pay said the access token is invalid / expired.
    AccessRejected,
    Gone(RebindReason),
}

/// The stored token of one binding and what has happened to it (sans-IO; time is an input).
/// Serializes (serde) so it can be stored with the binding and resumed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenLifecycle {
    pub(crate) tokens: TokenSet,
    status: Status,
    refresh_margin: Duration,
}

/// The result codes by which pay says the access token cannot be used (spec §8; which name
/// reaches the ACQP is UNCERTAIN, so all are listed).
pub const TOKEN_REJECTED_CODES: &[&str] = &[
    "INVALID_TOKEN",
    "INVALID_ACCESS_TOKEN",
    "EXPIRED_ACCESS_TOKEN",
];

impl TokenLifecycle {
    /// Default margin before `accessTokenExpiryTime` at which a refresh is advised.
    pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);

    /// Follows `tokens`, refreshing [`Self::DEFAULT_REFRESH_MARGIN`] before the access token
    /// expires.
    pub fn new(tokens: TokenSet) -> Self {
        TokenLifecycle {
            tokens,
            status: Status::Active,
            refresh_margin: Self::DEFAULT_REFRESH_MARGIN,
        }
    }

    /// Advise a refresh this long before the access token expires.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The current tokens.
    pub fn tokens(&self) -> &TokenSet {
        &self.tokens
    }

    /// The access token to charge with (check [`TokenLifecycle::decide`] first).
    pub fn access_token(&self) -> &Secret {
        &self.tokens.access_token
    }

    /// What to do at `now`. See the module docs.
    pub fn decide(&self, now: Timestamp) -> TokenDecision {
        let rebind_reason = || {
            if self.tokens.refresh_token.is_none() {
                RebindReason::NoRefreshToken
            } else {
                RebindReason::RefreshTokenExpired
            }
        };
        let can_refresh = self.tokens.refresh_usable(now);
        let expires = self.tokens.access_token_expires_at;
        let expired = expires.is_some_and(|t| now >= t);
        match &self.status {
            Status::Gone(reason) => TokenDecision::Rebind(reason.clone()),
            Status::AccessRejected if can_refresh => TokenDecision::RefreshNow,
            Status::AccessRejected => TokenDecision::Rebind(rebind_reason()),
            Status::Active if expired && can_refresh => TokenDecision::RefreshNow,
            Status::Active if expired => TokenDecision::Rebind(rebind_reason()),
            Status::Active => {
                let due = expires.is_some_and(|t| now + self.refresh_margin >= t);
                if due && can_refresh {
                    TokenDecision::RefreshNow
                } else {
                    TokenDecision::Use
                }
            }
        }
    }

    /// New tokens from a refresh (or a new exchange): they replace the old pair.
    pub fn on_refreshed(&mut self, tokens: TokenSet) -> TokenUpdate {
        if tokens == self.tokens && self.status == Status::Active {
            return TokenUpdate::Ignored;
        }
        self.tokens = tokens;
        self.status = Status::Active;
        TokenUpdate::Changed
    }

    /// The outcome of applyToken `REFRESH_TOKEN`: `S` replaces the tokens (an answer without
    /// a refresh token keeps the current one: it was not rotated); `F` with a code about the
    /// grant ([`CodeAbout::Subject`] in the API description, e.g. `INVALID_REFRESH_TOKEN`)
    /// means bind again; an `F` that only refuses the request (`INVALID_SIGNATURE`,
    /// `PROCESS_FAIL`, `PARAM_ILLEGAL`, an unknown code: [`CodeAbout::Request`]) changes
    /// nothing (fix the cause, then refresh again): it says nothing about the grant, and
    /// ending the binding would make the user authorize again for our mistake; `U` / no
    /// verified response changes nothing (retry the same refresh, or wait for authNotify
    /// `TOKEN_CREATED`).
    ///
    /// # Errors
    /// [`Error::MissingField`]: an `S` without an access token (nothing is changed).
    pub fn on_refresh_outcome(
        &mut self,
        outcome: &Outcome<ApplyTokenResponse>,
    ) -> Result<TokenUpdate, Error> {
        match outcome {
            Outcome::Success(reply) => {
                let mut tokens = TokenSet::from_apply_token(&reply.body)?;
                if tokens.refresh_token.is_none() {
                    // Not rotated (OAuth: keep the old refresh token when none is issued).
                    tokens.refresh_token = self.tokens.refresh_token.clone();
                    tokens.refresh_token_expires_at = self.tokens.refresh_token_expires_at;
                }
                Ok(self.on_refreshed(tokens))
            }
            // Refused as a request (our signature, key, client, access, parameters, a system
            // error): nothing is said about the grant, so the binding stands.
            Outcome::Failure(reply)
                if reply.body.result.result_code.about() == CodeAbout::Request =>
            {
                Ok(TokenUpdate::Ignored)
            }
            Outcome::Failure(reply) => {
                let code = reply.body.result.code_str().into();
                self.status = Status::Gone(RebindReason::RefreshRefused(code));
                Ok(TokenUpdate::Changed)
            }
            _ => Ok(TokenUpdate::Ignored),
        }
    }

    /// The refresh request for the lifecycle's tokens ([`refresh_request`]); fold its answer
    /// in with [`TokenLifecycle::on_refresh_outcome`].
    ///
    /// # Errors
    /// [`Error::MissingField`] when there is no refresh token.
    pub fn refresh_request(&self, merchant: &AuthClient) -> Result<ApplyTokenRequest, Error> {
        let refresh = self
            .tokens
            .refresh_token
            .as_ref()
            .ok_or(Error::MissingField {
                api: "applyToken",
                context: "REFRESH_TOKEN",
                field: "refreshToken",
            })?;
        Ok(refresh_request(merchant, refresh))
    }

    /// Our cancelToken succeeded (merchant-side unbinding).
    pub fn on_cancelled(&mut self) -> TokenUpdate {
        if self.status == Status::Gone(RebindReason::Cancelled) {
            return TokenUpdate::Ignored;
        }
        self.status = Status::Gone(RebindReason::Cancelled);
        TokenUpdate::Changed
    }

    /// pay (or its inquiry / notification) failed with `code`: a token code
    /// ([`TOKEN_REJECTED_CODES`]) marks the access token unusable (refresh if possible, else
    /// bind again); `USER_NOT_EXIST` means bind again; other codes change nothing.
    pub fn on_payment_failure(&mut self, code: &str) -> TokenUpdate {
        if matches!(self.status, Status::Gone(_)) {
            return TokenUpdate::Ignored;
        }
        let status = if TOKEN_REJECTED_CODES.contains(&code) {
            Status::AccessRejected
        } else if code == "USER_NOT_EXIST" {
            Status::Gone(RebindReason::UserGone)
        } else {
            return TokenUpdate::Ignored;
        };
        if self.status == status {
            return TokenUpdate::Ignored;
        }
        self.status = status;
        TokenUpdate::Changed
    }
}
