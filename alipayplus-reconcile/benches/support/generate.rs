//! Generated reports and ledgers of any size, produced on the fly as `Read`ers (shared by the
//! benchmark and the `peak_memory` example; nothing is written to disk).

use std::io::Read;

/// Rows are payments except every tenth, a refund; amounts and times vary by row.
pub fn row(i: u64, report: bool) -> String {
    let refund = i % 10 == 9;
    let (kind, id) = if refund {
        ("REFUND", "RFD")
    } else {
        ("PAYMENT", "PAY")
    };
    let value = 1 + i % 10_000;
    let secs = i % 86_400;
    let time = format!(
        "2025-06-01T{:02}:{:02}:{:02}+08:00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if report {
        let v = if refund {
            -(value as i64)
        } else {
            value as i64
        };
        format!("{i},{id}{i:012},{kind},{time},{v},SGD,{v},SGD,1022172000000000001,M1\n")
    } else {
        format!("{id}{i:012},{kind},{value},SGD,{time}\n")
    }
}

/// Net total of `rows` generated report rows, in minor units.
fn net(rows: u64) -> i64 {
    (0..rows)
        .map(|i| {
            let v = (1 + i % 10_000) as i64;
            if i % 10 == 9 { -v } else { v }
        })
        .sum()
}

/// A Transaction Detail Report (`report`) or a ledger of `rows` rows as a reader.
pub struct Generated {
    rows: u64,
    next: u64,
    report: bool,
    buf: Vec<u8>,
    pos: usize,
}

impl Generated {
    /// A Transaction Detail Report of cycle 2025-06-01 with `rows` rows and a correct summary.
    pub fn report(rows: u64) -> Self {
        let head = format!(
            "totalCount,netTotalAmount,settlementCurrency,clearingBatchId\n{rows},{},SGD,20250601\n\n\
             transactionId,transactionRequestId,transactionType,transactionTime,transactionAmountValue,transactionCurrency,settlementAmountValue,settlementCurrency,pspId,referenceMerchantId\n",
            net(rows)
        );
        Generated {
            rows,
            next: 0,
            report: true,
            buf: head.into_bytes(),
            pos: 0,
        }
    }

    /// The ledger with the same `rows` records (refunds positive).
    pub fn ledger(rows: u64) -> Self {
        let head = "transactionRequestId,transactionType,transactionAmountValue,transactionCurrency,transactionTime\n";
        Generated {
            rows,
            next: 0,
            report: false,
            buf: head.as_bytes().to_vec(),
            pos: 0,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            while self.next < self.rows && self.buf.len() < 16 * 1024 {
                self.buf
                    .extend_from_slice(row(self.next, self.report).as_bytes());
                self.next += 1;
            }
            if self.report && self.next == self.rows && self.rows != u64::MAX {
                self.buf.extend_from_slice(b"<END>\n");
                self.rows = u64::MAX; // written once
                self.next = u64::MAX;
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
