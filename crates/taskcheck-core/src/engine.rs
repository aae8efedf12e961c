//! The engine: walk the inputs, read and parse every file in parallel, let the analyzer
//! extract each file's facts (the AST is dropped right after), then join the facts per
//! crate, apply levels and sort. It knows no lint: lints plug in through [`Analyzer`].

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::cache::{self, CrateCache, KeyParts};
use crate::diagnostic::{Diagnostic, Level};
use crate::levels::Levels;
use crate::parse::{lex_error_text, parse_guarded, ParseFailure};
use crate::prefilter::{FileOutline, FilePlan, LeafPlan, Prefilter};
use crate::scan;
use crate::source::{FileId, SourceFile, SourceMap};

/// What the engine asks of the lint crate.
pub trait Analyzer: Sync {
    /// The small per-file fact table kept after the AST is dropped (and cached on disk
    /// with `--cache-dir`).
    type Facts: Send + Sync + serde::Serialize + serde::de::DeserializeOwned;

    /// A hash of the analyzer's own settings that shape a file's facts (part of the
    /// cache key, see [`crate::cache`]).
    fn facts_key(&self, file: &FileUnit<'_>) -> u64 {
        let _ = file;
        0
    }

    /// One pass over a parsed file: extract its facts (and per-file findings).
    fn analyze_file(&self, file: &FileUnit<'_>, ast: &syn::File) -> Self::Facts;

    /// The crate-wide join: turn the facts of one crate's files into diagnostics.
    fn check_crate(&self, krate: &Crate<'_, Self::Facts>) -> Vec<Diagnostic>;

    /// What the lints named in `enabled` could fire on (see [`crate::prefilter`]);
    /// `None` parses every file whole.
    fn prefilter(&self, enabled: &[&'static str]) -> Option<Prefilter> {
        let _ = enabled;
        None
    }
}

/// A file as the analyzer sees it.
pub struct FileUnit<'a> {
    pub source: &'a SourceFile,
    /// The crate (cargo package) root the file belongs to, if any.
    pub crate_root: Option<&'a Path>,
    /// Path relative to the crate root (or the file name when there is none), `/`-separated.
    pub rel_path: &'a str,
    /// The lints that can fire in the file's crate, when the prefilter knows (`None`:
    /// any enabled lint): an analysis only they read can be left out.
    pub active: Option<&'a [&'static str]>,
}

impl FileUnit<'_> {
    /// Whether one of `lints` can fire in the file's crate.
    pub fn any_active(&self, lints: &[&str]) -> bool {
        self.active.is_none_or(|a| a.iter().any(|l| lints.contains(l)))
    }
}

/// One crate's files with their facts, for the join.
pub struct Crate<'a, F> {
    pub root: Option<&'a Path>,
    pub files: Vec<(FileUnit<'a>, &'a F)>,
    /// The lints enabled in at least one of its files (the others need not run).
    pub enabled: Vec<&'static str>,
}

/// A per-file hook (levels from config files, excluded files).
#[derive(Clone)]
pub struct PerFile<T>(pub Arc<dyn Fn(&Path) -> T + Send + Sync>);

impl<T> std::fmt::Debug for PerFile<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PerFile(..)")
    }
}

/// Engine options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads (default: all cores).
    pub jobs: Option<usize>,
    /// Read the whole cargo package around each input for facts (reporting only the
    /// inputs). Off for ui-tests, where each case is its own crate.
    pub package_context: bool,
    /// Files larger than this are skipped with a diagnostic.
    pub max_file_size: u64,
    /// Files nested deeper than this (brackets, prefix operators) are skipped with a
    /// diagnostic instead of risking the parser's stack.
    pub max_nesting: usize,
    /// Levels for a file when they vary per directory (config files); `None`: the run's
    /// levels everywhere.
    pub file_levels: Option<PerFile<Arc<Levels>>>,
    /// Files the walk skips (config `exclude`); explicitly named files are still linted.
    pub exclude: Option<PerFile<bool>>,
    /// Parse only what the enabled lints could fire on (see [`crate::prefilter`]).
    pub prefilter: bool,
    /// Where to keep the facts of parsed files between runs (see [`crate::cache`]).
    pub cache_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: None,
            package_context: true,
            max_file_size: 16 * 1024 * 1024,
            max_nesting: 256,
            file_levels: None,
            exclude: None,
            prefilter: true,
            cache_dir: None,
        }
    }
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct Run {
    pub sources: SourceMap,
    /// Sorted, deduplicated, allowed lints removed.
    pub diagnostics: Vec<Diagnostic>,
    /// Files in the reported inputs that were read and parsed.
    pub files_linted: usize,
    /// Crate roots of the reported files (for the JSON `manifest_path`).
    pub crate_roots: BTreeMap<FileId, PathBuf>,
    pub stats: Stats,
}

/// What the run read and what it parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Files read (the inputs and the rest of their packages).
    pub files_read: usize,
    pub bytes_read: usize,
    /// Files the prefilter left unparsed, and bytes the parser did not see (those
    /// files, and the blanked items of the others).
    pub files_skipped: usize,
    pub bytes_skipped: usize,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.files_read += o.files_read;
        self.bytes_read += o.bytes_read;
        self.files_skipped += o.files_skipped;
        self.bytes_skipped += o.bytes_skipped;
    }
}

