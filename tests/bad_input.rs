//! Bad input (spec §12), end to end: the built `taskcheck` binary runs on a temporary
//! directory that holds one kind of bad input next to `good.rs`, a valid file with a real
//! finding. Every case checks that the diagnostic names the file and the problem, that
//! `good.rs` is still linted and reported, the exit code (2 for io/parse errors), that
//! nothing panicked or aborted, and that no file was modified or created.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A valid file with one `spawn_without_cancel` finding, at 2:5.
const GOOD: &str = "\
fn start(mut interval: tokio::time::Interval) {
    tokio::spawn(async move {
        loop {
            interval.tick().await;
        }
    });
}
";

/// A run that takes longer than this is a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    /// The diagnostic whose header line starts with `header`, as (header, `-->` line).
    fn diag(&self, header: &str) -> (&str, &str) {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with(header))
            .unwrap_or_else(|| panic!("no diagnostic starting with {header:?} in stderr:\n{}", self.stderr));
        let arrow = lines.get(at + 1).map(|l| l.trim_start()).unwrap_or_default();
        assert!(arrow.starts_with("--> "), "diagnostic {:?} has no `-->` line:\n{}", lines[at], self.stderr);
        (lines[at], &arrow[4..])
    }

    /// Asserts an exact header line and the location it points at.
    fn assert_diag(&self, header: &str, location: &str) {
        let (found, at) = self.diag(header);
        assert_eq!(found, header, "stderr:\n{}", self.stderr);
        assert_eq!(at, location, "location of {header:?}; stderr:\n{}", self.stderr);
    }

    /// `good.rs` was linted: its finding is reported, exactly once.
    fn assert_good_linted(&self) {
        assert_eq!(
            self.stderr.matches("--> good.rs:2:5").count(),
            1,
            "the finding in good.rs must be reported once; stderr:\n{}",
            self.stderr
        );
        let (header, _) = self.diag("warning[spawn_without_cancel]");
        assert_eq!(header, "warning[spawn_without_cancel]: detached task runs forever and cannot be cancelled");
    }

    fn summary(&self) -> &str {
        self.stderr.lines().rfind(|l| l.starts_with("taskcheck: ")).unwrap_or_else(|| {
            panic!("no summary line in stderr:\n{}", self.stderr);
        })
    }

    /// The summary line without its timing: `taskcheck: 1 warning, 2 errors in 1 file`.
    fn assert_summary(&self, expected: &str) {
        let summary = self.summary();
        let counts = summary.rsplit_once(" (").map_or(summary, |(c, _)| c);
        assert_eq!(counts, expected, "stderr:\n{}", self.stderr);
    }
}

/// A temporary directory with `good.rs` in it.
struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("good.rs"), GOOD).unwrap();
        Fixture { tmp }
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).unwrap();
        }
        fs::write(&path, contents).unwrap();
        path
    }

    #[cfg(unix)]
    fn symlink(&self, target: impl AsRef<Path>, link: &str) {
        std::os::unix::fs::symlink(target, self.root().join(link)).unwrap();
    }

    /// Runs `taskcheck ARGS` in the fixture directory. Asserts what holds for every run:
    /// it ends (no hang), it exits with a code (an abort, such as a stack overflow, has
    /// none), nothing panicked, and no file under the directory changed or appeared.
    fn run(&self, args: &[&str]) -> Output {
        let before = snapshot(self.root());
        let out = run_taskcheck(self.root(), args);
        let after = snapshot(self.root());
        assert_eq!(before, after, "taskcheck {args:?} changed the directory; stderr:\n{}", out.stderr);
        out
    }

    /// `taskcheck --color never ARGS`.
    fn lint(&self, args: &[&str]) -> Output {
        let mut all = vec!["--color", "never"];
        all.extend_from_slice(args);
        self.run(&all)
    }
}

