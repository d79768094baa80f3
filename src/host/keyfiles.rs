//! The PoS key and safety-rules files of a node, inspected strictly
//! read-only.
//!
//! `pos_config/pos_key` must not be readable by others; `pos_db/secure_storage.json`
//! holds the safety data that prevents double signing, and `.save` is the copy
//! `stop_voting` leaves for a hand-over (docs/node-facts.md#key-files-on-disk). Losing or
//! altering these files can get a validator slashed, so this module never
//! opens anything for writing: `pos_key` is only `stat`ed, the JSON files are
//! opened read-only and read whole (the node replaces them by rename, so a
//! read sees either the old or the new file), but only when they are regular
//! files under [`MAX_STORAGE_BYTES`] ([`super::capped`]): a FIFO there never
//! blocks the probe, and no error ever quotes a file's content.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;

use super::capped::{read_capped, CappedError};
use crate::pos_address::PosAddress;

/// Largest safety-rules file read; the real one is a few KiB.
pub(crate) const MAX_STORAGE_BYTES: u64 = 1 << 20;

/// Where a node's key files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyFilePaths {
    /// The encrypted PoS private key (`pos_private_key_path`).
    pub pos_key: PathBuf,
    /// The PoS data dir holding `secure_storage.json` (`base.data_dir`).
    pub pos_db_dir: PathBuf,
}

impl KeyFilePaths {
    /// `pos_key` inside `pos_config_dir`, safety files inside `pos_db_dir`.
    pub(crate) fn new(pos_config_dir: &Path, pos_db_dir: &Path) -> Self {
        KeyFilePaths {
            pos_key: pos_config_dir.join("pos_key"),
            pos_db_dir: pos_db_dir.to_path_buf(),
        }
    }

    /// The node's defaults, relative to its working directory.
    #[cfg(test)]
    pub(crate) fn under_working_dir(cwd: &Path) -> Self {
        Self::new(&cwd.join("pos_config"), &cwd.join("pos_db"))
    }

    /// `pos_db/secure_storage.json`.
    pub(crate) fn secure_storage(&self) -> PathBuf {
        self.pos_db_dir.join("secure_storage.json")
    }

    /// `pos_db/secure_storage.json.save`.
    pub(crate) fn secure_storage_save(&self) -> PathBuf {
        self.pos_db_dir.join("secure_storage.json.save")
    }
}

/// Why a key file could not be inspected.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum KeyFileError {
    /// The file exists but is not the expected JSON shape. `detail` never quotes the content.
    #[error("{path:?} is not a safety-rules file: {detail}")]
    Malformed {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error's message.
        detail: String,
    },
    /// The file exists but is larger than [`MAX_STORAGE_BYTES`].
    #[error("{path:?} is larger than {MAX_STORAGE_BYTES} bytes")]
    TooLarge {
        /// The path concerned.
        path: PathBuf,
    },
    /// Something other than a regular file is at the path (a FIFO, a device, a directory); it was not read.
    #[error("{path:?} is a {file_type}, not a regular file; not read")]
    NotRegularFile {
        /// The path concerned.
        path: PathBuf,
        /// What is there.
        file_type: &'static str,
    },
    /// The exporter's user may not see or read it.
    #[error("{path:?}: permission denied")]
    PermissionDenied {
        /// The path concerned.
        path: PathBuf,
    },
    /// Any other I/O failure.
    #[error("{path:?}: {detail}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error's message.
        detail: String,
    },
}

impl KeyFileError {
    /// Short stable label of the failure.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyFileError::Malformed { .. } => "malformed",
            KeyFileError::TooLarge { .. } => "too_large",
            KeyFileError::NotRegularFile { .. } => "not_regular_file",
            KeyFileError::PermissionDenied { .. } => "permission_denied",
            KeyFileError::Io { .. } => "io",
        }
    }

    /// Whether the error proves the file exists.
    fn file_exists(&self) -> bool {
        matches!(
            self,
            KeyFileError::Malformed { .. }
                | KeyFileError::TooLarge { .. }
                | KeyFileError::NotRegularFile { .. }
        )
    }

    fn from_io(path: &Path, e: &std::io::Error) -> Self {
        let path = path.to_path_buf();
        match e.kind() {
            ErrorKind::PermissionDenied => KeyFileError::PermissionDenied { path },
            _ => KeyFileError::Io {
                path,
                detail: e.to_string(),
            },
        }
    }
}

