//! Getting report files (feature `std`). Alipay+ delivers them over SFTP into
//! `/v1/settlements/{clearing,settlement}/<participantId>/<yyyyMMdd>` (reconcile.md §3); this
//! module keeps that behind [`Fetch`] with a local-directory implementation, so a job can
//! reconcile what an SFTP mirror (or a test) put into a folder. An SFTP fetcher is a later step.

use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::Error;

/// A source of report files.
pub trait Fetch {
    /// The reader of one file.
    type Reader: Read;

    /// The names of the files available (not only report names; the caller sorts them out).
    fn list(&self) -> Result<Vec<String>, Error>;

    /// Opens the file `name` from [`list`](Self::list).
    fn open(&self, name: &str) -> Result<Self::Reader, Error>;

    /// Where the files come from, for messages (e.g. the folder); a generic text by default.
    fn location(&self) -> String {
        "the report source".to_string()
    }
}

/// Files in one local directory (not recursive).
///
/// ```no_run
/// use alipayplus_reconcile::fetch::{Fetch, LocalDir};
/// let dir = LocalDir::new("/var/alipayplus/reports/20250602");
/// for name in dir.list()? {
///     println!("{name}");
/// }
/// # Ok::<(), alipayplus_reconcile::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct LocalDir {
    path: PathBuf,
}

impl LocalDir {
    /// The directory at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalDir { path: path.into() }
    }

    fn io(&self, name: Option<&str>, source: std::io::Error) -> Error {
        let path = match name {
            Some(n) => self.path.join(n),
            None => self.path.clone(),
        };
        Error::Io {
            file: path.display().to_string(),
            source,
        }
    }
}

impl Fetch for LocalDir {
    type Reader = fs::File;

    fn list(&self) -> Result<Vec<String>, Error> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.path).map_err(|e| self.io(None, e))? {
            let entry = entry.map_err(|e| self.io(None, e))?;
            let is_file = entry.file_type().map_err(|e| self.io(None, e))?.is_file();
            if is_file {
                // A non-UTF-8 name cannot be a report name; keep it (lossily) so it is noted.
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn open(&self, name: &str) -> Result<fs::File, Error> {
        fs::File::open(self.path.join(name)).map_err(|e| self.io(Some(name), e))
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Reads what is there into `buf` (retrying an interrupted read); an I/O error names `file`.
pub(crate) fn read_some<R: Read>(
    reader: &mut R,
    buf: &mut [u8],
    file: &str,
) -> Result<usize, Error> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => {
                return r.map_err(|source| Error::Io {
                    file: file.to_string(),
                    source,
                });
            }
        }
    }
}
