//! taskcheck's engine. It knows sources, spans, diagnostics, lint metadata and levels,
//! and how to walk, read, parse and join files in parallel. It knows no particular lint:
//! lints plug in through [`engine::Analyzer`].

pub mod cache;
pub mod config;
pub mod diagnostic;
pub mod engine;
pub mod fix;
pub mod levels;
pub mod lint;
pub mod outline;
pub mod package;
mod parse;
pub mod prefilter;
pub mod scan;
pub mod settings;
pub mod source;

pub use diagnostic::{Applicability, Diagnostic, Edit, Fix, Label, Level};
pub use lint::{FixAvailability, Group, LintMeta, Tier};
pub use settings::Settings;
pub use source::{FileId, Pos, SourceFile, SourceMap, Span};
