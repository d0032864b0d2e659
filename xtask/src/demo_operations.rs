//! The operations part of `cargo xtask demo`: `alipayplus-operations` over the ureq transport
//! against the simulator, with an acquirer endpoint for notifyRegistrationStatus,
//! initiateRetrieval and initiateEscalation. Every step checks its outcome; an unexpected one
//! ends the demo with an error.
//!
//! register a merchant (accepted, then each wallet's review arrives by notification and is
//! merged: approved) → a paid payment gets a retrieval (answered with evidence) and an
//! escalation (answered with a partial refund, a refund above the escalation refused before
//! sending) → a paid AlipayCN payment in CNY is declared in two parts (a third part above the
//! declarable amount refused before sending) and the declarations are inquired.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alipayplus_cashier::cashier::{cashier_payment_factor, checked_pay};
use alipayplus_client::client::{Client, ClientConfig, Host};
use alipayplus_client::inquiry::{PaymentRef, inquiry_request};
use alipayplus_client::time::{Clock, SystemClock};
use alipayplus_client::transport::{Request, Response};
use alipayplus_operations::customs::{
    DeclarationLedger, checked_declare, declarable_amount, inquire_declarations_request,
};
use alipayplus_operations::dispute::{
    Decision, Dispute, DisputeKind, MemoryDisputeStore, checked_response_escalation,
    checked_response_retrieval, handle_initiate_escalation, handle_initiate_retrieval,
};
use alipayplus_operations::registration::{
    Action as RegistrationAction, Final, RegistrationApi, RegistrationEvent, RegistrationFollowUp,
    RegistrationPolicy, handle_notify_registration_status,
};
use alipayplus_reconcile::LedgerRecord;
use alipayplus_sign::PublicKeys;
use alipayplus_sim::{OpenDispute, OperationsConfig, Simulator, keys};
use alipayplus_types::{
    Amount, Attachment, AttachmentType, BusinessType, ContactInfo, ContactType, Currency,
    CustomsInfo, DeclareRequest, Env, Merchant, MerchantCustomsInfo, MerchantRegistrationInfo,
    Order, OrderStatus, PayRequest, PaymentMethod, ProductCode, ProofOfDelivery, RefundType,
    RegistrationDetail, RegistrationRequest, RegistrationType, ResponseEscalationRequest,
    ResponseRetrievalRequest, StrBool, TerminalType, TransactionReceipt, Website, WebsiteType,
};
use alipayplus_ureq::UreqTransport;

/// What the acquirer endpoint received (registration events with `client_id_is_ours`).
#[derive(Default)]
struct Inbox {
    registrations: Vec<(RegistrationEvent, bool)>,
    disputes: MemoryDisputeStore,
}

type Shared = Arc<Mutex<Inbox>>;

fn config(sim: &Simulator) -> Result<ClientConfig, String> {
    let key = keys::acqp_private_key().map_err(|e| e.to_string())?;
    let public = keys::sim_public_key().map_err(|e| e.to_string())?;
    let host = Host::custom(sim.base_url()).map_err(|e| e.to_string())?;
    ClientConfig::new(
        sim.client_id(),
        host,
        key,
        PublicKeys::single(1, public),
        SystemClock,
    )
    .map_err(|e| e.to_string())
}

fn step(n: &str, what: &str, detail: impl std::fmt::Display) {
    println!("[{n:>3}] {what:<26} {detail}");
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected: {what}"))
    }
}

/// The acquirer's endpoint on a loopback port; returns its base URL.
fn start_endpoint(sim: &Simulator, inbox: Shared) -> Result<String, String> {
    let config = crate::demo_endpoint::inbound(config(sim)?)?;
    crate::demo_endpoint::start(move |request| answer(&config, &request, &inbox))
}

