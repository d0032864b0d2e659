//! The report parser: structure edge cases, chunking, bad input, constant memory.

use alipayplus_reconcile::{
    AmountForm, Error, Event, Limits, ReportKind, ReportName, ReportOptions, ReportParser,
    TransactionType,
};
use alipayplus_types::{Currency, SignedAmount};

const SAMPLE: &str = include_str!("fixtures/reconcile-transactionItems-sample.csv");

/// What a parse produced: the summary count, each row as `id type amount`, unknown columns.
#[derive(Debug, PartialEq)]
struct Parsed {
    count: Option<u64>,
    net: Option<SignedAmount>,
    rows: Vec<String>,
    lines: Vec<u64>,
}

fn parse_with(bytes: &[u8], chunk: usize, options: ReportOptions) -> Result<Parsed, Error> {
    let mut parser = ReportParser::new(
        "t.csv",
        ReportKind::TransactionItems,
        Currency::SGD,
        options,
    );
    let mut chunks = bytes.chunks(chunk.max(1));
    let mut input: &[u8] = chunks.next().unwrap_or(b"");
    let mut out = Parsed {
        count: None,
        net: None,
        rows: Vec::new(),
        lines: Vec::new(),
    };
    loop {
        match parser.next(&mut input)? {
            Event::NeedInput => input = chunks.next().unwrap_or(b""),
            Event::Summary => {}
            Event::Row(row) => {
                let tx = row.transaction()?;
                out.rows.push(format!(
                    "{} {} {}",
                    tx.request_id,
                    tx.transaction_type.as_str(),
                    tx.amount.minor
                ));
                out.lines.push(row.line());
            }
            Event::End => break,
        }
    }
    out.count = parser.summary().total_count;
    out.net = parser.summary().net_total;
    Ok(out)
}

fn parse(text: &str) -> Result<Parsed, Error> {
    parse_with(text.as_bytes(), usize::MAX, ReportOptions::default())
}

#[test]
fn the_spec_sample_parses_in_any_chunking() {
    let whole = parse(SAMPLE).unwrap();
    assert_eq!(whole.count, Some(2));
    assert_eq!(whole.net, Some(SignedAmount::new(Currency::SGD, 1200)));
    assert_eq!(
        whole.rows,
        [
            "PAY20250601000001 PAYMENT 1500",
            "RFD20250601000001 REFUND -300"
        ]
    );
    assert_eq!(whole.lines, [4, 5]);
    for chunk in 1..16 {
        let bom = [b"\xef\xbb\xbf".as_slice(), SAMPLE.as_bytes()].concat();
        assert_eq!(
            parse_with(&bom, chunk, ReportOptions::default()).unwrap(),
            whole
        );
    }
}

#[test]
fn bom_crlf_quotes_blank_separator_end_marker_and_column_order() {
    let text = "\u{feff}\"totalCount\",netTotalAmount,settlementCurrency\r\n2,\"1200\",SGD\r\n\r\n\
                extra,transactionAmountValue,transactionCurrency,transactionType,transactionRequestId\r\n\
                \"a, \"\"quoted\"\"\nvalue\",1500,SGD,PAYMENT,PAY-1\r\n\
                x,-300,SGD,REFUND,\"RFD-1\"\r\n\r\n<END>\r\n\r\n";
    let p = parse(text).unwrap();
    assert_eq!(p.rows, ["PAY-1 PAYMENT 1500", "RFD-1 REFUND -300"]);
    // The quoted field spans a line: the second row starts on line 7.
    assert_eq!(p.lines, [5, 7]);
    assert_eq!(p.count, Some(2));
}

#[test]
fn unknown_columns_are_kept() {
    let mut parser = ReportParser::new(
        "t.csv",
        ReportKind::TransactionItems,
        Currency::SGD,
        ReportOptions::default(),
    );
    let mut input = SAMPLE.as_bytes();
    loop {
        match parser.next(&mut input).unwrap() {
            Event::Row(row) => {
                let cols: Vec<(&str, &str)> = row.columns().collect();
                assert!(cols.contains(&("pspId", "1022172000000000001")));
                assert_eq!(row.get("referenceMerchantId"), Some("M202400001"));
                break;
            }
            Event::NeedInput => input = b"",
            _ => {}
        }
    }
    assert!(parser.summary().get("clearingBatchId") == Some("20250601"));
}

