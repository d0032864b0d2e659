//! Fetches a day's settlement reports from the Alipay+ SFTP server into a local folder, ready
//! for `reconcile --reports DIR`.
//!
//! ```sh
//! cargo run -q -p alipayplus-reconcile --features sftp --example fetch -- \
//!   --sftp sftp://USER@HOST:PORT --key FILE (--known-hosts FILE | --host-key-fingerprint SHA256:...) \
//!   --participant-id ID --date yyyyMMdd --into DIR [--sandbox] [--root PATH]
//! ```
//!
//! `--root` replaces the folder root (default `/v1/settlements`, `/sandbox/settlements` with
//! `--sandbox`). Exit 0: every clearing and settlement file the server lists for the day is in
//! DIR at its listed size; 1: the server has no clearing folder for the day (yet); 2: any error
//! (arguments, host key mismatch, authentication, I/O, size mismatch), the message naming it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use alipayplus_reconcile::sftp::{
    self, Fetched, HostKeyPin, ReportDay, SftpServer, WARN_AFTER_DAYS,
};

const USAGE: &str = "usage: fetch --sftp sftp://USER@HOST:PORT --key FILE \
(--known-hosts FILE | --host-key-fingerprint SHA256:...) --participant-id ID --date yyyyMMdd \
--into DIR [--sandbox] [--root PATH]";

struct Args {
    server: SftpServer,
    day: ReportDay,
    into: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let (mut url, mut key, mut known_hosts, mut fingerprint) = (None, None, None, None);
    let (mut participant, mut date, mut into, mut sandbox, mut root) =
        (None, None, None, false, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--sftp" => url = Some(value()?),
            "--key" => key = Some(value()?),
            "--known-hosts" => known_hosts = Some(value()?),
            "--host-key-fingerprint" => fingerprint = Some(value()?),
            "--participant-id" => participant = Some(value()?),
            "--date" => date = Some(value()?),
            "--into" => into = Some(value()?),
            "--root" => root = Some(value()?),
            "--sandbox" => sandbox = true,
            _ => return Err(format!("unexpected argument {arg:?}\n{USAGE}")),
        }
    }
    let missing = |name: &str| format!("{name} is required\n{USAGE}");
    let pin = match (known_hosts, fingerprint) {
        (Some(file), None) => HostKeyPin::KnownHosts(file.into()),
        (None, Some(text)) => HostKeyPin::fingerprint(&text).map_err(|e| e.to_string())?,
        (Some(_), Some(_)) => {
            return Err(format!(
                "give one of --known-hosts and --host-key-fingerprint, not both\n{USAGE}"
            ));
        }
        (None, None) => {
            return Err(format!(
                "the server's host key must be pinned: --known-hosts FILE or \
                 --host-key-fingerprint SHA256:... (there is no accept-any option)\n{USAGE}"
            ));
        }
    };
    let url = url.ok_or_else(|| missing("--sftp"))?;
    let key = key.ok_or_else(|| missing("--key"))?;
    let mut server = SftpServer::parse(&url, key, pin).map_err(|e| e.to_string())?;
    if sandbox {
        server = server.sandbox();
    }
    if let Some(root) = root {
        server = server.with_root(&root);
    }
    let participant = participant.ok_or_else(|| missing("--participant-id"))?;
    let date = date.ok_or_else(|| missing("--date"))?;
    let day = ReportDay::new(&participant, &date).map_err(|e| e.to_string())?;
    let into = into.ok_or_else(|| missing("--into"))?.into();
    Ok(Args { server, day, into })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(message) => {
            eprintln!("fetch: {message}");
            return ExitCode::from(2);
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let age = args.day.days_old(now);
    if age > WARN_AFTER_DAYS {
        eprintln!(
            "fetch: warning: {} is {age} days old; Alipay+ may delete files after 7 days \
             (older reports: Alipay+ Partner Workspace)",
            args.day.date()
        );
    }
    match sftp::fetch_day(&args.server, &args.day, &args.into) {
        Ok(Fetched::Complete(day)) => {
            for file in &day.files {
                let how = if file.downloaded {
                    "fetched "
                } else {
                    "complete"
                };
                println!(
                    "{how} {}/{} ({} bytes)",
                    file.remote.kind.as_str(),
                    file.remote.name,
                    file.remote.size
                );
            }
            for path in &day.skipped {
                eprintln!("fetch: note: {path} is not a regular file; left alone");
            }
            if !day.settlement_folder {
                println!(
                    "no settlement folder for {} (normal: settlement is not daily)",
                    args.day.date()
                );
            }
            let fetched = day.files.iter().filter(|f| f.downloaded).count();
            println!(
                "{} files complete in {} ({fetched} fetched now); next: reconcile --reports {}",
                day.files.len(),
                args.into.display(),
                args.into.display()
            );
            ExitCode::SUCCESS
        }
        Ok(Fetched::NoClearingFolder { folder }) => {
            eprintln!(
                "fetch: the server has no clearing folder {folder} (yet): clearing reports come \
                 at 08:00 UTC+8 on T+1; nothing was written"
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("fetch: {e}");
            ExitCode::from(2)
        }
    }
}
