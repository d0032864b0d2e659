//! The streaming report parser core (reconcile.md §4), `no_std` over bytes.
//!
//! A report is a summary header line and its value line, then a detail header line and one
//! line per item, optionally separated by blank lines and closed by a `<END>` line. Columns
//! are found by header name in any order and unknown columns are kept ([`Row::columns`]). The
//! parser holds one record at a time in buffers capped by [`Limits`], so a report of millions
//! of rows is read in constant memory: feed it chunks of any size with [`ReportParser::next`].
//!
//! Amounts: integer minor units, negative for refunds, as the sample shows. Whether reports
//! really use minor units or major-unit decimals is UNCERTAIN (reconcile.md §6): the choice is
//! [`AmountForm::MinorUnits`] by default and [`AmountForm::MajorDecimal`] is one option away.
//!
//! Column names are UNCERTAIN too (§6): the candidates this parser looks for are listed at
//! each accessor; a report that lacks a required column is [`Error::MissingColumn`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alipayplus_types::{Currency, DateTime, SignedAmount};

use crate::error::echo;
use crate::records::{Fields, Limits, Next, RecordReader};
use crate::{Error, ReportKind};

/// How report amounts are written (UNCERTAIN in reconcile.md §6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AmountForm {
    /// Integer minor units with an optional `-` (`-300` SGD is S$-3.00), like the API's
    /// `Amount.value` and the spec's sample. The default.
    #[default]
    MinorUnits,
    /// Major-unit decimals (`-3.00`), converted exactly with the currency's ISO 4217 exponent.
    MajorDecimal,
}

impl AmountForm {
    /// Parses `text` as an amount of `currency` in this form.
    ///
    /// ```
    /// use alipayplus_reconcile::AmountForm;
    /// use alipayplus_types::{Currency, SignedAmount};
    /// let minor = AmountForm::MinorUnits.parse(Currency::SGD, "-300").unwrap();
    /// let major = AmountForm::MajorDecimal.parse(Currency::SGD, "-3.00").unwrap();
    /// assert_eq!(minor, major);
    /// assert_eq!(minor, SignedAmount::new(Currency::SGD, -300));
    /// ```
    pub fn parse(
        self,
        currency: Currency,
        text: &str,
    ) -> Result<SignedAmount, alipayplus_types::Error> {
        match self {
            AmountForm::MinorUnits => SignedAmount::parse_minor(currency, text),
            AmountForm::MajorDecimal => SignedAmount::parse_major(currency, text),
        }
    }
}

/// Parser options.
///
/// ```
/// use alipayplus_reconcile::{AmountForm, Limits, ReportOptions};
/// let options = ReportOptions { amounts: AmountForm::MajorDecimal, ..ReportOptions::default() };
/// assert_eq!(options.limits, Limits::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// How amounts are written.
    pub amounts: AmountForm,
    /// Buffer caps.
    pub limits: Limits,
}

/// PAYMENT or REFUND; another value is kept as it was written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransactionType {
    /// A payment (money to the merchant).
    Payment,
    /// A refund (money back to the user; negative in reports).
    Refund,
    /// A value this version does not know.
    Unrecognized(String),
}

impl TransactionType {
    /// `"PAYMENT"` → `Payment`, `"REFUND"` → `Refund`, anything else kept.
    ///
    /// ```
    /// use alipayplus_reconcile::TransactionType;
    /// assert_eq!(TransactionType::parse("REFUND"), TransactionType::Refund);
    /// assert_eq!(TransactionType::parse("CAPTURE").as_str(), "CAPTURE");
    /// ```
    pub fn parse(text: &str) -> Self {
        match text {
            "PAYMENT" => TransactionType::Payment,
            "REFUND" => TransactionType::Refund,
            other => TransactionType::Unrecognized(echo(other)),
        }
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            TransactionType::Payment => "PAYMENT",
            TransactionType::Refund => "REFUND",
            TransactionType::Unrecognized(s) => s,
        }
    }

    /// The sign reports give this type's amounts: +1, -1 (refunds), or `None` when unknown.
    pub fn report_sign(&self) -> Option<i64> {
        match self {
            TransactionType::Payment => Some(1),
            TransactionType::Refund => Some(-1),
            TransactionType::Unrecognized(_) => None,
        }
    }
}

