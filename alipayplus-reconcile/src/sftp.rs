//! Fetching a day's reports over SFTP as Alipay+ delivers them (feature `sftp`, reconcile.md §3).
//!
//! Alipay+ puts the clearing reports of a day into `<root>/clearing/<participantId>/<yyyyMMdd>`
//! and, on settlement days only, the Settlement Report into
//! `<root>/settlement/<participantId>/<yyyyMMdd>`; `<root>` is [`PRODUCTION_ROOT`] or
//! [`SANDBOX_ROOT`], `<yyyyMMdd>` the report *generation* date. [`fetch_day`] copies every file
//! of both folders flat into one local folder, which [`crate::fetch::LocalDir`] and the job then
//! read as before:
//!
//! * the server is who the pin says: a known_hosts file or a `SHA256:` fingerprint is required
//!   ([`HostKeyPin`]); there is no way to accept an unknown host key. The key is checked before
//!   authentication, so nothing is sent to or written from a server that fails the check;
//! * key authentication only, with an RSA or Ed25519 user key (OpenSSH or PEM file, unencrypted);
//! * each file is downloaded to `NAME.part`, its length checked against the size the server
//!   listed, synced, then renamed to `NAME`: a partial file never carries a report name. A file
//!   already in the folder at its listed size is not fetched again (same size is taken as the
//!   same file; reports are not rewritten in place on the server);
//! * complete means every file the server lists for the day is in the folder at its listed
//!   size. No settlement folder for the day is normal (settlement is not daily); no clearing
//!   folder is [`Fetched::NoClearingFolder`] (not generated yet, or deleted after ~7 days).
//!
//! The API is blocking, like the reconciler. Inside, the SSH client (russh, pure Rust, with
//! russh-sftp) runs on a current-thread tokio runtime that each [`Connection`] owns; nothing
//! is spawned on the caller's runtime (do not call it from inside an async task: use
//! `spawn_blocking`).
//!
//! ```no_run
//! use alipayplus_reconcile::sftp::{fetch_day, Fetched, HostKeyPin, ReportDay, SftpServer};
//! let server = SftpServer::parse(
//!     "sftp://acq@sftp.example.com:22",
//!     "/etc/alipayplus/id_ed25519",
//!     HostKeyPin::fingerprint("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s")?,
//! )?;
//! let day = ReportDay::new("1022182743758679985", "20250602")?;
//! match fetch_day(&server, &day, "/var/alipayplus/reports/20250602".as_ref())? {
//!     Fetched::Complete(files) => println!("{} files complete", files.files.len()),
//!     Fetched::NoClearingFolder { folder } => println!("{folder} is not there yet"),
//! }
//! # Ok::<(), alipayplus_reconcile::Error>(())
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::vec::Vec;
use std::{format, vec};

use russh::client;
use russh::keys::{Algorithm, EcdsaCurve, HashAlg, PrivateKeyWithHashAlg, PublicKey, ssh_key};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;
use tokio::io::AsyncReadExt as _;

use crate::error::echo;
use crate::{ClearingDate, Error};

/// The production folder root.
pub const PRODUCTION_ROOT: &str = "/v1/settlements";
/// The sandbox folder root (newer docs; older ones say sandbox files are given on request).
pub const SANDBOX_ROOT: &str = "/sandbox/settlements";
/// A requested day older than this many days may already be gone: Alipay+ may delete files
/// after 7 days (reconcile.md §3); see [`ReportDay::days_old`].
pub const WARN_AFTER_DAYS: i64 = 5;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const INACTIVITY_TIMEOUT: Duration = Duration::from_secs(60);
const CHUNK: usize = 64 * 1024;

/// How the server's host key is pinned. There is deliberately no "accept any key" variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostKeyPin {
    /// An OpenSSH known_hosts file (plain or hashed host names; `[host]:port` entries for a
    /// port other than 22, as `ssh-keyscan -p PORT` writes them). Only the key algorithms
    /// listed there for the server are offered, as OpenSSH does.
    KnownHosts(PathBuf),
    /// The SHA-256 fingerprint of the host key, as `ssh-keygen -lf` prints it.
    Fingerprint(ssh_key::Fingerprint),
}

