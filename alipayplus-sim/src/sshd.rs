//! The SFTP side of the simulator: a real OpenSSH `sshd` (Debian's openssh-server) on a loopback
//! port, serving a chroot that holds the Alipay+ report folders (reconcile.md §3). Used by
//! alipayplus-reconcile's SFTP tests and by `cargo xtask demo`; no SSH code of our own.
//!
//! [`Sshd::start`] makes fresh RSA and Ed25519 host and user keys with `ssh-keygen`, writes its
//! own `sshd_config` (no PAM, public keys only, `internal-sftp` forced, `ChrootDirectory`),
//! starts `/usr/sbin/sshd -D -e` and waits until it accepts connections; dropping the value
//! kills it. It logs in as `root` (`PermitRootLogin prohibit-password`): `ChrootDirectory`
//! needs sshd to run as root anyway, and CI runs as root, so no system user is created. The
//! chroot and every folder above it must be owned by root and not writable by group or
//! others (sshd refuses it otherwise), so [`Sshd::start`] wants a base folder like that
//! (e.g. Cargo's target folder, not `/tmp`).

use std::fs;
use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's openssh-server puts the daemon.
pub const SSHD: &str = "/usr/sbin/sshd";

/// A key type of the fixtures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// RSA, 3072 bits (the user key in PEM form, the host key in OpenSSH form).
    Rsa,
    /// Ed25519 (OpenSSH form).
    Ed25519,
}

impl KeyType {
    fn name(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }
}

/// A running sshd; killed on drop.
#[derive(Debug)]
pub struct Sshd {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// Why sshd cannot be used here (not installed, not root, ...): the caller decides whether that
/// is a skip or a failure.
pub fn unavailable() -> Option<String> {
    if !Path::new(SSHD).exists() {
        return Some(format!(
            "{SSHD} is missing (apt-get install -y openssh-server)"
        ));
    }
    if Command::new("ssh-keygen").arg("-?").output().is_err() {
        return Some("ssh-keygen is missing (openssh-client)".into());
    }
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.ok().as_deref() != Some("0") {
        return Some("sshd's ChrootDirectory needs root".into());
    }
    None
}

impl Sshd {
    /// Starts sshd with its keys, config and chroot in `dir` (created; must not exist or be a
    /// folder this fixture made before; it is emptied). `dir`'s parents must be root-owned
    /// and not group/other-writable.
    pub fn start(dir: &Path) -> Result<Sshd, String> {
        if let Some(why) = unavailable() {
            return Err(why);
        }
        if dir.exists() {
            fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let chroot = dir.join("chroot");
        fs::create_dir_all(&chroot).map_err(|e| format!("{}: {e}", chroot.display()))?;
        for d in [dir, chroot.as_path()] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("{}: {e}", d.display()))?;
        }
        // sshd's privilege separation folder (Debian creates it at boot through systemd).
        fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;
        let mut authorized = String::new();
        for kind in [KeyType::Rsa, KeyType::Ed25519] {
            keygen(&dir.join(format!("host_{}", kind.name())), kind, false)?;
            keygen(&dir.join(format!("user_{}", kind.name())), kind, true)?;
            authorized += &read(&dir.join(format!("user_{}.pub", kind.name())))?;
        }
        write(&dir.join("authorized_keys"), &authorized)?;
        let port = free_port()?;
        let d = dir.display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\n\
             HostKey {d}/host_rsa\nHostKey {d}/host_ed25519\n\
             PidFile none\nUsePAM no\nPermitRootLogin prohibit-password\n\
             PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\n\
             AllowTcpForwarding no\nX11Forwarding no\nAllowAgentForwarding no\nPermitTTY no\n\
             Subsystem sftp internal-sftp\nForceCommand internal-sftp\n\
             ChrootDirectory {}\nLogLevel INFO\n",
            chroot.display()
        );
        write(&dir.join("sshd_config"), &config)?;
        let test = Command::new(SSHD)
            .args(["-t", "-f"])
            .arg(dir.join("sshd_config"))
            .output()
            .map_err(|e| format!("{SSHD} -t: {e}"))?;
        if !test.status.success() {
            return Err(format!(
                "{SSHD} -t refused the config: {}",
                String::from_utf8_lossy(&test.stderr).trim()
            ));
        }
        let log = fs::File::create(dir.join("sshd.log")).map_err(|e| e.to_string())?;
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{SSHD}: {e}"))?;
        let mut sshd = Sshd {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        sshd.wait_ready()?;
        Ok(sshd)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("sshd exited ({status}): {}", self.log()));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("sshd not listening after 10 s: {}", self.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// sshd's log so far (stderr, `LogLevel INFO`).
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = fs::File::open(self.dir.join("sshd.log")) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `sftp://root@127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("sftp://root@127.0.0.1:{}", self.port)
    }

    /// The chroot: what the SFTP client sees as `/`.
    pub fn chroot(&self) -> PathBuf {
        self.dir.join("chroot")
    }

    /// The private user key file of `kind` (authorised on this server).
    pub fn user_key(&self, kind: KeyType) -> PathBuf {
        self.dir.join(format!("user_{}", kind.name()))
    }

    /// A known_hosts file listing only the host key of `kind` for `[127.0.0.1]:PORT`.
    pub fn known_hosts(&self, kind: KeyType) -> Result<PathBuf, String> {
        let public = read(&self.dir.join(format!("host_{}.pub", kind.name())))?;
        let mut fields = public.split_whitespace();
        let (alg, key) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let path = self.dir.join(format!("known_hosts_{}", kind.name()));
        write(&path, &format!("[127.0.0.1]:{} {alg} {key}\n", self.port))?;
        Ok(path)
    }

    /// The host key's `SHA256:...` fingerprint (`ssh-keygen -lf`).
    pub fn fingerprint(&self, kind: KeyType) -> Result<String, String> {
        let public = self.dir.join(format!("host_{}.pub", kind.name()));
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(&public)
            .output()
            .map_err(|e| format!("ssh-keygen -lf: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .map(str::to_string)
            .ok_or_else(|| format!("ssh-keygen -lf {}: no fingerprint", public.display()))
    }

    /// The folder of `kind` (`clearing` / `settlement`) of a participant and date under
    /// `root` (e.g. `/v1/settlements`) inside the chroot; created.
    pub fn report_folder(
        &self,
        root: &str,
        kind: &str,
        participant_id: &str,
        date: &str,
    ) -> Result<PathBuf, String> {
        let path = self
            .chroot()
            .join(root.trim_start_matches('/'))
            .join(kind)
            .join(participant_id)
            .join(date);
        fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path, kind: KeyType, user: bool) -> Result<(), String> {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-N", "", "-C", "alipayplus-sim", "-t", kind.name()]);
    if kind == KeyType::Rsa {
        cmd.args(["-b", "3072"]);
        if user {
            // The PEM form (BEGIN RSA PRIVATE KEY), so both file forms are exercised.
            cmd.args(["-m", "PEM"]);
        }
    }
    let out = cmd
        .arg("-f")
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("ssh-keygen: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ssh-keygen -t {}: {}",
            kind.name(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