/// `pos_key` as seen by `stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosKeyFile {
    /// Permission bits (`mode & 0o7777`).
    pub mode: u32,
    /// False when group or others may read it (`mode & 0o044 != 0`).
    pub permissions_ok: bool,
}

/// What a safety-rules file says, every field optional because the node
/// creates the file empty and fills it key by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecureStorage {
    /// `owner_account.value`.
    pub owner_account: Option<PosAddress>,
    /// `safety_data.last_update`: Unix seconds of the last write, which the
    /// node does on every vote or timeout it signs.
    pub safety_data_updated: Option<u64>,
    /// `safety_data.value.epoch`.
    pub epoch: Option<u64>,
    /// `safety_data.value.last_voted_round`.
    pub last_voted_round: Option<u64>,
}

/// Everything the probe found for one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFilesReport {
    /// Whether the `pos_db` directory exists; `None` when that could not be checked. Without it the files below
    /// read as absent, but the truth is that the exporter looks in the wrong place (or the node never ran PoS).
    pub pos_db_dir: Option<bool>,
    /// `Ok(None)`: no `pos_key`.
    pub pos_key: Result<Option<PosKeyFile>, KeyFileError>,
    /// `Ok(None)`: no `secure_storage.json`.
    pub secure_storage: Result<Option<SecureStorage>, KeyFileError>,
    /// `Ok(None)`: no `secure_storage.json.save`.
    pub secure_storage_save: Result<Option<SecureStorage>, KeyFileError>,
}

fn presence<T>(r: &Result<Option<T>, KeyFileError>) -> Option<bool> {
    match r {
        Ok(v) => Some(v.is_some()),
        Err(e) if e.file_exists() => Some(true),
        Err(_) => None,
    }
}

impl KeyFilesReport {
    /// `conflux_pos_key_present`; `None` when it could not be checked.
    pub fn pos_key_present(&self) -> Option<bool> {
        presence(&self.pos_key)
    }

    /// `conflux_pos_key_permissions_ok`; `None` when absent or unknown.
    pub fn pos_key_permissions_ok(&self) -> Option<bool> {
        self.pos_key.as_ref().ok()?.map(|k| k.permissions_ok)
    }

    /// `conflux_pos_secure_storage_present{file="secure_storage.json"}`; a
    /// malformed file is present.
    pub fn secure_storage_present(&self) -> Option<bool> {
        presence(&self.secure_storage)
    }

    /// `conflux_pos_secure_storage_present{file="secure_storage.json.save"}`.
    pub fn secure_storage_save_present(&self) -> Option<bool> {
        presence(&self.secure_storage_save)
    }
}

/// Inspects the three files. Blocking; see [`probe_key_files_async`].
pub(crate) fn probe_key_files(paths: &KeyFilePaths) -> KeyFilesReport {
    KeyFilesReport {
        pos_db_dir: dir_exists(&paths.pos_db_dir),
        pos_key: stat_pos_key(&paths.pos_key),
        secure_storage: read_storage(&paths.secure_storage()),
        secure_storage_save: read_storage(&paths.secure_storage_save()),
    }
}

/// [`probe_key_files`] on the blocking pool (the files may sit on a network
/// mount).
pub(crate) async fn probe_key_files_async(paths: KeyFilePaths) -> KeyFilesReport {
    let dir = paths.pos_db_dir.clone();
    match tokio::task::spawn_blocking(move || probe_key_files(&paths)).await {
        Ok(report) => report,
        Err(join) => {
            let err = KeyFileError::Io {
                path: dir,
                detail: format!("blocking task failed: {join}"),
            };
            KeyFilesReport {
                pos_db_dir: None,
                pos_key: Err(err.clone()),
                secure_storage: Err(err.clone()),
                secure_storage_save: Err(err),
            }
        }
    }
}

