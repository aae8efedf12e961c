//! `taskcheck lsp`: a language server over stdio. It keeps the facts of every Rust file
//! of the workspace (indexed at start-up, refreshed on edits and on watched-file
//! changes), re-extracts only the edited buffer, re-joins its crate, and publishes the
//! findings of the open documents. Quick fixes come from the findings' suggestions. It
//! knows no lint: the host hands it an [`Analyzer`], per-file levels and doc links.

mod transport;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use serde_json::{json, Value};
use taskcheck_core::engine::{self, Analyzer, Options};
use taskcheck_core::fix::{self, FixMode};
use taskcheck_core::levels::{LevelFlag, Levels};
use taskcheck_core::{Applicability, Diagnostic, FileId, Level, SourceFile, SourceMap, Span};

/// How long the server waits after the last edit of a burst before it lints (edits
/// arriving closer together than this are linted once).
const DEBOUNCE: Duration = Duration::from_millis(8);

/// Levels for a file, given the client's overrides.
pub type LevelsFor = Box<dyn Fn(&Path, &[LevelFlag]) -> Arc<Levels> + Send>;

/// What the host (the `taskcheck` binary) provides.
pub struct Host<A: Analyzer> {
    pub analyzer: A,
    /// Levels for a file: its config files, then the client's overrides.
    pub levels_for: LevelsFor,
    /// The documentation URL of a lint.
    pub doc_url: Box<dyn Fn(&str) -> String + Send>,
}

/// Runs the server on stdin/stdout until the client says `exit`.
pub fn serve_stdio<A: Analyzer + Send + 'static>(host: Host<A>) -> std::io::Result<()> {
    let (connection, io_threads) = transport::stdio();
    // Parsing recurses once per nesting level: the server runs on a thread with the
    // engine workers' stack size.
    let server = std::thread::Builder::new()
        .name("taskcheck-lsp".into())
        .stack_size(engine::WORKER_STACK)
        .spawn(move || Server::new(host, connection).run())?;
    let result = server.join().unwrap_or_else(|_| Err(std::io::Error::other("the server thread panicked")));
    io_threads.join();
    result
}

/// One file the server knows: its text (the buffer when open), facts and input errors.
struct Doc<F> {
    source: Arc<SourceFile>,
    root: Option<PathBuf>,
    /// The last facts that could be extracted (a buffer that stops parsing keeps them,
    /// so the other files' findings stay right).
    facts: Option<F>,
    /// Parse errors of the current text.
    errors: Vec<Diagnostic>,
    open: bool,
}

struct Server<A: Analyzer> {
    host: Host<A>,
    conn: Connection,
    docs: HashMap<PathBuf, Doc<A::Facts>>,
    ids: HashMap<PathBuf, FileId>,
    paths: HashMap<FileId, PathBuf>,
    workspace: Vec<PathBuf>,
    client_flags: Vec<LevelFlag>,
    dirty: HashSet<PathBuf>,
    deadline: Option<Instant>,
    /// The findings last published for each open document (for code actions).
    published: HashMap<PathBuf, Vec<Diagnostic>>,
}

fn to_path(uri: &lsp::Url) -> Option<PathBuf> {
    uri.to_file_path().ok()
}

fn to_uri(path: &Path) -> Option<lsp::Url> {
    lsp::Url::from_file_path(std::path::absolute(path).ok()?).ok()
}

/// UTF-16 position of a byte offset in `src` (LSP's default encoding).
fn position(src: &SourceFile, byte: usize) -> lsp::Position {
    let pos = src.pos(byte);
    let line = src.line_text(pos.line);
    let character: usize = line.chars().take(pos.column - 1).map(char::len_utf16).sum();
    lsp::Position { line: (pos.line - 1) as u32, character: character as u32 }
}

fn range(src: &SourceFile, span: Span) -> lsp::Range {
    lsp::Range { start: position(src, span.lo.byte), end: position(src, span.hi.byte) }
}

