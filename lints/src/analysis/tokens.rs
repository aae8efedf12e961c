//! Cancellation signals that are lost inside one fn: a token nobody cancels, a drop
//! guard dropped at once, a channel whose sender is gone before anyone receives.

use quote::ToTokens;
use syn::visit::{self, Visit};
use syn::{Expr, Pat, Stmt};
use taskcheck_core::{Edit, SourceFile, Span};

use super::cancel::is_cancel_name;
use super::channels::is_channel_ctor;
use super::paths::Resolver;
use super::select::{is_select_macro, parse_select};
use super::spawn::{is_spawn_method, kind_of_constructor, spawner_of_path, ValueKind};

/// Which way the signal is lost.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum LostKind {
    /// (a) A token whose clones go to tasks and that nobody cancels.
    NeverCancelled { name: String },
    /// (b) A drop guard dropped at once: it cancels immediately.
    GuardDropped,
    /// (c) A sender bound to `_` while the receiver is received on (or is a shutdown
    /// receiver): the channel is closed from the start.
    SenderDiscarded { receiver: String },
    /// (c) A shutdown sender passed to `drop(..)` right after it is created.
    SenderDropped { name: String },
}

/// A lost cancellation signal.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct LostCancel {
    pub kind: LostKind,
    pub span: Span,
    /// The safe fix (bind to `_guard`/`_tx`), when one applies.
    pub fix: Option<Edit>,
}

fn ident_of(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
        Pat::Type(t) => ident_of(&t.pat),
        _ => None,
    }
}

fn strip_type(pat: &Pat) -> &Pat {
    match pat {
        Pat::Type(t) => strip_type(&t.pat),
        _ => pat,
    }
}

fn path_ident(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        Expr::Reference(r) => path_ident(&r.expr),
        Expr::Paren(p) => path_ident(&p.expr),
        _ => None,
    }
}

fn is_drop_guard(e: &Expr) -> bool {
    matches!(e, Expr::MethodCall(m) if m.method == "drop_guard" || m.method == "drop_guard_ref")
}

/// Finds the lost signals in a fn body (nested fn items are their own bodies).
pub fn lost_cancels(block: &syn::Block, resolver: &Resolver, src: &SourceFile, extra: &[String]) -> Vec<LostCancel> {
    let mut f = Finder { resolver, src, extra, out: Vec::new() };
    f.visit_block(block);
    f.out
}

struct Finder<'a> {
    resolver: &'a Resolver,
    src: &'a SourceFile,
    extra: &'a [String],
    out: Vec<LostCancel>,
}