fn run_taskcheck(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskcheck"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("taskcheck {args:?} did not finish within {TIMEOUT:?} (hang)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out =
        Output { code: status.code().unwrap_or(-1), stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    assert!(
        status.code().is_some(),
        "taskcheck {args:?} was killed by a signal ({status}); stack overflow?\nstderr:\n{}",
        tail(&out.stderr)
    );
    for bad in ["panicked at", "has overflowed its stack", "RUST_BACKTRACE", "internal error"] {
        assert!(!out.stderr.contains(bad), "`{bad}` in the stderr of taskcheck {args:?}:\n{}", tail(&out.stderr));
    }
    out
}

/// The end of a long output, for failure messages (a refused 100,000-column line is long).
fn tail(s: &str) -> String {
    let lines: Vec<String> = s.lines().map(|l| l.chars().take(300).collect()).collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

#[derive(Debug, PartialEq)]
enum Entry {
    Dir,
    Link(PathBuf),
    File { len: u64, modified: Option<SystemTime>, permissions: String, hash: Option<u64> },
    Other(String),
}

/// Everything under `root`, symbolic links not followed.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let entry = if meta.file_type().is_symlink() {
                Entry::Link(fs::read_link(&path).unwrap())
            } else if meta.is_dir() {
                todo.push(path.clone());
                Entry::Dir
            } else if meta.is_file() {
                // Content hashes for files small enough to read quickly (and readable).
                let hash = (meta.len() <= 4 << 20).then(|| fs::read(&path).ok()).flatten().map(|bytes| {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    bytes.hash(&mut h);
                    h.finish()
                });
                Entry::File {
                    len: meta.len(),
                    modified: meta.modified().ok(),
                    permissions: format!("{:?}", meta.permissions()),
                    hash,
                }
            } else {
                Entry::Other(format!("{:?}", meta.file_type()))
            };
            out.insert(path.strip_prefix(root).unwrap().to_path_buf(), entry);
        }
    }
    out
}

#[test]
fn invalid_utf8_is_an_io_error_with_the_offset() {
    let f = Fixture::new();
    // "fn ok() {}\n" is 11 bytes, "// caf" 6 more: the Latin-1 `é` is at offset 17.
    f.write("bad.rs", b"fn ok() {}\n// caf\xe9\n");
    // UTF-16 with a byte order mark, as some Windows editors save.
    f.write("utf16.rs", b"\xff\xfef\0n\0 \0a\0(\0)\0 \0{\0}\0");
    let out = f.lint(&[]);
    out.assert_diag("error[io]: cannot read `bad.rs`: not valid UTF-8 (invalid byte at offset 17)", "bad.rs");
    out.assert_diag("error[io]: cannot read `utf16.rs`: not valid UTF-8 (invalid byte at offset 0)", "utf16.rs");
    out.assert_good_linted();
    out.assert_summary("taskcheck: 1 warning, 2 errors in 1 file");
    assert_eq!(out.code, 2);
}

#[test]
fn json_reports_input_errors_as_compiler_messages() {
    let f = Fixture::new();
    f.write("bad.rs", b"fn ok() {}\n\xff\n");
    f.write("notrust.rs", "def main():\n    pass\n");
    let out = f.run(&["--message-format", "json"]);
    assert_eq!(out.code, 2, "stderr:\n{}", out.stderr);
    assert_eq!(out.stderr, "", "JSON mode keeps stderr clean");
    let lines: Vec<serde_json::Value> =
        out.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let (last, messages) = lines.split_last().expect("no output");
    assert_eq!(*last, serde_json::json!({ "reason": "build-finished", "success": false }));
    let by_code = |code: &str| {
        messages
            .iter()
            .find(|m| m["message"]["code"]["code"] == code)
            .unwrap_or_else(|| panic!("no {code} message in:\n{}", out.stdout))
    };
    for m in messages {
        assert_eq!(m["reason"], "compiler-message");
    }

    let io = &by_code("taskcheck::io")["message"];
    assert_eq!(io["level"], "error");
    assert_eq!(io["message"], "cannot read `bad.rs`: not valid UTF-8 (invalid byte at offset 11)");
    assert_eq!(io["spans"][0]["file_name"], "bad.rs");
    assert_eq!(io["spans"][0]["is_primary"], true);
    assert!(io["rendered"].as_str().unwrap().starts_with("error[io]: cannot read `bad.rs`"));

    let parse = &by_code("taskcheck::parse")["message"];
    assert_eq!(parse["level"], "error");
    assert!(parse["message"].as_str().unwrap().starts_with("cannot parse `notrust.rs`: "), "{parse}");
    assert_eq!(parse["spans"][0]["file_name"], "notrust.rs");
    assert_eq!(parse["spans"][0]["line_start"], 1);

    let finding = &by_code("taskcheck::spawn_without_cancel")["message"];
    assert_eq!(finding["level"], "warning");
    assert_eq!(finding["spans"][0]["file_name"], "good.rs");
    assert_eq!(finding["spans"][0]["line_start"], 2);
}

