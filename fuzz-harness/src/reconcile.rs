//! alipayplus-reconcile: the settlement report parser, report file names, the ledger parser.

use alipayplus_reconcile::{
    AmountForm, Event, LedgerParser, Limits, ReportKind, ReportName, ReportOptions, ReportParser,
    RowTotals,
};
use alipayplus_types::Currency;

const CURRENCIES: [&str; 5] = ["SGD", "USD", "JPY", "KWD", "CNY"];

/// Most parser calls per input byte before the parser counts as stuck.
const MAX_CALLS_PER_BYTE: usize = 8;

/// Feeds `data` to `step` whole or in chunks of `chunk` bytes, then empty slices (the end of
/// the file), until `step` says it is done; returns its transcript. Asking for more after
/// the end of the file would be a hang.
fn feed(
    data: &[u8],
    chunk: Option<usize>,
    mut step: impl FnMut(&mut &[u8], &mut Vec<String>) -> bool,
) -> Vec<String> {
    let mut transcript = Vec::new();
    let mut rest = data;
    let mut input: &[u8] = &[];
    let budget = data.len() * MAX_CALLS_PER_BYTE + 64;
    for _ in 0..budget {
        // An empty slice after "need input" is the end of the file (before it, a chunk used
        // up): the parser must then finish.
        let asked_before = transcript.last().is_some_and(|t| t == NEED_INPUT);
        let at_end = asked_before && input.is_empty() && rest.is_empty();
        if input.is_empty() && !rest.is_empty() {
            let take = chunk.unwrap_or(rest.len()).min(rest.len());
            (input, rest) = rest.split_at(take);
        }
        if step(&mut input, &mut transcript) {
            return transcript;
        }
        let asked = transcript.last().is_some_and(|t| t == NEED_INPUT);
        assert!(
            !(at_end && asked),
            "asked for input after the end of the file"
        );
    }
    panic!("the parser did not finish within {budget} calls")
}

const NEED_INPUT: &str = "need input";

/// Settlement report files (report.rs, records.rs). Input: 4 bytes of options (kind,
/// currency, bit 0: major-unit amounts, bit 1: tiny buffer caps; chunk size), then the file.
/// The events are the same whether the file comes whole or in chunks, the buffers stay
/// within their caps, and totals never panic.
pub fn report(data: &[u8]) {
    let Some((options, file)) = data.split_first_chunk::<4>() else {
        return;
    };
    let [kind, currency, flags, chunk] = *options;
    let kind = ReportKind::ALL[usize::from(kind) % ReportKind::ALL.len()];
    let currency = CURRENCIES[usize::from(currency) % CURRENCIES.len()];
    let Ok(currency) = Currency::new(currency) else {
        return;
    };
    let limits = if flags & 2 != 0 {
        Limits {
            max_record_bytes: 64,
            max_fields: 8,
        }
    } else {
        Limits::default()
    };
    let options = ReportOptions {
        amounts: if flags & 1 != 0 {
            AmountForm::MajorDecimal
        } else {
            AmountForm::MinorUnits
        },
        limits,
    };
    let bound = 4 * (limits.max_record_bytes + limits.max_fields * 16) + 8192;
    let run = |chunk: Option<usize>| {
        let mut parser = ReportParser::new("fuzz.csv", kind, currency, options);
        let mut totals = RowTotals::default();
        let transcript = feed(file, chunk, |input, out| {
            let event = parser.next(input);
            let done = match event {
                Err(e) => {
                    out.push(format!("error {e}"));
                    true
                }
                Ok(Event::NeedInput) => {
                    out.push(NEED_INPUT.into());
                    false
                }
                Ok(Event::Summary) => {
                    out.push("summary".into());
                    false
                }
                Ok(Event::End) => {
                    out.push("end".into());
                    true
                }
                Ok(Event::Row(row)) => {
                    let tx = row.transaction();
                    if let Ok(tx) = &tx {
                        let _ = totals.add(tx.amount);
                    }
                    out.push(format!(
                        "row {} {:?} {:?} {:?} {:?}",
                        row.line(),
                        row.columns().collect::<Vec<_>>(),
                        tx.map_err(|e| e.to_string()),
                        row.fee().map_err(|e| e.to_string()),
                        row.settlement().map_err(|e| e.to_string()),
                    ));
                    false
                }
            };
            assert!(
                parser.buffer_bytes() <= bound,
                "{} buffer bytes over {bound}",
                parser.buffer_bytes()
            );
            done
        });
        let _ = totals.net();
        let _ = totals.disagreement(parser.summary());
        let rows = parser.rows();
        (transcript, rows, format!("{:?}", parser.summary()))
    };
    let whole = run(None);
    let chunked = run(Some(usize::from(chunk.max(1))));
    let events = |t: &Vec<String>| {
        t.iter()
            .filter(|e| *e != NEED_INPUT)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        events(&whole.0),
        events(&chunked.0),
        "chunking changed the events"
    );
    assert_eq!(
        (whole.1, &whole.2),
        (chunked.1, &chunked.2),
        "chunking changed the totals"
    );
}