impl Run {
    /// Number of diagnostics at `level` (input errors count as deny).
    pub fn count(&self, level: Level) -> usize {
        self.diagnostics.iter().filter(|d| d.level == level).count()
    }
}

/// One candidate file found by the walk.
#[derive(Clone, Debug)]
struct Candidate {
    path: PathBuf,
    crate_root: Option<PathBuf>,
    reported: bool,
    /// Set when the walk itself failed for this path.
    walk_error: Option<String>,
}

/// Lints `paths` (files or directories).
pub fn run<A: Analyzer>(analyzer: &A, paths: &[PathBuf], levels: &Levels, opts: &Options) -> Run {
    with_pool(opts, || {
        let candidates = collect(paths, opts);
        lint_candidates(analyzer, candidates, levels, opts)
    })
}

/// Lints in-memory buffers: one crate made of `files` (path, text), no disk access.
pub fn run_sources<A: Analyzer>(analyzer: &A, files: &[(PathBuf, String)], levels: &Levels) -> Run {
    let mut files: Vec<&(PathBuf, String)> = files.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let sources: Vec<Arc<SourceFile>> = files
        .iter()
        .enumerate()
        .map(|(i, (p, t))| Arc::new(SourceFile::new(FileId(i as u32), p.clone(), display_path(p), t.as_str().into())))
        .collect();
    let prepared: Vec<Prepared> = sources
        .into_iter()
        .map(|s| Prepared { source: s, crate_root: None, reported: true, text_ok: true, errors: vec![] })
        .collect();
    let opts = Options { prefilter: false, ..Options::default() };
    with_pool(&opts, || {
        let krate = lint_crate(analyzer, None, prepared, levels, &opts);
        assemble(vec![krate])
    })
}

/// Lints in-memory files as one crate the way [`run`] lints the files it reads: the
/// bytes get the same checks (size limit, UTF-8) and, with `opts.prefilter`, the same
/// outline, plan and reduced parse. No disk access (no package context, no cache); the
/// fuzz targets in `fuzz/` drive the engine through it.
pub fn run_bytes<A: Analyzer>(analyzer: &A, files: &[(PathBuf, Vec<u8>)], levels: &Levels, opts: &Options) -> Run {
    let mut files: Vec<&(PathBuf, Vec<u8>)> = files.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let opts = Options { cache_dir: None, ..opts.clone() };
    with_pool(&opts, || {
        let prepared: Vec<Prepared> = files
            .into_par_iter()
            .enumerate()
            .map(|(i, (path, bytes))| {
                let (id, display) = (FileId(i as u32), display_path(path));
                let c = Candidate { path: path.clone(), crate_root: None, reported: true, walk_error: None };
                // What the size check on a file's metadata says, before anything is read.
                if bytes.len() as u64 > opts.max_file_size {
                    return unreadable(id, c, display, too_large(bytes.len() as u64, opts.max_file_size));
                }
                decode(id, c, display, bytes.clone(), &opts)
            })
            .collect();
        assemble(vec![lint_crate(analyzer, None, prepared, levels, &opts)])
    })
}

/// Walks the inputs. Paths are deduplicated and sorted, so file ids follow path order.
fn collect(paths: &[PathBuf], opts: &Options) -> Vec<Candidate> {
    let mut roots = RootCache::default();
    let mut found: BTreeMap<PathBuf, Candidate> = BTreeMap::new();
    let add = |found: &mut BTreeMap<PathBuf, Candidate>, c: Candidate| {
        let key = std::path::absolute(&c.path).unwrap_or_else(|_| c.path.clone());
        match found.get_mut(&key) {
            Some(existing) => existing.reported |= c.reported,
            None => {
                found.insert(key, c);
            }
        }
    };
    for input in paths {
        if std::fs::symlink_metadata(input).is_err() {
            add(
                &mut found,
                Candidate {
                    path: input.clone(),
                    crate_root: None,
                    reported: true,
                    walk_error: Some("path does not exist".into()),
                },
            );
            continue;
        }
        for c in walk(input, true, &mut roots, opts) {
            add(&mut found, c);
        }
        if opts.package_context {
            // Facts of the whole package make call resolution and cross-file lints right
            // when only part of it is given; findings stay limited to the inputs.
            let start = if input.is_dir() { Some(input.as_path()) } else { input.parent() };
            if let Some(root) = start.and_then(|s| roots.root_of_dir(s)) {
                for c in walk(&root, false, &mut roots, opts) {
                    add(&mut found, c);
                }
            }
        }
    }
    found.into_values().collect()
}

fn walk(input: &Path, reported: bool, roots: &mut RootCache, opts: &Options) -> Vec<Candidate> {
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(input)
        .hidden(true)
        .follow_links(true)
        .require_git(false)
        .filter_entry(|e| !(e.depth() > 0 && e.file_name() == "target" && e.file_type().is_some_and(|t| t.is_dir())))
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                // An explicitly named file is linted whatever its extension.
                let excluded = e.depth() > 0 && opts.exclude.as_ref().is_some_and(|x| (x.0)(e.path()));
                let wanted =
                    !is_dir && !excluded && (e.depth() == 0 || e.path().extension().is_some_and(|x| x == "rs"));
                if wanted {
                    let path = e.path().to_path_buf();
                    let crate_root = path.parent().and_then(|p| roots.root_of_dir(p));
                    out.push(Candidate { path, crate_root, reported, walk_error: None });
                }
            }
            Err(err) => {
                if let Some(path) = error_path(&err) {
                    if reported {
                        let text = walk_error_text(&err, &path);
                        out.push(Candidate { crate_root: None, path, reported, walk_error: Some(text) });
                    }
                }
            }
        }
    }
    out
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Partial(errs) => errs.iter().find_map(error_path),
        _ => None,
    }
}

