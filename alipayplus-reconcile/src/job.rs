//! The daily job (feature `std`): reconcile a set of report files with the ledger file.
//!
//! Procedure (reconcile.md §5), with the rule that nothing passes silently:
//!
//! * Report files are names that start with `transactionItems_`, `feeItems_`, `summary_` or
//!   `settlement_` and end in `.csv`; anything else is ignored with a note
//!   ([`Reconciliation::ignored`]).
//! * Each report file is placed in its batch by what it carries: the ids its summary section
//!   states ([`ReportName::place`]); a file whose summary does not decide takes the placing of
//!   the Transaction Detail Report with the same ids in its name, else the participant+currency
//!   rule ([`ReportName::tie_break`]). A file that still cannot be placed is
//!   [`Error::UnplaceableReport`].
//! * Every clearing batch needs a Transaction Detail Report ([`Error::NoDetailReport`]) and a
//!   cycle: its `clearingBatchId` when that is a `yyyyMMdd` date, else the time of its first
//!   dated row ([`Error::UndatableCycle`]). No Transaction Detail Report at all is
//!   [`Error::NothingToReconcile`].
//! * The ledger is read once: the own records of the compared cycles are held, the others
//!   only counted. Per cycle, every Transaction Detail Report file is matched with the
//!   [`CycleMatcher`] (in blocks on several threads, see [`reconcile_with_threads`]) and
//!   checked against its own summary, the Summary
//!   Report is cross-checked with the detail totals, and the Fee Reports are totalled. Own
//!   records of cycles with no report are not compared and not a finding: they are counted in
//!   [`Reconciliation::uncompared_own`].
//! * Settlement Reports are parsed and totalled per settlement batch; how their amount relates
//!   to the clearing totals and fees is UNCERTAIN in the spec, so it is stated
//!   ([`SETTLEMENT_RELATION`]) rather than checked.
//!
//! An `Ok` [`Reconciliation`] therefore always compared at least one cycle; its
//! [`Reconciliation::verdict`] is [`Verdict::Clean`] or [`Verdict::Findings`]. Input errors
//! (unreadable, unplaceable, undatable, nothing to compare, overflowing sums) are `Err`.

use std::collections::BTreeMap;
use std::io::Read;
use std::num::NonZeroUsize;
use std::string::{String, ToString};
use std::vec::Vec;

use alipayplus_types::SignedAmount;

use crate::bulk;
use crate::fetch::{Fetch, read_some};
use crate::{
    ClearingDate, CycleMatcher, CycleResult, Error, Event, Finding, LedgerParser, LedgerRecord,
    ReportKind, ReportName, ReportOptions, ReportParser, Row, RowTotals, Summary,
};

/// What the job says about the settlement amount (UNCERTAIN in reconcile.md §5/§6).
pub const SETTLEMENT_RELATION: &str = "UNCERTAIN (reconcile.md §5-6): the Settlement Report amount is presumably the clearing \
     net totals less the fees of the batches it nets; the spec does not define it, so it is shown, not checked";

/// Bytes read from a file per call.
const CHUNK: usize = 64 * 1024;

/// What a reconciliation that compared found: nothing, or findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// At least one cycle was compared, every report file was placed and read, and nothing
    /// disagrees.
    Clean,
    /// At least one cycle was compared and this many findings came out.
    Findings(usize),
}

/// The outcome of [`reconcile`]: at least one clearing cycle compared (else [`reconcile`]
/// returns an error).
#[derive(Clone, Debug, Default)]
pub struct Reconciliation {
    /// Clearing cycles with reports, by date.
    pub cycles: Vec<CycleReport>,
    /// Settlement batches.
    pub settlements: Vec<SettlementBatch>,
    /// Files that are not report names, with why.
    pub ignored: Vec<(String, String)>,
    /// Own records in cycles with no Transaction Detail Report (not compared), by cycle.
    pub uncompared_own: Vec<(ClearingDate, u64)>,
}

impl Reconciliation {
    /// Report rows that matched an own record exactly, over all cycles.
    pub fn matched(&self) -> u64 {
        self.cycles
            .iter()
            .filter_map(|c| c.result.as_ref())
            .map(|r| r.matched)
            .sum()
    }

