//! Human output: diagnostics drawn like rustc and clippy draw them, and the summary line.
//!
//! The snippets come from codespan-reporting with ASCII characters. Codespan's layout
//! differs from rustc's in a few places, so its output passes through `RustcLines`,
//! which rewrites each finished line: the `-->` arrow one column further left, `:::`
//! for the second and later files of one diagnostic, `...` for skipped lines, and
//! `_` instead of `/` on the line that points at the start of a multi-line label.
//!
//! Differences that remain (codespan cannot be configured for them):
//! - source text inside a primary label is coloured like the label; rustc leaves it plain;
//! - in `= help:` lines only the `=` is coloured; rustc also makes `help:` bold;
//! - tabs are expanded to the next tab stop of 4; rustc replaces each tab with 4 spaces;
//! - each multi-line label of a file gets its own connector column, even when the labels
//!   do not overlap; rustc reuses a column once the label above it has ended;
//! - a multi-line label that starts a line shared with other labels still starts with `/`;
//!   rustc then draws a `_` connector from below the other labels instead.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::Range;
use std::time::Duration;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel, Severity};
use codespan_reporting::files::{Error as FilesError, Files, Location};
use codespan_reporting::term::termcolor::{Ansi, Color, ColorSpec, NoColor, WriteColor};
use codespan_reporting::term::{self, Chars, Config, Styles};
use taskcheck_core::diagnostic::LevelSource;
use taskcheck_core::engine::Run;
use taskcheck_core::{Applicability, Diagnostic, Edit, FileId, Fix, Level, SourceFile, SourceMap, Span};

/// rustc shows at most this many lines of a multi-line suggestion.
const MAX_SUGGESTION_LINES: usize = 6;

/// Renders `diags` as one string, with ANSI colours when `color` is true.
pub fn render(sources: &SourceMap, diags: &[Diagnostic], color: bool) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = if color {
        emit(&mut Ansi::new(&mut buf), sources, diags)
    } else {
        emit(&mut NoColor::new(&mut buf), sources, diags)
    };
    String::from_utf8_lossy(&buf).into_owned()
}

/// Renders one diagnostic (used for the JSON `rendered` field and by editors).
pub fn render_one(sources: &SourceMap, diag: &Diagnostic, color: bool) -> String {
    render(sources, std::slice::from_ref(diag), color)
}

/// Writes `diags` to a terminal or buffer, each followed by a blank line like rustc.
pub fn emit(out: &mut dyn WriteColor, sources: &SourceMap, diags: &[Diagnostic]) -> io::Result<()> {
    let config = config();
    for d in diags {
        emit_one(out, &config, sources, d)?;
    }
    Ok(())
}

/// The closing line: `taskcheck: 3 warnings, 1 error in 212 files (0.08s)`.
pub fn summary(warnings: usize, errors: usize, files: usize, elapsed: Duration) -> String {
    format!(
        "taskcheck: {}, {} in {} ({:.2}s)",
        plural(warnings, "warning"),
        plural(errors, "error"),
        plural(files, "file"),
        elapsed.as_secs_f64()
    )
}

