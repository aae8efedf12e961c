//! Config files end to end: levels per lint and group, settings, `exclude`, nested
//! overrides, `Cargo.toml` metadata tables, command-line flags over config, stdin
//! resolved for its file name, and malformed configs stopping the run with the file,
//! line and key.

#[path = "support/run.rs"]
mod run;
use run::{run_with, taskcheck, write, Output};

/// A detached endless task (2:5) and a 500-slot channel (9:24).
const CODE: &str = "\
pub fn start(mut interval: tokio::time::Interval) {
    tokio::spawn(async move {
        loop {
            interval.tick().await;
        }
    });
}

pub fn queue() -> (tokio::sync::mpsc::Sender<u8>, tokio::sync::mpsc::Receiver<u8>) {
    tokio::sync::mpsc::channel(500)
}
";

/// `file:line lint` of every finding in short format.
fn findings(out: &Output) -> Vec<String> {
    out.stdout
        .lines()
        .map(|l| {
            let (loc, rest) = l.split_once(": ").unwrap();
            let loc = loc.rsplit_once(':').unwrap().0;
            let lint = rest.split('[').nth(1).unwrap().split(']').next().unwrap();
            format!("{loc} {} {lint}", rest.split('[').next().unwrap())
        })
        .collect()
}

#[test]
fn levels_settings_and_flags_over_config() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "src/lib.rs", CODE);
    let short = ["--message-format", "short", "src"];
    assert_eq!(findings(&taskcheck(tmp.path(), &short)), ["src/lib.rs:2 warning spawn_without_cancel"]);

    write(
        tmp.path(),
        "taskcheck.toml",
        "[lints]\nspawn_without_cancel = \"deny\"\npedantic = \"warn\"\n[settings]\nchannel-capacity-max = 100\n",
    );
    write(tmp.path(), "src/audit.rs", "pub fn record() {\n    tokio::spawn(async { flush().await });\n}\n");
    let out = taskcheck(tmp.path(), &short);
    assert_eq!(out.code, 1, "deny from the config");
    assert_eq!(
        findings(&out),
        [
            "src/audit.rs:2 warning detached_task_panic",
            "src/lib.rs:2 error spawn_without_cancel",
            "src/lib.rs:10 warning oversized_channel_buffer",
        ],
        "pedantic turned on, the spawn denied, the channel over the configured 100"
    );
    // The command line overrides the config.
    let flags = taskcheck(tmp.path(), &["--message-format", "short", "-W", "spawn_without_cancel", "src"]);
    assert_eq!(flags.code, 0);
    // The human note says where a level came from.
    let human = taskcheck(tmp.path(), &["--color", "never", "src"]);
    assert!(human.stderr.contains("spawn_without_cancel = \"deny\" in "), "{}", human.stderr);
}

#[test]
fn nested_configs_exclude_and_cargo_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "Cargo.toml",
        "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.taskcheck.settings]\nlint-tests = true\nexclude = [\"src/generated/**\"]\n",
    );
    write(tmp.path(), "src/lib.rs", CODE);
    write(tmp.path(), "src/generated/bindings.rs", CODE);
    write(tmp.path(), "src/legacy/mod.rs", CODE);
    write(tmp.path(), "src/legacy/taskcheck.toml", "[lints]\nspawn_without_cancel = \"allow\"\n");
    write(tmp.path(), "tests/it.rs", CODE);
    let out = taskcheck(tmp.path(), &["--message-format", "short", "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        findings(&out),
        ["src/lib.rs:2 warning spawn_without_cancel", "tests/it.rs:2 warning spawn_without_cancel"],
        "legacy/ allows the lint, generated/ is excluded, lint-tests turns tests/ on"
    );
}

#[test]
fn stdin_uses_the_config_of_its_file_name() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "svc/taskcheck.toml", "[lints]\nspawn_without_cancel = \"deny\"\n");
    let args = ["--message-format", "short", "--stdin-filename", "svc/src/lib.rs"];
    let out = run_with(env!("CARGO_BIN_EXE_taskcheck"), tmp.path(), &args, &[], Some(CODE));
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("svc/src/lib.rs:2:5: error[spawn_without_cancel]"), "{}", out.stdout);
}

#[test]
fn malformed_configs_stop_the_run_naming_file_line_and_key() {
    let cases = [
        (
            "[lints]\nspawn_without_cancle = \"deny\"\n",
            "taskcheck.toml:2: unknown lint or group `spawn_without_cancle`; did you mean `spawn_without_cancel`?",
        ),
        ("[settings]\nlint-tests = \"yes\"\n", "taskcheck.toml:2: `lint-tests` must be true or false"),
        (
            "[settings]\nchannel_capacity_max = 5\n",
            "taskcheck.toml:2: unknown setting `channel_capacity_max`; did you mean `channel-capacity-max`?",
        ),
        ("[lints\nx = 1\n", "taskcheck.toml:1: invalid TOML"),
    ];
    for (text, want) in cases {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "src/lib.rs", CODE);
        write(tmp.path(), "taskcheck.toml", text);
        let out = taskcheck(tmp.path(), &["src"]);
        assert_eq!(out.code, 2, "{text}");
        assert!(out.stderr.contains(want), "{text}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}