fn walk_error_text(err: &ignore::Error, path: &Path) -> String {
    match err {
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop back to `{}`; not followed", display_path(ancestor))
        }
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => walk_error_text(err, path),
        ignore::Error::Io(e) => io_error_text(e, path),
        other => other.to_string(),
    }
}

/// The OS error inside `e`. The walker wraps its `io::Error`s in a `walkdir::Error`
/// whose message repeats the path ("IO error for operation on ./a.rs: ..."); the
/// diagnostic names the file already, so only the OS error is shown.
fn innermost_io_error(e: &std::io::Error) -> &std::io::Error {
    let mut cur = e;
    for _ in 0..8 {
        let inner = cur.get_ref().and_then(|payload| {
            payload.downcast_ref::<std::io::Error>().or_else(|| payload.source()?.downcast_ref::<std::io::Error>())
        });
        match inner {
            Some(inner) => cur = inner,
            None => break,
        }
    }
    cur
}

fn io_error_text(e: &std::io::Error, path: &Path) -> String {
    let e = innermost_io_error(e);
    match e.kind() {
        std::io::ErrorKind::NotFound => match std::fs::read_link(path) {
            // A dangling symbolic link is not a file that vanished: say where it points.
            Ok(target) => format!("broken symbolic link: its target `{}` does not exist", target.display()),
            Err(_) => "file not found (it was removed during the run?)".into(),
        },
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            // "Input/output error (os error 5)" -> "input/output error (os error 5)", but
            // an acronym ("IO error") keeps its case instead of becoming "iO error".
            let mut c = s.chars();
            match (c.next(), c.clone().next()) {
                (Some(f), Some(second)) if !second.is_uppercase() => f.to_lowercase().chain(c).collect(),
                _ => s,
            }
        }
    }
}

/// Finds the nearest ancestor directory holding a `Cargo.toml` (a package root).
#[derive(Default)]
struct RootCache {
    cache: HashMap<PathBuf, Option<PathBuf>>,
}

impl RootCache {
    fn root_of_dir(&mut self, dir: &Path) -> Option<PathBuf> {
        let abs = std::path::absolute(dir).ok()?;
        let mut chain = Vec::new();
        let mut cur = Some(abs.as_path());
        let mut found = None;
        while let Some(d) = cur {
            if let Some(hit) = self.cache.get(d) {
                found = hit.clone();
                break;
            }
            chain.push(d.to_path_buf());
            if d.join("Cargo.toml").is_file() {
                found = Some(d.to_path_buf());
                break;
            }
            cur = d.parent();
        }
        for d in chain {
            self.cache.insert(d, found.clone());
        }
        found.map(|r| relative_to_cwd(&r))
    }
}

/// `path` relative to the working directory when it lies below it.
fn relative_to_cwd(path: &Path) -> PathBuf {
    if let Ok(cwd) = std::env::current_dir() {
        if let Ok(rel) = path.strip_prefix(&cwd) {
            return if rel.as_os_str().is_empty() { PathBuf::from(".") } else { rel.to_path_buf() };
        }
    }
    path.to_path_buf()
}