/// [`summary`] for a whole run: deny-level findings and input errors count as errors.
pub fn run_summary(run: &Run, elapsed: Duration) -> String {
    summary(run.count(Level::Warn), run.count(Level::Deny), run.files_linted, elapsed)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The codespan configuration closest to rustc: ASCII art, rustc's colours.
fn config() -> Config {
    let mut chars = Chars::ascii();
    chars.multi_top = '_';
    chars.multi_bottom = '_';
    chars.multi_bottom_left = '|';
    chars.multi_secondary_caret_start = '-';
    chars.multi_secondary_caret_end = '-';
    Config {
        chars,
        styles: rustc_styles(),
        // rustc shows a long multi-line label's first four lines, `...`, then its last.
        start_context_lines: 3,
        end_context_lines: 0,
        ..Config::default()
    }
}

/// rustc's palette (`rustc_errors::emitter`): bold levels, bright blue gutter.
fn rustc_styles() -> Styles {
    let blue = if cfg!(windows) { Color::Cyan } else { Color::Blue };
    let spec = |fg: Option<Color>, intense: bool| {
        let mut s = ColorSpec::new();
        s.set_fg(fg).set_bold(true).set_intense(intense);
        s
    };
    let red = spec(Some(Color::Red), true);
    let yellow = spec(Some(Color::Yellow), cfg!(windows));
    let gutter = spec(Some(blue), true);
    Styles {
        header_bug: red.clone(),
        header_error: red.clone(),
        header_warning: yellow.clone(),
        header_note: spec(Some(Color::Green), true),
        header_help: spec(Some(Color::Cyan), true),
        header_message: spec(None, cfg!(windows)),
        primary_label_bug: red.clone(),
        primary_label_error: red,
        primary_label_warning: yellow,
        primary_label_note: spec(Some(Color::Green), true),
        primary_label_help: spec(Some(Color::Cyan), true),
        secondary_label: gutter.clone(),
        line_number: gutter.clone(),
        source_border: gutter.clone(),
        note_bullet: gutter,
    }
}

fn file_of(sources: &SourceMap, id: FileId) -> Option<&SourceFile> {
    ((id.0 as usize) < sources.len()).then(|| sources.get(id))
}

/// The span's byte range, clamped to the file and to char boundaries.
fn clamp(file: &SourceFile, span: &Span) -> Range<usize> {
    let lo = file.pos(span.lo.byte).byte;
    let hi = file.pos(span.hi.byte).byte.max(lo);
    lo..hi
}

fn severity(d: &Diagnostic) -> Severity {
    match d.level {
        Level::Deny => Severity::Error,
        Level::Warn | Level::Allow => Severity::Warning,
    }
}

/// The `= help:` / `= note:` lines in rustc's order: help, notes, then the level note.
fn equals_lines(d: &Diagnostic, fix_shown: bool) -> Vec<String> {
    let mut lines: Vec<String> = d.help.iter().map(|h| sub_line("help", h)).collect();
    if let Some(fix) = d.fix.as_ref().filter(|_| !fix_shown) {
        lines.push(sub_line("help", &fix.message));
    }
    lines.extend(d.notes.iter().map(|n| sub_line("note", n)));
    lines.extend(level_note(d).map(|n| sub_line("note", &n)));
    lines
}

/// `kind: text`, with continuation lines aligned under the text as rustc does.
fn sub_line(kind: &str, text: &str) -> String {
    let indent = format!("\n{}", " ".repeat(kind.len() + 2));
    format!("{kind}: {}", text.lines().collect::<Vec<_>>().join(&indent))
}

/// Why the finding has its level, in rustc's words; `None` for input errors.
pub fn level_note(d: &Diagnostic) -> Option<String> {
    let attr = match d.level {
        Level::Deny => "deny",
        Level::Warn | Level::Allow => "warn",
    };
    let lint = d.lint;
    match &d.level_source {
        _ if d.is_input_error() => None,
        LevelSource::Default => {
            Some(format!("`#[{attr}(taskcheck::{lint})]` on by default; see `taskcheck explain {lint}`"))
        }
        LevelSource::CommandLine(flag) => Some(format!("`#[{attr}(taskcheck::{lint})]` implied by `{flag}`")),
        LevelSource::Fixed => None,
    }
}

fn digits(n: usize) -> usize {
    n.max(1).ilog10() as usize + 1
}

fn emit_one(out: &mut dyn WriteColor, config: &Config, sources: &SourceMap, d: &Diagnostic) -> io::Result<()> {
    let primary_file = file_of(sources, d.primary.span.file).filter(|f| !f.text.is_empty());
    let suggestion = d
        .fix
        .as_ref()
        .filter(|f| matches!(f.applicability, Applicability::Safe | Applicability::Unsafe))
        .and_then(|f| Suggestion::new(sources, f));
    let notes = equals_lines(d, suggestion.is_some());
    let pad = match primary_file {
        Some(file) => {
            let mut labels =
                vec![CsLabel::primary(file.id, clamp(file, &d.primary.span)).with_message(d.primary.message.as_str())];
            let mut pad = digits(file.pos(labels[0].range.end).line);
            for l in &d.secondary {
                if let Some(f) = file_of(sources, l.span.file).filter(|f| !f.text.is_empty()) {
                    let range = clamp(f, &l.span);
                    pad = pad.max(digits(f.pos(range.end).line));
                    labels.push(CsLabel::secondary(f.id, range).with_message(l.message.as_str()));
                }
            }
            let cs = CsDiagnostic::new(severity(d))
                .with_code(d.lint)
                .with_message(d.message.as_str())
                .with_labels(labels)
                .with_notes(notes.clone());
            let mut lines = RustcLines::new(out);
            let result = term::emit(&mut lines, config, &CodespanFiles(sources), &cs);
            lines.finish()?;
            // Other errors mean a span outside its file; spans are clamped above, and
            // a half-drawn snippet is still more useful than a panic.
            if let Err(FilesError::Io(e)) = result {
                return Err(e);
            }
            pad
        }
        None => {
            emit_without_snippet(out, &config.styles, sources, d, &notes)?;
            2
        }
    };
    if let Some(s) = suggestion {
        if notes.is_empty() {
            // Codespan closes the snippet without a border when nothing follows it.
            border_line(out, &config.styles, pad)?;
        }
        s.write(out, &config.styles, d.primary.span.file, pad)?;
    }
    writeln!(out)
}

/// A diagnostic whose file has no text (it could not be read): header and path only.
fn emit_without_snippet(
    out: &mut dyn WriteColor,
    styles: &Styles,
    sources: &SourceMap,
    d: &Diagnostic,
    notes: &[String],
) -> io::Result<()> {
    let sev = severity(d);
    out.set_color(styles.header(sev))?;
    write!(out, "{}[{}]", if sev == Severity::Error { "error" } else { "warning" }, d.lint)?;
    out.set_color(&styles.header_message)?;
    write!(out, ": {}", d.message)?;
    out.reset()?;
    writeln!(out)?;
    if let Some(file) = file_of(sources, d.primary.span.file) {
        write!(out, "  ")?;
        out.set_color(&styles.source_border)?;
        write!(out, "-->")?;
        out.reset()?;
        writeln!(out, " {}", file.display)?;
    }
    if !notes.is_empty() {
        border_line(out, styles, 2)?;
    }
    for note in notes {
        for (i, line) in note.lines().enumerate() {
            if i == 0 {
                write!(out, "   ")?;
                out.set_color(&styles.note_bullet)?;
                write!(out, "=")?;
                out.reset()?;
                writeln!(out, " {line}")?;
            } else {
                writeln!(out, "     {line}")?;
            }
        }
    }
    Ok(())
}

/// An empty gutter line: `   |`.
fn border_line(out: &mut dyn WriteColor, styles: &Styles, pad: usize) -> io::Result<()> {
    write!(out, "{} ", " ".repeat(pad))?;
    out.set_color(&styles.source_border)?;
    write!(out, "|")?;
    out.reset()?;
    writeln!(out)
}

/// Codespan's view of the run's files.
struct CodespanFiles<'m>(&'m SourceMap);

