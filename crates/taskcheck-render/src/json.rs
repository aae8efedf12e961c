//! Cargo's JSON message stream (`--message-format json`): one `compiler-message` object
//! per line in the shape cargo and rustc use, so rust-analyzer, `cargo_metadata` and
//! rustfix-based tools read taskcheck's findings like clippy's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use taskcheck_core::engine::Run;
use taskcheck_core::package::{self, PackageInfo, Target};
use taskcheck_core::{Applicability, Diagnostic, Level, SourceFile, SourceMap, Span};

use crate::human;

/// One `{"reason":"compiler-message",...}` object for `d` (no trailing newline).
pub fn render_line(sources: &SourceMap, d: &Diagnostic, pkg: Option<&PackageInfo>) -> String {
    let file = file_of(sources, d.primary.span);
    let (package_id, manifest_path, target) = match (pkg, file) {
        (Some(p), Some(f)) => (p.package_id.clone(), p.manifest_path.clone(), p.target_for(&f.path)),
        (Some(p), None) => (p.package_id.clone(), p.manifest_path.clone(), p.target_for(&p.root)),
        (None, _) => synthesized(file.map(|f| f.path.as_path())),
    };
    json!({
        "reason": "compiler-message",
        "package_id": package_id,
        "manifest_path": manifest_path.to_string_lossy(),
        "target": target_json(&target),
        "message": message(sources, d),
    })
    .to_string()
}

/// The closing line of the stream: `{"reason":"build-finished","success":true}`.
pub fn build_finished(success: bool) -> String {
    json!({ "reason": "build-finished", "success": success }).to_string()
}

/// Every diagnostic of `run` as `compiler-message` lines, each ending in `\n`, with the
/// package of each file read once from its crate root.
pub fn render_run(run: &Run) -> String {
    let mut packages: HashMap<&Path, Option<PackageInfo>> = HashMap::new();
    let mut out = String::new();
    for d in &run.diagnostics {
        let pkg = run
            .crate_roots
            .get(&d.primary.span.file)
            .and_then(|root| packages.entry(root).or_insert_with(|| PackageInfo::from_root(root)).as_ref());
        out.push_str(&render_line(&run.sources, d, pkg));
        out.push('\n');
    }
    out
}

fn file_of(sources: &SourceMap, span: Span) -> Option<&SourceFile> {
    ((span.file.0 as usize) < sources.len()).then(|| sources.get(span.file))
}

/// Package fields for a file outside any cargo package: consumers such as rust-analyzer
/// and `cargo_metadata` require them, so they describe the file as a one-file binary.
fn synthesized(file: Option<&Path>) -> (String, PathBuf, Target) {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = file.and_then(|f| std::path::absolute(f).ok()).unwrap_or_else(|| cwd.join("main.rs"));
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or(cwd);
    let stem = abs.file_stem().map_or("main".into(), |s| s.to_string_lossy().into_owned());
    let name = dir.file_name().map_or_else(|| stem.clone(), |s| s.to_string_lossy().into_owned());
    let target = Target {
        kind: vec!["bin".into()],
        crate_types: vec!["bin".into()],
        name: stem,
        src_path: abs,
        edition: "2021".into(),
        doc: false,
        doctest: false,
        test: true,
    };
    (package::package_id(&dir, &name, "0.0.0"), dir.join("Cargo.toml"), target)
}

fn target_json(t: &Target) -> Value {
    json!({
        "kind": t.kind,
        "crate_types": t.crate_types,
        "name": t.name,
        "src_path": t.src_path.to_string_lossy(),
        "edition": t.edition,
        "doc": t.doc,
        "doctest": t.doctest,
        "test": t.test,
    })
}

