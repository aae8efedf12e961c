//! Source files, line indexes and spans.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in the run's [`SourceMap`]; assigned in sorted path order.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A position: byte offset, 1-based line and 1-based column counted in chars.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub byte: usize,
    pub line: usize,
    pub column: usize,
}

/// A byte range in one file, with its resolved line/column bounds.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub lo: Pos,
    pub hi: Pos,
}

impl Span {
    /// The byte range of the span.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.lo.byte..self.hi.byte
    }

    /// Whether `other` lies inside this span (same file).
    pub fn contains(&self, other: &Span) -> bool {
        self.file == other.file && self.lo.byte <= other.lo.byte && other.hi.byte <= self.hi.byte
    }
}

/// One source file: its path, the path shown to users, and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    pub path: PathBuf,
    /// Path as shown in diagnostics (relative to the working directory when possible).
    pub display: String,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(id: FileId, path: PathBuf, display: String, text: Arc<str>) -> Self {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        SourceFile { id, path, display, text, line_starts }
    }

    /// The same file with its text released (a run keeps the text only of the files its
    /// diagnostics point into).
    pub fn without_text(&self) -> SourceFile {
        SourceFile::new(self.id, self.path.clone(), self.display.clone(), "".into())
    }

    /// Number of lines in the file.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset where 1-based `line` starts (clamped to the file).
    pub fn line_start(&self, line: usize) -> usize {
        let idx = line.saturating_sub(1).min(self.line_starts.len() - 1);
        self.line_starts[idx]
    }

    /// Text of 1-based `line`, without its line terminator.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_start(line);
        let end = if line < self.line_starts.len() { self.line_starts[line] } else { self.text.len() };
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Position of a byte offset (clamped, moved back to a char boundary).
    pub fn pos(&self, byte: usize) -> Pos {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        let line_idx = match self.line_starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let column = self.text[self.line_starts[line_idx]..byte].chars().count() + 1;
        Pos { byte, line: line_idx + 1, column }
    }

    /// Position from a 1-based line and a 0-based char column (proc-macro2's convention).
    pub fn pos_of_line_col(&self, line: usize, col0: usize) -> Pos {
        if line == 0 || line > self.line_starts.len() {
            return self.pos(self.text.len());
        }
        let start = self.line_starts[line - 1];
        let rest = &self.text[start..];
        let byte = rest.char_indices().nth(col0).map(|(i, _)| start + i).unwrap_or(self.text.len());
        Pos { byte, line, column: col0 + 1 }
    }

    /// A span covering the byte range `lo..hi`.
    pub fn span(&self, lo: usize, hi: usize) -> Span {
        Span { file: self.id, lo: self.pos(lo), hi: self.pos(hi.max(lo)) }
    }

    /// Converts a proc-macro2 span (valid only until the thread's span data is released).
    pub fn span_of(&self, span: proc_macro2::Span) -> Span {
        let (s, e) = (span.start(), span.end());
        let lo = self.pos_of_line_col(s.line, s.column);
        let hi = self.pos_of_line_col(e.line, e.column);
        Span { file: self.id, lo, hi: if hi.byte < lo.byte { lo } else { hi } }
    }

    /// The text a span covers.
    pub fn snippet(&self, span: &Span) -> &str {
        &self.text[span.range()]
    }
}

/// All files of a run, indexed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<Arc<SourceFile>>,
}

impl SourceMap {
    pub fn new(files: Vec<Arc<SourceFile>>) -> Self {
        debug_assert!(files.iter().enumerate().all(|(i, f)| f.id.0 as usize == i));
        SourceMap { files }
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter().map(|f| &**f)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Finds a file by path.
    pub fn find(&self, path: &Path) -> Option<&SourceFile> {
        self.files().find(|f| f.path == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.into())
    }

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let f = file("fn a() {}\n  é x\n");
        assert_eq!(f.pos(0), Pos { byte: 0, line: 1, column: 1 });
        let x = f.text.find('x').unwrap();
        assert_eq!(f.pos(x), Pos { byte: x, line: 2, column: 5 });
        assert_eq!(f.pos_of_line_col(2, 4).byte, x);
        assert_eq!(f.line_text(2), "  é x");
    }

    #[test]
    fn offsets_are_clamped() {
        let f = file("aé");
        assert_eq!(f.pos(2).byte, 1);
        assert_eq!(f.pos(99).byte, 3);
        assert_eq!(f.pos_of_line_col(9, 0).byte, 3);
    }
}
