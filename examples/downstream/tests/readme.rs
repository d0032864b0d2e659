//! The test alipayplus-sim's README shows, as it is there: a downstream project's whole test
//! of a Cashier payment against the simulator. (The notify URL is a closed loopback port: this
//! test does not answer notifications; tests/checkout.rs does.)

use alipayplus_cashier::SystemClock;
use alipayplus_cashier::cashier;
use alipayplus_cashier::{Client, ClientConfig, Host};
use alipayplus_cashier::{PaymentRef, inquiry_request};
use alipayplus_sim::Simulator;
use alipayplus_types::{Amount, Currency, ResultStatus};
use alipayplus_ureq::UreqTransport;

#[test]
fn the_shopper_pays() {
    let sim = Simulator::start_bundled().unwrap(); // Alipay+ on a free port of 127.0.0.1
    let key = sim.acqp_private_key().unwrap();
    let host = Host::custom(sim.base_url()).unwrap();
    let config = ClientConfig::new(
        sim.client_id(),
        host,
        key,
        sim.verifying_keys(),
        SystemClock,
    );
    let client = Client::new(config.unwrap(), UreqTransport::new());
    let amount = Amount::new(Currency::USD, 1_999);
    let order = my_shop::pay_request("1001", amount, "SIMWALLET", "http://127.0.0.1:9/notify");
    let paid = client.call(&cashier::checked_pay(&order).unwrap()).unwrap();
    assert_eq!(paid.code(), Some("PAYMENT_IN_PROCESS")); // the shopper is sent to the wallet
    sim.approve("1001").unwrap(); // the shopper pays (sim.decline, sim.add_fault, ... too)
    let by_id = PaymentRef::RequestId("1001".into());
    let asked = client.call(&inquiry_request(&by_id)).unwrap();
    let result = asked.body().unwrap().payment_result.as_ref().unwrap();
    assert_eq!(result.result_status, ResultStatus::Success);
}

/// The shop's own code under test (this example's `src/lib.rs`).
mod my_shop {
    pub use alipayplus_downstream_example::pay_request;
}

/// alipayplus-sim's README shows the test above as it is here (imports to closing brace).
#[test]
fn the_simulator_readme_shows_this_test() {
    let this = include_str!("readme.rs");
    let start = this.find("use alipayplus_cashier::SystemClock;").unwrap();
    let end = this.find("/// The shop's own code").unwrap();
    let readme = include_str!("../../../alipayplus-sim/README.md");
    assert!(
        readme.contains(this[start..end].trim_end()),
        "alipayplus-sim/README.md must show tests/readme.rs as it is"
    );
}