/// rustc's diagnostic object.
fn message(sources: &SourceMap, d: &Diagnostic) -> Value {
    let mut spans = Vec::new();
    spans.extend(span(sources, d.primary.span, true, &d.primary.message, None));
    for l in &d.secondary {
        spans.extend(span(sources, l.span, false, &l.message, None));
    }
    let mut children: Vec<Value> = d.help.iter().map(|h| child("help", h, vec![])).collect();
    children.extend(d.notes.iter().map(|n| child("note", n, vec![])));
    children.extend(human::level_note(d).map(|n| child("note", &n, vec![])));
    if let Some(fix) = &d.fix {
        let applicability = match fix.applicability {
            Applicability::Safe => "MachineApplicable",
            Applicability::Unsafe => "MaybeIncorrect",
            Applicability::Display => "Unspecified",
        };
        let spans = fix
            .edits
            .iter()
            .filter_map(|e| span(sources, e.span, true, "", Some((&e.replacement, applicability))))
            .collect();
        children.push(child("help", &fix.message, spans));
    }
    json!({
        "$message_type": "diagnostic",
        "message": d.message,
        "code": { "code": format!("taskcheck::{}", d.lint), "explanation": null },
        "level": if d.level == Level::Deny { "error" } else { "warning" },
        "spans": spans,
        "children": children,
        "rendered": human::render_one(sources, d, false),
    })
}

fn child(level: &str, message: &str, spans: Vec<Value>) -> Value {
    json!({
        "message": message,
        "code": null,
        "level": level,
        "spans": spans,
        "children": [],
        "rendered": null,
    })
}