impl HostKeyPin {
    /// A pin from `SHA256:<base64>` text (the form `ssh-keygen -l` prints).
    pub fn fingerprint(text: &str) -> Result<Self, Error> {
        let bad = |problem| Error::SftpArgument {
            what: "host key fingerprint",
            value: echo(text),
            problem,
        };
        if !text.starts_with("SHA256:") {
            return Err(bad(
                "expected SHA256:<base64> as `ssh-keygen -lf KEY.pub` prints it",
            ));
        }
        let fingerprint: ssh_key::Fingerprint = text
            .parse()
            .map_err(|_| bad("not a SHA-256 fingerprint (SHA256: and 43 base64 characters)"))?;
        Ok(HostKeyPin::Fingerprint(fingerprint))
    }
}

/// The SFTP server, the user and key, the host key pin and the folder root.
#[derive(Clone, Debug)]
pub struct SftpServer {
    user: String,
    host: String,
    port: u16,
    key: PathBuf,
    pin: HostKeyPin,
    root: String,
}

impl SftpServer {
    /// The server of `sftp://USER@HOST[:PORT]` (port 22 when left out; an IPv6 host in
    /// brackets), logging in with the private key in `key_file`, with the production root.
    pub fn parse(url: &str, key_file: impl Into<PathBuf>, pin: HostKeyPin) -> Result<Self, Error> {
        let bad = |problem| Error::SftpArgument {
            what: "SFTP address",
            value: echo(url),
            problem,
        };
        let rest = url
            .strip_prefix("sftp://")
            .ok_or_else(|| bad("expected sftp://USER@HOST:PORT"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (user, hostport) = rest
            .split_once('@')
            .ok_or_else(|| bad("no user: expected sftp://USER@HOST:PORT"))?;
        if user.is_empty() || user.contains([':', '/']) {
            return Err(bad(
                "the user must be a plain name (key authentication only, no password)",
            ));
        }
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
                (host, after.strip_prefix(':'))
            }
            None => match hostport.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            },
        };
        if host.is_empty() || host.contains(['/', '@', '[', ']']) {
            return Err(bad("no usable host name"));
        }
        let port = match port {
            None => 22,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
        };
        Ok(SftpServer {
            user: user.to_string(),
            host: host.to_string(),
            port,
            key: key_file.into(),
            pin,
            root: PRODUCTION_ROOT.to_string(),
        })
    }

    /// Uses the sandbox root [`SANDBOX_ROOT`].
    pub fn sandbox(self) -> Self {
        self.with_root(SANDBOX_ROOT)
    }

    /// Replaces the folder root (default [`PRODUCTION_ROOT`]); a trailing `/` is dropped.
    pub fn with_root(mut self, root: &str) -> Self {
        self.root = root.trim_end_matches('/').to_string();
        self
    }

    /// `host:port`, as errors name the server.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The remote folder of `kind` (`"clearing"` or `"settlement"`) for `day`.
    pub fn folder(&self, kind: FolderKind, day: &ReportDay) -> String {
        format!(
            "{}/{}/{}/{}",
            self.root,
            kind.as_str(),
            day.participant_id,
            day.date
        )
    }
}

/// The two report folders of a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FolderKind {
    /// `clearing`: Transaction Detail, Fee and Transaction Summary Reports (every day).
    Clearing,
    /// `settlement`: the Settlement Report (settlement days only).
    Settlement,
}

impl FolderKind {
    /// The folder name.
    pub fn as_str(self) -> &'static str {
        match self {
            FolderKind::Clearing => "clearing",
            FolderKind::Settlement => "settlement",
        }
    }
}

/// A participant's reports of one generation date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportDay {
    participant_id: String,
    date: String,
    day: ClearingDate,
}

impl ReportDay {
    /// `participant_id` as Alipay+ assigned it; `date` the report generation date `yyyyMMdd`.
    pub fn new(participant_id: &str, date: &str) -> Result<Self, Error> {
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if participant_id.is_empty()
            || participant_id.starts_with('.')
            || !participant_id.chars().all(plain)
        {
            return Err(Error::SftpArgument {
                what: "participant id",
                value: echo(participant_id),
                problem: "expected the id Alipay+ assigned (letters, digits, '_', '-', '.')",
            });
        }
        let day = ClearingDate::from_batch_id(date)
            .filter(|d| d.to_date_string().replace('-', "") == date)
            .ok_or_else(|| Error::SftpArgument {
                what: "date",
                value: echo(date),
                problem: "expected the report generation date as yyyyMMdd, e.g. 20250602",
            })?;
        Ok(ReportDay {
            participant_id: participant_id.to_string(),
            date: date.to_string(),
            day,
        })
    }

