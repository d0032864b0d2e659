//! Build-only proof that the `no_std` crates of this workspace do not pull in `std`.
//!
//! This crate is `#![no_std]` and defines the lang items a `std` build would also define
//! (`panic_impl`, through `#[panic_handler]`) plus a global allocator stub. A dependency that
//! links `std` makes the build fail with a duplicate lang item error.
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;

mod lang_items {
    use core::alloc::{GlobalAlloc, Layout};
    use core::panic::PanicInfo;

    /// Never called: the check is the build itself.
    #[panic_handler]
    fn panic(_info: &PanicInfo<'_>) -> ! {
        loop {}
    }

    /// An allocator that never hands out memory; enough to link `alloc` users.
    struct NoAlloc;

    // `GlobalAlloc` is an unsafe trait, so the impl opts out of the crate-wide `deny`.
    // It never dereferences anything.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for NoAlloc {
        unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
            core::ptr::null_mut()
        }
        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
    }

    #[global_allocator]
    static ALLOCATOR: NoAlloc = NoAlloc;
}

/// Touches the public items of the checked crates so they are really compiled and linked.
pub fn touch() -> usize {
    use alipayplus_sign::{
        ContentSigner, ContentVerifier, PrivateKey, PublicKey, PublicKeys, SignContent,
        SignatureHeader, message,
    };
    use alipayplus_types::{Amount, Api, Currency, PayRequest, ResultStatus};
    let content = SignContent::request("POST", "/aps/api/v1/payments/pay", "C", "T", b"{}");
    let mut total = content.len() + usize::from(content.sha256()[0]);
    if let Ok(parsed) = SignatureHeader::parse("algorithm=RSA256,keyVersion=1,signature=AAAA") {
        total += parsed.signature.len();
    }
    // The RSA backend, through both traits, must be there with default features off.
    if let Ok(key) = PrivateKey::parse(b"") {
        if let Ok(header) = message::sign_request(&key, 1, "POST", "/p", "C", "T", b"{}") {
            total += header.as_str().len();
        }
        let keys = PublicKeys::single(1, key.public_key());
        let headers = [("Signature", b"".as_slice())];
        total += usize::from(message::verify_response(&keys, "POST", "/p", headers, b"").is_ok());
        let signer: &dyn ContentSigner = &key;
        total += usize::from(signer.sign(&content).is_ok());
    }
    if let Ok(public) = PublicKey::parse(b"") {
        let verifier: &dyn ContentVerifier = &public;
        total += usize::from(verifier.verify(&content, &[]).is_ok());
    }
    let amount = Amount::new(Currency::USD, 100);
    let status = ResultStatus::from("S");
    total
        + core::mem::size_of::<alloc::vec::Vec<u8>>()
        + core::mem::size_of::<PayRequest>()
        + PayRequest::PATH.len()
        + usize::from(status.is_success())
        + usize::try_from(amount.minor()).unwrap_or(0)
        + touch_cashier()
        + touch_autodebit()
        + touch_operations()
        + touch_reconcile()
}

/// The reconcile crate's part of [`touch`]: file names, the streaming parser, the matcher.
fn touch_reconcile() -> usize {
    use alipayplus_reconcile::{
        ClearingDate, CycleMatcher, Event, LedgerParser, ReportKind, ReportName, ReportOptions,
        ReportParser,
    };
    let mut total = usize::from(ReportName::parse("summary_P_SGD_B_A_000.csv").is_ok());
    let currency = alipayplus_types::Currency::SGD;
    let options = ReportOptions::default();
    let mut parser = ReportParser::new("t", ReportKind::TransactionItems, currency, options);
    let mut matcher = CycleMatcher::new(ClearingDate::of_unix(0));
    let mut input: &[u8] = b"totalCount\n0\n";
    while let Ok(event) = parser.next(&mut input) {
        match event {
            Event::Row(row) => {
                if let Ok(tx) = row.transaction() {
                    let _ = matcher.report_row("t", &tx);
                }
            }
            Event::NeedInput if !input.is_empty() => {}
            Event::NeedInput => input = b"",
            Event::Summary => {}
            Event::End => break,
        }
    }
    let mut ledger = LedgerParser::new("l");
    total += usize::from(ledger.next(&mut input).is_err());
    total + matcher.finish().findings.len() + parser.buffer_bytes()
}

/// The client core's part of [`touch`]: configuration, inbound handler and tracker without
/// std; and the Cashier request rules.
fn touch_cashier() -> usize {
    use alipayplus_client::client::{ClientConfig, Host};
    use alipayplus_client::time::{TimeFormat, Timestamp};
    use alipayplus_client::tracker::{PaymentTracker, Step, TrackerPolicy};
    use alipayplus_client::transport::Request;
    let now = Timestamp::from_unix_secs(0);
    let mut tracker = PaymentTracker::new("id", now, now, TrackerPolicy::cashier());
    let mut total = usize::from(tracker.next_step(now) == Step::Pay);
    total += now.format(TimeFormat::Utc).len();
    if let (Ok(key), Ok(public)) = (
        alipayplus_sign::PrivateKey::parse(b""),
        alipayplus_sign::PublicKey::parse(b""),
    ) {
        let keys = alipayplus_sign::PublicKeys::single(1, public);
        if let Ok(config) = ClientConfig::new("C", Host::OtherRegions, key, keys, move || now) {
            let request = Request::post("/notify", alloc::vec::Vec::new());
            let handled = alipayplus_client::notify::handle_notify_payment(&config, &request);
            total += usize::from(handled.is_ok());
            total += touch_async(config);
        }
    }
    let consult = alipayplus_types::ConsultPaymentRequest::new(
        alipayplus_types::Amount::new(alipayplus_types::Currency::USD, 1),
        alipayplus_types::PaymentFactor::new(),
    );
    let flags = alipayplus_cashier::cashier::consult_with_cashier_flags(&consult).payment_factor;
    total + usize::from(flags.is_cashier_payment.is_some())
}

