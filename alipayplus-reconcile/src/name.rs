//! Report file names (reconcile.md §2): `<kind>_<participantId>_<CCY>_<batchId>_<participantAgreementId>_<NNN>.csv`.
//!
//! Ids may contain `_` (UNCERTAIN in the spec), so the name is anchored on the known prefix,
//! a 3-letter currency and the 3-digit suffix. When the middle still splits in several ways,
//! one rule breaks the tie: the sample names an agreement id that is the participant id
//! followed by the currency (`1022188000000000001SGD`), so a split where that holds wins
//! (UNCERTAIN: drawn from the illustrative sample). Otherwise the name is
//! [`Error::AmbiguousReportName`].

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use alipayplus_types::Currency;

use crate::Error;
use crate::error::echo;

/// Which of the four reports a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReportKind {
    /// Transaction Detail Report (`transactionItems_`, clearing).
    TransactionItems,
    /// Fee Report (`feeItems_`, clearing).
    FeeItems,
    /// Transaction Summary Report (`summary_`, clearing).
    Summary,
    /// Settlement Report (`settlement_`, settlement; its batch id is a settlementBatchId).
    Settlement,
}

impl ReportKind {
    /// Every kind, in file-name prefix order.
    pub const ALL: [ReportKind; 4] = [
        ReportKind::TransactionItems,
        ReportKind::FeeItems,
        ReportKind::Summary,
        ReportKind::Settlement,
    ];

    /// The file-name prefix without the `_`, e.g. `"transactionItems"`.
    pub fn prefix(self) -> &'static str {
        match self {
            ReportKind::TransactionItems => "transactionItems",
            ReportKind::FeeItems => "feeItems",
            ReportKind::Summary => "summary",
            ReportKind::Settlement => "settlement",
        }
    }

    /// Whether the report belongs to a clearing cycle (all but the Settlement Report).
    pub fn is_clearing(self) -> bool {
        self != ReportKind::Settlement
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// A parsed report file name.
///
/// ```
/// use alipayplus_reconcile::{ReportKind, ReportName};
/// let name = ReportName::parse(
///     "transactionItems_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv",
/// )
/// .unwrap();
/// assert_eq!(name.kind, ReportKind::TransactionItems);
/// assert_eq!(name.participant_id, "1022188000000000001");
/// assert_eq!(name.currency.as_str(), "SGD");
/// assert_eq!(name.batch_id, "20250601");
/// assert_eq!(name.agreement_id, "1022188000000000001SGD");
/// assert_eq!(name.seq, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportName {
    /// Which report.
    pub kind: ReportKind,
    /// Alipay+-assigned id of the ACQP.
    pub participant_id: String,
    /// The contract settlement currency.
    pub currency: Currency,
    /// clearingBatchId (clearing reports) or settlementBatchId (Settlement Report).
    pub batch_id: String,
    /// participantAgreementId.
    pub agreement_id: String,
    /// File index within the cycle, `000`–`999`.
    pub seq: u16,
}

/// One way to split the middle of a name.
struct Split<'a> {
    participant: &'a str,
    currency: &'a str,
    batch: &'a str,
    agreement: &'a str,
}

impl ReportName {
    /// Parses a file name (without directories).
    pub fn parse(file_name: &str) -> Result<Self, Error> {
        let not = |reason| Error::NotAReportName {
            name: echo(file_name),
            reason,
        };
        let stem = file_name
            .strip_suffix(".csv")
            .ok_or_else(|| not("no .csv extension"))?;
        let (kind, rest) = ReportKind::ALL
            .iter()
            .find_map(|k| {
                stem.strip_prefix(k.prefix())
                    .and_then(|r| r.strip_prefix('_'))
                    .map(|r| (*k, r))
            })
            .ok_or_else(|| not("unknown prefix"))?;
        let (middle, seq) = split_seq(rest).ok_or_else(|| not("no 3-digit seq suffix"))?;
        let splits = splits(middle);
        let chosen = match splits.len() {
            0 => return Err(not("no _CCC_ currency token between non-empty ids")),
            1 => &splits[0],
            n => {
                let mut agreed = splits.iter().filter(|s| agreement_is_participant_ccy(s));
                match (agreed.next(), agreed.next()) {
                    (Some(one), None) => one,
                    _ => {
                        return Err(Error::AmbiguousReportName {
                            name: echo(file_name),
                            candidates: n,
                        });
                    }
                }
            }
        };
        Ok(ReportName {
            kind,
            participant_id: chosen.participant.into(),
            currency: Currency::new(chosen.currency).map_err(|_| not("bad currency"))?,
            batch_id: chosen.batch.into(),
            agreement_id: chosen.agreement.into(),
            seq,
        })
    }

