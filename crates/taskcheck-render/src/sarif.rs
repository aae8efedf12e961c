//! SARIF 2.1.0 (`--message-format sarif`) for GitHub code scanning and other SARIF
//! consumers: one run, every lint as a rule, results with UTF-16 columns, related
//! locations for the secondary labels, fingerprints that survive unrelated edits above a
//! finding, and `fixes[]` for machine-applicable suggestions. Input errors become tool
//! execution notifications.

use serde_json::{json, Value};
use taskcheck_core::engine::Run;
use taskcheck_core::{Applicability, Diagnostic, Level, LintMeta, SourceFile, Span};

fn level(l: Level) -> &'static str {
    match l {
        Level::Allow => "none",
        Level::Warn => "warning",
        Level::Deny => "error",
    }
}

/// A path as a relative URI: forward slashes, no leading `./`.
fn uri(display: &str) -> String {
    display.replace('\\', "/").trim_start_matches("./").to_string()
}

/// 1-based UTF-16 column of a 1-based char column on `line`.
fn utf16_column(src: &SourceFile, line: usize, column: usize) -> usize {
    src.line_text(line).chars().take(column.saturating_sub(1)).map(char::len_utf16).sum::<usize>() + 1
}

fn region(src: &SourceFile, span: Span) -> Value {
    json!({
        "startLine": span.lo.line,
        "startColumn": utf16_column(src, span.lo.line, span.lo.column),
        "endLine": span.hi.line,
        "endColumn": utf16_column(src, span.hi.line, span.hi.column),
    })
}

fn location(src: &SourceFile, span: Span) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(&src.display), "uriBaseId": "%SRCROOT%" },
            "region": region(src, span),
        }
    })
}

/// FNV-1a, 64 bits: a stable hash (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The finding's identity without its line number: lint, path, the primary line's
/// text with whitespace collapsed, and the occurrence of that triple in the file.
fn fingerprint(src: &SourceFile, d: &Diagnostic, occurrence: usize) -> String {
    let snippet: Vec<&str> = src.line_text(d.primary.span.lo.line).split_whitespace().collect();
    let key = format!("{}\u{0}{}\u{0}{}\u{0}{occurrence}", d.lint, uri(&src.display), snippet.join(" "));
    format!("{:016x}", fnv1a(key.as_bytes()))
}

fn rule(m: &LintMeta) -> Value {
    let docs = m.docs_markdown();
    // The first paragraph of "What it does".
    let full = docs
        .split("### What it does")
        .nth(1)
        .and_then(|s| s.split("\n\n").map(str::trim).find(|p| !p.is_empty()))
        .unwrap_or(m.summary)
        .replace('\n', " ");
    let groups: Vec<&str> = m.group_names().collect();
    json!({
        "id": m.name,
        "shortDescription": { "text": m.summary },
        "fullDescription": { "text": full },
        "help": { "text": docs, "markdown": docs },
        "helpUri": m.doc_url(),
        "defaultConfiguration": { "level": level(m.default_level) },
        "properties": { "tags": groups },
    })
}

fn message_text(d: &Diagnostic) -> String {
    let mut text = d.message.clone();
    if !d.primary.message.is_empty() {
        text.push_str(&format!(": {}", d.primary.message));
    }
    for h in &d.help {
        text.push_str(&format!("\nhelp: {h}"));
    }
    text
}

/// The SARIF log of a run, with `rules` describing every lint.
pub fn render(run: &Run, rules: &[&LintMeta], version: &str) -> String {
    let index: std::collections::HashMap<&str, usize> = rules.iter().enumerate().map(|(i, m)| (m.name, i)).collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for d in &run.diagnostics {
        let src = run.sources.get(d.primary.span.file);
        if d.is_input_error() {
            notifications.push(json!({
                "level": "error",
                "message": { "text": format!("{}: {}", d.lint, d.message) },
                "locations": [location(src, d.primary.span)],
            }));
            continue;
        }
        let snippet_key = format!("{}|{}|{}", d.lint, src.display, src.line_text(d.primary.span.lo.line).trim());
        let occurrence = seen.entry(snippet_key).or_default();
        *occurrence += 1;
        let mut result = json!({
            "ruleId": d.lint,
            "level": level(d.level),
            "message": { "text": message_text(d) },
            "locations": [location(src, d.primary.span)],
            "partialFingerprints": { "taskcheck/v1": fingerprint(src, d, *occurrence) },
        });
        if let Some(i) = index.get(d.lint) {
            result["ruleIndex"] = json!(i);
        }
        if !d.secondary.is_empty() {
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut loc = location(run.sources.get(l.span.file), l.span);
                    loc["id"] = json!(i);
                    loc["message"] = json!({ "text": l.message });
                    loc
                })
                .collect();
            result["relatedLocations"] = json!(related);
        }
        if let Some(fix) = d.fix.as_ref().filter(|f| f.applicability == Applicability::Safe) {
            let changes: Vec<Value> = fix
                .edits
                .iter()
                .map(|e| {
                    let src = run.sources.get(e.span.file);
                    json!({
                        "artifactLocation": { "uri": uri(&src.display), "uriBaseId": "%SRCROOT%" },
                        "replacements": [{
                            "deletedRegion": { "charOffset": src.text[..e.span.lo.byte].chars().count(), "charLength": src.text[e.span.lo.byte..e.span.hi.byte].chars().count() },
                            "insertedContent": { "text": e.replacement },
                        }],
                    })
                })
                .collect();
            result["fixes"] = json!([{ "description": { "text": fix.message }, "artifactChanges": changes }]);
        }
        results.push(result);
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "taskcheck",
                    "version": version,
                    "informationUri": taskcheck_core::lint::DOCS_URL,
                    "rules": rules.iter().map(|m| rule(m)).collect::<Vec<_>>(),
                }
            },
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "utf16CodeUnits",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).expect("a JSON value serializes");
    text.push('\n');
    text
}
