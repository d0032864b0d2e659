//! The merchant's own records: successful payments and refunds with the transaction time
//! Alipay+ gave (`paymentTime` from notifyPayment / inquiryPayment, `refundTime` from refund),
//! so both sides fall into the same clearing cycle.
//!
//! [`LedgerParser`] reads them from CSV with the header
//! `transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime`
//! (columns in any order, extra columns ignored, value in minor units and positive even for
//! refunds, time RFC 3339), streaming like the report parser.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alipayplus_types::{Amount, Currency, DateTime};

use crate::records::{Fields, Limits, Next, RecordReader};
use crate::{ClearingDate, Error, TransactionType};

/// One own record.
///
/// ```
/// use alipayplus_reconcile::{LedgerRecord, TransactionType};
/// use alipayplus_types::{Amount, Currency, DateTime};
/// let r = LedgerRecord {
///     request_id: "RFD-1".into(),
///     transaction_type: TransactionType::Refund,
///     amount: Amount::new(Currency::SGD, 300),
///     time: DateTime::parse("2025-06-01T11:00:00+08:00").unwrap(),
/// };
/// assert_eq!(r.cycle().to_string(), "2025-06-01");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRecord {
    /// paymentRequestId or refundRequestId.
    pub request_id: String,
    /// PAYMENT or REFUND.
    pub transaction_type: TransactionType,
    /// The amount, positive even for refunds.
    pub amount: Amount,
    /// paymentTime / refundTime as Alipay+ gave it.
    pub time: DateTime,
}

impl LedgerRecord {
    /// The clearing cycle the record belongs to.
    pub fn cycle(&self) -> ClearingDate {
        ClearingDate::of(&self.time)
    }
}

const COLUMNS: [&str; 5] = [
    "transactionRequestId",
    "transactionType",
    "transactionAmountValue",
    "transactionCurrency",
    "transactionTime",
];

/// Incremental parser of the ledger CSV.
///
/// ```
/// use alipayplus_reconcile::LedgerParser;
/// let csv = b"transactionTime,transactionRequestId,transactionType,transactionAmountValue,transactionCurrency\n\
///             2025-06-01T10:00:00+08:00,PAY-1,PAYMENT,1500,SGD\n";
/// let mut parser = LedgerParser::new("ledger.csv");
/// let mut input: &[u8] = csv;
/// let mut records = Vec::new();
/// loop {
///     match parser.next(&mut input).unwrap() {
///         Some(Some(record)) => records.push(record),
///         Some(None) => input = b"", // chunk used up; no more bytes
///         None => break,
///     }
/// }
/// assert_eq!(records[0].request_id, "PAY-1");
/// assert_eq!(records[0].amount.minor(), 1500);
/// ```
pub struct LedgerParser {
    file: String,
    records: RecordReader,
    columns: Option<[usize; 5]>,
    width: usize,
    /// [`LedgerParser::read_head`] is reading: stop after the header.
    pause: bool,
}

/// An own record without allocation: the time as Unix seconds.
pub(crate) struct LedgerLite<'a> {
    pub(crate) id: &'a str,
    pub(crate) refund: bool,
    pub(crate) amount: Amount,
    pub(crate) unix: i64,
}

/// Reads one ledger record: the one implementation behind [`LedgerParser::next`] and the
/// job's block workers (same checks, same messages).
pub(crate) fn parse_ledger<'a>(
    get: &dyn Fn(usize) -> &'a str,
    fields: usize,
    width: usize,
    cols: [usize; 5],
    file: &str,
    line: u64,
) -> Result<LedgerLite<'a>, Error> {
    let bad = |p: String| Error::malformed(file, line, p);
    if fields != width {
        return Err(bad(alloc::format!(
            "the row has {fields} fields, the header {width}"
        )));
    }
    let field = |i: usize| get(cols[i]).trim();
    let id = field(0);
    if id.is_empty() {
        return Err(bad("transactionRequestId is empty".into()));
    }
    let refund = match field(1) {
        "PAYMENT" => false,
        "REFUND" => true,
        other => {
            return Err(bad(alloc::format!(
                "transactionType {:?} is neither PAYMENT nor REFUND",
                crate::error::echo(other)
            )));
        }
    };
    let currency = Currency::new(field(3)).map_err(|e| bad(e.to_string()))?;
    let value = field(2)
        .parse::<alipayplus_types::MinorUnits>()
        .map_err(|e| bad(alloc::format!("transactionAmountValue: {e}")))?;
    let time = field(4);
    let unix = crate::cycle::unix_seconds(time).ok_or_else(|| {
        let e = DateTime::parse(time)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        bad(alloc::format!("transactionTime: {e}"))
    })?;
    Ok(LedgerLite {
        id,
        refund,
        amount: Amount::new(currency, value.get()),
        unix,
    })
}