/// The async path without std or a runtime: an async closure transport, `call_async` and
/// the async driver's future (built, not polled: building them instantiates every generic).
fn touch_async(config: alipayplus_client::client::ClientConfig) -> usize {
    use alipayplus_client::client::Client;
    use alipayplus_client::driver::{Action, Limit, PaymentFollower};
    use alipayplus_client::inquiry::{PaymentRef, inquiry_request};
    use alipayplus_client::time::Timestamp;
    use alipayplus_client::transport::{Request, Response};
    let transport = |_r: Request| async { Err::<Response, _>(core::fmt::Error) };
    let client = Client::new(config, transport);
    let request = inquiry_request(&PaymentRef::RequestId("id".into()));
    let call = client.call_async(&request);
    let now = || Timestamp::from_unix_secs(0);
    let order = alipayplus_types::Order::new(
        "o".into(),
        "d".into(),
        alipayplus_types::Amount::new(alipayplus_types::Currency::USD, 1),
        alipayplus_types::Merchant::new("m".into()),
    );
    let pay = alipayplus_autodebit::agreement_pay_request(
        "p",
        order.clone(),
        order.order_amount,
        &alipayplus_types::Secret::new("T"),
    );
    let mut size = core::mem::size_of_val(&call);
    if let Ok(mut follower) = alipayplus_autodebit::agreement_follower(&pay, now()) {
        // The machine itself, then the async loop over it.
        if let Action::Send(call) = follower.poll(now()) {
            size += call.body().len() + follower.state().to_bytes().len();
        }
        let run = follower.run_async(&client, Limit::calls(1), |_wait| core::future::ready(()));
        size += core::mem::size_of_val(&run);
    }
    let _ = PaymentFollower::body;
    size
}

/// The Auto Debit crate's part of [`touch`]: binding, redirect, token lifecycle, payment tracker.
fn touch_autodebit() -> usize {
    use alipayplus_autodebit::{AuthState, Binding, TokenDecision, TokenLifecycle, TokenSet};
    use alipayplus_client::time::Timestamp;
    use alipayplus_types::Secret;
    let mut binding = Binding::new(
        "M",
        "https://m.example/r",
        AuthState::from_random_bytes([1; 16]),
    );
    let mut total = usize::from(binding.on_redirect("/r?authCode=C").is_err());
    let now = Timestamp::from_unix_secs(0);
    let life = TokenLifecycle::new(TokenSet::new(Secret::new("T"), None));
    total += usize::from(life.decide(now) == TokenDecision::Use);
    let order = alipayplus_types::Order::new(
        "o".into(),
        "d".into(),
        alipayplus_types::Amount::new(alipayplus_types::Currency::USD, 1),
        alipayplus_types::Merchant::new("m".into()),
    );
    let amount = order.order_amount;
    let request =
        alipayplus_autodebit::agreement_pay_request("p", order, amount, &Secret::new("T"));
    let mut tracker = alipayplus_autodebit::agreement_tracker(&request, now);
    total + usize::from(tracker.next_step(now) == alipayplus_client::tracker::Step::Pay)
}

/// The operations crate's part of [`touch`]: registration follow-up, dispute decision, customs
/// ledger.
fn touch_operations() -> usize {
    use alipayplus_client::time::Timestamp;
    use alipayplus_operations::customs::{DeclarationLedger, inquire_declarations_request};
    use alipayplus_operations::dispute::{Decision, Dispute, decide};
    use alipayplus_operations::registration::{
        RegistrationFollowUp, RegistrationPolicy, RegistrationRef,
        inquiry_registration_status_request,
    };
    use alipayplus_types::{
        Amount, Currency, DateTime, InitiateRetrievalRequest, MerchantRegistrationInfo,
        ProductCode, RegistrationDetail, RegistrationRequest, RegistrationType,
    };
    let now = Timestamp::from_unix_secs(0);
    let mut total = usize::from(
        inquiry_registration_status_request(&RegistrationRef::RequestId("R".into())).is_ok(),
    );
    let detail = RegistrationDetail::new(
        "L".into(),
        RegistrationType::OtherIdentificationNo,
        "N".into(),
    );
    let merchant = MerchantRegistrationInfo::new("M".into(), "5817".into(), detail);
    let request = RegistrationRequest::new(
        "R".into(),
        alloc::vec![ProductCode::InStorePayment],
        merchant,
    );
    total += usize::from(
        RegistrationFollowUp::new(&request, now, RegistrationPolicy::default()).is_ok(),
    );
    if let Ok(time) = DateTime::parse("2025-06-01T00:00:00Z") {
        let body = InitiateRetrievalRequest::new("D".into(), "P".into(), time);
        let dispute = Dispute::retrieval(&body);
        total += usize::from(decide(&dispute, None) == Decision::New);
    }
    if let Ok(ledger) = DeclarationLedger::new("P", Amount::new(Currency::CNY, 1)) {
        total += usize::try_from(ledger.remaining().minor()).unwrap_or(0);
    }
    total + usize::from(inquire_declarations_request(&["D"]).is_ok())
}
