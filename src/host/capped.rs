//! Reading a small file the exporter does not own (a pid file, the safety-rules store) without trusting it. The
//! service may run with `CAP_DAC_READ_SEARCH`, so a configured path can name any file on the host: only a regular
//! file no larger than the caller's cap is read (checked with `fstat` on the opened file, then read through a
//! `take`), a FIFO or device is refused without blocking (opened with `O_NONBLOCK`, and never opened at all when
//! `stat` already shows it), and nothing of the content ever goes into an error.

use std::fs::{File, FileType, OpenOptions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::OFlags;

/// Why a capped read did not return the content.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CappedError {
    /// Not a regular file (FIFO, socket, device, directory).
    #[error("is a {0}, not a regular file")]
    NotRegular(&'static str),
    /// Larger than the cap; nothing was read.
    #[error("is {size} bytes, more than the {cap} bytes accepted")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The cap.
        cap: u64,
    },
    /// Opening, `fstat` or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl CappedError {
    /// Whether the error means the file does not exist.
    pub(crate) fn not_found(&self) -> bool {
        matches!(self, Self::Io(e) if e.kind() == ErrorKind::NotFound)
    }
}

/// Reads `path` whole if it is a regular file of at most `cap` bytes.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, CappedError> {
    // `stat` first: a FIFO or a device is refused without being opened (opening some devices has effects).
    check(&std::fs::metadata(path)?.file_type())?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32)
        .open(path)?;
    // The path may have been replaced in between: judge the file actually opened.
    let meta = file.metadata()?;
    check(&meta.file_type())?;
    if meta.len() > cap {
        return Err(CappedError::TooLarge {
            size: meta.len(),
            cap,
        });
    }
    read_at_most(file, meta.len(), cap)
}

fn read_at_most(file: File, size: u64, cap: u64) -> Result<Vec<u8>, CappedError> {
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    let read = bytes.len() as u64;
    if read > cap {
        // It grew while being read.
        return Err(CappedError::TooLarge { size: read, cap });
    }
    Ok(bytes)
}

fn check(t: &FileType) -> Result<(), CappedError> {
    if t.is_file() {
        Ok(())
    } else {
        Err(CappedError::NotRegular(describe(t)))
    }
}

/// A short name of a file type for messages.
pub(crate) fn describe(t: &FileType) -> &'static str {
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_symlink() {
        "symbolic link"
    } else if t.is_file() {
        "regular file"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_regular_files_are_read_others_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"1234\n").unwrap();
        assert_eq!(read_capped(&small, 64).unwrap(), b"1234\n");

        let sparse = dir.path().join("sparse");
        let f = File::create(&sparse).unwrap();
        f.set_len(512 << 20).unwrap();
        match read_capped(&sparse, 64) {
            Err(CappedError::TooLarge { size, cap }) => assert_eq!((size, cap), (512 << 20, 64)),
            other => panic!("{other:?}"),
        }

        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from(0o600)).unwrap();
        let e = read_capped(&fifo, 64).unwrap_err();
        assert_eq!(e.to_string(), "is a FIFO, not a regular file");

        let e = read_capped(dir.path(), 64).unwrap_err();
        assert!(matches!(e, CappedError::NotRegular("directory")), "{e}");
        assert!(read_capped(&dir.path().join("none"), 64)
            .unwrap_err()
            .not_found());
        let e = read_capped(Path::new("/dev/zero"), 64).unwrap_err();
        assert!(
            matches!(e, CappedError::NotRegular("character device")),
            "{e}"
        );
    }
}
