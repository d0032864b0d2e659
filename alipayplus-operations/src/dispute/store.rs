//! [`MemoryDisputeStore`]: disputes kept in memory, for tests and examples.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use alipayplus_client::client::ClientConfig;
use alipayplus_client::transport::Response;

use super::{Decision, Dispute, DisputeDelivery, DisputeKind, decide};

/// Disputes by kind and `disputeRequestId`, in memory (a real acquirer keeps them in its
/// database and calls [`decide`] itself).
#[derive(Debug, Clone, Default)]
pub struct MemoryDisputeStore {
    disputes: BTreeMap<(DisputeKind, String), Dispute>,
}

/// What [`MemoryDisputeStore::receive`] did with a delivery.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Received {
    /// The decision.
    pub decision: Decision,
    /// The signed answer to send back.
    pub answer: Response,
}

impl Received {
    /// Whether the dispute is new (to act on; duplicates are reported once).
    pub fn is_new(&self) -> bool {
        self.decision == Decision::New
    }
}

impl MemoryDisputeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks up, decides, stores a new dispute, and gives the signed answer.
    pub fn receive(&mut self, config: &ClientConfig, delivery: &DisputeDelivery) -> Received {
        let (kind, id) = delivery.body.dispute.store_key();
        let key = (kind, String::from(id));
        let decision = decide(&delivery.body.dispute, self.disputes.get(&key));
        if decision == Decision::New {
            self.disputes.insert(key, delivery.body.dispute.clone());
        }
        Received {
            answer: delivery.answer.complete(config, decision.verdict()),
            decision,
        }
    }

    /// The stored dispute of this kind and id.
    pub fn get(&self, kind: DisputeKind, dispute_request_id: &str) -> Option<&Dispute> {
        self.disputes.get(&(kind, String::from(dispute_request_id)))
    }

    /// Every stored dispute.
    pub fn all(&self) -> Vec<&Dispute> {
        self.disputes.values().collect()
    }
}