fn answer(config: &ClientConfig, request: &Request, inbox: &Shared) -> Response {
    let api = request.path().rsplit('/').next().unwrap_or_default();
    let Ok(mut inbox) = inbox.lock() else {
        return Response::new(500, Vec::new());
    };
    if api == "notifyRegistrationStatus" {
        return match handle_notify_registration_status(config, request) {
            Ok(n) => {
                let psp = n.body.event.psp_statuses.first();
                step(
                    "",
                    "notifyRegistrationStatus",
                    format!(
                        "{} {} (signature verified, signed ack sent{})",
                        psp.map_or("-", |p| p.psp_name.as_str()),
                        psp.and_then(|p| p.status.as_ref())
                            .map_or("-", |s| s.as_str()),
                        foreign_note(n.client_id_is_ours)
                    ),
                );
                inbox
                    .registrations
                    .push((n.body.event, n.client_id_is_ours));
                n.answer
            }
            Err(r) => r.answer,
        };
    }
    let delivery = match api {
        "initiateRetrieval" => handle_initiate_retrieval(config, request),
        _ => handle_initiate_escalation(config, request),
    };
    match delivery {
        Ok(d) => {
            let received = inbox.disputes.receive(config, &d);
            let decision = match &received.decision {
                Decision::New => "new",
                Decision::Duplicate => "duplicate",
                _ => "conflict",
            };
            step(
                "",
                &format!("{api} received"),
                format!(
                    "{} for {} ({decision}; signed answer sent{})",
                    d.body.dispute.dispute_request_id,
                    d.body.dispute.payment_request_id,
                    foreign_note(d.client_id_is_ours)
                ),
            );
            received.answer
        }
        Err(r) => r.answer,
    }
}

fn foreign_note(client_id_is_ours: bool) -> &'static str {
    if client_id_is_ours {
        ""
    } else {
        "; Client-Id NOT ours, reported"
    }
}

