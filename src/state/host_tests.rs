//! Tests of `state::host`: how a host observation becomes the guard's look at the files.

use super::*;
use crate::host::keyfiles::{probe_key_files, KeyFilePaths};

#[test]
fn a_missing_pos_db_directory_makes_the_files_unknown_not_absent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = KeyFilePaths::under_working_dir(dir.path());
    let obs = HostObs {
        process: ProcessObs::NotWatched,
        disks: Vec::new(),
        keys: Some(probe_key_files(&paths)),
        pos_key_checked: true,
        scanned_at: SystemTime::UNIX_EPOCH,
        scan_finished_at: SystemTime::UNIX_EPOCH,
    };
    let look = obs.files_look().expect("a scan");
    assert_eq!((look.storage, look.save_present), (None, None));

    std::fs::create_dir(dir.path().join("pos_db")).expect("mkdir");
    let obs = HostObs {
        keys: Some(probe_key_files(&paths)),
        ..obs
    };
    let look = obs.files_look().expect("a scan");
    assert_eq!(
        (look.storage, look.save_present),
        (Some(StorageLook::Absent), Some(false))
    );
}