impl<'a, 'm: 'a> Files<'a> for CodespanFiles<'m> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.file(id)?.display)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.file(id)?.text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        Ok(self.file(id)?.pos(byte_index).line - 1)
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, FilesError> {
        let file = self.file(id)?;
        let count = file.line_count();
        if line_index >= count {
            // Codespan stops adding context lines at the first error.
            return Err(FilesError::LineTooLarge { given: line_index, max: count - 1 });
        }
        let start = file.line_start(line_index + 1);
        let end = if line_index + 1 < count { file.line_start(line_index + 2) } else { file.text.len() };
        Ok(start..end)
    }

    fn location(&'a self, id: FileId, byte_index: usize) -> Result<Location, FilesError> {
        // Columns count chars, like rustc's (codespan's default agrees; this is cheaper).
        let pos = self.file(id)?.pos(byte_index);
        Ok(Location { line_number: pos.line, column_number: pos.column })
    }
}

impl CodespanFiles<'_> {
    fn file(&self, id: FileId) -> Result<&SourceFile, FilesError> {
        file_of(self.0, id).ok_or(FilesError::FileMissing)
    }
}

/// A `WriteColor` that collects codespan's output line by line, rewrites each line into
/// rustc's layout, and forwards it. Blank lines are held back so that the caller decides
/// what ends the diagnostic (a suggestion comes before the final blank line).
struct RustcLines<'w> {
    out: &'w mut dyn WriteColor,
    undecoded: Vec<u8>,
    /// The current line: each char with the index of its colour in `specs` (0: none).
    line: Vec<(char, usize)>,
    specs: Vec<ColorSpec>,
    current: usize,
    held_blank_lines: usize,
    /// Width of the line-number column, learnt from the first `-->` line.
    pad: Option<usize>,
    snippet_starts: usize,
}

impl<'w> RustcLines<'w> {
    fn new(out: &'w mut dyn WriteColor) -> Self {
        RustcLines {
            out,
            undecoded: Vec::new(),
            line: Vec::new(),
            specs: vec![ColorSpec::new()],
            current: 0,
            held_blank_lines: 0,
            pad: None,
            snippet_starts: 0,
        }
    }

    fn push_text(&mut self, text: &str) -> io::Result<()> {
        for c in text.chars() {
            if c == '\n' {
                self.finish_line()?;
            } else {
                self.line.push((c, self.current));
            }
        }
        Ok(())
    }

