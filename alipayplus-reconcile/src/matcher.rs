//! The sans-IO matcher of one clearing cycle (reconcile.md §5): the cycle's own records in
//! memory, report rows streamed in, findings out.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use alipayplus_types::{Amount, SignedAmount};

use crate::error::echo;
use crate::{
    ClearingDate, Error, LedgerRecord, RowTotals, Summary, TransactionRow, TransactionType,
};

/// What kind of discrepancy a [`Finding`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FindingKind {
    /// An own record of a reported cycle is in no report row.
    MissingInReport,
    /// A report row has no own record in the cycle.
    MissingInLedger,
    /// Same id, type and currency; different amount (or sign).
    AmountMismatch,
    /// Same id; different currency.
    CurrencyMismatch,
    /// Same id; PAYMENT on one side, REFUND (or another type) on the other.
    TypeMismatch,
    /// The id appears more than once in the cycle's reports.
    DuplicateInReport,
    /// A file's summary disagrees with its own rows, or the Summary Report with the details.
    SummaryMismatch,
}

impl FindingKind {
    /// The snake_case name used in output (`"missing_in_report"`, ...).
    ///
    /// ```
    /// use alipayplus_reconcile::FindingKind;
    /// assert_eq!(FindingKind::DuplicateInReport.as_str(), "duplicate_in_report");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::MissingInReport => "missing_in_report",
            FindingKind::MissingInLedger => "missing_in_ledger",
            FindingKind::AmountMismatch => "amount_mismatch",
            FindingKind::CurrencyMismatch => "currency_mismatch",
            FindingKind::TypeMismatch => "type_mismatch",
            FindingKind::DuplicateInReport => "duplicate_in_report",
            FindingKind::SummaryMismatch => "summary_mismatch",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One discrepancy, naming the transactionRequestId (or, for a summary, the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What is wrong.
    pub kind: FindingKind,
    /// The transaction, except for [`FindingKind::SummaryMismatch`].
    pub request_id: Option<String>,
    /// The report file involved (the row's file, or the summary's).
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<u64>,
    /// The own record's type and amount (positive), when there is one.
    pub ledger: Option<(TransactionType, Amount)>,
    /// The report row's type and signed amount, when there is one.
    pub report: Option<(TransactionType, SignedAmount)>,
    /// One sentence for people.
    pub detail: String,
}

impl Finding {
    /// A [`FindingKind::SummaryMismatch`] about `file`, at the summary's `line`.
    ///
    /// ```
    /// use alipayplus_reconcile::{Finding, FindingKind};
    /// let f = Finding::summary_mismatch("t.csv", 2, "summary totalCount 2, rows 1".into());
    /// assert_eq!((f.kind, f.file.as_deref()), (FindingKind::SummaryMismatch, Some("t.csv")));
    /// ```
    pub fn summary_mismatch(file: &str, line: u64, detail: String) -> Self {
        Finding {
            kind: FindingKind::SummaryMismatch,
            request_id: None,
            file: Some(file.to_string()),
            line: Some(line),
            ledger: None,
            report: None,
            detail,
        }
    }
}

/// An own record waiting for its report row.
struct Own {
    transaction_type: TransactionType,
    amount: Amount,
    seen: bool,
}

/// Matches one clearing cycle: add the cycle's own records, then feed every report row and
/// file summary of the cycle, then [`finish`](Self::finish).
///
/// ```
/// use alipayplus_reconcile::*;
/// use alipayplus_types::{Amount, Currency, DateTime, SignedAmount};
/// let time = DateTime::parse("2025-06-01T10:00:00+08:00").unwrap();
/// let mut m = CycleMatcher::new(ClearingDate::of(&time));
/// m.add_own("ledger.csv", 2, LedgerRecord {
///     request_id: "PAY-1".into(),
///     transaction_type: TransactionType::Payment,
///     amount: Amount::new(Currency::SGD, 1500),
///     time: time.clone(),
/// })
/// .unwrap();
/// m.report_row("t.csv", &TransactionRow {
///     request_id: "PAY-1",
///     transaction_type: TransactionType::Payment,
///     amount: SignedAmount::new(Currency::SGD, 1400),
///     settlement: None,
///     time: Some(time),
///     line: 4,
/// })
/// .unwrap();
/// let result = m.finish();
/// assert_eq!(result.matched, 0);
/// assert_eq!(result.findings[0].kind, FindingKind::AmountMismatch);
/// ```
pub struct CycleMatcher {
    cycle: ClearingDate,
    own: BTreeMap<Box<str>, Own>,
    unknown_seen: BTreeSet<Box<str>>,
    findings: Vec<Finding>,
    matched: u64,
    own_totals: RowTotals,
    report_totals: RowTotals,
}

/// The outcome of one cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleResult {
    /// The cycle.
    pub cycle: ClearingDate,
    /// Rows that matched an own record exactly.
    pub matched: u64,
    /// Own records: count and net (refunds negative).
    pub own: RowTotals,
    /// Report rows: count and net of `transactionAmountValue`.
    pub report: RowTotals,
    /// Discrepancies: report-row findings in file order, then missing_in_report by id.
    pub findings: Vec<Finding>,
}

impl CycleMatcher {
    /// An empty matcher for `cycle`.
    pub fn new(cycle: ClearingDate) -> Self {
        CycleMatcher {
            cycle,
            own: BTreeMap::new(),
            unknown_seen: BTreeSet::new(),
            findings: Vec::new(),
            matched: 0,
            own_totals: RowTotals::default(),
            report_totals: RowTotals::default(),
        }
    }

