//! HTTP clients built without a request timeout (reqwest's async client, ureq), followed
//! through builder chains and `let` bindings inside one fn.

use std::collections::HashMap;

use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::Expr;
use taskcheck_core::{Edit, SourceFile, Span};

use super::paths::Resolver;

/// The timeout the fix adds.
pub const FIX_TIMEOUT: &str = "std::time::Duration::from_secs(30)";

/// How the client was made.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// `reqwest::Client::new()` / `Client::default()`.
    New,
    /// `reqwest::get(url)`: a fresh default client per call.
    Get,
    /// A reqwest builder that reaches `.build()` without a timeout.
    Builder,
    /// `ureq::agent()` or an `AgentBuilder` with no `timeout*`.
    Ureq,
}

/// A client with no request timeout.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct ClientSite {
    pub kind: ClientKind,
    /// The constructor call (`Client::new()`, `Client::builder()`).
    pub span: Span,
    /// The unsafe fix: add `.timeout(..)` to the builder, or rewrite `Client::new()`.
    pub fix: Vec<Edit>,
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
enum Root {
    New,
    Get,
    Builder { ureq: bool },
    UreqAgent,
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
struct BuilderState {
    root: Span,
    ureq: bool,
    timeout: bool,
}

/// Finds the clients without a timeout in one fn body.
pub fn clients_without_timeout(block: &syn::Block, resolver: &Resolver, src: &SourceFile) -> Vec<ClientSite> {
    let mut f = Finder { resolver, src, builders: HashMap::new(), found: Vec::new(), binding: None };
    f.visit_block(block);
    f.found
        .into_iter()
        .filter(|(_, bound)| bound.as_deref().is_none_or(|name| !every_request_times_out(block, name)))
        .map(|(site, _)| site)
        .collect()
}

struct Finder<'a> {
    resolver: &'a Resolver,
    src: &'a SourceFile,
    builders: HashMap<String, BuilderState>,
    /// Sites with the name the client is bound to (for the per-request check).
    found: Vec<(ClientSite, Option<String>)>,
    /// The `let` name the expression being visited initialises.
    binding: Option<String>,
}

fn is_timeout_method(name: &str, ureq: bool) -> bool {
    if ureq {
        name.starts_with("timeout")
    } else {
        name == "timeout" || name == "read_timeout"
    }
}

/// Splits `root.a(..).b(..)?` into its root and the method calls, innermost first.
fn chain(mut e: &Expr) -> (&Expr, Vec<&syn::ExprMethodCall>) {
    let mut methods = Vec::new();
    loop {
        match e {
            Expr::MethodCall(m) => {
                methods.push(m);
                e = &m.receiver;
            }
            Expr::Try(t) => e = &t.expr,
            Expr::Await(a) => e = &a.base,
            Expr::Paren(p) => e = &p.expr,
            _ => break,
        }
    }
    methods.reverse();
    (e, methods)
}

