//! Applying suggested fixes: per file, sorted, overlapping fixes dropped (the first
//! wins), the fixed text re-parsed before anything is written, and an atomic write that
//! keeps the file's permissions and refuses to overwrite a file changed since it was read.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Applicability, Diagnostic};
use crate::engine::{Options, WORKER_STACK};
use crate::parse::parse_guarded;
use crate::source::{FileId, SourceMap};

/// Which fixes to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixMode {
    /// `--fix`: safe fixes only.
    Safe,
    /// `--unsafe-fixes`: safe and unsafe fixes (never display-only suggestions).
    Unsafe,
}

impl FixMode {
    /// Whether a fix of this applicability is applied in this mode.
    pub fn applies(self, a: Applicability) -> bool {
        match a {
            Applicability::Safe => true,
            Applicability::Unsafe => self == FixMode::Unsafe,
            Applicability::Display => false,
        }
    }
}

/// The fixes of one file, applied to its text in memory.
#[derive(Clone, Debug)]
pub struct FilePlan {
    pub file: FileId,
    pub path: PathBuf,
    /// Display path (for messages).
    pub display: String,
    /// The text the fixes were computed on.
    pub original: Arc<str>,
    /// The text after the applied fixes.
    pub fixed: String,
    /// Lints whose fixes were applied, one entry per fix.
    pub applied: Vec<&'static str>,
    /// Lints whose fixes overlapped an earlier fix and were left out.
    pub skipped: Vec<&'static str>,
    /// The fixed text no longer parses: nothing may be written (the lints involved).
    pub broken: Option<String>,
}

impl FilePlan {
    /// Whether writing this plan changes the file.
    pub fn changes(&self) -> bool {
        self.broken.is_none() && self.fixed != *self.original
    }
}

/// Computes the fixed text of every file with an applicable fix.
pub fn plan(sources: &SourceMap, diagnostics: &[Diagnostic], mode: FixMode) -> Vec<FilePlan> {
    let mut by_file: std::collections::BTreeMap<FileId, Vec<&Diagnostic>> = Default::default();
    for d in diagnostics {
        if let Some(f) = d.fix.as_ref().filter(|f| mode.applies(f.applicability) && !f.edits.is_empty()) {
            by_file.entry(f.edits[0].span.file).or_default().push(d);
        }
    }
    by_file.into_iter().map(|(file, diags)| plan_file(sources, file, diags)).collect()
}

fn plan_file(sources: &SourceMap, file: FileId, mut diags: Vec<&Diagnostic>) -> FilePlan {
    let src = sources.get(file);
    let text = &src.text;
    // Fixes in order of their first edit; a fix is all or nothing.
    diags.sort_by_key(|d| d.fix.as_ref().map(|f| f.edits.iter().map(|e| e.span.lo.byte).min().unwrap_or(0)));
    let mut accepted: Vec<(usize, usize, &str)> = Vec::new();
    let (mut applied, mut skipped) = (Vec::new(), Vec::new());
    for d in diags {
        let fix = d.fix.as_ref().expect("filtered above");
        let edits: Vec<(usize, usize, &str)> =
            fix.edits.iter().map(|e| (e.span.lo.byte, e.span.hi.byte, e.replacement.as_str())).collect();
        let in_bounds = edits.iter().all(|(lo, hi, _)| {
            lo <= hi && *hi <= text.len() && text.is_char_boundary(*lo) && text.is_char_boundary(*hi)
        });
        // Two edits overlap when their ranges intersect, or when both insert at one point.
        let overlaps = |a: &(usize, usize, &str), b: &(usize, usize, &str)| {
            a.0 < b.1 && b.0 < a.1 || a.0 == b.0 && (a.0 == a.1 || b.0 == b.1)
        };
        let clash = edits
            .iter()
            .enumerate()
            .any(|(i, e)| accepted.iter().any(|a| overlaps(e, a)) || edits[i + 1..].iter().any(|o| overlaps(e, o)));
        if !in_bounds || clash {
            skipped.push(d.lint);
            continue;
        }
        accepted.extend(edits);
        applied.push(d.lint);
    }
    accepted.sort_by_key(|(lo, hi, _)| (*lo, *hi));
    let mut fixed = String::with_capacity(text.len());
    let mut at = 0;
    for (lo, hi, rep) in &accepted {
        fixed.push_str(&text[at..*lo]);
        fixed.push_str(rep);
        at = *hi;
    }
    fixed.push_str(&text[at..]);
    let broken = (!applied.is_empty() && !parses(&fixed)).then(|| {
        let mut lints: Vec<&str> = applied.clone();
        lints.sort_unstable();
        lints.dedup();
        lints.join(", ")
    });
    FilePlan {
        file,
        path: src.path.clone(),
        display: src.display.clone(),
        original: src.text.clone(),
        fixed,
        applied,
        skipped,
        broken,
    }
}

