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
    /// Whether `file_name` is a report file at all: it starts with one of the four prefixes
    /// and `_`, and ends in `.csv` (reconcile.md §2). Anything else (`.part`, `.txt`, other
    /// prefixes) is not a report and may be ignored; a report file that cannot be parsed or
    /// placed is an error, never ignored.
    ///
    /// ```
    /// use alipayplus_reconcile::ReportName;
    /// assert!(ReportName::is_report_file("feeItems_x.csv"));
    /// assert!(!ReportName::is_report_file("feeItems_x.csv.part"));
    /// assert!(!ReportName::is_report_file("README.csv"));
    /// ```
    pub fn is_report_file(file_name: &str) -> bool {
        file_name.ends_with(".csv")
            && ReportKind::ALL.iter().any(|k| {
                file_name
                    .strip_prefix(k.prefix())
                    .is_some_and(|r| r.starts_with('_'))
            })
    }

    /// Parses a file name (without directories). A name that splits several ways is
    /// [`Error::AmbiguousReportName`] unless the participant+currency rule (module docs)
    /// picks one; [`ReportName::place`] decides by the file's own summary section instead.
    pub fn parse(file_name: &str) -> Result<Self, Error> {
        let all = Self::candidates(file_name)?;
        if all.len() == 1 {
            return Ok(all.into_iter().next().expect("one"));
        }
        Self::tie_break(&all).ok_or_else(|| Error::AmbiguousReportName {
            name: echo(file_name),
            candidates: all.len(),
        })
    }

    /// Every way `file_name` splits into participantId, currency, batchId and
    /// participantAgreementId (at least one), in order of the currency's position, then the
    /// batch id's length.
    ///
    /// ```
    /// use alipayplus_reconcile::ReportName;
    /// let all = ReportName::candidates("summary_P_SGD_B_A_x_000.csv").unwrap();
    /// let batches: Vec<&str> = all.iter().map(|n| n.batch_id.as_str()).collect();
    /// assert_eq!(batches, ["B", "B_A"]);
    /// ```
    pub fn candidates(file_name: &str) -> Result<Vec<Self>, Error> {
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
        let mut out = Vec::new();
        for split in splits(middle) {
            out.push(ReportName {
                kind,
                participant_id: split.participant.into(),
                currency: Currency::new(split.currency).map_err(|_| not("bad currency"))?,
                batch_id: split.batch.into(),
                agreement_id: split.agreement.into(),
                seq,
            });
        }
        if out.is_empty() {
            return Err(not("no _CCC_ currency token between non-empty ids"));
        }
        Ok(out)
    }

    /// The one candidate whose agreement id is its participant id followed by its currency
    /// (the sample's form; UNCERTAIN), if exactly one is.
    pub fn tie_break(candidates: &[ReportName]) -> Option<ReportName> {
        let mut agreed = candidates.iter().filter(|n| {
            n.agreement_id.len() == n.participant_id.len() + 3
                && n.agreement_id.starts_with(n.participant_id.as_str())
                && n.agreement_id.ends_with(n.currency.as_str())
        });
        match (agreed.next(), agreed.next()) {
            (Some(one), None) => Some(one.clone()),
            _ => None,
        }
    }

    /// Places a report file by what it carries: the candidates of its name that agree with
    /// every id its summary section states (`clearingBatchId` for clearing reports or
    /// `settlementBatchId` for the Settlement Report, `settlementCurrency`,
    /// `participantAgreementId`, `participantId`; absent or empty values say nothing).
    ///
    /// `Ok(vec)` holds one name when the file is placed, several when its summary does not
    /// decide (the caller then tries the Transaction Detail Report with the same ids, then
    /// [`ReportName::tie_break`]). A summary that agrees with no candidate (it contradicts the
    /// name) is [`Error::UnplaceableReport`].
    ///
    /// ```
    /// use alipayplus_reconcile::{ReportName, Summary};
    /// let file = "transactionItems_1022182743758679985_USD_20250319_AGR_459470_ALIPAY_CN_000.csv";
    /// assert!(ReportName::parse(file).is_err()); // the name alone splits four ways
    /// let summary = Summary {
    ///     fields: vec![("clearingBatchId".into(), "20250319".into()), ("settlementCurrency".into(), "USD".into())],
    ///     ..Summary::default()
    /// };
    /// let placed = ReportName::place(file, &summary).unwrap();
    /// assert_eq!(placed.len(), 1);
    /// assert_eq!(placed[0].agreement_id, "AGR_459470_ALIPAY_CN");
    /// ```
    pub fn place(file_name: &str, summary: &crate::Summary) -> Result<Vec<Self>, Error> {
        let all = Self::candidates(file_name)?;
        let stated = |name: &str| summary.get(name).map(str::trim).filter(|v| !v.is_empty());
        let batch_column = match all[0].kind {
            ReportKind::Settlement => "settlementBatchId",
            _ => "clearingBatchId",
        };
        let batch = stated(batch_column);
        let currency = stated("settlementCurrency");
        let agreement = stated("participantAgreementId");
        let participant = stated("participantId");
        let fits = |n: &ReportName| {
            batch.is_none_or(|b| b == n.batch_id)
                && currency.is_none_or(|c| c == n.currency.as_str())
                && agreement.is_none_or(|a| a == n.agreement_id)
                && participant.is_none_or(|p| p == n.participant_id)
        };
        let placed: Vec<Self> = all.into_iter().filter(fits).collect();
        if placed.is_empty() {
            return Err(Error::UnplaceableReport {
                file: file_name.into(),
                reason: alloc::format!(
                    "its summary section ({batch_column} {:?}, settlementCurrency {:?}) contradicts its name",
                    batch.map(echo).unwrap_or_default(),
                    currency.map(echo).unwrap_or_default()
                ),
            });
        }
        Ok(placed)
    }

    /// The ids of a report file name: the part between the prefix and the `_NNN.csv` seq
    /// (`<participantId>_<CCY>_<batchId>_<agreementId>`). The reports of one batch share it.
    ///
    /// ```
    /// use alipayplus_reconcile::ReportName;
    /// assert_eq!(ReportName::ids_part("feeItems_P_SGD_B_A_x_001.csv"), Some("P_SGD_B_A_x"));
    /// ```
    pub fn ids_part(file_name: &str) -> Option<&str> {
        let stem = file_name.strip_suffix(".csv")?;
        let rest = ReportKind::ALL.iter().find_map(|k| {
            stem.strip_prefix(k.prefix())
                .and_then(|r| r.strip_prefix('_'))
        })?;
        split_seq(rest).map(|(middle, _)| middle)
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