/// Whether a key file's mode keeps it private: no read bit for group or
/// others.
pub(crate) fn permissions_ok(mode: u32) -> bool {
    mode & 0o044 == 0
}

fn dir_exists(path: &Path) -> Option<bool> {
    match std::fs::metadata(path) {
        Ok(meta) => Some(meta.is_dir()),
        Err(e) if e.kind() == ErrorKind::NotFound => Some(false),
        Err(_) => None,
    }
}

fn stat_pos_key(path: &Path) -> Result<Option<PosKeyFile>, KeyFileError> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o7777;
            Ok(Some(PosKeyFile {
                mode,
                permissions_ok: permissions_ok(mode),
            }))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KeyFileError::from_io(path, &e)),
    }
}

fn read_storage(path: &Path) -> Result<Option<SecureStorage>, KeyFileError> {
    // Opened read-only (and non-blocking): nothing here can modify the file.
    let bytes = match read_capped(path, MAX_STORAGE_BYTES) {
        Ok(b) => b,
        Err(e) if e.not_found() => return Ok(None),
        Err(CappedError::Io(e)) => return Err(KeyFileError::from_io(path, &e)),
        Err(CappedError::TooLarge { .. }) => {
            return Err(KeyFileError::TooLarge {
                path: path.to_path_buf(),
            })
        }
        Err(CappedError::NotRegular(file_type)) => {
            return Err(KeyFileError::NotRegularFile {
                path: path.to_path_buf(),
                file_type,
            })
        }
    };
    parse_secure_storage(&bytes)
        .map(Some)
        .map_err(|detail| KeyFileError::Malformed {
            path: path.to_path_buf(),
            detail,
        })
}

/// Parses the safety-rules store: a JSON object whose entries are
/// `{"data":"GetResponse","last_update":<secs>,"value":…}`. An empty file is
/// an empty store (the node creates it that way). Unknown keys are ignored;
/// known keys with the wrong type are errors.
pub fn parse_secure_storage(bytes: &[u8]) -> Result<SecureStorage, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(SecureStorage::default());
    }
    let root: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let root = root.as_object().ok_or("top level is not an object")?;
    let mut out = SecureStorage::default();
    if let Some(entry) = root.get("owner_account") {
        let value = entry_field(entry, "owner_account", "value")?;
        let raw = value
            .as_str()
            .ok_or("owner_account.value is not a string")?;
        let owner = PosAddress::parse(raw)
            .map_err(|e| format!("owner_account.value is not a PoS address: it {e}"))?;
        out.owner_account = Some(owner);
    }
    if let Some(entry) = root.get("safety_data") {
        out.safety_data_updated = Some(
            entry_field(entry, "safety_data", "last_update")?
                .as_u64()
                .ok_or("safety_data.last_update is not an unsigned integer")?,
        );
        let value = entry_field(entry, "safety_data", "value")?;
        let value = value
            .as_object()
            .ok_or("safety_data.value is not an object")?;
        out.epoch = optional_u64(value, "epoch")?;
        out.last_voted_round = optional_u64(value, "last_voted_round")?;
    }
    Ok(out)
}

fn entry_field<'a>(entry: &'a Value, key: &str, field: &str) -> Result<&'a Value, String> {
    entry
        .as_object()
        .ok_or_else(|| format!("{key} is not an object"))?
        .get(field)
        .ok_or_else(|| format!("{key}.{field} is missing"))
}

fn optional_u64(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("safety_data.value.{key} is not an unsigned integer")),
    }
}

#[cfg(test)]
#[path = "keyfiles_tests.rs"]
mod tests;