    /// Sends whatever is pending; blank lines at the end are dropped.
    fn finish(mut self) -> io::Result<()> {
        if !self.undecoded.is_empty() {
            let rest = String::from_utf8_lossy(&std::mem::take(&mut self.undecoded)).into_owned();
            self.push_text(&rest)?;
        }
        if !self.line.is_empty() {
            self.finish_line()?;
        }
        Ok(())
    }

    fn finish_line(&mut self) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        while line.last().is_some_and(|(c, _)| c.is_whitespace()) {
            line.pop();
        }
        if line.is_empty() {
            self.held_blank_lines += 1;
            return Ok(());
        }
        self.rewrite(&mut line);
        for _ in 0..std::mem::take(&mut self.held_blank_lines) {
            writeln!(self.out)?;
        }
        let mut style = 0;
        let mut text = String::new();
        for (c, s) in line {
            if s != style {
                self.out.write_all(text.as_bytes())?;
                text.clear();
                if s == 0 {
                    self.out.reset()?;
                } else {
                    self.out.set_color(&self.specs[s])?;
                }
                style = s;
            }
            text.push(c);
        }
        self.out.write_all(text.as_bytes())?;
        if style != 0 {
            self.out.reset()?;
        }
        writeln!(self.out)
    }

    fn rewrite(&mut self, line: &mut Vec<(char, usize)>) {
        let text: String = line.iter().map(|(c, _)| c).collect();
        let indent = text.len() - text.trim_start_matches(' ').len();
        let rest = &text[indent..];
        if indent > 0 && rest.starts_with("--> ") {
            // Codespan puts the arrow one column right of rustc's.
            self.pad = Some(indent - 1);
            line.remove(0);
            self.snippet_starts += 1;
            if self.snippet_starts > 1 {
                for (c, _) in &mut line[indent - 1..indent + 2] {
                    *c = ':';
                }
            }
            return;
        }
        let Some(pad) = self.pad else { return };
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && indent + digits == pad && rest[digits..].starts_with(" |") {
            // rustc aligns line numbers to the left, codespan to the right.
            line[..pad].rotate_left(indent);
            return;
        }
        if indent == pad + 1 && rest.starts_with('.') && rest[1..].chars().all(|c| c == ' ' || c == '|') {
            // A skipped-lines break: rustc writes `...` over the number and border.
            let style = line[indent].1;
            let width = pad + 2;
            line.splice(..width, "...".chars().chain(std::iter::repeat(' ')).take(width).map(|c| (c, style)));
            while line.last().is_some_and(|(c, _)| *c == ' ') {
                line.pop();
            }
            return;
        }
        if indent == pad + 1 && rest.starts_with('|') {
            // The line pointing at a multi-line label's start: rustc draws ` ____^`,
            // codespan ` /____^` (it shares the `/` with the label's first source line).
            let gutter: String = rest[1..].chars().take_while(|c| matches!(c, ' ' | '|' | '_' | '/')).collect();
            if let Some(at) = gutter.find("/_") {
                line[indent + 1 + at].0 = ' ';
            }
        }
    }
}

impl Write for RustcLines<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.undecoded.extend_from_slice(buf);
        let bytes = std::mem::take(&mut self.undecoded);
        let (valid, rest) = match std::str::from_utf8(&bytes) {
            Ok(s) => (s.to_string(), Vec::new()),
            Err(e) if e.error_len().is_none() => {
                // An incomplete char at the end: keep it for the next write.
                let (v, r) = bytes.split_at(e.valid_up_to());
                (String::from_utf8_lossy(v).into_owned(), r.to_vec())
            }
            Err(_) => (String::from_utf8_lossy(&bytes).into_owned(), Vec::new()),
        };
        self.undecoded = rest;
        self.push_text(&valid)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteColor for RustcLines<'_> {
    fn supports_color(&self) -> bool {
        self.out.supports_color()
    }

    fn set_color(&mut self, spec: &ColorSpec) -> io::Result<()> {
        self.current = match self.specs.iter().position(|s| s == spec) {
            Some(i) => i,
            None => {
                self.specs.push(spec.clone());
                self.specs.len() - 1
            }
        };
        Ok(())
    }

    fn reset(&mut self) -> io::Result<()> {
        self.current = 0;
        Ok(())
    }
}

/// A fix drawn as rustc draws a suggestion: the code as it reads after the change.
struct Suggestion<'a> {
    message: &'a str,
    blocks: Vec<Block<'a>>,
}

/// The changed lines of one file.
struct Block<'a> {
    file: &'a SourceFile,
    locus: (usize, usize),
    first_line: usize,
    old: Vec<String>,
    new: Vec<String>,
    /// For single-line changes: (column, width, mark) under the new text.
    marks: Vec<(usize, usize, char)>,
    only_deletions: bool,
}

