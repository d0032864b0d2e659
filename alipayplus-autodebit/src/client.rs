//! [`AutoDebit`]: the Auto Debit calls, made through the one client core [`Client`].

use alloc::string::String;
use core::time::Duration;

use alipayplus_cashier::client::{Client, Outcome, RequestError};
use alipayplus_cashier::time::Clock;
use alipayplus_cashier::transport::Transport;
use alipayplus_types::{
    ApplyTokenRequest, ApplyTokenResponse, CancelTokenRequest, CancelTokenResponse, GrantType,
    OsType, PayRequest, PayResponse, PrepareRequest, PrepareResponse, Secret, TerminalType,
};

use crate::error::Error;
use crate::payment::{AgreementPayment, follow_agreement_payment, pay_agreement};
use crate::prepare::Binding;
use crate::token::TokenLifecycle;

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

/// The Auto Debit calls of one merchant, made with the shared [`Client`] (same transport,
/// signing, strict verification and [`Outcome`]s as every other API).
///
/// ```
/// # use alipayplus_cashier::client::{Client, ClientConfig, Host};
/// # use alipayplus_cashier::transport::{Request, Response};
/// use alipayplus_autodebit::{AuthClient, AutoDebit};
/// # fn demo(client: Client<impl alipayplus_cashier::transport::Transport>) {
/// let merchant = AuthClient::new("M202400001", "Example Trading Pte. Ltd.");
/// let auto_debit = AutoDebit::new(&client, &merchant);
/// // auto_debit.prepare(...), .exchange_code(...), .refresh(...), .cancel_token(...), .pay(...)
/// // refunds and inquiries: client.refund_payment(...), client.inquiry_payment(...)
/// # let _ = auto_debit; }
/// ```
#[derive(Debug)]
pub struct AutoDebit<'a, T> {
    client: &'a Client<T>,
    merchant: &'a AuthClient,
}

impl<'a, T: Transport> AutoDebit<'a, T> {
    /// The calls of `merchant`, through `client`.
    pub fn new(client: &'a Client<T>, merchant: &'a AuthClient) -> Self {
        AutoDebit { client, merchant }
    }

    /// The client core (for refund, inquiryPayment, cancelPayment, inbound handlers).
    pub fn client(&self) -> &'a Client<T> {
        self.client
    }

    /// The merchant.
    pub fn merchant(&self) -> &'a AuthClient {
        self.merchant
    }

    /// Calls prepare for `binding` (see [`Binding::prepare_request`]). On `S`, send the user to
    /// [`AuthorizationUrls::from_response`](crate::AuthorizationUrls::from_response)`.for_terminal(..)`.
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn prepare(
        &self,
        binding: &Binding,
        terminal: TerminalType,
        os: Option<OsType>,
    ) -> Result<Outcome<PrepareResponse>, RequestError> {
        self.prepare_with(&binding.prepare_request(self.merchant, terminal, os))
    }

    /// Calls prepare with a request built by hand.
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn prepare_with(
        &self,
        request: &PrepareRequest,
    ) -> Result<Outcome<PrepareResponse>, RequestError> {
        self.client.call(request)
    }

    /// Exchanges the binding's auth code (applyToken `AUTHORIZATION_CODE`). On `S` or `F` the
    /// code is marked spent, so it is never sent twice (codes are single-use); on an unknown
    /// outcome it is kept for a retry of the same exchange (or wait for authNotify
    /// `TOKEN_CREATED`). Read the tokens with [`TokenSet::from_apply_token`](crate::TokenSet::from_apply_token).
    ///
    /// # Errors
    /// [`Error::NoAuthCode`], [`Error::CodeAlreadyExchanged`], [`Error::Request`].
    pub fn exchange_code(
        &self,
        binding: &mut Binding,
    ) -> Result<Outcome<ApplyTokenResponse>, Error> {
        let request = binding.apply_token_request()?;
        let outcome = self.client.call(&request)?;
        if outcome.is_success() || outcome.is_failure() {
            binding.mark_code_spent();
        }
        Ok(outcome)
    }

    /// applyToken `AUTHORIZATION_CODE` with a code (and the wallet in tile mode).
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn apply_token_with_code(
        &self,
        auth_code: &Secret,
        customer_belongs_to: Option<&str>,
    ) -> Result<Outcome<ApplyTokenResponse>, RequestError> {
        let request = ApplyTokenRequest {
            auth_code: Some(auth_code.clone()),
            customer_belongs_to: customer_belongs_to.map(String::from),
            ..ApplyTokenRequest::new(self.merchant.id.clone(), GrantType::AuthorizationCode)
        };
        self.client.call(&request)
    }

    /// applyToken `REFRESH_TOKEN`: a new token pair (the old one is replaced). Only while the
    /// refresh token is valid ([`TokenLifecycle::decide`]).
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn refresh_token(
        &self,
        refresh_token: &Secret,
    ) -> Result<Outcome<ApplyTokenResponse>, RequestError> {
        let request = ApplyTokenRequest {
            refresh_token: Some(refresh_token.clone()),
            ..ApplyTokenRequest::new(self.merchant.id.clone(), GrantType::RefreshToken)
        };
        self.client.call(&request)
    }

    /// Refreshes the lifecycle's tokens and folds the outcome in
    /// ([`TokenLifecycle::on_refresh_outcome`]).
    ///
    /// # Errors
    /// [`Error::MissingField`] when there is no refresh token or an `S` lacks the access
    /// token; [`Error::Request`].
    pub fn refresh(
        &self,
        lifecycle: &mut TokenLifecycle,
    ) -> Result<Outcome<ApplyTokenResponse>, Error> {
        let refresh = lifecycle
            .tokens()
            .refresh_token
            .clone()
            .ok_or(Error::MissingField {
                api: "applyToken",
                context: "REFRESH_TOKEN",
                field: "refreshToken",
            })?;
        let outcome = self.refresh_token(&refresh)?;
        lifecycle.on_refresh_outcome(&outcome)?;
        Ok(outcome)
    }

    /// cancelToken: unbind from the merchant side. Idempotent on the token: on an unknown
    /// outcome call again. Alipay+ may also send authNotify `TOKEN_CANCELED` for it.
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn cancel_token(
        &self,
        access_token: &Secret,
    ) -> Result<Outcome<CancelTokenResponse>, RequestError> {
        let request = CancelTokenRequest::new(access_token.clone(), self.merchant.id.clone());
        self.client.call(&request)
    }

    /// An agreement pay ([`pay_agreement`](crate::payment::pay_agreement)).
    ///
    /// # Errors
    /// [`RequestError`] when the request is not sent.
    pub fn pay(&self, request: &PayRequest) -> Result<Outcome<PayResponse>, RequestError> {
        pay_agreement(self.client, request)
    }

    /// An agreement pay followed to its final state ([`follow_agreement_payment`]).
    ///
    /// # Errors
    /// [`RequestError`] when the first pay is not sent (nothing reached Alipay+); after that
    /// every step ends in the returned final state.
    pub fn pay_and_follow(
        &self,
        request: &PayRequest,
        clock: &impl Clock,
        sleep: impl FnMut(Duration),
    ) -> Result<AgreementPayment, RequestError> {
        follow_agreement_payment(self.client, request, clock, sleep)
    }
}
