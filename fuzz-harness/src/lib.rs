//! The bodies of the fuzz targets: one function per parser of untrusted input.
//!
//! Each function takes the fuzzer's bytes, builds its input (raw bytes, or a structured input
//! decoded with [`arbitrary`]), runs one parser and asserts its invariants: never a panic, and
//! what the parser accepts is consistent (a `Signature` header that parses formats back to
//! the same value; a verified inbound call's answer is a well-formed signed acknowledgement;
//! a report read in one piece or in chunks gives the same rows; ...). A broken invariant is a
//! panic, which libFuzzer reports as a crash.
//!
//! The cargo-fuzz crate in `fuzz/` (nightly, its own workspace) calls these functions from
//! its targets; `tests/replay.rs` calls them on every file of the committed corpus and
//! regressions on the stable toolchain, so `cargo test --workspace` re-checks every past
//! finding. [`TARGETS`] is the one list both sides follow.
//!
//! Adding a target for a new parser (e.g. an `alipayplus-operations` inbound handler):
//! write `pub fn x(data: &[u8])` in the module of its crate (inbound handlers: reuse
//! [`inbound::InboundInput`] and [`inbound::check_refusal`] / [`inbound::check_accepted`]),
//! add `("x", module::x)` to [`TARGETS`], and copy `fuzz/fuzz_targets/signature_header.rs` to
//! `fuzz/fuzz_targets/x.rs` with its `[[bin]]` entry in `fuzz/Cargo.toml`.

pub mod autodebit;
pub mod inbound;
pub mod json;
pub mod operations;
pub mod reconcile;
pub mod response;
pub mod sign;
pub mod state;

/// A harness function: the fuzzer's bytes in, a panic on a broken invariant.
pub type Harness = fn(&[u8]);

/// Every target: its name (the cargo-fuzz target and the corpus folder) and its function.
pub const TARGETS: &[(&str, Harness)] = &[
    ("signature_header", sign::signature_header),
    ("private_key", sign::private_key),
    ("public_key", sign::public_key),
    ("signature_verify", sign::signature_verify),
    ("read_response", response::read_response),
    ("request_path", inbound::request_path),
    ("notify_payment", inbound::notify_payment),
    ("auth_notify", inbound::auth_notify),
    ("consult_unbinding", inbound::consult_unbinding),
    (
        "notify_registration_status",
        operations::notify_registration_status,
    ),
    ("initiate_retrieval", operations::initiate_retrieval),
    ("initiate_escalation", operations::initiate_escalation),
    ("autodebit_redirect", autodebit::redirect),
    ("report", reconcile::report),
    ("report_name", reconcile::report_name),
    ("ledger", reconcile::ledger),
    ("report_place", reconcile::report_place),
    ("reconcile_job", reconcile::reconcile_job),
    ("stored_state", state::stored_state),
];

/// The harness function of the target `name`.
pub fn target(name: &str) -> Option<Harness> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}