impl LedgerParser {
    /// A parser for the ledger `file` (used in errors).
    pub fn new(file: &str) -> Self {
        LedgerParser {
            file: file.to_string(),
            records: RecordReader::new(Limits::default()),
            columns: None,
            width: 0,
            pause: false,
        }
    }

    /// Reads the header, stopping where the records begin (`input` is advanced exactly past
    /// the header line): `Ok(true)` when the header was read, `Ok(false)` when the chunk is
    /// used up first.
    pub(crate) fn read_head(&mut self, input: &mut &[u8]) -> Result<bool, Error> {
        self.pause = true;
        let head = self.next(input);
        self.pause = false;
        match head? {
            Some(None) => Ok(self.columns.is_some()),
            // Not reached: the parser pauses after the header, and an empty ledger is an error.
            _ => Ok(self.columns.is_some()),
        }
    }

    /// The header's columns and width, once read.
    pub(crate) fn columns(&self) -> Option<([usize; 5], usize)> {
        self.columns.map(|c| (c, self.width))
    }

    /// The 1-based line of the last record read.
    pub fn line(&self) -> u64 {
        self.records.record_line()
    }

    /// Reads on from `input`: `Some(Some(record))`, `Some(None)` when the chunk is used up
    /// (call again with the next one, or an empty slice at the end), `None` at the end.
    pub fn next(&mut self, input: &mut &[u8]) -> Result<Option<Option<LedgerRecord>>, Error> {
        loop {
            match self.records.next(input, &self.file)? {
                Next::NeedInput => return Ok(Some(None)),
                Next::End if self.columns.is_none() => {
                    return Err(Error::malformed(
                        &self.file,
                        1,
                        "the ledger has no header line",
                    ));
                }
                Next::End => return Ok(None),
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
            match self.columns {
                None => {
                    self.columns = Some(self.header(fields, line)?);
                    self.width = fields.len();
                    if self.pause {
                        return Ok(Some(None));
                    }
                }
                Some(cols) => return self.record(fields, cols, line).map(|r| Some(Some(r))),
            }
        }
    }

    fn header(&self, fields: Fields<'_>, line: u64) -> Result<[usize; 5], Error> {
        let names: Vec<&str> = fields.iter().collect();
        crate::report::unique_columns(&names, &self.file, line)?;
        let mut cols = [0; 5];
        for (slot, name) in cols.iter_mut().zip(COLUMNS) {
            *slot = fields
                .iter()
                .position(|f| f.trim() == name)
                .ok_or_else(|| Error::MissingColumn {
                    file: self.file.clone(),
                    line,
                    column: name,
                })?;
        }
        Ok(cols)
    }

    fn record(
        &self,
        fields: Fields<'_>,
        cols: [usize; 5],
        line: u64,
    ) -> Result<LedgerRecord, Error> {
        let get = move |i: usize| fields.get(i);
        let lite = parse_ledger(&get, fields.len(), self.width, cols, &self.file, line)?;
        let time = DateTime::parse(fields.get(cols[4]).trim()).map_err(|e| {
            Error::malformed(&self.file, line, alloc::format!("transactionTime: {e}"))
        })?;
        Ok(LedgerRecord {
            request_id: lite.id.to_string(),
            transaction_type: if lite.refund {
                TransactionType::Refund
            } else {
                TransactionType::Payment
            },
            amount: lite.amount,
            time,
        })
    }
}

/// Collects the records of one cycle from a stream of records (the matcher holds one cycle
/// in memory at a time).
pub fn records_in(
    cycle: ClearingDate,
    records: impl IntoIterator<Item = LedgerRecord>,
) -> Vec<LedgerRecord> {
    records.into_iter().filter(|r| r.cycle() == cycle).collect()
}