    /// The cycle.
    pub fn cycle(&self) -> ClearingDate {
        self.cycle
    }

    /// Adds an own record read from line `line` of the ledger `file`; `Ok(false)` (ignored)
    /// when it belongs to another cycle. The same id twice is
    /// [`Error::DuplicateLedgerRecord`]; own totals that overflow are [`Error::AmountOverflow`].
    pub fn add_own(&mut self, file: &str, line: u64, record: LedgerRecord) -> Result<bool, Error> {
        if record.cycle() != self.cycle {
            return Ok(false);
        }
        if self.own.contains_key(record.request_id.as_str()) {
            return Err(Error::DuplicateLedgerRecord {
                file: file.to_string(),
                line,
                id: echo(&record.request_id),
            });
        }
        let overflow = || Error::AmountOverflow {
            file: file.to_string(),
            line,
            what: "the own records of the cycle",
        };
        let amount = signed(&record.transaction_type, record.amount).ok_or_else(overflow)?;
        self.own_totals.add(amount).map_err(|_| overflow())?;
        self.own.insert(
            record.request_id.into_boxed_str(),
            Own {
                transaction_type: record.transaction_type,
                amount: record.amount,
                seen: false,
            },
        );
        Ok(true)
    }

    /// Own records held.
    pub fn own_len(&self) -> usize {
        self.own.len()
    }

    /// Matches one Transaction Detail Report row from `file`; a report total that overflows
    /// is [`Error::AmountOverflow`] naming the file and the row's line.
    pub fn report_row(&mut self, file: &str, row: &TransactionRow<'_>) -> Result<(), Error> {
        self.report_totals
            .add(row.amount)
            .map_err(|_| Error::AmountOverflow {
                file: file.to_string(),
                line: row.line,
                what: "the cycle's report rows",
            })?;
        let report = Some((row.transaction_type.clone(), row.amount));
        let finding = |kind, ledger, detail: String| Finding {
            kind,
            request_id: Some(row.request_id.to_string()),
            file: Some(file.to_string()),
            line: Some(row.line),
            ledger,
            report: report.clone(),
            detail,
        };
        let Some(own) = self.own.get_mut(row.request_id) else {
            let first = self.unknown_seen.insert(row.request_id.into());
            let (kind, detail) = if first {
                (
                    FindingKind::MissingInLedger,
                    alloc::format!("in the report, not in own records of {}", self.cycle),
                )
            } else {
                (
                    FindingKind::DuplicateInReport,
                    "listed again in the cycle's reports".to_string(),
                )
            };
            self.findings.push(finding(kind, None, detail));
            return Ok(());
        };
        let ledger = Some((own.transaction_type.clone(), own.amount));
        if core::mem::replace(&mut own.seen, true) {
            let f = finding(
                FindingKind::DuplicateInReport,
                ledger,
                "listed again in the cycle's reports".into(),
            );
            self.findings.push(f);
            return Ok(());
        }
        let (kind, detail) = if row.amount.currency != own.amount.currency {
            (
                FindingKind::CurrencyMismatch,
                alloc::format!(
                    "report {}, own {}",
                    row.amount.currency,
                    own.amount.currency
                ),
            )
        } else if row.transaction_type != own.transaction_type {
            let detail = alloc::format!(
                "report {}, own {}",
                row.transaction_type.as_str(),
                own.transaction_type.as_str()
            );
            (FindingKind::TypeMismatch, detail)
        } else if signed(&own.transaction_type, own.amount) != Some(row.amount) {
            (
                FindingKind::AmountMismatch,
                alloc::format!("report {}, own {}", row.amount, own.amount),
            )
        } else {
            self.matched += 1;
            return Ok(());
        };
        self.findings.push(finding(kind, ledger, detail));
        Ok(())
    }

    /// Checks one file's summary against the totals of its own rows (each seq file carries
    /// the summary of its own rows).
    pub fn file_summary(&mut self, file: &str, summary: &Summary, rows: &RowTotals) {
        if let Some(detail) = rows.disagreement(summary) {
            self.summary_mismatch(file, summary.line, detail);
        }
    }

    /// Records a [`FindingKind::SummaryMismatch`] about `file`.
    pub fn summary_mismatch(&mut self, file: &str, line: u64, detail: String) {
        self.findings
            .push(Finding::summary_mismatch(file, line, detail));
    }

    /// Totals of the report rows fed so far.
    pub fn report_totals(&self) -> RowTotals {
        self.report_totals
    }

    /// Ends the cycle: every own record no row named is missing_in_report.
    pub fn finish(mut self) -> CycleResult {
        for (id, own) in &self.own {
            if !own.seen {
                self.findings.push(Finding {
                    kind: FindingKind::MissingInReport,
                    request_id: Some(id.to_string()),
                    file: None,
                    line: None,
                    ledger: Some((own.transaction_type.clone(), own.amount)),
                    report: None,
                    detail: alloc::format!("in own records of {}, in no report row", self.cycle),
                });
            }
        }
        CycleResult {
            cycle: self.cycle,
            matched: self.matched,
            own: self.own_totals,
            report: self.report_totals,
            findings: self.findings,
        }
    }
}

/// The amount as a report writes it: negative for a refund.
fn signed(t: &TransactionType, amount: Amount) -> Option<SignedAmount> {
    let a = SignedAmount::from_amount(amount)?;
    match t.report_sign()? {
        -1 => a.checked_neg(),
        _ => Some(a),
    }
}
