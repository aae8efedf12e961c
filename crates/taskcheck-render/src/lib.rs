//! taskcheck's output formats: human (rustc style, via codespan-reporting) and cargo's
//! JSON message stream.

pub mod human;
pub mod json;

/// Re-exported so callers can build a `StandardStream` or buffer without their own dependency.
pub use codespan_reporting::term::termcolor;
