//! prepare: start a binding (spec `autodebit.md` §2) and keep what the redirect back is
//! checked against.
//!
//! A [`Binding`] is the merchant's record of one binding attempt: the `authClientId`, the
//! redirect URL, the wallet, and a fresh [`AuthState`] sent in prepare and expected back on the
//! redirect. Store it (e.g. in the shopper's session) between prepare and the redirect back.
//!
//! The state is made from random bytes the caller supplies (`getrandom`, a CSPRNG): the core
//! never reads a random number generator itself.
//!
//! ```
//! use alipayplus_autodebit::{AuthClient, AuthState, Binding};
//! use alipayplus_types::TerminalType;
//!
//! let merchant = AuthClient::new("M202400001", "Example Trading Pte. Ltd.");
//! let state = AuthState::from_random_bytes([7; 16]); // use real randomness
//! let binding = Binding::new("M202400001", "https://merchant.example.com/auth-return", state)
//!     .with_wallet("GCASH");
//! let request = binding.prepare_request(&merchant, TerminalType::Web, None);
//! assert_eq!(request.auth_state.as_deref(), Some(binding.state().as_str()));
//! assert!(request.validate().is_ok());
//! ```

use alloc::string::String;
use alloc::vec;
use core::fmt;

use alipayplus_client::client::Outcome;
use alipayplus_types::{
    ApplyTokenRequest, ApplyTokenResponse, AuthScope, GrantType, OsType, PrepareRequest,
    PrepareResponse, Secret, TerminalType,
};

use crate::error::Error;

/// The merchant as the authorization page shows it (prepare's `authClient*` fields).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthClient {
    /// `authClientId`: the same value in prepare, applyToken and cancelToken.
    pub id: String,
    /// `authClientName`: the registered legal name.
    pub name: String,
    /// `authClientDisplayName`: the trade name (required when it differs from the name).
    pub display_name: Option<String>,
    /// `authClientLogo`: logo URL.
    pub logo: Option<String>,
}

impl AuthClient {
    /// A merchant with its id and legal name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        AuthClient {
            id: id.into(),
            name: name.into(),
            display_name: None,
            logo: None,
        }
    }

    /// With a trade name.
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// With a logo URL.
    pub fn with_logo(mut self, url: impl Into<String>) -> Self {
        self.logo = Some(url.into());
        self
    }
}

/// Longest `authState` accepted when restoring a stored one.
const MAX_STATE_LEN: usize = 128;

/// The per-binding `authState`: sent in prepare, echoed on the redirect back (and in
/// authNotify), compared before a code is accepted.
///
/// `Debug` does not show the value. Serialized as its text (deserializing checks it like
/// [`AuthState::parse`]).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AuthState(String);

impl TryFrom<String> for AuthState {
    type Error = Error;

    fn try_from(text: String) -> Result<Self, Error> {
        AuthState::parse(&text)
    }
}

impl From<AuthState> for String {
    fn from(state: AuthState) -> String {
        state.0
    }
}

impl AuthState {
    /// A state from 16 random bytes (128 bits, from a CSPRNG such as `getrandom`), written as
    /// 32 lower-case hex digits (safe in a URL query without escaping).
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(32);
        for b in bytes {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        AuthState(s)
    }

    /// A stored state, restored: 16 to 128 characters, each an ASCII letter, digit, `-`, `.`,
    /// `_` or `~` (URL-unreserved, so it survives the redirect unchanged).
    ///
    /// # Errors
    /// [`Error::InvalidState`] naming the problem.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() < 16 {
            return Err(Error::InvalidState("shorter than 16 characters"));
        }
        if text.len() > MAX_STATE_LEN {
            return Err(Error::InvalidState("longer than 128 characters"));
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(Error::InvalidState(
                "only ASCII letters, digits, '-', '.', '_' and '~' are allowed",
            ));
        }
        Ok(AuthState(text.into()))
    }

    /// The value, to store it or send it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this state; takes the same time wherever the first difference is.
    pub fn matches(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for AuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthState(***)")
    }
}

/// Where a binding's auth code stands.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "code")]
enum Code {
    Awaiting,
    Received(Secret),
    /// Exchanged (or refused definitely by applyToken): never sent again.
    Spent(Secret),
}

/// What a received auth code changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeUpdate {
    /// A new code: exchange it ([`Binding::apply_token_request`], then
    /// [`Binding::on_apply_token_outcome`]).
    New,
    /// The code already received (the redirect and authNotify both deliver it, and
    /// notifications are re-sent): nothing to do.
    Duplicate,
    /// A code arrived after this binding's code was exchanged: ignored (start a new binding
    /// to bind again).
    AlreadyExchanged,
}