#[test]
fn a_file_over_the_size_limit_is_skipped_and_a_large_valid_file_is_linted() {
    let f = Fixture::new();
    // 17 MiB and a byte, sparse: the size is checked before anything is read.
    let huge = fs::File::create(f.root().join("huge.rs")).unwrap();
    huge.set_len((17 << 20) + 1).unwrap();
    drop(huge);
    // A valid file over 1 MB, with a finding at its very end.
    let mut big = String::new();
    let mut i = 0;
    while big.len() < 1_050_000 {
        big.push_str(&format!(
            "pub fn handler_{i}(x: u64) -> u64 {{\n    let y = x.wrapping_mul({i}) + 1;\n    if y % 3 == 0 {{ y / 3 }} else {{ y }}\n}}\n\n"
        ));
        i += 1;
    }
    let finding_line = big.lines().count() + 2;
    big.push_str(GOOD);
    f.write("big.rs", &big);

    let out = f.lint(&[]);
    out.assert_diag(
        "error[io]: cannot read `huge.rs`: file is 17.1 MiB, larger than the 16 MiB limit; skipped",
        "huge.rs",
    );
    let at = format!("--> big.rs:{finding_line}:5");
    assert!(out.stderr.contains(&at), "no finding at {at} in the large file; stderr:\n{}", out.stderr);
    out.assert_good_linted();
    out.assert_summary("taskcheck: 2 warnings, 1 error in 2 files");
    assert_eq!(out.code, 2);
}

/// Files whose size is not known in advance (procfs reports 0) are held to the limit
/// on what is read, not only on what `metadata` says.
#[cfg(target_os = "linux")]
#[test]
fn the_size_limit_holds_for_files_that_report_no_size() {
    use taskcheck_core::engine::Options;
    let status = Path::new("/proc/self/status");
    if fs::metadata(status).map(|m| m.len()).unwrap_or(1) != 0 || fs::read(status).map_or(true, |b| b.len() <= 512) {
        eprintln!("skipped: /proc/self/status is not a zero-size procfs file here");
        return;
    }
    let f = Fixture::new();
    f.symlink(status, "status.rs");
    // good.rs (148 bytes) fits the limit; /proc/self/status (over 1 KiB) does not.
    let opts = Options { max_file_size: 512, jobs: Some(1), ..Options::default() };
    let paths = [f.root().join("status.rs"), f.root().join("good.rs")];
    let run = taskcheck::lint_paths(&paths, &[], Default::default(), &opts).unwrap();
    let messages: Vec<&str> = run.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.starts_with("cannot read `")
            && m.ends_with("status.rs`: file is larger than the 512 bytes limit; skipped")),
        "{messages:?}"
    );
    assert!(run.diagnostics.iter().any(|d| d.lint == "spawn_without_cancel"), "{messages:?}");
}

/// One line of `depth`-deep nesting of `open`/`close` around `inner`, in a file the
/// prefilter parses: a loop in the same item keeps it (a file in which no enabled lint
/// could fire is not parsed at all, so neither its nesting nor its syntax is checked).
fn nested(prefix: &str, open: &str, inner: &str, close: &str, depth: usize, suffix: &str) -> String {
    let prefix = prefix.replacen("fn f() { ", "fn f() { loop {} ", 1);
    let suffix = if prefix.starts_with("type ") { format!("{suffix} fn g() {{ loop {{}} }}") } else { suffix.into() };
    format!("{prefix}{}{inner}{}{suffix}\n", open.repeat(depth), close.repeat(depth))
}

#[test]
fn deep_brackets_and_prefix_operators_are_refused() {
    let f = Fixture::new();
    f.write("parens.rs", nested("fn f() { let x = ", "(", "1", ")", 100_000, "; }"));
    f.write("neg.rs", nested("fn f() { let x = ", "-", "1", "", 100_000, "; }"));
    let out = f.lint(&[]);
    for name in ["parens", "neg"] {
        let (header, at) = out.diag(&format!("error[parse]: `{name}.rs` "));
        assert_eq!(header, format!("error[parse]: `{name}.rs` is nested 100001 levels deep (limit 256); skipped"));
        assert!(at.starts_with(&format!("{name}.rs:1:")), "{at}");
    }
    out.assert_good_linted();
    out.assert_summary("taskcheck: 1 warning, 2 errors in 1 file");
    assert_eq!(out.code, 2);
}

