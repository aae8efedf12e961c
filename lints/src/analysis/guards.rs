//! Lock guards and the ways to never release them (`mem::forget`, `ManuallyDrop`,
//! `Box::leak`, `*Guard::leak`), inside one fn.

use std::collections::HashSet;

use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat};
use taskcheck_core::{Edit, SourceFile, Span};

use super::idents::pat_idents;
use super::paths::Resolver;

/// Methods that return a lock guard (or a result/future of one).
pub fn is_guard_method(name: &str) -> bool {
    matches!(
        name,
        "lock"
            | "read"
            | "write"
            | "lock_owned"
            | "read_owned"
            | "write_owned"
            | "lock_arc"
            | "read_arc"
            | "write_arc"
            | "upgradable_read"
            | "upgradable_read_arc"
    ) || name.starts_with("try_lock")
        || name.starts_with("try_read")
        || name.starts_with("try_write")
        || name.starts_with("try_upgradable_read")
        || name.starts_with("blocking_")
}

/// Whether an expression produces a guard: a guard method, looked through `unwrap`,
/// `expect`, `?`, `.await` and `unwrap_or_else(..)`.
pub fn is_guard_expr(e: &Expr) -> bool {
    match e {
        Expr::MethodCall(m) => {
            let n = m.method.to_string();
            if matches!(n.as_str(), "unwrap" | "expect" | "unwrap_or_else") {
                is_guard_expr(&m.receiver)
            } else {
                // `file.read(&mut buf)` takes an argument; a lock's `read()` does not.
                is_guard_method(&n) && m.args.is_empty()
            }
        }
        Expr::Try(t) => is_guard_expr(&t.expr),
        Expr::Await(a) => is_guard_expr(&a.base),
        Expr::Paren(p) => is_guard_expr(&p.expr),
        _ => false,
    }
}

/// A guard that is never released.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct ForgottenGuard {
    /// The forgetting call.
    pub span: Span,
    /// `mem::forget(g)` -> `drop(g)`.
    pub fix: Option<Edit>,
}

/// Finds forgotten guards in a fn body.
pub fn forgotten_guards(block: &syn::Block, resolver: &Resolver, src: &SourceFile) -> Vec<ForgottenGuard> {
    let mut f = Finder { resolver, src, guards: HashSet::new(), released: released_manually(block), out: Vec::new() };
    f.visit_block(block);
    f.out
}

/// Whether the fn later releases a `ManuallyDrop` (`ManuallyDrop::drop`/`into_inner`).
fn released_manually(block: &syn::Block) -> bool {
    struct R(bool);
    impl<'ast> Visit<'ast> for R {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if segs.len() >= 2
                && segs[segs.len() - 2] == "ManuallyDrop"
                && matches!(segs[segs.len() - 1].as_str(), "drop" | "into_inner" | "take")
            {
                self.0 = true;
            }
        }
    }
    let mut r = R(false);
    r.visit_block(block);
    r.0
}

struct Finder<'a> {
    resolver: &'a Resolver,
    src: &'a SourceFile,
    guards: HashSet<String>,
    released: bool,
    out: Vec<ForgottenGuard>,
}

impl Finder<'_> {
    fn is_guard(&self, e: &Expr) -> bool {
        match e {
            Expr::Path(p) => p.path.get_ident().is_some_and(|i| self.guards.contains(&i.to_string())),
            _ => is_guard_expr(e),
        }
    }

    fn bind(&mut self, pat: &Pat) {
        let mut names = Vec::new();
        pat_idents(pat, &mut names);
        self.guards.extend(names);
    }

    fn on_call(&mut self, c: &syn::ExprCall) {
        let Expr::Path(p) = &*c.func else { return };
        let Some(arg) = c.args.first() else { return };
        let r = self.resolver.resolve(&p.path);
        let segs: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
        let last = segs.last().map(String::as_str).unwrap_or("");
        let owner = if segs.len() >= 2 { segs[segs.len() - 2].as_str() } else { "" };
        let forget = r.is("std::mem::forget");
        let manually = owner == "ManuallyDrop" && last == "new" && !self.released;
        let guard_leak = owner.ends_with("Guard") && last == "leak";
        let box_leak = owner == "Box"
            && last == "leak"
            && matches!(arg, Expr::Call(inner) if matches!(&*inner.func, Expr::Path(b)
                if b.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().ends_with(&["Box".into(), "new".into()]))
                && inner.args.first().is_some_and(|g| self.is_guard(g)));
        let flagged = box_leak || (forget || manually || guard_leak) && self.is_guard(arg);
        if !flagged {
            return;
        }
        let span = self.src.span_of(c.span());
        let fix = forget.then(|| Edit { span: self.src.span_of(c.func.span()), replacement: "drop".to_string() });
        self.out.push(ForgottenGuard { span, fix });
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            if self.is_guard(&init.expr) {
                self.bind(&l.pat);
            }
        }
        visit::visit_local(self, l);
    }
    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        if self.is_guard(&l.expr) {
            self.bind(&l.pat);
        }
        visit::visit_expr_let(self, l);
    }
    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        if self.is_guard(&m.expr) {
            for arm in &m.arms {
                self.bind(&arm.pat);
            }
        }
        visit::visit_expr_match(self, m);
    }
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        // `lock.try_lock().map(|g| mem::forget(g))`
        if m.method == "map" && is_guard_expr(&m.receiver) {
            if let Some(Expr::Closure(c)) = m.args.first() {
                if let Some(p) = c.inputs.first() {
                    self.bind(p);
                }
            }
        }
        visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.on_call(c);
        visit::visit_expr_call(self, c);
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::paths::UseScope;
    use taskcheck_core::FileId;

    fn found(body: &str) -> usize {
        let text = format!("use std::mem;\nfn f() {{ {body} }}");
        let file = syn::parse_file(&text).unwrap();
        let src = SourceFile::new(FileId(0), "a.rs".into(), "a.rs".into(), text.as_str().into());
        let mut r = Resolver::default();
        r.push(UseScope::from_items(&file.items));
        let syn::Item::Fn(f) = &file.items[1] else { panic!() };
        forgotten_guards(&f.block, &r, &src).len()
    }

    #[test]
    fn guards_forgotten_or_leaked() {
        assert_eq!(found("let g = STATE.lock().unwrap(); mem::forget(g);"), 1);
        assert_eq!(found("std::mem::forget(STATE.write().unwrap());"), 1);
        assert_eq!(found("if let Ok(g) = m.try_lock() { std::mem::forget(g); }"), 1);
        assert_eq!(found("let g = m.lock().await; let _ = ManuallyDrop::new(g);"), 1);
        assert_eq!(found("let g = m.lock(); Box::leak(Box::new(g));"), 1);
        assert_eq!(found("let g = m.write(); RwLockWriteGuard::leak(g);"), 1);
        assert_eq!(found("m.try_lock().map(|g| mem::forget(g));"), 1);
        assert_eq!(found("let f = File::open(p)?; mem::forget(f);"), 0);
        assert_eq!(found("let n = file.read(&mut buf)?; mem::forget(n);"), 0);
        assert_eq!(
            found("let g = m.lock(); let mut x = ManuallyDrop::new(g); unsafe { ManuallyDrop::drop(&mut x) }"),
            0
        );
    }
}
