//! The signtool command line, kept apart from `main` so the integration tests run it on every
//! vector (tests/signtool.rs includes this file).
//!
//! ```text
//! signtool sign    --key FILE    --method M --uri U --client-id C --time T --body-file F [--key-version N]
//! signtool verify  --key PUBFILE --method M --uri U --client-id C --time T --body-file F --header H
//! signtool content               --method M --uri U --client-id C --time T --body-file F
//! ```

use alipayplus_sign::{PublicKeys, SignContent, message};
use std::io::Write;

// The signing backend: built with `--features aws-lc`, signtool signs and verifies with
// aws-lc-rs; otherwise with the default pure-Rust `rsa` backend. Both read the same key forms.
#[cfg(feature = "aws-lc")]
use alipayplus_sign::{AwsLcPrivateKey as PrivateKey, AwsLcPublicKey as PublicKey};
#[cfg(not(feature = "aws-lc"))]
use alipayplus_sign::{PrivateKey, PublicKey};

/// Name of the backend this build signs with, shown by `--help`.
pub const BACKEND: &str = if cfg!(feature = "aws-lc") {
    "aws-lc (aws-lc-rs)"
} else {
    "rsa (pure Rust, the default)"
};

/// Exit code for a successful run (and `valid`).
pub const OK: i32 = 0;
/// Exit code for a failure: invalid signature, unreadable key or body.
pub const FAILED: i32 = 1;
/// Exit code for a command line that does not fit the interface.
pub const USAGE: i32 = 2;

const USAGE_TEXT: &str = "\
usage:
  signtool sign    --key FILE    --method M --uri U --client-id C --time T --body-file F [--key-version N]
  signtool verify  --key PUBFILE --method M --uri U --client-id C --time T --body-file F --header H
  signtool content               --method M --uri U --client-id C --time T --body-file F

  sign     prints the Signature header value (keyVersion defaults to 1)
  verify   prints `valid` and exits 0, or prints the reason and exits 1
  content  writes the exact bytes to be signed
Keys may be PEM, DER or bare base64 (PKCS#8/PKCS#1 private, SPKI/PKCS#1 public).
Bodies are read as raw bytes. --header takes the Signature header value (a leading
`Signature:` is ignored).";

#[derive(Default)]
struct Options {
    key: Option<String>,
    method: Option<String>,
    uri: Option<String>,
    client_id: Option<String>,
    time: Option<String>,
    body_file: Option<String>,
    key_version: Option<String>,
    header: Option<String>,
}

/// Runs signtool with `args` (without the program name); returns the process exit code.
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let Some((command, rest)) = args.split_first() else {
        return usage(err, "missing command");
    };
    let allowed: &[&str] = match command.as_str() {
        "sign" => &["--key", "--key-version"],
        "verify" => &["--key", "--header"],
        "content" => &[],
        "-h" | "--help" | "help" => {
            let _ = writeln!(
                out,
                "{USAGE_TEXT}\n\nSigning backend of this build: {BACKEND}."
            );
            return OK;
        }
        other => return usage(err, &format!("unknown command `{other}`")),
    };
    let options = match parse_options(rest, allowed) {
        Ok(o) => o,
        Err(msg) => return usage(err, &msg),
    };
    let result = match command.as_str() {
        "sign" => sign(&options, out),
        "verify" => return verify(&options, out, err),
        _ => content(&options, out),
    };
    match result {
        Ok(()) => OK,
        Err(Failure::Usage(msg)) => usage(err, &msg),
        Err(Failure::Failed(msg)) => {
            let _ = writeln!(err, "error: {msg}");
            FAILED
        }
    }
}

enum Failure {
    Usage(String),
    Failed(String),
}

fn usage(err: &mut dyn Write, msg: &str) -> i32 {
    let _ = writeln!(err, "error: {msg}\n\n{USAGE_TEXT}");
    USAGE
}

fn parse_options(args: &[String], extra: &[&str]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let slot = match flag.as_str() {
            "--method" => &mut o.method,
            "--uri" => &mut o.uri,
            "--client-id" => &mut o.client_id,
            "--time" => &mut o.time,
            "--body-file" => &mut o.body_file,
            "--key" if extra.contains(&"--key") => &mut o.key,
            "--key-version" if extra.contains(&"--key-version") => &mut o.key_version,
            "--header" if extra.contains(&"--header") => &mut o.header,
            other => return Err(format!("unexpected argument `{other}`")),
        };
        let value = it.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
        if slot.replace(value.clone()).is_some() {
            return Err(format!("`{flag}` given twice"));
        }
    }
    Ok(o)
}

fn required<'a>(value: &'a Option<String>, flag: &str) -> Result<&'a str, Failure> {
    value
        .as_deref()
        .ok_or_else(|| Failure::Usage(format!("missing `{flag}`")))
}

fn read_file(path: &str, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Failed(format!("cannot read {what} `{path}`: {e}")))
}

/// Reads the content parts from the options; the body is owned by the caller.
fn content_parts(o: &Options) -> Result<([&str; 4], Vec<u8>), Failure> {
    let parts = [
        required(&o.method, "--method")?,
        required(&o.uri, "--uri")?,
        required(&o.client_id, "--client-id")?,
        required(&o.time, "--time")?,
    ];
    let body = read_file(required(&o.body_file, "--body-file")?, "body file")?;
    Ok((parts, body))
}

fn sign(o: &Options, out: &mut dyn Write) -> Result<(), Failure> {
    let key_version = match o.key_version.as_deref() {
        None => 1,
        Some(v) => v.parse::<u32>().map_err(|_| {
            Failure::Usage(format!("--key-version `{v}` is not a non-negative integer"))
        })?,
    };
    let key_bytes = read_file(required(&o.key, "--key")?, "key file")?;
    let ([method, uri, client_id, time], body) = content_parts(o)?;
    let key = PrivateKey::parse(&key_bytes).map_err(|e| Failure::Failed(e.to_string()))?;
    let header = message::sign_request(&key, key_version, method, uri, client_id, time, &body)
        .map_err(|e| Failure::Failed(e.to_string()))?;
    writeln!(out, "{header}").map_err(|e| Failure::Failed(e.to_string()))
}

fn verify(o: &Options, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let checked = (|| {
        let header = required(&o.header, "--header")?;
        let key_bytes = read_file(required(&o.key, "--key")?, "key file")?;
        let ([method, uri, client_id, time], body) = content_parts(o)?;
        let key = PublicKey::parse(&key_bytes).map_err(|e| Failure::Failed(e.to_string()))?;
        // Accept a pasted `Signature: ...` line as well as the bare value.
        let value = match header.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("signature") => value.trim(),
            _ => header,
        };
        let content = SignContent::request(method, uri, client_id, time, &body);
        // One key: used whatever keyVersion the header names (common.md §2.5).
        message::verify_content(&PublicKeys::single(0, key), &content, value)
            .map_err(|e| Failure::Failed(e.to_string()))
    })();
    match checked {
        Ok(_) => {
            let _ = writeln!(out, "valid");
            OK
        }
        Err(Failure::Usage(msg)) => usage(err, &msg),
        Err(Failure::Failed(reason)) => {
            let _ = writeln!(out, "invalid: {reason}");
            FAILED
        }
    }
}

fn content(o: &Options, out: &mut dyn Write) -> Result<(), Failure> {
    let ([method, uri, client_id, time], body) = content_parts(o)?;
    SignContent::request(method, uri, client_id, time, &body)
        .write_io(out)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Failed(e.to_string()))
}
