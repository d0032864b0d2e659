//! The SFTP fetch against a real OpenSSH server (Debian's openssh-server): `sshd` on a loopback
//! port with fresh RSA and Ed25519 host and user keys and a chroot holding the Alipay+ folders
//! (alipayplus_sim::sshd). No mock. Without sshd (or root) the tests print a note and pass,
//! except with `CI=true`, where they fail.
//!
//! `cargo build -p alipayplus-reconcile --features sftp --example fetch && cargo test -p alipayplus-reconcile --features sftp --test sftp`

use std::path::{Path, PathBuf};
use std::process::Command;

use alipayplus_reconcile::Error;
use alipayplus_reconcile::sftp::{Connection, HostKeyPin, ReportDay, SftpServer};
use alipayplus_sim::sshd::{self, KeyType, Sshd};

const PID: &str = "1022188000000000001";
const DAY: &str = "20250602";
const CLEARING: [(&str, &str); 3] = [
    (
        "transactionItems_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv",
        "totalCount,netTotalAmount\n1,1500\n\ntransactionRequestId,transactionAmountValue\nPAY1,1500\n",
    ),
    (
        "feeItems_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv",
        "totalCount\n0\n",
    ),
    (
        "summary_1022188000000000001_SGD_20250601_1022188000000000001SGD_000.csv",
        "totalCount,netTotalAmount\n1,1500\n",
    ),
];
const SETTLEMENT: (&str, &str) = (
    "settlement_1022188000000000001_SGD_S20250602001_1022188000000000001SGD_000.csv",
    "settlementBatchId,settlementAmountValue\nS20250602001,1485\n",
);

/// A running sshd for one test, or `None` (skip) when it cannot run here and CI is not set.
fn server(test: &str) -> Option<Sshd> {
    if let Some(why) = sshd::unavailable() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and sshd cannot run: {why}"
        );
        eprintln!("note: SFTP test {test} skipped: {why}");
        return None;
    }
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sftp-{test}-{}", std::process::id()));
    Some(Sshd::start(&dir).unwrap_or_else(|e| panic!("starting sshd: {e}")))
}

/// The day's folders as Alipay+ lays them out, under `root`.
fn publish(sshd: &Sshd, root: &str, with_settlement: bool) {
    let clearing = sshd.report_folder(root, "clearing", PID, DAY).unwrap();
    for (name, text) in CLEARING {
        std::fs::write(clearing.join(name), text).unwrap();
    }
    // Not a regular file: left alone.
    std::fs::create_dir_all(clearing.join("archive")).unwrap();
    if with_settlement {
        let settlement = sshd.report_folder(root, "settlement", PID, DAY).unwrap();
        std::fs::write(settlement.join(SETTLEMENT.0), SETTLEMENT.1).unwrap();
    }
}

fn into_dir(sshd: &Sshd, name: &str) -> PathBuf {
    sshd.chroot().parent().unwrap().join(name)
}

/// `cargo test` puts the examples beside the test binaries' `deps` folder.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir
        .join("examples")
        .join(format!("fetch{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "build the example first: cargo build -p alipayplus-reconcile --features sftp --example fetch ({})",
        path.display()
    );
    path
}

/// Runs the example; (exit code, stdout, stderr).
fn fetch(
    sshd: &Sshd,
    pin: &[&str],
    key: KeyType,
    date: &str,
    into: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let out = Command::new(example())
        .args(["--sftp", &sshd.url(), "--key"])
        .arg(sshd.user_key(key))
        .args(pin)
        .args(["--participant-id", PID, "--date", date, "--into"])
        .arg(into)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn expected_names(with_settlement: bool) -> Vec<String> {
    let mut want: Vec<String> = CLEARING.iter().map(|(n, _)| n.to_string()).collect();
    if with_settlement {
        want.push(SETTLEMENT.0.to_string());
    }
    want.sort();
    want
}

#[test]
fn the_days_files_are_fetched_flat_then_a_second_run_fetches_nothing() {
    let Some(sshd) = server("day") else { return };
    publish(&sshd, "/v1/settlements", true);
    let fp = sshd.fingerprint(KeyType::Ed25519).unwrap();
    let into = into_dir(&sshd, "into");
    let pin = ["--host-key-fingerprint", fp.as_str()];
    let (code, out, err) = fetch(&sshd, &pin, KeyType::Ed25519, DAY, &into, &[]);
    assert_eq!(code, 0, "{out}{err}\n{}", sshd.log());
    assert_eq!(names(&into), expected_names(true), "{out}");
    for (name, text) in CLEARING.iter().chain([&SETTLEMENT]) {
        assert_eq!(std::fs::read_to_string(into.join(name)).unwrap(), *text);
    }
    assert!(
        out.contains("4 files complete") && out.contains("(4 fetched now)"),
        "{out}"
    );
    assert!(err.contains("archive is not a regular file"), "{err}");
    // Older than 5 days: warned.
    assert!(err.contains("days old"), "{err}");

    // Again: everything is complete, nothing is downloaded (a changed local copy of the same
    // size stays as it is, which shows no byte was fetched).
    let kept = into.join(CLEARING[1].0);
    std::fs::write(&kept, "X".repeat(CLEARING[1].1.len())).unwrap();
    let (code, out, err) = fetch(&sshd, &pin, KeyType::Ed25519, DAY, &into, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("(0 fetched now)"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "X".repeat(CLEARING[1].1.len())
    );
    // A local file of the wrong size is fetched again.
    std::fs::write(&kept, "short").unwrap();
    let (code, out, _) = fetch(&sshd, &pin, KeyType::Ed25519, DAY, &into, &[]);
    assert_eq!((code, out.contains("(1 fetched now)")), (0, true), "{out}");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), CLEARING[1].1);
}