// Candidate column names (reconcile.md §6, UNCERTAIN): the first present one is used.
const COL_REQUEST_ID: &[&str] = &["transactionRequestId"];
const COL_TYPE: &[&str] = &["transactionType"];
const COL_TIME: &[&str] = &["transactionTime"];
const COL_TX_VALUE: &[&str] = &["transactionAmountValue"];
const COL_TX_CURRENCY: &[&str] = &["transactionCurrency"];
const COL_SETTLE_VALUE: &[&str] = &["settlementAmountValue"];
const COL_SETTLE_CURRENCY: &[&str] = &["settlementCurrency"];
const COL_FEE_TYPE: &[&str] = &["feeType"];
const COL_FEE_VALUE: &[&str] = &["feeAmountValue", "feeAmount", "amountValue"];
const COL_FEE_CURRENCY: &[&str] = &[
    "feeCurrency",
    "feeAmountCurrency",
    "currency",
    "settlementCurrency",
];
const COL_BATCH: &[&str] = &["clearingBatchId"];
const COL_COUNT: &[&str] = &["totalCount"];
const COL_NET: &[&str] = &[
    "netTotalAmount",
    "totalAmount",
    "netSettlementAmountValue",
    "settlementAmountValue",
];
const COL_CURRENCY: &[&str] = &["settlementCurrency", "currency"];

/// The end marker line.
const END: &str = "<END>";

/// The summary section: header names and values, with the figures the matcher needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// `(name, value)` in file order, unknown ones included.
    pub fields: Vec<(String, String)>,
    /// 1-based line of the value line.
    pub line: u64,
    /// `totalCount`, when present.
    pub total_count: Option<u64>,
    /// The summary's net total (`netTotalAmount`, else `totalAmount`, else
    /// `settlementAmountValue`), in its `settlementCurrency` or the file name's currency.
    pub net_total: Option<SignedAmount>,
}

impl Summary {
    /// The value of a summary column.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parser state: which line comes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    SummaryHeader,
    SummaryValues,
    DetailHeader,
    Rows,
    /// After `<END>`: only blank lines may follow.
    Ended,
}

/// What [`ReportParser::next`] produced.
#[derive(Debug)]
pub enum Event<'p> {
    /// The input chunk is used up: call again with the next one, or with an empty slice at
    /// the end of the file.
    NeedInput,
    /// The summary section was read ([`ReportParser::summary`]).
    Summary,
    /// A detail row.
    Row(Row<'p>),
    /// The report ended (after its last row or `<END>`).
    End,
}

/// Incremental parser of one report file.
///
/// ```
/// use alipayplus_reconcile::{Event, ReportKind, ReportOptions, ReportParser};
/// use alipayplus_types::Currency;
/// let csv = b"totalCount,netTotalAmount\n1,1500\n\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency\nPAY-1,PAYMENT,1500,SGD\n<END>\n";
/// let mut parser = ReportParser::new("t.csv", ReportKind::TransactionItems, Currency::SGD, ReportOptions::default());
/// let mut input: &[u8] = csv;
/// let mut ids = Vec::new();
/// loop {
///     match parser.next(&mut input).unwrap() {
///         Event::Row(row) => ids.push(row.transaction().unwrap().request_id.to_string()),
///         Event::NeedInput => input = b"", // no more bytes: the end of the file
///         Event::Summary => {}
///         Event::End => break,
///     }
/// }
/// assert_eq!(ids, ["PAY-1"]);
/// assert_eq!(parser.summary().total_count, Some(1));
/// ```
pub struct ReportParser {
    file: String,
    kind: ReportKind,
    currency: Currency,
    amounts: AmountForm,
    records: RecordReader,
    state: State,
    summary_header: Vec<String>,
    summary: Summary,
    header: Vec<String>,
    rows: u64,
    ended: bool,
    /// Column positions for [`Row::transaction`] once the detail header has them all.
    tx: Option<TxCols>,
    /// [`ReportParser::read_head`] is reading: stop once the detail header is read.
    pause_at_rows: bool,
}

/// What [`ReportParser::read_head`] reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Head {
    /// The chunk is used up; call again with the next one.
    NeedInput,
    /// The detail header was read; the rows start at the input's position.
    Rows,
    /// The report ended (an empty cycle).
    End,
}

/// Column positions of a Transaction Detail Report row (each candidate list of §6 has one
/// name, and a header naming a column twice is an error, so positions are unique).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TxCols {
    id: usize,
    ttype: usize,
    value: usize,
    ccy: usize,
    settle_value: Option<usize>,
    settle_ccy: Option<usize>,
    time: Option<usize>,
}