#[test]
fn empty_cycles_parse() {
    for text in [
        "totalCount,netTotalAmount\n0,0\n",
        "totalCount,netTotalAmount\n0,0\n<END>\n",
        "totalCount,netTotalAmount\n0,0\n\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency\n",
        "totalCount,netTotalAmount\r\n0,0\r\n\r\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency\r\n<END>",
    ] {
        let p = parse(text).unwrap();
        assert_eq!((p.count, p.rows.len()), (Some(0), 0), "{text:?}");
    }
}

#[test]
fn the_decimal_form_is_one_switch_away() {
    let text = SAMPLE
        .replace(",1500,SGD,1500,", ",15.00,SGD,15.00,")
        .replace(",-300,SGD,-300,", ",-3.00,SGD,-3.00,")
        .replace("2,1200,", "2,12.00,");
    let options = ReportOptions {
        amounts: AmountForm::MajorDecimal,
        ..ReportOptions::default()
    };
    let decimal = parse_with(text.as_bytes(), 7, options).unwrap();
    assert_eq!(decimal, parse(SAMPLE).unwrap());
    // In the default form the same file is an error naming the line, not a silent 15.
    let err = parse(&text).unwrap_err();
    assert!(err.to_string().contains("t.csv: line 2"), "{err}");
}

fn malformed_line(text: &str) -> u64 {
    match parse(text) {
        Err(Error::Malformed { file, line, .. }) | Err(Error::MissingColumn { file, line, .. }) => {
            assert_eq!(file, "t.csv");
            line
        }
        other => panic!("{text:?}: {other:?}"),
    }
}

#[test]
fn bad_structure_names_file_and_line() {
    let header = "transactionRequestId,transactionType,transactionAmountValue,transactionCurrency";
    let s = "totalCount\n1\n";
    assert_eq!(malformed_line(""), 1);
    assert_eq!(malformed_line("totalCount\n"), 1);
    assert_eq!(malformed_line("totalCount,x\n1\n"), 2);
    assert_eq!(malformed_line("totalCount\nabc\n"), 2);
    assert_eq!(
        malformed_line(&format!("{s}{header}\nPAY-1,PAYMENT,15\n")),
        4
    );
    assert_eq!(
        malformed_line(&format!("{s}{header}\nPAY-1,PAYMENT,15,SGD,x\n")),
        4
    );
    assert_eq!(
        malformed_line(&format!("{s}\n{header}\nPAY-1,PAYMENT,1.5,SGD\n")),
        5
    );
    assert_eq!(
        malformed_line(&format!("{s}{header}\nPAY-1,PAYMENT,15,sgd\n")),
        4
    );
    assert_eq!(
        malformed_line(&format!("{s}{header}\n,PAYMENT,15,SGD\n")),
        4
    );
    assert_eq!(
        malformed_line(&format!(
            "{s}{header}\nP,PAYMENT,1,SGD\n<END>\nP,PAYMENT,1,SGD\n"
        )),
        6
    );
    assert_eq!(
        malformed_line(&format!(
            "{s}transactionRequestId,transactionType\nP,PAYMENT\n"
        )),
        3
    );
    assert_eq!(malformed_line("<END>\n"), 1);
    assert_eq!(malformed_line("\u{ef}"), 1);
    // A row's transactionTime must be RFC 3339.
    let timed = format!("{s}{header},transactionTime\nP,PAYMENT,1,SGD,yesterday\n");
    assert_eq!(malformed_line(&timed), 4);
    // A partial BOM.
    assert!(parse_with(b"\xef\xbbtotalCount\n0\n", 1, ReportOptions::default()).is_err());
    // Invalid UTF-8 in a row.
    let bad = [
        format!("{s}{header}\n").as_bytes(),
        b"P\xff,PAYMENT,1,SGD\n",
    ]
    .concat();
    assert!(matches!(
        parse_with(&bad, 3, ReportOptions::default()),
        Err(Error::Malformed { line: 4, .. })
    ));
}

#[test]
fn unknown_transaction_types_are_kept() {
    let text = "totalCount\n1\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency\nX,CAPTURE,1,SGD\n";
    let p = parse(text).unwrap();
    assert_eq!(p.rows, ["X CAPTURE 1"]);
    assert_eq!(
        TransactionType::parse("CAPTURE"),
        TransactionType::Unrecognized("CAPTURE".into())
    );
}

