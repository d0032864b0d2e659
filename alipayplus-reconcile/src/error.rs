//! The crate's one error type: input that cannot be read. A disagreement between a report and
//! the merchant's records is not an error but a [`crate::Finding`].

use alloc::string::String;

/// Most characters of received text an [`Error`] repeats, so a hostile report cannot put
/// megabytes into an error message or a log line.
pub const MAX_ECHO_CHARS: usize = 64;

/// `text` cut to [`MAX_ECHO_CHARS`] characters, with the full length when it was longer.
pub(crate) fn echo(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        None => String::from(text),
        Some((cut, _)) => alloc::format!(
            "{}… ({} bytes)",
            text.get(..cut).unwrap_or_default(),
            text.len()
        ),
    }
}

/// A report file, its name or the merchant's ledger could not be read.
///
/// Every variant that comes from a file's content names the file and the 1-based line where
/// the record starts; the fix is on the input side (re-download the report, correct the
/// ledger export), never a retry of the same bytes.
///
/// ```
/// use alipayplus_reconcile::{Error, ReportName};
/// let err = ReportName::parse("notes.txt").unwrap_err();
/// assert!(matches!(err, Error::NotAReportName { .. }));
/// assert!(err.to_string().contains("notes.txt"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file name is not one of the four report names of reconcile.md §2.
    #[error(
        "{name:?} is not a settlement report name ({reason}); expected \
         transactionItems_|feeItems_|summary_|settlement_<participantId>_<CCY>_<batchId>_<participantAgreementId>_<NNN>.csv; \
         leave other files out of the report folder"
    )]
    NotAReportName {
        /// The file name (cut to [`MAX_ECHO_CHARS`]).
        name: String,
        /// What does not fit.
        reason: &'static str,
    },
    /// The name fits the pattern in several ways because ids contain `_`.
    #[error(
        "report name {name:?} is ambiguous: it splits into participantId/currency/batchId/agreementId \
         in {candidates} ways because the ids contain '_'; rename the file or pass its parts explicitly"
    )]
    AmbiguousReportName {
        /// The file name (cut to [`MAX_ECHO_CHARS`]).
        name: String,
        /// How many splits fit.
        candidates: usize,
    },
    /// A line of a report or ledger does not have the expected structure or a value is malformed.
    #[error(
        "{file}: line {line}: {problem}; the file is malformed, fetch it again or report it to Alipay+"
    )]
    Malformed {
        /// The file the line is in.
        file: String,
        /// 1-based line where the record starts.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A required column is not in the header line.
    #[error(
        "{file}: line {line}: the header has no column {column:?}; the file is not of the expected kind or its layout changed"
    )]
    MissingColumn {
        /// The file.
        file: String,
        /// 1-based line of the header.
        line: u64,
        /// The column that is needed.
        column: &'static str,
    },
    /// A record is larger than the parser's bounded buffers allow.
    #[error(
        "{file}: line {line}: a record exceeds {limit} {unit}; the file is malformed (or raise `Limits`)"
    )]
    RecordTooLarge {
        /// The file.
        file: String,
        /// 1-based line where the record starts.
        line: u64,
        /// The limit that was reached.
        limit: usize,
        /// `"bytes"` or `"fields"`.
        unit: &'static str,
    },
    /// The same transactionRequestId appears twice in the merchant's own records.
    #[error(
        "{file}: line {line}: transactionRequestId {id:?} appears twice in the ledger; each own record must be listed once"
    )]
    DuplicateLedgerRecord {
        /// The ledger file.
        file: String,
        /// 1-based line of the second occurrence.
        line: u64,
        /// The id (cut to [`MAX_ECHO_CHARS`]).
        id: String,
    },
    /// A header line names the same column twice, so which value counts is unknowable.
    #[error(
        "{file}: line {line}: the header names the column {column:?} twice; the file is malformed, fetch or export it again"
    )]
    DuplicateColumn {
        /// The file.
        file: String,
        /// 1-based line of the header.
        line: u64,
        /// The repeated column name (cut to [`MAX_ECHO_CHARS`]).
        column: String,
    },
    /// A sum of amounts (a file's rows, a cycle's totals, the own records of a cycle) does
    /// not fit in 64 bits of minor units: no total can be trusted.
    #[error(
        "{file}: line {line}: the sum of {what} overflows 64-bit minor units; the amounts are implausible, check the file"
    )]
    AmountOverflow {
        /// The file whose amount made the sum overflow.
        file: String,
        /// 1-based line of that amount.
        line: u64,
        /// Which sum.
        what: &'static str,
    },
    /// A report file (a name with a report prefix and `.csv`) cannot be placed in a clearing
    /// or settlement batch: its name splits several ways and neither its summary section nor a
    /// Transaction Detail Report with the same ids decides, or its summary contradicts its name.
    #[error(
        "{file}: cannot place this report file in a batch: {reason}; rename it as Alipay+ delivers it or remove it from the folder"
    )]
    UnplaceableReport {
        /// The file name (whole: a directory entry's name, bounded by the file system).
        file: String,
        /// Why.
        reason: String,
    },
    /// A clearing batch's cycle is unknown: its clearingBatchId is not a `yyyyMMdd` date and
    /// none of its Transaction Detail Report rows carries a transactionTime.
    #[error(
        "{file}: the clearing cycle cannot be determined (clearingBatchId {batch_id:?} is not yyyyMMdd and no row has a transactionTime); nothing in it can be compared"
    )]
    UndatableCycle {
        /// The batch's first Transaction Detail Report.
        file: String,
        /// The clearingBatchId (cut to [`MAX_ECHO_CHARS`]).
        batch_id: String,
    },
    /// A clearing report file of a batch that has no Transaction Detail Report: there is
    /// nothing to compare it with, and a run must not pass over it silently.
    #[error(
        "{file}: its clearing batch has no Transaction Detail Report (transactionItems_...), so it cannot be compared; fetch the batch's detail report"
    )]
    NoDetailReport {
        /// The file.
        file: String,
    },
    /// No Transaction Detail Report at all: a run that compared nothing must not say
    /// everything matched.
    #[error(
        "nothing to reconcile: {folder} holds no Transaction Detail Report (transactionItems_<participantId>_<CCY>_<clearingBatchId>_<agreementId>_<NNN>.csv)"
    )]
    NothingToReconcile {
        /// The report folder (or source) that was listed.
        folder: String,
    },
    /// A file could not be read from storage.
    #[cfg(feature = "std")]
    #[error("{file}: {source}; check the path and permissions")]
    Io {
        /// The file or directory.
        file: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An argument of the SFTP fetch (address, fingerprint, participant id, date) is not usable.
    #[cfg(feature = "sftp")]
    #[error("{what} {value:?}: {problem}")]
    SftpArgument {
        /// What the value is (`"SFTP address"`, `"date"`, ...).
        what: &'static str,
        /// The value given (cut to [`MAX_ECHO_CHARS`]).
        value: String,
        /// What is wrong and the expected form.
        problem: &'static str,
    },
    /// The SSH user key file could not be loaded.
    #[cfg(feature = "sftp")]
    #[error(
        "user key {file}: {problem}; give an unencrypted OpenSSH/PEM RSA or Ed25519 private key"
    )]
    UserKey {
        /// The key file.
        file: String,
        /// Why it could not be used.
        problem: String,
    },
    /// The known_hosts file could not be read or has no entry for the server.
    #[cfg(feature = "sftp")]
    #[error("known_hosts {file}: {problem}")]
    KnownHosts {
        /// The known_hosts file.
        file: String,
        /// What is wrong.
        problem: String,
    },
    /// The server's host key is not the pinned one: nothing was sent or written.
    #[cfg(feature = "sftp")]
    #[error(
        "host key of {server} refused: it presented {presented}, expected {expected}; \
         if Alipay+ really changed its host key, confirm the new fingerprint with Alipay+ support \
         and update the pin"
    )]
    HostKeyMismatch {
        /// `host:port`.
        server: String,
        /// The key(s) the server presented (`algorithm SHA256:...`).
        presented: String,
        /// The pin (`SHA256:...` or the known_hosts file and its keys).
        expected: String,
    },
    /// The server refused the user key.
    #[cfg(feature = "sftp")]
    #[error(
        "authentication of {user}@{server} with key {key} refused; check the user name and that \
         Alipay+ has this key's public half (and this host's IP on its allow-list)"
    )]
    AuthRejected {
        /// The SSH user.
        user: String,
        /// `host:port`.
        server: String,
        /// The key file.
        key: String,
    },
    /// The SSH connection failed (TCP, key exchange, timeout, disconnect).
    #[cfg(feature = "sftp")]
    #[error("SSH connection to {server}: {problem}")]
    Ssh {
        /// `host:port`.
        server: String,
        /// What failed.
        problem: String,
    },
    /// An SFTP request about a remote path failed.
    #[cfg(feature = "sftp")]
    #[error("SFTP {path}: {problem}")]
    Remote {
        /// The remote path.
        path: String,
        /// The server's status or the transport failure.
        problem: String,
    },
    /// A remote file name cannot be stored flat in the local folder (a path, `.part`, a name
    /// listed in both the clearing and the settlement folder, ...).
    #[cfg(feature = "sftp")]
    #[error("remote file {name:?} in {folder}: {problem}; nothing of it was written")]
    RemoteName {
        /// The remote folder.
        folder: String,
        /// The name (cut to [`MAX_ECHO_CHARS`]).
        name: String,
        /// Why it is refused.
        problem: &'static str,
    },
    /// A download did not end at the size the server listed: the `.part` file was removed and
    /// the report was not put in place. Run the fetch again.
    #[cfg(feature = "sftp")]
    #[error(
        "{path}: the server listed {listed} bytes but the transfer gave {received}{more}; \
         the partial file was removed, run the fetch again"
    )]
    SizeMismatch {
        /// The remote path.
        path: String,
        /// The size the listing gave.
        listed: u64,
        /// Bytes received (reading stops one byte past the listed size).
        received: u64,
        /// `" or more"` when the file was longer than listed, else empty.
        more: &'static str,
    },
}

impl Error {
    pub(crate) fn malformed(file: &str, line: u64, problem: impl Into<String>) -> Self {
        Error::Malformed {
            file: String::from(file),
            line,
            problem: problem.into(),
        }
    }
}
