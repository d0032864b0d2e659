//! The product rules of the requests: what the API description (`spec/api/*.toml`) cannot
//! express, hand-written beside the generated code.
//!
//! Where the rules live: a rule the description can say is emitted by `cargo xtask codegen`
//! (lengths, required / required-when / required-if, including rules that depend on other
//! fields such as `paymentFactor.isCashierPayment` or `productCodes`, item counts, currencies).
//! The rest needs code (no duplicates in a list, a URL's shape, one flag excluding another, an
//! enum value this version knows, the evidence shapes of a dispute answer) and is here, one
//! function per API. The description names the function (`rules = "<fn>"` of the API), so the
//! generated `validate()` of the request calls it after the generated checks: neither
//! `Api::validate` nor the client core's call (which always validates) can skip it.
//!
//! Rules that need context beyond the request (the stored dispute a response answers) stay
//! with the flow that has the context (`alipayplus-operations`).

#[cfg(any(
    feature = "cashier",
    feature = "autodebit",
    feature = "dispute",
    feature = "registration",
    feature = "customs"
))]
use crate::{Problem, ValidationErrors, validate::Path};

/// pay: an agreement (Auto Debit) payment carries a non-empty access token and is not also a
/// Cashier Payment (the presence rules of each scenario are in the description).
#[cfg(any(feature = "autodebit", feature = "cashier"))]
pub(crate) fn pay(r: &crate::PayRequest, errors: &mut ValidationErrors) {
    use crate::StrBool;
    let factor = &r.payment_factor;
    if factor.is_agreement_payment != Some(StrBool(true)) {
        return;
    }
    let path = Path::ROOT.field("paymentFactor");
    if factor.is_cashier_payment == Some(StrBool(true)) {
        let rule = Problem::Rule("an agreement (Auto Debit) payment is not a Cashier Payment");
        errors.push(&path.field("isCashierPayment"), rule);
    }
    let token = r.payment_method.payment_method_id.as_ref();
    if token.is_some_and(|t| t.expose().is_empty()) {
        let method = Path::ROOT.field("paymentMethod");
        errors.push(&method.field("paymentMethodId"), Problem::Empty);
    }
}

/// registration: at least one product, none twice (each product is one registration), and an
/// absolute `http(s)` `registrationNotifyUrl`.
#[cfg(feature = "registration")]
pub(crate) fn registration(r: &crate::RegistrationRequest, errors: &mut ValidationErrors) {
    let codes = Path::ROOT.field("productCodes");
    if r.product_codes.is_empty() {
        let problem = Problem::ItemCount {
            min: 1,
            max: None,
            actual: 0,
        };
        errors.push(&codes, problem);
    }
    for (i, code) in r.product_codes.iter().enumerate() {
        if r.product_codes.get(..i).unwrap_or_default().contains(code) {
            let rule = Problem::Rule("listed twice (each product is one registration)");
            errors.push(&codes.index(i), rule);
        }
    }
    if let Some(url) = &r.registration_notify_url {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host_ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
        if !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            let path = Path::ROOT.field("registrationNotifyUrl");
            errors.push(&path, Problem::Rule("not an absolute http(s) URL"));
        }
    }
}

/// declare: only the customs of the Chinese mainland (`customs.region` = `CN`).
#[cfg(feature = "customs")]
pub(crate) fn declare(r: &crate::DeclareRequest, errors: &mut ValidationErrors) {
    if r.customs.region != "CN" {
        let rule = Problem::Rule("only CN (the customs of the Chinese mainland)");
        errors.push(&Path::ROOT.field("customs").field("region"), rule);
    }
}

/// inquireDeclarationRequests: no id twice.
#[cfg(feature = "customs")]
pub(crate) fn inquire_declaration_requests(
    r: &crate::InquireDeclarationRequestsRequest,
    errors: &mut ValidationErrors,
) {
    let path = Path::ROOT.field("declarationRequestIds");
    let ids = &r.declaration_request_ids;
    for (i, id) in ids.iter().enumerate() {
        if ids.get(..i).unwrap_or_default().contains(id) {
            errors.push(&path.index(i), Problem::Rule("listed twice"));
        }
    }
}