impl TxCols {
    fn of(header: &[String]) -> Option<Self> {
        Some(TxCols {
            id: index(header, COL_REQUEST_ID)?,
            ttype: index(header, COL_TYPE)?,
            value: index(header, COL_TX_VALUE)?,
            ccy: index(header, COL_TX_CURRENCY)?,
            settle_value: index(header, COL_SETTLE_VALUE),
            settle_ccy: index(header, COL_SETTLE_CURRENCY),
            time: index(header, COL_TIME),
        })
    }
}

/// What a detail row needs to be read without its parser (by the job's block workers).
#[derive(Clone, Debug)]
pub(crate) struct RowSchema {
    pub(crate) file: String,
    pub(crate) currency: Currency,
    pub(crate) amounts: AmountForm,
    pub(crate) width: usize,
    pub(crate) cols: TxCols,
    pub(crate) limits: Limits,
}

/// A Transaction Detail Report row without allocation (its time checked, not kept).
pub(crate) struct TxLite<'a> {
    pub(crate) id: &'a str,
    pub(crate) ttype: TransactionType,
    pub(crate) amount: SignedAmount,
    pub(crate) settlement: Option<SignedAmount>,
}

/// Reads a Transaction Detail Report row: the one implementation behind [`Row::transaction`]
/// and the job's block workers (same checks, same messages).
pub(crate) fn parse_tx<'a>(
    get: &dyn Fn(usize) -> &'a str,
    cols: &TxCols,
    currency: Currency,
    amounts: AmountForm,
    file: &str,
    line: u64,
) -> Result<TxLite<'a>, Error> {
    let bad = |p: String| Error::malformed(file, line, p);
    let required = |i: usize, name: &str| {
        let v = get(i).trim();
        if v.is_empty() {
            Err(bad(alloc::format!("{name} is empty")))
        } else {
            Ok(v)
        }
    };
    let currency_of = |c: &str| {
        Currency::new(c).map_err(|_| bad(alloc::format!("currency {:?} is not valid", echo(c))))
    };
    let id = required(cols.id, COL_REQUEST_ID[0])?;
    let ttype = TransactionType::parse(required(cols.ttype, COL_TYPE[0])?);
    let value = required(cols.value, COL_TX_VALUE[0])?;
    let ccy = currency_of(required(cols.ccy, COL_TX_CURRENCY[0])?)?;
    let amount = amounts
        .parse(ccy, value)
        .map_err(|e| bad(alloc::format!("{}: {e}", COL_TX_VALUE[0])))?;
    let settlement = match cols.settle_value.map(|i| get(i).trim()) {
        Some(v) if !v.is_empty() => {
            let c = match cols.settle_ccy.map(|i| get(i).trim()) {
                Some(c) if !c.is_empty() => currency_of(c)?,
                _ => currency,
            };
            let a = amounts
                .parse(c, v)
                .map_err(|e| bad(alloc::format!("{}: {e}", COL_SETTLE_VALUE[0])))?;
            Some(a)
        }
        _ => None,
    };
    // The time is checked (a malformed one is an error), not kept: rows are placed by the
    // cycle of their file.
    if let Some(t) = cols.time.map(|i| get(i).trim()).filter(|t| !t.is_empty()) {
        crate::cycle::unix_seconds(t).ok_or_else(|| {
            let e = DateTime::parse(t)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            bad(alloc::format!("transactionTime: {e}"))
        })?;
    }
    Ok(TxLite {
        id,
        ttype,
        amount,
        settlement,
    })
}

/// A running sum over a block of rows, kept so that adding the block to a [`RowTotals`]
/// gives what adding its rows one by one gives: the sum and the range of prefix sums of the
/// leading rows in the first row's currency (after a row in another currency the rows have
/// no single total, and [`RowTotals::add`] stops summing).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BlockSum {
    count: u64,
    currency: Option<Currency>,
    mixed: bool,
    total: i128,
    lo: i128,
    hi: i128,
}

impl BlockSum {
    pub(crate) fn add(&mut self, a: SignedAmount) {
        self.count += 1;
        match self.currency {
            None => self.currency = Some(a.currency),
            _ if self.mixed => return,
            Some(c) if c != a.currency => {
                self.mixed = true;
                return;
            }
            Some(_) => {}
        }
        self.total += i128::from(a.minor);
        self.lo = self.lo.min(self.total);
        self.hi = self.hi.max(self.total);
    }