#[test]
fn rsa_and_ed25519_user_and_host_keys_known_hosts_and_fingerprint() {
    let Some(sshd) = server("keys") else { return };
    publish(&sshd, "/sandbox/settlements", false);
    for (n, host) in [KeyType::Rsa, KeyType::Ed25519].into_iter().enumerate() {
        let known = sshd.known_hosts(host).unwrap();
        let fp = sshd.fingerprint(host).unwrap();
        let pins: [[&str; 2]; 2] = [
            ["--known-hosts", known.to_str().unwrap()],
            ["--host-key-fingerprint", fp.as_str()],
        ];
        for (m, pin) in pins.iter().enumerate() {
            for (k, user) in [KeyType::Rsa, KeyType::Ed25519].into_iter().enumerate() {
                let into = into_dir(&sshd, &format!("into-{n}{m}{k}"));
                let (code, out, err) = fetch(&sshd, pin, user, DAY, &into, &["--sandbox"]);
                assert_eq!(
                    code,
                    0,
                    "host {host:?} pin {pin:?} user {user:?}: {out}{err}\n{}",
                    sshd.log()
                );
                assert_eq!(names(&into), expected_names(false));
                // No settlement folder for the day is normal.
                assert!(out.contains("no settlement folder"), "{out}");
            }
        }
    }
    // The host key algorithm the client got is the pinned one (sshd logs the user key type;
    // the host key is proven by the pin check passing with only that key listed).
    assert!(
        sshd.log().contains("RSA") && sshd.log().contains("ED25519"),
        "{}",
        sshd.log()
    );
}

