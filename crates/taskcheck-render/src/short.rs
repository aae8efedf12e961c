//! One line per finding: `path:line:col: level[lint] message` (grep- and editor-friendly).

use taskcheck_core::engine::Run;
use taskcheck_core::{Diagnostic, Level};

fn level_word(d: &Diagnostic) -> &'static str {
    match d.level {
        Level::Deny => "error",
        _ => "warning",
    }
}

/// The short rendering of a run.
pub fn render(run: &Run) -> String {
    let mut out = String::new();
    for d in &run.diagnostics {
        let f = run.sources.get(d.primary.span.file);
        let p = d.primary.span.lo;
        out.push_str(&format!("{}:{}:{}: {}[{}] {}\n", f.display, p.line, p.column, level_word(d), d.lint, d.message));
    }
    out
}

/// GitHub Actions workflow commands: `::warning file=..,line=..,col=..,title=..::msg`.
pub fn render_github(run: &Run) -> String {
    // Workflow-command escaping: `%`, CR and LF in the message; also `:` and `,` in
    // property values.
    fn data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for d in &run.diagnostics {
        let f = run.sources.get(d.primary.span.file);
        let (lo, hi) = (d.primary.span.lo, d.primary.span.hi);
        let mut message = d.message.clone();
        for h in &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            level_word(d),
            property(&f.display),
            lo.line,
            lo.column,
            hi.line,
            hi.column,
            property(&format!("taskcheck::{}", d.lint)),
            data(&message)
        ));
    }
    out
}

/// `--statistics`: findings per lint, most frequent first (ties by name).
pub fn statistics(run: &Run) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in &run.diagnostics {
        *counts.entry(d.lint).or_default() += 1;
    }
    let mut rows: Vec<(&str, usize)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let width = rows.iter().map(|(_, n)| n.to_string().len()).max().unwrap_or(1);
    rows.iter().map(|(lint, n)| format!("{n:>width$}  {lint}\n")).collect()
}