    /// Whole days from this date to the UTC+8 day of `now_unix` (negative for a future date).
    /// Above [`WARN_AFTER_DAYS`] the files may already have been deleted.
    pub fn days_old(&self, now_unix: i64) -> i64 {
        (ClearingDate::of_unix(now_unix).start_unix() - self.day.start_unix()) / 86_400
    }

    /// The date, `yyyyMMdd`.
    pub fn date(&self) -> &str {
        &self.date
    }
}

/// One file the server lists for the day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    /// The folder it is in.
    pub kind: FolderKind,
    /// Its full remote path.
    pub path: String,
    /// Its name (also its name in the local folder).
    pub name: String,
    /// The size the server lists.
    pub size: u64,
}

/// The files of a day as the server lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Every regular file of the clearing and settlement folders, clearing first, by name.
    pub files: Vec<RemoteFile>,
    /// Whether the settlement folder exists for the day.
    pub settlement_folder: bool,
    /// Entries that are not regular files (sub-folders, devices): left alone.
    pub skipped: Vec<String>,
}

/// A file of the day, now complete in the local folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalFile {
    /// The file as listed.
    pub remote: RemoteFile,
    /// `true` when this run downloaded it; `false` when it was already complete.
    pub downloaded: bool,
}

/// Every file of the day is complete in the local folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayFiles {
    /// The files, as [`Listing::files`].
    pub files: Vec<LocalFile>,
    /// Whether the server had a settlement folder for the day.
    pub settlement_folder: bool,
    /// Remote entries that are not regular files, left alone.
    pub skipped: Vec<String>,
}

/// What [`fetch_day`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Every file the server lists for the day is in the folder at its listed size.
    Complete(DayFiles),
    /// The server has no clearing folder for the day: not generated yet (08:00 UTC+8 on T+1),
    /// or deleted (after about 7 days). Nothing was written.
    NoClearingFolder {
        /// The remote folder that is missing.
        folder: String,
    },
}

/// Connects, lists the day and downloads what is not complete yet into `into` (created if
/// missing). See the [module docs](self) for the rules.
pub fn fetch_day(server: &SftpServer, day: &ReportDay, into: &Path) -> Result<Fetched, Error> {
    let mut connection = Connection::open(server)?;
    let Some(listing) = connection.list_day(day)? else {
        return Ok(Fetched::NoClearingFolder {
            folder: server.folder(FolderKind::Clearing, day),
        });
    };
    fs::create_dir_all(into).map_err(|e| local_io(into, e))?;
    let mut files = Vec::with_capacity(listing.files.len());
    for remote in listing.files {
        let downloaded = connection.download(&remote, into)?;
        files.push(LocalFile { remote, downloaded });
    }
    connection.close();
    Ok(Fetched::Complete(DayFiles {
        files,
        settlement_folder: listing.settlement_folder,
        skipped: listing.skipped,
    }))
}

/// An authenticated SFTP session on its own current-thread runtime. [`fetch_day`] is
/// [`open`](Self::open), [`list_day`](Self::list_day), then [`download`](Self::download) of each
/// listed file; the steps are public so a caller can act between them.
pub struct Connection {
    server: SftpServer,
    runtime: tokio::runtime::Runtime,
    handle: client::Handle<Pinned>,
    sftp: SftpSession,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Connection { .. }")
    }
}

