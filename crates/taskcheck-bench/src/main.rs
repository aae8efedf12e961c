//! `cargo run --release -p taskcheck-bench [-- --jobs N] [--dir PATH]`: builds a scratch
//! cargo project depending on popular async crates, `cargo fetch`es them, and measures on
//! every `.rs` file of every downloaded package, each phase in a fresh process (so each
//! has its own peak RSS) with the same thread count:
//! (1) read + `syn::parse_file`, (2) taskcheck with the default lints, (3) with every lint;
//! then a cold and a warm run with `--cache-dir`, phases (1) and (2) with 1, 2 and all
//! threads, and on a quarter, half and all of the corpus (by bytes).

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
        phase(&args[1], args[2].parse().expect("jobs"), Path::new(&args[3]), args.get(4).map(Path::new));
        return;
    }
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let all_threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs: usize = flag("--jobs").map_or(all_threads, |j| j.parse().expect("--jobs N"));
    let dir = PathBuf::from(flag("--dir").unwrap_or_else(|| "target/bench-corpus".into()));
    let dirs = corpus(&dir);
    let list = write_list(&dir, "packages.txt", &dirs);
    println!("corpus: {} packages (`cargo fetch` in {}), {jobs} threads", dirs.len(), dir.display());

    println!("\n## Throughput ({jobs} threads)\n");
    header("phase");
    let parse = run_phase("parse", jobs, &list, None);
    parse.row("`syn::parse_file`");
    let default = run_phase("default", jobs, &list, None);
    default.row("taskcheck (default)");
    let all = run_phase("all", jobs, &list, None);
    all.row("taskcheck (`-W all`)");
    println!("\nratio default/parse: {:.2}, all/parse: {:.2}", default.secs / parse.secs, all.secs / parse.secs);

    println!("\n## Warm cache (default lints, {jobs} threads, `--cache-dir`)\n");
    header("run");
    let cache = dir.join("facts-cache");
    let _ = std::fs::remove_dir_all(&cache);
    run_phase("default", jobs, &list, Some(&cache)).row("cold (fills the cache)");
    let warm = run_phase("default", jobs, &list, Some(&cache));
    warm.row("warm (nothing changed)");
    println!("\nratio warm/parse: {:.2}", warm.secs / parse.secs);

    println!("\n## Threads (default lints)\n");
    header("threads");
    let mut counts = vec![1, 2, all_threads];
    counts.dedup();
    for t in counts {
        let label = if t == all_threads { format!("{t} (all)") } else { t.to_string() };
        let p = run_phase("parse", t, &list, None);
        let d = run_phase("default", t, &list, None);
        p.row(&format!("{label}: parse"));
        d.row(&format!("{label}: taskcheck"));
    }

    println!("\n## Corpus size (default lints, {jobs} threads)\n");
    header("share");
    // Packages in order until their `.rs` bytes reach the share.
    let sizes: Vec<u64> = dirs.iter().map(|d| rs_bytes(d)).collect();
    let total: u64 = sizes.iter().sum();
    for (name, share) in [("1/4", 0.25), ("1/2", 0.5), ("all", 1.0)] {
        let mut sum = 0;
        let take = sizes.iter().take_while(|&&b| {
            let under = (sum as f64) < share * total as f64;
            sum += b;
            under
        });
        let n = take.count();
        let part = write_list(&dir, &format!("packages-{}.txt", name.replace('/', "-")), &dirs[..n]);
        let p = run_phase("parse", jobs, &part, None);
        let d = run_phase("default", jobs, &part, None);
        p.row(&format!("{name}: parse"));
        d.row(&format!("{name}: taskcheck"));
    }
}

fn write_list(dir: &Path, name: &str, dirs: &[PathBuf]) -> PathBuf {
    let list = dir.join(name);
    let text: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    std::fs::write(&list, text.join("\n")).expect("write a package list");
    list
}

/// Bytes of the `.rs` files under `dir` (for cutting the corpus by size).
fn rs_bytes(dir: &Path) -> u64 {
    let opts = taskcheck_core::engine::Options::default();
    taskcheck_core::engine::rust_files(&[dir.to_path_buf()], &opts)
        .iter()
        .filter_map(|(p, _)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

struct Measured {
    files: f64,
    bytes: f64,
    secs: f64,
    rss_kib: f64,
}

fn header(first: &str) {
    println!("| {first:<24} | {:>7} | {:>6} | {:>6} | {:>6} | {:>7} |", "files", "MB", "secs", "MB/s", "peak MB");
    println!("|{:-<26}|{:->9}|{:->8}|{:->8}|{:->8}|{:->9}|", "", "", "", "", "", "");
}

impl Measured {
    fn row(&self, name: &str) {
        let mb = self.bytes / 1e6;
        println!(
            "| {name:<24} | {:>7} | {mb:>6.1} | {:>6.2} | {:>6.1} | {:>7.0} |",
            self.files,
            self.secs,
            mb / self.secs,
            self.rss_kib / 1024.0
        );
    }
}

/// Runs one phase in a fresh process.
fn run_phase(name: &str, jobs: usize, list: &Path, cache: Option<&Path>) -> Measured {
    let mut cmd = Command::new(std::env::current_exe().expect("own path"));
    cmd.args(["__phase", name, &jobs.to_string(), &list.display().to_string()]);
    if let Some(c) = cache {
        cmd.arg(c);
    }
    let out = cmd.output().expect("run a phase");
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let v: Vec<f64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    assert!(v.len() == 4, "phase {name} failed: {line}\n{}", String::from_utf8_lossy(&out.stderr));
    Measured { files: v[0], bytes: v[1], secs: v[2], rss_kib: v[3] }
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
fn phase(name: &str, jobs: usize, list: &Path, cache: Option<&Path>) {
    let dirs: Vec<PathBuf> = std::fs::read_to_string(list).expect("package list").lines().map(PathBuf::from).collect();
    let opts = taskcheck_core::engine::Options {
        jobs: Some(jobs),
        cache_dir: cache.map(Path::to_path_buf),
        ..Default::default()
    };
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