/// rustc's span object: 1-based lines, 1-based char columns (end exclusive), byte offsets.
fn span(
    sources: &SourceMap,
    s: Span,
    is_primary: bool,
    label: &str,
    suggestion: Option<(&str, &str)>,
) -> Option<Value> {
    let file = file_of(sources, s)?;
    // Recomputed from the offsets so that the fields agree with the text whatever the
    // producer filled in.
    let lo = file.pos(s.lo.byte);
    let hi = file.pos(s.hi.byte.max(lo.byte));
    let text: Vec<Value> = (lo.line..=hi.line)
        .map(|line| {
            let t = file.line_text(line);
            let start = if line == lo.line { lo.column } else { 1 };
            let end = if line == hi.line { hi.column } else { t.chars().count() + 1 };
            json!({ "text": t, "highlight_start": start, "highlight_end": end })
        })
        .collect();
    Some(json!({
        "file_name": file.display,
        "byte_start": lo.byte,
        "byte_end": hi.byte,
        "line_start": lo.line,
        "line_end": hi.line,
        "column_start": lo.column,
        "column_end": hi.column,
        "is_primary": is_primary,
        "text": text,
        "label": if label.is_empty() { None } else { Some(label) },
        "suggested_replacement": suggestion.map(|(r, _)| r),
        "suggestion_applicability": suggestion.map(|(_, a)| a),
        "expansion": null,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use taskcheck_core::diagnostic::{Edit, Fix};
    use taskcheck_core::FileId;

    fn sources(text: &str) -> SourceMap {
        SourceMap::new(vec![Arc::new(SourceFile::new(
            FileId(0),
            "src/lib.rs".into(),
            "src/lib.rs".into(),
            text.into(),
        ))])
    }

    const TEXT: &str = "fn f() {\n    let é = tokio::spawn(async {\n        loop {}\n    });\n}\n";

    fn diag(s: &SourceMap) -> Diagnostic {
        let f = s.get(FileId(0));
        let at = f.text.find("tokio").unwrap();
        let lp = f.text.find("loop").unwrap();
        let end = f.text.find("})").unwrap() + 2;
        Diagnostic::new("spawn_without_cancel", "detached", f.span(at, at + 12), "dropped here")
            .with_label(f.span(at, end), "")
            .with_label(f.span(lp, lp + 4), "loops")
            .with_help("keep it")
            .with_note("a note")
            .with_fix(Fix {
                message: "keep the handle".into(),
                applicability: Applicability::Safe,
                edits: vec![Edit { span: f.span(at, at), replacement: "let _h = ".into() }],
            })
    }

    #[test]
    fn compiler_message_shape() {
        let s = sources(TEXT);
        let d = diag(&s);
        let line = render_line(&s, &d, None);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["reason"], "compiler-message");
        assert!(v["package_id"].as_str().unwrap().starts_with("path+file:///"));
        assert!(v["manifest_path"].as_str().unwrap().ends_with("Cargo.toml"));
        for key in ["kind", "crate_types", "name", "src_path", "edition", "doc", "doctest", "test"] {
            assert!(!v["target"][key].is_null(), "target.{key}");
        }
        let m = &v["message"];
        assert_eq!(m["$message_type"], "diagnostic");
        assert_eq!(m["level"], "warning");
        assert_eq!(m["message"], "detached");
        assert_eq!(m["code"]["code"], "taskcheck::spawn_without_cancel");
        assert!(m["code"]["explanation"].is_null());
        assert_eq!(m["rendered"], human::render_one(&s, &d, false));

        let spans = m["spans"].as_array().unwrap();
        assert_eq!(spans.len(), 3);
        let p = &spans[0];
        let at = TEXT.find("tokio").unwrap();
        assert_eq!(p["file_name"], "src/lib.rs");
        assert_eq!((p["byte_start"].as_u64(), p["byte_end"].as_u64()), (Some(at as u64), Some(at as u64 + 12)));
        // `é` is two bytes but one column.
        assert_eq!((p["line_start"].as_u64(), p["line_end"].as_u64()), (Some(2), Some(2)));
        assert_eq!((p["column_start"].as_u64(), p["column_end"].as_u64()), (Some(13), Some(25)));
        assert_eq!(p["is_primary"], true);
        assert_eq!(p["label"], "dropped here");
        assert!(p["suggested_replacement"].is_null() && p["suggestion_applicability"].is_null());
        assert!(p["expansion"].is_null());
        assert_eq!(
            p["text"],
            json!([{ "text": "    let é = tokio::spawn(async {", "highlight_start": 13, "highlight_end": 25 }])
        );

        let multi = &spans[1];
        assert_eq!(multi["is_primary"], false);
        assert!(multi["label"].is_null());
        assert_eq!((multi["line_start"].as_u64(), multi["line_end"].as_u64()), (Some(2), Some(4)));
        let text = multi["text"].as_array().unwrap();
        assert_eq!(text.len(), 3);
        assert_eq!((text[0]["highlight_start"].as_u64(), text[0]["highlight_end"].as_u64()), (Some(13), Some(33)));
        assert_eq!((text[1]["highlight_start"].as_u64(), text[1]["highlight_end"].as_u64()), (Some(1), Some(16)));
        assert_eq!((text[2]["highlight_start"].as_u64(), text[2]["highlight_end"].as_u64()), (Some(1), Some(7)));

        let children = m["children"].as_array().unwrap();
        let levels: Vec<&str> = children.iter().map(|c| c["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["help", "note", "note", "help"]);
        assert_eq!(children[0]["message"], "keep it");
        assert!(children[0]["code"].is_null() && children[0]["rendered"].is_null());
        assert_eq!(children[0]["spans"], json!([]));
        assert_eq!(children[0]["children"], json!([]));
        assert!(children[2]["message"].as_str().unwrap().contains("on by default"));
        let fix = &children[3];
        assert_eq!(fix["message"], "keep the handle");
        assert_eq!(fix["spans"][0]["suggested_replacement"], "let _h = ");
        assert_eq!(fix["spans"][0]["suggestion_applicability"], "MachineApplicable");
        assert_eq!(fix["spans"][0]["byte_start"], fix["spans"][0]["byte_end"]);
    }

    #[test]
    fn input_errors_and_applicabilities() {
        let s = SourceMap::new(vec![Arc::new(SourceFile::new(FileId(0), "x.rs".into(), "x.rs".into(), "".into()))]);
        let d = Diagnostic::input_error("io", "cannot read `x.rs`: permission denied", s.get(FileId(0)).span(0, 0));
        let v: Value = serde_json::from_str(&render_line(&s, &d, None)).unwrap();
        let m = &v["message"];
        assert_eq!(m["level"], "error");
        assert_eq!(m["code"]["code"], "taskcheck::io");
        assert_eq!(m["children"], json!([]));
        assert_eq!(m["rendered"], "error[io]: cannot read `x.rs`: permission denied\n  --> x.rs\n\n");
        assert_eq!(m["spans"][0]["line_start"], 1);
        assert_eq!(m["spans"][0]["column_start"], 1);

        let s = sources(TEXT);
        for (app, want) in [(Applicability::Unsafe, "MaybeIncorrect"), (Applicability::Display, "Unspecified")] {
            let mut d = diag(&s);
            d.fix.as_mut().unwrap().applicability = app;
            let v: Value = serde_json::from_str(&render_line(&s, &d, None)).unwrap();
            assert_eq!(v["message"]["children"][3]["spans"][0]["suggestion_applicability"], want);
        }
    }

    #[test]
    fn package_fields_come_from_the_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("svc");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"svc\"\nversion = \"0.3.0\"\nedition = \"2021\"\n")
            .unwrap();
        std::fs::write(root.join("src/main.rs"), TEXT).unwrap();
        let pkg = PackageInfo::from_root(&root).unwrap();
        let path = root.join("src/main.rs");
        let s = SourceMap::new(vec![Arc::new(SourceFile::new(FileId(0), path, "src/main.rs".into(), TEXT.into()))]);
        let v: Value = serde_json::from_str(&render_line(&s, &diag(&s), Some(&pkg))).unwrap();
        assert_eq!(v["package_id"], pkg.package_id.as_str());
        assert!(v["package_id"].as_str().unwrap().ends_with("/svc#0.3.0"));
        assert_eq!(v["manifest_path"], pkg.manifest_path.to_string_lossy().as_ref());
        assert_eq!(
            v["target"],
            json!({
                "kind": ["bin"], "crate_types": ["bin"], "name": "svc",
                "src_path": pkg.root.join("src/main.rs").to_string_lossy(),
                "edition": "2021", "doc": true, "doctest": false, "test": true,
            })
        );
    }

    #[test]
    fn render_run_reads_each_package_once_per_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("lib-a");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"lib-a\"\nversion = \"1.0.0\"\n").unwrap();
        std::fs::write(root.join("src/lib.rs"), TEXT).unwrap();
        let file =
            |id: u32, path: PathBuf| Arc::new(SourceFile::new(FileId(id), path, format!("f{id}.rs"), TEXT.into()));
        let sources = SourceMap::new(vec![file(0, root.join("src/lib.rs")), file(1, tmp.path().join("loose.rs"))]);
        let d0 = diag(&sources);
        let mut d1 = d0.clone();
        d1.primary.span.file = FileId(1);
        d1.secondary.clear();
        d1.fix = None;
        let run = Run {
            sources,
            diagnostics: vec![d0.clone(), d0, d1],
            files_linted: 2,
            crate_roots: [(FileId(0), root.clone())].into_iter().collect(),
            ..Run::default()
        };
        let out = render_run(&run);
        let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3);
        assert!(out.ends_with('\n'));
        assert_eq!(lines[0]["package_id"], lines[1]["package_id"]);
        assert!(lines[0]["package_id"].as_str().unwrap().ends_with("/lib-a#1.0.0"));
        assert_eq!(lines[0]["target"]["name"], "lib_a");
        assert_eq!(lines[2]["target"]["name"], "loose");
        assert!(lines[2]["package_id"].as_str().unwrap().ends_with("#0.0.0"));
    }

    #[test]
    fn build_finished_line() {
        assert_eq!(build_finished(true), r#"{"reason":"build-finished","success":true}"#);
        assert_eq!(build_finished(false), r#"{"reason":"build-finished","success":false}"#);
    }
}