impl Finder<'_> {
    fn root_of(&self, e: &Expr) -> Option<Root> {
        let Expr::Call(c) = e else { return None };
        let Expr::Path(p) = &*c.func else { return None };
        let r = self.resolver.resolve(&p.path);
        if r.is_any(&["reqwest::Client::new", "reqwest::Client::default"]) {
            Some(Root::New)
        } else if r.is("reqwest::get") {
            Some(Root::Get)
        } else if r.is_any(&["reqwest::Client::builder", "reqwest::ClientBuilder::new"]) {
            Some(Root::Builder { ureq: false })
        } else if r.is("ureq::AgentBuilder::new") {
            Some(Root::Builder { ureq: true })
        } else if r.is("ureq::agent") {
            Some(Root::UreqAgent)
        } else {
            None
        }
    }

    fn span(&self, s: proc_macro2::Span) -> Span {
        self.src.span_of(s)
    }

    fn site(&mut self, kind: ClientKind, span: Span, fix: Vec<Edit>) {
        let bound = self.binding.clone();
        self.found.push((ClientSite { kind, span, fix }, bound));
    }

    /// Inserts `.timeout(..)` before `.build()`: on a line of its own, indented like
    /// `.build()`, when the chain is written one call per line.
    fn insert_timeout(&self, build: &syn::ExprMethodCall) -> Vec<Edit> {
        let at = self.span(build.dot_token.span);
        let line = self.src.line_text(at.lo.line);
        let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
        let own_line = line.trim_start().starts_with(".build");
        let replacement =
            if own_line { format!(".timeout({FIX_TIMEOUT})\n{indent}") } else { format!(".timeout({FIX_TIMEOUT})") };
        vec![Edit { span: Span { hi: at.lo, ..at }, replacement }]
    }

    /// Handles a method chain (or a bare constructor); returns whether it was a client
    /// chain (its receivers are then not visited again).
    fn on_chain(&mut self, e: &Expr) -> bool {
        let (root, methods) = chain(e);
        let (ureq, mut timeout, root_span) = match self.root_of(root) {
            Some(Root::New) => {
                let Expr::Call(c) = root else { return false };
                let mut fix = Vec::new();
                if let Expr::Path(p) = &*c.func {
                    if p.path.segments.len() >= 2 {
                        let last = self.span(p.path.segments.last().map_or(p.span(), |s| s.ident.span()));
                        let end = self.span(c.span());
                        fix.push(Edit {
                            span: Span { hi: end.hi, ..last },
                            replacement: format!(
                                "builder().timeout({FIX_TIMEOUT}).build().expect(\"failed to build the HTTP client\")"
                            ),
                        });
                    }
                }
                let span = self.span(c.span());
                self.site(ClientKind::New, span, fix);
                return true;
            }
            Some(Root::Get) => {
                let span = self.span(root.span());
                self.site(ClientKind::Get, span, Vec::new());
                return true;
            }
            Some(Root::UreqAgent) => {
                let span = self.span(root.span());
                self.site(ClientKind::Ureq, span, Vec::new());
                return true;
            }
            Some(Root::Builder { ureq }) => (ureq, false, self.span(root.span())),
            None => match root {
                Expr::Path(p) => match p.path.get_ident().and_then(|i| self.builders.get(&i.to_string())) {
                    Some(b) if !methods.is_empty() => (b.ureq, b.timeout, b.root),
                    _ => return false,
                },
                _ => return false,
            },
        };
        timeout |= methods.iter().any(|m| is_timeout_method(&m.method.to_string(), ureq));
        for m in &methods {
            for a in &m.args {
                self.visit_expr(a);
            }
        }
        if let Some(build) = methods.iter().find(|m| m.method == "build") {
            if !timeout {
                let fix = if ureq { Vec::new() } else { self.insert_timeout(build) };
                self.site(if ureq { ClientKind::Ureq } else { ClientKind::Builder }, root_span, fix);
            }
        } else if let Some(name) = self.binding.clone() {
            self.builders.insert(name, BuilderState { root: root_span, ureq, timeout });
        }
        true
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        let Some(init) = &l.init else { return };
        let mut pat = &l.pat;
        while let syn::Pat::Type(t) = pat {
            pat = &t.pat;
        }
        let saved = self.binding.take();
        if let syn::Pat::Ident(i) = pat {
            self.binding = Some(i.ident.to_string());
        }
        self.visit_expr(&init.expr);
        self.binding = saved;
        if let Some((_, e)) = &init.diverge {
            self.visit_expr(e);
        }
    }

    fn visit_expr(&mut self, e: &'ast Expr) {
        match e {
            Expr::MethodCall(_) | Expr::Call(_) | Expr::Try(_) | Expr::Await(_) => {
                if !self.on_chain(e) {
                    // Not a client chain: nested expressions are not bound by the `let`.
                    let saved = self.binding.take();
                    visit::visit_expr(self, e);
                    self.binding = saved;
                }
            }
            // `builder = builder.timeout(..);`
            Expr::Assign(a) => {
                let saved = self.binding.take();
                self.binding = match &*a.left {
                    Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                    _ => None,
                };
                self.visit_expr(&a.right);
                self.binding = saved;
            }
            _ => {
                let saved = self.binding.take();
                visit::visit_expr(self, e);
                self.binding = saved;
            }
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Whether every request sent with `client` in the block sets `.timeout(..)`, and the
/// client is not used any other way (stored, returned, passed on).
fn every_request_times_out(block: &syn::Block, client: &str) -> bool {
    struct Requests<'n> {
        client: &'n str,
        timed: usize,
        untimed: usize,
        other: bool,
    }
    impl<'ast> Visit<'ast> for Requests<'_> {
        fn visit_expr(&mut self, e: &'ast Expr) {
            if matches!(e, Expr::MethodCall(_) | Expr::Try(_) | Expr::Await(_)) {
                let (root, methods) = chain(e);
                if matches!(root, Expr::Path(p) if p.path.is_ident(self.client)) && !methods.is_empty() {
                    let request = matches!(
                        methods[0].method.to_string().as_str(),
                        "get" | "post" | "put" | "patch" | "delete" | "head" | "request"
                    );
                    if !request {
                        self.other = true;
                    } else if methods.iter().any(|m| m.method == "timeout") {
                        self.timed += 1;
                    } else {
                        self.untimed += 1;
                    }
                    for m in &methods {
                        for a in &m.args {
                            self.visit_expr(a);
                        }
                    }
                    return;
                }
            }
            visit::visit_expr(self, e);
        }
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if p.path.is_ident(self.client) {
                self.other = true;
            }
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if super::idents::mentions(m.tokens.clone(), &[self.client]) {
                self.other = true;
            }
        }
    }
    let mut r = Requests { client, timed: 0, untimed: 0, other: false };
    for s in &block.stmts {
        // The `let client = ..` itself mentions the name only as a pattern.
        r.visit_stmt(s);
    }
    r.timed > 0 && r.untimed == 0 && !r.other
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::paths::UseScope;
    use taskcheck_core::FileId;

    fn kinds(body: &str) -> Vec<(ClientKind, usize)> {
        let text = format!("use reqwest::Client; use std::time::Duration;\nasync fn f() -> Result<()> {{ {body} }}");
        let file = syn::parse_file(&text).unwrap();
        let src = SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.as_str().into());
        let mut r = Resolver::default();
        r.push(UseScope::from_items(&file.items));
        let syn::Item::Fn(f) = &file.items[2] else { panic!() };
        clients_without_timeout(&f.block, &r, &src).into_iter().map(|c| (c.kind, c.fix.len())).collect()
    }

    #[test]
    fn constructors_and_builders() {
        assert_eq!(kinds("let c = Client::new(); c.get(u).send().await?;"), [(ClientKind::New, 1)]);
        assert_eq!(kinds("let c = Client::builder().user_agent(UA).build()?;"), [(ClientKind::Builder, 1)]);
        assert_eq!(kinds("let r = reqwest::get(u).await?;"), [(ClientKind::Get, 0)]);
        assert!(kinds("let c = Client::builder().timeout(Duration::from_secs(5)).build()?;").is_empty());
        assert!(kinds("let c = reqwest::blocking::Client::new();").is_empty());
        assert!(kinds("let c = hyper_util::client::legacy::Client::builder(ex).build(conn);").is_empty());
        let across = "let mut b = Client::builder().user_agent(UA); if p { b = b.proxy(x); } let c = b.build()?;";
        assert_eq!(kinds(across), [(ClientKind::Builder, 1)]);
        let timed_later = "let mut b = Client::builder(); b = b.read_timeout(d); let c = b.build()?;";
        assert!(kinds(timed_later).is_empty());
        assert_eq!(kinds("let c = Client::builder().connect_timeout(d).build()?;").len(), 1);
    }

    #[test]
    fn per_request_timeouts() {
        let all = "let c = Client::new(); c.get(a).timeout(d).send().await?; c.post(b).timeout(d).send().await?;";
        assert!(kinds(all).is_empty());
        let one_missing = "let c = Client::new(); c.get(a).timeout(d).send().await?; c.post(b).send().await?;";
        assert_eq!(kinds(one_missing).len(), 1);
        let stored = "let c = Client::new(); c.get(a).timeout(d).send().await?; Api { c }";
        assert_eq!(kinds(stored).len(), 1);
    }
}
