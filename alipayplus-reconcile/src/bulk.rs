//! The job's fast path (feature `std`): the ledger and each Transaction Detail Report are cut
//! into blocks of whole lines, read by `threads` workers and merged in file order, so the
//! result is the same for any thread count.
//!
//! A block is read without `csv-core` when it can be: no `"` anywhere, no `\r` except before a
//! `\n`, lines within [`Limits`], valid UTF-8, and every row readable. Anything else (and a
//! report row naming an id that another row of the cycle also names) is an *anomaly*: the
//! file is read again from its start by the streaming parsers, which give the exact findings
//! and errors. The fast path only ever answers when its answer is the streaming one.

use std::collections::BTreeMap;
use std::io::Read;
use std::string::{String, ToString};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, mpsc};
use std::vec::Vec;

use alipayplus_types::SignedAmount;

use crate::fetch::read_some;
use crate::ledger::parse_ledger;
use crate::matcher::Judged;
use crate::report::{BlockSum, Head, RowSchema, TxLite, parse_tx};
use crate::table::{OwnTable, SHARDS, Shard};
use crate::{
    ClearingDate, CycleMatcher, Error, FindingKind, LedgerParser, ReportParser, RowTotals,
    TransactionType,
};

/// Bytes per block.
const BLOCK: usize = 1 << 20;
/// Most workers: past a few, reading is bound by memory, and each worker adds blocks in
/// flight (about 3 MiB each with their results) to the resident size.
const MAX_WORKERS: usize = 8;
/// Bytes read per call while reading a file's head.
const HEAD_CHUNK: usize = 64 * 1024;

/// A block's text, when the fast path may read it: valid UTF-8 and no `"` (whole-block
/// checks, each one fast pass); `cr`: it has a `\r` somewhere.
fn block_text(block: &[u8]) -> Option<(&str, bool)> {
    let text = core::str::from_utf8(block).ok()?;
    (!text.contains('"')).then(|| (text, text.contains('\r')))
}

/// The fields of one line of a block, or `None` when the fast path must not read it (a `\r`
/// other than before the `\n`, a line over the caps).
fn split_line<'a>(
    line: &'a str,
    cr: bool,
    max_bytes: usize,
    max_fields: usize,
    out: &mut Vec<&'a str>,
) -> Option<()> {
    out.clear();
    let line = if cr {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.contains('\r') {
            return None;
        }
        line
    } else {
        line
    };
    if line.len() > max_bytes {
        return None;
    }
    if line.is_empty() {
        return Some(());
    }
    out.extend(line.split(','));
    (out.len() <= max_fields).then_some(())
}

/// Whether a record is blank as the streaming parsers see it.
fn blank(fields: &[&str]) -> bool {
    fields.len() <= 1 && fields.first().is_none_or(|f| f.trim().is_empty())
}

/// The lines of a block's text (the last may lack its `\n` at the end of the file).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.strip_suffix('\n').unwrap_or(text).split('\n')
}

/// Newlines in a block whose [`lines`] gave `pieces` lines.
fn line_count(text: &str, pieces: u64) -> u64 {
    pieces.saturating_sub(1) + u64::from(text.ends_with('\n'))
}

/// Rows judged (or own records inserted) together, so their cache misses overlap.
const BATCH: usize = 16;

/// Reads the next block: whole lines, about [`BLOCK`] bytes; `None` at the end.
fn next_block<R: Read>(
    reader: &mut R,
    file: &str,
    carry: &mut Vec<u8>,
    eof: &mut bool,
    max_line: usize,
) -> Result<Option<Vec<u8>>, Error> {
    let mut block = core::mem::take(carry);
    loop {
        if *eof {
            return Ok((!block.is_empty()).then_some(block));
        }
        let start = block.len();
        block.resize(start.max(BLOCK).max(start + HEAD_CHUNK), 0);
        let n = read_some(reader, &mut block[start..], file)?;
        block.truncate(start + n);
        if n == 0 {
            *eof = true;
            continue;
        }
        if block.len() < BLOCK {
            continue;
        }
        match block.iter().rposition(|&b| b == b'\n') {
            Some(p) => {
                *carry = block.split_off(p + 1);
                return Ok(Some(block));
            }
            // A line longer than any record may be: the worker finds it too long.
            None if block.len() > BLOCK + max_line => return Ok(Some(block)),
            None => {}
        }
    }
}