/// Waits (at most 10 s) until `done` holds.
fn wait(what: &str, mut done: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("{what} did not arrive within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn registration(endpoint: &str) -> RegistrationRequest {
    let mut detail = RegistrationDetail::new(
        "Demo Merchant Pte. Ltd.".into(),
        RegistrationType::EnterpriseRegistrationNo,
        "202412345K".into(),
    );
    detail.business_type = Some(BusinessType::Enterprise);
    detail.contact_info = Some(vec![ContactInfo {
        contact_type: Some(ContactType::Email),
        ..ContactInfo::new("ops@demo-merchant.example".into())
    }]);
    let mut merchant = MerchantRegistrationInfo::new("M-DEMO-0001".into(), "5817".into(), detail);
    merchant.merchant_display_name = Some("Demo Shop".into());
    merchant.websites = Some(vec![Website {
        website_type: Some(WebsiteType::Web),
        ..Website::new("https://demo-merchant.example".into())
    }]);
    let mut request = RegistrationRequest::new(
        "REG-DEMO-0001".into(),
        vec![ProductCode::CashierPayment],
        merchant,
    );
    request.registration_notify_url = Some(format!("{endpoint}/acqp/notifyRegistrationStatus"));
    request
}

fn register(
    sim: &Simulator,
    client: &Client<UreqTransport>,
    inbox: &Shared,
    endpoint: &str,
) -> Result<(), String> {
    let request = registration(endpoint);
    let mut follow =
        RegistrationFollowUp::new(&request, SystemClock.now(), RegistrationPolicy::default())
            .map_err(|e| e.to_string())?;
    // The machine's poll marks the registration sent before it returns it (store the
    // follow-up then, in an application), and the answer goes back typed.
    let sent_at = SystemClock.now();
    let RegistrationAction::Send(call) = follow.poll(sent_at) else {
        return Err("the follow-up does not start with registration".into());
    };
    check(
        call.api() == RegistrationApi::Registration && follow.is_sent(),
        "the registration was not marked sent before it left",
    )?;
    follow
        .send(client, &call, sent_at)
        .map_err(|e| e.to_string())?;
    check(follow.is_accepted(), "registration was not accepted")?;
    step("O1", "registration", "S: accepted (not yet approved)");
    let inquiry = client
        .call(&follow.inquiry_request())
        .map_err(|e| e.to_string())?;
    follow.on_inquiry(SystemClock.now().into(), &inquiry);
    let overall = follow
        .overall()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    check(overall == "PENDING", "the inquiry does not say PENDING")?;
    step(
        "O2",
        "inquiryRegistrationStatus",
        format!(
            "{overall}, {} wallets reviewing",
            follow.psp_statuses().len()
        ),
    );

    let wallets = sim
        .review_registration("REG-DEMO-0001", None, true)
        .map_err(|e| e.to_string())?;
    step(
        "O3",
        "wallets review (simulated)",
        format!("{} approve", wallets.join(", ")),
    );
    let expected = wallets.len();
    wait("every approval notification", || {
        inbox
            .lock()
            .map(|i| i.registrations.len() >= expected)
            .unwrap_or(false)
    })?;
    let events = inbox
        .lock()
        .map_err(|e| e.to_string())?
        .registrations
        .clone();
    for (event, client_id_is_ours) in &events {
        // A call for another Client-Id (only reported with ALIPAYPLUS_FOREIGN_CLIENT_ID=report)
        // is not folded into our registration.
        if *client_id_is_ours {
            follow.on_notification(SystemClock.now(), event);
        }
    }
    check(
        follow.final_state() == Some(&Final::Completed),
        "the registration is not complete",
    )?;
    for w in &wallets {
        check(
            follow.is_approved_by(w, &ProductCode::CashierPayment),
            "a wallet did not approve",
        )?;
    }
    step(
        "O4",
        "registration follow-up",
        format!(
            "COMPLETED: approved by {} (notifications merged)",
            wallets.join(" and ")
        ),
    );
    Ok(())
}

fn paid(
    sim: &Simulator,
    client: &Client<UreqTransport>,
    id: &str,
    amount: Amount,
    wallet: &str,
) -> Result<(), String> {
    let order = Order {
        env: Some(Env::new(TerminalType::Web)),
        ..Order::new(
            format!("ORDER-{id}"),
            "Demo order".into(),
            amount,
            Merchant::new("M-DEMO-0001".into()),
        )
    };
    let mut pay = PayRequest::new(
        id.into(),
        order,
        amount,
        PaymentMethod::new(wallet.into()),
        cashier_payment_factor(None),
    );
    pay.payment_redirect_url = Some("https://demo-merchant.example/return".into());
    let pay = checked_pay(&pay).map_err(|e| e.to_string())?;
    let outcome = client.call(&pay).map_err(|e| e.to_string())?;
    check(outcome.is_unknown(), "pay did not wait for the shopper")?;
    sim.approve(id).map_err(|e| e.to_string())?;
    Ok(())
}

fn stored(inbox: &Shared, kind: DisputeKind, id: &str) -> Result<Dispute, String> {
    wait("the dispute", || {
        inbox
            .lock()
            .map(|i| i.disputes.get(kind, id).is_some())
            .unwrap_or(false)
    })?;
    inbox
        .lock()
        .map_err(|e| e.to_string())?
        .disputes
        .get(kind, id)
        .cloned()
        .ok_or_else(|| "the dispute was not stored".into())
}

fn disputes(sim: &Simulator, client: &Client<UreqTransport>, inbox: &Shared) -> Result<(), String> {
    let amount = Amount::new(Currency::USD, 2500);
    paid(sim, client, "PAY-DEMO-DSP-1", amount, "SIMWALLET")?;
    step("O5", "a paid payment", "PAY-DEMO-DSP-1, USD 25.00");
    let opened = sim
        .open_dispute(&OpenDispute {
            kind: "retrieval".into(),
            payment_request_id: "PAY-DEMO-DSP-1".into(),
            escalation_amount: None,
            dispute_request_id: None,
        })
        .map_err(|e| e.to_string())?;
    let retrieval = stored(inbox, DisputeKind::Retrieval, &opened.dispute_request_id)?;
    let mut answer =
        ResponseRetrievalRequest::new(retrieval.dispute_request_id.clone(), OrderStatus::Success);
    answer.transaction_receipt = Some(TransactionReceipt {
        reference_order_id: Some("ORDER-PAY-DEMO-DSP-1".into()),
        order_amount: Some(amount),
        order_status: Some(OrderStatus::Success),
        ..TransactionReceipt::new()
    });
    answer.proof_of_delivery = Some(ProofOfDelivery {
        delivery_tracking_no: Some("TRACK-0001".into()),
        ..ProofOfDelivery::new()
    });
    answer.other_documentation = Some(vec![Attachment {
        attachment_name: Some("delivery-receipt.pdf".into()),
        content: Some("https://demo-merchant.example/evidence/delivery-receipt.pdf".into()),
        content_type: Some("application/pdf".into()),
        ..Attachment::new(AttachmentType::ProofOfDelivery)
    }]);
    let answer = checked_response_retrieval(&answer, &retrieval).map_err(|e| e.to_string())?;
    let outcome = client.call(&answer).map_err(|e| e.to_string())?;
    check(outcome.is_success(), "responseRetrieval was not accepted")?;
    step(
        "O6",
        "responseRetrieval",
        "S: receipt, tracking number and a document sent",
    );

    let opened = sim
        .open_dispute(&OpenDispute {
            kind: "escalation".into(),
            payment_request_id: "PAY-DEMO-DSP-1".into(),
            escalation_amount: Some(Amount::new(Currency::USD, 1500)),
            dispute_request_id: None,
        })
        .map_err(|e| e.to_string())?;
    let escalation = stored(inbox, DisputeKind::Escalation, &opened.dispute_request_id)?;
    let mut decision = ResponseEscalationRequest::new(
        escalation.dispute_request_id.clone(),
        RefundType::AcceptPartialRefund,
    );
    decision.refund_amount = Some(Amount::new(Currency::USD, 1600));
    let refused = checked_response_escalation(&decision, &escalation, amount.currency);
    check(
        refused.is_err(),
        "a refund above the escalation amount was let through",
    )?;
    step(
        "O7",
        "responseEscalation 16.00",
        "refused before sending: above the escalation amount 15.00",
    );
    decision.refund_amount = Some(Amount::new(Currency::USD, 1000));
    decision.remarks = Some("One item was not delivered".into());
    let decision = checked_response_escalation(&decision, &escalation, amount.currency)
        .map_err(|e| e.to_string())?;
    let outcome = client.call(&decision).map_err(|e| e.to_string())?;
    check(outcome.is_success(), "responseEscalation was not accepted")?;
    step(
        "O8",
        "responseEscalation",
        "S: ACCEPT_PARTIAL_REFUND USD 10.00",
    );
    Ok(())
}

fn declaration(id: &str, order: &str, value: u64) -> DeclareRequest {
    let mut r = DeclareRequest::new(
        "PAY-DEMO-CN-1".into(),
        id.into(),
        CustomsInfo::new("HANGZHOU".into(), "CN".into()),
        MerchantCustomsInfo::new("MCC330100001".into(), "Demo Cross-border Ltd".into()),
        Amount::new(Currency::CNY, value),
        StrBool(true),
    );
    r.reference_order_id = Some(order.into());
    r
}

fn customs(sim: &Simulator, client: &Client<UreqTransport>) -> Result<(), String> {
    paid(
        sim,
        client,
        "PAY-DEMO-CN-1",
        Amount::new(Currency::CNY, 20_000),
        "ALIPAY_CN",
    )?;
    let inquiry = client
        .call(&inquiry_request(&PaymentRef::RequestId(
            "PAY-DEMO-CN-1".into(),
        )))
        .map_err(|e| e.to_string())?;
    let limit = declarable_amount(
        inquiry
            .body()
            .ok_or("inquiryPayment gave no verified answer")?,
    )
    .map_err(|e| e.to_string())?;
    step(
        "O9",
        "a paid AlipayCN payment",
        format!(
            "PAY-DEMO-CN-1, customsDeclarationAmount CNY {}",
            limit.to_major_string().unwrap_or_default()
        ),
    );
    let mut ledger = DeclarationLedger::new("PAY-DEMO-CN-1", limit).map_err(|e| e.to_string())?;
    for (n, (id, order, value)) in [
        ("DCL-DEMO-1", "ORD-DEMO-1", 12_000),
        ("DCL-DEMO-2", "ORD-DEMO-2", 8_000),
    ]
    .into_iter()
    .enumerate()
    {
        let request = declaration(id, order, value);
        let sent_at = SystemClock.now();
        // Checked and recorded before it leaves: a lost answer keeps the amount counted.
        ledger
            .record_send(&request, sent_at)
            .map_err(|e| e.to_string())?;
        let outcome = client
            .call(&checked_declare(&request).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        ledger.on_declare_outcome(&request, sent_at, SystemClock.now(), &outcome);
        check(outcome.is_success(), "declare was not accepted")?;
        step(
            &format!("O1{n}"),
            "declare (split)",
            format!(
                "{id}: CNY {}, declared total CNY {}",
                Amount::new(Currency::CNY, value)
                    .to_major_string()
                    .unwrap_or_default(),
                ledger.total().to_major_string().unwrap_or_default()
            ),
        );
    }
    let over = ledger.check(&declaration("DCL-DEMO-3", "ORD-DEMO-3", 100));
    check(
        over.is_err(),
        "a declaration above customsDeclarationAmount was let through",
    )?;
    step(
        "O12",
        "declare 1.00 more",
        "refused before sending: above customsDeclarationAmount",
    );
    sim.advance_clock(Duration::from_secs(2));
    let ask =
        inquire_declarations_request(&["DCL-DEMO-1", "DCL-DEMO-2"]).map_err(|e| e.to_string())?;
    let asked_at = SystemClock.now();
    let outcome = client.call(&ask).map_err(|e| e.to_string())?;
    ledger.on_inquiry_outcome(asked_at, SystemClock.now(), &outcome);
    check(
        ledger.total().minor() == 20_000 && ledger.unsettled_ids().is_empty(),
        "the inquiry did not leave the declared total at CNY 200.00, settled",
    )?;
    let records = outcome
        .body()
        .and_then(|b| b.declaration_records.clone())
        .unwrap_or_default();
    check(
        records.len() == 2,
        "the inquiry did not return both declarations",
    )?;
    let statuses: Vec<String> = records
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.customs_declaration_request_id.as_deref().unwrap_or("-"),
                r.declaration_request_status
                    .as_ref()
                    .map_or("-", |s| s.as_str())
            )
        })
        .collect();
    check(
        statuses
            .iter()
            .all(|s| s.ends_with("CUSTOMS_ACCEPT_SUCCESS")),
        "customs did not accept",
    )?;
    step("O13", "inquireDeclarationRequests", statuses.join(", "));
    Ok(())
}