    /// Appends the rows of `next` (the block after this one).
    pub(crate) fn extend(&mut self, next: &BlockSum) {
        if next.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *next;
            return;
        }
        self.count += next.count;
        if self.mixed {
            return;
        }
        if next.currency != self.currency {
            self.mixed = true;
            return;
        }
        self.lo = self.lo.min(self.total + next.lo);
        self.hi = self.hi.max(self.total + next.hi);
        self.total += next.total;
        self.mixed = next.mixed;
    }
}

impl ReportParser {
    /// A parser for the report `file` (used in errors) of `kind`, settled in `currency` (the
    /// file name's currency, used where a row or the summary names none).
    pub fn new(file: &str, kind: ReportKind, currency: Currency, options: ReportOptions) -> Self {
        ReportParser {
            file: file.to_string(),
            kind,
            currency,
            amounts: options.amounts,
            records: RecordReader::new(options.limits),
            state: State::SummaryHeader,
            summary_header: Vec::new(),
            summary: Summary::default(),
            header: Vec::new(),
            rows: 0,
            ended: false,
            tx: None,
            pause_at_rows: false,
        }
    }

    /// The file label errors name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The summary section (empty until [`Event::Summary`]).
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The detail header's column names (empty until it was read).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Detail rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes held by the parser's record buffers: bounded by [`Limits`] whatever the input
    /// size (what the constant-memory claim rests on).
    pub fn buffer_bytes(&self) -> usize {
        self.records.buffer_bytes()
    }

    /// Reads the summary section and the detail header, stopping where the rows begin
    /// (`input` is advanced exactly past the header line).
    pub(crate) fn read_head(&mut self, input: &mut &[u8]) -> Result<Head, Error> {
        self.pause_at_rows = true;
        let head = loop {
            let event = match self.next(input) {
                Err(e) => Err(e),
                Ok(Event::NeedInput) => Ok(Head::NeedInput),
                Ok(Event::Summary) => continue,
                Ok(Event::End) => Ok(Head::End),
                // Not reached: the parser pauses before the first row.
                Ok(Event::Row(_)) => Ok(Head::Rows),
            };
            break match event {
                Ok(Head::NeedInput) if self.state == State::Rows => Ok(Head::Rows),
                other => other,
            };
        };
        self.pause_at_rows = false;
        head
    }

    /// The line of the next byte (the first row's, after [`read_head`](Self::read_head)).
    pub(crate) fn next_line(&self) -> u64 {
        self.records.next_line()
    }

    /// What block workers need to read this report's rows, once the detail header was read
    /// and has the Transaction Detail Report columns.
    pub(crate) fn schema(&self) -> Option<RowSchema> {
        Some(RowSchema {
            file: self.file.clone(),
            currency: self.currency,
            amounts: self.amounts,
            width: self.header.len(),
            cols: self.tx?,
            limits: self.records.limits(),
        })
    }