impl<'a> Suggestion<'a> {
    fn new(sources: &'a SourceMap, fix: &'a Fix) -> Option<Self> {
        let mut by_file: BTreeMap<FileId, Vec<&Edit>> = BTreeMap::new();
        for e in &fix.edits {
            by_file.entry(e.span.file).or_default().push(e);
        }
        let mut blocks = Vec::new();
        for (id, mut edits) in by_file {
            let file = file_of(sources, id)?;
            edits.sort_by_key(|e| (e.span.lo.byte, e.span.hi.byte));
            blocks.push(Block::new(file, &edits));
        }
        (!blocks.is_empty()).then_some(Suggestion { message: &fix.message, blocks })
    }

    fn write(&self, out: &mut dyn WriteColor, styles: &Styles, primary: FileId, pad: usize) -> io::Result<()> {
        out.set_color(&styles.header_help)?;
        write!(out, "help")?;
        out.reset()?;
        writeln!(out, ": {}", self.message)?;
        let pad = self.blocks.iter().map(Block::max_line).map(digits).fold(pad, usize::max);
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 || block.file.id != primary {
                let arrow = if i == 0 { "-->" } else { ":::" };
                write!(out, "{}", " ".repeat(pad))?;
                out.set_color(&styles.source_border)?;
                write!(out, "{arrow}")?;
                out.reset()?;
                writeln!(out, " {}:{}:{}", block.file.display, block.locus.0, block.locus.1)?;
            }
            border_line(out, styles, pad)?;
            block.write(out, styles, pad)?;
        }
        Ok(())
    }
}

impl<'a> Block<'a> {
    fn new(file: &'a SourceFile, edits: &[&Edit]) -> Self {
        // Overlapping edits cannot all be applied; like the fixer, keep the first.
        let mut kept: Vec<(Range<usize>, &str)> = Vec::new();
        for e in edits {
            let r = clamp(file, &e.span);
            if !matches!(kept.last(), Some((last, _)) if r.start < last.end) {
                kept.push((r, &e.replacement));
            }
        }
        let first = file.pos(kept[0].0.start);
        let last_line = file.pos(kept.iter().map(|(r, _)| r.end).max().unwrap_or(0)).line;
        let start = file.line_start(first.line);
        let content_end = file.line_start(last_line) + file.line_text(last_line).len();
        let end = kept.iter().map(|(r, _)| r.end).fold(content_end, usize::max);
        let old_text = &file.text[start..end];
        let mut new_text = String::new();
        let mut at = start;
        let mut marks = Vec::new();
        for (r, replacement) in &kept {
            new_text.push_str(&file.text[at..r.start]);
            let column = expand_tabs(&new_text[new_text.rfind('\n').map_or(0, |i| i + 1)..]).chars().count();
            let width = expand_tabs(replacement).chars().count();
            if width > 0 {
                marks.push((column, width, if r.is_empty() { '+' } else { '~' }));
            }
            new_text.push_str(replacement);
            at = r.end;
        }
        new_text.push_str(&file.text[at..end]);
        let lines = |s: &str| s.split('\n').map(|l| expand_tabs(l.trim_end_matches('\r'))).collect::<Vec<_>>();
        Block {
            file,
            locus: (first.line, first.column),
            first_line: first.line,
            old: lines(old_text),
            new: lines(&new_text),
            marks,
            only_deletions: kept.iter().all(|(_, r)| r.is_empty()),
        }
    }

    fn max_line(&self) -> usize {
        self.first_line + self.old.len().max(self.new.len().min(MAX_SUGGESTION_LINES)) - 1
    }

    fn write(&self, out: &mut dyn WriteColor, styles: &Styles, pad: usize) -> io::Result<()> {
        let added = ColorSpec::new().set_fg(Some(Color::Green)).clone();
        let removed = ColorSpec::new().set_fg(Some(Color::Red)).clone();
        let single = self.old.len() == 1 && self.new.len() == 1;
        if single && !self.only_deletions {
            // rustc's underline style: `+` under insertions, `~` under replacements.
            source_line(out, styles, pad, self.first_line, ('|', &styles.source_border), &self.new[0])?;
            write!(out, "{} ", " ".repeat(pad))?;
            out.set_color(&styles.source_border)?;
            write!(out, "|")?;
            out.reset()?;
            write!(out, " ")?;
            let mut col = 0;
            for &(start, width, mark) in &self.marks {
                if start < col {
                    continue;
                }
                write!(out, "{}", " ".repeat(start - col))?;
                out.set_color(&added)?;
                write!(out, "{}", mark.to_string().repeat(width))?;
                out.reset()?;
                col = start + width;
            }
            return writeln!(out);
        }
        if single {
            // rustc's diff style for removals.
            source_line(out, styles, pad, self.first_line, ('-', &removed), &self.old[0])?;
            source_line(out, styles, pad, self.first_line, ('+', &added), &self.new[0])?;
        } else {
            for (i, text) in self.new.iter().enumerate().take(MAX_SUGGESTION_LINES) {
                let gutter = match self.old.get(i) {
                    Some(old) if old == text => ('|', &styles.source_border),
                    Some(_) => ('~', &added),
                    None => ('+', &added),
                };
                source_line(out, styles, pad, self.first_line + i, gutter, text)?;
            }
            if self.new.len() > MAX_SUGGESTION_LINES {
                writeln!(out, "...")?;
            }
        }
        border_line(out, styles, pad)
    }
}