    /// The name as Alipay+ writes it (`parse(name.to_string()) == name`).
    pub fn file_name(&self) -> String {
        alloc::format!(
            "{}_{}_{}_{}_{}_{:03}.csv",
            self.kind.prefix(),
            self.participant_id,
            self.currency,
            self.batch_id,
            self.agreement_id,
            self.seq
        )
    }
}

impl fmt::Display for ReportName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file_name())
    }
}

/// `"a_b_007"` → `("a_b", 7)`.
fn split_seq(rest: &str) -> Option<(&str, u16)> {
    let (middle, seq) = rest.rsplit_once('_')?;
    if seq.len() != 3 || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((middle, seq.parse().ok()?))
}

/// Every split `participant _ CCC _ batch _ agreement` with non-empty ids.
fn splits(middle: &str) -> Vec<Split<'_>> {
    let bytes = middle.as_bytes();
    let mut out = Vec::new();
    for (i, _) in middle.match_indices('_') {
        let ccy = bytes.get(i + 1..i + 4);
        let is_ccy = ccy.is_some_and(|c| c.iter().all(u8::is_ascii_uppercase));
        if i == 0 || !is_ccy || bytes.get(i + 4) != Some(&b'_') {
            continue;
        }
        let (participant, currency, tail) = (&middle[..i], &middle[i + 1..i + 4], &middle[i + 5..]);
        for (j, _) in tail.match_indices('_') {
            let (batch, agreement) = (&tail[..j], &tail[j + 1..]);
            if !batch.is_empty() && !agreement.is_empty() {
                out.push(Split {
                    participant,
                    currency,
                    batch,
                    agreement,
                });
            }
        }
    }
    out
}

fn agreement_is_participant_ccy(s: &Split<'_>) -> bool {
    s.agreement.len() == s.participant.len() + 3
        && s.agreement.starts_with(s.participant)
        && s.agreement.ends_with(s.currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_names_parse_and_round_trip() {
        for name in [
            "transactionItems_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv",
            "feeItems_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv",
            "summary_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv",
            "settlement_1022188000000000001_SGD_S20250603001_1022188000000000001SGD_000.csv",
        ] {
            let parsed = ReportName::parse(name).unwrap();
            assert_eq!(parsed.file_name(), name);
        }
    }

    #[test]
    fn underscores_in_ids() {
        // Unique split despite '_' in the participant and agreement ids.
        let n = ReportName::parse("summary_P_1_SGD_B1_A_x_001.csv");
        // B1_A_x splits two ways: ambiguous without the participant+CCY rule.
        assert!(matches!(
            n,
            Err(Error::AmbiguousReportName { candidates: 2, .. })
        ));
        let n = ReportName::parse("summary_P_1_SGD_B_1_P_1SGD_001.csv").unwrap();
        assert_eq!(
            (n.participant_id.as_str(), n.batch_id.as_str()),
            ("P_1", "B_1")
        );
        assert_eq!((n.agreement_id.as_str(), n.seq), ("P_1SGD", 1));
        // A currency-looking token inside the batch id.
        let n = ReportName::parse("feeItems_P_USD_X_SGD_A_002.csv");
        assert!(matches!(n, Err(Error::AmbiguousReportName { .. })));
        let n = ReportName::parse("feeItems_P_USD_B_PUSD_002.csv").unwrap();
        assert_eq!(n.currency, Currency::USD);
    }

    #[test]
    fn names_that_are_not_reports() {
        for bad in [
            "transactionItems_P_SGD_B_A_000.txt",
            "transactionItems_P_SGD_B_A_00.csv",
            "transactionItems_P_SGD_B_A_0000.csv",
            "transactionItems_P_sgd_B_A_000.csv",
            "transactionItems__SGD_B_A_000.csv",
            "transactionItems_P_SGD__A_000.csv",
            "transactionItems_P_SGD_B__000.csv",
            "transactionItems_P_SGD_B_000.csv",
            "transactions_P_SGD_B_A_000.csv",
            "transactionItemsP_SGD_B_A_000.csv",
            "transactionItems_P_SGD_B_A_1e2.csv",
            ".csv",
            "",
            "transactionItems_P_SG€_B_A_000.csv",
        ] {
            assert!(
                matches!(ReportName::parse(bad), Err(Error::NotAReportName { .. })),
                "{bad}"
            );
        }
    }
}