/// The path as shown in diagnostics: relative to the working directory, `/`-separated.
pub fn display_path(path: &Path) -> String {
    let p = if path.is_absolute() { relative_to_cwd(path) } else { path.to_path_buf() };
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// A file read (or not) and ready for parsing.
struct Prepared {
    source: Arc<SourceFile>,
    crate_root: Option<PathBuf>,
    reported: bool,
    /// False when the text could not be read; `errors` says why.
    text_ok: bool,
    errors: Vec<Diagnostic>,
}

fn lint_candidates<A: Analyzer>(analyzer: &A, candidates: Vec<Candidate>, levels: &Levels, opts: &Options) -> Run {
    // Crate by crate: a crate's texts and facts live only while it is linted, so memory
    // follows the largest crates, not the tree. File ids follow path order.
    let mut crates: BTreeMap<Option<PathBuf>, Vec<(FileId, Candidate)>> = BTreeMap::new();
    for (i, c) in candidates.into_iter().enumerate() {
        crates.entry(c.crate_root.clone()).or_default().push((FileId(i as u32), c));
    }
    let one = |(root, files): (Option<PathBuf>, Vec<(FileId, Candidate)>)| {
        let prepared: Vec<Prepared> = files.into_par_iter().map(|(id, c)| read_candidate(id, c, opts)).collect();
        lint_crate(analyzer, root.as_deref(), prepared, levels, opts)
    };
    // A large crate (generated bindings) is linted alone, with all threads on its files,
    // so that two of them are never in memory at once; the others run side by side.
    let size = |files: &[(FileId, Candidate)]| -> u64 {
        files.iter().filter_map(|(_, c)| std::fs::metadata(&c.path).ok()).map(|m| m.len()).sum()
    };
    let (large, small): (Vec<_>, Vec<_>) = crates.into_iter().partition(|(_, files)| size(files) > LARGE_CRATE);
    let mut results: Vec<CrateRun> = large.into_iter().map(one).collect();
    results.extend(small.into_par_iter().map(one).collect::<Vec<_>>());
    assemble(results)
}

/// Bytes of source above which a crate is linted on its own (see `lint_candidates`).
const LARGE_CRATE: u64 = 8 * 1024 * 1024;

/// One crate's share of a run.
struct CrateRun {
    sources: Vec<Arc<SourceFile>>,
    diagnostics: Vec<Diagnostic>,
    files_linted: usize,
    crate_roots: Vec<(FileId, PathBuf)>,
    stats: Stats,
}

/// Stack size of the threads that parse and analyze: the parser and visitors recurse
/// once per nesting level.
pub const WORKER_STACK: usize = 64 * 1024 * 1024;

/// Runs a whole lint run on one pool (all parallel steps below use it).
fn with_pool<T: Send>(opts: &Options, f: impl FnOnce() -> T + Send) -> T {
    // Big stacks: the parser and visitors recurse once per nesting level.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .stack_size(WORKER_STACK)
        .thread_name(|i| format!("taskcheck-{i}"))
        .build();
    match pool {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

/// A file that could not be read or decoded: `msg` says why.
fn unreadable(id: FileId, c: Candidate, display: String, msg: String) -> Prepared {
    let source = Arc::new(SourceFile::new(id, c.path, display.clone(), "".into()));
    let span = source.span(0, 0);
    Prepared {
        errors: vec![Diagnostic::input_error("io", format!("cannot read `{display}`: {msg}"), span)],
        source,
        crate_root: c.crate_root,
        reported: c.reported,
        text_ok: false,
    }
}

fn read_candidate(id: FileId, c: Candidate, opts: &Options) -> Prepared {
    let display = display_path(&c.path);
    if let Some(msg) = c.walk_error.clone() {
        return unreadable(id, c, display, msg);
    }
    let meta = match std::fs::metadata(&c.path) {
        Ok(m) => m,
        Err(e) => {
            let msg = io_error_text(&e, &c.path);
            return unreadable(id, c, display, msg);
        }
    };
    if !meta.is_file() {
        return unreadable(id, c, display, "not a regular file".into());
    }
    let limit = opts.max_file_size;
    if meta.len() > limit {
        return unreadable(id, c, display, too_large(meta.len(), limit));
    }
    // Read at most one byte more than the limit: a file can grow after `metadata`, and
    // procfs files report a size of 0 whatever their length, so the limit is enforced
    // on what is read, not only on what `metadata` says.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let read = std::fs::File::open(&c.path).and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes));
    if let Err(e) = read {
        let msg = io_error_text(&e, &c.path);
        return unreadable(id, c, display, msg);
    }
    decode(id, c, display, bytes, opts)
}

fn too_large(len: u64, limit: u64) -> String {
    format!("file is {}, larger than the {} limit; skipped", size_text(len), size_text(limit))
}

/// The checks on a file's bytes once read (size limit, UTF-8): shared by files read
/// from disk and [`run_bytes`], so that both take the same path.
fn decode(id: FileId, c: Candidate, display: String, bytes: Vec<u8>, opts: &Options) -> Prepared {
    let limit = opts.max_file_size;
    if bytes.len() as u64 > limit {
        let msg = format!("file is larger than the {} limit; skipped", size_text(limit));
        return unreadable(id, c, display, msg);
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            return unreadable(id, c, display, format!("not valid UTF-8 (invalid byte at offset {at})"));
        }
    };
    let source = Arc::new(SourceFile::new(id, c.path, display, text.into()));
    Prepared { source, crate_root: c.crate_root, reported: c.reported, text_ok: true, errors: vec![] }
}

/// A size for messages: "16 MiB", "17.1 MiB" (rounded up, so that a file just over a
/// whole-MiB limit never reads as equal to it), or bytes below 1 MiB.
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes < MIB {
        format!("{bytes} bytes")
    } else if bytes / MIB * MIB == bytes {
        format!("{} MiB", bytes / MIB)
    } else {
        let tenths = (u128::from(bytes) * 10).div_ceil(u128::from(MIB));
        format!("{}.{} MiB", tenths / 10, tenths % 10)
    }
}

/// Parses and analyzes one file; returns its facts, or the errors that prevented it.
fn analyze_one<A: Analyzer>(
    analyzer: &A,
    p: &Prepared,
    rel: &str,
    active: Option<&[&'static str]>,
    reduced: Option<&str>,
    max_nesting: usize,
) -> (Option<A::Facts>, Vec<Diagnostic>) {
    let source = &*p.source;
    if let Some(text) = reduced {
        // The prefilter's text: same lines and columns, so spans are the original's.
        // Should it not parse, the whole file is parsed and reports what is wrong.
        let unit = FileUnit { source, crate_root: p.crate_root.as_deref(), rel_path: rel, active };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if scan::max_nesting(text).depth > max_nesting {
                return None;
            }
            parse_guarded(text, max_nesting).ok().map(|ast| analyzer.analyze_file(&unit, &ast))
        }));
        proc_macro2::extra::invalidate_current_thread_spans();
        if let Ok(Some(facts)) = result {
            return (Some(facts), vec![]);
        }
    }
    let depth = scan::max_nesting(&source.text);
    if depth.depth > max_nesting {
        let span = source.span(depth.at, depth.at);
        let msg = format!("`{}` is nested {} levels deep (limit {max_nesting}); skipped", source.display, depth.depth);
        return (None, vec![Diagnostic::input_error("parse", msg, span)]);
    }
    let unit = FileUnit { source, crate_root: p.crate_root.as_deref(), rel_path: rel, active };
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match parse_guarded(&source.text, max_nesting) {
            Ok(ast) => {
                let facts = analyzer.analyze_file(&unit, &ast);
                drop(ast);
                Ok(facts)
            }
            Err(ParseFailure::Syntax(e)) => {
                let span = source.span_of(e.span());
                Err(Box::new(Diagnostic::input_error("parse", format!("cannot parse `{}`: {e}", source.display), span)))
            }
            Err(ParseFailure::Lex(at)) => {
                let span = source.span_of(at);
                let what = lex_error_text(&source.text[span.lo.byte..]);
                let msg = format!("cannot parse `{}`: {what}", source.display);
                Err(Box::new(Diagnostic::input_error("parse", msg, span)))
            }
            Err(ParseFailure::TooDeep(at)) => {
                let span = source.span_of(at);
                let msg = format!(
                    "`{}` nests expressions or types more than {max_nesting} levels deep; skipped",
                    source.display
                );
                Err(Box::new(Diagnostic::input_error("parse", msg, span)))
            }
        }));
    // The span source map grows with every file parsed on this thread; release it.
    proc_macro2::extra::invalidate_current_thread_spans();
    match result {
        Ok(Ok(facts)) => (Some(facts), vec![]),
        Ok(Err(d)) => (None, vec![*d]),
        Err(panic) => {
            let what = panic_text(&*panic);
            let span = source.span(0, 0);
            let msg = format!("internal error while analysing `{}`: {what}", source.display);
            (None, vec![Diagnostic::input_error("internal", msg, span)])
        }
    }
}