impl Connection {
    /// Connects, checks the host key against the pin, authenticates with the user key and
    /// starts the SFTP subsystem.
    pub fn open(server: &SftpServer) -> Result<Self, Error> {
        let key = load_user_key(&server.key)?;
        let pins = Pins::load(server)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| ssh_error(server, format!("cannot start the I/O runtime: {e}")))?;
        let (handle, sftp) = runtime.block_on(connect(server, key, pins))?;
        Ok(Connection {
            server: server.clone(),
            runtime,
            handle,
            sftp,
        })
    }

    /// Lists the day's clearing and settlement folders; `None` when there is no clearing folder.
    pub fn list_day(&mut self, day: &ReportDay) -> Result<Option<Listing>, Error> {
        let server = &self.server;
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        let mut names = BTreeSet::new();
        let mut settlement_folder = false;
        for kind in [FolderKind::Clearing, FolderKind::Settlement] {
            let folder = server.folder(kind, day);
            let Some(found) = self
                .runtime
                .block_on(list_folder(&self.sftp, kind, &folder))?
            else {
                if kind == FolderKind::Clearing {
                    return Ok(None);
                }
                continue;
            };
            settlement_folder |= kind == FolderKind::Settlement;
            for file in found.0 {
                if !names.insert(file.name.clone()) {
                    return Err(Error::RemoteName {
                        folder,
                        name: echo(&file.name),
                        problem: "the name is in both the clearing and the settlement folder, \
                                  and files land flat in one local folder",
                    });
                }
                files.push(file);
            }
            skipped.extend(found.1);
        }
        Ok(Some(Listing {
            files,
            settlement_folder,
            skipped,
        }))
    }

    /// Downloads `file` into `into` unless `into/NAME` already has the listed size: to
    /// `NAME.part`, checked, synced, renamed. Returns whether it downloaded.
    pub fn download(&mut self, file: &RemoteFile, into: &Path) -> Result<bool, Error> {
        let target = into.join(&file.name);
        if let Ok(meta) = fs::metadata(&target)
            && meta.is_file()
            && meta.len() == file.size
        {
            return Ok(false);
        }
        let part = into.join(format!("{}.part", file.name));
        let result = self.runtime.block_on(copy_to(&self.sftp, file, &part));
        if let Err(e) = result {
            // A partial file never stays under any name the reconciler could read later.
            let _ = fs::remove_file(&part);
            return Err(e);
        }
        fs::rename(&part, &target).map_err(|e| local_io(&target, e))?;
        // The rename itself survives a crash only once the folder is synced.
        fs::File::open(into)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| local_io(into, e))?;
        Ok(true)
    }

    /// Ends the session politely (errors ignored: the files are already in place).
    pub fn close(self) {
        let Connection {
            runtime,
            handle,
            sftp,
            ..
        } = self;
        runtime.block_on(async move {
            let _ = sftp.close().await;
            let _ = handle
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        });
    }
}

fn local_io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        file: path.display().to_string(),
        source,
    }
}

fn ssh_error(server: &SftpServer, problem: String) -> Error {
    Error::Ssh {
        server: server.address(),
        problem,
    }
}

fn remote_error(path: &str, e: &russh_sftp::client::error::Error) -> Error {
    Error::Remote {
        path: path.to_string(),
        problem: e.to_string(),
    }
}

fn load_user_key(path: &Path) -> Result<ssh_key::PrivateKey, Error> {
    let problem = |problem: String| Error::UserKey {
        file: path.display().to_string(),
        problem,
    };
    let key = russh::keys::load_secret_key(path, None).map_err(|e| problem(e.to_string()))?;
    match key.algorithm() {
        Algorithm::Rsa { .. } | Algorithm::Ed25519 => Ok(key),
        other => Err(problem(format!("{other} keys are not supported here"))),
    }
}

/// The host keys the pin accepts, and the host key algorithms to offer.
#[derive(Clone, Debug)]
enum Pins {
    /// Keys from known_hosts (their algorithms are the ones offered).
    Keys { file: String, keys: Vec<PublicKey> },
    /// A fingerprint: its algorithm is unknown, so each family is offered in turn.
    Fingerprint(ssh_key::Fingerprint),
}

impl Pins {
    fn load(server: &SftpServer) -> Result<Self, Error> {
        match &server.pin {
            HostKeyPin::Fingerprint(f) => Ok(Pins::Fingerprint(*f)),
            HostKeyPin::KnownHosts(path) => {
                let file = path.display().to_string();
                let problem = |problem: String| Error::KnownHosts {
                    file: file.clone(),
                    problem,
                };
                // russh's reader treats a missing file as "no entries": say which it is.
                fs::metadata(path).map_err(|e| problem(e.to_string()))?;
                let keys: Vec<PublicKey> =
                    russh::keys::known_hosts::known_host_keys_path(&server.host, server.port, path)
                        .map_err(|e| problem(e.to_string()))?
                        .into_iter()
                        .map(|(_, key)| key)
                        .collect();
                if keys.is_empty() {
                    let name = if server.port == 22 {
                        server.host.clone()
                    } else {
                        format!("[{}]:{}", server.host, server.port)
                    };
                    return Err(problem(format!(
                        "no key for {name}; add the server's key (e.g. `ssh-keyscan -p {} {}` \
                         output checked against the fingerprint Alipay+ gave you)",
                        server.port, server.host
                    )));
                }
                Ok(Pins::Keys { file, keys })
            }
        }
    }