/// Report file names (name.rs). A name that parses is exactly the name it formats to.
pub fn report_name(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(name) = ReportName::parse(&text) else {
        return;
    };
    assert_eq!(name.file_name(), text, "a parsed name formats differently");
    assert_eq!(ReportName::parse(&name.file_name()).ok(), Some(name));
}

/// The merchant's ledger file (ledger.rs). Input: 1 byte of chunk size, then the file. The
/// records are the same whole or in chunks.
pub fn ledger(data: &[u8]) {
    let Some((&chunk, file)) = data.split_first() else {
        return;
    };
    let run = |chunk: Option<usize>| {
        let mut parser = LedgerParser::new("ledger.csv");
        feed(file, chunk, |input, out| match parser.next(input) {
            Err(e) => {
                out.push(format!("error {e}"));
                true
            }
            Ok(None) => {
                out.push("end".into());
                true
            }
            Ok(Some(None)) => {
                out.push(NEED_INPUT.into());
                false
            }
            Ok(Some(Some(record))) => {
                let _ = record.cycle();
                out.push(format!("record {} {record:?}", parser.line()));
                false
            }
        })
    };
    let events = |t: Vec<String>| {
        t.into_iter()
            .filter(|e| e != NEED_INPUT)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        events(run(None)),
        events(run(Some(usize::from(chunk.max(1))))),
        "chunking changed the records"
    );
}

/// Placing a report file by its summary section (name.rs `ReportName::place`). Input: the
/// file name, a newline, then the report. Every placing is a split of the name that formats
/// back to it and agrees with every id the summary states; the tie-break picks one of them.
pub fn report_place(data: &[u8]) {
    let Some(newline) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let name = String::from_utf8_lossy(&data[..newline]);
    let Ok(candidates) = ReportName::candidates(&name) else {
        assert!(ReportName::place(&name, &Default::default()).is_err());
        return;
    };
    let first = &candidates[0];
    let mut parser = ReportParser::new(
        "fuzz.csv",
        first.kind,
        first.currency,
        ReportOptions::default(),
    );
    let mut input = &data[newline + 1..];
    let summary = loop {
        match parser.next(&mut input) {
            Ok(Event::NeedInput) if input.is_empty() => {
                // End of the file.
                let mut end: &[u8] = &[];
                match parser.next(&mut end) {
                    Ok(_) => break parser.summary().clone(),
                    Err(_) => return,
                }
            }
            Ok(Event::NeedInput) => {}
            Ok(_) => break parser.summary().clone(),
            Err(_) => return,
        }
    };
    let Ok(placed) = ReportName::place(&name, &summary) else {
        return;
    };
    assert!(!placed.is_empty(), "an empty placing is an error, not Ok");
    for n in &placed {
        assert_eq!(n.file_name(), name, "a placing formats differently");
        assert!(
            candidates.contains(n),
            "a placing that is no split of the name"
        );
        let batch = if n.kind.is_clearing() {
            "clearingBatchId"
        } else {
            "settlementBatchId"
        };
        for (column, value) in [
            (batch, n.batch_id.as_str()),
            ("settlementCurrency", n.currency.as_str()),
        ] {
            if let Some(v) = summary.get(column).map(str::trim).filter(|v| !v.is_empty()) {
                assert_eq!(
                    v, value,
                    "a placing that contradicts the summary's {column}"
                );
            }
        }
    }
    if let Some(one) = ReportName::tie_break(&placed) {
        assert!(placed.contains(&one));
    }
}

/// A fetcher serving one in-memory Transaction Detail Report.
struct OneReport(Vec<u8>);

impl alipayplus_reconcile::fetch::Fetch for OneReport {
    type Reader = std::io::Cursor<Vec<u8>>;
    fn list(&self) -> Result<Vec<String>, alipayplus_reconcile::Error> {
        Ok(vec!["transactionItems_P_SGD_20250601_PSGD_000.csv".into()])
    }
    fn open(&self, _name: &str) -> Result<Self::Reader, alipayplus_reconcile::Error> {
        Ok(std::io::Cursor::new(self.0.clone()))
    }
}

/// The daily job's block reader and its fall-back to the streaming parser (job.rs, bulk.rs)
/// on a report and a ledger. Input: 1 byte (where the report ends, as a share of the rest),
/// then both files. The result (findings in order, totals, notes, or the error) is the same
/// on 1 and on 3 threads.
pub fn reconcile_job(data: &[u8]) {
    use alipayplus_reconcile::job::reconcile_with_threads;
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let at = rest.len() * usize::from(cut) / 255;
    let (report, ledger) = rest.split_at(at);
    let run = |threads: usize| {
        let result = reconcile_with_threads(
            &OneReport(report.to_vec()),
            "ledger.csv",
            || Ok(ledger),
            ReportOptions::default(),
            std::num::NonZeroUsize::new(threads).expect("non-zero"),
        );
        match result {
            Ok(r) => format!("{:?} {:?} {:?}", r.cycles, r.uncompared_own, r.verdict()),
            Err(e) => format!("error {e}"),
        }
    };
    assert_eq!(run(1), run(3), "the thread count changed the result");
}
