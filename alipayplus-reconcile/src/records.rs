//! CSV records from a byte stream in bounded memory: `csv-core` tokenizes (quotes, CRLF/LF,
//! blank lines skipped), this layer owns the output buffers, caps them, strips a UTF-8 BOM
//! split across any chunks, and knows the line each record starts on.

use alloc::vec::Vec;

use crate::Error;

/// Caps on the parser's buffers: a record larger than this is an error, so memory stays
/// bounded whatever the input.
///
/// ```
/// use alipayplus_reconcile::Limits;
/// let limits = Limits::default();
/// assert_eq!(limits.max_record_bytes, 64 * 1024);
/// assert_eq!(limits.max_fields, 256);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of field data in one record (after unquoting).
    pub max_record_bytes: usize,
    /// Most fields in one record.
    pub max_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 64 * 1024,
            max_fields: 256,
        }
    }
}

const BOM: &[u8; 3] = b"\xef\xbb\xbf";
const FIRST_OUT: usize = 1024;
const FIRST_ENDS: usize = 32;

/// What [`RecordReader::next`] produced.
pub(crate) enum Next {
    /// The input slice is used up; call again with the next chunk (or an empty one at the end).
    NeedInput,
    /// A record is ready in [`RecordReader::fields`].
    Record,
    /// The stream ended.
    End,
}

/// Incremental CSV record reader with bounded, reused buffers.
pub(crate) struct RecordReader {
    core: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    outlen: usize,
    endlen: usize,
    limits: Limits,
    /// Bytes of the BOM matched so far at the stream start; `None` once decided.
    bom: Option<usize>,
    /// Line of the next byte (1-based).
    line: u64,
    in_record: bool,
    record_line: u64,
    /// The buffers hold a finished record, to be cleared before reading on.
    done: bool,
    /// The caller's current chunk was not empty: an empty slice now means "used up", not
    /// "end of stream" (the tokenizer must only see the latter as empty).
    chunk_open: bool,
}

impl RecordReader {
    pub(crate) fn new(limits: Limits) -> Self {
        RecordReader {
            // csv-core strips a BOM only when whole in the first chunk; we do it ourselves.
            core: csv_core::Reader::new(),
            out: alloc::vec![0; FIRST_OUT.min(limits.max_record_bytes.max(1))],
            ends: alloc::vec![0; FIRST_ENDS.min(limits.max_fields.max(1))],
            outlen: 0,
            endlen: 0,
            limits,
            bom: Some(0),
            line: 1,
            in_record: false,
            record_line: 1,
            done: false,
            chunk_open: false,
        }
    }

    /// Bytes the reader's buffers hold now (bounded by [`Limits`]).
    pub(crate) fn buffer_bytes(&self) -> usize {
        self.out.len() + self.ends.len() * core::mem::size_of::<usize>()
    }

    /// The line of the next byte (1-based).
    pub(crate) fn next_line(&self) -> u64 {
        self.line
    }