    /// The host key algorithm lists to offer, one connection attempt each.
    fn offers(&self) -> Vec<Vec<Algorithm>> {
        let rsa = || {
            vec![
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha512),
                },
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha256),
                },
            ]
        };
        let ecdsa = || {
            [
                EcdsaCurve::NistP256,
                EcdsaCurve::NistP384,
                EcdsaCurve::NistP521,
            ]
            .into_iter()
            .map(|curve| Algorithm::Ecdsa { curve })
            .collect::<Vec<_>>()
        };
        match self {
            Pins::Fingerprint(_) => vec![vec![Algorithm::Ed25519], ecdsa(), rsa()],
            Pins::Keys { keys, .. } => {
                let mut offer = Vec::new();
                for key in keys {
                    let algs = match key.algorithm() {
                        Algorithm::Rsa { .. } => rsa(),
                        other => vec![other],
                    };
                    for alg in algs {
                        if !offer.contains(&alg) {
                            offer.push(alg);
                        }
                    }
                }
                vec![offer]
            }
        }
    }

    fn accepts(&self, key: &PublicKey) -> bool {
        match self {
            Pins::Fingerprint(f) => key.fingerprint(HashAlg::Sha256) == *f,
            Pins::Keys { keys, .. } => keys.iter().any(|k| k.key_data() == key.key_data()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Pins::Fingerprint(f) => f.to_string(),
            Pins::Keys { file, keys } => {
                let listed: Vec<String> = keys.iter().map(describe_key).collect();
                format!("one of {} from {file}", listed.join(", "))
            }
        }
    }
}

fn describe_key(key: &PublicKey) -> String {
    format!("{} {}", key.algorithm(), key.fingerprint(HashAlg::Sha256))
}

/// The russh client handler: checks the server's key against the pins and records what it saw.
struct Pinned {
    pins: Pins,
    presented: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = server_public_key else {
            // Certificates are not offered (Preferred::host_key_certificates stays empty).
            return Ok(false);
        };
        if let Ok(mut seen) = self.presented.lock() {
            *seen = Some(describe_key(key));
        }
        Ok(self.pins.accepts(key))
    }
}

async fn connect(
    server: &SftpServer,
    key: ssh_key::PrivateKey,
    pins: Pins,
) -> Result<(client::Handle<Pinned>, SftpSession), Error> {
    let mut presented = Vec::new();
    let mut handle = None;
    for offer in pins.offers() {
        let config = client::Config {
            inactivity_timeout: Some(INACTIVITY_TIMEOUT),
            preferred: russh::Preferred {
                key: offer.into(),
                ..russh::Preferred::DEFAULT
            },
            ..client::Config::default()
        };
        let seen = Arc::new(Mutex::new(None));
        let handler = Pinned {
            pins: pins.clone(),
            presented: seen.clone(),
        };
        let attempt = tokio::time::timeout(
            CONNECT_TIMEOUT,
            client::connect(
                Arc::new(config),
                (server.host.as_str(), server.port),
                handler,
            ),
        )
        .await;
        match attempt {
            Err(_) => {
                return Err(ssh_error(
                    server,
                    format!("no answer within {CONNECT_TIMEOUT:?}"),
                ));
            }
            Ok(Ok(h)) => {
                handle = Some(h);
                break;
            }
            // The server has no host key of this family: try the next one.
            Ok(Err(russh::Error::NoCommonAlgo { .. })) => {}
            Ok(Err(russh::Error::UnknownKey)) => {
                if let Some(seen) = seen.lock().ok().and_then(|mut s| s.take()) {
                    presented.push(seen);
                }
            }
            Ok(Err(e)) => return Err(ssh_error(server, e.to_string())),
        }
    }
    let Some(mut handle) = handle else {
        return Err(Error::HostKeyMismatch {
            server: server.address(),
            presented: if presented.is_empty() {
                "no key of the pinned kind".to_string()
            } else {
                presented.join(", ")
            },
            expected: pins.describe(),
        });
    };
    let hash = match key.algorithm() {
        Algorithm::Rsa { .. } => handle
            .best_supported_rsa_hash()
            .await
            .map_err(|e| ssh_error(server, e.to_string()))?
            .flatten()
            .or(Some(HashAlg::Sha256)),
        _ => None,
    };
    let auth = handle
        .authenticate_publickey(
            server.user.clone(),
            PrivateKeyWithHashAlg::new(Arc::new(key), hash),
        )
        .await
        .map_err(|e| ssh_error(server, e.to_string()))?;
    if !auth.success() {
        return Err(Error::AuthRejected {
            user: server.user.clone(),
            server: server.address(),
            key: server.key.display().to_string(),
        });
    }
    let channel = handle
        .channel_open_session()
        .await
        .map_err(|e| ssh_error(server, format!("opening a session: {e}")))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| ssh_error(server, format!("starting the sftp subsystem: {e}")))?;
    let sftp = SftpSession::new(channel.into_stream())
        .await
        .map_err(|e| ssh_error(server, format!("starting SFTP: {e}")))?;
    Ok((handle, sftp))
}