    /// Reads on from `input` (advanced past what was used); an empty `input` is the end of
    /// the file. After [`Event::End`] it keeps returning `End`.
    pub fn next(&mut self, input: &mut &[u8]) -> Result<Event<'_>, Error> {
        loop {
            if self.ended {
                return Ok(Event::End);
            }
            match self.records.next(input, &self.file)? {
                Next::NeedInput => return Ok(Event::NeedInput),
                Next::End => return self.at_end(),
                Next::Record => {}
            }
            let line = self.records.record_line();
            let fields = self.records.fields().map_err(|i| {
                Error::malformed(
                    &self.file,
                    line,
                    alloc::format!("field {} is not UTF-8", i + 1),
                )
            })?;
            if fields.is_blank() {
                continue;
            }
            let is_end = fields.len() == 1 && fields.get(0).trim() == END;
            match (self.state, is_end) {
                (State::Rows, false) => break,
                (State::Ended, false) => {
                    return Err(Error::malformed(
                        &self.file,
                        line,
                        "data after the <END> line",
                    ));
                }
                (State::SummaryHeader | State::SummaryValues, true) => {
                    return Err(Error::malformed(
                        &self.file,
                        line,
                        "<END> before the summary section",
                    ));
                }
                (_, true) => self.state = State::Ended,
                (State::SummaryHeader, false) => {
                    self.summary_header = owned(fields);
                    unique_columns(&self.summary_header, &self.file, line)?;
                    self.state = State::SummaryValues;
                }
                (State::SummaryValues, false) => {
                    let values = owned(fields);
                    self.read_summary(values, line)?;
                    self.state = State::DetailHeader;
                    return Ok(Event::Summary);
                }
                (State::DetailHeader, false) => {
                    self.header = owned(fields);
                    unique_columns(&self.header, &self.file, line)?;
                    self.check_header(line)?;
                    self.tx = TxCols::of(&self.header);
                    self.state = State::Rows;
                    if self.pause_at_rows {
                        return Ok(Event::NeedInput);
                    }
                }
            }
        }
        let line = self.records.record_line();
        let fields = self
            .records
            .fields()
            .map_err(|_| Error::malformed(&self.file, line, "not UTF-8"))?;
        if fields.len() != self.header.len() {
            return Err(Error::malformed(
                &self.file,
                line,
                alloc::format!(
                    "the row has {} fields, the header {} (truncated or shifted line?)",
                    fields.len(),
                    self.header.len()
                ),
            ));
        }
        self.rows += 1;
        Ok(Event::Row(Row {
            parser: self,
            fields,
            line,
        }))
    }

    fn at_end(&mut self) -> Result<Event<'_>, Error> {
        let line = self.records.record_line();
        match self.state {
            State::SummaryHeader | State::SummaryValues => Err(Error::malformed(
                &self.file,
                line,
                "the file ends before the summary section is complete (truncated download?)",
            )),
            // An empty cycle may end right after its summary or its detail header.
            _ => {
                self.ended = true;
                Ok(Event::End)
            }
        }
    }

    fn read_summary(&mut self, values: Vec<String>, line: u64) -> Result<(), Error> {
        if values.len() != self.summary_header.len() {
            return Err(Error::malformed(
                &self.file,
                line,
                alloc::format!(
                    "the summary has {} values for {} names",
                    values.len(),
                    self.summary_header.len()
                ),
            ));
        }
        let fields: Vec<(String, String)> = core::mem::take(&mut self.summary_header)
            .into_iter()
            .zip(values)
            .collect();
        let find = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()))
        };
        let bad = |what: &str, v: &str| {
            Error::malformed(
                &self.file,
                line,
                alloc::format!("summary {what} {:?} is not valid", echo(v)),
            )
        };
        let total_count = match find(COL_COUNT) {
            Some(v) => Some(v.parse::<u64>().map_err(|_| bad("totalCount", v))?),
            None => None,
        };
        let currency = match find(COL_CURRENCY) {
            Some(v) if !v.is_empty() => Currency::new(v).map_err(|_| bad("currency", v))?,
            _ => self.currency,
        };
        let net_total = match find(COL_NET) {
            Some(v) => Some(
                self.amounts
                    .parse(currency, v)
                    .map_err(|_| bad("amount", v))?,
            ),
            None => None,
        };
        self.summary = Summary {
            fields,
            line,
            total_count,
            net_total,
        };
        Ok(())
    }

    fn check_header(&self, line: u64) -> Result<(), Error> {
        let required: &[&[&str]] = match self.kind {
            ReportKind::TransactionItems => {
                &[COL_REQUEST_ID, COL_TYPE, COL_TX_VALUE, COL_TX_CURRENCY]
            }
            _ => &[],
        };
        for names in required {
            if index(&self.header, names).is_none() {
                return Err(Error::MissingColumn {
                    file: self.file.clone(),
                    line,
                    column: names[0],
                });
            }
        }
        Ok(())
    }
}

/// A header naming a (non-empty) column twice is an error: first-one-wins would silently read
/// the wrong value. Shared by the report and the ledger parsers.
pub(crate) fn unique_columns<S: AsRef<str>>(
    header: &[S],
    file: &str,
    line: u64,
) -> Result<(), Error> {
    for (i, name) in header.iter().enumerate() {
        let name = name.as_ref().trim();
        if !name.is_empty() && header[..i].iter().any(|h| h.as_ref().trim() == name) {
            return Err(Error::DuplicateColumn {
                file: file.to_string(),
                line,
                column: echo(name),
            });
        }
    }
    Ok(())
}

fn owned(fields: Fields<'_>) -> Vec<String> {
    fields.iter().map(|f| f.trim().to_string()).collect()
}

fn index(header: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h == n))
}

/// A detail row, borrowed from the parser until the next call.
pub struct Row<'p> {
    parser: &'p ReportParser,
    fields: Fields<'p>,
    line: u64,
}