/// One binding attempt, kept by the merchant from prepare to the token exchange.
///
/// `Debug` shows neither the state nor the code. It serializes (serde) so it can be stored
/// between prepare and the redirect back (e.g. in the shopper's session); the stored form
/// contains the state and the code: keep it server-side.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Binding {
    auth_client_id: String,
    redirect_url: String,
    state: AuthState,
    reference_agreement_id: Option<String>,
    customer_belongs_to: Option<String>,
    state_required: bool,
    code: Code,
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = match self.code {
            Code::Awaiting => "awaiting",
            Code::Received(_) => "received",
            Code::Spent(_) => "exchanged",
        };
        f.debug_struct("Binding")
            .field("auth_client_id", &self.auth_client_id)
            .field("redirect_url", &self.redirect_url)
            .field("reference_agreement_id", &self.reference_agreement_id)
            .field("customer_belongs_to", &self.customer_belongs_to)
            .field("state_required", &self.state_required)
            .field("code", &code)
            .finish_non_exhaustive()
    }
}

impl Binding {
    /// A binding for the merchant `auth_client_id` (the same value must be used by prepare,
    /// applyToken and cancelToken), returning the user to `redirect_url`, with a fresh `state`.
    pub fn new(
        auth_client_id: impl Into<String>,
        redirect_url: impl Into<String>,
        state: AuthState,
    ) -> Self {
        Binding {
            auth_client_id: auth_client_id.into(),
            redirect_url: redirect_url.into(),
            state,
            reference_agreement_id: None,
            customer_belongs_to: None,
            state_required: true,
            code: Code::Awaiting,
        }
    }

    /// The wallet the user picked (tile mode: `customerBelongsTo` in prepare and applyToken,
    /// e.g. `GCASH`). Leave it out in unified mode (the user picks on the Alipay+ page).
    pub fn with_wallet(mut self, customer_belongs_to: impl Into<String>) -> Self {
        self.customer_belongs_to = Some(customer_belongs_to.into());
        self
    }

    /// The `referenceAgreementId` of this attempt (recommended: unique per attempt; with
    /// `authClientId` it is prepare's idempotency key, spec common §3.3).
    pub fn with_reference_agreement_id(mut self, id: impl Into<String>) -> Self {
        self.reference_agreement_id = Some(id.into());
        self
    }

    /// Accept a redirect back without `authState`. Alipay+ echoing the state is UNCERTAIN
    /// (spec §3); by default its absence is refused ([`Error::MissingState`]), which is the
    /// safe reading. A state that is present must still match.
    pub fn allow_missing_state(mut self) -> Self {
        self.state_required = false;
        self
    }

    /// The merchant's `authClientId`.
    pub fn auth_client_id(&self) -> &str {
        &self.auth_client_id
    }

    /// The redirect URL sent in prepare.
    pub fn redirect_url(&self) -> &str {
        &self.redirect_url
    }

    /// The state sent in prepare.
    pub fn state(&self) -> &AuthState {
        &self.state
    }

    /// The wallet, if chosen.
    pub fn wallet(&self) -> Option<&str> {
        self.customer_belongs_to.as_deref()
    }

    /// The prepare request of this binding (scope `AGREEMENT_PAY`). `os` is required by
    /// validation when `terminal` is `APP` or `WAP`. Adjust fields before sending if needed.
    pub fn prepare_request(
        &self,
        merchant: &AuthClient,
        terminal: TerminalType,
        os: Option<OsType>,
    ) -> PrepareRequest {
        PrepareRequest {
            reference_agreement_id: self.reference_agreement_id.clone(),
            auth_client_display_name: merchant.display_name.clone(),
            auth_client_logo: merchant.logo.clone(),
            auth_state: Some(self.state.0.clone()),
            customer_belongs_to: self.customer_belongs_to.clone(),
            os_type: os,
            ..PrepareRequest::new(
                self.auth_client_id.clone(),
                merchant.name.clone(),
                self.redirect_url.clone(),
                vec![AuthScope::AgreementPay],
                terminal,
            )
        }
    }

    /// The user came back on the redirect URL: `url` is the full URL or the request target
    /// (`/auth-return?authCode=...&authState=...`). Checks the state, then takes the code.
    ///
    /// # Errors
    /// [`Error::StateMismatch`], [`Error::MissingState`], [`Error::MissingAuthCode`],
    /// [`Error::DuplicateParameter`], [`Error::BadRedirect`]. The binding is unchanged.
    pub fn on_redirect(&mut self, url: &str) -> Result<CodeUpdate, Error> {
        let back = crate::redirect::parse_redirect(url)?;
        match back.auth_state.as_deref() {
            Some(s) if !self.state.matches(s) => return Err(Error::StateMismatch),
            None if self.state_required => return Err(Error::MissingState),
            _ => {}
        }
        let code = back.auth_code.ok_or(Error::MissingAuthCode)?;
        Ok(self.receive(code))
    }

