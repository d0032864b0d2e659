//! The settlement reports over the control API: a paid and refunded payment lands in the
//! files of its clearing cycle; planted discrepancies change the written rows.

mod common;

use common::*;
use serde_json::json;

const PAY: &str = "/aps/api/v1/payments/pay";
const REFUND: &str = "/aps/api/v1/payments/refund";

#[test]
fn reports_over_the_control_api() {
    let sim = sim();
    let acqp = Acqp::new(&sim);
    acqp.call(PAY, &pay_body("REP-1", 1000, None));
    let (status, _) = acqp.control("POST", "/sim/shopper/approve", Some(json!({"id": "REP-1"})));
    assert_eq!(status, 200);
    let refund = acqp.call(
        REFUND,
        &json!({"paymentRequestId": "REP-1", "refundRequestId": "REP-R1",
                "refundAmount": {"currency": "USD", "value": "250"}}),
    );
    assert_eq!(refund.status_letter(), "S");
    let dir = std::env::temp_dir().join(format!("sim-reports-http-{}", std::process::id()));
    let (status, out) = acqp.control(
        "POST",
        "/sim/reports",
        Some(
            json!({"dir": dir, "changeAmount": [{"transactionRequestId": "REP-1", "value": 999}]}),
        ),
    );
    assert_eq!(status, 200, "{out}");
    let files = out["files"].as_array().unwrap();
    // Payment and refund on one day, or on two if the test ran across midnight UTC+8.
    assert!(files.len() == 4 || files.len() == 8, "{out}");
    assert_eq!(out["rows"], 2);
    let details: String = files
        .iter()
        .filter_map(|f| f.as_str())
        .filter(|f| f.starts_with("transactionItems_"))
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect();
    assert!(details.contains(",REP-1,,PAYMENT,"), "{details}");
    assert!(details.contains(",999,USD,999,USD,"), "{details}");
    assert!(details.contains(",REP-R1,REP-1,REFUND,"), "{details}");
    assert!(details.contains(",-250,USD,-250,USD,"), "{details}");
    let (status, _) = acqp.control(
        "POST",
        "/sim/reports",
        Some(json!({"dir": dir, "nonsense": 1})),
    );
    assert_eq!(status, 400);
    let _ = std::fs::remove_dir_all(&dir);
}
