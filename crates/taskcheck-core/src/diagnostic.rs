//! The diagnostic model every lint produces and every renderer consumes.

use crate::source::Span;

/// How strongly a finding is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

/// Whether a fix may be applied without review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Applicability {
    /// Applied by `--fix`: keeps the meaning of the program.
    Safe,
    /// Applied by `--unsafe-fixes`: may change behaviour, needs review.
    Unsafe,
    /// Shown only, never applied.
    Display,
}

/// One text replacement.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

/// A suggested change: a set of edits with one applicability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub message: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

/// A labelled span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Label { span, message: message.into() }
    }
}

/// A finding: produced by a lint (or by the engine for `io`/`parse` errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Lint name (`spawn_without_cancel`), or `io` / `parse` for input errors.
    pub lint: &'static str,
    /// Set by the engine from the configured levels; lints leave the default.
    pub level: Level,
    /// Why the level is what it is, for the closing note (e.g. "on by default").
    pub level_source: LevelSource,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Vec<String>,
    pub notes: Vec<String>,
    pub fix: Option<Fix>,
}

/// Where a diagnostic's level came from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum LevelSource {
    /// The lint's default level.
    #[default]
    Default,
    /// A command-line flag such as `-D spawn_without_cancel` or `-D warnings`.
    CommandLine(String),
    /// Engine errors (`io`, `parse`) are always errors.
    Fixed,
}

impl Diagnostic {
    /// A new diagnostic for `lint` with its primary span and label.
    pub fn new(lint: &'static str, message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        Diagnostic {
            lint,
            level: Level::Warn,
            level_source: LevelSource::Default,
            message: message.into(),
            primary: Label::new(span, label),
            secondary: Vec::new(),
            help: Vec::new(),
            notes: Vec::new(),
            fix: None,
        }
    }

    /// An input error (`io` or `parse`): always an error, never filtered by levels.
    pub fn input_error(kind: &'static str, message: impl Into<String>, span: Span) -> Self {
        let mut d = Diagnostic::new(kind, message, span, "");
        d.level = Level::Deny;
        d.level_source = LevelSource::Fixed;
        d
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, message));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    /// Whether this is an engine input error rather than a lint finding.
    pub fn is_input_error(&self) -> bool {
        self.level_source == LevelSource::Fixed
    }

    /// The deterministic output order: path (by file id, assigned in path order), line,
    /// column, lint, then message.
    pub fn sort_key(&self) -> (u32, usize, usize, &'static str, &str) {
        (self.primary.span.file.0, self.primary.span.lo.line, self.primary.span.lo.column, self.lint, &self.message)
    }
}