    /// Every finding, cycle by cycle.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.cycles.iter().flat_map(|c| c.findings())
    }

    /// Clearing cycles that were compared with own records.
    pub fn compared_cycles(&self) -> usize {
        self.cycles.iter().filter(|c| c.result.is_some()).count()
    }

    /// [`Verdict::Clean`] only when at least one cycle was compared and nothing was found.
    ///
    /// ```
    /// use alipayplus_reconcile::job::{Reconciliation, Verdict};
    /// // A value that compared nothing (reconcile never returns one) is not clean.
    /// assert_eq!(Reconciliation::default().verdict(), Verdict::Findings(0));
    /// ```
    pub fn verdict(&self) -> Verdict {
        match self.findings().count() {
            0 if self.compared_cycles() > 0 => Verdict::Clean,
            n => Verdict::Findings(n),
        }
    }
}

/// One clearing cycle.
#[derive(Clone, Debug)]
pub struct CycleReport {
    /// The cycle (always known: an undatable batch is an error).
    pub date: Option<ClearingDate>,
    /// The clearing batches of the cycle (`participantId_CCY_clearingBatchId_agreementId`).
    pub batches: Vec<String>,
    /// Every report file of the cycle, in order.
    pub files: Vec<String>,
    /// The matcher's result.
    pub result: Option<CycleResult>,
    /// Summary Report figures (`totalCount`, net total), when there is one.
    pub summary_report: Option<RowTotalsView>,
    /// Summary Report findings (cross-check with the detail rows).
    pub summary_findings: Vec<Finding>,
    /// Fee Report rows: count and total per `feeType` (`""` when the report has no such column).
    pub fees: Vec<(String, RowTotals)>,
    /// Things to know that are not findings.
    pub notes: Vec<String>,
}

impl CycleReport {
    /// Findings of the cycle (matcher, then Summary Report).
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.result
            .iter()
            .flat_map(|r| r.findings.iter())
            .chain(&self.summary_findings)
    }
}

/// A count and an optional net total, as a summary section states them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowTotalsView {
    /// `totalCount`.
    pub count: Option<u64>,
    /// Net total.
    pub net: Option<SignedAmount>,
}

/// One settlement batch (Settlement Report files with one settlementBatchId).
#[derive(Clone, Debug)]
pub struct SettlementBatch {
    /// `participantId_CCY_settlementBatchId_agreementId`.
    pub batch: String,
    /// Its files.
    pub files: Vec<String>,
    /// The first file's summary (e.g. `settlementAmountValue`, `valueDate`).
    pub summary: Summary,
    /// Detail rows: clearing batch id and amount.
    pub rows: Vec<(Option<String>, Option<SignedAmount>)>,
    /// Settlement-row totals.
    pub total: RowTotals,
}