impl core::fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Row")
            .field("file", &self.parser.file)
            .field("line", &self.line)
            .field("fields", &self.fields.len())
            .finish()
    }
}

/// A Transaction Detail Report row, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionRow<'p> {
    /// `transactionRequestId` (paymentRequestId or refundRequestId).
    pub request_id: &'p str,
    /// `transactionType`.
    pub transaction_type: TransactionType,
    /// `transactionAmountValue` in `transactionCurrency` (negative for refunds).
    pub amount: SignedAmount,
    /// `settlementAmountValue` in `settlementCurrency`, when the report has them.
    pub settlement: Option<SignedAmount>,
    /// `transactionTime`, when the report has it.
    pub time: Option<DateTime>,
    /// 1-based line.
    pub line: u64,
}

/// A Fee Report row, typed (columns UNCERTAIN: see [`Row::fee`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeRow<'p> {
    /// `feeType` (interchange / service), when present.
    pub fee_type: Option<&'p str>,
    /// The fee amount.
    pub amount: SignedAmount,
    /// `transactionRequestId`, when present.
    pub request_id: Option<&'p str>,
}

impl<'p> Row<'p> {
    /// 1-based line the row starts on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The value of the column `name`.
    pub fn get(&self, name: &str) -> Option<&'p str> {
        index(&self.parser.header, &[name]).map(|i| self.fields.get(i).trim())
    }

    /// Every `(column, value)`, unknown columns included.
    pub fn columns(&self) -> impl Iterator<Item = (&'p str, &'p str)> + '_ {
        let header = &self.parser.header;
        header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), self.fields.get(i).trim()))
    }

    fn first(&self, names: &[&str]) -> Option<&'p str> {
        index(&self.parser.header, names).map(|i| self.fields.get(i).trim())
    }

    fn required(&self, names: &[&'static str]) -> Result<&'p str, Error> {
        match self.first(names) {
            Some(v) if !v.is_empty() => Ok(v),
            Some(_) => Err(self.bad(alloc::format!("{} is empty", names[0]))),
            None => Err(Error::MissingColumn {
                file: self.parser.file.clone(),
                line: self.line,
                column: names[0],
            }),
        }
    }

    fn bad(&self, problem: String) -> Error {
        Error::malformed(&self.parser.file, self.line, problem)
    }

    /// The amount in the first present value column of `values`, in the first present
    /// currency column of `currencies` (else the file name's currency); `None` when no value
    /// column is present.
    pub fn amount(
        &self,
        values: &[&str],
        currencies: &[&str],
    ) -> Result<Option<SignedAmount>, Error> {
        let Some(value) = self.first(values) else {
            return Ok(None);
        };
        let currency = match self.first(currencies) {
            Some(c) if !c.is_empty() => Currency::new(c)
                .map_err(|_| self.bad(alloc::format!("currency {:?} is not valid", echo(c))))?,
            _ => self.parser.currency,
        };
        self.parser
            .amounts
            .parse(currency, value)
            .map(Some)
            .map_err(|e| self.bad(alloc::format!("{}: {e}", values[0])))
    }

    /// The row as a Transaction Detail Report row: `transactionRequestId`,
    /// `transactionType`, `transactionAmountValue` + `transactionCurrency` are required;
    /// `settlementAmountValue` + `settlementCurrency` and `transactionTime` are read when present.
    pub fn transaction(&self) -> Result<TransactionRow<'p>, Error> {
        let Some(cols) = self.parser.tx else {
            // Some required column is missing: name it.
            self.required(COL_REQUEST_ID)?;
            self.required(COL_TYPE)?;
            self.required(COL_TX_VALUE)?;
            self.required(COL_TX_CURRENCY)?;
            return Err(self.bad("no transaction columns".into()));
        };
        let fields = self.fields;
        let get = move |i: usize| fields.get(i);
        let p = self.parser;
        let tx = parse_tx(&get, &cols, p.currency, p.amounts, &p.file, self.line)?;
        let time = match cols.time.map(|i| fields.get(i).trim()) {
            Some(t) if !t.is_empty() => Some(
                DateTime::parse(t).map_err(|e| self.bad(alloc::format!("transactionTime: {e}")))?,
            ),
            _ => None,
        };
        Ok(TransactionRow {
            request_id: tx.id,
            transaction_type: tx.ttype,
            amount: tx.amount,
            settlement: tx.settlement,
            time,
            line: self.line,
        })
    }

    /// The row as a Fee Report row. Columns are UNCERTAIN (§6): the amount is the first of
    /// `feeAmountValue`, `feeAmount`, `amountValue`; its currency the first of `feeCurrency`,
    /// `feeAmountCurrency`, `currency`, `settlementCurrency`, else the file name's currency.
    pub fn fee(&self) -> Result<FeeRow<'p>, Error> {
        let amount = self
            .amount(COL_FEE_VALUE, COL_FEE_CURRENCY)?
            .ok_or_else(|| Error::MissingColumn {
                file: self.parser.file.clone(),
                line: self.line,
                column: COL_FEE_VALUE[0],
            })?;
        Ok(FeeRow {
            fee_type: self.first(COL_FEE_TYPE).filter(|s| !s.is_empty()),
            amount,
            request_id: self.first(COL_REQUEST_ID).filter(|s| !s.is_empty()),
        })
    }

    /// A Settlement Report row: `clearingBatchId` and its amount (the first of
    /// `settlementAmountValue`, `netSettlementAmountValue`, `amountValue`; UNCERTAIN).
    pub fn settlement(&self) -> Result<(Option<&'p str>, Option<SignedAmount>), Error> {
        let amount = self.amount(
            &[
                "settlementAmountValue",
                "netSettlementAmountValue",
                "amountValue",
            ],
            COL_CURRENCY,
        )?;
        Ok((self.first(COL_BATCH).filter(|s| !s.is_empty()), amount))
    }

    /// Which report the row is from.
    pub fn kind(&self) -> ReportKind {
        self.parser.kind
    }
}