    /// The caps this reader enforces.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    pub(crate) fn record_line(&self) -> u64 {
        self.record_line
    }

    /// The fields of the last record; `None` if one is not UTF-8 (index of the field).
    pub(crate) fn fields(&self) -> Result<Fields<'_>, usize> {
        let mut start = 0;
        for (i, &end) in self.ends[..self.endlen].iter().enumerate() {
            let bytes = self.out.get(start..end).ok_or(i)?;
            core::str::from_utf8(bytes).map_err(|_| i)?;
            start = end;
        }
        Ok(Fields {
            out: &self.out[..self.outlen],
            ends: &self.ends[..self.endlen],
        })
    }

    /// Reads on from `input` (advanced past what was consumed). An empty `input` means the
    /// end of the stream.
    pub(crate) fn next(&mut self, input: &mut &[u8], file: &str) -> Result<Next, Error> {
        if core::mem::take(&mut self.done) {
            self.outlen = 0;
            self.endlen = 0;
        }
        if input.is_empty() && core::mem::take(&mut self.chunk_open) {
            return Ok(Next::NeedInput);
        }
        self.chunk_open = !input.is_empty();
        if let Some(matched) = self.bom {
            let was_empty = input.is_empty();
            self.skip_bom(matched, input, file)?;
            // An empty slice means "end of stream" to the tokenizer: not when the BOM used it up.
            if self.bom.is_some() || (input.is_empty() && !was_empty) {
                self.chunk_open = false;
                return Ok(Next::NeedInput);
            }
        }
        loop {
            let (res, nin, nout, nend) = self.core.read_record(
                input,
                &mut self.out[self.outlen..],
                &mut self.ends[self.endlen..],
            );
            self.count_lines(&input[..nin]);
            *input = &input[nin..];
            self.outlen += nout;
            self.endlen += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {
                    self.chunk_open = false;
                    return Ok(Next::NeedInput);
                }
                csv_core::ReadRecordResult::OutputFull => self.grow_out(file)?,
                csv_core::ReadRecordResult::OutputEndsFull => self.grow_ends(file)?,
                csv_core::ReadRecordResult::Record => {
                    self.in_record = false;
                    self.done = true;
                    return Ok(Next::Record);
                }
                csv_core::ReadRecordResult::End => return Ok(Next::End),
            }
        }
    }

    /// Skips a UTF-8 BOM at the stream start, even when split across chunks.
    fn skip_bom(&mut self, mut matched: usize, input: &mut &[u8], file: &str) -> Result<(), Error> {
        let eof = input.is_empty();
        while matched < BOM.len() {
            match input.first() {
                Some(&b) if b == BOM[matched] => {
                    matched += 1;
                    *input = &input[1..];
                }
                Some(_) => break,
                None if eof => break,
                None => {
                    self.bom = Some(matched);
                    return Ok(());
                }
            }
        }
        self.bom = None;
        if matched == 0 || matched == BOM.len() {
            return Ok(());
        }
        // EF or EF BB not followed by the rest of a BOM: no report or ledger header starts
        // with such a character, so say so rather than guess.
        Err(Error::malformed(
            file,
            1,
            "the file starts with an incomplete UTF-8 byte-order mark",
        ))
    }

    fn count_lines(&mut self, consumed: &[u8]) {
        for &b in consumed {
            if b == b'\n' {
                self.line += 1;
            } else if !self.in_record && b != b'\r' {
                self.in_record = true;
                self.record_line = self.line;
            }
        }
    }

    fn grow_out(&mut self, file: &str) -> Result<(), Error> {
        let len = self.out.len();
        if len >= self.limits.max_record_bytes {
            return Err(self.too_large(file, self.limits.max_record_bytes, "bytes"));
        }
        self.out
            .resize((len * 2).min(self.limits.max_record_bytes), 0);
        Ok(())
    }

    fn grow_ends(&mut self, file: &str) -> Result<(), Error> {
        let len = self.ends.len();
        if len >= self.limits.max_fields {
            return Err(self.too_large(file, self.limits.max_fields, "fields"));
        }
        self.ends.resize((len * 2).min(self.limits.max_fields), 0);
        Ok(())
    }

    fn too_large(&self, file: &str, limit: usize, unit: &'static str) -> Error {
        Error::RecordTooLarge {
            file: alloc::string::String::from(file),
            line: self.record_line,
            limit,
            unit,
        }
    }
}

/// The fields of one record, all valid UTF-8.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    out: &'a [u8],
    ends: &'a [usize],
}

impl<'a> Fields<'a> {
    /// Number of fields.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i` (`""` past the end).
    pub(crate) fn get(&self, i: usize) -> &'a str {
        let start = match i.checked_sub(1) {
            None => 0,
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.out
            .get(start..end)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// All fields in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// A line with nothing on it but spaces (csv-core already skips truly empty lines).
    pub(crate) fn is_blank(&self) -> bool {
        self.len() <= 1 && self.get(0).trim().is_empty()
    }
}
