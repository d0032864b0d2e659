//! consultPayment: the wallets available for an order (cashier.md §3).

use alipayplus_types::{
    Api, ConsultPaymentRequest, ConsultPaymentResponse, Logo, PaymentOption, PaymentOptionDetail,
    StrBool, WalletDetail, WalletFeature,
};

use crate::answer::{Answer, Route, result, typed};
use crate::state::Shared;

pub(super) const ROUTE: Route = Route {
    name: ConsultPaymentRequest::NAME,
    path: ConsultPaymentRequest::PATH,
    serve,
};

fn serve(shared: &Shared, body: &[u8]) -> Answer {
    typed(shared, body, handle)
}

/// Every configured wallet, the first preferred. In-store requests get them disabled: the
/// simulator only does online Cashier.
fn handle(shared: &Shared, request: ConsultPaymentRequest) -> ConsultPaymentResponse {
    let in_store = request
        .payment_factor
        .is_in_store_payment
        .is_some_and(|b| b.0);
    let options = shared
        .wallets
        .iter()
        .enumerate()
        .map(|(i, wallet)| {
            let mut option = PaymentOption::new(wallet.clone());
            option.payment_method_category = Some("WALLET".into());
            option.enabled = Some(StrBool(!in_store));
            option.preferred = Some(StrBool(i == 0));
            if in_store {
                option.disable_reason = Some("in-store payments are not simulated".into());
            }
            let mut logo = Logo::new();
            logo.logo_name = Some(wallet.clone());
            logo.logo_url = Some(format!("{}/shopper/logo/{wallet}.svg", shared.base_url));
            option.logo = Some(logo);
            let mut feature = WalletFeature::new();
            feature.support_code_scan = Some(StrBool(true));
            feature.support_cashier_redirection = Some(StrBool(true));
            let mut wallet_detail = WalletDetail::new();
            wallet_detail.wallet_name = Some(wallet.clone());
            wallet_detail.wallet_brand_name = Some(shared.wallet_brand_name.clone());
            wallet_detail.wallet_region = request.user_region.clone();
            wallet_detail.wallet_feature = Some(feature);
            let mut detail = PaymentOptionDetail::new();
            detail.payment_option_detail_type = Some("CONNECT_WALLET".into());
            detail.connect_wallet = Some(wallet_detail);
            option.payment_option_detail = Some(detail);
            option
        })
        .collect();
    let mut response = ConsultPaymentResponse::new(result("SUCCESS", "S", "success"));
    response.payment_options = Some(options);
    response
}