    /// A verified authNotify `AUTHCODE_CREATED` for this binding. Its `authState`, when
    /// present, must match; when absent the code is accepted (the notification is signed by
    /// Alipay+, so it cannot be forged by the user's browser).
    ///
    /// # Errors
    /// [`Error::StateMismatch`]: the notification is for another binding.
    pub fn on_auth_code_notified(
        &mut self,
        auth_code: &Secret,
        auth_state: Option<&str>,
    ) -> Result<CodeUpdate, Error> {
        if let Some(s) = auth_state
            && !self.state.matches(s)
        {
            return Err(Error::StateMismatch);
        }
        Ok(self.receive(auth_code.clone()))
    }

    fn receive(&mut self, code: Secret) -> CodeUpdate {
        match &self.code {
            Code::Awaiting => {
                self.code = Code::Received(code);
                CodeUpdate::New
            }
            Code::Received(c) if *c == code => CodeUpdate::Duplicate,
            // A second authorization by the same user before the exchange: the newer code wins.
            Code::Received(_) => {
                self.code = Code::Received(code);
                CodeUpdate::New
            }
            Code::Spent(_) => CodeUpdate::AlreadyExchanged,
        }
    }

    /// The applyToken request exchanging this binding's code (`AUTHORIZATION_CODE`, with the
    /// wallet if set).
    ///
    /// # Errors
    /// [`Error::NoAuthCode`], [`Error::CodeAlreadyExchanged`].
    pub fn apply_token_request(&self) -> Result<ApplyTokenRequest, Error> {
        match &self.code {
            Code::Awaiting => Err(Error::NoAuthCode),
            Code::Spent(_) => Err(Error::CodeAlreadyExchanged),
            Code::Received(code) => Ok(ApplyTokenRequest {
                auth_code: Some(code.clone()),
                customer_belongs_to: self.customer_belongs_to.clone(),
                ..ApplyTokenRequest::new(self.auth_client_id.clone(), GrantType::AuthorizationCode)
            }),
        }
    }

    /// Marks the code as spent: applyToken answered `S` (tokens issued) or `F` (the code is
    /// dead). Not after `U`: then the same exchange may be retried.
    pub fn mark_code_spent(&mut self) {
        if let Code::Received(c) = &self.code {
            self.code = Code::Spent(c.clone());
        }
    }

    /// Folds the answer to [`Binding::apply_token_request`] in: on `S` or `F` the code is
    /// marked spent, so it is never sent twice (codes are single-use); on an unknown outcome
    /// it is kept for a retry of the same exchange (or wait for authNotify `TOKEN_CREATED`).
    /// Read the tokens with [`TokenSet::from_apply_token`](crate::TokenSet::from_apply_token).
    pub fn on_apply_token_outcome(&mut self, outcome: &Outcome<ApplyTokenResponse>) {
        if outcome.is_success() || outcome.is_failure() {
            self.mark_code_spent();
        }
    }

    /// Whether the code was exchanged (or refused definitely).
    pub fn is_code_spent(&self) -> bool {
        matches!(self.code, Code::Spent(_))
    }
}

/// The authorization URL(s) prepare returned. Which field an edition fills is UNCERTAIN
/// (spec §2); empty strings count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationUrls {
    /// `authUrl`.
    pub auth_url: Option<String>,
    /// `normalUrl` (web / H5 page).
    pub normal_url: Option<String>,
    /// `schemeUrl` (opens the wallet app).
    pub scheme_url: Option<String>,
    /// `applinkUrl` (universal / app link).
    pub applink_url: Option<String>,
    /// `appIdentifier` of the wallet app.
    pub app_identifier: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|s| !s.is_empty()).cloned()
}

impl AuthorizationUrls {
    /// The URLs of a prepare answer.
    pub fn from_response(response: &PrepareResponse) -> Self {
        AuthorizationUrls {
            auth_url: non_empty(&response.auth_url),
            normal_url: non_empty(&response.normal_url),
            scheme_url: non_empty(&response.scheme_url),
            applink_url: non_empty(&response.applink_url),
            app_identifier: non_empty(&response.app_identifier),
        }
    }

    /// Where to send the user on `terminal`: for `APP`, the app link, then the scheme URL,
    /// then the web URL; otherwise `authUrl`, then `normalUrl`, then the app URLs.
    pub fn for_terminal(&self, terminal: &TerminalType) -> Option<&str> {
        let web = [&self.auth_url, &self.normal_url];
        let app = [&self.applink_url, &self.scheme_url];
        let order: [&Option<String>; 4] = if matches!(terminal, TerminalType::App) {
            [app[0], app[1], web[0], web[1]]
        } else {
            [web[0], web[1], app[0], app[1]]
        };
        order.into_iter().flatten().map(String::as_str).next()
    }

    /// Whether the answer carried no URL at all.
    pub fn is_empty(&self) -> bool {
        self.for_terminal(&TerminalType::Web).is_none()
    }
}