/// A correctly signed initiateRetrieval for another Client-Id: refused (signed
/// `INVALID_CLIENT`) and not stored, unless `ALIPAYPLUS_FOREIGN_CLIENT_ID=report`.
fn foreign_client_id(endpoint: &str, inbox: &Shared) -> Result<(), String> {
    let body = r#"{"disputeRequestId":"DSP-DEMO-FOREIGN","paymentRequestId":"PAY-DEMO-FOREIGN","disputeOccurTime":"2025-06-03T10:00:00+08:00"}"#;
    let code = crate::demo_endpoint::foreign_call(
        &format!("{endpoint}/acqp/initiateRetrieval"),
        "/acqp/initiateRetrieval",
        body,
    )?;
    let stored = inbox
        .lock()
        .map(|i| {
            i.disputes
                .get(DisputeKind::Retrieval, "DSP-DEMO-FOREIGN")
                .is_some()
        })
        .unwrap_or(false);
    if crate::demo_endpoint::refuses_foreign() {
        check(
            code == "INVALID_CLIENT" && !stored,
            "a call signed for another Client-Id was not refused",
        )?;
        step(
            "O0",
            "foreign Client-Id",
            "signed for another Client-Id: refused INVALID_CLIENT (ALIPAYPLUS_FOREIGN_CLIENT_ID=report to report)",
        );
    } else {
        check(
            code == "SUCCESS",
            "a reported foreign Client-Id was not accepted",
        )?;
        step(
            "O0",
            "foreign Client-Id",
            "accepted and reported (ALIPAYPLUS_FOREIGN_CLIENT_ID=report)",
        );
    }
    Ok(())
}

