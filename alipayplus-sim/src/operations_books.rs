//! The books of the operations the simulator answers (registration, disputes, customs): the
//! data; what is done with it is in [`crate::operations`].

use std::collections::BTreeMap;

use alipayplus_types::{
    Amount, DeclareRequest, PspRegistrationResult, RegistrationRequest, RegistrationResult,
    RegistrationStatus,
};
use serde::{Deserialize, Serialize};

/// Settings (`PUT /sim/operations/config`, [`crate::Simulator::set_operations_config`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OperationsConfig {
    /// Where notifyRegistrationStatus goes when the registration names no
    /// `registrationNotifyUrl`.
    pub registration_notify_url: Option<String>,
    /// Base URL of the acquirer's dispute endpoint: initiateRetrieval goes to
    /// `{disputeUrl}/initiateRetrieval`, initiateEscalation to `{disputeUrl}/initiateEscalation`.
    pub dispute_url: Option<String>,
}

/// One registration request.
#[derive(Clone, Debug)]
pub(crate) struct Registration {
    pub request: RegistrationRequest,
    pub key: String,
    pub created_at: i64,
    /// Per wallet.
    pub psps: BTreeMap<String, RegistrationStatus>,
}

impl Registration {
    pub(crate) fn overall(&self) -> RegistrationStatus {
        if self
            .psps
            .values()
            .all(|s| *s != RegistrationStatus::Pending)
        {
            RegistrationStatus::Completed
        } else {
            RegistrationStatus::Pending
        }
    }

    pub(crate) fn result(&self) -> (RegistrationResult, Vec<PspRegistrationResult>) {
        let overall = status(self.overall());
        let list = self
            .psps
            .iter()
            .map(|(psp, s)| self.psp_entry(psp, s))
            .collect();
        (overall, list)
    }

    pub(crate) fn psp_entry(&self, psp: &str, s: &RegistrationStatus) -> PspRegistrationResult {
        let mut entry = PspRegistrationResult::new();
        entry.psp_name = Some(psp.to_owned());
        entry.product_codes = Some(self.request.product_codes.clone());
        entry.registration_result = Some(status(s.clone()));
        entry
    }
}

pub(crate) fn status(s: RegistrationStatus) -> RegistrationResult {
    let mut r = RegistrationResult::new();
    r.registration_status = Some(s);
    r
}

/// A dispute opened by the simulated wallet.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeView {
    /// `retrieval` or `escalation`.
    pub kind: String,
    /// Alipay+'s id.
    pub dispute_request_id: String,
    /// The disputed payment.
    pub payment_request_id: String,
    /// Escalations: the amount.
    pub escalation_amount: Option<Amount>,
    /// The acquirer's responseRetrieval / responseEscalation body, once received.
    pub response: Option<serde_json::Value>,
}

/// A declaration.
#[derive(Clone, Debug)]
pub(crate) struct Declaration {
    pub request: DeclareRequest,
    pub psp_declaration_request_id: String,
    pub modified_at: i64,
}

/// The books of these operations.
#[derive(Default)]
pub(crate) struct Books {
    pub config: OperationsConfig,
    /// By registrationRequestId.
    pub registrations: BTreeMap<String, Registration>,
    /// Update key → latest registrationRequestId.
    pub latest: BTreeMap<String, String>,
    /// By disputeRequestId.
    pub disputes: BTreeMap<String, DisputeView>,
    /// By customsDeclarationRequestId.
    pub declarations: BTreeMap<String, Declaration>,
    pub seq: u64,
}