/// Reads one report through `parser`, calling `on_row` for each detail row.
///
/// ```
/// use alipayplus_reconcile::job::read_report;
/// use alipayplus_reconcile::{ReportKind, ReportOptions, ReportParser};
/// use alipayplus_types::Currency;
/// let csv = "totalCount\n0\n<END>\n";
/// let mut parser = ReportParser::new("t.csv", ReportKind::TransactionItems, Currency::SGD, ReportOptions::default());
/// let mut rows = 0;
/// read_report(csv.as_bytes(), &mut parser, |_| { rows += 1; Ok(()) }).unwrap();
/// assert_eq!((rows, parser.summary().total_count), (0, Some(0)));
/// ```
pub fn read_report<R: Read>(
    mut reader: R,
    parser: &mut ReportParser,
    mut on_row: impl FnMut(Row<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut buf = std::vec![0; CHUNK];
    loop {
        let n = read_some(&mut reader, &mut buf, parser.file())?;
        let mut input = &buf[..n];
        loop {
            match parser.next(&mut input)? {
                Event::NeedInput if n == 0 => {
                    return Err(Error::malformed(parser.file(), 0, "unexpected end"));
                }
                Event::NeedInput => break,
                Event::Summary => {}
                Event::Row(row) => on_row(row)?,
                Event::End => return Ok(()),
            }
        }
    }
}

/// Reads the ledger, calling `on_record` with each record and its line.
///
/// ```
/// use alipayplus_reconcile::job::read_ledger;
/// let csv = "transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n\
///            PAY-1,PAYMENT,1500,SGD,2025-06-01T10:00:00+08:00\n";
/// let mut ids = Vec::new();
/// read_ledger(csv.as_bytes(), "ledger.csv", |r, _line| { ids.push(r.request_id); Ok(()) }).unwrap();
/// assert_eq!(ids, ["PAY-1"]);
/// ```
pub fn read_ledger<R: Read>(
    mut reader: R,
    file: &str,
    mut on_record: impl FnMut(LedgerRecord, u64) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut parser = LedgerParser::new(file);
    let mut buf = std::vec![0; CHUNK];
    loop {
        let n = read_some(&mut reader, &mut buf, file)?;
        let mut input = &buf[..n];
        loop {
            match parser.next(&mut input)? {
                Some(Some(record)) => on_record(record, parser.line())?,
                Some(None) if n == 0 => return Err(Error::malformed(file, 0, "unexpected end")),
                Some(None) => break,
                None => return Ok(()),
            }
        }
    }
}

/// `(participantId, currency, batchId, participantAgreementId)`: one batch of reports.
type BatchKey = (String, String, String, String);

/// Reports of one batch.
#[derive(Default)]
struct BatchFiles {
    batch_id: String,
    files: Vec<ReportName>,
}

/// Reads a report's summary section (the file is read only that far).
fn read_summary<F: Fetch>(
    fetch: &F,
    file: &str,
    kind: ReportKind,
    currency: alipayplus_types::Currency,
    options: ReportOptions,
) -> Result<Summary, Error> {
    let mut parser = ReportParser::new(file, kind, currency, options);
    let mut reader = fetch.open(file)?;
    let mut buf = std::vec![0; 4096];
    loop {
        let n = read_some(&mut reader, &mut buf, file)?;
        let mut input = &buf[..n];
        // The parser reads on within the chunk until it has an event or needs more.
        match parser.next(&mut input)? {
            Event::NeedInput if n == 0 => {
                return Err(Error::malformed(file, 0, "unexpected end"));
            }
            Event::NeedInput => {}
            Event::Summary | Event::Row(_) | Event::End => return Ok(parser.summary().clone()),
        }
    }
}

/// Places every report file in `files` (see the module docs).
fn place_all<F: Fetch>(
    fetch: &F,
    files: Vec<String>,
    options: ReportOptions,
) -> Result<Vec<ReportName>, Error> {
    let mut placed: Vec<ReportName> = Vec::new();
    let mut open: Vec<(String, Vec<ReportName>)> = Vec::new();
    for file in files {
        let candidates = ReportName::candidates(&file).map_err(|e| Error::UnplaceableReport {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        let first = &candidates[0];
        let summary = read_summary(fetch, &file, first.kind, first.currency, options)?;
        let mut fits = ReportName::place(&file, &summary)?;
        if fits.len() == 1 {
            placed.extend(fits.pop());
        } else {
            open.push((file, fits));
        }
    }
    for (file, fits) in open {
        let ids = ReportName::ids_part(&file);
        // The Transaction Detail Report with the same ids in its name, placed by its summary.
        let by_detail = placed
            .iter()
            .filter(|n| n.kind == ReportKind::TransactionItems)
            .filter(|n| ReportName::ids_part(&n.file_name()) == ids)
            .find_map(|d| {
                fits.iter().find(|n| {
                    (&n.participant_id, n.currency, &n.batch_id, &n.agreement_id)
                        == (&d.participant_id, d.currency, &d.batch_id, &d.agreement_id)
                })
            })
            .cloned();
        match by_detail.or_else(|| ReportName::tie_break(&fits)) {
            Some(name) => placed.push(name),
            None => {
                return Err(Error::UnplaceableReport {
                    file,
                    reason: std::format!(
                        "its name splits into participantId/currency/batchId/agreementId in {} ways \
                         (ids contain '_') and neither its summary section (clearingBatchId or \
                         settlementBatchId, settlementCurrency) nor a Transaction Detail Report \
                         with the same ids decides",
                        fits.len()
                    ),
                });
            }
        }
    }
    Ok(placed)
}

/// Reconciles the reports `fetch` lists with the ledger `open_ledger` opens, on as many
/// threads as [`std::thread::available_parallelism`] allows (see [`reconcile_with_threads`]).
///
/// `Ok` means at least one cycle was compared and every report file was placed and read; see
/// [`Reconciliation::verdict`]. Every input problem is an `Err` naming the file.
///
/// ```
/// use alipayplus_reconcile::fetch::LocalDir;
/// use alipayplus_reconcile::job::{reconcile, Verdict};
/// use alipayplus_reconcile::ReportOptions;
/// let dir = std::env::temp_dir().join(format!("reconcile-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("transactionItems_P_SGD_20250601_PSGD_000.csv"),
///     "totalCount,netTotalAmount\n1,1500\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency\nPAY-1,PAYMENT,1500,SGD\n").unwrap();
/// let ledger = "transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n\
///               PAY-1,PAYMENT,1500,SGD,2025-06-01T10:00:00+08:00\n";
/// let result = reconcile(&LocalDir::new(&dir), "ledger.csv", || Ok(ledger.as_bytes()), ReportOptions::default()).unwrap();
/// assert_eq!(result.matched(), 1);
/// assert_eq!(result.verdict(), Verdict::Clean);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn reconcile<F: Fetch, L: Read>(
    fetch: &F,
    ledger_name: &str,
    open_ledger: impl Fn() -> Result<L, Error>,
    options: ReportOptions,
) -> Result<Reconciliation, Error> {
    let threads = std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN);
    reconcile_with_threads(fetch, ledger_name, open_ledger, options, threads)
}

/// [`reconcile`] on `threads` threads (at most 8 workers). The result is the same for any
/// thread count: the ledger and each Transaction Detail Report are read in blocks of lines by
/// the workers and merged in file order, and a file the block reader cannot settle alone (quoted
/// fields, an id named twice, an error) is read again by the streaming parser.
///
/// The ledger is read once (opened again only for such a re-read): the own records of every
/// cycle the reports cover are held (a day's folder covers one), the others only counted.
pub fn reconcile_with_threads<F: Fetch, L: Read>(
    fetch: &F,
    ledger_name: &str,
    open_ledger: impl Fn() -> Result<L, Error>,
    options: ReportOptions,
    threads: NonZeroUsize,
) -> Result<Reconciliation, Error> {
    let threads = threads.get();
    let mut out = Reconciliation::default();
    let mut report_files = Vec::new();
    for file in fetch.list()? {
        if ReportName::is_report_file(&file) {
            report_files.push(file);
        } else {
            let why = "not a report file (a report file starts with transactionItems_, feeItems_, \
                       summary_ or settlement_ and ends in .csv)";
            out.ignored.push((file, why.into()));
        }
    }
    let mut clearing: BTreeMap<BatchKey, BatchFiles> = BTreeMap::new();
    let mut settlement: BTreeMap<BatchKey, BatchFiles> = BTreeMap::new();
    for name in place_all(fetch, report_files, options)? {
        let key = (
            name.participant_id.clone(),
            name.currency.to_string(),
            name.batch_id.clone(),
            name.agreement_id.clone(),
        );
        let group = if name.kind.is_clearing() {
            &mut clearing
        } else {
            &mut settlement
        };
        let entry = group.entry(key).or_default();
        entry.batch_id = name.batch_id.clone();
        entry.files.push(name);
    }
    let is_detail = |n: &ReportName| n.kind == ReportKind::TransactionItems;
    if !clearing.values().any(|b| b.files.iter().any(is_detail)) {
        return Err(Error::NothingToReconcile {
            folder: fetch.location(),
        });
    }
    // Place each clearing batch in its cycle: every batch has a detail report and a date.
    let mut cycles: BTreeMap<ClearingDate, Vec<(BatchKey, BatchFiles)>> = BTreeMap::new();
    for (key, mut files) in clearing {
        files.files.sort();
        let Some(detail) = files.files.iter().find(|n| is_detail(n)) else {
            return Err(Error::NoDetailReport {
                file: files.files[0].file_name(),
            });
        };
        let date = match ClearingDate::from_batch_id(&files.batch_id) {
            Some(d) => d,
            None => {
                first_row_date(fetch, &files, options)?.ok_or_else(|| Error::UndatableCycle {
                    file: detail.file_name(),
                    batch_id: crate::error::echo(&files.batch_id),
                })?
            }
        };
        cycles.entry(date).or_default().push((key, files));
    }
    // The own records of the compared cycles, the ledger read once.
    let dates: Vec<ClearingDate> = cycles.keys().copied().collect();
    let (matchers, other) = match bulk::load_own(open_ledger()?, ledger_name, &dates, threads)? {
        Some(loaded) => loaded,
        None => load_streaming(open_ledger()?, ledger_name, &dates)?,
    };
    for ((date, batches), matcher) in cycles.into_iter().zip(matchers) {
        let cycle = reconcile_cycle(fetch, options, date, batches, matcher, threads)?;
        out.cycles.push(cycle);
    }
    out.uncompared_own = other.into_iter().collect();
    for (key, mut files) in settlement {
        files.files.sort();
        out.settlements
            .push(read_settlement(fetch, key, files, options)?);
    }
    Ok(out)
}

fn batch_label(key: &BatchKey) -> String {
    std::format!("{}_{}_{}_{}", key.0, key.1, key.2, key.3)
}

fn parser_for(name: &ReportName, options: ReportOptions) -> ReportParser {
    ReportParser::new(&name.file_name(), name.kind, name.currency, options)
}

fn overflow(file: &str, line: u64, what: &'static str) -> Error {
    Error::AmountOverflow {
        file: file.to_string(),
        line,
        what,
    }
}

/// The cycle of the first dated row of a batch's Transaction Detail Report.
fn first_row_date<F: Fetch>(
    fetch: &F,
    batch: &BatchFiles,
    options: ReportOptions,
) -> Result<Option<ClearingDate>, Error> {
    for name in batch
        .files
        .iter()
        .filter(|n| n.kind == ReportKind::TransactionItems)
    {
        let mut parser = parser_for(name, options);
        let mut found = None;
        // Stops the read at the first dated row (the error is dropped below).
        let stop = "first row found";
        let result = read_report(fetch.open(&name.file_name())?, &mut parser, |row| {
            found = row.transaction()?.time.map(|t| ClearingDate::of(&t));
            match found {
                Some(_) => Err(Error::malformed("", 0, stop)),
                None => Ok(()),
            }
        });
        match (found, result) {
            (Some(date), _) => return Ok(Some(date)),
            (None, Err(e)) => return Err(e),
            (None, Ok(())) => {}
        }
    }
    Ok(None)
}

/// The own records of `dates` (a matcher each) and the count of other cycles' records, by
/// the streaming ledger parser.
fn load_streaming<L: Read>(
    ledger: L,
    ledger_name: &str,
    dates: &[ClearingDate],
) -> Result<bulk::Loaded, Error> {
    let mut matchers: Vec<CycleMatcher> = dates.iter().map(|d| CycleMatcher::new(*d)).collect();
    let mut other: BTreeMap<ClearingDate, u64> = BTreeMap::new();
    read_ledger(ledger, ledger_name, |record, line| {
        let date = record.cycle();
        match dates.iter().position(|d| *d == date) {
            Some(i) => matchers[i].add_own(ledger_name, line, record).map(|_| ()),
            None => {
                *other.entry(date).or_default() += 1;
                Ok(())
            }
        }
    })?;
    Ok((matchers, other))
}

/// Matches one Transaction Detail Report: its rows' totals and its summary, and whether the
/// streaming parser had to read it.
fn match_detail<F: Fetch>(
    fetch: &F,
    name: &ReportName,
    options: ReportOptions,
    matcher: &mut CycleMatcher,
    threads: usize,
) -> Result<(RowTotals, Summary, bool), Error> {
    let file = name.file_name();
    let mut parser = parser_for(name, options);
    let mut reader = fetch.open(&file)?;
    match bulk::read_head(&mut reader, &mut parser)? {
        None => return Ok((RowTotals::default(), parser.summary().clone(), false)),
        Some(carry) => {
            if let bulk::FileRows::Done(rows) =
                bulk::match_rows(reader, &parser, carry, matcher, threads)?
            {
                return Ok((rows, parser.summary().clone(), false));
            }
        }
    }
    // The streaming parser, row by row.
    let mut parser = parser_for(name, options);
    let mut rows = RowTotals::default();
    read_report(fetch.open(&file)?, &mut parser, |row| {
        let tx = row.transaction()?;
        rows.add(tx.settlement.unwrap_or(tx.amount))
            .map_err(|_| overflow(&file, tx.line, "the file's rows"))?;
        matcher.report_row(&file, &tx)
    })?;
    Ok((rows, parser.summary().clone(), true))
}

fn reconcile_cycle<F: Fetch>(
    fetch: &F,
    options: ReportOptions,
    date: ClearingDate,
    batches: Vec<(BatchKey, BatchFiles)>,
    mut matcher: CycleMatcher,
    threads: usize,
) -> Result<CycleReport, Error> {
    let mut report = CycleReport {
        date: Some(date),
        batches: batches.iter().map(|(k, _)| batch_label(k)).collect(),
        files: batches
            .iter()
            .flat_map(|(_, b)| b.files.iter().map(ReportName::file_name))
            .collect(),
        result: None,
        summary_report: None,
        summary_findings: Vec::new(),
        fees: Vec::new(),
        notes: Vec::new(),
    };
    let mut fees: BTreeMap<String, RowTotals> = BTreeMap::new();
    for (_, batch) in &batches {
        let mut detail = RowTotals::default();
        for name in batch
            .files
            .iter()
            .filter(|n| n.kind == ReportKind::TransactionItems)
        {
            let file = name.file_name();
            let (rows, summary, streamed) =
                match_detail(fetch, name, options, &mut matcher, threads)?;
            if streamed {
                report.notes.push(std::format!(
                    "{file}: read row by row by the streaming parser (quoted fields, an id named \
                     twice in the cycle, or sums near the limits), not by the block reader"
                ));
            }
            matcher.file_summary(&file, &summary, &rows);
            detail.merge(&rows).map_err(|_| {
                overflow(
                    &file,
                    summary.line,
                    "the batch's Transaction Detail Reports",
                )
            })?;
        }
        for name in batch.files.iter().filter(|n| n.kind == ReportKind::Summary) {
            let file = name.file_name();
            let mut parser = parser_for(name, options);
            read_report(fetch.open(&file)?, &mut parser, |_| Ok(()))?;
            let s = parser.summary();
            report.summary_report = Some(RowTotalsView {
                count: s.total_count,
                net: s.net_total,
            });
            if let Some(problem) = detail.disagreement(s) {
                let detail = std::format!("Summary Report vs Transaction Detail Report: {problem}");
                report
                    .summary_findings
                    .push(Finding::summary_mismatch(&file, s.line, detail));
            }
        }
        for name in batch
            .files
            .iter()
            .filter(|n| n.kind == ReportKind::FeeItems)
        {
            let file = name.file_name();
            let mut parser = parser_for(name, options);
            let mut rows = RowTotals::default();
            read_report(fetch.open(&file)?, &mut parser, |row| {
                let fee = row.fee()?;
                let line = row.line();
                rows.add(fee.amount)
                    .map_err(|_| overflow(&file, line, "the file's fees"))?;
                fees.entry(fee.fee_type.unwrap_or("").to_string())
                    .or_default()
                    .add(fee.amount)
                    .map_err(|_| overflow(&file, line, "the cycle's fees"))
            })?;
            if let Some(problem) = rows.disagreement(parser.summary()) {
                let line = parser.summary().line;
                report
                    .summary_findings
                    .push(Finding::summary_mismatch(&file, line, problem));
            }
        }
    }
    report.fees = fees.into_iter().collect();
    report.result = Some(matcher.finish());
    Ok(report)
}

fn read_settlement<F: Fetch>(
    fetch: &F,
    key: BatchKey,
    batch: BatchFiles,
    options: ReportOptions,
) -> Result<SettlementBatch, Error> {
    let mut out = SettlementBatch {
        batch: batch_label(&key),
        files: Vec::new(),
        summary: Summary::default(),
        rows: Vec::new(),
        total: RowTotals::default(),
    };
    for name in &batch.files {
        let file = name.file_name();
        let mut parser = parser_for(name, options);
        read_report(fetch.open(&file)?, &mut parser, |row| {
            let (clearing, amount) = row.settlement()?;
            if let Some(a) = amount {
                out.total
                    .add(a)
                    .map_err(|_| overflow(&file, row.line(), "the settlement rows"))?;
            }
            out.rows.push((clearing.map(str::to_string), amount));
            Ok(())
        })?;
        if out.files.is_empty() {
            out.summary = parser.summary().clone();
        }
        out.files.push(file);
    }
    Ok(out)
}