#[test]
fn a_wrong_host_key_is_refused_with_nothing_written() {
    let Some(sshd) = server("hostkey") else {
        return;
    };
    publish(&sshd, "/v1/settlements", true);
    // Another key's fingerprint (the user key's), and a known_hosts file naming another key.
    let other = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(sshd.user_key(KeyType::Ed25519))
        .output()
        .unwrap();
    let other = String::from_utf8_lossy(&other.stdout);
    let other_fp = other.split_whitespace().nth(1).unwrap().to_string();
    let wrong_known = into_dir(&sshd, "wrong_known_hosts");
    let user_pub =
        std::fs::read_to_string(sshd.user_key(KeyType::Rsa).with_extension("pub")).unwrap();
    let mut f = user_pub.split_whitespace();
    std::fs::write(
        &wrong_known,
        format!(
            "[127.0.0.1]:{} {} {}\n",
            sshd.port(),
            f.next().unwrap(),
            f.next().unwrap()
        ),
    )
    .unwrap();
    let cases: [[&str; 2]; 2] = [
        ["--host-key-fingerprint", other_fp.as_str()],
        ["--known-hosts", wrong_known.to_str().unwrap()],
    ];
    for pin in cases {
        let into = into_dir(&sshd, "into-wrong");
        let (code, out, err) = fetch(&sshd, &pin, KeyType::Ed25519, DAY, &into, &[]);
        assert_eq!(code, 2, "{pin:?}: {out}{err}");
        assert!(
            err.contains("host key of 127.0.0.1:") && err.contains("refused"),
            "{err}"
        );
        assert!(!into.exists(), "nothing is written: {:?}", names(&into));
    }
    // No pin at all is not an option.
    let into = into_dir(&sshd, "into-nopin");
    let (code, _, err) = fetch(&sshd, &[], KeyType::Ed25519, DAY, &into, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("must be pinned"), "{err}");
    // A known_hosts file without the server is refused before connecting.
    std::fs::write(&wrong_known, "example.com ssh-ed25519 AAAA\n").unwrap();
    let pin = ["--known-hosts", wrong_known.to_str().unwrap()];
    let (code, _, err) = fetch(&sshd, &pin, KeyType::Ed25519, DAY, &into, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no key for [127.0.0.1]:"), "{err}");
    assert!(!into.exists());
}

#[test]
fn a_missing_day_exits_1_and_a_refused_user_key_exits_2() {
    let Some(sshd) = server("missing") else {
        return;
    };
    publish(&sshd, "/v1/settlements", true);
    let fp = sshd.fingerprint(KeyType::Rsa).unwrap();
    let pin = ["--host-key-fingerprint", fp.as_str()];
    let into = into_dir(&sshd, "into-missing");
    let (code, out, err) = fetch(&sshd, &pin, KeyType::Rsa, "20250603", &into, &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("/v1/settlements/clearing/1022188000000000001/20250603"),
        "{err}"
    );
    assert!(!into.exists());
    // --root replaces the folder root: the day is not under /elsewhere.
    let (code, _, err) = fetch(
        &sshd,
        &pin,
        KeyType::Rsa,
        DAY,
        &into,
        &["--root", "/elsewhere"],
    );
    assert_eq!(code, 1, "{err}");
    // A key the server does not know: authentication refused, exit 2.
    let host_key = sshd.chroot().parent().unwrap().join("host_ed25519");
    let out = Command::new(example())
        .args(["--sftp", &sshd.url(), "--key"])
        .arg(host_key)
        .args(pin)
        .args(["--participant-id", PID, "--date", DAY, "--into"])
        .arg(&into)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("authentication of root@127.0.0.1:") && err.contains("refused"),
        "{err}"
    );
    assert!(!into.exists());
    // A malformed date is an argument error.
    let (code, _, err) = fetch(&sshd, &pin, KeyType::Rsa, "2025-06-02", &into, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("yyyyMMdd"), "{err}");
}

#[test]
fn a_transfer_cut_short_or_overlong_is_not_renamed() {
    let Some(sshd) = server("short") else { return };
    publish(&sshd, "/v1/settlements", true);
    let fp = sshd.fingerprint(KeyType::Ed25519).unwrap();
    let server = SftpServer::parse(
        &sshd.url(),
        sshd.user_key(KeyType::Ed25519),
        HostKeyPin::fingerprint(&fp).unwrap(),
    )
    .unwrap();
    let day = ReportDay::new(PID, DAY).unwrap();
    let mut connection = Connection::open(&server).unwrap();
    let listing = connection
        .list_day(&day)
        .unwrap()
        .expect("the clearing folder");
    assert_eq!(listing.files.len(), 4);
    assert!(listing.settlement_folder);
    let into = into_dir(&sshd, "into-short");
    std::fs::create_dir_all(&into).unwrap();
    let clearing = sshd
        .report_folder("/v1/settlements", "clearing", PID, DAY)
        .unwrap();

    // The server's file shrinks after it was listed: fewer bytes arrive than listed.
    let short = listing
        .files
        .iter()
        .find(|f| f.name == CLEARING[0].0)
        .unwrap();
    std::fs::write(clearing.join(&short.name), &CLEARING[0].1[..10]).unwrap();
    let err = connection.download(short, &into).unwrap_err();
    assert!(
        matches!(err, Error::SizeMismatch { listed, received: 10, .. } if listed == short.size),
        "{err}"
    );
    assert!(err.to_string().contains("run the fetch again"), "{err}");
    // It grows: reading stops one byte past the listed size.
    let long = listing
        .files
        .iter()
        .find(|f| f.name == CLEARING[2].0)
        .unwrap();
    std::fs::write(clearing.join(&long.name), CLEARING[2].1.repeat(1000)).unwrap();
    let err = connection.download(long, &into).unwrap_err();
    assert!(
        matches!(err, Error::SizeMismatch { listed, received, .. } if received == listed + 1),
        "{err}"
    );
    // Neither the report name nor a .part file is left.
    assert!(names(&into).is_empty(), "{:?}", names(&into));
    // The untouched files still download, each under its own name.
    for file in listing
        .files
        .iter()
        .filter(|f| f.name != short.name && f.name != long.name)
    {
        assert!(connection.download(file, &into).unwrap());
    }
    assert_eq!(names(&into).len(), 2);
    connection.close();
}