/// Running count and net total of a file's detail rows, to check against its summary.
///
/// The net total sums `settlementAmountValue` when the row has one, else
/// `transactionAmountValue` (UNCERTAIN: which amount `netTotalAmount` adds up is not in the
/// spec; in the sample both are equal). Rows in several currencies have no net total; a sum
/// that overflows 64-bit minor units is a [`TotalOverflow`], which callers turn into an input
/// error naming the file and line.
///
/// ```
/// use alipayplus_reconcile::RowTotals;
/// use alipayplus_types::{Currency, SignedAmount};
/// let mut totals = RowTotals::default();
/// totals.add(SignedAmount::new(Currency::SGD, 1500)).unwrap();
/// totals.add(SignedAmount::new(Currency::SGD, -300)).unwrap();
/// assert_eq!(totals.count, 2);
/// assert_eq!(totals.net(), Some(SignedAmount::new(Currency::SGD, 1200)));
/// assert!(totals.add(SignedAmount::new(Currency::SGD, i64::MAX)).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowTotals {
    /// Rows added.
    pub count: u64,
    net: Option<SignedAmount>,
    /// Rows in several currencies: there is no single net total.
    pub unsummable: bool,
}

/// A sum of amounts does not fit in 64-bit minor units (see [`RowTotals::add`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TotalOverflow;

impl RowTotals {
    /// Adds one row's amount (checked: an overflow leaves the totals unchanged).
    pub fn add(&mut self, amount: SignedAmount) -> Result<(), TotalOverflow> {
        let count = self.count.checked_add(1).ok_or(TotalOverflow)?;
        let net = match self.net {
            _ if self.unsummable => None,
            None => Some(amount),
            Some(net) if net.currency != amount.currency => None,
            Some(net) => Some(net.checked_add(&amount).ok_or(TotalOverflow)?),
        };
        self.count = count;
        self.unsummable |= net.is_none();
        self.net = net;
        Ok(())
    }

    /// Adds another set of rows (e.g. the next seq file of a cycle), checked like [`add`](Self::add).
    pub fn merge(&mut self, other: &RowTotals) -> Result<(), TotalOverflow> {
        if other.count == 0 {
            return Ok(());
        }
        let count = self.count.checked_add(other.count).ok_or(TotalOverflow)?;
        let net = match (self.count, self.net, other.net()) {
            _ if self.unsummable || other.unsummable => None,
            (0, _, n) => n,
            (_, Some(a), Some(b)) if a.currency == b.currency => {
                Some(a.checked_add(&b).ok_or(TotalOverflow)?)
            }
            _ => None,
        };
        self.count = count;
        self.unsummable |= net.is_none();
        self.net = net;
        Ok(())
    }

