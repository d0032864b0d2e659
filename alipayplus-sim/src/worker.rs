//! The simulator's background worker: closes what is due (expired payments, Auto Debit
//! payments whose time in process is over) and delivers the due notifications.

use std::time::Duration;

use crate::acqp;
use crate::notify;
use crate::state::{Shared, lock};

/// The notifier thread: delivers due notifications and closes expired payments.
pub(crate) fn run(shared: &Shared) {
    let agent = acqp::agent(shared.notify_timeout);
    while !shared.is_stopping() {
        sweep_expired(shared);
        if let Some(job) = shared.notify.next(Duration::from_millis(100)) {
            let signed = !job.bad_signature;
            let outcome = notify::deliver(shared, &agent, &job);
            shared.notify.finish(job, outcome, signed);
        }
    }
}

/// Closes in-process payments whose expiry has passed and queues their notifications.
pub(crate) fn sweep_expired(shared: &Shared) {
    crate::autodebit::settle_due(shared);
    let now = shared.clock.now_secs();
    let expired: Vec<String> = {
        let mut store = lock(&shared.store);
        store
            .payments
            .values_mut()
            .filter_map(|p| p.expire_if_due(now).then(|| p.payment_request_id.clone()))
            .collect()
    };
    for id in expired {
        crate::notify::payment_final(shared, &id);
    }
}