/// `14 |     code` with the gutter mark and its colour.
fn source_line(
    out: &mut dyn WriteColor,
    styles: &Styles,
    pad: usize,
    number: usize,
    (mark, mark_style): (char, &ColorSpec),
    text: &str,
) -> io::Result<()> {
    out.set_color(&styles.line_number)?;
    write!(out, "{number:<pad$}")?;
    out.reset()?;
    write!(out, " ")?;
    out.set_color(mark_style)?;
    write!(out, "{mark}")?;
    out.reset()?;
    let text = text.trim_end();
    if text.is_empty() {
        writeln!(out)
    } else {
        writeln!(out, " {text}")
    }
}

fn expand_tabs(s: &str) -> String {
    s.replace('\t', "    ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use taskcheck_core::diagnostic::Fix;

    fn map(files: &[(&str, &str)]) -> SourceMap {
        SourceMap::new(
            files
                .iter()
                .enumerate()
                .map(|(i, (name, text))| {
                    Arc::new(SourceFile::new(FileId(i as u32), name.into(), name.to_string(), (*text).into()))
                })
                .collect(),
        )
    }

    /// The span of the `n`-th (0-based) occurrence of `needle` in file `id`.
    fn find(sources: &SourceMap, id: u32, needle: &str, n: usize) -> Span {
        let f = sources.get(FileId(id));
        let at = f.text.match_indices(needle).nth(n).unwrap().0;
        f.span(at, at + needle.len())
    }

    const WORKER: &str = "\n\n\n\n\n\n\n\n\n\n\n\nasync fn run() {\n    tokio::spawn(async move {\n        loop {\n            tick().await;\n        }\n    });\n}\n";

    fn spawn_diag(sources: &SourceMap) -> Diagnostic {
        Diagnostic::new(
            "spawn_without_cancel",
            "detached task runs forever and cannot be cancelled",
            find(sources, 0, "tokio::spawn", 0),
            "the JoinHandle is dropped here",
        )
        .with_label(find(sources, 0, "loop", 0), "this loop has no exit and observes no cancellation signal")
        .with_help("keep the JoinHandle and abort it on shutdown, or select on `token.cancelled()`")
    }

    #[test]
    fn two_labels_look_like_rustc() {
        let sources = map(&[("src/worker.rs", WORKER)]);
        let got = render(&sources, &[spawn_diag(&sources)], false);
        let want = "\
warning[spawn_without_cancel]: detached task runs forever and cannot be cancelled
  --> src/worker.rs:14:5
   |
14 |     tokio::spawn(async move {
   |     ^^^^^^^^^^^^ the JoinHandle is dropped here
15 |         loop {
   |         ---- this loop has no exit and observes no cancellation signal
   |
   = help: keep the JoinHandle and abort it on shutdown, or select on `token.cancelled()`
   = note: `#[warn(taskcheck::spawn_without_cancel)]` on by default; see `taskcheck explain spawn_without_cancel`

";
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn command_line_level_and_notes_order() {
        let sources = map(&[("a.rs", "fn main() { x(); }\n")]);
        let mut d = Diagnostic::new("blocking_in_async", "msg", find(&sources, 0, "x()", 0), "")
            .with_note("a note")
            .with_help("a help\nsecond line");
        d.level = Level::Deny;
        d.level_source = LevelSource::CommandLine("-D warnings".into());
        let got = render(&sources, &[d], false);
        let want = "\
error[blocking_in_async]: msg
 --> a.rs:1:13
  |
1 | fn main() { x(); }
  |             ^^^
  |
  = help: a help
          second line
  = note: a note
  = note: `#[deny(taskcheck::blocking_in_async)]` implied by `-D warnings`

";
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn unreadable_file_has_no_snippet() {
        let sources = map(&[("x.rs", "")]);
        let span = sources.get(FileId(0)).span(0, 0);
        let d = Diagnostic::input_error("io", "cannot read `x.rs`: permission denied", span);
        let got = render(&sources, &[d], false);
        assert_eq!(got, "error[io]: cannot read `x.rs`: permission denied\n  --> x.rs\n\n");
    }

    #[test]
    fn parse_error_points_at_the_position() {
        let sources = map(&[("bad.rs", "fn f( {\n")]);
        let d = Diagnostic::input_error("parse", "cannot parse `bad.rs`: expected `)`", find(&sources, 0, "{", 0));
        let got = render(&sources, &[d], false);
        let want = "\
error[parse]: cannot parse `bad.rs`: expected `)`
 --> bad.rs:1:7
  |
1 | fn f( {
  |       ^

";
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn labels_in_other_files_and_skipped_lines() {
        let other = "// one\n// two\nstatic MAP: Mutex<HashMap<u32, u32>> = todo!();\n";
        let sources = map(&[("src/a.rs", WORKER), ("src/b.rs", other)]);
        let d = Diagnostic::new("unbounded_static_map", "grows", find(&sources, 0, "async fn run", 0), "inserted here")
            .with_label(find(&sources, 0, "tick", 0), "")
            .with_label(find(&sources, 1, "MAP", 0), "declared here");
        let got = render(&sources, &[d], false);
        let want = "\
warning[unbounded_static_map]: grows
  --> src/a.rs:13:1
   |
13 | async fn run() {
   | ^^^^^^^^^^^^ inserted here
...
16 |             tick().await;
   |             ----
   |
  ::: src/b.rs:3:8
   |
3  | static MAP: Mutex<HashMap<u32, u32>> = todo!();
   |        --- declared here
   |
   = note: `#[warn(taskcheck::unbounded_static_map)]` on by default; see `taskcheck explain unbounded_static_map`

";
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn multi_line_labels_use_rustc_connectors() {
        let sources = map(&[(
            "m.rs",
            "fn f() {\n    let x = spawn(\n        a,\n    );\n    tokio::spawn(async {\n        b\n    });\n}\n",
        )]);
        let f = sources.get(FileId(0));
        let mid = f.text.find("spawn(").unwrap();
        let end = f.text.find(");").unwrap() + 1;
        let start2 = f.text.find("tokio").unwrap();
        let end2 = f.text.find("})").unwrap() + 2;
        let first = Diagnostic::new("x", "m", f.span(mid, end), "call");
        let mut second = Diagnostic::new("x", "n", f.span(start2, start2 + 5), "");
        second.secondary.push(taskcheck_core::Label::new(f.span(start2, end2), "task"));
        second.level_source = LevelSource::Fixed;
        let got = render(&sources, &[first, second], false);
        let want = "\
warning[x]: m
 --> m.rs:2:13
  |
2 |       let x = spawn(
  |  _____________^
3 | |         a,
4 | |     );
  | |_____^ call
  |
  = note: `#[warn(taskcheck::x)]` on by default; see `taskcheck explain x`

warning[x]: n
 --> m.rs:5:5
  |
5 | /     tokio::spawn(async {
  |       ^^^^^
6 | |         b
7 | |     });
  | |______- task

";
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn long_multi_line_labels_are_elided_like_rustc() {
        let text = "fn f() {\n    let x = spawn(async {\n        a();\n        b();\n        c();\n        d();\n        e();\n    });\n}\n";
        let sources = map(&[("l.rs", text)]);
        let f = sources.get(FileId(0));
        let lo = text.find("spawn").unwrap();
        let hi = text.find("});").unwrap() + 2;
        let mut d = Diagnostic::new("x", "m", f.span(lo, hi), "label");
        d.level_source = LevelSource::Fixed;
        let got = render(&sources, &[d], false);
        let want = "\
warning[x]: m
 --> l.rs:2:13
  |
2 |       let x = spawn(async {
  |  _____________^
3 | |         a();
4 | |         b();
5 | |         c();
... |
8 | |     });
  | |______^ label

";
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn fixes_are_shown_after_the_change() {
        let sources = map(&[("src/worker.rs", WORKER)]);
        let span = find(&sources, 0, "tokio::spawn", 0);
        let insert = Span { hi: span.lo, ..span };
        let fix = |app| Fix {
            message: "keep the handle".into(),
            applicability: app,
            edits: vec![Edit { span: insert, replacement: "let _task = ".into() }],
        };
        let d = spawn_diag(&sources).with_fix(fix(Applicability::Safe));
        let got = render(&sources, &[d], false);
        let tail = "   = note: `#[warn(taskcheck::spawn_without_cancel)]` on by default; see `taskcheck explain spawn_without_cancel`
help: keep the handle
   |
14 |     let _task = tokio::spawn(async move {
   |     ++++++++++++

";
        assert!(got.ends_with(tail), "\n{got}");

        let d = spawn_diag(&sources).with_fix(fix(Applicability::Display));
        let got = render(&sources, &[d], false);
        assert!(got.contains("   = help: keep the JoinHandle and abort it on shutdown, or select on `token.cancelled()`\n   = help: keep the handle\n   = note:"), "\n{got}");
        assert!(!got.contains("help: keep the handle\n   |"), "\n{got}");
    }

    #[test]
    fn replacements_deletions_and_multi_line_fixes() {
        let sources = map(&[("a.rs", "fn f() {\n    let rx = channel(100);\n    drop(x);\n}\n")]);
        let f = sources.get(FileId(0));
        let at = f.text.find("100").unwrap();
        let edit = |lo: usize, hi: usize, r: &str| Edit { span: f.span(lo, hi), replacement: r.into() };
        let fix = |edits| Fix { message: "try".into(), applicability: Applicability::Unsafe, edits };
        let base = Diagnostic::new("x", "m", f.span(at, at + 3), "");

        let got = render(&sources, &[base.clone().with_fix(fix(vec![edit(at, at + 3, "64")]))], false);
        assert!(
            got.ends_with("help: try\n  |\n2 |     let rx = channel(64);\n  |                      ~~\n\n"),
            "\n{got}"
        );

        let d = base.clone().with_fix(fix(vec![edit(at - 1, at + 4, "")]));
        let got = render(&sources, &[d], false);
        assert!(
            got.ends_with("help: try\n  |\n2 -     let rx = channel(100);\n2 +     let rx = channel;\n  |\n\n"),
            "\n{got}"
        );

        let drop_at = f.text.find("    drop").unwrap();
        let d = base.with_fix(fix(vec![edit(at, at + 3, "64"), edit(drop_at, drop_at, "    // keep\n")]));
        let got = render(&sources, &[d], false);
        let want = "help: try
  |
2 ~     let rx = channel(64);
3 ~     // keep
4 +     drop(x);
  |

";
        assert!(got.ends_with(want), "\n{got}");
    }

    #[test]
    fn colour_output_has_ansi_codes_and_same_text() {
        let sources = map(&[("src/worker.rs", WORKER)]);
        let d = spawn_diag(&sources);
        let colored = render(&sources, std::slice::from_ref(&d), true);
        assert!(colored.contains("\x1b["));
        let mut stripped = String::new();
        let mut in_escape = false;
        for c in colored.chars() {
            match c {
                '\x1b' => in_escape = true,
                'm' if in_escape => in_escape = false,
                _ if in_escape => {}
                _ => stripped.push(c),
            }
        }
        assert_eq!(stripped, render(&sources, &[d], false));
    }

    #[test]
    fn out_of_range_spans_do_not_panic() {
        let sources = map(&[("a.rs", "fn é() {}\n"), ("b.rs", "")]);
        let bad = Span {
            file: FileId(0),
            lo: taskcheck_core::Pos { byte: 4, line: 9, column: 9 },
            hi: taskcheck_core::Pos { byte: 999, line: 99, column: 1 },
        };
        let d = Diagnostic::new("x", "m", bad, "l")
            .with_label(Span { file: FileId(7), ..bad }, "missing file")
            .with_label(Span { file: FileId(1), ..bad }, "empty file")
            .with_fix(Fix {
                message: "f".into(),
                applicability: Applicability::Safe,
                edits: vec![Edit { span: bad, replacement: "z".into() }],
            });
        let got = render(&sources, &[d], false);
        assert!(got.starts_with("warning[x]: m\n --> a.rs:1:4\n"), "\n{got}");
        let d = Diagnostic::new("x", "m", Span { file: FileId(9), ..bad }, "");
        assert!(render(&sources, &[d], false).starts_with("warning[x]: m\n"));
    }

    #[test]
    fn summary_counts() {
        let ms = Duration::from_millis(80);
        assert_eq!(summary(3, 1, 212, ms), "taskcheck: 3 warnings, 1 error in 212 files (0.08s)");
        assert_eq!(summary(1, 0, 1, Duration::from_millis(1234)), "taskcheck: 1 warning, 0 errors in 1 file (1.23s)");
        assert_eq!(summary(0, 2, 0, Duration::ZERO), "taskcheck: 0 warnings, 2 errors in 0 files (0.00s)");
    }
}