/// responseRetrieval: a `responseCode` this version knows, and the evidence shapes.
#[cfg(feature = "dispute")]
pub(crate) fn response_retrieval(
    r: &crate::ResponseRetrievalRequest,
    errors: &mut ValidationErrors,
) {
    if let crate::OrderStatus::Unrecognized(_) = r.response_code {
        let rule = Problem::Rule("not a responseCode (OrderStatus) value this version knows");
        errors.push(&Path::ROOT.field("responseCode"), rule);
    }
    dispute::evidence(
        r.transaction_receipt.as_ref(),
        r.proof_of_delivery.as_ref(),
        errors,
    );
    if let Some(docs) = &r.other_documentation {
        let path = Path::ROOT.field("otherDocumentation");
        if docs.is_empty() {
            let problem = Problem::ItemCount {
                min: 1,
                max: None,
                actual: 0,
            };
            errors.push(&path, problem);
        }
        for (i, a) in docs.iter().enumerate() {
            dispute::attachment(a, &path.index(i), errors);
        }
    }
}

/// responseEscalation: a known `refundType`, no refund (nor planned refund time) when refusing
/// it, and the evidence shapes. The refund's bound needs the escalation (the flow checks it).
#[cfg(feature = "dispute")]
pub(crate) fn response_escalation(
    r: &crate::ResponseEscalationRequest,
    errors: &mut ValidationErrors,
) {
    use crate::RefundType;
    match (&r.refund_type, &r.refund_amount) {
        (RefundType::RefuseRefund, Some(_)) => {
            let rule = Problem::Rule("not sent when refusing the refund");
            errors.push(&Path::ROOT.field("refundAmount"), rule);
        }
        (RefundType::RefuseRefund, None) if r.planned_refund_time.is_some() => {
            let rule = Problem::Rule("no refund is planned when refusing it");
            errors.push(&Path::ROOT.field("plannedRefundTime"), rule);
        }
        (RefundType::Unrecognized(_), _) => {
            let rule = Problem::Rule("not a refundType this version knows");
            errors.push(&Path::ROOT.field("refundType"), rule);
        }
        _ => {}
    }
    dispute::evidence(
        r.transaction_receipt.as_ref(),
        r.proof_of_delivery.as_ref(),
        errors,
    );
    if let Some(a) = &r.other_documentation {
        dispute::attachment(a, &Path::ROOT.field("otherDocumentation"), errors);
    }
}

#[cfg(feature = "dispute")]
mod dispute {
    use crate::validate::Path;
    use crate::{
        Attachment, AttachmentType, Problem, ProofOfDelivery, TransactionReceipt, ValidationErrors,
    };

    /// A receipt names at least one thing; a proof of delivery a tracking number or shipping.
    pub(super) fn evidence(
        receipt: Option<&TransactionReceipt>,
        delivery: Option<&ProofOfDelivery>,
        errors: &mut ValidationErrors,
    ) {
        if let Some(t) = receipt {
            let empty = t.reference_order_id.is_none()
                && t.order_amount.is_none()
                && t.order_status.is_none()
                && t.goods.is_none();
            if empty {
                let names = &["referenceOrderId", "orderAmount", "orderStatus", "goods"];
                let path = Path::ROOT.field("transactionReceipt");
                errors.push(&path, Problem::MissingOneOf(names));
            }
        }
        if let Some(d) = delivery
            && d.delivery_tracking_no.is_none()
            && d.shipping.is_none()
        {
            let names = &["deliveryTrackingNo", "shipping"];
            let path = Path::ROOT.field("proofOfDelivery");
            errors.push(&path, Problem::MissingOneOf(names));
        }
    }

    /// An attachment carries `content` or `file`, a dispute attachment type and, if given, a
    /// MIME type.
    pub(super) fn attachment(a: &Attachment, path: &Path<'_>, errors: &mut ValidationErrors) {
        if a.content.is_none() && a.file.is_none() {
            errors.push(path, Problem::MissingOneOf(&["content", "file"]));
        }
        let dispute_type = matches!(
            a.attachment_type,
            AttachmentType::TransactionReceipt
                | AttachmentType::ProofOfDelivery
                | AttachmentType::MerchantInformation
                | AttachmentType::EndUserInformation
                | AttachmentType::OtherDocumentation
                | AttachmentType::MerchantNotRefundRecords
                | AttachmentType::SupportingDocumentation
        );
        if !dispute_type {
            let rule = Problem::Rule("not a dispute attachment type (e.g. TRANSACTION_RECEIPT)");
            errors.push(&path.field("attachmentType"), rule);
        }
        if let Some(ct) = &a.content_type {
            let ok = ct.split_once('/').is_some_and(|(t, s)| {
                !t.is_empty() && !s.is_empty() && !ct.contains(char::is_whitespace)
            });
            if !ok {
                let rule = Problem::Rule("not a MIME type (e.g. application/pdf)");
                errors.push(&path.field("contentType"), rule);
            }
        }
    }
}
