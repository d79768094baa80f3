//! The static half of the web side of docs/security.md: a bcrypt hash the server cannot use (cost 99 or 3, a salt outside
//! bcrypt's base64) is refused at start and by `--config.check`, naming the file and the user and never the hash;
//! cost 31 is accepted with a warning; the shipped unit raises the open-file limit well above the connection cap.

use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_conflux-pos-exporter");

#[test]
fn unusable_bcrypt_hashes_are_refused_at_start_and_by_config_check_naming_file_and_user() {
    let dir = tempfile::tempdir().unwrap();
    let tail = "BCr8qRUJEhcRD.LhTVAnNecz0YxDcnahi4yAtDeJ7N2ohAv9lmvna";
    let (salt, sum) = tail.split_at(22);
    let cases = [
        ("cost99", format!("$2b$99${tail}"), "cost 99"),
        ("cost3", format!("$2b$03${tail}"), "cost 3"),
        ("badsalt", format!("$2b$10$+{}{sum}", &salt[1..]), "salt"),
    ];
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .args(args)
            .args([
                "--reference.auto",
                "false",
                "--web.listen-address",
                "127.0.0.1:0",
            ])
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    for (user, hash, want) in &cases {
        let file = dir.path().join(format!("{user}.yml"));
        std::fs::write(&file, format!("basic_auth_users:\n  {user}: '{hash}'\n")).unwrap();
        let file = file.display().to_string();
        for check in [true, false] {
            let args = [
                &["--web.config.file", &file][..],
                if check { &["--config.check"] } else { &[] },
            ]
            .concat();
            let (code, text) = run(&args);
            assert_eq!(code, Some(1), "{args:?}: {text}");
            assert!(
                text.contains(&file)
                    && text.contains(&format!("basic_auth_users.{user}"))
                    && text.contains(want),
                "{args:?}: {text}"
            );
            assert!(
                !text.contains(salt) && !text.contains(sum),
                "the hash leaked: {text}"
            );
        }
    }
    // Cost 31 is valid bcrypt, but hours per login: accepted with a warning naming file and user.
    let file = dir.path().join("slow.yml");
    std::fs::write(
        &file,
        format!("basic_auth_users:\n  slow: '$2b$31${tail}'\n"),
    )
    .unwrap();
    let file = file.display().to_string();
    let (code, text) = run(&["--config.check", "--web.config.file", &file]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("warning")
            && text.contains(&file)
            && text.contains("`slow`")
            && text.contains("cost 31"),
        "{text}"
    );
    assert!(!text.contains(salt), "{text}");
}

#[test]
fn the_shipped_unit_raises_the_open_file_limit_well_above_the_connection_cap() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/conflux-pos-exporter.service"),
    )
    .unwrap();
    let limit: usize = unit
        .lines()
        .find_map(|l| l.strip_prefix("LimitNOFILE="))
        .expect("the unit sets LimitNOFILE")
        .parse()
        .expect("one number (soft = hard)");
    let cap = conflux_pos_exporter::config::defaults::MAX_CONNECTIONS;
    assert!(
        limit >= 16 * cap,
        "LimitNOFILE={limit} for {cap} connections"
    );
}