/// A report name that can be stored flat in the local folder.
fn check_name(folder: &str, name: &str) -> Result<(), Error> {
    let problem = if name.is_empty() || name == "." || name == ".." {
        Some("not a file name")
    } else if name.contains(['/', '\\', '\0']) {
        Some("a file name must not hold a path separator or NUL")
    } else if name.starts_with('.') {
        Some("a hidden file is not a report")
    } else if name.ends_with(".part") {
        Some("'.part' names are reserved for downloads in progress")
    } else if name.len() > 250 {
        Some("the name is too long to store with its '.part' suffix")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(Error::RemoteName {
            folder: folder.to_string(),
            name: echo(name),
            problem,
        }),
    }
}

type Found = (Vec<RemoteFile>, Vec<String>);

/// The regular files of `folder` (by name) and the other entries; `None` if it does not exist.
async fn list_folder(
    sftp: &SftpSession,
    kind: FolderKind,
    folder: &str,
) -> Result<Option<Found>, Error> {
    let entries = match sftp.read_dir(folder).await {
        Ok(entries) => entries,
        Err(russh_sftp::client::error::Error::Status(s))
            if s.status_code == StatusCode::NoSuchFile =>
        {
            return Ok(None);
        }
        Err(e) => return Err(remote_error(folder, &e)),
    };
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for entry in entries {
        let name = entry.file_name();
        let path = format!("{folder}/{name}");
        let mut meta = entry.metadata();
        if meta.file_type().is_symlink() {
            // A link to a report is served as the report.
            meta = sftp
                .metadata(path.as_str())
                .await
                .map_err(|e| remote_error(&path, &e))?;
        }
        if !meta.file_type().is_file() {
            skipped.push(path);
            continue;
        }
        check_name(folder, &name)?;
        let size = match meta.size {
            Some(size) => size,
            None => sftp
                .metadata(path.as_str())
                .await
                .map_err(|e| remote_error(&path, &e))?
                .size
                .ok_or_else(|| Error::Remote {
                    path: path.clone(),
                    problem: "the server lists no size, so completeness cannot be checked"
                        .to_string(),
                })?,
        };
        files.push(RemoteFile {
            kind,
            path,
            name,
            size,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    skipped.sort();
    Ok(Some((files, skipped)))
}

/// Copies `file` to `part`, reading at most one byte past the listed size, and syncs it.
async fn copy_to(sftp: &SftpSession, file: &RemoteFile, part: &Path) -> Result<(), Error> {
    let mut remote = sftp
        .open(file.path.as_str())
        .await
        .map_err(|e| remote_error(&file.path, &e))?;
    let mut local = fs::File::create(part).map_err(|e| local_io(part, e))?;
    let mut buf = vec![0u8; CHUNK];
    let mut received: u64 = 0;
    let limit = file.size.saturating_add(1);
    while received < limit {
        let want = usize::try_from(limit - received).map_or(CHUNK, |left| left.min(CHUNK));
        let n = remote
            .read(&mut buf[..want])
            .await
            .map_err(|e| Error::Remote {
                path: file.path.clone(),
                problem: format!("reading after {received} bytes: {e}"),
            })?;
        if n == 0 {
            break;
        }
        local.write_all(&buf[..n]).map_err(|e| local_io(part, e))?;
        received += n as u64;
    }
    let _ = remote.close().await;
    if received != file.size {
        return Err(Error::SizeMismatch {
            path: file.path.clone(),
            listed: file.size,
            received,
            more: if received > file.size { " or more" } else { "" },
        });
    }
    local.sync_all().map_err(|e| local_io(part, e))
}