#[test]
fn huge_fields_hit_the_limit_not_the_heap() {
    let limits = Limits::default();
    let huge = "A".repeat(limits.max_record_bytes + 1);
    let text = format!(
        "totalCount\n1\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency\n{huge},PAYMENT,1,SGD\n"
    );
    let err = parse_with(text.as_bytes(), 4096, ReportOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::RecordTooLarge {
                line: 4,
                unit: "bytes",
                ..
            }
        ),
        "{err}"
    );
    let many = vec!["x"; limits.max_fields + 1].join(",");
    let err = parse(&format!("{many}\n")).unwrap_err();
    assert!(
        matches!(err, Error::RecordTooLarge { unit: "fields", .. }),
        "{err}"
    );
    // An unterminated quote swallows the rest of the file: bounded too.
    let open = format!("totalCount\n\"{}", "B\n".repeat(limits.max_record_bytes));
    assert!(matches!(
        parse(&open),
        Err(Error::RecordTooLarge { line: 2, .. })
    ));
}

/// A deterministic generator (xorshift), so the test needs no random-number crate.
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn random_bytes_and_truncations_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    for round in 0..3000 {
        let len = (xorshift(&mut seed) % 300) as usize;
        let mut bytes: Vec<u8> = if round % 2 == 0 {
            (0..len).map(|_| xorshift(&mut seed) as u8).collect()
        } else {
            // Mutations of a valid report: flip, cut, insert structure bytes.
            let mut b = SAMPLE.as_bytes().to_vec();
            for _ in 0..1 + xorshift(&mut seed) % 4 {
                let at = (xorshift(&mut seed) as usize) % b.len().max(1);
                let byte = b",\"\r\n-<END>\xef\xbb\xbf9"[(xorshift(&mut seed) % 12) as usize];
                match xorshift(&mut seed) % 3 {
                    0 if !b.is_empty() => b[at] = byte,
                    1 => b.insert(at.min(b.len()), byte),
                    _ => b.truncate(at),
                }
            }
            b
        };
        bytes.truncate(len.max(bytes.len() / 2));
        let chunk = 1 + (xorshift(&mut seed) % 64) as usize;
        let _ = parse_with(&bytes, chunk, ReportOptions::default());
        let _ = ReportName::parse(&String::from_utf8_lossy(&bytes));
    }
}

/// A reader-like generator of a Transaction Detail Report with `rows` rows, yielding chunks.
pub struct Generated {
    rows: u64,
    next: u64,
    header_done: bool,
}

impl Iterator for Generated {
    type Item = Vec<u8>;
    fn next(&mut self) -> Option<Vec<u8>> {
        if !self.header_done {
            self.header_done = true;
            return Some(format!(
                "totalCount,netTotalAmount,settlementCurrency\n{},{},SGD\n\ntransactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n",
                self.rows,
                self.rows * 100
            ).into_bytes());
        }
        if self.next == self.rows {
            return None;
        }
        let mut chunk = Vec::with_capacity(64 * 1024);
        while self.next < self.rows && chunk.len() < 60 * 1024 {
            chunk.extend_from_slice(
                format!(
                    "PAY{:012},PAYMENT,100,SGD,2025-06-01T10:00:00+08:00\n",
                    self.next
                )
                .as_bytes(),
            );
            self.next += 1;
        }
        Some(chunk)
    }
}

#[test]
fn a_million_rows_in_constant_memory() {
    const ROWS: u64 = 1_000_000;
    let mut parser = ReportParser::new(
        "big.csv",
        ReportKind::TransactionItems,
        Currency::SGD,
        ReportOptions::default(),
    );
    let mut chunks = Generated {
        rows: ROWS,
        next: 0,
        header_done: false,
    };
    let mut chunk = chunks.next().unwrap_or_default();
    let mut input: &[u8] = &chunk;
    let (mut count, mut sum, mut max_buffer) = (0u64, 0i64, 0usize);
    loop {
        match parser.next(&mut input).unwrap() {
            Event::NeedInput => {
                chunk = chunks.next().unwrap_or_default();
                input = &chunk;
            }
            Event::Row(row) => {
                sum += row.transaction().unwrap().amount.minor;
                count += 1;
            }
            Event::Summary => {}
            Event::End => break,
        }
        max_buffer = max_buffer.max(parser.buffer_bytes());
    }
    assert_eq!(count, ROWS);
    assert_eq!(parser.rows(), ROWS);
    assert_eq!(sum, 100 * ROWS as i64);
    // The parser's own buffers never grew past their first size: rows are short, and the
    // bound holds whatever the row count.
    assert!(max_buffer <= 1024 + 32 * 8, "{max_buffer}");
}