/// Runs the operations demo against `sim`; its paid payments are added to `ledger` (the day's
/// reconciliation that follows expects every payment in the acquirer's records).
pub fn run(sim: &Simulator, ledger: &mut Vec<LedgerRecord>) -> Result<(), String> {
    step(
        "OP",
        "Operations",
        "registration, disputes, customs (merchant M-DEMO-0001)",
    );
    let inbox = Shared::default();
    let endpoint = start_endpoint(sim, inbox.clone())?;
    sim.set_operations_config(OperationsConfig {
        registration_notify_url: None,
        dispute_url: Some(format!("{endpoint}/acqp")),
    });
    let client = Client::new(config(sim)?, UreqTransport::new());
    foreign_client_id(&endpoint, &inbox)?;
    register(sim, &client, &inbox, &endpoint)?;
    disputes(sim, &client, &inbox)?;
    ledger.push(crate::demo_ledger::paid_record(&client, "PAY-DEMO-DSP-1")?);
    customs(sim, &client)?;
    ledger.push(crate::demo_ledger::paid_record(&client, "PAY-DEMO-CN-1")?);
    check(
        sim.wait_notifications_idle(Duration::from_secs(10)),
        "notifications still pending",
    )?;
    check(
        sim.notifications().iter().all(|n| n.acknowledged),
        "a notification was not acknowledged",
    )?;
    Ok(())
}
