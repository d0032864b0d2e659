//! The shop's checkout against Alipay+ simulated on loopback (`alipayplus-sim` as a
//! dev-dependency), as a downstream project tests its integration: a Cashier payment the
//! shopper approves, its notification verified and acknowledged, the result inquired.

use std::sync::mpsc;
use std::time::Duration;

use alipayplus_cashier::SystemClock;
use alipayplus_cashier::cashier;
use alipayplus_cashier::check_notification;
use alipayplus_cashier::{ClientConfig, Host};
use alipayplus_cashier::{Headers, Request};
use alipayplus_cashier::{PaymentRef, inquiry_request};
use alipayplus_sim::{DeliveryOutcome, Simulator};
use alipayplus_types::{Amount, Currency, NotifyPaymentRequest, ResultStatus};

fn config(sim: &Simulator) -> ClientConfig {
    ClientConfig::new(
        sim.client_id(),
        Host::custom(sim.base_url()).unwrap(),
        sim.acqp_private_key().unwrap(),
        sim.verifying_keys(),
        SystemClock,
    )
    .unwrap()
}

/// The shop's notify endpoint on loopback: the handler of `src/lib.rs` behind a small HTTP
/// server; verified notifications go to the channel. Stops 2 s after the last request.
fn notify_endpoint(config: ClientConfig) -> (String, mpsc::Receiver<NotifyPaymentRequest>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alipayplus/notify", server.server_addr());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(Some(mut http)) = server.recv_timeout(Duration::from_secs(2)) {
            let mut body = Vec::new();
            std::io::Read::read_to_end(http.as_reader(), &mut body).unwrap();
            let mut headers = Headers::new();
            for h in http.headers() {
                headers.append(h.field.as_str().as_str(), h.value.as_str());
            }
            let method = http.method().to_string();
            let uri = http.url().to_owned();
            let request = Request {
                method,
                uri,
                headers,
                body,
            };
            let (notification, answer) =
                alipayplus_downstream_example::on_notify_payment(&config, &request);
            if let Some(n) = notification {
                let _ = tx.send(n);
            }
            let mut response =
                tiny_http::Response::from_data(answer.body).with_status_code(answer.status);
            for (name, value) in answer.headers.iter() {
                response.add_header(tiny_http::Header::from_bytes(name, value).unwrap());
            }
            let _ = http.respond(response);
        }
    });
    (url, rx)
}

#[test]
fn a_cashier_payment_is_approved_notified_and_inquired() {
    let sim = Simulator::start_bundled().unwrap();
    let (notify_url, notifications) = notify_endpoint(config(&sim));
    let client = alipayplus_downstream_example::client(config(&sim));
    let amount = Amount::new(Currency::USD, 1_999);
    let order =
        alipayplus_downstream_example::pay_request("1001", amount, "SIMWALLET", &notify_url);

    // pay: in process, with the page to send the shopper to.
    let paid = client.call(&cashier::checked_pay(&order).unwrap()).unwrap();
    assert!(paid.is_unknown(), "{paid:?}");
    assert_eq!(paid.code(), Some("PAYMENT_IN_PROCESS"));
    let page = paid
        .body()
        .and_then(|b| b.normal_url.clone().or(b.payment_url.clone()));
    assert!(page.is_some_and(|url| url.starts_with(sim.base_url())));

    // The shopper approves; Alipay+ notifies the shop, which verifies and acknowledges.
    sim.approve("1001").unwrap();
    let notification = notifications.recv_timeout(Duration::from_secs(10)).unwrap();
    check_notification(&notification, "1001", &amount).unwrap();
    assert_eq!(
        notification.payment_result.result_status,
        ResultStatus::Success
    );
    assert!(sim.wait_notifications_idle(Duration::from_secs(5)));
    let deliveries = sim.deliveries();
    assert!(
        deliveries
            .iter()
            .any(|d| d.outcome == DeliveryOutcome::Acknowledged),
        "{deliveries:?}"
    );

    // The result, asked again.
    let inquiry = client
        .call(&inquiry_request(&PaymentRef::RequestId("1001".into())))
        .unwrap();
    assert!(inquiry.is_success(), "{inquiry:?}");
    let result = inquiry
        .body()
        .and_then(|b| b.payment_result.as_ref())
        .unwrap();
    assert_eq!(result.result_status, ResultStatus::Success);
}

#[test]
fn a_declined_payment_is_notified_as_failed() {
    let sim = Simulator::start_bundled().unwrap();
    let (notify_url, notifications) = notify_endpoint(config(&sim));
    let client = alipayplus_downstream_example::client(config(&sim));
    let amount = Amount::new(Currency::USD, 500);
    let order =
        alipayplus_downstream_example::pay_request("1002", amount, "SIMWALLET", &notify_url);
    assert!(
        client
            .call(&cashier::checked_pay(&order).unwrap())
            .unwrap()
            .is_unknown()
    );

    sim.decline("1002", "USER_BALANCE_NOT_ENOUGH").unwrap();
    let notification = notifications.recv_timeout(Duration::from_secs(10)).unwrap();
    check_notification(&notification, "1002", &amount).unwrap();
    assert_eq!(
        notification.payment_result.result_status,
        ResultStatus::Failure
    );
    assert_eq!(
        notification.payment_result.code_str(),
        "USER_BALANCE_NOT_ENOUGH"
    );
}