    /// Adds a block of rows as [`add`](Self::add) would one by one; `false` (nothing
    /// changed) when that would have overflowed somewhere: the caller then adds them one by
    /// one for the error's line.
    pub(crate) fn add_block(&mut self, b: &BlockSum) -> bool {
        let Some(count) = self.count.checked_add(b.count) else {
            return false;
        };
        let Some(currency) = b.currency.filter(|_| b.count > 0) else {
            return true;
        };
        if self.unsummable {
            self.count = count;
            return true;
        }
        let base = match self.net {
            None => 0,
            Some(net) if net.currency == currency => i128::from(net.minor),
            // The block's first row is in another currency: no total from here on.
            Some(_) => {
                (self.count, self.net, self.unsummable) = (count, None, true);
                return true;
            }
        };
        let range = i128::from(i64::MIN)..=i128::from(i64::MAX);
        if !range.contains(&(base + b.lo)) || !range.contains(&(base + b.hi)) {
            return false;
        }
        if b.mixed {
            (self.count, self.net, self.unsummable) = (count, None, true);
            return true;
        }
        let Ok(net) = i64::try_from(base + b.total) else {
            return false;
        };
        self.net = Some(SignedAmount::new(currency, net));
        self.count = count;
        true
    }

    /// The net total, or `None` for no rows or rows that cannot be summed.
    pub fn net(&self) -> Option<SignedAmount> {
        self.net.filter(|_| !self.unsummable)
    }

    /// What disagrees between `summary` and these rows, if anything (one sentence).
    ///
    /// ```
    /// use alipayplus_reconcile::{RowTotals, Summary};
    /// use alipayplus_types::{Currency, SignedAmount};
    /// let summary = Summary { total_count: Some(2), net_total: Some(SignedAmount::new(Currency::SGD, 1200)), ..Summary::default() };
    /// let mut totals = RowTotals::default();
    /// totals.add(SignedAmount::new(Currency::SGD, 1500)).unwrap();
    /// assert!(totals.disagreement(&summary).unwrap().contains("totalCount 2"));
    /// ```
    pub fn disagreement(&self, summary: &Summary) -> Option<String> {
        let mut problems = Vec::new();
        if let Some(count) = summary.total_count.filter(|&c| c != self.count) {
            problems.push(alloc::format!(
                "summary totalCount {count}, rows {}",
                self.count
            ));
        }
        if let Some(total) = summary.net_total {
            let rows = if self.count == 0 {
                Some(SignedAmount::zero(total.currency))
            } else {
                self.net()
            };
            match rows {
                Some(net) if net == total => {}
                Some(net) => problems.push(alloc::format!(
                    "summary net total {total}, rows sum to {net}"
                )),
                None => problems.push(alloc::format!(
                    "summary net total {total}, rows are in several currencies"
                )),
            }
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding blocks gives what adding rows one by one gives (currencies mixed, sums near
    /// the limits), or `false` exactly when row by row overflows.
    #[test]
    fn add_block_agrees_with_add() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let n = (next() % 12) as usize;
            let rows: Vec<SignedAmount> = (0..n)
                .map(|_| {
                    let currency = if next() % 5 == 0 {
                        Currency::USD
                    } else {
                        Currency::SGD
                    };
                    let minor = match next() % 4 {
                        0 => i64::MAX - (next() % 3) as i64,
                        1 => i64::MIN + (next() % 3) as i64,
                        _ => (next() % 2001) as i64 - 1000,
                    };
                    SignedAmount::new(currency, minor)
                })
                .collect();
            let start = match next() % 3 {
                0 => RowTotals::default(),
                _ => {
                    let mut t = RowTotals::default();
                    let _ = t.add(SignedAmount::new(Currency::SGD, (next() % 100) as i64));
                    t
                }
            };
            let mut one = start;
            let ok_one = rows.iter().all(|a| one.add(*a).is_ok());
            // The same rows in two to three blocks.
            let cut1 = (next() as usize) % (n + 1);
            let cut2 = cut1 + (next() as usize) % (n - cut1 + 1);
            let mut blocks = [BlockSum::default(); 3];
            for (i, a) in rows.iter().enumerate() {
                blocks[usize::from(i >= cut1) + usize::from(i >= cut2)].add(*a);
            }
            let mut joined = BlockSum::default();
            for b in &blocks {
                joined.extend(b);
            }
            let mut many = start;
            let ok_many = many.add_block(&joined);
            assert_eq!(ok_one, ok_many, "{rows:?}");
            if ok_one {
                assert_eq!(one, many, "{rows:?}");
            } else {
                assert_eq!(many, start, "nothing changed on false");
            }
        }
    }
}
