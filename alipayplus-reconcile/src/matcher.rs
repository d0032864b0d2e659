//! The sans-IO matcher of one clearing cycle (reconcile.md §5): the cycle's own records in
//! memory, report rows streamed in, findings out.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use alipayplus_types::{Amount, SignedAmount};

use crate::error::echo;
use crate::table::{OwnRec, OwnTable};
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
    own: OwnTable,
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

/// How a report row compares with the own records, judged as if it were the first row to
/// name its id (see [`CycleMatcher::judge`]).
pub(crate) enum Judged {
    /// No own record has the id.
    Unknown,
    /// Own record `index`; `None`: an exact match, else the finding's kind and detail.
    Known(u32, Option<(FindingKind, String)>),
}

/// A report row's id, type, amount and line.
pub(crate) type RowParts<'a> = (&'a str, &'a TransactionType, SignedAmount, u64);

impl CycleMatcher {
    /// An empty matcher for `cycle`.
    pub fn new(cycle: ClearingDate) -> Self {
        CycleMatcher {
            cycle,
            own: OwnTable::default(),
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
        let refund = match record.transaction_type {
            TransactionType::Payment => false,
            TransactionType::Refund => true,
            TransactionType::Unrecognized(t) => {
                let problem = alloc::format!("transactionType {t:?} is neither PAYMENT nor REFUND");
                return Err(Error::malformed(file, line, problem));
            }
        };
        self.add_own_parts(file, line, &record.request_id, refund, record.amount)?;
        Ok(true)
    }

    /// [`add_own`](Self::add_own) without building a [`LedgerRecord`] (the job's fast path).
    pub(crate) fn add_own_parts(
        &mut self,
        file: &str,
        line: u64,
        id: &str,
        refund: bool,
        amount: Amount,
    ) -> Result<(), Error> {
        let overflow = || Error::AmountOverflow {
            file: file.to_string(),
            line,
            what: "the own records of the cycle",
        };
        let t = if refund {
            TransactionType::Refund
        } else {
            TransactionType::Payment
        };
        let duplicate = || Error::DuplicateLedgerRecord {
            file: file.to_string(),
            line,
            id: echo(id),
        };
        // A duplicate is named before an overflow, as the checks read.
        let mut totals = self.own_totals;
        let summed = signed(&t, amount).map(|a| totals.add(a));
        if !matches!(summed, Some(Ok(()))) {
            return Err(match self.own.get(id) {
                Some(_) => duplicate(),
                None => overflow(),
            });
        }
        match self.own.insert(id, OwnTable::record(amount, refund)) {
            Ok(true) => {}
            Ok(false) => return Err(duplicate()),
            Err(_) => {
                let problem = "the cycle's own records exceed 4 GiB of ids or 4 billion records";
                return Err(Error::malformed(file, line, problem));
            }
        }
        self.own_totals = totals;
        Ok(())
    }

    /// Own records held.
    pub fn own_len(&self) -> usize {
        self.own.len()
    }

    /// Whether own record `index` was already named by a report row.
    pub(crate) fn own_seen(&self, index: u32) -> bool {
        self.own.rec(index).seen()
    }

    /// See [`OwnTable::touch`].
    pub(crate) fn touch(&self, at: (usize, u32)) -> u32 {
        self.own.touch(at)
    }

    /// The own-record table (the job's ledger workers insert into its shards at once).
    pub(crate) fn own_table_mut(&mut self) -> &mut OwnTable {
        &mut self.own
    }

    /// Slots per shard of the own-record table (for per-record side tables).
    pub(crate) fn own_shard_sizes(&self) -> Vec<usize> {
        self.own.shard_sizes()
    }

    /// The running own totals (the job's fast path adds whole blocks to them).
    pub(crate) fn own_totals_mut(&mut self) -> &mut RowTotals {
        &mut self.own_totals
    }

    /// Compares a report row with the own records, as if no row had named its id before:
    /// read-only, so report blocks can be judged on several threads.
    pub(crate) fn judge(&self, id: &str, t: &TransactionType, amount: SignedAmount) -> Judged {
        self.judge_at(id, OwnTable::locate(id), t, amount)
    }

    /// [`judge`](Self::judge) of an id [`OwnTable::locate`]d.
    pub(crate) fn judge_at(
        &self,
        id: &str,
        at: (usize, u32),
        t: &TransactionType,
        amount: SignedAmount,
    ) -> Judged {
        let Some(index) = self.own.get_at(id, at) else {
            return Judged::Unknown;
        };
        let own = self.own.rec(index);
        let own_type = own_type(own);
        let outcome = if amount.currency != own.currency {
            let detail = alloc::format!("report {}, own {}", amount.currency, own.currency);
            Some((FindingKind::CurrencyMismatch, detail))
        } else if *t != own_type {
            let detail = alloc::format!("report {}, own {}", t.as_str(), own_type.as_str());
            Some((FindingKind::TypeMismatch, detail))
        } else if signed(&own_type, own.amount()) != Some(amount) {
            let detail = alloc::format!("report {amount}, own {}", own.amount());
            Some((FindingKind::AmountMismatch, detail))
        } else {
            None
        };
        Judged::Known(index, outcome)
    }

    /// A finding about a report row.
    pub(crate) fn row_finding(
        &self,
        kind: FindingKind,
        known: Option<u32>,
        file: &str,
        row: RowParts<'_>,
        detail: String,
    ) -> Finding {
        let (id, t, amount, line) = row;
        Finding {
            kind,
            request_id: Some(id.to_string()),
            file: Some(file.to_string()),
            line: Some(line),
            ledger: known.map(|i| (own_type(self.own.rec(i)), self.own.rec(i).amount())),
            report: Some((t.clone(), amount)),
            detail,
        }
    }

    /// Records a row whose id no own record has: missing_in_ledger the first time,
    /// duplicate_in_report after.
    pub(crate) fn unknown_row(&mut self, file: &str, row: RowParts<'_>) {
        let first = self.unknown_seen.insert(row.0.into());
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
        let f = self.row_finding(kind, None, file, row, detail);
        self.findings.push(f);
    }

    /// Records the outcome of a known row judged by [`judge`](Self::judge), named for the
    /// first time.
    pub(crate) fn known_row(&mut self, index: u32, finding: Option<Finding>) {
        self.own.set_seen(index);
        match finding {
            Some(f) => self.findings.push(f),
            None => self.matched += 1,
        }
    }

    /// Marks own record `index` as named by a report row (an exact match counted by
    /// [`add_matched`](Self::add_matched)).
    pub(crate) fn mark_seen(&mut self, index: u32) {
        self.own.set_seen(index);
    }

    /// Counts `n` exact matches.
    pub(crate) fn add_matched(&mut self, n: u64) {
        self.matched += n;
    }

    /// The running report totals (the job's fast path adds whole blocks to them).
    pub(crate) fn report_totals_mut(&mut self) -> &mut RowTotals {
        &mut self.report_totals
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
        let parts = (row.request_id, &row.transaction_type, row.amount, row.line);
        match self.judge(row.request_id, &row.transaction_type, row.amount) {
            Judged::Unknown => self.unknown_row(file, parts),
            Judged::Known(index, _) if self.own_seen(index) => {
                let detail = "listed again in the cycle's reports".to_string();
                let kind = FindingKind::DuplicateInReport;
                let f = self.row_finding(kind, Some(index), file, parts, detail);
                self.findings.push(f);
            }
            Judged::Known(index, outcome) => {
                let f = outcome
                    .map(|(kind, detail)| self.row_finding(kind, Some(index), file, parts, detail));
                self.known_row(index, f);
            }
        }
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

    /// Ends the cycle: every own record no row named is missing_in_report (by id).
    pub fn finish(mut self) -> CycleResult {
        let mut missing: Vec<u32> = self
            .own
            .iter()
            .filter(|(_, r)| !r.seen())
            .map(|(i, _)| i)
            .collect();
        missing.sort_unstable_by(|a, b| self.own.id(*a).cmp(self.own.id(*b)));
        for i in missing {
            let own = self.own.rec(i);
            self.findings.push(Finding {
                kind: FindingKind::MissingInReport,
                request_id: Some(self.own.id(i).to_string()),
                file: None,
                line: None,
                ledger: Some((own_type(own), own.amount())),
                report: None,
                detail: alloc::format!("in own records of {}, in no report row", self.cycle),
            });
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

fn own_type(own: &OwnRec) -> TransactionType {
    if own.refund() {
        TransactionType::Refund
    } else {
        TransactionType::Payment
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