impl Finder<'_> {
    fn span(&self, s: proc_macro2::Span) -> Span {
        self.src.span_of(s)
    }

    fn is_token_ctor(&self, e: &Expr) -> bool {
        match e {
            Expr::Call(c) => matches!(&*c.func, Expr::Path(p)
                if kind_of_constructor(&self.resolver.resolve(&p.path)) == Some(ValueKind::Cancel)),
            Expr::MethodCall(m) => m.method == "child_token",
            _ => false,
        }
    }

    fn is_channel(&self, e: &Expr) -> bool {
        let e = match e {
            Expr::Try(t) => &*t.expr,
            _ => e,
        };
        matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Path(p) if is_channel_ctor(&self.resolver.resolve(&p.path))))
    }

    fn check_stmt(&mut self, stmt: &Stmt, rest: &[Stmt]) {
        match stmt {
            Stmt::Local(l) => {
                let Some(init) = &l.init else { return };
                let pat = strip_type(&l.pat);
                // (b) `let _ = token.drop_guard();`
                if matches!(pat, Pat::Wild(_)) && is_drop_guard(&init.expr) {
                    let at = self.span(syn::spanned::Spanned::span(pat));
                    self.push(
                        LostKind::GuardDropped,
                        self.span(syn::spanned::Spanned::span(&*init.expr)),
                        Some((at, "_guard")),
                    );
                }
                // (a) `let token = CancellationToken::new();`
                if let Some(name) = ident_of(&l.pat) {
                    if self.is_token_ctor(&init.expr) && never_cancelled(&name, rest, self.resolver) {
                        let span = self.span(syn::spanned::Spanned::span(&*init.expr));
                        self.push(LostKind::NeverCancelled { name }, span, None);
                    }
                }
                // (c) `let (_, rx) = channel();` / `let (shutdown_tx, _) = ..; drop(shutdown_tx);`
                if let Pat::Tuple(t) = pat {
                    if t.elems.len() == 2 && self.is_channel(&init.expr) {
                        let (tx, rx) = (strip_type(&t.elems[0]), &t.elems[1]);
                        if let (Pat::Wild(w), Some(rx)) = (tx, ident_of(rx)) {
                            if is_cancel_name(&rx, self.extra) || received_on(rest, &rx) {
                                let span = self.span(w.underscore_token.span);
                                self.push(LostKind::SenderDiscarded { receiver: rx }, span, Some((span, "_tx")));
                            }
                        } else if let Some(tx) = ident_of(tx).filter(|n| is_cancel_name(n, self.extra)) {
                            if let Some(Stmt::Expr(Expr::Call(c), _)) = rest.first() {
                                let is_drop = matches!(&*c.func, Expr::Path(p) if p.path.is_ident("drop"));
                                if is_drop && c.args.len() == 1 && path_ident(&c.args[0]).as_deref() == Some(&tx) {
                                    let span = self.span(syn::spanned::Spanned::span(c));
                                    self.push(LostKind::SenderDropped { name: tx }, span, None);
                                }
                            }
                        }
                    }
                }
            }
            Stmt::Expr(e, Some(_)) => {
                // (b) `token.drop_guard();` and `drop(token.drop_guard());`
                if is_drop_guard(e) {
                    let span = self.span(syn::spanned::Spanned::span(e));
                    let at = Span { hi: span.lo, ..span };
                    self.push(LostKind::GuardDropped, span, Some((at, "let _guard = ")));
                } else if let Expr::Call(c) = e {
                    let is_drop = matches!(&*c.func, Expr::Path(p) if p.path.is_ident("drop"));
                    if is_drop && c.args.len() == 1 && is_drop_guard(&c.args[0]) {
                        let span = self.span(syn::spanned::Spanned::span(c));
                        let inner = self.span(syn::spanned::Spanned::span(&c.args[0]));
                        let text = format!("let _guard = {}", self.src.snippet(&inner));
                        self.out.push(LostCancel {
                            kind: LostKind::GuardDropped,
                            span,
                            fix: Some(Edit { span, replacement: text }),
                        });
                    }
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, kind: LostKind, span: Span, fix: Option<(Span, &str)>) {
        let fix = fix.map(|(span, text)| Edit { span, replacement: text.to_string() });
        self.out.push(LostCancel { kind, span, fix });
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        for (i, s) in b.stmts.iter().enumerate() {
            self.check_stmt(s, &b.stmts[i + 1..]);
        }
        visit::visit_block(self, b);
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let Ok(stmts) = m.parse_body_with(syn::Block::parse_within) {
            let b = syn::Block { brace_token: Default::default(), stmts };
            self.visit_block(&b);
        }
    }
}

/// Whether the receiver `rx` is received on in `rest` (`rx.recv()`, `rx.changed()`,
/// `rx.await`, `&mut rx` in a `select!`), looking into macro bodies token-wise.
fn received_on(rest: &[Stmt], rx: &str) -> bool {
    fn scan(ts: proc_macro2::TokenStream, rx: &str, window: &mut Vec<String>) -> bool {
        for t in ts {
            let tok = match t {
                proc_macro2::TokenTree::Group(g) => {
                    if scan(g.stream(), rx, window) {
                        return true;
                    }
                    continue;
                }
                proc_macro2::TokenTree::Ident(i) => i.to_string(),
                proc_macro2::TokenTree::Punct(p) => p.as_char().to_string(),
                proc_macro2::TokenTree::Literal(_) => String::new(),
            };
            window.push(tok);
            if window.len() > 3 {
                window.remove(0);
            }
            if let [a, b, c] = window.as_slice() {
                let method = a == rx
                    && b == "."
                    && (c.starts_with("recv") || matches!(c.as_str(), "changed" | "await" | "next" | "wait_for"));
                if method || a == "&" && b == "mut" && c == rx {
                    return true;
                }
            }
        }
        false
    }
    let mut window = Vec::new();
    rest.iter().any(|s| scan(s.to_token_stream(), rx, &mut window))
}

/// (a): the token and every clone bound from it are only cloned, observed or moved
/// into spawned tasks (at least one clone is), and never cancelled, stored, returned
/// or passed on.
fn never_cancelled(name: &str, rest: &[Stmt], resolver: &Resolver) -> bool {
    let mut u =
        Uses { names: vec![name.to_string()], origin: name, resolver, in_spawn: 0, cleared: false, handed: false };
    for s in rest {
        u.visit_stmt(s);
    }
    !u.cleared && u.handed
}

struct Uses<'a> {
    names: Vec<String>,
    origin: &'a str,
    resolver: &'a Resolver,
    in_spawn: usize,
    cleared: bool,
    handed: bool,
}

impl Uses<'_> {
    fn is_ours(&self, e: &Expr) -> Option<String> {
        path_ident(e).filter(|n| self.names.contains(n))
    }

    fn mention(&mut self, n: &str) {
        if self.in_spawn > 0 && n != self.origin {
            self.handed = true;
        } else {
            // Moved into a task itself, stored, returned or passed on: someone else may
            // cancel it.
            self.cleared = true;
        }
    }

    fn spawned<'e>(&mut self, args: impl Iterator<Item = &'e Expr>) {
        self.in_spawn += 1;
        for a in args {
            self.visit_expr(a);
        }
        self.in_spawn -= 1;
    }
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let (Some(init), Some(bound)) = (&l.init, ident_of(&l.pat)) {
            if let Expr::MethodCall(m) = &*init.expr {
                if (m.method == "clone" || m.method == "child_token") && self.is_ours(&m.receiver).is_some() {
                    self.names.push(bound);
                    return;
                }
            }
        }
        visit::visit_local(self, l);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let method = m.method.to_string();
        if let Some(n) = self.is_ours(&m.receiver) {
            match method.as_str() {
                "cancel" | "drop_guard" | "drop_guard_ref" => self.cleared = true,
                "clone" | "child_token" => {
                    if self.in_spawn > 0 {
                        self.handed = true;
                    } else {
                        self.cleared = true;
                    }
                }
                "cancelled"
                | "cancelled_owned"
                | "is_cancelled"
                | "run_until_cancelled"
                | "run_until_cancelled_owned" => {
                    if self.in_spawn > 0 && n != self.origin {
                        self.handed = true;
                    }
                }
                _ => self.cleared = true,
            }
            for a in &m.args {
                self.visit_expr(a);
            }
            return;
        }
        if is_spawn_method(&method) {
            self.visit_expr(&m.receiver);
            self.spawned(m.args.iter());
            return;
        }
        visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            if spawner_of_path(&self.resolver.resolve(&p.path)).is_some() {
                self.spawned(c.args.iter());
                return;
            }
        }
        visit::visit_expr_call(self, c);
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(id) = p.path.get_ident() {
            let n = id.to_string();
            if self.names.contains(&n) {
                self.mention(&n);
            }
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let last = m.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
        if is_select_macro(&last) {
            if let Ok(sel) = parse_select(m.tokens.clone()) {
                for b in &sel.branches {
                    if let Some(f) = &b.fut {
                        self.visit_expr(f);
                    }
                    if let Some(c) = &b.cond {
                        self.visit_expr(c);
                    }
                    self.visit_expr(&b.handler);
                }
                return;
            }
        }
        if let Ok(args) = m.parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated) {
            for a in &args {
                self.visit_expr(a);
            }
            return;
        }
        if let Ok(stmts) = m.parse_body_with(syn::Block::parse_within) {
            for s in &stmts {
                self.visit_stmt(s);
            }
            return;
        }
        // An unparsed macro that mentions the token may do anything with it.
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        if super::idents::mentions(m.tokens.clone(), &names) {
            self.cleared = true;
        }
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::paths::UseScope;
    use taskcheck_core::FileId;

    fn lost(body: &str) -> Vec<LostKind> {
        let text = format!(
            "use tokio_util::sync::CancellationToken; use tokio::sync::{{oneshot, watch, mpsc}};\nasync fn f() {{ {body} }}"
        );
        let file = syn::parse_file(&text).unwrap();
        let src = SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.as_str().into());
        let mut r = Resolver::default();
        r.push(UseScope::from_items(&file.items));
        let syn::Item::Fn(f) = &file.items[2] else { panic!() };
        lost_cancels(&f.block, &r, &src, &[]).into_iter().map(|l| l.kind).collect()
    }

    #[test]
    fn tokens_never_cancelled() {
        let handed = "let token = CancellationToken::new(); let t = token.clone(); tokio::spawn(async move { t.cancelled().await; });";
        assert_eq!(lost(handed), [LostKind::NeverCancelled { name: "token".into() }]);
        let inline = "let token = CancellationToken::new(); tokio::spawn(worker(token.clone()));";
        assert_eq!(lost(inline).len(), 1);
        for fine in [
            "let token = CancellationToken::new(); tokio::spawn(worker(token.clone())); ctrl_c().await; token.cancel();",
            "let token = CancellationToken::new(); tokio::spawn(worker(token.clone())); Server { token }",
            "let token = CancellationToken::new(); tokio::spawn(worker(token.clone())); run(token).await;",
            "let token = CancellationToken::new(); tokio::spawn(async move { token.cancelled().await });",
            "let token = CancellationToken::new(); let w = Worker::new(token.clone());",
        ] {
            assert!(lost(fine).is_empty(), "{fine}");
        }
    }

    #[test]
    fn guards_and_senders() {
        assert_eq!(lost("let _ = token.drop_guard();"), [LostKind::GuardDropped]);
        assert_eq!(lost("token.drop_guard();"), [LostKind::GuardDropped]);
        assert_eq!(lost("drop(token.drop_guard());"), [LostKind::GuardDropped]);
        assert!(lost("let _guard = token.drop_guard();").is_empty());
        assert_eq!(
            lost("let (_, mut rx) = mpsc::channel::<()>(1); loop { rx.recv().await; }"),
            [LostKind::SenderDiscarded { receiver: "rx".into() }]
        );
        assert_eq!(lost("let (_, shutdown_rx) = oneshot::channel::<()>(); serve(shutdown_rx).await;").len(), 1);
        assert!(lost("let (_, cfg) = watch::channel(c); use_it(cfg.borrow());").is_empty());
        assert!(lost("let (_shutdown_tx, rx) = oneshot::channel::<()>(); rx.await;").is_empty());
        assert_eq!(
            lost("let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>(); drop(shutdown_tx); serve(shutdown_rx).await;"),
            [LostKind::SenderDropped { name: "shutdown_tx".into() }]
        );
    }
}
