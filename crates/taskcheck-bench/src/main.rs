//! `cargo run --release -p taskcheck-bench [-- --jobs N] [--dir PATH]`: builds a scratch
//! cargo project depending on popular async crates, `cargo fetch`es them, and measures on
//! every `.rs` file of every downloaded package, each phase in a fresh process (so each
//! has its own peak RSS) with the same thread count:
//! (1) read + `syn::parse_file`, (2) taskcheck with the default lints, (3) with every lint.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The crates of the corpus (issue 8): everything `cargo fetch` brings for these.
const DEPS: &str = r#"tokio = { version = "1", features = ["full"] }
axum = "0.8"
hyper = { version = "1", features = ["full"] }
tonic = "0.14"
reqwest = { version = "0.12", features = ["blocking", "json", "stream"] }
actix-web = "4"
sqlx = { version = "0.8", features = ["runtime-tokio", "postgres"] }
redis = { version = "0.32", features = ["tokio-comp", "cluster-async"] }
rdkafka = "0.38"
lapin = "3"
moka = { version = "0.12", features = ["sync", "future"] }
dashmap = "6"
crossbeam = "0.8"
rayon = "1"
opentelemetry_sdk = { version = "0.30", features = ["rt-tokio"] }
"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("__phase") {
        phase(&args[1], args[2].parse().expect("jobs"), Path::new(&args[3]));
        return;
    }
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let jobs: usize = flag("--jobs")
        .map_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()), |j| j.parse().expect("--jobs N"));
    let dir = PathBuf::from(flag("--dir").unwrap_or_else(|| "target/bench-corpus".into()));
    let dirs = corpus(&dir);
    let list = dir.join("packages.txt");
    let text: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    std::fs::write(&list, text.join("\n")).expect("write the package list");
    println!("corpus: {} packages (`cargo fetch` in {}), {jobs} threads", dirs.len(), dir.display());
    println!("{:<22} {:>7} {:>8} {:>8} {:>8} {:>9}", "phase", "files", "MB", "secs", "MB/s", "peak MB");
    let mut times = Vec::new();
    for name in ["parse", "default", "all"] {
        let out = Command::new(std::env::current_exe().expect("own path"))
            .args(["__phase", name, &jobs.to_string(), &list.display().to_string()])
            .output()
            .expect("run a phase");
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let v: Vec<f64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        assert!(v.len() == 4, "phase {name} failed: {line}\n{}", String::from_utf8_lossy(&out.stderr));
        let (files, bytes, secs, rss) = (v[0], v[1], v[2], v[3]);
        println!(
            "{:<22} {files:>7} {:>8.1} {secs:>8.2} {:>8.1} {:>9.0}",
            match name {
                "parse" => "syn::parse_file",
                "default" => "taskcheck (default)",
                _ => "taskcheck (-W all)",
            },
            bytes / 1e6,
            bytes / 1e6 / secs,
            rss / 1024.0
        );
        times.push(secs);
    }
    println!("ratio default/parse: {:.2}, all/parse: {:.2}", times[1] / times[0], times[2] / times[0]);
}

/// The scratch project's downloaded packages.
fn corpus(dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir.join("src")).expect("create the scratch project");
    let manifest = format!(
        "[package]\nname = \"bench-corpus\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n{DEPS}\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("write Cargo.toml");
    std::fs::write(dir.join("src/lib.rs"), "").expect("write src/lib.rs");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(&cargo).args(["fetch", "--quiet"]).current_dir(dir).status().is_ok_and(|s| s.success());
    assert!(ok, "`cargo fetch` failed in {}", dir.display());
    let meta = cargo_metadata::MetadataCommand::new()
        .cargo_path(cargo)
        .manifest_path(dir.join("Cargo.toml"))
        .exec()
        .expect("cargo metadata");
    let mut dirs: Vec<PathBuf> = meta
        .packages
        .iter()
        .filter(|p| p.source.is_some())
        .filter_map(|p| p.manifest_path.parent().map(|d| d.as_std_path().to_path_buf()))
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// One phase, in its own process: prints `files bytes seconds peak-rss-KiB`.
fn phase(name: &str, jobs: usize, list: &Path) {
    let dirs: Vec<PathBuf> = std::fs::read_to_string(list).expect("package list").lines().map(PathBuf::from).collect();
    let opts = taskcheck_core::engine::Options { jobs: Some(jobs), ..Default::default() };
    let files = taskcheck_core::engine::rust_files(&dirs, &opts);
    let start = Instant::now();
    let (count, bytes) = match name {
        "parse" => {
            use rayon::prelude::*;
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(jobs)
                .stack_size(taskcheck_core::engine::WORKER_STACK)
                .build()
                .expect("thread pool");
            pool.install(|| {
                files
                    .par_iter()
                    .map(|(p, _)| {
                        let text = std::fs::read_to_string(p).unwrap_or_default();
                        let _ = syn::parse_file(&text);
                        // Spans keep a per-thread source map; release it as taskcheck does.
                        proc_macro2::extra::invalidate_current_thread_spans();
                        (1usize, text.len())
                    })
                    .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
            })
        }
        _ => {
            let flags = if name == "all" {
                vec![taskcheck_core::levels::LevelFlag::new(taskcheck_core::Level::Warn, "all")]
            } else {
                Vec::new()
            };
            let run = taskcheck::lint_paths_configured(&dirs, &flags, &opts).expect("lint the corpus");
            (run.stats.files_read, run.stats.bytes_read)
        }
    };
    let secs = start.elapsed().as_secs_f64();
    println!("{count} {bytes} {secs:.3} {}", peak_rss_kib());
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