/// Byte offset of an LSP position in `text`.
fn offset(text: &str, p: lsp::Position) -> usize {
    let mut line_start = 0;
    for _ in 0..p.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = &text[line_start..];
    let mut units = 0;
    for (i, c) in line.char_indices() {
        if units >= p.character as usize || c == '\n' {
            return line_start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

impl<A: Analyzer> Server<A> {
    fn new(host: Host<A>, conn: Connection) -> Self {
        Server {
            host,
            conn,
            docs: HashMap::new(),
            ids: HashMap::new(),
            paths: HashMap::new(),
            workspace: Vec::new(),
            client_flags: Vec::new(),
            dirty: HashSet::new(),
            deadline: None,
            published: HashMap::new(),
        }
    }

    fn id_of(&mut self, path: &Path) -> FileId {
        if let Some(id) = self.ids.get(path) {
            return *id;
        }
        let id = FileId(self.ids.len() as u32);
        self.ids.insert(path.to_path_buf(), id);
        self.paths.insert(id, path.to_path_buf());
        id
    }

    fn display(&self, path: &Path) -> String {
        self.workspace
            .iter()
            .find_map(|w| path.strip_prefix(w).ok())
            .map_or_else(|| path.display().to_string(), |p| p.display().to_string())
    }

    /// Sets a file's text and re-extracts its facts.
    fn set_text(&mut self, path: &Path, text: String, open: bool) {
        let id = self.id_of(path);
        let source = Arc::new(SourceFile::new(id, path.to_path_buf(), self.display(path), text.into()));
        let root = engine::crate_root_of(path).map(|r| std::path::absolute(&r).unwrap_or(r));
        let (facts, errors) =
            engine::file_facts(&self.host.analyzer, source.clone(), root.as_deref(), &Options::default());
        let old = self.docs.remove(path);
        let facts = facts.or(old.and_then(|d| d.facts));
        self.docs.insert(path.to_path_buf(), Doc { source, root, facts, errors, open });
    }

    fn run(mut self) -> std::io::Result<()> {
        let (id, params) = match self.conn.initialize_start() {
            Ok(x) => x,
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        };
        let caps = json!({
            "capabilities": {
                "textDocumentSync": { "openClose": true, "change": 2 },
                "codeActionProvider": { "codeActionKinds": ["quickfix", "source.fixAll.taskcheck"] },
            },
            "serverInfo": { "name": "taskcheck", "version": env!("CARGO_PKG_VERSION") },
        });
        if let Err(e) = self.conn.initialize_finish(id, caps) {
            return Err(std::io::Error::other(e.to_string()));
        }
        let params: lsp::InitializeParams = serde_json::from_value(params).unwrap_or_default();
        self.client_flags = flags_from(params.initialization_options.as_ref());
        #[allow(deprecated)]
        let mut roots: Vec<PathBuf> =
            params.workspace_folders.unwrap_or_default().iter().filter_map(|f| to_path(&f.uri)).collect();
        #[allow(deprecated)]
        if let Some(p) = params.root_uri.as_ref().and_then(to_path) {
            roots.push(p);
        }
        roots.dedup();
        self.workspace = roots;
        let dynamic = params
            .capabilities
            .workspace
            .and_then(|w| w.did_change_watched_files)
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        if dynamic {
            // Rust files (cross-file facts) and config files (levels, settings).
            let watchers: Vec<Value> = ["**/*.rs", "**/taskcheck.toml", "**/.taskcheck.toml", "**/Cargo.toml"]
                .iter()
                .map(|g| json!({ "globPattern": g }))
                .collect();
            let register = Request::new(
                lsp_server::RequestId::from("taskcheck/watch".to_string()),
                "client/registerCapability".into(),
                json!({ "registrations": [{
                    "id": "taskcheck-watch",
                    "method": "workspace/didChangeWatchedFiles",
                    "registerOptions": { "watchers": watchers },
                }] }),
            );
            let _ = self.conn.sender.send(Message::Request(register));
        }
        self.index_workspace();

        loop {
            let msg = match self.deadline {
                Some(d) => match self.conn.receiver.recv_timeout(d.saturating_duration_since(Instant::now())) {
                    Ok(m) => m,
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                        self.flush();
                        continue;
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                },
                None => match self.conn.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                },
            };
            match msg {
                Message::Request(req) => {
                    if self.conn.handle_shutdown(&req).unwrap_or(true) {
                        break;
                    }
                    self.on_request(req);
                }
                Message::Notification(n) => {
                    if n.method == "exit" {
                        break;
                    }
                    self.on_notification(n);
                }
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    /// Reads every Rust file of the workspace once: cross-file findings need them all.
    fn index_workspace(&mut self) {
        for (path, _) in engine::rust_files(&self.workspace, &Options::default()) {
            let path = std::path::absolute(&path).unwrap_or(path);
            if let Ok(text) = std::fs::read_to_string(&path) {
                self.set_text(&path, text, false);
            }
        }
    }

    fn on_request(&mut self, req: Request) {
        let response = match req.method.as_str() {
            "textDocument/codeAction" => match serde_json::from_value::<lsp::CodeActionParams>(req.params) {
                Ok(p) => Response::new_ok(req.id, self.code_actions(&p)),
                Err(e) => Response::new_err(req.id, ErrorCode::InvalidParams as i32, e.to_string()),
            },
            other => Response::new_err(
                req.id,
                ErrorCode::MethodNotFound as i32,
                format!("taskcheck does not handle `{other}`"),
            ),
        };
        let _ = self.conn.sender.send(Message::Response(response));
    }

    fn on_notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params) {
                    if let Some(path) = to_path(&p.text_document.uri) {
                        self.set_text(&path, p.text_document.text, true);
                        self.mark(path);
                    }
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params) {
                    let Some(path) = to_path(&p.text_document.uri) else { return };
                    let mut text = self.docs.get(&path).map(|d| d.source.text.to_string()).unwrap_or_default();
                    for change in p.content_changes {
                        match change.range {
                            Some(r) => {
                                let (lo, hi) = (offset(&text, r.start), offset(&text, r.end));
                                if lo <= hi {
                                    text.replace_range(lo..hi, &change.text);
                                }
                            }
                            None => text = change.text,
                        }
                    }
                    // Facts are extracted when the burst of edits is over.
                    let id = self.id_of(&path);
                    let display = self.display(&path);
                    if let Some(doc) = self.docs.get_mut(&path) {
                        doc.source = Arc::new(SourceFile::new(id, path.clone(), display, text.into()));
                    } else {
                        self.set_text(&path, text, true);
                    }
                    self.mark(path);
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) {
                    let Some(path) = to_path(&p.text_document.uri) else { return };
                    self.publish(&path, &[]);
                    self.published.remove(&path);
                    match std::fs::read_to_string(&path) {
                        Ok(text) => self.set_text(&path, text, false),
                        Err(_) => {
                            self.docs.remove(&path);
                        }
                    }
                    self.mark(path);
                }
            }
            "workspace/didChangeWatchedFiles" => {
                if let Ok(p) = serde_json::from_value::<lsp::DidChangeWatchedFilesParams>(n.params) {
                    for change in p.changes {
                        let Some(path) = to_path(&change.uri) else { continue };
                        if path.extension().is_some_and(|x| x == "rs") {
                            if self.docs.get(&path).is_some_and(|d| d.open) {
                                continue;
                            }
                            match std::fs::read_to_string(&path) {
                                Ok(text) if change.typ != lsp::FileChangeType::DELETED => {
                                    self.set_text(&path, text, false)
                                }
                                _ => {
                                    self.docs.remove(&path);
                                }
                            }
                            self.mark(path);
                        } else {
                            // A config file: levels are read again on the next lint.
                            self.mark_all_open();
                        }
                    }
                }
            }
            "workspace/didChangeConfiguration" => {
                if let Ok(p) = serde_json::from_value::<lsp::DidChangeConfigurationParams>(n.params) {
                    let opts = p.settings.get("taskcheck").cloned().unwrap_or(p.settings);
                    self.client_flags = flags_from(Some(&opts));
                    self.mark_all_open();
                }
            }
            _ => {}
        }
    }

    fn mark(&mut self, path: PathBuf) {
        self.dirty.insert(path);
        self.deadline = Some(Instant::now() + DEBOUNCE);
    }

    fn mark_all_open(&mut self) {
        let open: Vec<PathBuf> = self.docs.iter().filter(|(_, d)| d.open).map(|(p, _)| p.clone()).collect();
        for p in open {
            self.mark(p);
        }
    }

    /// Lints what changed: re-extracts the dirty buffers, re-joins their crates and
    /// publishes the findings of the open documents in them.
    fn flush(&mut self) {
        self.deadline = None;
        let dirty: Vec<PathBuf> = self.dirty.drain().collect();
        let mut roots: HashSet<Option<PathBuf>> = HashSet::new();
        for path in &dirty {
            let Some(doc) = self.docs.get(path) else { continue };
            let (source, root) = (doc.source.clone(), doc.root.clone());
            let (facts, errors) = engine::file_facts(&self.host.analyzer, source, root.as_deref(), &Options::default());
            let doc = self.docs.get_mut(path).expect("looked up above");
            if facts.is_some() {
                doc.facts = facts;
            }
            doc.errors = errors;
            roots.insert(root);
        }
        for root in roots {
            let members: Vec<&PathBuf> = self.docs.iter().filter(|(_, d)| d.root == root).map(|(p, _)| p).collect();
            let files: Vec<(Arc<SourceFile>, &A::Facts)> = members
                .iter()
                .filter_map(|p| {
                    let d = &self.docs[*p];
                    Some((d.source.clone(), d.facts.as_ref()?))
                })
                .collect();
            let flags = self.client_flags.clone();
            let levels_for = &self.host.levels_for;
            let found = engine::join_crate(&self.host.analyzer, root.as_deref(), &files, &|p| levels_for(p, &flags));
            let open: Vec<PathBuf> = members.iter().filter(|p| self.docs[**p].open).map(|p| (*p).clone()).collect();
            for path in open {
                let doc = &self.docs[&path];
                let mine: Vec<Diagnostic> = if doc.errors.is_empty() {
                    found.iter().filter(|d| d.primary.span.file == doc.source.id).cloned().collect()
                } else {
                    // A buffer that does not parse shows its syntax error only.
                    doc.errors.clone()
                };
                self.publish(&path, &mine);
                self.published.insert(path, mine);
            }
        }
    }

    fn source_of(&self, id: FileId) -> Option<&SourceFile> {
        self.paths.get(&id).and_then(|p| self.docs.get(p)).map(|d| &*d.source)
    }

    fn to_lsp(&self, d: &Diagnostic) -> Option<lsp::Diagnostic> {
        let src = self.source_of(d.primary.span.file)?;
        let related: Vec<lsp::DiagnosticRelatedInformation> = d
            .secondary
            .iter()
            .filter_map(|l| {
                let s = self.source_of(l.span.file)?;
                Some(lsp::DiagnosticRelatedInformation {
                    location: lsp::Location { uri: to_uri(&s.path)?, range: range(s, l.span) },
                    message: l.message.clone(),
                })
            })
            .collect();
        let mut message = d.message.clone();
        if !d.primary.message.is_empty() {
            message.push_str(&format!(": {}", d.primary.message));
        }
        for h in &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        let is_lint = !d.is_input_error();
        Some(lsp::Diagnostic {
            range: range(src, d.primary.span),
            severity: Some(if d.level == Level::Deny {
                lsp::DiagnosticSeverity::ERROR
            } else {
                lsp::DiagnosticSeverity::WARNING
            }),
            code: Some(lsp::NumberOrString::String(d.lint.to_string())),
            code_description: is_lint
                .then(|| lsp::Url::parse(&(self.host.doc_url)(d.lint)).ok())
                .flatten()
                .map(|href| lsp::CodeDescription { href }),
            source: Some("taskcheck".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..lsp::Diagnostic::default()
        })
    }

    fn publish(&self, path: &Path, diags: &[Diagnostic]) {
        let Some(uri) = to_uri(path) else { return };
        let diagnostics: Vec<lsp::Diagnostic> = diags.iter().filter_map(|d| self.to_lsp(d)).collect();
        let params = lsp::PublishDiagnosticsParams { uri, diagnostics, version: None };
        let n = Notification::new("textDocument/publishDiagnostics".into(), params);
        let _ = self.conn.sender.send(Message::Notification(n));
    }

    fn edits(&self, sources: &SourceMap, fixes: &[&taskcheck_core::Fix]) -> HashMap<lsp::Url, Vec<lsp::TextEdit>> {
        let mut out: HashMap<lsp::Url, Vec<lsp::TextEdit>> = HashMap::new();
        for f in fixes {
            for e in &f.edits {
                let src = sources.get(e.span.file);
                if let Some(uri) = to_uri(&src.path) {
                    out.entry(uri)
                        .or_default()
                        .push(lsp::TextEdit { range: range(src, e.span), new_text: e.replacement.clone() });
                }
            }
        }
        out
    }

    fn code_actions(&self, p: &lsp::CodeActionParams) -> Value {
        let Some(path) = to_path(&p.text_document.uri) else { return json!([]) };
        let (Some(doc), Some(diags)) = (self.docs.get(&path), self.published.get(&path)) else { return json!([]) };
        let sources = SourceMap::new(
            self.docs.values().map(|d| d.source.clone()).filter(|s| s.id.0 as usize <= self.ids.len()).collect(),
        );
        let wants =
            |kind: &str| p.context.only.as_ref().is_none_or(|only| only.iter().any(|k| kind.starts_with(k.as_str())));
        let mut actions = Vec::new();
        let (lo, hi) = (p.range.start.line as usize + 1, p.range.end.line as usize + 1);
        for d in
            diags.iter().filter(|d| !d.is_input_error() && d.primary.span.lo.line <= hi && d.primary.span.hi.line >= lo)
        {
            let lsp_diag = self.to_lsp(d);
            if let (Some(fix), true) = (&d.fix, wants("quickfix")) {
                if fix.applicability != Applicability::Display {
                    actions.push(json!({
                        "title": fix.message,
                        "kind": "quickfix",
                        "diagnostics": [lsp_diag],
                        "isPreferred": fix.applicability == Applicability::Safe,
                        "edit": { "changes": self.edits(&sources, &[fix]) },
                    }));
                }
            }
            if wants("quickfix") {
                let line = d.primary.span.lo.line;
                let indent: String = doc.source.line_text(line).chars().take_while(|c| c.is_whitespace()).collect();
                let at = lsp::Position { line: (line - 1) as u32, character: 0 };
                actions.push(json!({
                    "title": format!("Suppress `{}` on this line", d.lint),
                    "kind": "quickfix",
                    "diagnostics": [lsp_diag],
                    "edit": { "changes": { p.text_document.uri.to_string(): [
                        { "range": { "start": at, "end": at }, "newText": format!("{indent}// taskcheck: allow({})\n", d.lint) }
                    ] } },
                }));
            }
        }
        if wants("source.fixAll.taskcheck") {
            let plans = fix::plan(&sources, diags, FixMode::Safe);
            if let Some(plan) = plans.iter().find(|pl| pl.path == path && pl.changes()) {
                let end = position(&doc.source, doc.source.text.len());
                actions.push(json!({
                    "title": "taskcheck: apply all safe fixes",
                    "kind": "source.fixAll.taskcheck",
                    "edit": { "changes": { p.text_document.uri.to_string(): [
                        { "range": { "start": { "line": 0, "character": 0 }, "end": end }, "newText": plan.fixed }
                    ] } },
                }));
            }
        }
        Value::Array(actions)
    }
}

/// `{"levels": {"spawn_without_cancel": "deny"}}` from `initializationOptions` or
/// `workspace/didChangeConfiguration`.
fn flags_from(options: Option<&Value>) -> Vec<LevelFlag> {
    let Some(levels) = options.and_then(|o| o.get("levels")).and_then(Value::as_object) else { return Vec::new() };
    levels
        .iter()
        .filter_map(|(name, level)| Some(LevelFlag::new(Level::parse(level.as_str()?)?, name.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip() {
        let text = "let é = \"😀\";\nx\n";
        let src = SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.into());
        let p = position(&src, text.find('x').unwrap());
        assert_eq!((p.line, p.character), (1, 0));
        let smile = text.find('😀').unwrap();
        let p = position(&src, smile + '😀'.len_utf8());
        assert_eq!(p.character, 11);
        assert_eq!(offset(text, p), smile + '😀'.len_utf8());
    }
}