// ---- incremental use (the language server keeps per-file facts and re-joins) ----

/// The cargo package root (nearest directory with a `Cargo.toml`) of a file.
pub fn crate_root_of(file: &Path) -> Option<PathBuf> {
    RootCache::default().root_of_dir(file.parent()?)
}

/// The Rust files under `paths` as the walk finds them (gitignore, hidden and `target/`
/// skipped), with their crate roots.
pub fn rust_files(paths: &[PathBuf], opts: &Options) -> Vec<(PathBuf, Option<PathBuf>)> {
    collect(paths, &Options { package_context: false, ..opts.clone() })
        .into_iter()
        .filter(|c| c.walk_error.is_none())
        .map(|c| (c.path, c.crate_root))
        .collect()
}

/// Extracts one file's facts from its text: `(facts, input errors)`. Parse errors come
/// back as diagnostics, never as a panic. Runs on the calling thread, which needs a big
/// stack for deeply nested code (the engine's workers have 64 MiB; see [`WORKER_STACK`]).
pub fn file_facts<A: Analyzer>(
    analyzer: &A,
    source: Arc<SourceFile>,
    crate_root: Option<&Path>,
    opts: &Options,
) -> (Option<A::Facts>, Vec<Diagnostic>) {
    let p = Prepared {
        crate_root: crate_root.map(Path::to_path_buf),
        source,
        reported: true,
        text_ok: true,
        errors: vec![],
    };
    let rel = rel_path(&p.source, p.crate_root.as_deref());
    analyze_one(analyzer, &p, &rel, None, None, opts.max_nesting)
}