/// Whether `text` parses, checked the way the engine parses a file (lexed, measured
/// against the nesting limit, then parsed; see `crate::parse`) and on a thread with the
/// engine's worker stack. The callers run on a main thread with 8 MiB of stack, and
/// `syn::parse_file` there overflowed it (an abort, not an error) on fixed files nested
/// as deep as the engine accepts, e.g. 200 levels of generic arguments.
fn parses(text: &str) -> bool {
    let check = || parse_guarded(text, Options::default().max_nesting).is_ok();
    std::thread::scope(|scope| {
        match std::thread::Builder::new().stack_size(WORKER_STACK).spawn_scoped(scope, check) {
            // A parser panic means the text cannot be vouched for.
            Ok(thread) => thread.join().unwrap_or(false),
            // No thread to be had: check here, which is enough for all but extreme nesting.
            Err(_) => check(),
        }
    })
}

/// Why a fixed file was not written.
#[derive(Debug)]
pub enum WriteError {
    /// The file changed on disk since it was linted.
    Changed,
    Io(io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Changed => write!(f, "the file changed on disk since it was read"),
            WriteError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Writes `text` to `path` atomically (a temp file in the same directory, then a rename),
/// keeping the permissions, only if the file still holds `expected`.
pub fn write_atomic(path: &Path, expected: &str, text: &str) -> Result<(), WriteError> {
    let current = std::fs::read(path).map_err(WriteError::Io)?;
    if current != expected.as_bytes() {
        return Err(WriteError::Changed);
    }
    let meta = std::fs::metadata(path).map_err(WriteError::Io)?;
    if meta.permissions().readonly() {
        return Err(WriteError::Io(io::Error::new(io::ErrorKind::PermissionDenied, "the file is read-only")));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(WriteError::Io)?;
    tmp.write_all(text.as_bytes()).map_err(WriteError::Io)?;
    tmp.as_file().sync_all().map_err(WriteError::Io)?;
    std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(WriteError::Io)?;
    tmp.persist(path).map_err(|e| WriteError::Io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Edit, Fix};
    use crate::source::SourceFile;

    fn setup(text: &str) -> SourceMap {
        SourceMap::new(vec![Arc::new(SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.into()))])
    }

    fn diag(sources: &SourceMap, lint: &'static str, edits: &[(usize, usize, &str)], app: Applicability) -> Diagnostic {
        let src = sources.get(FileId(0));
        let edits =
            edits.iter().map(|(lo, hi, r)| Edit { span: src.span(*lo, *hi), replacement: r.to_string() }).collect();
        Diagnostic::new(lint, "m", src.span(0, 0), "l").with_fix(Fix { message: "f".into(), applicability: app, edits })
    }

    #[test]
    fn applies_sorted_non_overlapping_fixes_by_mode() {
        let text = "fn f() { let _ = a(); b(); }";
        let s = setup(text);
        let d = vec![
            diag(&s, "second", &[(22, 23, "c")], Applicability::Unsafe),
            diag(&s, "first", &[(13, 14, "_g")], Applicability::Safe),
            diag(&s, "clash", &[(13, 14, "_x")], Applicability::Safe),
            diag(&s, "shown", &[(0, 2, "xx")], Applicability::Display),
        ];
        let safe = plan(&s, &d, FixMode::Safe);
        assert_eq!(safe[0].fixed, "fn f() { let _g = a(); b(); }");
        assert_eq!(safe[0].skipped, ["clash"]);
        let all = plan(&s, &d, FixMode::Unsafe);
        assert_eq!(all[0].fixed, "fn f() { let _g = a(); c(); }");
        assert_eq!(all[0].applied, ["first", "second"]);
    }

    #[test]
    fn refuses_text_that_no_longer_parses() {
        let s = setup("fn f() {}");
        let p = plan(&s, &[diag(&s, "bad", &[(8, 9, "")], Applicability::Safe)], FixMode::Safe);
        assert_eq!(p[0].broken.as_deref(), Some("bad"));
        assert!(!p[0].changes());
    }

    #[test]
    fn writes_atomically_and_only_over_the_text_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        std::fs::write(&path, "old").unwrap();
        assert!(matches!(write_atomic(&path, "other", "new"), Err(WriteError::Changed)));
        write_atomic(&path, "old", "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&path, perms).unwrap();
        assert!(write_atomic(&path, "new", "newer").is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }
}