/// Nesting without brackets, which the byte-level scan does not see. Before the engine
/// measured it, each of these (at the depth given, or less) overflowed the 64 MiB worker
/// stack in the parser or the lints and aborted the whole run, or (the chains of `.b()`
/// and `?`) kept it busy for minutes.
#[test]
fn deep_nesting_without_brackets_is_refused() {
    let f = Fixture::new();
    let cases = [
        ("generics", nested("type T = ", "Option<", "u8", ">", 10_000, ";")),
        ("turbofish", nested("fn f() { g::<", "Vec<", "u8", ">", 10_000, ">(); }")),
        ("fn_ptr", nested("type T = ", "fn() -> ", "u8", "", 10_000, ";")),
        ("raw_ptr", nested("type T = ", "*const ", "u8", "", 10_000, ";")),
        ("ref_mut", nested("fn f() { let x = ", "&mut ", "a", "", 100_000, "; }")),
        ("closures", nested("fn f() { let x = ", "|| ", "1", "", 10_000, "; }")),
        ("returns", nested("fn f() { ", "return ", "1", "", 10_000, "; }")),
        ("assign", nested("fn f() { ", "a = ", "1", "", 20_000, "; }")),
        ("method_chain", nested("fn f() { let x = a", "", "", ".b()", 20_000, "; }")),
        ("try_chain", nested("fn f() { let x = a", "", "", "?", 20_000, "; }")),
        ("binop_chain", nested("fn f() { let x = 1", "", "", " + 1", 70_000, "; }")),
        ("calls", nested("fn f() { let x = a", "", "", "()", 70_000, "; }")),
        ("casts", nested("fn f() { let x = a", "", "", " as u8", 70_000, "; }")),
        ("else_if", nested("fn f() { if a {}", "", "", " else if a {}", 70_000, " }")),
        (
            "in_macro",
            nested("fn f() { tokio::spawn(async move { loop { m!(", "Option<", "u8", ">", 10_000, ") } }); }"),
        ),
    ];
    for (name, text) in &cases {
        f.write(&format!("{name}.rs"), text);
    }
    let out = f.lint(&[]);
    for (name, _) in &cases {
        let (header, at) = out.diag(&format!("error[parse]: `{name}.rs` "));
        let expected =
            format!("error[parse]: `{name}.rs` nests expressions or types more than 256 levels deep; skipped");
        assert_eq!(header, expected);
        assert!(at.starts_with(&format!("{name}.rs:1:")), "{at}");
    }
    out.assert_good_linted();
    out.assert_summary(&format!("taskcheck: 1 warning, {} errors in 1 file", cases.len()));
    assert_eq!(out.code, 2);
}

/// The depth limits leave room for deep code that people write.
#[test]
fn deep_but_realistic_code_is_linted() {
    let f = Fixture::new();
    let mut text = String::from("fn deep(a: A) {\n");
    text.push_str(&nested("    let x = ", "(", "1", ")", 120, ";"));
    text.push_str(&nested("    let y = a", "", "", ".b()", 1_000, ";"));
    text.push_str(&nested("    let z: ", "Option<", "u8", ">", 60, " = None;"));
    text.push_str(&nested("    let w = ", "|| ", "1", "", 40, ";"));
    text.push_str(&nested("    let v = 1", "", "", " + 1", 1_000, ";"));
    text.push_str(&nested("    let u = ", "&", "a", "", 30, ";"));
    text.push_str("}\n");
    f.write("deep.rs", text);
    let out = f.lint(&[]);
    assert!(!out.stderr.contains("error["), "{}", tail(&out.stderr));
    out.assert_good_linted();
    out.assert_summary("taskcheck: 1 warning, 0 errors in 2 files");
    assert_eq!(out.code, 0);
}