/// Joins one crate's cached facts and applies `levels`: the findings in its files.
pub fn join_crate<A: Analyzer>(
    analyzer: &A,
    root: Option<&Path>,
    files: &[(Arc<SourceFile>, &A::Facts)],
    levels: &dyn Fn(&Path) -> Arc<Levels>,
) -> Vec<Diagnostic> {
    let rels: Vec<String> = files.iter().map(|(s, _)| rel_path(s, root)).collect();
    let units: Vec<(FileUnit<'_>, &A::Facts)> = files
        .iter()
        .zip(&rels)
        .map(|((s, f), rel)| (FileUnit { source: s, crate_root: root, rel_path: rel, active: None }, *f))
        .collect();
    let per_file: Vec<Arc<Levels>> = files.iter().map(|(s, _)| levels(&s.path)).collect();
    let enabled = enabled_in(per_file.iter().map(|l| &**l));
    let krate = Crate { root, files: units, enabled };
    let found = check_crate_guarded(analyzer, &krate);
    // The levels of each file, looked up once (the host may read config files for it).
    let mut file_levels: HashMap<FileId, Arc<Levels>> = HashMap::new();
    let mut out = Vec::new();
    for d in found {
        let Some((src, _)) = files.iter().find(|(s, _)| s.id == d.primary.span.file) else { continue };
        let lv = file_levels.entry(src.id).or_insert_with(|| levels(&src.path));
        if let Some((level, source)) = lv.get(d.lint).filter(|(l, _)| *l != Level::Allow) {
            out.push(Diagnostic { level: *level, level_source: source.clone(), ..d });
        }
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out.dedup();
    out
}

/// Runs the crate-wide join; a panic in it becomes one internal-error diagnostic on the
/// crate's first file instead of ending the whole run.
fn check_crate_guarded<A: Analyzer>(analyzer: &A, krate: &Crate<'_, A::Facts>) -> Vec<Diagnostic> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| analyzer.check_crate(krate))) {
        Ok(found) => found,
        Err(panic) => {
            let Some((first, _)) = krate.files.first() else { return Vec::new() };
            let what = panic_text(&*panic);
            let root = krate.root.map_or_else(|| first.source.display.clone(), |r| r.display().to_string());
            let msg = format!("internal error while checking the crate at `{root}`: {what}");
            vec![Diagnostic::input_error("internal", msg, first.source.span(0, 0))]
        }
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

fn rel_path(source: &SourceFile, root: Option<&Path>) -> String {
    let abs = std::path::absolute(&source.path).unwrap_or_else(|_| source.path.clone());
    let rel = root
        .and_then(|r| std::path::absolute(r).ok())
        .and_then(|r| abs.strip_prefix(r).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from(source.path.file_name().unwrap_or_default()));
    rel.to_string_lossy().replace('\\', "/")
}

/// Reads nothing: plans, parses, extracts and joins one crate's files.
fn lint_crate<A: Analyzer>(
    analyzer: &A,
    root: Option<&Path>,
    prepared: Vec<Prepared>,
    levels: &Levels,
    opts: &Options,
) -> CrateRun {
    let rels: Vec<String> = prepared.iter().map(|p| rel_path(&p.source, p.crate_root.as_deref())).collect();
    let per_file: Vec<Arc<Levels>> =
        opts.file_levels.iter().flat_map(|f| prepared.iter().map(|p| (f.0)(&p.source.path))).collect();
    let enabled = enabled_in(std::iter::once(levels).chain(per_file.iter().map(|l| &**l)));
    let prefilter = if opts.prefilter { analyzer.prefilter(&enabled) } else { None };
    // The plan of each file; its reduced text is made just before it is parsed, so a
    // crate's reduced texts are never all in memory at once.
    let mut active: Option<Vec<&'static str>> = None;
    let (outlines, keeps): (Vec<Option<FileOutline>>, Vec<Option<Vec<LeafPlan>>>) = match &prefilter {
        Some(pf) => {
            let outlines: Vec<Option<FileOutline>> =
                prepared.par_iter().map(|p| p.text_ok.then(|| pf.outline(&p.source.text))).collect();
            let read: Vec<&FileOutline> = outlines.iter().flatten().collect();
            let plan = pf.plan(&read);
            active = plan.active;
            let mut keeps = plan.files.into_iter();
            let keeps = outlines.iter().map(|o| o.as_ref().and_then(|_| keeps.next().flatten())).collect();
            (outlines, keeps)
        }
        None => (prepared.iter().map(|_| None).collect(), prepared.iter().map(|_| None).collect()),
    };
    let cache = opts.cache_dir.as_deref().and_then(|dir| {
        let first = prepared.first()?.source.path.parent().map(Path::to_path_buf);
        Some(CrateCache::open(dir, root.map(Path::to_path_buf).or(first)?.as_path()))
    });
    let results: Vec<(Option<A::Facts>, Vec<Diagnostic>, Stats)> = prepared
        .par_iter()
        .zip(rels.par_iter())
        .zip(outlines.into_par_iter().zip(keeps.into_par_iter()))
        .map(|((p, rel), (outline, keep))| {
            if !p.text_ok {
                return (None, vec![], Stats::default());
            }
            let plan = match (&prefilter, &outline) {
                (Some(pf), Some(o)) => pf.reduce(&p.source.text, o, keep.as_deref()),
                _ => FilePlan::Whole,
            };
            drop(outline);
            let len = p.source.text.len();
            let stats = Stats {
                files_read: 1,
                bytes_read: len,
                bytes_skipped: plan.bytes_skipped(len),
                files_skipped: usize::from(plan == FilePlan::Skip),
            };
            let reduced = match &plan {
                FilePlan::Skip => return (None, vec![], stats),
                FilePlan::Whole => None,
                FilePlan::Reduced { text, .. } => Some(text.as_str()),
            };
            let active = active.as_deref();
            let key = cache.as_ref().map(|_| {
                let unit = FileUnit { source: &p.source, crate_root: p.crate_root.as_deref(), rel_path: rel, active };
                cache::key(&KeyParts {
                    text: reduced.unwrap_or(&p.source.text),
                    rel_path: rel,
                    crate_root: p.crate_root.as_deref(),
                    active,
                    analyzer: analyzer.facts_key(&unit),
                })
            });
            if let (Some(c), Some(k)) = (&cache, key) {
                if let Some(facts) = c.get(k) {
                    return (Some(facts), vec![], stats);
                }
            }
            let (facts, errors) = analyze_one(analyzer, p, rel, active, reduced, opts.max_nesting);
            if let (Some(c), Some(k), Some(f), true) = (&cache, key, &facts, errors.is_empty()) {
                c.put(k, f);
            }
            (facts, errors, stats)
        })
        .collect();
    let mut stats = Stats::default();
    let mut analyzed: Vec<(Option<A::Facts>, Vec<Diagnostic>)> = Vec::with_capacity(results.len());
    for (facts, errors, s) in results {
        stats += s;
        analyzed.push((facts, errors));
    }
    if let Some(c) = cache {
        // A cache that cannot be written costs the next run time, not this run's result.
        let _ = c.save();
    }

    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut files: Vec<(FileUnit<'_>, &A::Facts)> = Vec::new();
    for ((p, rel), (facts, errors)) in prepared.iter().zip(&rels).zip(&analyzed) {
        if p.reported {
            diagnostics.extend(p.errors.iter().cloned());
            diagnostics.extend(errors.iter().cloned());
        }
        if let Some(f) = facts {
            files.push((FileUnit { source: &p.source, crate_root: root, rel_path: rel, active: active.as_deref() }, f));
        }
    }
    let by_id: HashMap<FileId, &Prepared> = prepared.iter().map(|p| (p.source.id, p)).collect();
    if !files.is_empty() {
        let found = check_crate_guarded(analyzer, &Crate { root, files, enabled });
        for d in found {
            let Some(p) = by_id.get(&d.primary.span.file).filter(|p| p.reported) else { continue };
            let file_levels = opts.file_levels.as_ref().map(|f| (f.0)(&p.source.path));
            match file_levels.as_deref().unwrap_or(levels).get(d.lint) {
                Some((Level::Allow, _)) | None => {}
                Some((level, source)) => {
                    diagnostics.push(Diagnostic { level: *level, level_source: source.clone(), ..d });
                }
            }
        }
    }
    // A file nothing points into keeps its name but not its text.
    let mut cited: std::collections::HashSet<FileId> = std::collections::HashSet::new();
    for d in &diagnostics {
        cited.insert(d.primary.span.file);
        cited.extend(d.secondary.iter().map(|l| l.span.file));
        cited.extend(d.fix.iter().flat_map(|f| f.edits.iter().map(|e| e.span.file)));
    }
    let files_linted = prepared
        .iter()
        .zip(&analyzed)
        .filter(|(p, (facts, errors))| p.reported && p.text_ok && (facts.is_some() || errors.is_empty()))
        .count();
    let crate_roots =
        prepared.iter().filter(|p| p.reported).filter_map(|p| Some((p.source.id, p.crate_root.clone()?))).collect();
    drop(analyzed);
    let sources = prepared
        .into_iter()
        .map(|p| if cited.contains(&p.source.id) { p.source } else { Arc::new(p.source.without_text()) })
        .collect();
    CrateRun { sources, diagnostics, files_linted, crate_roots, stats }
}

/// The lints enabled at any of these levels (they vary by directory with config files),
/// sorted.
fn enabled_in<'l>(levels: impl IntoIterator<Item = &'l Levels>) -> Vec<&'static str> {
    let mut out: std::collections::BTreeSet<&'static str> = std::collections::BTreeSet::new();
    for l in levels {
        out.extend(l.enabled());
    }
    out.into_iter().collect()
}

/// Puts the crates' shares together: sources by id, sorted diagnostics.
fn assemble(crates: Vec<CrateRun>) -> Run {
    let mut sources: Vec<Arc<SourceFile>> = Vec::new();
    let mut run = Run::default();
    for c in crates {
        sources.extend(c.sources);
        run.diagnostics.extend(c.diagnostics);
        run.files_linted += c.files_linted;
        run.crate_roots.extend(c.crate_roots);
        run.stats += c.stats;
    }
    sources.sort_by_key(|s| s.id);
    run.sources = SourceMap::new(sources);
    run.diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    run.diagnostics.dedup();
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels::LevelFlag;

    crate::declare_lint! {
        /// Reports every fn.
        FNS,
        name: "every_fn",
        group: Lifecycle,
        tier: Default,
        level: Warn,
        fix: None,
        summary: "every fn",
    }

    /// Reports every fn name, from facts extracted per file and joined per crate.
    struct EveryFn;

    impl Analyzer for EveryFn {
        type Facts = Vec<crate::Span>;
        fn analyze_file(&self, file: &FileUnit<'_>, ast: &syn::File) -> Self::Facts {
            ast.items
                .iter()
                .filter_map(|i| match i {
                    syn::Item::Fn(f) => Some(file.source.span_of(f.sig.ident.span())),
                    _ => None,
                })
                .collect()
        }
        fn check_crate(&self, krate: &Crate<'_, Self::Facts>) -> Vec<Diagnostic> {
            krate
                .files
                .iter()
                .flat_map(|(_, spans)| spans.iter().map(|s| Diagnostic::new("every_fn", "a fn", *s, "")))
                .collect()
        }
    }

    fn levels(flags: &[LevelFlag]) -> Levels {
        Levels::resolve(&[&FNS], flags).unwrap()
    }

    #[test]
    fn joins_sorts_and_reports_parse_errors() {
        let files = vec![
            (PathBuf::from("b.rs"), "fn z() {}\nfn a() {}".to_string()),
            (PathBuf::from("a.rs"), "fn q() {}".to_string()),
            (PathBuf::from("bad.rs"), "fn (".to_string()),
        ];
        let run = run_sources(&EveryFn, &files, &levels(&[]));
        let got: Vec<(String, usize, &str)> = run
            .diagnostics
            .iter()
            .map(|d| (run.sources.get(d.primary.span.file).display.clone(), d.primary.span.lo.line, d.lint))
            .collect();
        assert_eq!(
            got,
            [
                ("a.rs".into(), 1, "every_fn"),
                ("b.rs".into(), 1, "every_fn"),
                ("b.rs".into(), 2, "every_fn"),
                ("bad.rs".into(), 1, "parse")
            ]
        );
        assert!(run.diagnostics[3].is_input_error());
        assert_eq!(run.files_linted, 2);
    }

    #[test]
    fn levels_filter_and_promote() {
        let files = vec![(PathBuf::from("a.rs"), "fn q() {}".to_string())];
        let allowed = run_sources(&EveryFn, &files, &levels(&[LevelFlag::new(Level::Allow, "all")]));
        assert!(allowed.diagnostics.is_empty());
        let denied = run_sources(&EveryFn, &files, &levels(&[LevelFlag::new(Level::Deny, "warnings")]));
        assert_eq!(denied.count(Level::Deny), 1);
    }

    #[test]
    fn walks_directories_in_parallel_with_identical_results() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..20 {
            std::fs::write(dir.path().join(format!("f{i:02}.rs")), format!("fn f{i}() {{}}\nfn g{i}() {{}}")).unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "fn not_rust() {}").unwrap();
        let opts = |jobs| Options { jobs: Some(jobs), package_context: false, ..Options::default() };
        let paths = [dir.path().to_path_buf()];
        let one = run(&EveryFn, &paths, &levels(&[]), &opts(1));
        let two = run(&EveryFn, &paths, &levels(&[]), &opts(2));
        assert_eq!(one.diagnostics.len(), 40);
        assert_eq!(one.diagnostics, two.diagnostics);
        assert_eq!(one.files_linted, 20);
    }

    #[test]
    fn buffers_are_checked_and_linted_like_the_files_they_hold() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, Vec<u8>)> = [
            ("a.rs", &b"fn a() {}\nfn b() {}\n"[..]),
            ("bad.rs", b"fn ok() {}\n\xff\n"),
            ("big.rs", &[b' '; 100]),
            ("syntax.rs", b"fn ("),
        ]
        .iter()
        .map(|(name, bytes)| (dir.path().join(name), bytes.to_vec()))
        .collect();
        for (path, bytes) in &files {
            std::fs::write(path, bytes).unwrap();
        }
        let opts = Options { package_context: false, max_file_size: 64, jobs: Some(1), ..Options::default() };
        let from_disk = run(&EveryFn, &[dir.path().to_path_buf()], &levels(&[]), &opts);
        let from_memory = run_bytes(&EveryFn, &files, &levels(&[]), &opts);
        let messages: Vec<&str> = from_memory.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert!(messages[2].ends_with("bad.rs`: not valid UTF-8 (invalid byte at offset 11)"), "{messages:?}");
        assert!(
            messages[3].ends_with("big.rs`: file is 100 bytes, larger than the 64 bytes limit; skipped"),
            "{messages:?}"
        );
        assert!(messages[4].starts_with("cannot parse `"), "{messages:?}");
        assert_eq!(from_memory.diagnostics, from_disk.diagnostics);
        assert_eq!(from_memory.files_linted, 1);
    }

    /// [`EveryFn`], counting the files it is handed.
    struct Counting(std::sync::atomic::AtomicUsize);

    impl Analyzer for Counting {
        type Facts = Vec<crate::Span>;
        fn analyze_file(&self, file: &FileUnit<'_>, ast: &syn::File) -> Self::Facts {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            EveryFn.analyze_file(file, ast)
        }
        fn check_crate(&self, krate: &Crate<'_, Self::Facts>) -> Vec<Diagnostic> {
            EveryFn.check_crate(krate)
        }
    }

    #[test]
    fn the_cache_spares_unchanged_files_and_gives_the_same_findings() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        for i in 0..5 {
            std::fs::write(src.join(format!("f{i}.rs")), format!("fn f{i}() {{}}\n")).unwrap();
        }
        std::fs::write(src.join("bad.rs"), "fn (").unwrap();
        let cache = dir.path().join("cache");
        let opts = Options { package_context: false, cache_dir: Some(cache.clone()), ..Options::default() };
        let paths = [src.clone()];
        let lint = |a: &Counting| run(a, &paths, &levels(&[]), &opts).diagnostics;
        let analyzer = Counting(Default::default());
        let parsed = |a: &Counting| a.0.swap(0, std::sync::atomic::Ordering::Relaxed);

        let cold = lint(&analyzer);
        assert_eq!((cold.len(), parsed(&analyzer)), (6, 5), "5 fns and a parse error");
        let warm = lint(&analyzer);
        assert_eq!(warm, cold);
        assert_eq!(parsed(&analyzer), 0, "nothing changed: nothing parsed (the parse error is reported again)");

        std::fs::write(src.join("f3.rs"), "fn f3() {}\nfn g3() {}\n").unwrap();
        let changed = lint(&analyzer);
        assert_eq!((changed.len(), parsed(&analyzer)), (7, 1), "only the changed file is parsed");

        // A damaged bundle is a miss, not an error.
        for e in std::fs::read_dir(&cache).unwrap().flatten() {
            std::fs::write(e.path(), b"not a bundle").unwrap();
        }
        assert_eq!(lint(&analyzer), changed);
        assert_eq!(parsed(&analyzer), 5);
    }
}