/// Reads `reader` block by block from `carry`, runs `work` on each (on `threads` workers when
/// more than one) and hands the results to `merge` in file order. `merge` returns `false` to
/// stop (an anomaly); so does this function then.
fn run_blocks<R: Read, T: Send>(
    reader: &mut R,
    file: &str,
    mut carry: Vec<u8>,
    max_line: usize,
    threads: usize,
    work: &(dyn Fn(&[u8]) -> T + Sync),
    merge: &mut dyn FnMut(T) -> Result<bool, Error>,
) -> Result<bool, Error> {
    let mut eof = false;
    let threads = threads.min(MAX_WORKERS);
    if threads <= 1 {
        while let Some(block) = next_block(reader, file, &mut carry, &mut eof, max_line)? {
            if !merge(work(&block))? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    let (job_tx, job_rx) = mpsc::sync_channel::<(u64, Vec<u8>)>(threads);
    let (done_tx, done_rx) = mpsc::channel::<(u64, T)>();
    let job_rx = Mutex::new(job_rx);
    let job_rx = &job_rx;
    std::thread::scope(move |scope| {
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                loop {
                    let job = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, block))) = job else { break };
                    if done_tx.send((seq, work(&block))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pending: BTreeMap<u64, T> = BTreeMap::new();
        let (mut sent, mut merged) = (0u64, 0u64);
        let mut take = |pending: &mut BTreeMap<u64, T>, merged: &mut u64| -> Result<bool, Error> {
            while let Some(out) = pending.remove(merged) {
                *merged += 1;
                if !merge(out)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        let result = (|| {
            loop {
                // Bound the blocks in flight (memory) and merge what is ready.
                while sent - merged >= 2 * threads as u64 + 2 {
                    let Ok((seq, out)) = done_rx.recv() else {
                        return Ok(false);
                    };
                    pending.insert(seq, out);
                    if !take(&mut pending, &mut merged)? {
                        return Ok(false);
                    }
                }
                let Some(block) = next_block(reader, file, &mut carry, &mut eof, max_line)? else {
                    break;
                };
                if job_tx.send((sent, block)).is_err() {
                    return Ok(false);
                }
                sent += 1;
                while let Ok((seq, out)) = done_rx.try_recv() {
                    pending.insert(seq, out);
                }
                if !take(&mut pending, &mut merged)? {
                    return Ok(false);
                }
            }
            while merged < sent {
                let Ok((seq, out)) = done_rx.recv() else {
                    return Ok(false);
                };
                pending.insert(seq, out);
                if !take(&mut pending, &mut merged)? {
                    return Ok(false);
                }
            }
            Ok(true)
        })();
        drop(job_tx);
        result
    })
}

/// The matchers of the compared cycles (own records loaded) and the counts of other cycles'
/// own records.
pub(crate) type Loaded = (Vec<CycleMatcher>, BTreeMap<ClearingDate, u64>);

/// A ledger block, read (its own records inserted by the worker).
#[derive(Default)]
struct LedgerBlock {
    /// Per compared cycle: the block's own amounts (signed like the reports).
    sums: Vec<BlockSum>,
    other: Vec<(ClearingDate, u64)>,
    anomaly: bool,
}

/// The own records of `dates` (one matcher each, in order) and the count of records of other
/// cycles; `None` when the fast path cannot read this ledger (read it with the streaming
/// parser instead: it gives the exact error, e.g. the line of a duplicate).
///
/// Workers insert into the matchers' table shards themselves (a lock per shard), so the
/// order of insertion differs between runs: anything order-dependent (a duplicate id, sums
/// near the limits, a table that is full) is an anomaly.
pub(crate) fn load_own<L: Read>(
    mut reader: L,
    file: &str,
    dates: &[ClearingDate],
    threads: usize,
) -> Result<Option<Loaded>, Error> {
    let mut parser = LedgerParser::new(file);
    let mut buf = std::vec![0; HEAD_CHUNK];
    let carry = loop {
        let n = read_some(&mut reader, &mut buf, file)?;
        let mut input = &buf[..n];
        if parser.read_head(&mut input)? {
            break input.to_vec();
        }
        if n == 0 {
            // No header: the streaming parser names the problem.
            parser.next(&mut input)?;
            return Ok(None);
        }
    };
    let Some((cols, width)) = parser.columns() else {
        return Ok(None);
    };
    let limits = crate::Limits::default();
    let mut matchers: Vec<CycleMatcher> = dates.iter().map(|d| CycleMatcher::new(*d)).collect();
    let mut other: BTreeMap<ClearingDate, u64> = BTreeMap::new();
    let complete = {
        let shards: Vec<Vec<Mutex<&mut Shard>>> = matchers
            .iter_mut()
            .map(|m| {
                m.own_table_mut()
                    .shards_mut()
                    .iter_mut()
                    .map(Mutex::new)
                    .collect()
            })
            .collect();
        let work = |block: &[u8]| {
            let mut out = LedgerBlock {
                sums: std::vec![BlockSum::default(); dates.len()],
                ..LedgerBlock::default()
            };
            let mut fields = Vec::with_capacity(16);
            let mut parsed = Vec::with_capacity(block.len() / 48);
            let Some((text, cr)) = block_text(block) else {
                out.anomaly = true;
                return out;
            };
            for line in lines(text) {
                if split_line(
                    line,
                    cr,
                    limits.max_record_bytes,
                    limits.max_fields,
                    &mut fields,
                )
                .is_none()
                {
                    out.anomaly = true;
                    return out;
                }
                if blank(&fields) {
                    continue;
                }
                let get = |i: usize| fields.get(i).copied().unwrap_or("");
                let Ok(own) = parse_ledger(&get, fields.len(), width, cols, file, 0) else {
                    out.anomaly = true;
                    return out;
                };
                let date = ClearingDate::of_unix(own.unix);
                let Some(cycle) = dates.iter().position(|d| *d == date) else {
                    match out.other.iter_mut().find(|(d, _)| *d == date) {
                        Some((_, n)) => *n += 1,
                        None => out.other.push((date, 1)),
                    }
                    continue;
                };
                let signed = SignedAmount::from_amount(own.amount)
                    .and_then(|a| if own.refund { a.checked_neg() } else { Some(a) });
                let Some(signed) = signed else {
                    out.anomaly = true;
                    return out;
                };
                out.sums[cycle].add(signed);
                let (shard, tag) = OwnTable::locate(own.id);
                let record = OwnTable::record(own.amount, own.refund);
                parsed.push((cycle * SHARDS + shard, tag, own.id, record));
            }
            // Insert shard by shard (one lock each), in batches whose first slots are touched
            // together so their cache misses overlap.
            let buckets = dates.len() * SHARDS;
            let mut starts = std::vec![0usize; buckets + 1];
            for p in &parsed {
                starts[p.0 + 1] += 1;
            }
            for b in 0..buckets {
                starts[b + 1] += starts[b];
            }
            let mut order = std::vec![0u32; parsed.len()];
            let mut next = starts.clone();
            for (i, p) in parsed.iter().enumerate() {
                order[next[p.0]] = i as u32;
                next[p.0] += 1;
            }
            for b in (0..buckets).filter(|&b| starts[b] < starts[b + 1]) {
                let Ok(mut shard) = shards[b / SHARDS][b % SHARDS].lock() else {
                    out.anomaly = true;
                    return out;
                };
                for chunk in order[starts[b]..starts[b + 1]].chunks(BATCH) {
                    let mut sink = 0u32;
                    for &i in chunk {
                        sink ^= shard.touch(parsed[i as usize].1);
                    }
                    core::hint::black_box(sink);
                    for &i in chunk {
                        let (_, tag, id, record) = parsed[i as usize];
                        if !matches!(shard.insert(id, tag, record), Ok(true)) {
                            out.anomaly = true;
                            return out;
                        }
                    }
                }
            }
            out
        };
        let mut sums = std::vec![BlockSum::default(); dates.len()];
        let mut merge = |block: LedgerBlock| -> Result<bool, Error> {
            if block.anomaly {
                return Ok(false);
            }
            for (total, add) in sums.iter_mut().zip(&block.sums) {
                total.extend(add);
            }
            for (date, n) in block.other {
                *other.entry(date).or_default() += n;
            }
            Ok(true)
        };
        let max_line = limits.max_record_bytes;
        run_blocks(
            &mut reader,
            file,
            carry,
            max_line,
            threads,
            &work,
            &mut merge,
        )?
        .then_some(sums)
    };
    let Some(sums) = complete else {
        return Ok(None);
    };
    for (m, sum) in matchers.iter_mut().zip(&sums) {
        if !m.own_totals_mut().add_block(sum) {
            return Ok(None);
        }
    }
    Ok(Some((matchers, other)))
}

/// A report row the merge must see (not an exact first match).
enum Pending {
    /// No own record has the id.
    Unknown(String, TransactionType, SignedAmount, u64),
    /// A known id whose row disagrees.
    Known(
        u32,
        String,
        TransactionType,
        SignedAmount,
        u64,
        FindingKind,
        String,
    ),
}

/// A report block, read and judged.
#[derive(Default)]
struct RowsBlock {
    lines: u64,
    /// The block has a non-blank record (after an `<END>` in an earlier block: an anomaly).
    any: bool,
    ended: bool,
    anomaly: bool,
    pending: Vec<Pending>,
    matched: u64,
    amounts: BlockSum,
    settled: BlockSum,
}

/// What [`match_rows`] found for one Transaction Detail Report.
pub(crate) enum FileRows {
    /// The file was matched; its rows' totals (settlement amounts, else transaction amounts).
    Done(RowTotals),
    /// The fast path cannot answer: read the file with the streaming parser.
    Anomaly,
}

/// Matches the rows of one Transaction Detail Report whose head `parser` read (`carry`: the
/// bytes after the detail header). The matcher is changed only when the answer is `Done`.
pub(crate) fn match_rows<R: Read>(
    mut reader: R,
    parser: &ReportParser,
    carry: Vec<u8>,
    matcher: &mut CycleMatcher,
    threads: usize,
) -> Result<FileRows, Error> {
    let Some(schema) = parser.schema() else {
        return Ok(FileRows::Anomaly);
    };
    let RowSchema {
        file,
        currency,
        amounts,
        width,
        cols,
        limits,
    } = schema;
    let hits: Vec<Vec<AtomicU32>> = matcher
        .own_shard_sizes()
        .into_iter()
        .map(|n| (0..n).map(|_| AtomicU32::new(0)).collect())
        .collect();
    let hit = |index: u32| {
        let (shard, slot) = OwnTable::position(index);
        &hits[shard][slot]
    };
    let judge: &CycleMatcher = matcher;
    // Judges a batch of parsed rows: first touch every row's slot (the cache misses overlap),
    // then look each up.
    let flush = |batch: &mut Vec<(TxLite<'_>, u64, (usize, u32))>, out: &mut RowsBlock| {
        let mut sink = 0u32;
        for (_, _, at) in batch.iter() {
            sink ^= judge.touch(*at);
        }
        core::hint::black_box(sink);
        for (tx, rel, at) in batch.drain(..) {
            match judge.judge_at(tx.id, at, &tx.ttype, tx.amount) {
                Judged::Unknown => out.pending.push(Pending::Unknown(
                    tx.id.to_string(),
                    tx.ttype,
                    tx.amount,
                    rel,
                )),
                Judged::Known(index, outcome) => {
                    hit(index).fetch_add(1, Ordering::Relaxed);
                    match outcome {
                        None => out.matched += 1,
                        Some((kind, detail)) => out.pending.push(Pending::Known(
                            index,
                            tx.id.to_string(),
                            tx.ttype,
                            tx.amount,
                            rel,
                            kind,
                            detail,
                        )),
                    }
                }
            }
        }
    };
    let work = |block: &[u8]| {
        let mut out = RowsBlock::default();
        let mut fields = Vec::with_capacity(16);
        let mut batch = Vec::with_capacity(BATCH);
        let Some((text, cr)) = block_text(block) else {
            out.anomaly = true;
            return out;
        };
        let mut pieces = 0;
        for (rel, line) in lines(text).enumerate() {
            pieces += 1;
            if split_line(
                line,
                cr,
                limits.max_record_bytes,
                limits.max_fields,
                &mut fields,
            )
            .is_none()
            {
                out.anomaly = true;
                return out;
            }
            if blank(&fields) {
                continue;
            }
            out.any = true;
            if out.ended || fields.len() != width {
                // Data after <END>, or an <END> line, or a short row: the streaming parser
                // decides (an end marker is one field).
                if !out.ended && fields.len() == 1 && fields[0].trim() == "<END>" {
                    out.ended = true;
                    continue;
                }
                out.anomaly = true;
                return out;
            }
            let get = |i: usize| fields.get(i).copied().unwrap_or("");
            let Ok(tx) = parse_tx(&get, &cols, currency, amounts, &file, 0) else {
                out.anomaly = true;
                return out;
            };
            out.amounts.add(tx.amount);
            out.settled.add(tx.settlement.unwrap_or(tx.amount));
            let at = OwnTable::locate(tx.id);
            batch.push((tx, rel as u64, at));
            if batch.len() == BATCH {
                flush(&mut batch, &mut out);
            }
        }
        flush(&mut batch, &mut out);
        out.lines = line_count(text, pieces);
        out
    };
    // Merge in file order into a file-level result; the matcher is changed only at the end.
    let mut line = parser.next_line();
    let mut ended = false;
    let mut pending: Vec<Pending> = Vec::new();
    let mut matched = 0u64;
    let (mut sum_amounts, mut sum_settled) = (BlockSum::default(), BlockSum::default());
    let mut merge = |block: RowsBlock| -> Result<bool, Error> {
        if block.anomaly || (ended && block.any) {
            return Ok(false);
        }
        ended |= block.ended;
        for mut p in block.pending {
            match &mut p {
                Pending::Unknown(_, _, _, l) | Pending::Known(_, _, _, _, l, _, _) => *l += line,
            }
            pending.push(p);
        }
        matched += block.matched;
        sum_amounts.extend(&block.amounts);
        sum_settled.extend(&block.settled);
        line += block.lines;
        Ok(true)
    };
    let max_line = limits.max_record_bytes;
    if !run_blocks(
        &mut reader,
        &file,
        carry,
        max_line,
        threads,
        &work,
        &mut merge,
    )? {
        return Ok(FileRows::Anomaly);
    }
    // An id named twice in the cycle (here or in an earlier file): the streaming parser
    // knows which row came first.
    let indices = || {
        hits.iter().enumerate().flat_map(|(shard, slots)| {
            slots.iter().enumerate().map(move |(slot, h)| {
                let index = OwnTable::index(shard, slot);
                (index, h.load(Ordering::Relaxed))
            })
        })
    };
    let repeated = indices().any(|(i, h)| h > 1 || (h == 1 && matcher.own_seen(i)));
    let mut rows = RowTotals::default();
    let mut report = matcher.report_totals();
    if repeated || !rows.add_block(&sum_settled) || !report.add_block(&sum_amounts) {
        return Ok(FileRows::Anomaly);
    }
    *matcher.report_totals_mut() = report;
    for p in pending {
        match p {
            Pending::Unknown(id, t, amount, line) => {
                matcher.unknown_row(&file, (&id, &t, amount, line));
            }
            Pending::Known(index, id, t, amount, line, kind, detail) => {
                let f =
                    matcher.row_finding(kind, Some(index), &file, (&id, &t, amount, line), detail);
                matcher.known_row(index, Some(f));
            }
        }
    }
    for (i, _) in indices().filter(|&(_, h)| h == 1) {
        matcher.mark_seen(i);
    }
    matcher.add_matched(matched);
    Ok(FileRows::Done(rows))
}

/// Reads a report's head (summary and detail header) into `parser`: the bytes after the
/// detail header, or `None` when the report ended there (an empty cycle).
pub(crate) fn read_head<R: Read>(
    reader: &mut R,
    parser: &mut ReportParser,
) -> Result<Option<Vec<u8>>, Error> {
    let mut buf = std::vec![0; HEAD_CHUNK];
    loop {
        let n = read_some(reader, &mut buf, parser.file())?;
        let mut input = &buf[..n];
        match parser.read_head(&mut input)? {
            Head::Rows => return Ok(Some(input.to_vec())),
            Head::End => return Ok(None),
            Head::NeedInput if n == 0 => {
                return Err(Error::malformed(parser.file(), 0, "unexpected end"));
            }
            Head::NeedInput => {}
        }
    }
}
