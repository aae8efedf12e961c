//! taskcheck's output formats: human (rustc style, via codespan-reporting), cargo's JSON
//! message stream, SARIF 2.1.0, one-line `short`, GitHub workflow annotations, and the
//! task inventory (`tasks`: table, JSON, DOT, Mermaid).

pub mod human;
pub mod json;
pub mod sarif;
pub mod short;
pub mod tasks;

/// Re-exported so callers can build a `StandardStream` or buffer without their own dependency.
pub use codespan_reporting::term::termcolor;