#[test]
fn macro_soup_is_linted_without_errors() {
    let f = Fixture::new();
    f.write(
        "soup.rs",
        r####"
macro_rules! soup {
    ($($t:tt)*) => {};
    (@inner $a:expr, $($rest:tt),* $(,)?) => { soup!($($rest),*) };
}

soup! { @ # $ ~ ? :: -> => <- <= >= == != && || ..= ... .. ; , . : :: <<= >>= }
soup!( 'a 'b' b'c' b"bytes\"" r#"raw " # "# br##"x"## c"cstr" 1e10 0x_FF_u8 1_000i64 3.14f32 0b1010 0o77 );
soup![ fn fn impl impl < < < > > > where where dyn async await move unsafe ];
soup!{ { ( [ ] ) } [ { ( ) } ] ( { [ ] } ) }
soup!(r#match r#type r#async _ __ ___ self Self super crate $crate);
soup!(λ école "emoji in a string: 🦀" '🦀' /* 🦀 */);
soup!(tokio::spawn(async move { loop {} }));
soup!(tokio::select! { _ = a => {}, garbage garbage });

#[cfg_attr(all(), doc = "soup")]
#[rustfmt::skip::macros(soup)]
fn weird() {
    soup!(@inner 1, 2, 3,);
    let _ = format!("{a} {{}} {:>8.3$}", 1.0, a = 2, 3 = 4);
    let _ = matches!(x, Some(1 | 2) | None if true);
    let _ = vec![(); 3];
    let _ = concat!("a", 1, 2.0, true);
    tokio::select! {
        @ # $ garbage => ??? ,
    }
    tokio::select! {
        biased;
        _ = async {} => {}
        else => {}
    }
    futures::select! { x = y => soup!(loop {}), complete => break }
    tokio::spawn(soup!(async move { loop {} }));
    tokio::spawn(async move { soup!(loop { interval.tick().await; }) });
    std::thread::spawn(move || soup!({ loop {} }));
    quote::quote! { #(#items)* #[attr] fn #name() -> #ty { #body } };
}
"####,
    );
    let out = f.lint(&[]);
    assert!(!out.stderr.contains("error["), "{}", out.stderr);
    out.assert_good_linted();
    assert!(out.summary().contains(" in 2 files "), "both files parsed:\n{}", out.stderr);
    assert_eq!(out.code, 0);
}

#[test]
fn non_rust_files_named_rs_are_parse_errors_with_a_position() {
    let f = Fixture::new();
    let cases: [(&str, &str, &str, &str); 10] = [
        ("python.rs", "def f():\n    return \"x\"\n", "expected `!`", "1:5"),
        ("json.rs", "{\"name\": \"taskcheck\", \"list\": [1, 2]}\n", "expected one of: `fn`", "1:1"),
        ("c.rs", "#include <stdio.h>\nint main(void) { return 0; }\n", "expected square brackets", "1:2"),
        ("markdown.rs", "# Title\n\nSome *markdown* text.\n", "expected square brackets", "1:3"),
        ("shell.rs", "#!/bin/sh\necho \"unterminated\n", "unterminated string literal", "2:6"),
        ("nul.rs", "fn a() {}\n\0\0\0\n", "unexpected character U+0000 (`\\0`)", "2:1"),
        ("comment.rs", "fn a() {}\n/* never closed\n", "unterminated block comment", "2:1"),
        ("quote.rs", "fn a() { let c = '; }\n", "invalid character literal or lifetime", "1:18"),
        ("mismatched.rs", "fn a() { (]\n", "unexpected closing delimiter `]`", "1:11"),
        ("unclosed.rs", "fn a() {\n", "unclosed delimiter `{`", "1:8"),
    ];
    for (name, text, _, _) in &cases {
        f.write(name, text);
    }
    let out = f.lint(&[]);
    for (name, _, problem, at) in &cases {
        let (header, location) = out.diag(&format!("error[parse]: cannot parse `{name}`: "));
        assert!(header.contains(problem), "{name}: expected {problem:?} in {header:?}");
        assert_eq!(location, format!("{name}:{at}"));
    }
    out.assert_good_linted();
    out.assert_summary(&format!("taskcheck: 1 warning, {} errors in 1 file", cases.len()));
    assert_eq!(out.code, 2);
}

#[test]
fn odd_but_valid_files_are_linted() {
    let f = Fixture::new();
    f.write("empty.rs", "");
    f.write("comments_only.rs", "// nothing here\n/* or /* here */ */\n");
    f.write("bom_shebang.rs", "\u{feff}#!/usr/bin/env run-cargo-script\nfn main() {}\n");
    f.write("inner_attr.rs", "#![allow(dead_code)]\n//! docs\nfn main() {}\n");
    f.write("spaced_inner_attr.rs", "#! /* comment */ [allow(dead_code)]\nfn main() {}\n");
    f.write("crlf.rs", GOOD.replace('\n', "\r\n"));
    let out = f.lint(&[]);
    assert!(!out.stderr.contains("error["), "{}", out.stderr);
    out.assert_good_linted();
    assert!(out.stderr.contains("--> crlf.rs:2:5"), "{}", out.stderr);
    out.assert_summary("taskcheck: 2 warnings, 0 errors in 7 files");
    assert_eq!(out.code, 0);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported_and_not_followed() {
    let f = Fixture::new();
    fs::create_dir(f.root().join("sub")).unwrap();
    f.write("sub/inner.rs", "fn inner() {}\n");
    f.symlink("..", "sub/loop"); // a directory linked to its parent
    f.symlink("self.rs", "self.rs"); // a file link pointing at itself
    f.symlink("pong.rs", "ping.rs"); // two links pointing at each other
    f.symlink("ping.rs", "pong.rs");
    let out = f.lint(&[]);
    let (header, at) = out.diag("error[io]: cannot read `sub/loop`: ");
    assert_eq!(header, "error[io]: cannot read `sub/loop`: symbolic link loop back to `.`; not followed");
    assert_eq!(at, "sub/loop");
    for name in ["self.rs", "ping.rs", "pong.rs"] {
        let (header, at) = out.diag(&format!("error[io]: cannot read `{name}`: "));
        assert!(
            header
                .starts_with(&format!("error[io]: cannot read `{name}`: too many levels of symbolic links (os error ")),
            "{header}"
        );
        assert_eq!(at, name);
    }
    // Every file once: good.rs is not linted again through the loop.
    out.assert_good_linted();
    out.assert_summary("taskcheck: 1 warning, 4 errors in 2 files");
    assert_eq!(out.code, 2);
}

/// Whether this process can read a file it has no permission for (root, or
/// CAP_DAC_OVERRIDE in a container): then `chmod 000` cannot make a file unreadable.
#[cfg(unix)]
fn permissions_are_bypassed(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    fs::write(&probe, "x").unwrap();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o000)).unwrap();
    let readable = fs::read(&probe).is_ok();
    fs::remove_file(&probe).unwrap();
    readable
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_io_error() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let expected = if permissions_are_bypassed(f.root()) {
        if !Path::new("/proc/self/mem").exists() {
            eprintln!("skipped: running as root without /proc/self/mem");
            return;
        }
        // Reading /proc/self/mem from offset 0 fails with EIO whoever reads it.
        f.symlink("/proc/self/mem", "x.rs");
        "error[io]: cannot read `x.rs`: input/output error (os error 5)"
    } else {
        let path = f.write("x.rs", "fn x() {}\n");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        "error[io]: cannot read `x.rs`: permission denied"
    };
    let out = f.lint(&[]);
    out.assert_diag(expected, "x.rs");
    out.assert_good_linted();
    out.assert_summary("taskcheck: 1 warning, 1 error in 1 file");
    assert_eq!(out.code, 2);
}

/// A file that vanishes between the walk and the read, simulated by a dangling link: the
/// walker sees `gone.rs`, reading it finds nothing.
#[cfg(unix)]
#[test]
fn a_vanished_file_is_an_io_error() {
    let f = Fixture::new();
    f.symlink("missing.rs", "gone.rs");
    let out = f.lint(&[]);
    out.assert_diag(
        "error[io]: cannot read `gone.rs`: broken symbolic link: its target `missing.rs` does not exist",
        "gone.rs",
    );
    out.assert_good_linted();
    out.assert_summary("taskcheck: 1 warning, 1 error in 1 file");
    assert_eq!(out.code, 2);
}

/// A FIFO named `.rs` would block a reader forever: it is not read.
#[cfg(unix)]
#[test]
fn a_fifo_named_rs_is_not_read() {
    let f = Fixture::new();
    let made = Command::new("mkfifo").arg(f.root().join("pipe.rs")).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let out = f.lint(&[]);
    out.assert_diag("error[io]: cannot read `pipe.rs`: not a regular file", "pipe.rs");
    out.assert_good_linted();
    assert_eq!(out.code, 2);
}

#[test]
fn a_path_that_does_not_exist_is_an_io_error() {
    let f = Fixture::new();
    let out = f.lint(&["good.rs", "nope.rs", "no_such_dir"]);
    out.assert_diag("error[io]: cannot read `nope.rs`: path does not exist", "nope.rs");
    out.assert_diag("error[io]: cannot read `no_such_dir`: path does not exist", "no_such_dir");
    out.assert_good_linted();
    out.assert_summary("taskcheck: 1 warning, 2 errors in 1 file");
    assert_eq!(out.code, 2);
}

#[test]
fn an_empty_directory_warns_and_exits_0() {
    let f = Fixture::new();
    fs::create_dir(f.root().join("empty")).unwrap();
    fs::create_dir_all(f.root().join("no_rust/deeper")).unwrap();
    f.write("no_rust/README.md", "# not Rust\n");

    let out = f.lint(&["empty"]);
    assert_eq!(out.stderr.lines().next(), Some("warning: no Rust files found in `empty`"), "{}", out.stderr);
    out.assert_summary("taskcheck: 0 warnings, 0 errors in 0 files");
    assert_eq!(out.code, 0);

    let out = f.lint(&["no_rust"]);
    assert_eq!(out.stderr.lines().next(), Some("warning: no Rust files found in `no_rust`"), "{}", out.stderr);
    assert_eq!(out.code, 0);

    let out = f.run(&["--message-format", "json", "empty"]);
    assert_eq!(out.stdout, "{\"reason\":\"build-finished\",\"success\":true}\n");
    assert_eq!(out.code, 0);
}

/// The bad inputs that are paths, not texts: an empty directory, a symlink loop through a
/// directory and one onto itself, a dangling link, and a 17 MiB file (over the limit).
#[cfg(unix)]
fn add_bad_paths(f: &Fixture) {
    fs::create_dir(f.root().join("empty_dir")).unwrap();
    fs::create_dir(f.root().join("sub")).unwrap();
    f.symlink("..", "sub/loop");
    f.symlink("self.rs", "self.rs");
    f.symlink("missing.rs", "gone.rs");
    let huge = fs::File::create(f.root().join("huge.rs")).unwrap();
    huge.set_len(17 << 20).unwrap();
    drop(huge);
}

/// All of the above in one run: every problem reported once, the valid file still linted,
/// and the output the same with one worker thread or many.
#[cfg(unix)]
#[test]
fn every_bad_input_at_once_is_reported_deterministically() {
    let f = Fixture::new();
    f.write("bad_utf8.rs", b"fn ok() {}\n\xc3\x28\n");
    f.write("deep.rs", nested("fn f() { let x = ", "(", "1", ")", 10_000, "; }"));
    f.write("generics.rs", nested("type T = ", "Option<", "u8", ">", 10_000, ";"));
    f.write("notrust.rs", "<html><body>hi</body></html>\n");
    f.write("soup.rs", "macro_rules! m { ($($t:tt)*) => {} }\nm!(@ # $ ~ 'a b'c' r#\"x\"#);\n");
    add_bad_paths(&f);

    let one = f.lint(&["--jobs", "1", ".", "nope.rs"]);
    let many = f.lint(&["--jobs", "8", ".", "nope.rs"]);
    let without_time = |s: &str| s.lines().filter(|l| !l.starts_with("taskcheck: ")).collect::<Vec<_>>().join("\n");
    assert_eq!(without_time(&one.stderr), without_time(&many.stderr));
    for out in [&one, &many] {
        for (header, at) in [
            ("error[io]: cannot read `bad_utf8.rs`: not valid UTF-8 (invalid byte at offset 11)", "bad_utf8.rs"),
            (
                "error[io]: cannot read `gone.rs`: broken symbolic link: its target `missing.rs` does not exist",
                "gone.rs",
            ),
            ("error[io]: cannot read `huge.rs`: file is 17 MiB, larger than the 16 MiB limit; skipped", "huge.rs"),
            ("error[io]: cannot read `nope.rs`: path does not exist", "nope.rs"),
            ("error[io]: cannot read `sub/loop`: symbolic link loop back to `.`; not followed", "sub/loop"),
        ] {
            out.assert_diag(header, at);
        }
        out.diag("error[parse]: `deep.rs` is nested 10001 levels deep (limit 256); skipped");
        out.diag("error[parse]: `generics.rs` nests expressions or types more than 256 levels deep; skipped");
        out.diag("error[parse]: cannot parse `notrust.rs`: ");
        out.diag("error[io]: cannot read `self.rs`: too many levels of symbolic links");
        assert!(!out.stderr.contains("soup.rs"), "{}", tail(&out.stderr));
        out.assert_good_linted();
        out.assert_summary("taskcheck: 1 warning, 9 errors in 2 files");
        assert_eq!(out.code, 2);
    }
}

/// A file that vanishes while the run is under way, for real: the walk's exclude hook
/// (called as the walker meets each file) deletes `vanish.rs` and keeps it, so the
/// walker has listed a file that is gone when it is read. No timing is involved.
#[test]
fn a_file_removed_during_the_run_is_an_io_error() {
    use std::sync::Arc;
    use taskcheck_core::engine::{Options, PerFile};
    let f = Fixture::new();
    let vanish = f.write("vanish.rs", GOOD);
    let hook = {
        let vanish = vanish.clone();
        move |path: &Path| {
            if path == vanish {
                fs::remove_file(path).unwrap();
            }
            false
        }
    };
    let opts = Options { exclude: Some(PerFile(Arc::new(hook))), package_context: false, ..Options::default() };
    let run = taskcheck::lint_paths(&[f.root().to_path_buf()], &[], Default::default(), &opts).unwrap();
    let messages: Vec<&str> = run.diagnostics.iter().map(|d| d.message.as_str()).collect();
    let gone = run.diagnostics.iter().find(|d| d.lint == "io").unwrap_or_else(|| panic!("{messages:?}"));
    assert!(
        gone.message.starts_with("cannot read `")
            && gone.message.ends_with("vanish.rs`: file not found (it was removed during the run?)"),
        "{messages:?}"
    );
    assert!(run.sources.get(gone.primary.span.file).path.ends_with("vanish.rs"));
    // good.rs is still linted, and the vanished file is not linted from a stale copy.
    let findings: Vec<&str> =
        run.diagnostics.iter().map(|d| run.sources.get(d.primary.span.file).path.to_str().unwrap()).collect();
    assert_eq!(run.diagnostics.len(), 2, "{messages:?}");
    assert!(findings.iter().any(|p| p.ends_with("good.rs")), "{findings:?}");
    assert_eq!(run.files_linted, 1);
    assert!(!vanish.exists(), "nothing recreated it");
}

/// A valid file with a safe fix (`let _ =` becomes `let _guard =`).
const FIXABLE: &str = "\
use tokio_util::sync::CancellationToken;

pub fn serve(token: CancellationToken) {
    let _ = token.drop_guard();
}
";

/// `--fix` over every kind of bad input at once: each is reported as without `--fix`,
/// the valid files are linted and the fixable one is fixed, and nothing else is
/// written: not the bad files (the readable part of several holds the same fixable
/// finding), not the target of a dangling link, not a path that does not exist, not
/// the empty directory.
#[cfg(unix)]
#[test]
fn fix_writes_to_the_valid_files_only() {
    let f = Fixture::new();
    f.write("fixable.rs", FIXABLE);
    f.write("bad_utf8.rs", [FIXABLE.as_bytes(), b"// caf\xe9\n"].concat());
    f.write("deep.rs", format!("{FIXABLE}{}", nested("fn f() { let x = ", "(", "1", ")", 10_000, "; }")));
    f.write("generics.rs", format!("{FIXABLE}{}", nested("type T = ", "Option<", "u8", ">", 10_000, ";")));
    f.write("notrust.rs", format!("{FIXABLE}fn broken( {{\n"));
    add_bad_paths(&f);
    let unreadable = if permissions_are_bypassed(f.root()) {
        // Root reads anything: /proc/self/mem fails with EIO whoever reads it.
        f.symlink("/proc/self/mem", "x.rs");
        "error[io]: cannot read `x.rs`: input/output error (os error 5)"
    } else {
        use std::os::unix::fs::PermissionsExt;
        let path = f.write("x.rs", FIXABLE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
        "error[io]: cannot read `x.rs`: permission denied"
    };

    let before = snapshot(f.root());
    let out = run_taskcheck(f.root(), &["--color", "never", "--fix", ".", "nope.rs"]);
    let after = snapshot(f.root());
    let changed: std::collections::BTreeSet<&PathBuf> =
        after.keys().chain(before.keys()).filter(|p| before.get(*p) != after.get(*p)).collect();
    assert_eq!(changed.into_iter().collect::<Vec<_>>(), [Path::new("fixable.rs")], "stderr:\n{}", tail(&out.stderr));
    assert_eq!(fs::read_to_string(f.root().join("fixable.rs")).unwrap(), FIXABLE.replace("let _ =", "let _guard ="));

    let bad_utf8 = format!(
        "error[io]: cannot read `bad_utf8.rs`: not valid UTF-8 (invalid byte at offset {})",
        FIXABLE.len() + "// caf".len()
    );
    for (header, at) in [
        (bad_utf8.as_str(), "bad_utf8.rs"),
        ("error[io]: cannot read `gone.rs`: broken symbolic link: its target `missing.rs` does not exist", "gone.rs"),
        ("error[io]: cannot read `huge.rs`: file is 17 MiB, larger than the 16 MiB limit; skipped", "huge.rs"),
        ("error[io]: cannot read `nope.rs`: path does not exist", "nope.rs"),
        ("error[io]: cannot read `sub/loop`: symbolic link loop back to `.`; not followed", "sub/loop"),
        (unreadable, "x.rs"),
    ] {
        out.assert_diag(header, at);
    }
    out.diag("error[parse]: `deep.rs` is nested 10001 levels deep (limit 256); skipped");
    out.diag("error[parse]: `generics.rs` nests expressions or types more than 256 levels deep; skipped");
    out.diag("error[parse]: cannot parse `notrust.rs`: ");
    out.diag("error[io]: cannot read `self.rs`: too many levels of symbolic links");
    out.assert_good_linted();
    out.assert_summary("taskcheck: 1 warning, 10 errors in 2 files");
    assert!(out.summary().ends_with("; fixed 1"), "{}", out.summary());
    assert_eq!(out.code, 2);
}
